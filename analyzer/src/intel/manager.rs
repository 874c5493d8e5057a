//! [`IntelManager`]: loads the feeds, refreshes them on their schedules, keeps the current
//! [`IocSet`], reports per-feed status, and hands new indicators to the retro-hunt.
//!
//! # Refresh
//!
//! Each enabled feed is loaded at [`IntelManager::start`] and then every `refresh` by a tokio
//! task (after a failure, sooner: 30 s, 1 min, 2 min … up to `refresh`). A file is re-read only
//! when its modification time or length changed; a URL is fetched with `If-None-Match` /
//! `If-Modified-Since` from the last response. Downloads run on the runtime; parsing and
//! compiling the set run on blocking threads.
//!
//! A refresh that fails (network, HTTP status, size cap, a document that cannot be read at
//! all, or one with invalid entries and not a single valid indicator, such as an error page
//! served in place of a CSV list) changes nothing: the feed's last good indicators stay in the set. The error is logged
//! with the feed's name, counted (`sen_intel_refresh_total{result="error"}`) and shown in the
//! feed's [`FeedStatus`]. A document that parses loads its good entries; its bad ones are
//! counted and the first ones listed in the status.
//!
//! Indicators whose `valid_until` passes are dropped at the next refresh even when the
//! document did not change.
//!
//! # New indicators
//!
//! When a feed's load brings indicators (kind and canonical value) that feed did not have,
//! they are sent as one [`NewIocs`] on the channel `start` returns, for the caller to run
//! [`retro_hunt`](super::retro_hunt) over the last `retro_hunt_days`. The channel is bounded
//! (at least [`NEW_IOCS_CAPACITY`]) and the manager never waits on it: when it is full or its
//! receiver is gone, that hunt is dropped, logged and counted
//! (`sen_intel_hunts_dropped_total`); the indicators still match at ingest.
//!
//! What counts as new at start-up: with a state directory, the manager keeps each feed's
//! known indicators in `<state>/intel-known.json` (64-bit keys), so after a restart only what
//! appeared meanwhile is new, and a feed that was never loaded before is new as a whole.
//! Without one, the first load of each feed is taken as known and only later refreshes send
//! new indicators. The file is written when a load changes a feed, before the `NewIocs` is
//! sent: a crash between the two loses that retro-hunt (the indicators still match at
//! ingest).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use sen_core::metrics::{self, Counter, Gauge};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::IntelError;
use super::config::{FeedConfig, IntelConfig, load_key};
use super::fetch::{self, Fetched, Validator};
use super::ioc::{FeedInfo, Ioc, IocKind};
use super::parse::{self, FeedFormat, Issue, ParseOptions, ParseStats, Parsed};
use super::set::IocSet;

/// Issues kept per feed in its status.
pub const STATUS_ISSUES: usize = 20;
/// Least capacity of the [`NewIocs`] channel (it is at least 4 messages per feed).
pub const NEW_IOCS_CAPACITY: usize = 64;
/// Name of the known-indicators file in the state directory.
pub const KNOWN_FILE: &str = "intel-known.json";

/// Indicators a feed did not have before, for a retro-hunt.
#[derive(Debug, Clone)]
pub struct NewIocs {
    /// The feed.
    pub feed: String,
    /// The new indicators.
    pub iocs: Vec<Arc<Ioc>>,
    /// When they were loaded.
    pub loaded_at: DateTime<Utc>,
}

/// The result of one refresh of one feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum RefreshOutcome {
    /// A document was loaded.
    Loaded {
        /// Indicators now loaded from the feed.
        loaded: usize,
        /// How many of them are new.
        new: usize,
    },
    /// The document did not change.
    Unchanged,
    /// The refresh failed; the last good indicators stay.
    Failed {
        /// Why.
        error: String,
    },
}

/// One feed's state, for the console.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedStatus {
    /// Feed name.
    pub name: String,
    /// Document format.
    pub format: FeedFormat,
    /// The path, or the URL without user info and query.
    pub source: String,
    /// Whether the feed is used.
    pub enabled: bool,
    /// Level of its alerts.
    pub level: crate::alerts::Level,
    /// Refresh interval, in seconds.
    pub refresh_secs: u64,
    /// Indicators in the current set from this feed.
    pub loaded: usize,
    /// Of which, by type.
    pub counts: BTreeMap<IocKind, usize>,
    /// Counts of the last document loaded (skipped, expired, invalid, unsupported …).
    pub stats: Option<ParseStats>,
    /// The first issues of the last document loaded.
    pub issues: Vec<Issue>,
    /// Last refresh attempt.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Last successful fetch (changed or not).
    pub last_success: Option<DateTime<Utc>>,
    /// Last time a new document was loaded.
    pub last_change: Option<DateTime<Utc>>,
    /// Error of the last attempt, if it failed.
    pub last_error: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// When the next refresh is due.
    pub next_refresh: Option<DateTime<Utc>>,
}

struct FeedMetrics {
    ok: Arc<Counter>,
    unchanged: Arc<Counter>,
    error: Arc<Counter>,
    new: Arc<Counter>,
    iocs: Arc<Gauge>,
}

impl FeedMetrics {
    fn new(feed: &str) -> FeedMetrics {
        let refresh = |result: &str| {
            metrics::counter(
                "sen_intel_refresh_total",
                &[("feed", feed), ("result", result)],
                "Threat intel feed refreshes by result (ok: loaded, unchanged, error: kept the \
                 last good indicators)",
            )
        };
        FeedMetrics {
            ok: refresh("ok"),
            unchanged: refresh("unchanged"),
            error: refresh("error"),
            new: metrics::counter(
                "sen_intel_new_iocs_total",
                &[("feed", feed)],
                "Indicators a feed did not have before (sent to the retro-hunt)",
            ),
            iocs: metrics::gauge(
                "sen_intel_iocs",
                &[("feed", feed)],
                "Indicators loaded from a threat intel feed",
            ),
        }
    }
}

struct FeedState {
    cfg: FeedConfig,
    info: Arc<FeedInfo>,
    api_key: Option<String>,
    iocs: Vec<Arc<Ioc>>,
    /// Keys of the indicators known for this feed; `None`: none known yet, and the first load
    /// is not "new".
    keys: Option<HashSet<u64>>,
    validator: Validator,
    metrics: FeedMetrics,
}

/// The threat intel feeds and the current indicator set.
pub struct IntelManager {
    cfg: IntelConfig,
    current: ArcSwap<IocSet>,
    feeds: tokio::sync::Mutex<Vec<FeedState>>,
    status: Mutex<Vec<FeedStatus>>,
    client: reqwest::Client,
    tx: mpsc::Sender<NewIocs>,
    known_path: Option<PathBuf>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    sets_built: Arc<Counter>,
    hunts_dropped: Arc<Counter>,
}

impl std::fmt::Debug for IntelManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntelManager").field("feeds", &self.cfg.feeds.len()).finish()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KnownFile {
    version: u32,
    feeds: BTreeMap<String, Vec<u64>>,
}

fn read_known(path: &Path) -> Option<BTreeMap<String, Vec<u64>>> {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice::<KnownFile>(&bytes) {
            Ok(k) if k.version == 1 => Some(k.feeds),
            Ok(k) => {
                tracing::error!(path = %path.display(), version = k.version,
                    "unknown intel state version; every feed's next load is taken as known");
                None
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e,
                    "unreadable intel state; every feed's next load is taken as known");
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(BTreeMap::new()),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e,
                "cannot read intel state; every feed's next load is taken as known");
            None
        }
    }
}

fn write_known(path: &Path, feeds: BTreeMap<String, Vec<u64>>) -> std::io::Result<()> {
    let bytes =
        serde_json::to_vec(&KnownFile { version: 1, feeds }).map_err(std::io::Error::other)?;
    sen_core::fsutil::write_atomic(path, &bytes)
}

/// A document fetched and parsed (or not changed, or failed).
enum Loaded {
    New(Parsed, Validator),
    NotModified,
    Failed(String),
}

impl IntelManager {
    /// Check the configuration, load every enabled feed (waiting for the downloads, each
    /// bounded by `intel.timeout`), and start refreshing them on their schedules. Feeds that
    /// fail to load are retried and shown in [`IntelManager::status`]; they do not stop the
    /// start. `state_dir` holds the known-indicators file (see the [module docs](self)).
    ///
    /// Returns the manager and the receiver of [`NewIocs`]. Call it inside a tokio runtime.
    pub async fn start(
        cfg: IntelConfig,
        state_dir: Option<PathBuf>,
    ) -> Result<(Arc<IntelManager>, mpsc::Receiver<NewIocs>), IntelError> {
        let errors = cfg.check();
        if !errors.is_empty() {
            return Err(IntelError::Config(errors));
        }
        let client = fetch::client(&cfg).map_err(IntelError::Client)?;
        let known_path = match &state_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|source| IntelError::State { path: dir.clone(), source })?;
                Some(dir.join(KNOWN_FILE))
            }
            None => None,
        };
        let known = known_path.as_deref().and_then(read_known);
        let mut feeds = Vec::new();
        let mut status = Vec::new();
        for f in &cfg.feeds {
            let api_key = match &f.api_key_file {
                Some(p) => Some(load_key(p).map_err(|e| {
                    IntelError::Config(vec![format!("intel.feeds[{}].api_key_file: {e}", f.name)])
                })?),
                None => None,
            };
            let keys = known
                .as_ref()
                .map(|k| k.get(&f.name).map(|v| v.iter().copied().collect()).unwrap_or_default());
            feeds.push(FeedState {
                cfg: f.clone(),
                info: FeedInfo::new(f.name.clone(), f.level),
                api_key,
                iocs: Vec::new(),
                keys,
                validator: Validator::default(),
                metrics: FeedMetrics::new(&f.name),
            });
            status.push(FeedStatus {
                name: f.name.clone(),
                format: f.format,
                source: f.source(),
                enabled: f.enabled,
                level: f.level,
                refresh_secs: f.refresh.as_secs(),
                loaded: 0,
                counts: BTreeMap::new(),
                stats: None,
                issues: Vec::new(),
                last_attempt: None,
                last_success: None,
                last_change: None,
                last_error: None,
                consecutive_failures: 0,
                next_refresh: None,
            });
        }
        let (tx, rx) = mpsc::channel(NEW_IOCS_CAPACITY.max(4 * cfg.feeds.len()));
        let manager = Arc::new(IntelManager {
            cfg,
            current: ArcSwap::from_pointee(IocSet::empty()),
            feeds: tokio::sync::Mutex::new(feeds),
            status: Mutex::new(status),
            client,
            tx,
            known_path,
            tasks: Mutex::new(Vec::new()),
            hunts_dropped: metrics::counter(
                "sen_intel_hunts_dropped_total",
                &[],
                "Sets of new indicators not sent to the retro-hunt (queue full or no receiver)",
            ),
            sets_built: metrics::counter(
                "sen_intel_sets_built_total",
                &[],
                "Threat intel indicator sets compiled (one per change of any feed)",
            ),
        });
        let enabled: Vec<usize> =
            (0..manager.cfg.feeds.len()).filter(|i| manager.cfg.feeds[*i].enabled).collect();
        manager.refresh_feeds(&enabled).await;
        {
            let mut st = manager.status.lock();
            for &idx in &enabled {
                let delay = manager.next_delay_locked(&st, idx);
                st[idx].next_refresh =
                    Some(Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default());
            }
        }
        let mut tasks = Vec::new();
        for idx in enabled {
            let weak = Arc::downgrade(&manager);
            tasks.push(tokio::spawn(schedule(weak, idx)));
        }
        *manager.tasks.lock() = tasks;
        Ok((manager, rx))
    }

    /// The current indicator set (cheap: an atomic load and reference count). Take it once
    /// per batch of events.
    pub fn current(&self) -> Arc<IocSet> {
        self.current.load_full()
    }

    /// Every configured feed's state, in configuration order.
    pub fn status(&self) -> Vec<FeedStatus> {
        self.status.lock().clone()
    }

    /// The configuration in use.
    pub fn config(&self) -> &IntelConfig {
        &self.cfg
    }

    /// `[now - retro_hunt_days, now]`, or `None` when the retro-hunt is off.
    pub fn retro_hunt_window(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        (self.cfg.retro_hunt_days > 0)
            .then(|| (now - chrono::Duration::days(i64::from(self.cfg.retro_hunt_days)), now))
    }

    /// Refresh one feed now (a console button; tests), whatever its schedule.
    pub async fn refresh_now(&self, feed: &str) -> Result<RefreshOutcome, IntelError> {
        let idx = self
            .cfg
            .feeds
            .iter()
            .position(|f| f.name == feed && f.enabled)
            .ok_or_else(|| IntelError::UnknownFeed(feed.to_owned()))?;
        Ok(self.refresh_feeds(&[idx]).await.remove(0))
    }

    /// Stop the refresh tasks (the current set stays usable).
    pub fn shutdown(&self) {
        for t in self.tasks.lock().drain(..) {
            t.abort();
        }
    }

    /// The delay before the next refresh of feed `idx`: its interval, or after failures 30 s
    /// doubling up to it.
    fn next_delay(&self, idx: usize) -> Duration {
        let st = self.status.lock();
        self.next_delay_locked(&st, idx)
    }

    fn next_delay_locked(&self, status: &[FeedStatus], idx: usize) -> Duration {
        let every = self.cfg.feeds[idx].refresh;
        let failures = status[idx].consecutive_failures;
        if failures == 0 {
            return every;
        }
        let backoff = Duration::from_secs(30).saturating_mul(1 << (failures - 1).min(16));
        backoff.min(every)
    }

    /// Fetch and parse the feeds `idxs` concurrently, then apply every result at once (one
    /// set rebuild), send new indicators, and update status and metrics.
    async fn refresh_feeds(&self, idxs: &[usize]) -> Vec<RefreshOutcome> {
        let now = Utc::now();
        let inputs: Vec<_> = {
            let feeds = self.feeds.lock().await;
            idxs.iter()
                .map(|&i| {
                    let f = &feeds[i];
                    (i, f.cfg.clone(), f.info.clone(), f.api_key.clone(), f.validator.clone())
                })
                .collect()
        };
        {
            let mut st = self.status.lock();
            for &i in idxs {
                st[i].last_attempt = Some(now);
            }
        }
        let mut jobs = tokio::task::JoinSet::new();
        for (i, cfg, info, key, validator) in inputs {
            let client = self.client.clone();
            let max = self.cfg.max_feed_bytes;
            jobs.spawn(async move {
                let fetched = match (&cfg.path, &cfg.url) {
                    (Some(p), _) => fetch::file(p, &validator, max).await,
                    (None, Some(u)) => {
                        fetch::url(&client, u, cfg.format, key.as_deref(), &validator, max).await
                    }
                    (None, None) => Err("no path or url".to_string()),
                };
                let loaded = match fetched {
                    Err(e) => Loaded::Failed(e),
                    Ok(Fetched::NotModified) => Loaded::NotModified,
                    Ok(Fetched::Body { text, validator }) => {
                        let mut opts = ParseOptions::new(info, now);
                        opts.to_ids_only = cfg.to_ids_only.unwrap_or(true);
                        opts.observables = cfg.observables.unwrap_or(true);
                        let format = cfg.format;
                        let parsed =
                            tokio::task::spawn_blocking(move || parse::parse(format, &text, &opts))
                                .await;
                        match parsed {
                            // Nothing good and something bad: an error page served as the
                            // feed, not a feed that emptied.
                            Ok(Ok(p)) if p.stats.loaded == 0 && p.stats.invalid > 0 => {
                                Loaded::Failed(format!(
                                    "no valid indicator in the document ({} invalid entries, \
                                     first: {})",
                                    p.stats.invalid,
                                    p.issues.first().map(ToString::to_string).unwrap_or_default()
                                ))
                            }
                            Ok(Ok(p)) => Loaded::New(p, validator),
                            Ok(Err(e)) => Loaded::Failed(format!("cannot read the document: {e}")),
                            Err(e) => Loaded::Failed(format!("parser failed: {e}")),
                        }
                    }
                };
                (i, loaded)
            });
        }
        let mut results: HashMap<usize, Loaded> = HashMap::new();
        while let Some(r) = jobs.join_next().await {
            match r {
                Ok((i, l)) => {
                    results.insert(i, l);
                }
                Err(e) => tracing::error!(error = %e, "intel refresh task failed"),
            }
        }
        self.apply(idxs, results, now).await
    }

    async fn apply(
        &self,
        idxs: &[usize],
        mut results: HashMap<usize, Loaded>,
        now: DateTime<Utc>,
    ) -> Vec<RefreshOutcome> {
        let mut feeds = self.feeds.lock().await;
        let mut outcomes = Vec::with_capacity(idxs.len());
        let mut changed = false;
        let mut news = Vec::new();
        let mut loaded_stats: HashMap<usize, (ParseStats, Vec<Issue>)> = HashMap::new();
        for &i in idxs {
            let f = &mut feeds[i];
            let loaded = results.remove(&i).unwrap_or(Loaded::Failed("refresh task lost".into()));
            let outcome = match loaded {
                Loaded::Failed(error) => {
                    f.metrics.error.inc();
                    tracing::warn!(feed = %f.cfg.name, %error,
                        "threat intel feed refresh failed; keeping its last good indicators");
                    RefreshOutcome::Failed { error }
                }
                Loaded::NotModified => {
                    f.metrics.unchanged.inc();
                    // Indicators may have expired although the document did not change.
                    let before = f.iocs.len();
                    f.iocs.retain(|i| i.valid_until.is_none_or(|t| t > now));
                    if f.iocs.len() != before {
                        changed = true;
                        if let Some(keys) = &mut f.keys {
                            *keys = f.iocs.iter().map(|i| i.key()).collect();
                        }
                    }
                    RefreshOutcome::Unchanged
                }
                Loaded::New(parsed, validator) => {
                    f.metrics.ok.inc();
                    let iocs: Vec<Arc<Ioc>> = parsed.iocs.into_iter().map(Arc::new).collect();
                    let keys: Vec<u64> = iocs.iter().map(|i| i.key()).collect();
                    let fresh: Vec<Arc<Ioc>> = match &f.keys {
                        Some(old) => iocs
                            .iter()
                            .zip(&keys)
                            .filter(|(_, k)| !old.contains(k))
                            .map(|(i, _)| i.clone())
                            .collect(),
                        None => Vec::new(),
                    };
                    let new = fresh.len();
                    if !fresh.is_empty() {
                        f.metrics.new.add(new as u64);
                        news.push(NewIocs {
                            feed: f.cfg.name.clone(),
                            iocs: fresh,
                            loaded_at: now,
                        });
                    }
                    f.keys = Some(keys.into_iter().collect());
                    f.iocs = iocs;
                    f.validator = validator;
                    changed = true;
                    let mut issues = parsed.issues;
                    issues.truncate(STATUS_ISSUES);
                    loaded_stats.insert(i, (parsed.stats, issues));
                    tracing::info!(feed = %f.cfg.name, loaded = f.iocs.len(), new,
                        "threat intel feed loaded");
                    RefreshOutcome::Loaded { loaded: f.iocs.len(), new }
                }
            };
            f.metrics.iocs.set(f.iocs.len() as i64);
            outcomes.push(outcome);
        }
        if changed {
            let all: Vec<Arc<Ioc>> = feeds.iter().flat_map(|f| f.iocs.iter().cloned()).collect();
            match tokio::task::spawn_blocking(move || IocSet::build(all)).await {
                Ok(set) => {
                    self.current.store(Arc::new(set));
                    self.sets_built.inc();
                }
                Err(e) => tracing::error!(error = %e, "building the threat intel set failed"),
            }
            if let Some(path) = self.known_path.clone() {
                let known: BTreeMap<String, Vec<u64>> = feeds
                    .iter()
                    .filter_map(|f| {
                        let mut keys: Vec<u64> = f.keys.as_ref()?.iter().copied().collect();
                        keys.sort_unstable();
                        Some((f.cfg.name.clone(), keys))
                    })
                    .collect();
                let shown = path.display().to_string();
                match tokio::task::spawn_blocking(move || write_known(&path, known)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(path = %shown, error = %e,
                        "cannot write the intel state; new indicators may be hunted again after a restart"),
                    Err(e) => tracing::error!(error = %e, "writing the intel state failed"),
                }
            }
        }
        {
            let mut st = self.status.lock();
            for (&i, outcome) in idxs.iter().zip(&outcomes) {
                let f = &feeds[i];
                let s = &mut st[i];
                s.loaded = f.iocs.len();
                let mut counts = BTreeMap::new();
                for ioc in &f.iocs {
                    *counts.entry(ioc.kind()).or_default() += 1;
                }
                s.counts = counts;
                match outcome {
                    RefreshOutcome::Failed { error } => {
                        s.last_error = Some(error.clone());
                        s.consecutive_failures = s.consecutive_failures.saturating_add(1);
                    }
                    _ => {
                        s.last_error = None;
                        s.consecutive_failures = 0;
                        s.last_success = Some(now);
                    }
                }
                if let Some((stats, issues)) = loaded_stats.remove(&i) {
                    s.stats = Some(stats);
                    s.issues = issues;
                    s.last_change = Some(now);
                }
            }
        }
        drop(feeds);
        for n in news {
            // Never wait for the hunter: a refresh must not stall behind a long retro-hunt.
            // A full queue (a hunter that stopped) or a dropped receiver loses the hunt, said
            // and counted; the indicators still match at ingest.
            if let Err(e) = self.tx.try_send(n) {
                let (reason, n) = match e {
                    mpsc::error::TrySendError::Full(n) => ("the retro-hunt queue is full", n),
                    mpsc::error::TrySendError::Closed(n) => ("nobody receives new indicators", n),
                };
                self.hunts_dropped.inc();
                tracing::warn!(feed = %n.feed, new = n.iocs.len(), reason,
                    "new threat intel indicators not sent to the retro-hunt");
            }
        }
        outcomes
    }
}

impl Drop for IntelManager {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn schedule(manager: Weak<IntelManager>, idx: usize) {
    loop {
        let delay = {
            let Some(m) = manager.upgrade() else { return };
            let delay = m.next_delay(idx);
            let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            m.status.lock()[idx].next_refresh = Some(next);
            delay
        };
        tokio::time::sleep(delay).await;
        let Some(m) = manager.upgrade() else { return };
        m.refresh_feeds(&[idx]).await;
    }
}
