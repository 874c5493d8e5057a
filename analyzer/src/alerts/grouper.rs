//! [`AlertGrouper`]: detections in, alert updates out. Grouping windows, per-rule rate limits
//! with flood summaries, suppressions, bounded memory.
//!
//! See the [module docs of `alerts`](super) for the semantics.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sen_core::event::Event;
use serde::{Deserialize, Serialize};

use super::model::{
    Alert, AlertError, Detection, Entity, MAX_FIELD_VALUE_BYTES, MatchedEvent, RuleMeta,
};

/// Longest grouping window accepted.
pub const MAX_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most matched event ids an alert may be configured to keep.
pub const MAX_EVENT_IDS_LIMIT: usize = 10_000;
/// The rate-limit period: limits count new alerts per rule per UTC minute.
const MINUTE_MS: i64 = 60_000;

/// Configuration of an [`AlertGrouper`].
#[derive(Debug, Clone, PartialEq)]
pub struct GrouperConfig {
    /// How long an alert keeps absorbing detections of the same rule and entity, from its first
    /// detection. Default 10 minutes; at least 1 ms, at most [`MAX_WINDOW`].
    pub window: Duration,
    /// Most new alerts per rule per UTC minute; beyond it, detections that would open an alert
    /// are folded into the rule's flood summary. Default 50. `0` folds every new alert.
    pub rate_limit_per_minute: u32,
    /// Per-rule overrides of `rate_limit_per_minute`, by rule id.
    pub rate_limit_overrides: BTreeMap<String, u32>,
    /// Most alerts open at once (memory bound); at the cap, opening one evicts the one whose
    /// window started first. Default 10,000; at least 1.
    pub max_open_groups: usize,
    /// Most matched event ids kept per alert; the rest are counted. Default 100; at most
    /// [`MAX_EVENT_IDS_LIMIT`].
    pub max_event_ids: usize,
    /// Suppressions in force at start.
    pub suppressions: Vec<Suppression>,
}

impl Default for GrouperConfig {
    fn default() -> Self {
        GrouperConfig {
            window: Duration::from_secs(600),
            rate_limit_per_minute: 50,
            rate_limit_overrides: BTreeMap::new(),
            max_open_groups: 10_000,
            max_event_ids: 100,
            suppressions: Vec::new(),
        }
    }
}

impl GrouperConfig {
    /// Check every value (and every suppression).
    pub fn validate(&self) -> Result<(), AlertError> {
        if self.window < Duration::from_millis(1) || self.window > MAX_WINDOW {
            return Err(AlertError::InvalidConfig(format!(
                "window must be between 1 ms and {} days, not {:?}",
                MAX_WINDOW.as_secs() / 86_400,
                self.window
            )));
        }
        if self.max_open_groups == 0 {
            return Err(AlertError::InvalidConfig("max_open_groups must be at least 1".into()));
        }
        if self.max_event_ids > MAX_EVENT_IDS_LIMIT {
            return Err(AlertError::InvalidConfig(format!(
                "max_event_ids must be at most {MAX_EVENT_IDS_LIMIT}, not {}",
                self.max_event_ids
            )));
        }
        for (i, s) in self.suppressions.iter().enumerate() {
            s.validate()?;
            if self.suppressions[..i].iter().any(|o| o.id == s.id) {
                return Err(AlertError::InvalidSuppression {
                    id: s.id.clone(),
                    reason: "duplicate id".into(),
                });
            }
        }
        Ok(())
    }

    /// The rate limit of one rule.
    pub fn rate_limit_for(&self, rule_id: &str) -> u32 {
        self.rate_limit_overrides.get(rule_id).copied().unwrap_or(self.rate_limit_per_minute)
    }
}

/// A suppression: matching detections raise no alert until it expires. They are counted, per
/// suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Unique id (for instance the workflow store's row id).
    pub id: String,
    /// Only this rule's detections; `None`: any rule (then `matchers` must not be empty).
    pub rule_id: Option<String>,
    /// Field → value pairs that must all equal the detection's captured fields (exact text,
    /// IPs in canonical form). `organization.id` scopes a suppression to one tenant.
    pub matchers: BTreeMap<String, String>,
    /// Why (shown to analysts).
    pub reason: String,
    /// Who created it.
    pub created_by: String,
    /// When it stops applying (exclusive). Required: a suppression nobody remembers is a blind
    /// spot, so there are no permanent ones.
    pub expires_at: DateTime<Utc>,
}

impl Suppression {
    /// Check that the suppression can be applied.
    pub fn validate(&self) -> Result<(), AlertError> {
        let bad = |reason: &str| {
            Err(AlertError::InvalidSuppression {
                id: self.id.chars().take(64).collect(),
                reason: reason.into(),
            })
        };
        if self.id.is_empty() {
            return bad("empty id");
        }
        if self.rule_id.is_none() && self.matchers.is_empty() {
            return bad("it names no rule and no field, so it would suppress everything");
        }
        if self.matchers.keys().any(String::is_empty) {
            return bad("empty field name");
        }
        if self.matchers.values().any(|v| v.is_empty() || v.len() > MAX_FIELD_VALUE_BYTES) {
            return bad("a value is empty or longer than the captured field values");
        }
        Ok(())
    }

    /// Whether it applies at `now` (before `expires_at`).
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }

    /// Whether the detection matches (ignoring expiry).
    pub fn matches(&self, d: &Detection) -> bool {
        self.rule_id.as_ref().is_none_or(|r| *r == d.rule.id)
            && self
                .matchers
                .iter()
                .all(|(k, v)| d.event.fields.get(k).is_some_and(|have| have == v))
    }
}

/// What one observed detection did.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertUpdate {
    /// A new alert: the first detection of a rule and entity in a window, or the first folded
    /// detection of a rule's flood summary ([`Alert::is_flood_summary`]).
    Created(Alert),
    /// The detection joined an open alert (count, last seen, event ids changed).
    Updated(Alert),
    /// The rule is over its rate limit: the detection, which would have opened a new alert,
    /// was folded into the rule's flood summary. `count` is how many detections the summary
    /// holds now (also `summary.count`).
    Folded {
        /// The rule.
        rule_id: String,
        /// Detections folded into `summary` so far.
        count: u64,
        /// The flood summary after this detection.
        summary: Alert,
    },
    /// A suppression matched; no alert. `count` is how many detections it has suppressed.
    Suppressed {
        /// The rule.
        rule_id: String,
        /// The suppression that matched.
        suppression_id: String,
        /// Detections suppressed by it so far.
        count: u64,
    },
}

impl AlertUpdate {
    /// The alert to store, index and publish, if any (not for [`AlertUpdate::Suppressed`]).
    pub fn alert(&self) -> Option<&Alert> {
        match self {
            AlertUpdate::Created(a) | AlertUpdate::Updated(a) => Some(a),
            AlertUpdate::Folded { summary, .. } => Some(summary),
            AlertUpdate::Suppressed { .. } => None,
        }
    }
}

/// Counters since the grouper was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrouperStats {
    /// Detections observed.
    pub observed: u64,
    /// Alerts created (flood summaries not included).
    pub created: u64,
    /// Detections that joined an open alert.
    pub updated: u64,
    /// Detections folded into flood summaries.
    pub folded: u64,
    /// Flood summaries created.
    pub flood_summaries: u64,
    /// Detections suppressed.
    pub suppressed: u64,
    /// Open alerts evicted at the memory cap before their window ended.
    pub evicted: u64,
    /// Windows closed (by [`AlertGrouper::expire`] or by a later detection of the same key).
    pub closed: u64,
    /// Alerts open now.
    pub open: u64,
}

/// What [`AlertGrouper::expire`] closed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expired {
    /// Alerts whose window ended, in window-start order, in their final state.
    pub alerts: Vec<Alert>,
    /// Suppressions past their expiry, with how many detections each suppressed; they are
    /// removed from the grouper.
    pub suppressions: Vec<(Suppression, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    rule_id: String,
    entity: Entity,
    flood: bool,
}

#[derive(Debug)]
struct Group {
    alert: Alert,
    /// Order key in `AlertGrouper::order`.
    start_ms: i64,
    seq: u64,
    end_ms: i64,
}

#[derive(Debug)]
struct ActiveSuppression {
    suppression: Suppression,
    count: u64,
}

#[derive(Debug, Clone, Copy)]
struct RateState {
    minute: i64,
    created: u32,
}

/// Turns detections into alerts. Pure and deterministic: all time comes from the caller.
#[derive(Debug)]
pub struct AlertGrouper {
    config: GrouperConfig,
    window_ms: i64,
    groups: HashMap<GroupKey, Group>,
    /// Open groups by (window start, sequence): expiry and eviction order.
    order: BTreeMap<(i64, u64), GroupKey>,
    seq: u64,
    rate: HashMap<String, RateState>,
    suppressions: Vec<ActiveSuppression>,
    stats: GrouperStats,
}

impl AlertGrouper {
    /// A grouper with `config` (validated).
    pub fn new(mut config: GrouperConfig) -> Result<AlertGrouper, AlertError> {
        config.validate()?;
        let window_ms = i64::try_from(config.window.as_millis()).unwrap_or(i64::MAX).max(1);
        let suppressions = std::mem::take(&mut config.suppressions)
            .into_iter()
            .map(|suppression| ActiveSuppression { suppression, count: 0 })
            .collect();
        Ok(AlertGrouper {
            config,
            window_ms,
            groups: HashMap::new(),
            order: BTreeMap::new(),
            seq: 0,
            rate: HashMap::new(),
            suppressions,
            stats: GrouperStats::default(),
        })
    }

    /// The configuration (its `suppressions` list is empty: see
    /// [`AlertGrouper::suppressions`]).
    pub fn config(&self) -> &GrouperConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> GrouperStats {
        GrouperStats { open: self.groups.len() as u64, ..self.stats }
    }

    /// The fields a detection of `rule` must capture: the rule's entity fields and every field
    /// a suppression matches on (`organization.id` is always captured).
    pub fn capture_fields<'a>(&'a self, rule: &'a RuleMeta) -> Vec<&'a str> {
        let mut fields = rule.entity_fields();
        for s in &self.suppressions {
            for k in s.suppression.matchers.keys() {
                if !fields.contains(&k.as_str()) {
                    fields.push(k);
                }
            }
        }
        fields
    }

    /// A detection of `rule` on `event`, capturing [`AlertGrouper::capture_fields`].
    pub fn detection(&self, rule: Arc<RuleMeta>, event: &Event) -> Detection {
        let event = MatchedEvent::capture(event, self.capture_fields(&rule));
        Detection { rule, event }
    }

    /// Observe one detection at the caller's time `now` (event time for replayable results,
    /// or processing time; use one clock consistently, including for [`AlertGrouper::expire`]).
    ///
    /// Returns one update per detection today; it is a `Vec` so that later semantics can say
    /// more than one thing about a detection without changing the signature.
    pub fn observe(&mut self, d: Detection, now: DateTime<Utc>) -> Vec<AlertUpdate> {
        self.stats.observed = self.stats.observed.saturating_add(1);
        let now_ms = now.timestamp_millis();

        if let Some(s) = self
            .suppressions
            .iter_mut()
            .find(|s| s.suppression.is_active(now) && s.suppression.matches(&d))
        {
            s.count = s.count.saturating_add(1);
            self.stats.suppressed = self.stats.suppressed.saturating_add(1);
            return vec![AlertUpdate::Suppressed {
                rule_id: d.rule.id.clone(),
                suppression_id: s.suppression.id.clone(),
                count: s.count,
            }];
        }

        let key = GroupKey { rule_id: d.rule.id.clone(), entity: d.entity(), flood: false };
        let max_ids = self.config.max_event_ids;
        if let Some(g) = self.live_group_mut(&key, now_ms) {
            g.alert.absorb(&d.event, max_ids);
            let alert = g.alert.clone();
            self.stats.updated = self.stats.updated.saturating_add(1);
            return vec![AlertUpdate::Updated(alert)];
        }

        if self.take_rate_slot(&d.rule.id, now_ms) {
            let mut alert = Alert::open(&d, key.entity.clone(), now, false);
            alert.absorb(&d.event, max_ids);
            self.insert(key, alert.clone(), now_ms);
            self.stats.created = self.stats.created.saturating_add(1);
            return vec![AlertUpdate::Created(alert)];
        }

        self.stats.folded = self.stats.folded.saturating_add(1);
        let entity = key.entity;
        let flood_key = GroupKey { rule_id: key.rule_id, entity: Entity::default(), flood: true };
        if let Some(g) = self.live_group_mut(&flood_key, now_ms) {
            g.alert.absorb(&d.event, max_ids);
            if let Some(f) = g.alert.flood.as_mut() {
                f.note(&entity);
            }
            return vec![AlertUpdate::Folded {
                rule_id: flood_key.rule_id,
                count: g.alert.count,
                summary: g.alert.clone(),
            }];
        }
        let mut summary = Alert::open(&d, entity, now, true);
        summary.absorb(&d.event, max_ids);
        self.insert(flood_key, summary.clone(), now_ms);
        self.stats.flood_summaries = self.stats.flood_summaries.saturating_add(1);
        vec![AlertUpdate::Created(summary)]
    }

    /// Close every window that ended at or before `now` and drop suppressions past their
    /// expiry. Call it periodically (for instance at each index commit) with the same clock as
    /// [`AlertGrouper::observe`].
    pub fn expire(&mut self, now: DateTime<Utc>) -> Expired {
        let now_ms = now.timestamp_millis();
        let mut out = Expired::default();
        while let Some(entry) = self.order.first_entry() {
            let (start_ms, _) = *entry.key();
            if now_ms < start_ms.saturating_add(self.window_ms) {
                break;
            }
            let key = entry.remove();
            if let Some(g) = self.groups.remove(&key) {
                out.alerts.push(g.alert);
            }
            self.stats.closed = self.stats.closed.saturating_add(1);
        }
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.suppressions)
            .into_iter()
            .partition(|s| !s.suppression.is_active(now));
        self.suppressions = kept;
        out.suppressions = gone.into_iter().map(|s| (s.suppression, s.count)).collect();
        let minute = now_ms.div_euclid(MINUTE_MS);
        self.rate.retain(|_, r| r.minute >= minute);
        out
    }

    /// Add a suppression, or replace the one with the same id (keeping its count).
    pub fn add_suppression(&mut self, s: Suppression) -> Result<(), AlertError> {
        s.validate()?;
        match self.suppressions.iter_mut().find(|a| a.suppression.id == s.id) {
            Some(existing) => existing.suppression = s,
            None => self.suppressions.push(ActiveSuppression { suppression: s, count: 0 }),
        }
        Ok(())
    }

    /// Remove a suppression; returns it with how many detections it suppressed.
    pub fn remove_suppression(&mut self, id: &str) -> Option<(Suppression, u64)> {
        let i = self.suppressions.iter().position(|a| a.suppression.id == id)?;
        let a = self.suppressions.remove(i);
        Some((a.suppression, a.count))
    }

    /// The suppressions held (active or expired but not yet dropped by
    /// [`AlertGrouper::expire`]), in the order they were added, with their counts.
    pub fn suppressions(&self) -> impl Iterator<Item = (&Suppression, u64)> {
        self.suppressions.iter().map(|a| (&a.suppression, a.count))
    }

    /// Open alerts in window-start order.
    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.order.values().filter_map(|k| self.groups.get(k).map(|g| &g.alert))
    }

    /// The open group of `key` if its window still holds `now_ms`; a group whose window has
    /// ended is closed here (its last update was already emitted).
    fn live_group_mut(&mut self, key: &GroupKey, now_ms: i64) -> Option<&mut Group> {
        let ended = now_ms >= self.groups.get(key)?.end_ms;
        if ended {
            if let Some(g) = self.groups.remove(key) {
                self.order.remove(&(g.start_ms, g.seq));
            }
            self.stats.closed = self.stats.closed.saturating_add(1);
            return None;
        }
        self.groups.get_mut(key)
    }

    /// Whether `rule_id` may open one more alert in the minute of `now_ms` (and count it).
    /// A detection late by a minute or more counts against the latest minute seen.
    fn take_rate_slot(&mut self, rule_id: &str, now_ms: i64) -> bool {
        let limit = self.config.rate_limit_for(rule_id);
        let minute = now_ms.div_euclid(MINUTE_MS);
        let state = match self.rate.get_mut(rule_id) {
            Some(s) => s,
            None => self.rate.entry(rule_id.to_owned()).or_insert(RateState { minute, created: 0 }),
        };
        if minute > state.minute {
            *state = RateState { minute, created: 0 };
        }
        if state.created < limit {
            state.created += 1;
            true
        } else {
            false
        }
    }

    fn insert(&mut self, key: GroupKey, alert: Alert, now_ms: i64) {
        while self.groups.len() >= self.config.max_open_groups {
            let Some((_, old)) = self.order.pop_first() else {
                break;
            };
            self.groups.remove(&old);
            self.stats.evicted = self.stats.evicted.saturating_add(1);
        }
        self.seq = self.seq.wrapping_add(1);
        let group = Group {
            alert,
            start_ms: now_ms,
            seq: self.seq,
            end_ms: now_ms.saturating_add(self.window_ms),
        };
        self.order.insert((now_ms, self.seq), key.clone());
        self.groups.insert(key, group);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::model::{AlertStatus, DetectionKind, Level};
    use chrono::TimeZone;
    use std::net::IpAddr;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_795_000_000 + secs, 0).single().expect("valid time")
    }

    fn rule(id: &str) -> Arc<RuleMeta> {
        Arc::new(RuleMeta {
            id: id.into(),
            title: format!("rule {id}"),
            level: Level::Medium,
            tags: vec!["attack.credential_access".into(), "attack.t1110.001".into()],
            group_by: None,
            kind: DetectionKind::Sigma,
            author: None,
        })
    }

    fn event(n: u32, secs: i64, host: &str, user: &str) -> Event {
        let mut e = Event::new(format!("ev-{n}"), t(secs), "line");
        e.organization = Some("org-a".into());
        e.set("host.name", host);
        e.set("user.name", user);
        e.set("source.ip", "198.51.100.9".parse::<IpAddr>().expect("ip"));
        e
    }

    fn grouper(config: GrouperConfig) -> AlertGrouper {
        AlertGrouper::new(config).expect("valid config")
    }

    fn created(u: &[AlertUpdate]) -> &Alert {
        match u {
            [AlertUpdate::Created(a)] => a,
            other => panic!("expected one Created, got {other:?}"),
        }
    }

    fn updated(u: &[AlertUpdate]) -> &Alert {
        match u {
            [AlertUpdate::Updated(a)] => a,
            other => panic!("expected one Updated, got {other:?}"),
        }
    }

    #[test]
    fn groups_by_rule_and_entity() {
        let mut g = grouper(GrouperConfig::default());
        let r = rule("r1");
        let a1 = created(&g.observe(g.detection(r.clone(), &event(1, 0, "web01", "root")), t(0)))
            .clone();
        let a2 = created(&g.observe(g.detection(r.clone(), &event(2, 1, "web02", "root")), t(1)))
            .clone();
        assert_ne!(a1.id, a2.id);
        let u = updated(&g.observe(g.detection(r.clone(), &event(3, 30, "web01", "root")), t(30)))
            .clone();
        assert_eq!(u.id, a1.id);
        assert_eq!(u.count, 2);
        assert_eq!(u.event_ids, vec!["ev-1", "ev-3"]);
        assert_eq!((u.first_seen, u.last_seen), (t(0), t(30)));
        assert_eq!(u.status, AlertStatus::Open);
        // Another rule on the same entity is another alert.
        let other =
            created(&g.observe(g.detection(rule("r2"), &event(4, 31, "web01", "root")), t(31)))
                .clone();
        assert_ne!(other.id, a1.id);
        // Another tenant on the same host is another alert.
        let mut e = event(5, 32, "web01", "root");
        e.organization = Some("org-b".into());
        let b = created(&g.observe(g.detection(r, &e), t(32))).clone();
        assert_ne!(b.id, a1.id);
        assert_eq!(b.entity.organization(), Some("org-b"));
        let s = g.stats();
        assert_eq!((s.observed, s.created, s.updated, s.open), (5, 4, 1, 4));
    }

    #[test]
    fn window_rollover_creates_a_new_alert_with_a_new_id() {
        let mut g = grouper(GrouperConfig::default());
        let r = rule("r1");
        let first =
            created(&g.observe(g.detection(r.clone(), &event(1, 0, "h", "u")), t(0))).clone();
        // Last instant inside the 10-minute window.
        let mut late = t(599);
        late += chrono::TimeDelta::milliseconds(999);
        assert_eq!(
            updated(&g.observe(g.detection(r.clone(), &event(2, 599, "h", "u")), late)).id,
            first.id
        );
        let second =
            created(&g.observe(g.detection(r.clone(), &event(3, 600, "h", "u")), t(600))).clone();
        assert_ne!(second.id, first.id);
        assert_eq!(second.count, 1);
        assert_eq!(second.window_start, t(600));
        assert_eq!(g.stats().closed, 1);
        // expire() returns the windows that ended, in their final state.
        let other = created(&g.observe(g.detection(r, &event(4, 601, "h2", "u")), t(601))).clone();
        assert!(g.expire(t(1199)).alerts.is_empty());
        let closed = g.expire(t(1200)).alerts;
        assert_eq!(
            closed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            vec![second.id.as_str()]
        );
        let closed = g.expire(t(5000)).alerts;
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].id, other.id);
        assert_eq!(g.stats().open, 0);
    }

    #[test]
    fn late_detection_joins_the_open_window() {
        let mut g = grouper(GrouperConfig::default());
        let r = rule("r1");
        let a =
            created(&g.observe(g.detection(r.clone(), &event(1, 100, "h", "u")), t(100))).clone();
        let u = updated(&g.observe(g.detection(r, &event(2, 40, "h", "u")), t(40))).clone();
        assert_eq!(u.id, a.id);
        assert_eq!(u.first_seen, t(40));
        assert_eq!(u.last_seen, t(100));
    }

    fn scenario(g: &mut AlertGrouper) -> Vec<AlertUpdate> {
        let mut out = Vec::new();
        let r = rule("r1");
        for i in 0..40u32 {
            let secs = i64::from(i) * 7;
            let host = format!("h{}", i % 7);
            let user = if i % 5 == 0 { "svc" } else { "root" };
            let d = g.detection(r.clone(), &event(i, secs, &host, user));
            out.extend(g.observe(d, t(secs)));
        }
        out.extend(g.expire(t(10_000)).alerts.into_iter().map(AlertUpdate::Updated));
        out
    }

    fn replay_config() -> GrouperConfig {
        GrouperConfig {
            rate_limit_per_minute: 2,
            suppressions: vec![Suppression {
                id: "s1".into(),
                rule_id: None,
                matchers: [("user.name".to_owned(), "svc".to_owned())].into(),
                reason: "service account".into(),
                created_by: "analyst".into(),
                expires_at: t(140),
            }],
            ..GrouperConfig::default()
        }
    }

    #[test]
    fn replay_recreates_the_same_alerts() {
        let a = scenario(&mut grouper(replay_config()));
        let b = scenario(&mut grouper(replay_config()));
        assert_eq!(a, b);
        // The scenario exercised every path.
        assert!(a.iter().any(|u| matches!(u, AlertUpdate::Created(x) if !x.is_flood_summary())));
        assert!(a.iter().any(|u| matches!(u, AlertUpdate::Created(x) if x.is_flood_summary())));
        assert!(a.iter().any(|u| matches!(u, AlertUpdate::Updated(_))));
        assert!(a.iter().any(|u| matches!(u, AlertUpdate::Folded { .. })));
        assert!(a.iter().any(|u| matches!(u, AlertUpdate::Suppressed { .. })));
        // Ids are a function of rule, entity and window start only.
        let first = a.iter().find_map(|u| match u {
            AlertUpdate::Created(x) if !x.is_flood_summary() => Some(x),
            _ => None,
        });
        let first = first.expect("an alert");
        assert_eq!(first.id, Alert::derive_id("r1", &first.entity, first.window_start, false));
    }

    #[test]
    fn rate_limit_folds_with_exact_counts() {
        let mut g = grouper(GrouperConfig { rate_limit_per_minute: 3, ..GrouperConfig::default() });
        let r = rule("r1");
        let mut updates = Vec::new();
        // 10 distinct entities within one minute.
        for i in 0..10u32 {
            let d = g.detection(r.clone(), &event(i, i64::from(i), &format!("h{i}"), "u"));
            updates.extend(g.observe(d, t(i64::from(i))));
        }
        let normal = updates
            .iter()
            .filter(|u| matches!(u, AlertUpdate::Created(a) if !a.is_flood_summary()))
            .count();
        assert_eq!(normal, 3);
        let summary = match &updates[3] {
            AlertUpdate::Created(a) if a.is_flood_summary() => a.clone(),
            other => panic!("expected the flood summary, got {other:?}"),
        };
        assert_eq!(summary.count, 1);
        assert!(summary.entity.is_empty());
        let counts: Vec<u64> = updates[4..]
            .iter()
            .map(|u| match u {
                AlertUpdate::Folded { rule_id, count, summary: s } => {
                    assert_eq!(rule_id, "r1");
                    assert_eq!(s.id, summary.id);
                    assert_eq!(s.count, *count);
                    *count
                }
                other => panic!("expected Folded, got {other:?}"),
            })
            .collect();
        assert_eq!(counts, vec![2, 3, 4, 5, 6, 7]);
        // An entity that already has an alert still updates it over the limit.
        let u =
            updated(&g.observe(g.detection(r.clone(), &event(20, 20, "h0", "u")), t(20))).clone();
        assert_eq!(u.count, 2);
        // Next minute: three new alerts again, then folding into the same summary.
        for i in 0..4u32 {
            let d = g.detection(r.clone(), &event(30 + i, 60, &format!("n{i}"), "u"));
            let up = g.observe(d, t(60));
            if i < 3 {
                assert!(!created(&up).is_flood_summary());
            } else {
                match &up[..] {
                    [AlertUpdate::Folded { count, summary: s, .. }] => {
                        assert_eq!(*count, 8);
                        assert_eq!(s.id, summary.id);
                        let f = s.flood.as_ref().expect("flood info");
                        assert_eq!(f.sample.len(), 8);
                        assert_eq!(f.sample[0].get("host.name"), Some("h3"));
                        assert!(!f.more);
                        assert!(
                            s.summary().contains("8 further detection(s) folded"),
                            "{}",
                            s.summary()
                        );
                    }
                    other => panic!("expected Folded, got {other:?}"),
                }
            }
        }
        let s = g.stats();
        assert_eq!((s.created, s.folded, s.flood_summaries, s.updated), (6, 8, 1, 1));
        // Every detection is accounted for.
        assert_eq!(s.observed, s.created + s.folded + s.updated + s.suppressed);
        // Other rules have their own budget.
        assert!(
            !created(&g.observe(g.detection(rule("r2"), &event(50, 61, "zz", "u")), t(61)))
                .is_flood_summary()
        );
    }

    #[test]
    fn rate_limit_zero_and_overrides() {
        let mut config = GrouperConfig { rate_limit_per_minute: 0, ..GrouperConfig::default() };
        config.rate_limit_overrides.insert("loud".into(), 1);
        let mut g = grouper(config);
        assert!(
            created(&g.observe(g.detection(rule("r"), &event(1, 0, "a", "u")), t(0)))
                .is_flood_summary()
        );
        assert!(
            !created(&g.observe(g.detection(rule("loud"), &event(2, 0, "a", "u")), t(0)))
                .is_flood_summary()
        );
        assert!(
            created(&g.observe(g.detection(rule("loud"), &event(3, 0, "b", "u")), t(0)))
                .is_flood_summary()
        );
    }

    fn suppression(expires: i64) -> Suppression {
        Suppression {
            id: "sup-1".into(),
            rule_id: Some("r1".into()),
            matchers: [
                ("user.name".to_owned(), "backup".to_owned()),
                ("process.name".to_owned(), "rsync".to_owned()),
            ]
            .into(),
            reason: "nightly backup".into(),
            created_by: "alice".into(),
            expires_at: t(expires),
        }
    }

    #[test]
    fn suppression_counts_and_expires() {
        let mut g = grouper(GrouperConfig::default());
        g.add_suppression(suppression(100)).expect("valid");
        let r = rule("r1");
        let ev = |n: u32, secs: i64, process: &str| {
            let mut e = event(n, secs, "h", "backup");
            e.set("process.name", process);
            e
        };
        for (n, want) in [(1u32, 1u64), (2, 2)] {
            match &g.observe(g.detection(r.clone(), &ev(n, 10, "rsync")), t(10))[..] {
                [AlertUpdate::Suppressed { rule_id, suppression_id, count }] => {
                    assert_eq!((rule_id.as_str(), suppression_id.as_str()), ("r1", "sup-1"));
                    assert_eq!(*count, want);
                }
                other => panic!("expected Suppressed, got {other:?}"),
            }
        }
        // All matchers must match; other rules are not covered.
        created(&g.observe(g.detection(r.clone(), &ev(3, 11, "cp")), t(11)));
        created(&g.observe(g.detection(rule("r9"), &ev(4, 11, "rsync")), t(11)));
        // A detection built without the matcher's field is not suppressed (fail open).
        let blind = Detection::new(r.clone(), &ev(5, 12, "rsync"), []);
        assert!(matches!(&g.observe(blind, t(12))[..], [AlertUpdate::Updated(_)]));
        // Expired at 100 (exclusive): it no longer applies, though expire() has not run yet;
        // the detection joins the alert the `cp` event opened (same entity). The suppressed
        // detections are in no alert.
        let a = updated(&g.observe(g.detection(r.clone(), &ev(6, 100, "rsync")), t(100))).clone();
        assert_eq!(a.event_ids, vec!["ev-3", "ev-5", "ev-6"]);
        assert_eq!(
            g.suppressions().map(|(s, c)| (s.id.as_str(), c)).collect::<Vec<_>>(),
            vec![("sup-1", 2)]
        );
        let out = g.expire(t(100));
        assert_eq!(out.suppressions, vec![(suppression(100), 2)]);
        assert_eq!(g.suppressions().count(), 0);
        assert_eq!(g.stats().suppressed, 2);
    }

    #[test]
    fn suppression_management_and_validation() {
        let mut g = grouper(GrouperConfig::default());
        g.add_suppression(suppression(100)).expect("valid");
        let mut changed = suppression(200);
        changed.reason = "extended".into();
        g.add_suppression(changed.clone()).expect("valid");
        assert_eq!(g.suppressions().count(), 1);
        assert_eq!(g.remove_suppression("sup-1"), Some((changed, 0)));
        assert_eq!(g.remove_suppression("sup-1"), None);

        let everything = Suppression { rule_id: None, matchers: BTreeMap::new(), ..suppression(1) };
        assert!(matches!(
            g.add_suppression(everything),
            Err(AlertError::InvalidSuppression { .. })
        ));
        let no_id = Suppression { id: String::new(), ..suppression(1) };
        assert!(g.add_suppression(no_id).is_err());
        let long = Suppression {
            matchers: [("user.name".to_owned(), "x".repeat(MAX_FIELD_VALUE_BYTES + 1))].into(),
            ..suppression(1)
        };
        assert!(g.add_suppression(long).is_err());
        let dup = GrouperConfig {
            suppressions: vec![suppression(1), suppression(2)],
            ..GrouperConfig::default()
        };
        assert!(AlertGrouper::new(dup).is_err());
        // Rule-wide suppression with no matcher is fine.
        let rule_wide = Suppression { matchers: BTreeMap::new(), ..suppression(1) };
        assert!(g.add_suppression(rule_wide).is_ok());
    }

    #[test]
    fn event_ids_are_bounded() {
        let mut g = grouper(GrouperConfig { max_event_ids: 5, ..GrouperConfig::default() });
        let r = rule("r1");
        let mut last = None;
        for i in 0..8u32 {
            let up = g.observe(g.detection(r.clone(), &event(i, 1, "h", "u")), t(1));
            last = up.into_iter().next();
        }
        let a = last.as_ref().and_then(AlertUpdate::alert).expect("an alert");
        assert_eq!(a.count, 8);
        assert_eq!(a.event_ids, vec!["ev-0", "ev-1", "ev-2", "ev-3", "ev-4"]);
        assert_eq!(a.event_ids_omitted, 3);
    }

    #[test]
    fn memory_cap_evicts_oldest_and_counts() {
        let mut g = grouper(GrouperConfig { max_open_groups: 2, ..GrouperConfig::default() });
        let r = rule("r1");
        let a = created(&g.observe(g.detection(r.clone(), &event(1, 0, "a", "u")), t(0))).clone();
        created(&g.observe(g.detection(r.clone(), &event(2, 1, "b", "u")), t(1)));
        created(&g.observe(g.detection(r.clone(), &event(3, 2, "c", "u")), t(2)));
        let s = g.stats();
        assert_eq!((s.open, s.evicted), (2, 1));
        let hosts: Vec<_> = g.open_alerts().map(|x| x.entity.get("host.name")).collect();
        assert_eq!(hosts, vec![Some("b"), Some("c")]);
        // The evicted entity opens a new alert (new window start, new id).
        let again = created(&g.observe(g.detection(r, &event(4, 3, "a", "u")), t(3))).clone();
        assert_ne!(again.id, a.id);
    }

    #[test]
    fn config_validation() {
        let bad = [
            GrouperConfig { window: Duration::ZERO, ..GrouperConfig::default() },
            GrouperConfig {
                window: MAX_WINDOW + Duration::from_secs(1),
                ..GrouperConfig::default()
            },
            GrouperConfig { max_open_groups: 0, ..GrouperConfig::default() },
            GrouperConfig { max_event_ids: MAX_EVENT_IDS_LIMIT + 1, ..GrouperConfig::default() },
        ];
        for c in bad {
            assert!(matches!(AlertGrouper::new(c), Err(AlertError::InvalidConfig(_))));
        }
        assert!(AlertGrouper::new(GrouperConfig::default()).is_ok());
    }

    #[test]
    fn extreme_times_do_not_panic() {
        let mut g = grouper(GrouperConfig { max_event_ids: 0, ..GrouperConfig::default() });
        let r = rule("r1");
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::UNIX_EPOCH]
        {
            let mut e = event(1, 0, "h", "u");
            e.timestamp = now;
            let up = g.observe(g.detection(r.clone(), &e), now);
            let a = up[0].alert().expect("an alert");
            assert!(a.event_ids.is_empty());
            assert_eq!(a.event_ids_omitted, a.count);
            let _ = a.to_event().to_json_string();
            g.expire(now);
        }
        // A window opened at the last representable instant never ends; everything else closed.
        assert_eq!(g.expire(DateTime::<Utc>::MAX_UTC).alerts.len(), 0);
        let s = g.stats();
        assert_eq!((s.open, s.closed, s.created, s.updated), (1, 1, 2, 1));
    }

    #[test]
    fn capture_fields_include_suppression_fields() {
        let mut g = grouper(GrouperConfig::default());
        g.add_suppression(suppression(100)).expect("valid");
        let r = rule("r1");
        let f = g.capture_fields(&r);
        assert_eq!(
            f,
            vec!["host.name", "user.name", "source.ip", "destination.ip", "process.name"]
        );
    }
}
