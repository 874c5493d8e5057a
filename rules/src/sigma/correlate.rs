//! Sigma correlation rules over the engine's matches (event_count, value_count, temporal,
//! temporal_ordered, value_sum, value_avg, value_percentile, value_median; group-by, timespan,
//! sliding/tumbling/session windows, aliases, chaining, `generate`).
//!
//! The window state machine is rsigma's `CorrelationEngine`, fed with the matches Sen's own
//! engine computed, at the event's own time, so a replay reaches the same state.
//!
//! # Partitions
//! The state is split into [`CorrelatorConfig::partitions`] partitions. A correlation with a
//! plain `group-by` (no aliases, no chaining) keeps each group in the partition a stable hash
//! of (correlation id, group values) picks, so one busy correlation spreads over all of them;
//! a chain of correlations (or one with aliases, whose group key is only known after rsigma
//! resolved it) lives whole in one partition, picked by a hash of its id. Every partition owns
//! its own rsigma engines (one per chain) and Sen's flood bookkeeping, so partitions share
//! nothing: [`Correlator::process_batch`] runs them on several threads when a batch is large,
//! and each keeps its events in order. The partition of every piece of state is computed from
//! the state itself, so a snapshot taken with one partition count restores into another (the
//! state is split or merged as it is read), which is what handing partitions to other
//! analyzer instances needs.
//!
//! # Surviving restarts
//! [`Correlator::save`] writes a versioned snapshot of every partition, with the input
//! positions it includes (the pipeline passes the bus offsets of the last event it fed);
//! atomically: temporary file, fsync, rename. [`Correlator::restore`] reads it back (into any
//! partition count) and returns those positions, from which the pipeline replays the input to
//! bring the state up to date: after a crash nothing the snapshot missed is lost. See ADR 0009
//! and ADR 0012.

use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// Open (correlation, group) windows kept per correlation chain; above it the stalest are
    /// evicted (rsigma drops the oldest tenth; counted). Split evenly over the partitions.
    pub max_state_entries: usize,
    /// Event ids remembered per firing (the alert lists them).
    pub max_events: usize,
    /// State partitions (1–256): see the module docs. Any value reads any snapshot.
    pub partitions: usize,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        CorrelatorConfig { max_state_entries: 200_000, max_events: 50, partitions: 4 }
    }
}

/// Highest partition count accepted.
pub const MAX_PARTITIONS: usize = 256;

/// Below this many routed matches in a batch, partitions run one after the other (threads
/// cost more than they save).
const PARALLEL_MIN: usize = 512;

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

/// What [`Correlator::restore`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Open windows restored.
    pub windows: usize,
    /// Pieces of state of correlations that are no longer loaded (dropped).
    pub dropped: usize,
    /// Partitions the snapshot was written with (it was re-split when this differs from the
    /// running count).
    pub saved_partitions: usize,
    /// Input positions the snapshot includes (partition → next offset), when it recorded them.
    pub positions: Option<BTreeMap<u32, u64>>,
}

const STATE_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    /// Version 2: the partition count it was written with.
    #[serde(default)]
    partitions: usize,
    /// Version 2: input positions included.
    #[serde(default)]
    positions: Option<BTreeMap<u32, u64>>,
    /// Version 2: one entry per partition.
    #[serde(default)]
    shards: Vec<ShardState>,
    /// Version 1: the one unpartitioned snapshot.
    #[serde(default)]
    snapshot: Option<CorrelationSnapshot>,
}

#[derive(Serialize, Deserialize)]
struct ShardState {
    partition: usize,
    snapshot: CorrelationSnapshot,
    /// (correlation id, group values, quiet until, matches fed while quiet).
    #[serde(default)]
    quiet: Vec<(String, Vec<String>, i64, u32)>,
    /// (correlation id, group values, distinct value, last fed).
    #[serde(default)]
    fed: Vec<(String, Vec<String>, String, i64)>,
}

/// A set of correlations that must share one rsigma engine: a correlation and those chained to
/// it.
#[derive(Debug)]
struct Component {
    /// Correlation indices, in load order.
    corrs: Vec<usize>,
    /// Partitioned by group key (one correlation, plain group-by); otherwise it lives whole in
    /// `home`.
    by_group: bool,
    home: usize,
}

/// What does not change after loading; shared by all partitions.
struct Meta {
    /// Per correlation; `rule.id` is its stable id (id, else name, else title), rsigma's
    /// snapshot key.
    info: Vec<CorrelationInfo>,
    by_key: HashMap<String, usize>,
    /// Engine rule → the correlations its matches feed (directly).
    fed_by: HashMap<usize, Vec<usize>>,
    /// Engine rule feeding a correlation → rsigma's result holding its header, for matches
    /// that carry none (the alerting path's, [`SigmaEngine::evaluate_for_alerts`]).
    headers: HashMap<usize, rsigma_eval::EvaluationResult>,
    /// Per correlation: whether its group key can be read off an event directly (no aliases).
    plain_groups: Vec<bool>,
    /// Per correlation: the field(s) a `value_count` counts distinct values of.
    distinct: Vec<Option<Vec<String>>>,
    /// Per correlation: matches per group fed during a quiet period.
    quiet_cap: Vec<u32>,
    components: Vec<Component>,
    comp_of: Vec<usize>,
    partitions: usize,
}

/// A group of a correlation that fired: rsigma will not fire it again before `until`.
#[derive(Debug, Clone, Copy)]
struct Quiet {
    /// Epoch second at which the quiet period ends.
    until: i64,
    /// Matches fed during it.
    fed: u32,
}

/// During a quiet period, a group's matches are fed to rsigma up to twice the correlation's
/// threshold, within these bounds; above it (a flood) they are counted but not fed. See
/// [`Correlator::process_batch`].
const QUIET_FEED_MIN: u64 = 100;
const QUIET_FEED_MAX: u64 = 10_000;

/// One partition's state for one component.
struct Shard {
    comp: usize,
    engine: CorrelationEngine,
    /// (correlation, group values) → the quiet period after it fired.
    quiet: HashMap<(usize, Vec<String>), Quiet>,
    /// (value_count correlation, group values, value) → when that value was last fed.
    fed_at: HashMap<(usize, Vec<String>, String), i64>,
}

/// Correlation state and rules.
pub struct Correlator {
    meta: Meta,
    /// Component-major: `shards[comp * partitions + partition]`.
    shards: Vec<Shard>,
}

impl std::fmt::Debug for Correlator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("rules", &self.meta.info.len())
            .field("partitions", &self.meta.partitions)
            .finish()
    }
}

fn engine_config(cfg: &CorrelatorConfig, max_state_entries: usize) -> CorrelationConfig {
    CorrelationConfig {
        timestamp_fallback: TimestampFallback::Skip,
        max_state_entries: max_state_entries.max(1),
        action_on_match: CorrelationAction::Alert,
        emit_detections: true,
        correlation_event_mode: CorrelationEventMode::Refs,
        max_correlation_events: cfg.max_events.max(1),
        // Per-correlation suppression only (set on each rule); 0 keeps rsigma from taking the
        // first rule's value as everyone's default.
        suppress: Some(0),
        ..CorrelationConfig::default()
    }
}

/// The partition of a group of a correlation: a stable hash (the same in every build and
/// process) of its id and group values.
fn group_partition(stable_id: &str, values: &[&str], partitions: usize) -> usize {
    let mut buf = Vec::with_capacity(64);
    buf.extend_from_slice(stable_id.as_bytes());
    for v in values {
        buf.push(0xff);
        buf.extend_from_slice(v.as_bytes());
    }
    (xxhash_rust::xxh3::xxh3_64(&buf) % partitions as u64) as usize
}

fn find_root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

impl Correlator {
    /// Build from the correlation rules of `set`, over the rules `engine` loaded. A correlation
    /// that names a rule that is not loaded, or fails to compile, is reported and left out.
    pub fn new(
        set: &RuleSet,
        engine: &SigmaEngine,
        cfg: &CorrelatorConfig,
    ) -> (Correlator, Vec<RuleError>) {
        let partitions = cfg.partitions.clamp(1, MAX_PARTITIONS);
        let mut errors = Vec::new();
        // A probe engine with everything: it reports each rule's errors once; the partitions'
        // engines are built afterwards from what it accepted.
        let mut probe = CorrelationEngine::new(engine_config(cfg, cfg.max_state_entries));
        use super::engine::DetectionEngine;
        let rules = engine.rules();
        let corr_keys: HashSet<String> = set
            .correlations
            .iter()
            .flat_map(|(c, _)| [c.id.clone(), c.name.clone(), Some(c.title.clone())])
            .flatten()
            .collect();
        let source_rule = |i: usize| {
            set.rules
                .iter()
                .find(|(sr, _)| {
                    sr.id.as_deref() == Some(rules[i].id.as_str()) || sr.title == rules[i].title
                })
                .map(|(sr, _)| sr)
                .expect("engine rules come from the set")
        };
        let mut added_rules = HashSet::new();
        let mut info = Vec::new();
        let mut by_key = HashMap::new();
        let mut fed_by: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut plain_groups = Vec::new();
        let mut distinct = Vec::new();
        let mut quiet_cap = Vec::new();
        // Per accepted correlation: the rule as added (with its suppression), the engine rules
        // it reads and the correlations it chains on (as written).
        let mut accepted: Vec<(rsigma_parser::CorrelationRule, Vec<usize>, Vec<String>)> =
            Vec::new();
        for (c, file) in &set.correlations {
            let key = c.id.clone().or_else(|| c.name.clone()).unwrap_or_else(|| c.title.clone());
            let mut missing = Vec::new();
            let mut refs = Vec::new();
            let mut chained = Vec::new();
            for r in &c.rules {
                match engine.find(r) {
                    Some(i) => refs.push(i),
                    None if corr_keys.contains(r) => chained.push(r.clone()),
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
                if added_rules.insert(i)
                    && let Err(e) = probe.add_rule(source_rule(i))
                {
                    errors.push(RuleError {
                        file: file.clone(),
                        rule: Some(key.clone()),
                        reason: format!("rule {}: {e}", rules[i].id),
                    });
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
            if let Err(e) = probe.add_correlation(&c) {
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
            quiet_cap.push(match &c.condition {
                rsigma_parser::CorrelationCondition::Threshold { predicates, .. } => {
                    let most = predicates.iter().map(|(_, v)| *v).max().unwrap_or(0);
                    most.saturating_mul(2).clamp(QUIET_FEED_MIN, QUIET_FEED_MAX) as u32
                }
                rsigma_parser::CorrelationCondition::Extended(_) => QUIET_FEED_MIN as u32,
            });
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
            accepted.push((c, refs, chained));
        }
        drop(probe);

        // Components: correlations joined by chaining share an engine.
        let n = accepted.len();
        let mut parent: Vec<usize> = (0..n).collect();
        for (i, (_, _, chained)) in accepted.iter().enumerate() {
            for name in chained {
                if let Some(&j) = by_key.get(name) {
                    let (a, b) = (find_root(&mut parent, i), find_root(&mut parent, j));
                    parent[a] = b;
                }
            }
        }
        let mut components: Vec<Component> = Vec::new();
        let mut root_comp: HashMap<usize, usize> = HashMap::new();
        let mut comp_of = vec![0; n];
        for (i, slot) in comp_of.iter_mut().enumerate() {
            let root = find_root(&mut parent, i);
            let comp = *root_comp.entry(root).or_insert_with(|| {
                components.push(Component { corrs: Vec::new(), by_group: false, home: 0 });
                components.len() - 1
            });
            components[comp].corrs.push(i);
            *slot = comp;
        }
        for comp in &mut components {
            let first = comp.corrs[0];
            comp.by_group = comp.corrs.len() == 1
                && plain_groups[first]
                && accepted[first].2.is_empty()
                && !info[first].group_by.is_empty();
            comp.home = group_partition(&info[first].rule.id, &[], partitions);
        }
        // Each partition's engine for each component: only that component's rules.
        let per_engine_cap = cfg.max_state_entries.div_ceil(partitions).max(1);
        let mut shards = Vec::with_capacity(components.len() * partitions);
        for (ci, comp) in components.iter().enumerate() {
            for _ in 0..partitions {
                let mut ce = CorrelationEngine::new(engine_config(cfg, per_engine_cap));
                let mut seen = HashSet::new();
                for &c in &comp.corrs {
                    for &r in &accepted[c].1 {
                        if seen.insert(r) {
                            // Accepted by the probe already.
                            let _ = ce.add_rule(source_rule(r));
                        }
                    }
                }
                for &c in &comp.corrs {
                    let _ = ce.add_correlation(&accepted[c].0);
                }
                shards.push(Shard {
                    comp: ci,
                    engine: ce,
                    quiet: HashMap::new(),
                    fed_at: HashMap::new(),
                });
            }
        }
        let headers = fed_by.keys().map(|&r| (r, engine.header_of(r))).collect();
        (
            Correlator {
                meta: Meta {
                    info,
                    by_key,
                    headers,
                    fed_by,
                    plain_groups,
                    distinct,
                    quiet_cap,
                    components,
                    comp_of,
                    partitions,
                },
                shards,
            },
            errors,
        )
    }

    /// The correlation rules.
    pub fn rules(&self) -> &[CorrelationInfo] {
        &self.meta.info
    }

    /// Whether there is nothing to correlate.
    pub fn is_empty(&self) -> bool {
        self.meta.info.is_empty()
    }

    /// Whether matches of engine rule `rule` feed a correlation.
    pub fn feeds(&self, rule: usize) -> bool {
        self.meta.fed_by.contains_key(&rule)
    }

    /// State partitions.
    pub fn partitions(&self) -> usize {
        self.meta.partitions
    }

    /// Open windows.
    pub fn state_count(&self) -> usize {
        self.shards.iter().map(|s| s.engine.state_count()).sum()
    }

    /// Open windows per partition.
    pub fn partition_state_counts(&self) -> Vec<usize> {
        let mut out = vec![0; self.meta.partitions];
        for (i, s) in self.shards.iter().enumerate() {
            out[i % self.meta.partitions] += s.engine.state_count();
        }
        out
    }

    /// Feed one event's matches (only those of rules that feed a correlation matter) at the
    /// event's time; returns the correlations that fired.
    pub fn process(&mut self, event: &Event, hits: &[Hit]) -> Vec<CorrelationHit> {
        self.process_batch(&[(event, hits)]).into_iter().map(|(_, h)| h).collect()
    }

    /// Feed a batch of events' matches, in order; returns the correlations that fired, each
    /// with the index of the input that made it fire, in input order. Partitions run in
    /// parallel when the batch is large; each sees its own inputs in order.
    ///
    /// Floods are kept cheap without changing what fires, but for two documented bounds:
    /// * a match is not fed when the event lacks a group-by field of every correlation it
    ///   feeds (it belongs to no group and cannot fire anything);
    /// * after a group fired, rsigma keeps it quiet for one timespan; during that period its
    ///   matches are fed up to a cap (twice the correlation's threshold, at least 100 and at
    ///   most 10,000) and then skipped, so a flood of thousands of attempts does not grow a
    ///   window without use. A group with fewer matches than the cap during the quiet period
    ///   fires again exactly when it would have. Above the cap, the unfed matches are the
    ///   late ones: while the flood goes on, the first post-quiet match still sees enough fed
    ///   ones and fires on time; a flood that pauses and resumes can fire later than it
    ///   would have (up to N / R seconds for a threshold N at R matches per second once it
    ///   resumes);
    /// * for a `value_count`, a value the group already holds adds nothing to the distinct
    ///   count: it is fed again only when its last feeding is a tenth of the timespan old (see
    ///   `may_fire`), except for the first match after a quiet period, which is always fed so
    ///   the correlation is evaluated then.
    pub fn process_batch(&mut self, inputs: &[(&Event, &[Hit])]) -> Vec<(usize, CorrelationHit)> {
        let meta = &self.meta;
        let p = meta.partitions;
        let mut jobs: Vec<Vec<usize>> = vec![Vec::new(); self.shards.len()];
        let mut routed = 0;
        for (i, (event, hits)) in inputs.iter().enumerate() {
            let view = SigmaView::new(event);
            let mut targets: Vec<usize> = Vec::new();
            for h in hits.iter() {
                let Some(corrs) = meta.fed_by.get(&h.rule) else { continue };
                for &c in corrs {
                    let comp = meta.comp_of[c];
                    let part = if meta.components[comp].by_group {
                        match meta.group_values(&view, c) {
                            Some(values) => {
                                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                                group_partition(&meta.info[c].rule.id, &refs, p)
                            }
                            // No group for this event: the correlation cannot fire on it.
                            None => continue,
                        }
                    } else {
                        meta.components[comp].home
                    };
                    let shard = comp * p + part;
                    if !targets.contains(&shard) {
                        targets.push(shard);
                    }
                }
            }
            for s in targets {
                jobs[s].push(i);
                routed += 1;
            }
        }
        let busy: Vec<(&mut Shard, &Vec<usize>)> =
            self.shards.iter_mut().zip(jobs.iter()).filter(|(_, j)| !j.is_empty()).collect();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(busy.len());
        let mut out: Vec<(usize, CorrelationHit)> = if routed >= PARALLEL_MIN && workers > 1 {
            let mut groups: Vec<Vec<(&mut Shard, &Vec<usize>)>> =
                (0..workers).map(|_| Vec::new()).collect();
            for (i, job) in busy.into_iter().enumerate() {
                groups[i % workers].push(job);
            }
            std::thread::scope(|s| {
                let handles: Vec<_> = groups
                    .into_iter()
                    .map(|group| {
                        s.spawn(move || {
                            let mut out = Vec::new();
                            for (shard, job) in group {
                                shard.run(meta, inputs, job, &mut out);
                            }
                            out
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("a correlation partition panicked"))
                    .collect()
            })
        } else {
            let mut out = Vec::new();
            for (shard, job) in busy {
                shard.run(meta, inputs, job, &mut out);
            }
            out
        };
        // Input order; for one input, correlation order (stable: partitions keep their order).
        out.sort_by_key(|(i, h)| (*i, h.correlation));
        out
    }

    /// Drop windows that ended before `now_secs` (epoch seconds).
    pub fn evict(&mut self, now_secs: i64) {
        let info = &self.meta.info;
        for s in &mut self.shards {
            s.engine.evict_expired(now_secs);
            // Kept a tenth of a timespan past its end: the first match after it is always fed.
            s.quiet.retain(|(c, _), q| {
                q.until + (info[*c].timespan_secs as i64 / 10).max(1) > now_secs
            });
            s.fed_at.retain(|(c, _, _), at| *at + info[*c].timespan_secs as i64 > now_secs);
        }
    }

    /// Write the state to `path` atomically, recording the input `positions` it includes.
    pub fn save(&self, path: &Path, positions: Option<&BTreeMap<u32, u64>>) -> std::io::Result<()> {
        let p = self.meta.partitions;
        let mut shards: Vec<ShardState> = Vec::with_capacity(p);
        for part in 0..p {
            let mut merged: Option<CorrelationSnapshot> = None;
            let mut quiet = Vec::new();
            let mut fed = Vec::new();
            for comp in 0..self.meta.components.len() {
                let s = &self.shards[comp * p + part];
                let snap = s.engine.export_state();
                match &mut merged {
                    None => merged = Some(snap),
                    Some(m) => {
                        m.windows.extend(snap.windows);
                        m.last_alert.extend(snap.last_alert);
                        m.event_buffers.extend(snap.event_buffers);
                        m.event_ref_buffers.extend(snap.event_ref_buffers);
                    }
                }
                for ((c, values), q) in &s.quiet {
                    quiet.push((
                        self.meta.info[*c].rule.id.clone(),
                        values.clone(),
                        q.until,
                        q.fed,
                    ));
                }
                for ((c, values, value), at) in &s.fed_at {
                    fed.push((
                        self.meta.info[*c].rule.id.clone(),
                        values.clone(),
                        value.clone(),
                        *at,
                    ));
                }
            }
            let snapshot = merged.unwrap_or_else(|| CorrelationEngine::default().export_state());
            shards.push(ShardState { partition: part, snapshot, quiet, fed });
        }
        let state = StateFile {
            version: STATE_VERSION,
            partitions: p,
            positions: positions.cloned(),
            shards,
            snapshot: None,
        };
        let bytes = serde_json::to_vec(&state).map_err(std::io::Error::other)?;
        sen_core::fsutil::write_atomic(path, &bytes)
    }

    /// Read the state saved at `path` (written with any partition count, or by the previous
    /// version) into the running partitions. `Ok(None)`: there is none. An unreadable, corrupt
    /// or unknown-version file is an error (the caller starts empty and says so); state of
    /// correlations no longer loaded is dropped and counted.
    pub fn restore(&mut self, path: &Path) -> Result<Option<Restored>, String> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let state: StateFile = serde_json::from_slice(&text)
            .map_err(|e| format!("{}: corrupt correlation state: {e}", path.display()))?;
        let (saved_partitions, positions, sections) = match state.version {
            1 => {
                let snap = state.snapshot.ok_or_else(|| {
                    format!("{}: correlation state version 1 without a snapshot", path.display())
                })?;
                // Version 1 did not keep Sen's quiet periods: they began when rsigma last fired
                // the group and last one timespan.
                let mut quiet = Vec::new();
                for (id, groups) in &snap.last_alert {
                    let Some(&c) = self.meta.by_key.get(id) else { continue };
                    for (gk, at) in groups {
                        if let Some(values) = gk.0.iter().cloned().collect::<Option<Vec<String>>>()
                        {
                            let span = self.meta.info[c].timespan_secs.max(1) as i64;
                            quiet.push((id.clone(), values, at.saturating_add(span), 0));
                        }
                    }
                }
                (1, None, vec![ShardState { partition: 0, snapshot: snap, quiet, fed: vec![] }])
            }
            STATE_VERSION => (state.partitions, state.positions, state.shards),
            v => {
                return Err(format!(
                    "{}: correlation state version {v} (this build reads 1 and {STATE_VERSION})",
                    path.display()
                ));
            }
        };
        let meta = &self.meta;
        let p = meta.partitions;
        let template = CorrelationEngine::default().export_state();
        let empty = || CorrelationSnapshot {
            version: template.version,
            windows: HashMap::new(),
            last_alert: HashMap::new(),
            event_buffers: HashMap::new(),
            event_ref_buffers: HashMap::new(),
        };
        let mut per_shard: Vec<CorrelationSnapshot> =
            (0..self.shards.len()).map(|_| empty()).collect();
        let mut dropped = 0;
        // Where a piece of state of correlation `id` for group `key` lives now.
        let place = |id: &str, key: &[Option<String>]| -> Option<usize> {
            let c = *meta.by_key.get(id)?;
            let comp = meta.comp_of[c];
            let part = if meta.components[comp].by_group && key.iter().all(Option::is_some) {
                let values: Vec<&str> = key.iter().flatten().map(String::as_str).collect();
                group_partition(&meta.info[c].rule.id, &values, p)
            } else {
                meta.components[comp].home
            };
            Some(comp * p + part)
        };
        let mut quiet_in = Vec::new();
        let mut fed_in = Vec::new();
        for sec in sections {
            if sec.snapshot.version != template.version {
                return Err(format!(
                    "{}: rsigma snapshot version {} (this build reads {})",
                    path.display(),
                    sec.snapshot.version,
                    template.version
                ));
            }
            macro_rules! split {
                ($field:ident) => {
                    for (id, groups) in sec.snapshot.$field {
                        for (gk, v) in groups {
                            match place(&id, &gk.0) {
                                Some(s) => {
                                    per_shard[s].$field.entry(id.clone()).or_default().push((gk, v))
                                }
                                None => dropped += 1,
                            }
                        }
                    }
                };
            }
            split!(windows);
            split!(last_alert);
            split!(event_buffers);
            split!(event_ref_buffers);
            quiet_in.extend(sec.quiet);
            fed_in.extend(sec.fed);
        }
        for (shard, snap) in self.shards.iter_mut().zip(per_shard) {
            if !shard.engine.import_state(snap) {
                return Err(format!(
                    "{}: correlation state does not fit the loaded rules",
                    path.display()
                ));
            }
        }
        for (id, values, until, fed) in quiet_in {
            let key: Vec<Option<String>> = values.iter().cloned().map(Some).collect();
            match (place(&id, &key), self.meta.by_key.get(&id)) {
                (Some(s), Some(&c)) => {
                    self.shards[s].quiet.insert((c, values), Quiet { until, fed });
                }
                _ => dropped += 1,
            }
        }
        for (id, values, value, at) in fed_in {
            let key: Vec<Option<String>> = values.iter().cloned().map(Some).collect();
            match (place(&id, &key), self.meta.by_key.get(&id)) {
                (Some(s), Some(&c)) => {
                    self.shards[s].fed_at.insert((c, values, value), at);
                }
                _ => dropped += 1,
            }
        }
        Ok(Some(Restored { windows: self.state_count(), dropped, saved_partitions, positions }))
    }
}

impl Meta {
    /// The values of correlation `c`'s group-by fields on this event, as rsigma writes them;
    /// `None` when one is missing.
    fn group_values(&self, view: &SigmaView<'_>, c: usize) -> Option<Vec<String>> {
        use rsigma_eval::Event as _;
        self.info[c]
            .group_by
            .iter()
            .map(|f| view.get_field(f).as_ref().and_then(group_text))
            .collect()
    }
}

impl Shard {
    /// Feed this partition's inputs (indices into `inputs`, in order).
    fn run(
        &mut self,
        meta: &Meta,
        inputs: &[(&Event, &[Hit])],
        job: &[usize],
        out: &mut Vec<(usize, CorrelationHit)>,
    ) {
        for &i in job {
            let (event, hits) = inputs[i];
            let view = SigmaView::new(event);
            let ts = event.timestamp.timestamp();
            let mut results = Vec::new();
            for h in hits {
                if self.may_fire(meta, &view, h.rule, ts) {
                    match (&h.result, meta.headers.get(&h.rule)) {
                        (Some(r), _) | (None, Some(r)) => results.push(r.clone()),
                        // `may_fire` holds only for rules in `fed_by`, each with a header.
                        (None, None) => {}
                    }
                }
            }
            if results.is_empty() {
                continue;
            }
            let first = out.len();
            for r in self.engine.process_with_detections(&view, results, ts) {
                let ResultBody::Correlation(body) = r.body else { continue };
                let idx = r
                    .header
                    .rule_id
                    .as_deref()
                    .and_then(|k| meta.by_key.get(k))
                    .or_else(|| meta.by_key.get(&r.header.rule_title))
                    .copied();
                let Some(correlation) = idx else { continue };
                // An event that lacks a group-by field belongs to no group: rsigma keeps such
                // events in a group of their own (a missing value); that group never fires here.
                if body.group_key.len() < meta.info[correlation].group_by.len() {
                    continue;
                }
                // One event matching two rules of one correlation updates it twice; it
                // completes the correlation once.
                if let Some((_, prev)) = out[first..]
                    .iter_mut()
                    .find(|(_, f)| f.correlation == correlation && f.group == body.group_key)
                {
                    prev.value = body.aggregated_value;
                    continue;
                }
                let values: Vec<String> = body.group_key.iter().map(|(_, v)| v.clone()).collect();
                let until = ts.saturating_add(meta.info[correlation].timespan_secs.max(1) as i64);
                self.quiet.insert((correlation, values), Quiet { until, fed: 0 });
                let mut ids: Vec<String> = Vec::new();
                for id in body.event_refs.unwrap_or_default().into_iter().filter_map(|e| e.id) {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                out.push((
                    i,
                    CorrelationHit {
                        correlation,
                        group: body.group_key,
                        value: body.aggregated_value,
                        timespan_secs: body.timespan_secs,
                        event_ids: ids,
                    },
                ));
            }
        }
    }

    /// Whether feeding a match of `rule` on this event could change what a correlation of this
    /// shard's component does (see [`Correlator::process_batch`] for what is skipped).
    ///
    /// For a `value_count`, a value the group already holds adds nothing to the distinct
    /// count: it is fed again only when its last feeding is a tenth of the timespan old, so
    /// rsigma's window (which it re-scans on every event) stays about ten entries per distinct
    /// value instead of one per event. A value can therefore leave the window up to a tenth of
    /// the timespan before its last sighting would have.
    fn may_fire(&mut self, meta: &Meta, view: &SigmaView<'_>, rule: usize, ts: i64) -> bool {
        use rsigma_eval::Event as _;
        let Some(corrs) = meta.fed_by.get(&rule) else { return false };
        let mut any = false;
        for &c in corrs {
            if meta.comp_of[c] != self.comp {
                continue;
            }
            if !meta.plain_groups[c] {
                any = true;
                continue;
            }
            // No group for this event: the correlation cannot fire on it.
            let Some(values) = meta.group_values(view, c) else { continue };
            let group = (c, values);
            // The first match after a quiet period is always evaluated.
            let mut after_quiet = false;
            match self.quiet.get_mut(&group) {
                Some(q) if ts < q.until => {
                    if q.fed >= meta.quiet_cap[c] {
                        continue;
                    }
                    q.fed += 1;
                }
                Some(_) => {
                    self.quiet.remove(&group);
                    after_quiet = true;
                }
                None => {}
            }
            if let Some(fields) = &meta.distinct[c] {
                let value: Vec<String> = fields
                    .iter()
                    .map(|f| view.get_field(f).as_ref().and_then(group_text).unwrap_or_default())
                    .collect();
                let key = (c, group.1, value.join("\u{1f}"));
                let refresh = (meta.info[c].timespan_secs as i64 / 10).max(1);
                match self.fed_at.get_mut(&key) {
                    Some(at) if !after_quiet && ts >= *at && ts - *at < refresh => continue,
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
}

/// A group value exactly as rsigma writes it in its group keys (text, integer, float,
/// boolean), so that the partition Sen routes a match to is the one its state is restored to.
fn group_text(v: &rsigma_eval::EventValue<'_>) -> Option<String> {
    v.as_str().map(std::borrow::Cow::into_owned)
}
