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
use std::io::Write;
use std::path::Path;

use rsigma_eval::{
    CorrelationAction, CorrelationConfig, CorrelationEngine, CorrelationEventMode,
    CorrelationSnapshot, ResultBody, TimestampFallback,
};
use sen_core::event::Event;
use serde::{Deserialize, Serialize};

use super::engine::{Hit, RuleInfo, RuleSet, SigmaEngine};
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
            feeds.extend(refs);
            let idx = info.len();
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
        (Correlator { engine: ce, info, by_key, feeds }, errors)
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
    pub fn process(&mut self, event: &Event, hits: &[Hit]) -> Vec<CorrelationHit> {
        let results: Vec<_> =
            hits.iter().filter(|h| self.feeds(h.rule)).map(|h| h.result.clone()).collect();
        if results.is_empty() {
            return Vec::new();
        }
        let view = SigmaView::new(event);
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
    }

    /// Write the state to `path` atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let state = StateFile { version: STATE_VERSION, snapshot: self.engine.export_state() };
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            serde_json::to_writer(&mut f, &state).map_err(std::io::Error::other)?;
            f.flush()?;
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

fn level_name(l: Option<rsigma_parser::Level>) -> String {
    use rsigma_parser::Level;
    match l {
        Some(Level::Informational) => "informational",
        Some(Level::Low) => "low",
        Some(Level::Medium) | None => "medium",
        Some(Level::High) => "high",
        Some(Level::Critical) => "critical",
    }
    .to_owned()
}
