//! Sigma correlation rules over the engine's matches (event_count, value_count, temporal,
//! temporal_ordered, value_sum, value_avg, value_percentile, value_median; group-by, timespan,
//! sliding/tumbling/session windows, aliases, chaining, `generate`).
//!
//! The window state machine is rsigma's `CorrelationEngine`, fed with the matches Sen's own
//! engine computed ([`Correlator::process`]), at the event's own time, so a replay reaches the
//! same state. The state survives restarts: [`Correlator::save`] writes a versioned snapshot
//! (atomically: temporary file, fsync, rename) and [`Correlator::restore`] reads it back; the
//! pipeline saves it on its commit cadence and at shutdown. See ADR 0009 for why the state is
//! snapshotted rather than logged, and how it is partitioned.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rsigma_eval::{
    CorrelationAction, CorrelationConfig, CorrelationEngine, CorrelationEventMode,
    CorrelationSnapshot, ResultBody, TimestampFallback,
};
use sen_core::event::Event;
use serde::{Deserialize, Serialize};

use super::engine::{Hit, RuleInfo, RuleSet, SigmaEngine, level_name};
use super::view::SigmaView;
use crate::check::RuleError;

/// Correlation settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorrelatorConfig {
    /// Open (correlation, group) windows kept; above it the stalest are evicted (counted).
    pub max_state_entries: usize,
    /// Event ids remembered per firing (the alert lists them).
    pub max_events: usize,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        CorrelatorConfig { max_state_entries: 200_000, max_events: 50 }
    }
}

/// A correlation rule fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationHit {
    /// Index into [`Correlator::rules`].
    pub correlation: usize,
    /// The group: (group-by field, value) pairs.
    pub group: Vec<(String, String)>,
    /// The aggregated value that met the condition (count, distinct count, sum, …).
    pub value: f64,
    /// The window, in seconds.
    pub timespan_secs: u64,
    /// Ids of (up to `max_events` of) the events in the window.
    pub event_ids: Vec<String>,
}

/// A correlation rule's description.
#[derive(Debug, Clone, Serialize)]
pub struct CorrelationInfo {
    /// Rule metadata (id, title, level, tags, file).
    pub rule: RuleInfo,
    /// `event_count`, `value_count`, …
    pub kind: String,
    /// Group-by fields.
    pub group_by: Vec<String>,
    /// Every event field the correlation reads: group-by fields, the condition's field(s), and
    /// the fields its aliases map to.
    pub fields: Vec<String>,
    /// Rules it aggregates (ids or names as written).
    pub rules: Vec<String>,
    /// Window in seconds.
    pub timespan_secs: u64,
}

const STATE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    snapshot: CorrelationSnapshot,
}

/// Correlation state and rules.
pub struct Correlator {
    engine: CorrelationEngine,
    info: Vec<CorrelationInfo>,
    by_key: HashMap<String, usize>,
    feeds: HashSet<usize>,
    /// Engine rule → the correlations its matches feed (directly).
    fed_by: HashMap<usize, Vec<usize>>,
    /// Per correlation: whether its group key can be read off an event directly (no aliases).
    plain_groups: Vec<bool>,
    /// (correlation, group values) → epoch second until which it is suppressed after firing.
    quiet_until: HashMap<(usize, Vec<String>), i64>,
    /// Per correlation: the field(s) a `value_count` counts distinct values of.
    distinct: Vec<Option<Vec<String>>>,
    /// (value_count correlation, group values, value) → when that value was last fed.
    fed_at: HashMap<(usize, Vec<String>, String), i64>,
}

impl std::fmt::Debug for Correlator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator").field("rules", &self.info.len()).finish()
    }
}

impl Correlator {
    /// Build from the correlation rules of `set`, over the rules `engine` loaded. A correlation
    /// that names a rule that is not loaded, or fails to compile, is reported and left out.
    pub fn new(
        set: &RuleSet,
        engine: &SigmaEngine,
        cfg: &CorrelatorConfig,
    ) -> (Correlator, Vec<RuleError>) {
        let mut errors = Vec::new();
        let mut ce = CorrelationEngine::new(CorrelationConfig {
            timestamp_fallback: TimestampFallback::Skip,
            max_state_entries: cfg.max_state_entries.max(1),
            action_on_match: CorrelationAction::Alert,
            emit_detections: true,
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: cfg.max_events.max(1),
            // Per-correlation suppression only (set below); 0 keeps rsigma from taking the
            // first rule's value as everyone's default.
            suppress: Some(0),
            ..CorrelationConfig::default()
        });
        use super::engine::DetectionEngine;
        let rules = engine.rules();
        let corr_keys: HashSet<String> = set
            .correlations
            .iter()
            .flat_map(|(c, _)| [c.id.clone(), c.name.clone(), Some(c.title.clone())])
            .flatten()
            .collect();
        let mut feeds = HashSet::new();
        let mut added_rules = HashSet::new();
        let mut info = Vec::new();
        let mut by_key = HashMap::new();
        let mut fed_by: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut plain_groups = Vec::new();
        let mut distinct = Vec::new();
        for (c, file) in &set.correlations {
            let key = c.id.clone().or_else(|| c.name.clone()).unwrap_or_else(|| c.title.clone());
            let mut missing = Vec::new();
            let mut refs = Vec::new();
            for r in &c.rules {
                match engine.find(r) {
                    Some(i) => refs.push(i),
                    None if corr_keys.contains(r) => {}
                    None => missing.push(r.clone()),
                }
            }
            if !missing.is_empty() {
                errors.push(RuleError {
                    file: file.clone(),
                    rule: Some(key),
                    reason: format!(
                        "correlation refers to rules that are not loaded: {}",
                        missing.join(", ")
                    ),
                });
                continue;
            }
            for &i in &refs {
                if added_rules.insert(i) {
                    let (sr, _) = set
                        .rules
                        .iter()
                        .find(|(sr, _)| {
                            sr.id.as_deref() == Some(rules[i].id.as_str())
                                || sr.title == rules[i].title
                        })
                        .expect("engine rules come from the set");
                    if let Err(e) = ce.add_rule(sr) {
                        errors.push(RuleError {
                            file: file.clone(),
                            rule: Some(key.clone()),
                            reason: format!("rule {}: {e}", rules[i].id),
                        });
                    }
                }
            }
            // A correlation fires at most once per group per its timespan (`rsigma.suppress`,
            // unless the rule sets its own): a brute force that goes on for an hour is a few
            // firings that grow one alert, not one firing per failed password.
            let mut c = c.clone();
            if !c.custom_attributes.contains_key("rsigma.suppress") {
                c.custom_attributes.insert(
                    "rsigma.suppress".into(),
                    yaml_serde::Value::String(format!("{}s", c.timespan.seconds.max(1))),
                );
            }
            let c = &c;
            if let Err(e) = ce.add_correlation(c) {
                errors.push(RuleError {
                    file: file.clone(),
                    rule: Some(key),
                    reason: e.to_string(),
                });
                continue;
            }
            let idx = info.len();
            for &r in &refs {
                fed_by.entry(r).or_default().push(idx);
            }
            plain_groups.push(c.aliases.is_empty());
            distinct.push(match (&c.correlation_type, &c.condition) {
                (
                    rsigma_parser::CorrelationType::ValueCount,
                    rsigma_parser::CorrelationCondition::Threshold { field: Some(f), .. },
                ) if c.aliases.is_empty() => Some(f.clone()),
                _ => None,
            });
            feeds.extend(refs);
            for k in [c.id.clone(), c.name.clone(), Some(c.title.clone())].into_iter().flatten() {
                by_key.entry(k).or_insert(idx);
            }
            info.push(CorrelationInfo {
                rule: RuleInfo {
                    id: key,
                    name: c.name.clone(),
                    title: c.title.clone(),
                    level: level_name(c.level),
                    tags: c.tags.clone(),
                    description: c.description.clone(),
                    author: c.author.clone(),
                    product: None,
                    service: None,
                    category: None,
                    file: file.clone(),
                    correlation_only: false,
                },
                kind: c.correlation_type.as_str().to_owned(),
                group_by: c.group_by.clone(),
                fields: {
                    let mut f = c.group_by.clone();
                    if let rsigma_parser::CorrelationCondition::Threshold {
                        field: Some(fs), ..
                    } = &c.condition
                    {
                        f.extend(fs.iter().cloned());
                    }
                    for a in &c.aliases {
                        f.extend(a.mapping.values().cloned());
                    }
                    f.sort();
                    f.dedup();
                    f
                },
                rules: c.rules.clone(),
                timespan_secs: c.timespan.seconds,
            });
        }
        (
            Correlator {
                engine: ce,
                info,
                by_key,
                feeds,
                fed_by,
                plain_groups,
                quiet_until: HashMap::new(),
                distinct,
                fed_at: HashMap::new(),
            },
            errors,
        )
    }

    /// The correlation rules.
    pub fn rules(&self) -> &[CorrelationInfo] {
        &self.info
    }

    /// Whether there is nothing to correlate.
    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }

    /// Whether matches of engine rule `rule` feed a correlation.
    pub fn feeds(&self, rule: usize) -> bool {
        self.feeds.contains(&rule)
    }

    /// Open windows.
    pub fn state_count(&self) -> usize {
        self.engine.state_count()
    }

    /// Feed one event's matches (only those of rules that feed a correlation matter) at the
    /// event's time; returns the correlations that fired.
    ///
    /// A match is not fed when every correlation it feeds is, for the event's group, quiet
    /// (it fired less than one timespan ago) or impossible (the event lacks a group-by field):
    /// feeding it could not make anything fire, and skipping it keeps a flood (a brute force
    /// of thousands of attempts) from growing windows that rsigma re-scans on every event. The
    /// next firing after a quiet period therefore counts the events from its end on.
    pub fn process(&mut self, event: &Event, hits: &[Hit]) -> Vec<CorrelationHit> {
        let view = SigmaView::new(event);
        let ts = event.timestamp.timestamp();
        let mut results = Vec::new();
        for h in hits {
            if self.feeds(h.rule) && self.may_fire(&view, h.rule, ts) {
                results.push(h.result.clone());
            }
        }
        if results.is_empty() {
            return Vec::new();
        }
        let out = self.engine.process_with_detections(&view, results, event.timestamp.timestamp());
        let mut fired = Vec::new();
        for r in out {
            let ResultBody::Correlation(body) = r.body else { continue };
            let idx = r
                .header
                .rule_id
                .as_deref()
                .and_then(|k| self.by_key.get(k))
                .or_else(|| self.by_key.get(&r.header.rule_title))
                .copied();
            let Some(correlation) = idx else { continue };
            // An event that lacks a group-by field belongs to no group: rsigma keeps such events
            // in a group of their own (a missing value); that group never fires here.
            if body.group_key.len() < self.info[correlation].group_by.len() {
                continue;
            }
            // One event matching two rules of one correlation updates it twice; it completes
            // the correlation once.
            if let Some(prev) = fired.iter_mut().find(|f: &&mut CorrelationHit| {
                f.correlation == correlation && f.group == body.group_key
            }) {
                prev.value = body.aggregated_value;
                continue;
            }
            let values: Vec<String> = body.group_key.iter().map(|(_, v)| v.clone()).collect();
            self.quiet_until.insert(
                (correlation, values),
                ts.saturating_add(self.info[correlation].timespan_secs.max(1) as i64),
            );
            fired.push(CorrelationHit {
                correlation,
                group: body.group_key,
                value: body.aggregated_value,
                timespan_secs: body.timespan_secs,
                event_ids: {
                    let mut ids: Vec<String> = Vec::new();
                    for id in body.event_refs.unwrap_or_default().into_iter().filter_map(|e| e.id) {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                    ids
                },
            });
        }
        fired
    }

    /// Drop windows that ended before `now_secs` (epoch seconds).
    pub fn evict(&mut self, now_secs: i64) {
        self.engine.evict_expired(now_secs);
        self.quiet_until.retain(|_, until| *until > now_secs);
        let info = &self.info;
        self.fed_at.retain(|(c, _, _), at| *at + info[*c].timespan_secs as i64 > now_secs);
    }

    /// Whether feeding a match of `rule` on this event could change what a correlation does.
    ///
    /// For a `value_count`, a value the group already holds adds nothing to the distinct
    /// count: it is fed again only when its last feeding is a tenth of the timespan old, so
    /// rsigma's window (which it re-scans on every event) stays about ten entries per distinct
    /// value instead of one per event. A value can therefore leave the window up to a tenth of
    /// the timespan before its last sighting would have.
    fn may_fire(&mut self, view: &SigmaView<'_>, rule: usize, ts: i64) -> bool {
        use rsigma_eval::Event as _;
        let Some(corrs) = self.fed_by.get(&rule) else { return false };
        let mut any = false;
        for &c in corrs {
            if !self.plain_groups[c] {
                any = true;
                continue;
            }
            let mut values = Vec::with_capacity(self.info[c].group_by.len());
            let mut complete = true;
            for f in &self.info[c].group_by {
                match view.get_field(f).as_ref().and_then(group_text) {
                    Some(v) => values.push(v),
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            // No group for this event: the correlation cannot fire on it.
            if !complete {
                continue;
            }
            if self.quiet_until.get(&(c, values.clone())).is_some_and(|until| ts < *until) {
                continue;
            }
            if let Some(fields) = &self.distinct[c] {
                let value: Vec<String> = fields
                    .iter()
                    .map(|f| view.get_field(f).as_ref().and_then(group_text).unwrap_or_default())
                    .collect();
                let key = (c, values, value.join("\u{1f}"));
                let refresh = (self.info[c].timespan_secs as i64 / 10).max(1);
                match self.fed_at.get_mut(&key) {
                    Some(at) if ts >= *at && ts - *at < refresh => continue,
                    Some(at) => *at = ts,
                    None => {
                        self.fed_at.insert(key, ts);
                    }
                }
            }
            any = true;
        }
        any
    }

    /// Write the state to `path` atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let state = StateFile { version: STATE_VERSION, snapshot: self.engine.export_state() };
        let tmp = path.with_extension("tmp");
        {
            let f = std::fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
            serde_json::to_writer(&mut w, &state).map_err(std::io::Error::other)?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// Read the state saved at `path`. `Ok(false)`: there is none. An unreadable, corrupt or
    /// other-version file is an error (the caller starts empty and says so).
    pub fn restore(&mut self, path: &Path) -> Result<bool, String> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let state: StateFile = serde_json::from_slice(&text)
            .map_err(|e| format!("{}: corrupt correlation state: {e}", path.display()))?;
        if state.version != STATE_VERSION {
            return Err(format!(
                "{}: correlation state version {} (this build reads {STATE_VERSION})",
                path.display(),
                state.version
            ));
        }
        if !self.engine.import_state(state.snapshot) {
            return Err(format!(
                "{}: correlation state does not fit the loaded rules",
                path.display()
            ));
        }
        Ok(true)
    }
}

/// A group value as rsigma writes it (text, integer, float, boolean).
fn group_text(v: &rsigma_eval::EventValue<'_>) -> Option<String> {
    use rsigma_eval::EventValue;
    match v {
        EventValue::Str(s) => Some(s.to_string()),
        EventValue::Int(n) => Some(n.to_string()),
        EventValue::Float(f) => Some(f.to_string()),
        EventValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
