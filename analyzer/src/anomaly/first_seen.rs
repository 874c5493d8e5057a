//! The first-seen detector: per entity, the value tuples seen so far; a new one after the
//! entity's learning period is a finding.

use serde::{Deserialize, Serialize};

use super::config::{FirstSeenConfig, FirstSeenRule};
use super::fields::{EventFields, FieldTable};
use super::state::fit;
use super::{
    DetectorStats, IdMap, MAX_VALUE_TEXT_BYTES, RuleCommon, cut, describe_entity, finding,
    make_room, paths, secs, span, thousands, tuple_text,
};
use crate::alerts::Detection;

/// Values named in an explanation.
const SHOWN_VALUES: usize = 5;

/// One entity's baseline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entity {
    /// When first seen (caller's clock, Unix seconds).
    first: i64,
    /// When last seen.
    last: i64,
    /// Matching events seen.
    events: u64,
    /// Values seen, by hash (a map: a domain controller's users run into thousands).
    values: IdMap<SeenValue>,
}

/// The serialized form of an [`Entity`] (values sorted by hash: deterministic snapshots).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EntityState {
    first: i64,
    last: i64,
    events: u64,
    values: Vec<(u64, SeenValue)>,
}

impl Entity {
    pub(crate) fn to_state(&self) -> EntityState {
        let mut values: Vec<(u64, SeenValue)> =
            self.values.iter().map(|(k, v)| (*k, v.clone())).collect();
        values.sort_unstable_by_key(|(k, _)| *k);
        EntityState { first: self.first, last: self.last, events: self.events, values }
    }

    fn from_state(s: EntityState, max_values: usize) -> Entity {
        let mut values = s.values;
        if values.len() > max_values {
            // A smaller cap than when saved: keep the most used, then the most recent.
            values.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(b.1.last.cmp(&a.1.last)));
            values.truncate(max_values);
        }
        Entity {
            first: s.first,
            last: s.last,
            events: s.events,
            values: values.into_iter().collect(),
        }
    }
}

/// One value of an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeenValue {
    count: u64,
    first: i64,
    last: i64,
    /// Display text (with labels), cut to [`MAX_VALUE_TEXT_BYTES`].
    text: String,
}

/// A compiled first-seen rule and its baselines.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) common: RuleCommon,
    entity: Vec<usize>,
    values: Vec<usize>,
    labels: Vec<usize>,
    /// Fields captured besides the entity: values and labels.
    extra: Vec<String>,
    /// `process.parent.name → process.name`.
    value_names: String,
    learning: i64,
    min_events: u64,
    forget: i64,
    max_entities: usize,
    max_values: usize,
    entities: IdMap<Entity>,
}

impl Rule {
    pub(crate) fn new(r: &FirstSeenRule, cfg: &FirstSeenConfig, table: &mut FieldTable) -> Rule {
        let common = RuleCommon::new(
            "first_seen",
            &r.name,
            &r.title,
            r.level.unwrap_or(cfg.level),
            &r.tags,
            r.entity.clone(),
            &[&r.entity, &r.values],
            &r.when,
            &r.unless,
            table,
        );
        let slots = |fields: &[String], table: &mut FieldTable| -> Vec<usize> {
            fields.iter().map(|f| table.slot(f)).collect()
        };
        Rule {
            common,
            entity: slots(&r.entity, table),
            values: slots(&r.values, table),
            labels: slots(&r.labels, table),
            extra: r.values.iter().chain(&r.labels).cloned().collect(),
            value_names: r.values.join(" → "),
            learning: secs(r.learning_period.unwrap_or(cfg.learning_period)),
            min_events: r.min_events.unwrap_or(cfg.min_events),
            forget: secs(cfg.forget_after),
            max_entities: cfg.max_entities,
            max_values: r.max_values.unwrap_or(cfg.max_values),
            entities: IdMap::default(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entities.len()
    }

    pub(crate) fn entities(&self) -> &IdMap<Entity> {
        &self.entities
    }

    pub(crate) fn clear(&mut self) {
        self.entities.clear();
    }

    /// Load saved entities (values beyond the cap dropped, least used first); returns the
    /// entities evicted to fit the cap.
    pub(crate) fn restore(&mut self, entries: Vec<(u64, EntityState)>) -> u64 {
        let max_values = self.max_values;
        self.entities =
            entries.into_iter().map(|(k, e)| (k, Entity::from_state(e, max_values))).collect();
        fit(&mut self.entities, self.max_entities, |e| e.last)
    }

    pub(crate) fn observe(
        &mut self,
        f: &mut EventFields<'_, '_>,
        now: i64,
        stats: &mut DetectorStats,
        out: &mut Vec<Detection>,
    ) {
        if !self.common.filter.accepts(f) {
            return;
        }
        // The value first: it is the field more often absent (no GeoIP for a private address).
        let Some(value) = f.tuple(&self.values) else { return };
        let Some(key) = f.key(&self.entity) else { return };

        if self.entities.len() >= self.max_entities && !self.entities.contains_key(&key) {
            stats.evicted += make_room(&mut self.entities, self.max_entities, |e| e.last);
        }
        let forget = self.forget;
        let (seen_before, learned) = {
            let entity = self.entities.entry(key).or_insert_with(|| Entity {
                first: now,
                last: now,
                events: 0,
                values: IdMap::default(),
            });
            let seen_before = entity.events;
            entity.events = entity.events.saturating_add(1);
            entity.last = entity.last.max(now);
            if let Some(v) = entity.values.get_mut(&value)
                && now.saturating_sub(v.last) <= forget
            {
                v.count = v.count.saturating_add(1);
                v.last = v.last.max(now);
                return;
            }
            // A new value (or a forgotten one): drop forgotten values, then judge it.
            entity.values.retain(|_, v| now.saturating_sub(v.last) <= forget);
            let learned =
                now.saturating_sub(entity.first) >= self.learning && seen_before >= self.min_events;
            (seen_before, learned)
        };

        let mut text = tuple_text(f, &self.values);
        if !self.labels.is_empty() {
            let labels: Vec<String> = self.labels.iter().filter_map(|&s| f.text(s)).collect();
            if !labels.is_empty() {
                text = cut(format!("{text} ({})", labels.join(", ")), MAX_VALUE_TEXT_BYTES);
            }
        }
        if learned {
            stats.findings += 1;
            if let Some(entity) = self.entities.get(&key) {
                out.push(self.explain(f, entity, now, seen_before, &text));
            }
        } else {
            stats.learning += 1;
        }

        let Some(entity) = self.entities.get_mut(&key) else { return };
        if entity.values.len() >= self.max_values {
            // Evict the least used value, the oldest among equals.
            if let Some(k) =
                entity.values.iter().min_by_key(|(k, v)| (v.count, v.last, **k)).map(|(k, _)| *k)
            {
                entity.values.remove(&k);
                stats.values_evicted += 1;
            }
        }
        entity.values.insert(value, SeenValue { count: 1, first: now, last: now, text });
    }

    fn explain(
        &self,
        f: &mut EventFields<'_, '_>,
        entity: &Entity,
        now: i64,
        seen_before: u64,
        text: &str,
    ) -> Detection {
        let mut known: Vec<(&u64, &SeenValue)> = entity.values.iter().collect();
        known.sort_by(|(ka, a), (kb, b)| {
            b.count.cmp(&a.count).then(b.last.cmp(&a.last)).then(ka.cmp(kb))
        });
        let mut listed: Vec<String> = known
            .iter()
            .take(SHOWN_VALUES)
            .map(|(_, v)| format!("{} ({})", v.text, thousands(v.count)))
            .collect();
        if known.len() > SHOWN_VALUES {
            listed.push(format!("and {} more", known.len() - SHOWN_VALUES));
        }
        let values_list = if listed.is_empty() { "none".to_owned() } else { listed.join(", ") };
        let age = now.saturating_sub(entity.first);
        let reason = format!(
            "{}: new {} {}, not seen in {} of baseline ({} events); seen before: {}",
            describe_entity(f, &self.entity),
            self.value_names,
            text,
            span(age),
            thousands(seen_before),
            values_list,
        );
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        finding(
            &self.common.meta,
            f,
            &extra,
            reason,
            vec![
                (paths::DETECTOR, "first_seen".to_owned()),
                (paths::RULE, self.common.name.clone()),
                (paths::VALUE, text.to_owned()),
                (paths::BASELINE_SECONDS, age.to_string()),
                (paths::BASELINE_EVENTS, seen_before.to_string()),
                (paths::BASELINE_VALUES, values_list),
                (paths::BASELINE_DISTINCT, known.len().to_string()),
            ],
        )
    }
}
