//! The analyzer pipeline: bus `raw` topic → parse and normalize → enrich → index.
//!
//! # Delivery semantics
//! The pipeline reads every partition of the `raw` topic from the consumer group's committed
//! offset. Parsed events go to the index; on the commit interval the index commits first (its
//! commit records the bus position it includes), and only then are the bus offsets committed.
//! A crash between the two replays records the index already has; the index skips them by
//! position, so nothing is lost and nothing is duplicated.
//!
//! CPU-bound work (parsing, document building, index commits) runs on blocking threads, never
//! on the async reactor.
//!
//! # Joined audit events
//! Each partition has a [`Joiner`] that sees its audit record events in bus order and adds one
//! event per kernel event (sen-parse's `auditd::join`). A joined event's position is the offset
//! it closed at (its PROCTITLE or EOE record, or the end of its window), which depends on the
//! records only, so a replay rebuilds it at the same position and the index skips it like any
//! replayed record. Records of events still open are not committed on the bus: the bus offset committed
//! is at most the first record of the oldest open event, so after a restart the replay (whose
//! records the index skips) hands the joiner every record of those events again. A partition
//! idle for `auditd_join_idle_ms` has its open events joined without a position; they are
//! matched when joined, and a restart after that commit does not rebuild them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sen_core::bus::{Bus, BusError, Delivered};
use sen_core::raw::{Body, RAW_TOPIC, RawRecord, Transport};
use sen_core::{Event, Value, derive_id, metrics};
use sen_parse::auditd::join::{Joined, Joiner, ProcessStart, joinable};
use sen_parse::{Context, Format};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::alerts::{Alert, AlertUpdate};
use crate::detect::{Detector, ScanOutput};
use crate::enrich::Enricher;
use crate::index::{IndexError, IndexStore, Position, PreparedDoc};

/// Pipeline settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Consumer group name on the bus.
    pub group: String,
    /// How often the index commits (events become searchable), in milliseconds.
    pub commit_interval_ms: u64,
    /// Commit early once this many events were added since the last commit (size policy).
    pub commit_max_docs: usize,
    /// Maximum records fetched from one partition at a time.
    pub batch_max: usize,
    /// IANA time zone for timestamps that carry none (year-less syslog …).
    pub default_timezone: String,
    /// Close a day's index writer after this many seconds without writes.
    pub writer_idle_secs: u64,
    /// Join the audit records a partition holds open (records of a kernel event still waiting
    /// for their PROCTITLE or EOE) once the partition received nothing for this long, in
    /// milliseconds.
    pub auditd_join_idle_ms: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            group: "analyzer".into(),
            commit_interval_ms: 1000,
            commit_max_docs: 250_000,
            batch_max: 8192,
            default_timezone: "UTC".into(),
            writer_idle_secs: 600,
            auditd_join_idle_ms: 2000,
        }
    }
}

/// Pipeline errors.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Bus failure.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// Index failure.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Bad configuration.
    #[error("pipeline configuration: {0}")]
    Config(String),
    /// A blocking task died.
    #[error("pipeline worker failed: {0}")]
    Worker(String),
}

/// The id of a record that carries no sender-chosen origin: its bus position.
fn bus_id(partition: u32, offset: u64) -> String {
    derive_id(&[b"bus", RAW_TOPIC.as_bytes(), &partition.to_be_bytes(), &offset.to_be_bytes()])
}

/// Turns one raw record into a normalized, enriched event. Returns the event and whether it
/// must be upserted by id (its id came from the sender, so a retry may repeat it).
pub fn build_event(
    rec: RawRecord,
    partition: u32,
    offset: u64,
    tz: chrono_tz::Tz,
    enricher: &Enricher,
    now: DateTime<Utc>,
) -> (Event, bool) {
    let (id, upsert) = match &rec.origin {
        Some(origin) => (derive_id(&[b"origin", origin.as_bytes()]), true),
        None => (bus_id(partition, offset), false),
    };
    let received = DateTime::from_timestamp_millis(rec.received_ms).unwrap_or(now);
    let peer_ip: Option<IpAddr> = rec.peer.as_deref().and_then(|p| {
        p.parse::<SocketAddr>().map(|s| s.ip()).ok().or_else(|| p.parse::<IpAddr>().ok())
    });
    let ctx = Context { received, timezone: tz, peer_ip };
    let format =
        rec.format.as_deref().and_then(|f| f.parse::<Format>().ok()).unwrap_or(Format::Auto);
    let mut event;
    match rec.body {
        Body::Line(line) => {
            event = Event::new(id, received, line);
            sen_parse::normalize_line(&mut event, format, &ctx);
        }
        Body::Json(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => {
                event = Event::new(id, received, text);
                sen_parse::normalize_json(&mut event, map, &ctx);
            }
            Ok(_) | Err(_) => {
                event = Event::new(id, received, text.clone());
                event.set("message", text);
                event.add_tag(sen_core::event::TAG_PARSE_FAILURE);
                event.set("error.message", "ingest line is not a JSON object");
            }
        },
    }
    if let Some(org) = rec.organization {
        // The tenant from authentication always wins over anything in the payload.
        event.organization = Some(org);
    }
    event.set("event.ingested", Value::Time(now));
    event.set("input.type", rec.transport.as_str());
    if let Some(p) = rec.peer {
        event.set_default("log.source.address", p);
    }
    enricher.enrich(&mut event, peer_ip);
    (event, upsert)
}

/// The running pipeline.
pub struct Pipeline {
    bus: Arc<dyn Bus>,
    index: Arc<IndexStore>,
    enricher: Arc<Enricher>,
    cfg: PipelineConfig,
    tz: chrono_tz::Tz,
    detector: Option<Arc<Detector>>,
    alerts_index: Option<Arc<IndexStore>>,
    alerts_tx: Option<tokio::sync::mpsc::Sender<Vec<AlertUpdate>>>,
    /// Where the audit joiners' process tables are kept across restarts.
    process_table: Option<PathBuf>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("cfg", &self.cfg).finish()
    }
}

struct Metrics {
    events: Arc<metrics::Counter>,
    failures: Arc<metrics::Counter>,
    commits: Arc<metrics::Counter>,
    lag: Arc<metrics::Gauge>,
    lag_ms: Arc<metrics::Gauge>,
    last_commit: Arc<metrics::Gauge>,
}

impl Metrics {
    fn new() -> Metrics {
        Metrics {
            events: metrics::counter("sen_analyzer_events_total", &[], "events parsed and indexed"),
            failures: metrics::counter(
                "sen_analyzer_parse_failures_total",
                &[],
                "events no parser understood (indexed with their raw text)",
            ),
            commits: metrics::counter("sen_index_commits_total", &[], "index commits"),
            lag: metrics::gauge(
                "sen_index_lag_records",
                &[],
                "records on the bus not yet committed to the index",
            ),
            lag_ms: metrics::gauge(
                "sen_index_lag_milliseconds",
                &[],
                "age of the newest record at the last index commit (receive to searchable)",
            ),
            last_commit: metrics::gauge(
                "sen_index_last_commit_timestamp_ms",
                &[],
                "time of the last index commit",
            ),
        }
    }
}

impl Pipeline {
    /// Create a pipeline.
    pub fn new(
        bus: Arc<dyn Bus>,
        index: Arc<IndexStore>,
        enricher: Arc<Enricher>,
        cfg: PipelineConfig,
    ) -> Result<Pipeline, PipelineError> {
        let tz: chrono_tz::Tz = cfg.default_timezone.parse().map_err(|_| {
            PipelineError::Config(format!("unknown time zone `{}`", cfg.default_timezone))
        })?;
        Ok(Pipeline {
            bus,
            index,
            enricher,
            cfg,
            tz,
            detector: None,
            alerts_index: None,
            alerts_tx: None,
            process_table: None,
        })
    }

    /// Keep the audit joiners' process tables (the process starts that name a Linux process's
    /// parent) in `path` across restarts: loaded at start, saved every
    /// [`PROCESS_TABLE_SAVE`] and when the pipeline stops.
    pub fn with_process_table(mut self, path: PathBuf) -> Pipeline {
        self.process_table = Some(path);
        self
    }

    /// Run detection on every event ([`Detector`]). Alerts are written to `alerts_index` (an
    /// index of their own, as Elastic keeps `.alerts-*` apart: event searches stay event
    /// searches, and alerts can be kept longer) with each batch, committed right after the
    /// event index, and then sent to `alerts_tx` (the workflow store, the bus topic `alerts`
    /// and the console stream live behind it).
    pub fn with_detection(
        mut self,
        detector: Arc<Detector>,
        alerts_index: Arc<IndexStore>,
        alerts_tx: Option<tokio::sync::mpsc::Sender<Vec<AlertUpdate>>>,
    ) -> Pipeline {
        self.detector = Some(detector);
        self.alerts_index = Some(alerts_index);
        self.alerts_tx = alerts_tx;
        self
    }

    /// Run until `shutdown` turns true; commits what it has before returning.
    ///
    /// Two stages overlap: the reader fetches and parses (on blocking threads, in parallel) and
    /// hands prepared documents to the indexer, which adds them and commits on the interval.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), PipelineError> {
        let m = Arc::new(Metrics::new());
        let partitions = self.bus.partitions(RAW_TOPIC)?;
        let mut start: BTreeMap<u32, u64> = BTreeMap::new();
        let mut floor: BTreeMap<u32, u64> = BTreeMap::new();
        let resume = self.detector.as_ref().and_then(|d| d.correlation_resume().cloned());
        let mut replay = 0u64;
        for p in 0..partitions {
            let mut from = match self.bus.committed(&self.cfg.group, RAW_TOPIC, p).await? {
                Some(o) => o,
                None => self.bus.watermarks(RAW_TOPIC, p).await?.0,
            };
            floor.insert(p, from);
            // The correlation snapshot is older than the index (it is saved less often):
            // re-read the records in between so the correlation state catches up.
            if let Some(r) = resume.as_ref().and_then(|r| r.get(&p))
                && *r < from
            {
                replay += from - r;
                from = *r;
            }
            start.insert(p, from);
        }
        if replay > 0 {
            tracing::info!(
                records = replay,
                "replaying records into the restored correlation state"
            );
        }
        let mut end = BTreeMap::new();
        for p in 0..partitions {
            end.insert(p, self.bus.watermarks(RAW_TOPIC, p).await?.1);
        }
        let lowered = self.index.clamp_positions(&end);
        if lowered > 0 {
            tracing::error!(
                lowered,
                "the bus lost records the index had already seen (an OS crash with a relaxed fsync \
                 policy?); new records at those offsets will be indexed"
            );
        }
        tracing::info!(?start, "analyzer pipeline starting");
        let (tx, rx) = tokio::sync::mpsc::channel::<Batch>(4);
        let reader = tokio::spawn(read_stage(
            self.bus.clone(),
            self.index.clone(),
            self.enricher.clone(),
            self.detector.clone(),
            self.tz,
            self.cfg.batch_max,
            Duration::from_millis(self.cfg.auditd_join_idle_ms),
            start.clone(),
            partitions,
            tx,
            shutdown,
            self.process_table.clone(),
        ));
        let indexed = self.index_stage(rx, start, floor, m).await;
        let read = reader.await.map_err(|e| PipelineError::Worker(e.to_string()))?;
        read?;
        indexed?;
        tracing::info!("analyzer pipeline stopped");
        Ok(())
    }

    async fn index_stage(
        &self,
        mut rx: tokio::sync::mpsc::Receiver<Batch>,
        mut next: BTreeMap<u32, u64>,
        floor: BTreeMap<u32, u64>,
        m: Arc<Metrics>,
    ) -> Result<(), PipelineError> {
        let interval = Duration::from_millis(self.cfg.commit_interval_ms.max(10));
        let mut last_commit = Instant::now();
        let mut dirty = false;
        let mut since_commit = 0usize;
        let mut newest_ms: i64 = 0;
        let mut pending_alerts: Vec<AlertUpdate> = Vec::new();
        let mut pending_index: std::collections::HashMap<String, usize> = Default::default();
        let mut newest_event: Option<DateTime<Utc>> = None;
        // Per partition, the first record of the oldest audit event still open.
        let mut holds: BTreeMap<u32, u64> = BTreeMap::new();
        loop {
            let wait = if dirty {
                interval.saturating_sub(last_commit.elapsed())
            } else {
                Duration::from_secs(3600)
            };
            let received = tokio::time::timeout(wait, rx.recv()).await;
            let closed = matches!(received, Ok(None));
            if let Ok(Some(batch)) = received {
                let index = self.index.clone();
                let Batch { partition, next_offset, newest_ms: newest, docs, failed, scan, hold } =
                    batch;
                match hold {
                    Some(h) => holds.insert(partition, h),
                    None => holds.remove(&partition),
                };
                if let Some(det) = &self.detector {
                    let ScanOutput { mut detections, correlate } = scan;
                    if let Some(t) = detections.iter().map(|d| d.event.timestamp).max() {
                        newest_event = Some(newest_event.map_or(t, |n| n.max(t)));
                    }
                    // Correlation and grouping are CPU work: off the reactor.
                    let d = det.clone();
                    let updates = tokio::task::spawn_blocking(move || {
                        d.correlate(correlate, &mut detections);
                        d.group(detections)
                    })
                    .await
                    .map_err(|e| PipelineError::Worker(e.to_string()))?;
                    // Each alert once, in its latest state (a flood updates a few alerts often).
                    let mut latest: std::collections::HashMap<&str, usize> = Default::default();
                    let mut alerts: Vec<&Alert> = Vec::new();
                    for a in updates.iter().filter_map(AlertUpdate::alert) {
                        match latest.get(a.id.as_str()) {
                            Some(&i) => alerts[i] = a,
                            None => {
                                latest.insert(a.id.as_str(), alerts.len());
                                alerts.push(a);
                            }
                        }
                    }
                    if let Some(ai) = &self.alerts_index
                        && !alerts.is_empty()
                    {
                        let now = Utc::now();
                        let adocs: Vec<PreparedDoc> = alerts
                            .iter()
                            .map(|a| ai.prepare(&a.to_event(), None, true, now))
                            .collect();
                        let ai = ai.clone();
                        tokio::task::spawn_blocking(move || ai.add_prepared(adocs))
                            .await
                            .map_err(|e| PipelineError::Worker(e.to_string()))??;
                    }
                    // Keep one update per alert (its latest state) until the commit: a flood
                    // of detections on a few alerts stays a few updates.
                    for u in updates {
                        let slot = u.alert().and_then(|a| pending_index.get(&a.id).copied());
                        match slot {
                            Some(i) => pending_alerts[i] = u,
                            None => {
                                if let Some(a) = u.alert() {
                                    pending_index.insert(a.id.clone(), pending_alerts.len());
                                }
                                pending_alerts.push(u);
                            }
                        }
                    }
                }
                let n = tokio::task::spawn_blocking(move || index.add_prepared(docs))
                    .await
                    .map_err(|e| PipelineError::Worker(e.to_string()))??;
                m.events.add(n as u64);
                m.failures.add(failed as u64);
                since_commit += n;
                next.insert(partition, next_offset);
                newest_ms = newest_ms.max(newest);
                dirty = true;
            }
            let full = since_commit >= self.cfg.commit_max_docs.max(1);
            if dirty && (last_commit.elapsed() >= interval || closed || full) {
                // The bus offset: held at open audit events, and never moved back below where
                // this run started (a correlation replay re-reads records below it).
                let bus_upto: BTreeMap<u32, u64> = next
                    .iter()
                    .map(|(p, o)| {
                        let held = holds.get(p).map_or(*o, |h| (*h).min(*o));
                        (*p, held.max(floor.get(p).copied().unwrap_or(0)))
                    })
                    .collect();
                self.commit(&next, &bus_upto, newest_ms, &m).await?;
                if let Some(ai) = &self.alerts_index {
                    let ai = ai.clone();
                    let idle = Duration::from_secs(self.cfg.writer_idle_secs);
                    tokio::task::spawn_blocking(move || ai.commit(idle))
                        .await
                        .map_err(|e| PipelineError::Worker(e.to_string()))??;
                }
                if let Some(det) = &self.detector {
                    if let Some(t) = newest_event {
                        det.expire(t);
                    }
                    let d = det.clone();
                    let at = next.clone();
                    tokio::task::spawn_blocking(move || d.save_state(closed, &at))
                        .await
                        .map_err(|e| PipelineError::Worker(e.to_string()))?;
                }
                if !pending_alerts.is_empty() {
                    pending_index.clear();
                    let alerts = std::mem::take(&mut pending_alerts);
                    if let Some(tx) = &self.alerts_tx
                        && tx.send(alerts).await.is_err()
                    {
                        tracing::warn!("alert sink closed; alerts stay in the index only");
                    }
                }
                dirty = false;
                since_commit = 0;
                last_commit = Instant::now();
            }
            if closed {
                return Ok(());
            }
        }
    }

    /// Commit the index at `next` (per partition, the next offset to index), then the bus at
    /// `bus_upto` (at most `next`: records of audit events still open are read again after a
    /// restart).
    async fn commit(
        &self,
        next: &BTreeMap<u32, u64>,
        bus_upto: &BTreeMap<u32, u64>,
        newest_ms: i64,
        m: &Metrics,
    ) -> Result<(), PipelineError> {
        self.index.note_position(next);
        let index = self.index.clone();
        let idle = Duration::from_secs(self.cfg.writer_idle_secs);
        tokio::task::spawn_blocking(move || index.commit(idle))
            .await
            .map_err(|e| PipelineError::Worker(e.to_string()))??;
        for (p, o) in bus_upto {
            self.bus.commit(&self.cfg.group, RAW_TOPIC, *p, *o).await?;
        }
        let now_ms = Utc::now().timestamp_millis();
        m.commits.inc();
        m.last_commit.set(now_ms);
        m.lag_ms.set((now_ms - newest_ms).max(0));
        let mut lag = 0u64;
        for (p, o) in next {
            let (_, end) = self.bus.watermarks(RAW_TOPIC, *p).await?;
            lag += end.saturating_sub(*o);
        }
        m.lag.set(lag as i64);
        Ok(())
    }
}

/// Parsed, prepared records of one partition, ready for the index.
struct Batch {
    partition: u32,
    next_offset: u64,
    newest_ms: i64,
    docs: Vec<PreparedDoc>,
    failed: usize,
    scan: ScanOutput,
    /// The first record of the oldest audit event the partition's joiner holds open.
    hold: Option<u64>,
}

/// How often the audit joiners' process tables are saved while the pipeline runs.
pub const PROCESS_TABLE_SAVE: Duration = Duration::from_secs(60);

/// The saved process tables of a pipeline's audit joiners.
#[derive(Debug, Serialize, Deserialize)]
struct SavedProcesses {
    version: u32,
    /// The bus partitions the pipeline had: each start is restored to its partition's joiner
    /// when the count is the same, else to every joiner.
    partitions: u32,
    starts: Vec<(u32, ProcessStart)>,
}

/// Load saved process tables into the joiners; a missing file is an empty table, a bad one is
/// logged and ignored (the tables only name parents; nothing is lost but names).
fn restore_process_tables(path: &Path, joiners: &mut [Option<Joiner>]) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "audit process table not read");
            return;
        }
    };
    let saved: SavedProcesses = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "audit process table unreadable; starting empty");
            return;
        }
    };
    if saved.version != 1 {
        tracing::warn!(path = %path.display(), version = saved.version, "audit process table of an unknown version; starting empty");
        return;
    }
    let same = saved.partitions as usize == joiners.len();
    let n = saved.starts.len();
    for (slot, joiner) in joiners.iter_mut().enumerate() {
        let Some(j) = joiner else { continue };
        let mine = saved.starts.iter().filter(|(p, _)| !same || *p as usize == slot);
        j.restore_process_starts(mine.map(|(_, s)| s.clone()));
    }
    tracing::info!(path = %path.display(), starts = n, "audit process table restored");
}

/// What [`save_process_tables`] writes: every joiner's starts, by partition.
fn process_tables(joiners: &[Option<Joiner>]) -> SavedProcesses {
    let starts = joiners
        .iter()
        .enumerate()
        .filter_map(|(p, j)| j.as_ref().map(|j| (p as u32, j)))
        .flat_map(|(p, j)| j.process_starts().into_iter().map(move |s| (p, s)))
        .collect();
    SavedProcesses { version: 1, partitions: joiners.len() as u32, starts }
}

fn write_process_tables(path: &Path, saved: &SavedProcesses) {
    let r = serde_json::to_vec(saved)
        .map_err(std::io::Error::other)
        .and_then(|b| sen_core::fsutil::write_atomic(path, &b));
    if let Err(e) = r {
        tracing::warn!(path = %path.display(), error = %e, "audit process table not saved");
    }
}

/// Save the joiners' process tables off the reactor (a file write and fsync); a failed write is
/// logged, not fatal.
async fn save_process_tables(path: &Path, joiners: &[Option<Joiner>]) -> Result<(), PipelineError> {
    let (saved, path) = (process_tables(joiners), path.to_owned());
    tokio::task::spawn_blocking(move || write_process_tables(&path, &saved))
        .await
        .map_err(|e| PipelineError::Worker(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
async fn read_stage(
    bus: Arc<dyn Bus>,
    index: Arc<IndexStore>,
    enricher: Arc<Enricher>,
    detector: Option<Arc<Detector>>,
    tz: chrono_tz::Tz,
    batch_max: usize,
    join_idle: Duration,
    mut next: BTreeMap<u32, u64>,
    partitions: u32,
    tx: tokio::sync::mpsc::Sender<Batch>,
    mut shutdown: watch::Receiver<bool>,
    process_table: Option<PathBuf>,
) -> Result<(), PipelineError> {
    // One joiner per partition: a sender's records all go to one partition, in order.
    let mut joiners: Vec<Option<Joiner>> =
        (0..partitions).map(|_| Some(Joiner::default())).collect();
    if let Some(path) = &process_table {
        restore_process_tables(path, &mut joiners);
    }
    let process_table = process_table.as_deref();
    // The loop below returns from this block; the tables are saved however it ends.
    let read: Result<(), PipelineError> = async {
        let mut last_save = Instant::now();
        let seen = |js: &[Option<Joiner>]| -> u64 {
            js.iter().flatten().map(Joiner::process_starts_seen).sum()
        };
        let mut saved_seen = seen(&joiners);
        let mut last_records: Vec<Instant> = (0..partitions).map(|_| Instant::now()).collect();
        loop {
            let stopping = *shutdown.borrow();
            let mut got_any = false;
            for p in 0..partitions {
                let slot = p as usize;
                let from = next[&p];
                let recs = match bus.fetch(RAW_TOPIC, p, from, batch_max, Duration::ZERO).await {
                    Ok(r) => r,
                    Err(BusError::OffsetOutOfRange { earliest, .. }) => {
                        tracing::warn!(
                            partition = p,
                            from,
                            earliest,
                            "records lost to bus retention before indexing"
                        );
                        next.insert(p, earliest);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                let Some(last) = recs.last() else {
                    // Idle: join what the partition holds open once it has been quiet long enough.
                    let open = joiners[slot].as_ref().is_some_and(|j| j.open_groups() > 0);
                    if open && last_records[slot].elapsed() >= join_idle {
                        let Some(mut joiner) = joiners[slot].take() else { continue };
                        let (index, detector) = (index.clone(), detector.clone());
                        let (docs, scan, joiner) = tokio::task::spawn_blocking(move || {
                            let mut joined = Vec::new();
                            joiner.flush(&mut joined);
                            let joined = joined.into_iter().map(|j| (0, j)).collect();
                            let (docs, scan) =
                                prepare_joined(&index, detector.as_deref(), p, 0, None, joined);
                            (docs, scan, joiner)
                        })
                        .await
                        .map_err(|e| PipelineError::Worker(e.to_string()))?;
                        joiners[slot] = Some(joiner);
                        let batch = Batch {
                            partition: p,
                            next_offset: from,
                            newest_ms: 0,
                            docs: docs.into_iter().map(|(_, d)| d).collect(),
                            failed: 0,
                            scan,
                            hold: None,
                        };
                        if tx.send(batch).await.is_err() {
                            return Ok(());
                        }
                    }
                    continue;
                };
                got_any = true;
                last_records[slot] = Instant::now();
                let next_offset = last.offset + 1;
                next.insert(p, next_offset);
                let newest_ms = last.timestamp_ms;
                let (index, enricher, detector) =
                    (index.clone(), enricher.clone(), detector.clone());
                let mut joiner = joiners[slot].take().unwrap_or_default();
                let (docs, failed, scan, joiner) = tokio::task::spawn_blocking(move || {
                    let (docs, failed, scan) =
                        prepare(&index, &enricher, detector.as_deref(), tz, p, recs, &mut joiner);
                    (docs, failed, scan, joiner)
                })
                .await
                .map_err(|e| PipelineError::Worker(e.to_string()))?;
                let hold = joiner.oldest_open();
                joiners[slot] = Some(joiner);
                if tx
                    .send(Batch { partition: p, next_offset, newest_ms, docs, failed, scan, hold })
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
            if let Some(path) = process_table
                && last_save.elapsed() >= PROCESS_TABLE_SAVE
                && seen(&joiners) != saved_seen
            {
                last_save = Instant::now();
                saved_seen = seen(&joiners);
                save_process_tables(path, &joiners).await?;
            }
            if stopping && !got_any {
                return Ok(());
            }
            if !got_any {
                // Idle: long-poll partition 0 briefly, or wake on shutdown.
                tokio::select! {
                    _ = shutdown.changed() => {}
                    r = bus.fetch(RAW_TOPIC, 0, next[&0], 1, Duration::from_millis(100)) => { r?; }
                }
            }
        }
    }
    .await;
    if let Some(path) = process_table {
        save_process_tables(path, &joiners).await?;
    }
    read
}

/// The output of one parse worker: documents, parse failures, matches, and the audit record
/// events (with their index in the batch) for the joiner.
type Part = (Vec<PreparedDoc>, usize, ScanOutput, Vec<(usize, Event)>);

/// Parse, enrich, match and build index documents for one fetched batch, on all cores; then
/// join the batch's audit records in bus order (`joiner` carries the partition's open events
/// from batch to batch) and add the joined events after the record each closed at.
fn prepare(
    index: &IndexStore,
    enricher: &Enricher,
    detector: Option<&Detector>,
    tz: chrono_tz::Tz,
    partition: u32,
    recs: Vec<Delivered>,
    joiner: &mut Joiner,
) -> (Vec<PreparedDoc>, usize, ScanOutput) {
    let now = Utc::now();
    // Records the index already holds were matched before the restart that replays them;
    // those the correlation snapshot does not include are fed to correlation again.
    let replay_below = index.indexed_upto(partition).unwrap_or(0);
    let correlate_from =
        detector.and_then(|d| d.correlation_resume()).and_then(|r| r.get(&partition)).copied();
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let chunk = recs.len().div_ceil(workers).max(256);
    let parts: Vec<Part> = std::thread::scope(|s| {
        let handles: Vec<_> = recs
            .chunks(chunk)
            .enumerate()
            .map(|(n, part)| {
                s.spawn(move || {
                    let mut failed = 0;
                    let mut scan = ScanOutput::default();
                    let mut hits = Vec::new();
                    let mut audit = Vec::new();
                    let intel = detector.and_then(Detector::intel_snapshot);
                    let docs = part
                        .iter()
                        .enumerate()
                        .map(|(i, d)| {
                            let (e, pos, upsert) = convert(d, partition, tz, enricher, now);
                            if e.has_tag(sen_core::event::TAG_PARSE_FAILURE) {
                                failed += 1;
                            }
                            if let Some(det) = detector {
                                let at =
                                    Replay { offset: Some(d.offset), replay_below, correlate_from };
                                at.scan(det, &e, intel.as_deref(), &mut hits, &mut scan);
                            }
                            let doc = index.prepare(&e, pos, upsert, now);
                            if joinable(&e) {
                                audit.push((n * chunk + i, e));
                            }
                            doc
                        })
                        .collect::<Vec<_>>();
                    (docs, failed, scan, audit)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut failed = 0;
    let mut docs = Vec::with_capacity(recs.len());
    let mut scan = ScanOutput::default();
    let mut audit = Vec::new();
    for (d, f, s, a) in parts {
        docs.extend(d);
        failed += f;
        scan.detections.extend(s.detections);
        scan.correlate.extend(s.correlate);
        audit.extend(a);
    }
    // Join in bus order. A joined event goes before the record whose arrival showed its window
    // had ended, or after the PROCTITLE or EOE that closed it: next to its records in the doc
    // store.
    let mut joined: Vec<(usize, Joined)> = Vec::new();
    let mut out = Vec::new();
    for (i, e) in audit {
        let offset = recs[i].offset;
        joiner.advance(offset, &mut out);
        joined.extend(out.drain(..).map(|j| (i, j)));
        joiner.push(offset, e, &mut out);
        joined.extend(out.drain(..).map(|j| (i + 1, j)));
    }
    if let Some(last) = recs.last() {
        joiner.advance(last.offset, &mut out);
        joined.extend(out.drain(..).map(|j| (recs.len(), j)));
    }
    if joined.is_empty() {
        return (docs, failed, scan);
    }
    let (jdocs, jscan) =
        prepare_joined(index, detector, partition, replay_below, correlate_from, joined);
    scan.detections.extend(jscan.detections);
    scan.correlate.extend(jscan.correlate);
    let mut merged = Vec::with_capacity(docs.len() + jdocs.len());
    let mut jdocs = jdocs.into_iter().peekable();
    for (i, d) in docs.into_iter().enumerate() {
        while let Some((_, j)) = jdocs.next_if(|(at, _)| *at <= i) {
            merged.push(j);
        }
        merged.push(d);
    }
    merged.extend(jdocs.map(|(_, j)| j));
    (merged, failed, scan)
}

/// Where an event stands against a restart's replay.
struct Replay {
    /// Its bus position; `None`: it has none (a joined event closed by a flush).
    offset: Option<u64>,
    /// Positions below this are in the index already: they were matched before the restart.
    replay_below: u64,
    /// Positions from this on are not in the restored correlation snapshot.
    correlate_from: Option<u64>,
}

impl Replay {
    /// Match the event anew, or only for the correlation state (in the index, not in the
    /// snapshot), or not at all.
    fn scan(
        &self,
        det: &Detector,
        e: &Event,
        intel: Option<&crate::intel::IocSet>,
        hits: &mut Vec<sen_rules::sigma::Hit>,
        scan: &mut ScanOutput,
    ) {
        match self.offset {
            Some(o) if o < self.replay_below => {
                if self.correlate_from.is_some_and(|f| o >= f) {
                    det.scan_replay(e, hits, scan);
                }
            }
            _ => det.scan(e, intel, hits, scan),
        }
    }
}

/// Match and build the documents of joined audit events (each with the place it goes). An
/// event's position is the offset it closed at; it is matched unless that offset is below
/// `replay_below` (a replay of what was matched before a restart). One closed by a flush has
/// no position and is always matched. Joined events of records from the HTTP ingest API are
/// upserted: their id derives from the first record's, which a batch id makes the sender's, so
/// a retried or re-imported batch replaces them as it replaces its records.
fn prepare_joined(
    index: &IndexStore,
    detector: Option<&Detector>,
    partition: u32,
    replay_below: u64,
    correlate_from: Option<u64>,
    joined: Vec<(usize, Joined)>,
) -> (Vec<(usize, PreparedDoc)>, ScanOutput) {
    let now = Utc::now();
    let mut scan = ScanOutput::default();
    let mut hits = Vec::new();
    let intel = detector.and_then(Detector::intel_snapshot);
    let docs = joined
        .into_iter()
        .map(|(at, j)| {
            if let Some(det) = detector {
                let at = Replay { offset: j.closed_at, replay_below, correlate_from };
                at.scan(det, &j.event, intel.as_deref(), &mut hits, &mut scan);
            }
            let pos = j.closed_at.map(|offset| Position { partition, offset });
            let upsert = j.event.get_str("input.type") == Some(Transport::Http.as_str());
            (at, index.prepare(&j.event, pos, upsert, now))
        })
        .collect();
    (docs, scan)
}

fn convert(
    d: &Delivered,
    partition: u32,
    tz: chrono_tz::Tz,
    enricher: &Enricher,
    now: DateTime<Utc>,
) -> (Event, Option<Position>, bool) {
    let pos = Some(Position { partition, offset: d.offset });
    match RawRecord::decode(&d.payload) {
        Ok(rec) => {
            let (e, upsert) = build_event(rec, partition, d.offset, tz, enricher, now);
            (e, pos, upsert)
        }
        Err(err) => {
            // A corrupt envelope is still indexed (its bytes as text), never dropped silently.
            let id = bus_id(partition, d.offset);
            let ts = DateTime::from_timestamp_millis(d.timestamp_ms).unwrap_or(now);
            let text = String::from_utf8_lossy(&d.payload).into_owned();
            let mut e = Event::new(id, ts, text.clone());
            e.set("message", text);
            e.add_tag(sen_core::event::TAG_PARSE_FAILURE);
            e.set("error.message", err.to_string());
            (e, pos, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(pid: i64, exe: &str) -> ProcessStart {
        ProcessStart {
            source: 7,
            pid,
            executable: Some(exe.into()),
            command_line: None,
            name: None,
        }
    }

    fn pids(j: &Option<Joiner>) -> Vec<i64> {
        let mut v: Vec<i64> = j.as_ref().unwrap().process_starts().iter().map(|s| s.pid).collect();
        v.sort();
        v
    }

    #[test]
    fn process_tables_round_trip_and_bad_files_start_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-processes.json");
        let fresh =
            |n: usize| -> Vec<Option<Joiner>> { (0..n).map(|_| Some(Joiner::default())).collect() };
        let mut joiners = fresh(2);
        joiners[0].as_mut().unwrap().restore_process_starts([start(10, "/usr/sbin/sshd")]);
        joiners[1].as_mut().unwrap().restore_process_starts([start(20, "/usr/sbin/apache2")]);
        write_process_tables(&path, &process_tables(&joiners));

        // Same partition count: each start back in its partition's joiner.
        let mut same = fresh(2);
        restore_process_tables(&path, &mut same);
        assert_eq!((pids(&same[0]), pids(&same[1])), (vec![10], vec![20]));
        // Another count: every joiner gets every start.
        let mut other = fresh(3);
        restore_process_tables(&path, &mut other);
        assert!(other.iter().all(|j| pids(j) == vec![10, 20]));
        // Missing, truncated, or of another version: empty tables, no error.
        for bytes in [
            None,
            Some(&b"{\"version\":1,\"partitions\":2,\"sta"[..]),
            Some(&b"{\"version\":9,\"partitions\":2,\"starts\":[]}"[..]),
        ] {
            match bytes {
                Some(b) => std::fs::write(&path, b).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
            let mut js = fresh(2);
            restore_process_tables(&path, &mut js);
            assert!(js.iter().all(|j| pids(j).is_empty()));
        }
    }
}
