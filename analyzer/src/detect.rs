//! Detection inside the pipeline: Sigma rules (sen-rules' engine), correlation, and the alert
//! grouper, between parsing and the index.
//!
//! * **Stateless matching** ([`Detector::scan`]) runs in the pipeline's parse workers, in
//!   parallel, off the async reactor: every event is evaluated against the loaded rules. A match
//!   of a rule that raises alerts becomes a [`Detection`]; a match of a rule that feeds a
//!   correlation is kept, with only the fields the correlations read, for the next step.
//! * **Correlation** ([`Detector::correlate`]) runs in the index stage, one batch after the
//!   other in bus order, so that the rsigma window state sees each partition's events in order;
//!   a firing correlation becomes a [`Detection`] of kind `correlation` whose entity is the
//!   correlation's group.
//! * **Grouping** ([`Detector::group`]) turns detections into alert updates
//!   ([`AlertGrouper`]) at the matched event's time, so that a replay yields the same alert
//!   ids; the pipeline indexes the alerts with the batch and hands them to the alert sink
//!   (workflow store, bus topic `alerts`, console stream).
//!
//! Records the index already holds (a replay after a crash) are not matched again
//! ([`crate::index::IndexStore::indexed_upto`]), so a restart does not double alert counts,
//! except for the correlation state: the pipeline re-reads the records between the position
//! the restored correlation snapshot includes and the index's, and [`Detector::scan_replay`]
//! feeds their matches to correlation only, so the state is exactly what it was before the
//! stop; what fires during that replay was raised before and is not raised again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use sen_core::event::Event;
use sen_core::metrics;
use sen_rules::check::RuleError;
use sen_rules::sigma::{Correlator, CorrelatorConfig, DetectionEngine, Hit, RuleSet, SigmaEngine};
use serde::{Deserialize, Serialize};

use crate::alerts::{
    AlertGrouper, AlertUpdate, Detection, DetectionKind, GrouperConfig, Level, RuleMeta,
};

/// `[detection]` settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectionConfig {
    /// Run detection at all.
    pub enabled: bool,
    /// Load the rule packs built into the binary.
    pub builtin_rules: bool,
    /// More Sigma rule files or directories (a SigmaHQ checkout, your own rules).
    pub rules: Vec<PathBuf>,
    /// Refuse to start when a rule fails to load (otherwise: log each error, load the rest).
    pub strict: bool,
    /// Detections of one rule and entity within this window form one alert.
    #[serde(with = "humantime_serde")]
    pub alert_window: Duration,
    /// New alerts per rule per minute; more are folded into a flood summary (never dropped).
    pub rate_limit_per_minute: u32,
    /// Open alerts kept in memory.
    pub max_open_alerts: usize,
    /// Delete alerts from the alert index after this many days (0 = keep forever); events
    /// usually go sooner (`index.max_age_days`).
    pub alert_retention_days: u32,
    /// Correlation state limits.
    pub correlation: CorrelatorConfig,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        DetectionConfig {
            enabled: true,
            builtin_rules: true,
            rules: Vec::new(),
            strict: false,
            alert_window: Duration::from_secs(600),
            rate_limit_per_minute: 50,
            max_open_alerts: 10_000,
            alert_retention_days: 365,
            correlation: CorrelatorConfig::default(),
        }
    }
}

/// Fields captured with every detection besides the rule's entity fields: what analysts and
/// suppressions look at first.
pub const CAPTURED: &[&str] = &[
    "host.name",
    "user.name",
    "source.ip",
    "destination.ip",
    "destination.port",
    "process.name",
    "process.executable",
    "url.original",
    "event.action",
    "event.dataset",
    "agent.id",
];

/// A match that feeds a correlation: the matches, and a copy of the event reduced to the fields
/// the correlations read.
#[derive(Debug)]
pub struct CorrelationInput {
    event: Event,
    hits: Vec<Hit>,
    /// From a record the index already held: fed to bring the restored correlation state up to
    /// date; what it makes fire was acted on before the restart.
    replay: bool,
}

/// Output of [`Detector::scan`] for a batch.
#[derive(Debug, Default)]
pub struct ScanOutput {
    /// Detections that raise alerts.
    pub detections: Vec<Detection>,
    /// Matches for the correlation step, in event order.
    pub correlate: Vec<CorrelationInput>,
}

struct Metrics {
    matches: Arc<metrics::Counter>,
    ioc_matches: Arc<metrics::Counter>,
    correlations: Arc<metrics::Counter>,
    correlation_replayed: Arc<metrics::Counter>,
    alerts_created: Arc<metrics::Counter>,
    alerts_folded: Arc<metrics::Counter>,
    alerts_suppressed: Arc<metrics::Counter>,
    correlation_state: Arc<metrics::Gauge>,
}

/// Rules, correlation state and the alert grouper.
pub struct Detector {
    engine: SigmaEngine,
    metas: Vec<Arc<RuleMeta>>,
    corr_metas: Vec<Arc<RuleMeta>>,
    corr_fields: Vec<String>,
    correlator: Mutex<Correlator>,
    /// Per engine rule: whether its matches feed a correlation (read without the lock).
    feeds_correlation: Vec<bool>,
    grouper: Mutex<AlertGrouper>,
    state_path: Option<PathBuf>,
    state_saved: Mutex<Option<std::time::Instant>>,
    /// Bus positions the restored correlation state includes: the pipeline replays from there.
    resume: Option<BTreeMap<u32, u64>>,
    intel: Option<Arc<crate::intel::IntelManager>>,
    anomaly: Option<Anomaly>,
    m: Metrics,
}

/// The anomaly detector, its state file and when it was last saved.
struct Anomaly {
    detector: Mutex<crate::anomaly::AnomalyDetector>,
    path: Option<PathBuf>,
    saved: Mutex<std::time::Instant>,
}

/// Anomaly state is larger than correlation state: save it this often (and at shutdown).
const ANOMALY_SAVE_EVERY: Duration = Duration::from_secs(300);

/// Save correlation state at most this often (and at shutdown): a restart replays at most
/// this much of the bus into it, and a large state is not rewritten on every commit.
const CORRELATION_SAVE_EVERY: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector").field("rules", &self.metas.len()).finish()
    }
}

fn level(s: &str) -> Level {
    s.parse().unwrap_or(Level::Medium)
}

/// What loading the rules gave.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DetectorReport {
    /// Detection rules loaded.
    pub rules: usize,
    /// Correlation rules loaded.
    pub correlations: usize,
    /// Every load error.
    pub errors: Vec<RuleError>,
}

impl Detector {
    /// Load the configured rules. `state_path`: where correlation state is kept across
    /// restarts (restored here when present).
    pub fn load(
        cfg: &DetectionConfig,
        state_path: Option<PathBuf>,
    ) -> Result<(Detector, DetectorReport), String> {
        let mut set = RuleSet::load(&cfg.rules);
        if cfg.builtin_rules {
            let skipped = sen_rules::packs::add_builtin(&mut set);
            if skipped > 0 {
                tracing::info!(
                    skipped,
                    "built-in rules also loaded from `detection.rules`: those copies win"
                );
            }
        }
        Detector::from_set(&set, cfg, state_path)
    }

    /// Build from a parsed rule set.
    pub fn from_set(
        set: &RuleSet,
        cfg: &DetectionConfig,
        state_path: Option<PathBuf>,
    ) -> Result<(Detector, DetectorReport), String> {
        let (engine, report) = SigmaEngine::new(set);
        let (mut correlator, corr_errors) = Correlator::new(set, &engine, &cfg.correlation);
        let mut errors = report.errors;
        errors.extend(corr_errors);
        if cfg.strict && !errors.is_empty() {
            let first: Vec<String> = errors
                .iter()
                .take(5)
                .map(|e| {
                    format!(
                        "{}: {}: {}",
                        e.file.display(),
                        e.rule.as_deref().unwrap_or("-"),
                        e.reason
                    )
                })
                .collect();
            return Err(format!("{} rule(s) failed to load: {}", errors.len(), first.join("; ")));
        }
        let mut resume = None;
        if let Some(p) = &state_path {
            match correlator.restore(p) {
                Ok(Some(r)) => {
                    tracing::info!(
                        path = %p.display(),
                        windows = r.windows,
                        dropped = r.dropped,
                        saved_partitions = r.saved_partitions,
                        partitions = correlator.partitions(),
                        positions = ?r.positions,
                        "correlation state restored"
                    );
                    resume = r.positions;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "correlation state not restored; starting empty")
                }
            }
        }
        let feeds_correlation = (0..engine.rules().len()).map(|r| correlator.feeds(r)).collect();
        let metas = engine
            .rules()
            .iter()
            .map(|r| {
                Arc::new(RuleMeta {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    level: level(&r.level),
                    tags: r.tags.clone(),
                    group_by: None,
                    kind: DetectionKind::Sigma,
                    author: r.author.clone(),
                })
            })
            .collect();
        let mut fields = BTreeSet::new();
        let corr_metas = correlator
            .rules()
            .iter()
            .map(|c| {
                fields.extend(c.group_by.iter().cloned());
                fields.extend(c.fields.iter().cloned());
                Arc::new(RuleMeta {
                    id: c.rule.id.clone(),
                    title: c.rule.title.clone(),
                    level: level(&c.rule.level),
                    tags: c.rule.tags.clone(),
                    group_by: Some(c.group_by.clone()),
                    kind: DetectionKind::Correlation,
                    author: c.rule.author.clone(),
                })
            })
            .collect();
        let grouper = AlertGrouper::new(GrouperConfig {
            window: cfg.alert_window,
            rate_limit_per_minute: cfg.rate_limit_per_minute,
            max_open_groups: cfg.max_open_alerts.max(1),
            // Every update hands out the alert's state; 25 ids are enough to start triage
            // (the rest are found by searching the rule's entity and window) and keep floods
            // cheap.
            max_event_ids: 25,
            ..GrouperConfig::default()
        })
        .map_err(|e| e.to_string())?;
        let report =
            DetectorReport { rules: report.loaded, correlations: correlator.rules().len(), errors };
        let m = Metrics {
            matches: metrics::counter("sen_detect_matches_total", &[], "Sigma rule matches"),
            ioc_matches: metrics::counter(
                "sen_detect_ioc_matches_total",
                &[],
                "threat intelligence indicator matches",
            ),
            correlations: metrics::counter(
                "sen_detect_correlations_total",
                &[],
                "correlation rules fired",
            ),
            correlation_replayed: metrics::counter(
                "sen_correlation_replayed_firings_total",
                &[],
                "correlation firings while replaying records into restored state (acted on \
                 before the restart, not raised again)",
            ),
            alerts_created: metrics::counter("sen_alerts_created_total", &[], "alerts opened"),
            alerts_folded: metrics::counter(
                "sen_alerts_folded_total",
                &[],
                "detections folded into a rule's flood summary (rate limit)",
            ),
            alerts_suppressed: metrics::counter(
                "sen_alerts_suppressed_total",
                &[],
                "detections stopped by a suppression",
            ),
            correlation_state: metrics::gauge(
                "sen_correlation_windows",
                &[],
                "open correlation windows",
            ),
        };
        metrics::gauge("sen_detect_rules", &[], "Sigma detection rules loaded")
            .set(report.rules as i64);
        metrics::gauge("sen_detect_rule_errors", &[], "rules that failed to load")
            .set(report.errors.len() as i64);
        Ok((
            Detector {
                engine,
                metas,
                corr_metas,
                corr_fields: fields.into_iter().collect(),
                feeds_correlation,
                correlator: Mutex::new(correlator),
                grouper: Mutex::new(grouper),
                state_path,
                state_saved: Mutex::new(None),
                resume,
                intel: None,
                anomaly: None,
                m,
            },
            report,
        ))
    }

    /// The engine.
    pub fn engine(&self) -> &SigmaEngine {
        &self.engine
    }

    /// Run anomaly detection too, restoring its baselines from `state_path` when present (a
    /// corrupt or other-version file is set aside and the detector starts fresh).
    pub fn set_anomaly(
        &mut self,
        cfg: crate::anomaly::AnomalyConfig,
        state_path: Option<PathBuf>,
    ) -> Result<(), String> {
        let mut det = crate::anomaly::AnomalyDetector::new(cfg).map_err(|e| e.to_string())?;
        if let Some(p) = &state_path {
            match det.load(p) {
                Ok(crate::anomaly::LoadOutcome::Restored(s)) => {
                    tracing::info!(path = %p.display(), summary = ?s, "anomaly baselines restored")
                }
                Ok(crate::anomaly::LoadOutcome::NoFile) => {}
                Err(e) => {
                    tracing::error!(error = %e, "anomaly baselines not restored; learning anew")
                }
            }
        }
        self.anomaly = Some(Anomaly {
            detector: Mutex::new(det),
            path: state_path,
            saved: Mutex::new(std::time::Instant::now()),
        });
        Ok(())
    }

    /// Match events against threat intelligence too (its current indicator set).
    pub fn set_intel(&mut self, manager: Arc<crate::intel::IntelManager>) {
        self.intel = Some(manager);
    }

    /// The indicator set to match a batch with (take it once per batch).
    pub fn intel_snapshot(&self) -> Option<Arc<crate::intel::IocSet>> {
        self.intel.as_ref().map(|m| m.current())
    }

    /// Match one event (any thread): Sigma rules, and the indicators of `intel` (from
    /// [`Detector::intel_snapshot`]).
    pub fn scan(
        &self,
        event: &Event,
        intel: Option<&crate::intel::IocSet>,
        hits: &mut Vec<Hit>,
        out: &mut ScanOutput,
    ) {
        if let Some(set) = intel {
            let mut ioc_hits = Vec::new();
            set.match_event(event, &mut ioc_hits);
            for h in &ioc_hits {
                self.m.ioc_matches.inc();
                out.detections.push(h.detection(event, CAPTURED.iter().copied()));
            }
        }
        if let Some(a) = &self.anomaly {
            a.detector.lock().observe(event, Utc::now(), &mut out.detections);
        }
        hits.clear();
        self.engine.evaluate(event, hits);
        if hits.is_empty() {
            return;
        }
        self.m.matches.add(hits.len() as u64);
        let mut feeding = Vec::new();
        for h in hits.drain(..) {
            let info = &self.engine.rules()[h.rule];
            if !info.correlation_only {
                out.detections.push(Detection::new(
                    self.metas[h.rule].clone(),
                    event,
                    CAPTURED.iter().copied(),
                ));
            }
            if self.correlator_feeds(h.rule) {
                feeding.push(h);
            }
        }
        if !feeding.is_empty() {
            out.correlate.push(CorrelationInput {
                event: self.slim(event),
                hits: feeding,
                replay: false,
            });
        }
    }

    /// The bus positions (partition → offset) from which records must be replayed into the
    /// correlation state restored at load ([`Detector::scan_replay`]), if any.
    pub fn correlation_resume(&self) -> Option<&BTreeMap<u32, u64>> {
        self.resume.as_ref()
    }

    /// Match a record the index already holds, for the correlation state only: after a
    /// restart, records between the correlation snapshot's position and the index's position
    /// are fed again so that the state is what it was before the crash. Nothing else happens
    /// (their alerts, indicator matches and anomaly observations were made before).
    pub fn scan_replay(&self, event: &Event, hits: &mut Vec<Hit>, out: &mut ScanOutput) {
        hits.clear();
        self.engine.evaluate(event, hits);
        let feeding: Vec<Hit> = hits.drain(..).filter(|h| self.correlator_feeds(h.rule)).collect();
        if !feeding.is_empty() {
            out.correlate.push(CorrelationInput {
                event: self.slim(event),
                hits: feeding,
                replay: true,
            });
        }
    }

    fn correlator_feeds(&self, rule: usize) -> bool {
        self.feeds_correlation.get(rule).copied().unwrap_or(false)
    }

    /// A copy of `event` with only the fields correlations (and alerts) read.
    fn slim(&self, event: &Event) -> Event {
        let mut slim = Event::new(event.id.clone(), event.timestamp, String::new());
        slim.organization = event.organization.clone();
        for f in self.corr_fields.iter().map(String::as_str).chain(CAPTURED.iter().copied()) {
            if let Some(v) = event.fields.get(f) {
                slim.fields.insert(f.to_owned(), v.clone());
            }
        }
        // Windows events keep their fields under winlog.*: carry those a correlation names.
        for f in &self.corr_fields {
            for prefix in ["winlog.event_data.", "winlog.user_data."] {
                let k = format!("{prefix}{f}");
                if let Some(v) = event.fields.get(&k) {
                    slim.fields.insert(k, v.clone());
                }
            }
        }
        for k in ["winlog.channel", "winlog.event_id"] {
            if let Some(v) = event.fields.get(k) {
                slim.fields.insert(k.to_owned(), v.clone());
            }
        }
        slim
    }

    /// Run the correlation step over a batch's inputs (in order; the state's partitions in
    /// parallel when the batch is large); firing correlations are appended to `detections`.
    /// Call it off the async reactor.
    pub fn correlate(&self, inputs: Vec<CorrelationInput>, detections: &mut Vec<Detection>) {
        if inputs.is_empty() {
            return;
        }
        let mut c = self.correlator.lock();
        let batch: Vec<(&Event, &[Hit])> =
            inputs.iter().map(|i| (&i.event, i.hits.as_slice())).collect();
        for (i, fired) in c.process_batch(&batch) {
            let input = &inputs[i];
            if input.replay {
                self.m.correlation_replayed.inc();
                continue;
            }
            self.m.correlations.inc();
            let meta = self.corr_metas[fired.correlation].clone();
            let mut d = Detection::new(meta, &input.event, CAPTURED.iter().copied());
            for (k, v) in fired.group {
                d.event.fields.entry(k).or_insert(v);
            }
            detections.push(d);
        }
        self.m.correlation_state.set(c.state_count() as i64);
    }

    /// Group detections into alerts (at each matched event's time): one update per detection.
    pub fn group(&self, detections: Vec<Detection>) -> Vec<AlertUpdate> {
        if detections.is_empty() {
            return Vec::new();
        }
        let mut g = self.grouper.lock();
        let mut out = Vec::with_capacity(detections.len());
        for d in detections {
            let now = d.event.timestamp;
            for u in g.observe(d, now) {
                match &u {
                    AlertUpdate::Created(_) => self.m.alerts_created.inc(),
                    AlertUpdate::Folded { .. } => self.m.alerts_folded.inc(),
                    AlertUpdate::Suppressed { .. } => self.m.alerts_suppressed.inc(),
                    AlertUpdate::Updated(_) => {}
                }
                out.push(u);
            }
        }
        out
    }

    /// Make the grouper's suppressions the given active set (from the workflow store).
    pub fn sync_suppressions(&self, active: Vec<crate::alerts::Suppression>) {
        let mut g = self.grouper.lock();
        if let Err(e) = crate::alerts::store::sync_grouper_suppressions(&mut g, active) {
            tracing::error!(error = %e, "suppressions not applied");
        }
    }

    /// Close alert windows and correlation windows that ended before `now`.
    pub fn expire(&self, now: DateTime<Utc>) {
        self.grouper.lock().expire(now);
        let mut c = self.correlator.lock();
        c.evict(now.timestamp());
        self.m.correlation_state.set(c.state_count() as i64);
    }

    /// Save the correlation state (every 10 s at most) and the anomaly baselines (every 5
    /// minutes); `last`: at shutdown, save everything. Called after index commits.
    ///
    /// `positions`: the bus position (partition → next offset) of the last record whose
    /// matches were correlated; the snapshot records it, and a restart replays from there.
    pub fn save_state(&self, last: bool, positions: &BTreeMap<u32, u64>) {
        if let Some(p) = &self.state_path {
            let mut saved = self.state_saved.lock();
            if last || saved.is_none_or(|t| t.elapsed() >= CORRELATION_SAVE_EVERY) {
                let c = self.correlator.lock();
                match c.save(p, Some(positions)) {
                    Ok(()) => *saved = Some(std::time::Instant::now()),
                    Err(e) => {
                        tracing::error!(error = %e, path = %p.display(), "cannot save correlation state")
                    }
                }
            }
        }
        if let Some(a) = &self.anomaly
            && let Some(p) = &a.path
        {
            let mut saved = a.saved.lock();
            if last || saved.elapsed() >= ANOMALY_SAVE_EVERY {
                // Snapshot under the lock, write without it.
                let state = a.detector.lock().snapshot();
                match crate::anomaly::write_state_file(p, &state) {
                    Ok(_) => *saved = std::time::Instant::now(),
                    Err(e) => {
                        tracing::error!(error = %e, path = %p.display(), "cannot save anomaly baselines")
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Alert;

    /// A built-in SigmaHQ rule's alert names the rule's author (DRL 1.1), end to end from a raw
    /// audit record.
    #[test]
    fn builtin_sigmahq_alerts_name_their_author() {
        let (detector, report) =
            Detector::load(&DetectionConfig::default(), None).expect("built-in packs load");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.rules > 150, "{}", report.rules);
        let line = "type=SERVICE_STOP msg=audit(1764129602.300:5004): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=firewalld comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'";
        let ctx = sen_parse::Context::new(Utc::now());
        let mut e = Event::new("e1".into(), ctx.received, line);
        sen_parse::normalize_line(&mut e, sen_parse::Format::Auto, &ctx);
        let (mut hits, mut out) = (Vec::new(), ScanOutput::default());
        detector.scan(&e, None, &mut hits, &mut out);
        let alerts: Vec<Alert> = detector
            .group(out.detections)
            .into_iter()
            .filter_map(|u| match u {
                AlertUpdate::Created(a) => Some(a),
                _ => None,
            })
            .collect();
        let a = alerts.iter().find(|a| a.rule_title == "Disable System Firewall").expect("alert");
        assert_eq!(a.rule_author.as_deref(), Some("Pawel Mazur"));
        assert_eq!(a.to_event().get_str("rule.author"), Some("Pawel Mazur"));
    }
    /// A raw FortiGate syslog line, as a FortiGate sends it over UDP, through the pipeline's
    /// parse step (`build_event`) and the detector with the built-in packs: SigmaHQ's "New
    /// Administrator Account Created" raises an alert naming its author, on the admin's address.
    #[test]
    fn raw_fortigate_syslog_line_raises_the_sigmahq_alert() {
        use sen_core::raw::{Body, RawRecord, Transport};

        let (detector, report) =
            Detector::load(&DetectionConfig::default(), None).expect("built-in packs load");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let enricher = crate::enrich::Enricher::new(&crate::enrich::EnrichConfig::default())
            .expect("empty enricher");
        let now = Utc::now();
        let record = |line: &str| RawRecord {
            received_ms: now.timestamp_millis(),
            transport: Transport::SyslogUdp,
            peer: Some("10.10.0.1:5140".into()),
            organization: Some("sotttt".into()),
            origin: None,
            format: None,
            body: Body::Line(line.to_owned()),
        };
        let mut alerts = Vec::new();
        for (offset, line) in [
            // The attack: a new super_admin account.
            r#"<189>date=2026-11-26 time=15:00:01 devname="fw-border" devid="FG201FTK22901234" eventtime=1795680001123456789 tz="+0700" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="GUI(198.51.100.23)" action="Add" cfgtid=1310721 cfgpath="system.admin" cfgobj="forticloud-sync" cfgattr="accprofile[super_admin]vdom[root]" msg="Add system.admin forticloud-sync""#,
            // Routine: an administrator's password changed.
            r#"<189>date=2026-11-26 time=15:01:01 devname="fw-border" devid="FG201FTK22901234" eventtime=1795680061000000000 tz="+0700" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="GUI(10.10.3.5)" action="Edit" cfgtid=1310728 cfgpath="system.admin" cfgobj="admin" cfgattr="password[*]" msg="Edit system.admin admin""#,
        ]
        .into_iter()
        .enumerate()
        {
            let (e, _) =
                crate::pipeline::build_event(record(line), 0, offset as u64, chrono_tz::UTC, &enricher, now);
            assert_eq!(e.get_str("fortinet.firewall.cfgpath"), Some("system.admin"));
            let (mut hits, mut out) = (Vec::new(), ScanOutput::default());
            detector.scan(&e, None, &mut hits, &mut out);
            alerts.extend(detector.group(out.detections).into_iter().filter_map(|u| match u {
                AlertUpdate::Created(a) => Some(a),
                _ => None,
            }));
        }
        let titles: Vec<&str> = alerts.iter().map(|a| a.rule_title.as_str()).collect();
        assert_eq!(titles, ["FortiGate - New Administrator Account Created"]);
        let a = &alerts[0];
        assert_eq!(a.rule_author.as_deref(), Some("Marco Pedrinazzi (@pedrinazziM) (InTheCyber)"));
        assert_eq!(a.first_seen.to_rfc3339(), "2026-11-26T08:00:01.123456789+00:00");
        assert!(a.tags.iter().any(|t| t == "attack.t1136.001"), "{:?}", a.tags);
        assert_eq!(a.entity.get("source.ip"), Some("198.51.100.23"), "{:?}", a.entity);
    }
}
