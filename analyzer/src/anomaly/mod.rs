//! Anomaly detection: per-entity baselines with explainable findings.
//!
//! An [`AnomalyDetector`] watches every event and learns, per entity, what is usual. Three
//! detectors, each a list of rules (see [`AnomalyConfig`] for every knob and its default):
//!
//! - **First seen** ([`FirstSeenConfig`]): per entity, the values of some fields seen so far. A
//!   value the entity never showed raises a finding: a user logging in from a new country
//!   (`source.geo.country_iso_code`) or network (`source.as.number`), a new user logging in to a
//!   host, a new parent → child process pair on a host.
//! - **Rare** ([`RareConfig`]): per host (or organization), decayed counts of a categorical
//!   field. A value seen fewer than `min_count` times in the baseline window, and making less
//!   than `max_share` of the scope's events, raises a finding: a rare `event.action`, a process
//!   rarely started on that host.
//! - **Volume** ([`VolumeConfig`]): per host and category, events per bucket (one minute) of
//!   event time, with an exponentially weighted mean and variance. A bucket far above the mean
//!   (`z` standard deviations), above an absolute minimum and above the recent peak raises one
//!   finding as soon as its count crosses the line.
//!
//! # Findings
//!
//! Each finding is a [`Detection`] of a [`RuleMeta`] with kind [`DetectionKind::Anomaly`], id
//! `anomaly:<detector>:<rule name>`, level low unless configured, tags `anomaly`,
//! `anomaly.<detector>` and the rule's own, and `group_by` the rule's entity fields, so the
//! [`AlertGrouper`](crate::alerts::AlertGrouper) folds repeats about one entity into one alert.
//! The detection captures the entity fields, the value fields and `organization.id`, and says
//! why it fired:
//!
//! - [`MatchedEvent::reason`](crate::alerts::MatchedEvent::reason), one sentence, for instance
//!   `user.name=alice: new source.geo.country_iso_code RU, not seen in 14 days of baseline (31
//!   events); seen before: VN (28), SG (3)` or `host.name=web-01 event.category=web: 100 events
//!   in the 1m bucket from 2026-11-04 00:00:00 UTC (so far), expected 10.0 ± 3.2 (z = 28.5,
//!   line at 100); busiest bucket lately 10`;
//! - structured fields under `sen.anomaly.*` in the captured fields ([`paths`]): detector,
//!   rule, value, and the baseline figures (entity age and events, values seen before; count,
//!   total and share; observed, expected, σ, z, line, peak, bucket).
//!
//! # Learning and time
//!
//! Nothing fires while an entity is learning: an entity (or scope, or series) first seen less
//! than its detector's `learning_period` ago, or with fewer events (closed buckets) than its
//! minimum, only learns. Would-be findings during learning are counted
//! ([`DetectorStats::learning`]). Learning is per entity, so a detector started today learns
//! everything for a week, and a user first seen next month learns for its own week.
//!
//! The caller's clock `now` drives learning, forgetting, decay and eviction; pass the event
//! time for replayable results, or processing time (then a backfill of old logs builds the
//! baseline without raising findings about the past). The volume detector buckets by event
//! time, because counts per minute must not depend on ingest delays: an event stamped more
//! than one bucket after `now` is counted at `now` (`volume_future_clamped`); an event older
//! than its series' current bucket is counted in the current bucket when it is at most
//! `max_lateness` late, and otherwise not counted (`volume_late_dropped`), since its bucket
//! is closed. A series' buckets advance with its own events; buckets with no events count as
//! zeros when the next event closes them.
//!
//! # Keys and memory
//!
//! Entity and value keys are 64-bit xxh3 hashes of the values' text, ASCII case folded, with
//! `organization.id` always part of an entity key, so tenants never share a baseline. The
//! common path builds no `String`: fields are looked up once per event and hashed in place.
//! Text is stored only for baseline values (for explanations), cut to
//! [`MAX_VALUE_TEXT_BYTES`].
//!
//! Memory is bounded per rule: `max_entities` / `max_scopes` / `max_series` entries, and
//! `max_values` values per entry. At an entry cap the stalest 1/32 of the entries (by last
//! event) are evicted in one pass; an evicted entity learns again from scratch, so it stays
//! silent for a learning period rather than firing on everything (counted in
//! [`DetectorStats::evicted`]). First-seen values at the cap evict the least used, oldest
//! value. The rare detector keeps exact decayed counts in a capped map rather than a
//! count-min sketch: exact counts give exact figures for explanations and the top values,
//! cost memory only for values that occur, and at the cap a Space-Saving replacement
//! keeps the error one-sided (a value is never called rarer than it may be; see
//! [`RareConfig::max_values`]), whereas a sketch needs its fixed memory for every scope, even
//! one with five values, and cannot name the common values an explanation shows.
//!
//! # State
//!
//! [`AnomalyDetector::snapshot`] gives the learned state ([`AnomalyState`], serde) and
//! [`AnomalyDetector::restore`] loads it back; [`AnomalyDetector::save`] /
//! [`AnomalyDetector::load`] do it through a versioned, checksummed file: `SENANOM\0`, the
//! format version ([`STATE_VERSION`], u32 LE), the payload length (u64 LE), its CRC-32C (u32
//! LE), then the state in postcard. It is written to a temporary file beside the target,
//! synced, renamed over the target and the directory synced, so a crash leaves the old file or
//! the new one. A file with another magic, version, length or checksum is refused with a
//! [`StateFileError`] naming the file and the reason, moved aside (`<name>.corrupt`) and
//! counted; the detector starts with empty baselines and learns again. A rule's state is
//! restored only into a rule of the same name and the same key fields (other rules start
//! fresh). Feeding the same events with the same `now` to a restored detector gives the same
//! findings as to the original.
//!
//! Events with `event.kind: alert` (alert documents) are not observed.

mod config;
mod fields;
mod first_seen;
mod rare;
mod state;
mod volume;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sen_core::event::Event;
use serde::{Deserialize, Serialize};

pub use config::{
    AnomalyConfig, Conditions, FirstSeenConfig, FirstSeenRule, MAX_PERIOD, MAX_RULE_FIELDS,
    MAX_RULES, OneOrMany, RareConfig, RareRule, VolumeConfig, VolumeRule,
};
pub use state::{
    AnomalyState, LoadOutcome, RestoreSummary, STATE_VERSION, StateFileError, read_state_file,
    write_state_file,
};

use crate::alerts::{Detection, DetectionKind, Level, RuleMeta};
use fields::{EventFields, FieldTable, Filter, Pattern};

/// Longest baseline value text kept (for explanations), in bytes.
pub const MAX_VALUE_TEXT_BYTES: usize = 128;

/// Paths of the structured explanation fields a finding adds to its captured fields.
pub mod paths {
    /// `first_seen`, `rare` or `volume`.
    pub const DETECTOR: &str = "sen.anomaly.detector";
    /// Rule name.
    pub const RULE: &str = "sen.anomaly.rule";
    /// The new or rare value (fields joined by ` → `), or the volume series' category.
    pub const VALUE: &str = "sen.anomaly.value";
    /// First seen: how long the entity has been watched, in seconds.
    pub const BASELINE_SECONDS: &str = "sen.anomaly.baseline.seconds";
    /// First seen: the entity's events before this one; rare: the scope's events.
    pub const BASELINE_EVENTS: &str = "sen.anomaly.baseline.events";
    /// First seen: values seen before, most used first, with counts (`VN (212), SG (3)`);
    /// rare: the scope's most common values with shares.
    pub const BASELINE_VALUES: &str = "sen.anomaly.baseline.values";
    /// First seen: distinct values seen before; rare: distinct values tracked.
    pub const BASELINE_DISTINCT: &str = "sen.anomaly.baseline.distinct";
    /// Rare: the value's decayed count before this event.
    pub const COUNT: &str = "sen.anomaly.count";
    /// Rare: the scope's decayed event total before this event.
    pub const TOTAL: &str = "sen.anomaly.total";
    /// Rare: the value's share of the total (0–1).
    pub const SHARE: &str = "sen.anomaly.share";
    /// Volume: events in the bucket when the finding was raised.
    pub const OBSERVED: &str = "sen.anomaly.observed";
    /// Volume: the weighted mean of earlier buckets.
    pub const EXPECTED: &str = "sen.anomaly.expected";
    /// Volume: the standard deviation used (at least √mean and 1).
    pub const STDDEV: &str = "sen.anomaly.stddev";
    /// Volume: (observed − expected) / σ.
    pub const Z: &str = "sen.anomaly.z";
    /// Volume: the count that had to be reached.
    pub const THRESHOLD: &str = "sen.anomaly.threshold";
    /// Volume: the decayed peak of earlier buckets.
    pub const PEAK: &str = "sen.anomaly.peak";
    /// Volume: start of the bucket (RFC 3339).
    pub const BUCKET_START: &str = "sen.anomaly.bucket_start";
    /// Volume: bucket length in seconds.
    pub const BUCKET_SECONDS: &str = "sen.anomaly.bucket_seconds";
}

/// Errors of the anomaly detector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnomalyError {
    /// The configuration has problems (each names its place).
    #[error("invalid anomaly configuration: {}", .0.join("; "))]
    InvalidConfig(Vec<String>),
    /// A state of another format version.
    #[error("anomaly state version {found} is not supported (this sen reads version {expected})")]
    StateVersion {
        /// The state's version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
}

/// Counters of one detector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorStats {
    /// Findings raised.
    pub findings: u64,
    /// Would-be findings not raised because the entity was still learning.
    pub learning: u64,
    /// Entities (scopes, series) held now, over all rules.
    pub entries: u64,
    /// Entities evicted at the cap (they learn again when seen).
    pub evicted: u64,
    /// Values evicted from an entity at its value cap.
    pub values_evicted: u64,
}

/// Counters of an [`AnomalyDetector`] since it was created (not part of its state).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnomalyStats {
    /// Events observed.
    pub events: u64,
    /// Alert documents passed in and ignored.
    pub skipped_alerts: u64,
    /// The first-seen detector.
    pub first_seen: DetectorStats,
    /// The rare detector.
    pub rare: DetectorStats,
    /// The volume detector.
    pub volume: DetectorStats,
    /// Events older than `max_lateness` behind their series, not counted.
    pub volume_late_dropped: u64,
    /// Events stamped more than a bucket after `now`, counted at `now`.
    pub volume_future_clamped: u64,
    /// Entries loaded by [`AnomalyDetector::restore`].
    pub restored_entries: u64,
    /// Rule states dropped by `restore` (no rule of that name and key fields).
    pub restore_dropped_rules: u64,
    /// State files that could not be read ([`AnomalyDetector::load`]).
    pub state_file_errors: u64,
}

/// The anomaly detector: observes events, keeps per-entity baselines, emits findings.
///
/// Synchronous and free of I/O on the event path: the caller passes the time and owns the
/// output buffer. See the [module docs](self).
#[derive(Debug)]
pub struct AnomalyDetector {
    enabled: bool,
    table: FieldTable,
    kind_slot: usize,
    first_seen: Vec<first_seen::Rule>,
    rare: Vec<rare::Rule>,
    volume: volume::Detector,
    stats: AnomalyStats,
}

impl AnomalyDetector {
    /// A detector with empty baselines; fails when the configuration does not validate.
    pub fn new(cfg: AnomalyConfig) -> Result<AnomalyDetector, AnomalyError> {
        cfg.validate()?;
        let mut table = FieldTable::default();
        let kind_slot = table.slot("event.kind");
        let on = cfg.enabled;
        let first_seen = if on && cfg.first_seen.enabled {
            cfg.first_seen
                .rules
                .iter()
                .filter(|r| r.enabled)
                .map(|r| first_seen::Rule::new(r, &cfg.first_seen, &mut table))
                .collect()
        } else {
            Vec::new()
        };
        let rare = if on && cfg.rare.enabled {
            cfg.rare
                .rules
                .iter()
                .filter(|r| r.enabled)
                .map(|r| rare::Rule::new(r, &cfg.rare, &mut table))
                .collect()
        } else {
            Vec::new()
        };
        let volume = volume::Detector::new(&cfg.volume, on && cfg.volume.enabled, &mut table);
        Ok(AnomalyDetector {
            enabled: on,
            table,
            kind_slot,
            first_seen,
            rare,
            volume,
            stats: AnomalyStats::default(),
        })
    }

    /// Observe one event at the caller's time `now`; findings are appended to `out`.
    pub fn observe(&mut self, event: &Event, now: DateTime<Utc>, out: &mut Vec<Detection>) {
        if !self.enabled {
            return;
        }
        let mut f = EventFields::new(event, &self.table);
        if f.get(self.kind_slot).is_some_and(|k| fields::with_text(k, |t| t == "alert")) {
            self.stats.skipped_alerts += 1;
            return;
        }
        self.stats.events += 1;
        let now_s = now.timestamp();
        for r in &mut self.first_seen {
            r.observe(&mut f, now_s, &mut self.stats.first_seen, out);
        }
        for r in &mut self.rare {
            r.observe(&mut f, now_s, &mut self.stats, out);
        }
        self.volume.observe(&mut f, now, &mut self.stats, out);
    }

    /// Counters, with the current number of entries per detector.
    pub fn stats(&self) -> AnomalyStats {
        let mut s = self.stats;
        s.first_seen.entries = self.first_seen.iter().map(|r| r.len() as u64).sum();
        s.rare.entries = self.rare.iter().map(|r| r.len() as u64).sum();
        s.volume.entries = self.volume.len() as u64;
        s
    }

    /// The ids of the active rules (`anomaly:first_seen:login-country` …).
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> =
            self.first_seen.iter().map(|r| r.common.meta.id.as_str()).collect();
        ids.extend(self.rare.iter().map(|r| r.common.meta.id.as_str()));
        ids.extend(self.volume.rule_ids());
        ids
    }
}

/// What every rule has: its metadata, name, filter and state signature.
#[derive(Debug)]
pub(crate) struct RuleCommon {
    pub(crate) meta: Arc<RuleMeta>,
    pub(crate) name: String,
    pub(crate) filter: Filter,
    /// Hash of the detector, name and key fields: state is restored only into the same.
    pub(crate) signature: u64,
}

impl RuleCommon {
    pub(crate) fn new(
        detector: &str,
        name: &str,
        title: &str,
        level: Level,
        tags: &[String],
        group_by: Vec<String>,
        key_fields: &[&[String]],
        when: &Conditions,
        unless: &Conditions,
        table: &mut FieldTable,
    ) -> RuleCommon {
        let mut all_tags = vec!["anomaly".to_owned(), format!("anomaly.{detector}")];
        for t in tags {
            if !all_tags.contains(t) {
                all_tags.push(t.clone());
            }
        }
        let meta = Arc::new(RuleMeta {
            id: format!("anomaly:{detector}:{name}"),
            title: title.to_owned(),
            level,
            tags: all_tags,
            group_by: Some(group_by),
            kind: DetectionKind::Anomaly,
            author: None,
        });
        let mut sig = fields::hash_bytes(detector.as_bytes(), 0);
        sig = fields::combine(sig, fields::hash_bytes(name.as_bytes(), 1));
        for (i, list) in key_fields.iter().enumerate() {
            sig = fields::combine(sig, 0x1000 + i as u64);
            for f in *list {
                sig = fields::combine(sig, fields::hash_bytes(f.as_bytes(), 2));
            }
        }
        let conds = |c: &Conditions, table: &mut FieldTable| -> Vec<usize> {
            c.iter()
                .map(|(field, pats)| {
                    let slot = table.slot(field);
                    // Validated by `AnomalyConfig::validate`.
                    let patterns =
                        pats.as_slice().iter().filter_map(|p| Pattern::parse(p).ok()).collect();
                    table.condition(slot, patterns)
                })
                .collect()
        };
        let filter = Filter { when: conds(when, table), unless: conds(unless, table) };
        RuleCommon { meta, name: name.to_owned(), filter, signature: sig }
    }
}

/// Map keyed by a hash that is already well mixed (xxh3): the hasher passes it through.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Pass-through hasher for [`IdMap`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `u64` keys; mix anything else in properly.
        self.0 = fields::hash_bytes(bytes, self.0);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Make room for one more entry in a map at its cap: evict the stalest 1/32 of the entries
/// (at least one) by `last`, ties broken by key. Returns how many were evicted.
pub(crate) fn make_room<V>(map: &mut IdMap<V>, cap: usize, last: impl Fn(&V) -> i64) -> u64 {
    if map.len() < cap {
        return 0;
    }
    let excess = map.len() + 1 - cap;
    let n = excess.max(cap / 32).max(1).min(map.len());
    let mut order: Vec<(i64, u64)> = map.iter().map(|(k, v)| (last(v), *k)).collect();
    if n < order.len() {
        order.select_nth_unstable(n - 1);
    }
    for (_, k) in &order[..n] {
        map.remove(k);
    }
    n as u64
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// `12,040`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `14 days`, `5 hours`, `12 minutes`, `40 seconds`.
pub(crate) fn span(secs: i64) -> String {
    let secs = secs.max(0);
    let (n, unit) = if secs >= 2 * 86_400 {
        (secs / 86_400, "day")
    } else if secs >= 2 * 3600 {
        (secs / 3600, "hour")
    } else if secs >= 120 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `field=value` pairs of an entity from the event (`organization <id>` when there are no
/// entity fields).
pub(crate) fn describe_entity(f: &mut EventFields<'_, '_>, slots: &[usize]) -> String {
    let mut parts = Vec::with_capacity(slots.len());
    for &s in slots {
        let v = f.text(s).unwrap_or_default();
        parts.push(format!("{}={}", f.table().path(s), cut(v, MAX_VALUE_TEXT_BYTES)));
    }
    if parts.is_empty() {
        match &f.event().organization {
            Some(org) => format!("organization {}", cut(org.clone(), MAX_VALUE_TEXT_BYTES)),
            None => "all events".to_owned(),
        }
    } else {
        parts.join(" ")
    }
}

/// The value text of a tuple of slots (`winword.exe → powershell.exe`).
pub(crate) fn tuple_text(f: &mut EventFields<'_, '_>, slots: &[usize]) -> String {
    let parts: Vec<String> = slots.iter().map(|&s| f.text(s).unwrap_or_default()).collect();
    cut(parts.join(" → "), MAX_VALUE_TEXT_BYTES)
}

/// Whole seconds of a duration, saturating.
pub(crate) fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// A finding: a detection of `meta` on the event, capturing `extra` fields, with the
/// explanation sentence and structured fields.
pub(crate) fn finding(
    meta: &Arc<RuleMeta>,
    f: &EventFields<'_, '_>,
    extra: &[&str],
    reason: String,
    structured: Vec<(&'static str, String)>,
) -> Detection {
    let mut d = Detection::new(Arc::clone(meta), f.event(), extra.iter().copied());
    for (k, v) in structured {
        d.event.fields.insert(k.to_owned(), v);
    }
    d.event.reason = Some(reason);
    d
}

#[cfg(test)]
mod tests;
