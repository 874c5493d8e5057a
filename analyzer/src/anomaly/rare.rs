//! The rare-value detector: per scope, exponentially decayed counts of a key's values; a value
//! whose count and share are small, in a scope past its learning period, is a finding.
//!
//! A decayed count worth `c` at time `t` is worth `c · e^(−(now − t)/τ)` at `now`, with τ the
//! configured `window`: under a steady rate it equals the events of the last τ. Every count of
//! a scope decays at the same rate, so they are stored on one scale: an event at `now` adds
//! `e^((now − t0)/τ)` to its value's stored count and to the scope's total, and a stored count
//! divided by that factor is its decayed worth at `now`. Comparing values needs no
//! exponential, and an event costs one. When the factor grows large the scope is rescaled to a
//! new `t0`.
//!
//! At the value cap the map works as Space-Saving (Metwally et al., 2005): a new value takes
//! the place of the least frequent one and inherits its count, which bounds from above the
//! count of any value not tracked. A value is judged on that bound, so the cap can make the
//! detector miss a rare value in a scope with more common values than the cap, never call a
//! common value rare.

use serde::{Deserialize, Serialize};

use super::config::{RareConfig, RareRule};
use super::fields::{EventFields, FieldTable};
use super::{
    AnomalyStats, IdMap, RuleCommon, describe_entity, finding, make_room, paths, secs, span,
    thousands, tuple_text,
};
use crate::alerts::Detection;

/// Most common values named in an explanation.
const SHOWN_VALUES: usize = 3;
/// Rescale a scope when its factor exceeds `e^RESCALE_AT`.
const RESCALE_AT: f64 = 64.0;

/// One scope's counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scope {
    first: i64,
    /// Latest `now` seen (for eviction).
    last: i64,
    events: u64,
    /// Reference time of the stored counts.
    t0: i64,
    /// Stored total (see the module docs).
    total: f64,
    values: IdMap<Count>,
}

/// One value's stored count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Count {
    stored: f64,
    text: String,
}

/// The serialized form of a [`Scope`] (values sorted by key, so snapshots are deterministic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ScopeState {
    first: i64,
    last: i64,
    events: u64,
    t0: i64,
    total: f64,
    values: Vec<(u64, Count)>,
}

impl Scope {
    pub(crate) fn to_state(&self) -> ScopeState {
        let mut values: Vec<(u64, Count)> =
            self.values.iter().map(|(k, v)| (*k, v.clone())).collect();
        values.sort_unstable_by_key(|(k, _)| *k);
        ScopeState {
            first: self.first,
            last: self.last,
            events: self.events,
            t0: self.t0,
            total: self.total,
            values,
        }
    }

    pub(crate) fn from_state(s: ScopeState, max_values: usize) -> Scope {
        let mut values: Vec<(u64, Count)> = s.values;
        if values.len() > max_values {
            // A smaller cap than when saved: keep the most frequent.
            values.sort_by(|a, b| b.1.stored.total_cmp(&a.1.stored).then(a.0.cmp(&b.0)));
            values.truncate(max_values);
        }
        let sane = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        Scope {
            first: s.first,
            last: s.last,
            events: s.events,
            t0: s.t0,
            total: sane(s.total),
            values: values
                .into_iter()
                .map(|(k, c)| (k, Count { stored: sane(c.stored), text: c.text }))
                .collect(),
        }
    }

    pub(crate) fn last(&self) -> i64 {
        self.last
    }

    /// The factor of an event at `now`, rescaling first when it grew too large.
    fn factor(&mut self, now: i64, tau: f64) -> f64 {
        let x = (now - self.t0) as f64 / tau;
        if x <= RESCALE_AT {
            return x.exp();
        }
        let down = (-x).exp();
        self.total *= down;
        for c in self.values.values_mut() {
            c.stored *= down;
        }
        self.t0 = now;
        1.0
    }
}

/// A compiled rare rule and its scopes.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) common: RuleCommon,
    scope: Vec<usize>,
    key: Vec<usize>,
    key_names: String,
    extra: Vec<String>,
    learning: i64,
    min_events: u64,
    window: i64,
    tau: f64,
    min_count: f64,
    max_share: f64,
    max_scopes: usize,
    max_values: usize,
    pub(crate) scopes: IdMap<Scope>,
}

impl Rule {
    pub(crate) fn new(r: &RareRule, cfg: &RareConfig, table: &mut FieldTable) -> Rule {
        let common = RuleCommon::new(
            "rare",
            &r.name,
            &r.title,
            r.level.unwrap_or(cfg.level),
            &r.tags,
            r.scope.clone(),
            &[&r.scope, &r.key],
            &r.when,
            &r.unless,
            table,
        );
        let window = secs(cfg.window).max(1);
        Rule {
            common,
            scope: r.scope.iter().map(|f| table.slot(f)).collect(),
            key: r.key.iter().map(|f| table.slot(f)).collect(),
            key_names: r.key.join(" → "),
            extra: r.key.clone(),
            learning: secs(cfg.learning_period),
            min_events: cfg.min_events,
            window,
            tau: window as f64,
            min_count: r.min_count.unwrap_or(cfg.min_count),
            max_share: r.max_share.unwrap_or(cfg.max_share),
            max_scopes: cfg.max_scopes,
            max_values: cfg.max_values,
            scopes: IdMap::default(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.scopes.len()
    }

    pub(crate) fn max_values(&self) -> usize {
        self.max_values
    }

    pub(crate) fn max_scopes(&self) -> usize {
        self.max_scopes
    }

    pub(crate) fn observe(
        &mut self,
        f: &mut EventFields<'_, '_>,
        now: i64,
        stats: &mut AnomalyStats,
        out: &mut Vec<Detection>,
    ) {
        if !self.common.filter.accepts(f) {
            return;
        }
        // The key first: it is the field more often absent (`event.action` of an access log).
        let Some(value) = f.tuple(&self.key) else { return };
        let Some(key) = f.key(&self.scope) else { return };

        if self.scopes.len() >= self.max_scopes && !self.scopes.contains_key(&key) {
            stats.rare.evicted += make_room(&mut self.scopes, self.max_scopes, Scope::last);
        }
        let scope = self.scopes.entry(key).or_insert_with(|| Scope {
            first: now,
            last: now,
            events: 0,
            t0: now,
            total: 0.0,
            values: IdMap::default(),
        });
        let w = scope.factor(now, self.tau);
        scope.last = scope.last.max(now);
        let total_before = scope.total / w;
        let events_before = scope.events;
        scope.events = scope.events.saturating_add(1);
        scope.total += w;

        let mut bounded = false;
        let full = scope.values.len() >= self.max_values;
        let before = match scope.values.get_mut(&value) {
            Some(c) => {
                let before = c.stored / w;
                c.stored += w;
                before
            }
            None if !full => {
                let text = tuple_text(f, &self.key);
                scope.values.insert(value, Count { stored: w, text });
                0.0
            }
            None => {
                // Space-Saving: take the least frequent value's place and count.
                let victim = scope
                    .values
                    .iter()
                    .map(|(k, c)| (c.stored, *k))
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let inherited = match victim {
                    Some((stored, k)) => {
                        scope.values.remove(&k);
                        stats.rare.values_evicted += 1;
                        stored
                    }
                    None => 0.0,
                };
                let text = tuple_text(f, &self.key);
                scope.values.insert(value, Count { stored: inherited + w, text });
                bounded = true;
                inherited / w
            }
        };
        let rare = before < self.min_count
            && (total_before <= 0.0 || before / total_before < self.max_share);
        if !rare {
            return;
        }
        let learned =
            now.saturating_sub(scope.first) >= self.learning && events_before >= self.min_events;
        if !learned {
            stats.rare.learning += 1;
            return;
        }
        stats.rare.findings += 1;
        let Some(scope) = self.scopes.get(&key) else { return };
        let figures = Figures { before, bounded, total: total_before, events: events_before };
        out.push(self.explain(f, scope, value, now, figures));
    }

    fn explain(
        &self,
        f: &mut EventFields<'_, '_>,
        scope: &Scope,
        value: u64,
        now: i64,
        figures: Figures,
    ) -> Detection {
        let Figures { before, bounded, total, events } = figures;
        let text = match scope.values.get(&value) {
            Some(c) => c.text.clone(),
            None => tuple_text(f, &self.key),
        };
        let share = if total > 0.0 { before / total } else { 0.0 };
        // Stored counts share one scale: the total's stored value converts them to shares.
        let stored_total = scope.total.max(f64::MIN_POSITIVE);
        let mut common: Vec<(f64, &str)> = scope
            .values
            .iter()
            .filter(|(k, _)| **k != value)
            .map(|(_, c)| (c.stored, c.text.as_str()))
            .collect();
        common.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let top: Vec<String> = common
            .iter()
            .take(SHOWN_VALUES)
            .map(|(c, t)| format!("{t} ({})", percent(c / stored_total)))
            .collect();
        let top = if top.is_empty() { "none".to_owned() } else { top.join(", ") };
        let count = if bounded {
            format!(
                "weighted count at most {before:.1} (more values than the {} tracked)",
                thousands(self.max_values as u64)
            )
        } else {
            format!("weighted count {before:.1}")
        };
        let reason = format!(
            "{}: rare {} {}: {count} of {} events ({}) in the last {}, \
             below {} and {}; {} events seen since {} ago; most common: {}",
            describe_entity(f, &self.scope),
            self.key_names,
            text,
            thousands(total.round() as u64),
            percent(share),
            span(self.window),
            self.min_count,
            percent(self.max_share),
            thousands(events),
            span(now.saturating_sub(scope.first)),
            top,
        );
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        finding(
            &self.common.meta,
            f,
            &extra,
            reason,
            vec![
                (paths::DETECTOR, "rare".to_owned()),
                (paths::RULE, self.common.name.clone()),
                (paths::VALUE, text),
                (paths::COUNT, format!("{before:.3}")),
                (paths::TOTAL, format!("{total:.3}")),
                (paths::SHARE, format!("{share:.6}")),
                (paths::BASELINE_EVENTS, events.to_string()),
                (paths::BASELINE_SECONDS, now.saturating_sub(scope.first).to_string()),
                (paths::BASELINE_VALUES, top),
                (paths::BASELINE_DISTINCT, scope.values.len().to_string()),
            ],
        )
    }
}

/// The figures a rare finding reports.
#[derive(Debug, Clone, Copy)]
struct Figures {
    /// The value's decayed count before the event (an upper bound when `bounded`).
    before: f64,
    /// Whether the value was not tracked and `before` is the cap's bound.
    bounded: bool,
    /// The scope's decayed total before the event.
    total: f64,
    /// The scope's events before this one.
    events: u64,
}

/// `0.125%`, `41%`.
fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p >= 10.0 {
        format!("{p:.0}%")
    } else if p >= 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.3}%")
    }
}
