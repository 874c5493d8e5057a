//! The alert model: what a detection engine emits ([`Detection`]), what an analyst works on
//! ([`Alert`]), and the alert's indexed form ([`Alert::to_event`]).
//!
//! See the [module docs of `alerts`](super) for how detections become alerts.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sen_core::event::{EVENT_ID, EVENT_ORIGINAL, Event, FieldRef, TIMESTAMP, Value, derive_id};
use serde::{Deserialize, Serialize};

use super::attack::{self, Threat};

/// Longest entity or captured field value kept, in bytes. Longer values are cut at a character
/// boundary, so an attacker-chosen 64 KiB user name cannot inflate every alert that names it.
/// Two values that differ only after this many bytes group together.
pub const MAX_FIELD_VALUE_BYTES: usize = 512;

/// The entity fields used when a rule declares no group-by fields. Only those present in the
/// matched event form the entity key. `organization.id` is always added (see
/// [`Entity`]).
pub const DEFAULT_ENTITY_FIELDS: [&str; 4] =
    ["host.name", "user.name", "source.ip", "destination.ip"];

/// The tenant field; always part of an entity key, so one tenant's events never group with
/// another's.
pub const ORGANIZATION_FIELD: &str = "organization.id";

/// Errors of the alert model and the grouper.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// A Sigma level that is not one of informational, low, medium, high, critical.
    #[error("unknown rule level `{0}` (expected informational, low, medium, high or critical)")]
    UnknownLevel(String),
    /// A detection kind that is not one of sigma, correlation, ioc, anomaly.
    #[error("unknown detection kind `{0}` (expected sigma, correlation, ioc or anomaly)")]
    UnknownKind(String),
    /// An alert status that is not one of open, acknowledged, closed.
    #[error("unknown alert status `{0}` (expected open, acknowledged or closed)")]
    UnknownStatus(String),
    /// A grouper configuration value out of range.
    #[error("invalid alert grouper configuration: {0}")]
    InvalidConfig(String),
    /// A suppression that cannot be applied.
    #[error("invalid suppression `{id}`: {reason}")]
    InvalidSuppression {
        /// The suppression's id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An event that is not an alert document, or lacks a field an alert needs.
    #[error("not an alert document: {0}")]
    NotAnAlert(String),
}

/// Sigma rule level.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `informational`: context, not a threat by itself.
    Informational,
    /// `low`. The default for rules that declare no level (as the pySigma Elastic backend does).
    #[default]
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] =
        [Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical];

    /// The Sigma spelling (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// The numeric severity (0–100) of this level.
    ///
    /// The mapping is Elastic's default risk scores for its four severities (low 21, medium 47,
    /// high 73, critical 99), which is also what the pySigma Elastic backend writes for Sigma
    /// levels, with informational at 1: below every real severity, but not 0, which reads as
    /// "no severity". The value goes to ECS `event.severity` and `event.risk_score`.
    pub fn score(self) -> u8 {
        match self {
            Level::Informational => 1,
            Level::Low => 21,
            Level::Medium => 47,
            Level::High => 73,
            Level::Critical => 99,
        }
    }

    /// The severity of this level.
    pub fn severity(self) -> Severity {
        Severity { score: self.score(), label: self }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = AlertError;

    /// Parse a Sigma level, ignoring case and surrounding white space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Level::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| AlertError::UnknownLevel(truncate(s, 64).to_owned()))
    }
}

/// An alert's severity: a 0–100 score and the level it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    /// 0–100, see [`Level::score`].
    pub score: u8,
    /// The rule level, used as the severity's label.
    pub label: Level,
}

/// What produced a detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectionKind {
    /// A Sigma rule matched one event.
    Sigma,
    /// A correlation rule (count, sequence, …) fired.
    Correlation,
    /// An indicator of compromise matched.
    Ioc,
    /// An anomaly detector fired.
    Anomaly,
}

impl DetectionKind {
    /// Lower-case name (`sigma`).
    pub fn as_str(self) -> &'static str {
        match self {
            DetectionKind::Sigma => "sigma",
            DetectionKind::Correlation => "correlation",
            DetectionKind::Ioc => "ioc",
            DetectionKind::Anomaly => "anomaly",
        }
    }
}

impl fmt::Display for DetectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DetectionKind {
    type Err = AlertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        [
            DetectionKind::Sigma,
            DetectionKind::Correlation,
            DetectionKind::Ioc,
            DetectionKind::Anomaly,
        ]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(t))
        .ok_or_else(|| AlertError::UnknownKind(truncate(s, 64).to_owned()))
    }
}

/// An alert's workflow state. The grouper only ever produces [`AlertStatus::Open`]; the
/// workflow store (SQLite) owns later changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// New, not looked at yet.
    #[default]
    Open,
    /// An analyst is on it.
    Acknowledged,
    /// Done (resolved or false positive).
    Closed,
}

impl AlertStatus {
    /// Lower-case name (`open`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertStatus {
    type Err = AlertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        [AlertStatus::Open, AlertStatus::Acknowledged, AlertStatus::Closed]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| AlertError::UnknownStatus(truncate(s, 64).to_owned()))
    }
}

/// A rule's metadata, shared by all its detections (hold it in an [`Arc`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    /// Rule id (the Sigma `id`, a UUID, or any stable name).
    pub id: String,
    /// Rule title.
    pub title: String,
    /// Sigma level.
    pub level: Level,
    /// Sigma tags (`attack.t1110.001`, `attack.credential_access`, `cve.…`).
    pub tags: Vec<String>,
    /// Fields that identify the entity an alert is about (for instance `["source.ip"]` for a
    /// password-spraying rule). `None`: [`DEFAULT_ENTITY_FIELDS`]. `Some(vec![])`: one alert per
    /// rule (and tenant) per window.
    pub group_by: Option<Vec<String>>,
    /// What kind of detection the rule makes.
    pub kind: DetectionKind,
    /// The rule's author(s), when it names them (kept in every alert: SigmaHQ's licence, DRL
    /// 1.1, asks for it).
    pub author: Option<String>,
}

impl RuleMeta {
    /// A Sigma rule with no tags and the default grouping.
    pub fn sigma(id: impl Into<String>, title: impl Into<String>, level: Level) -> RuleMeta {
        RuleMeta {
            id: id.into(),
            title: title.into(),
            level,
            tags: Vec::new(),
            group_by: None,
            kind: DetectionKind::Sigma,
            author: None,
        }
    }

    /// The fields whose values form this rule's entity key (without `organization.id`, which is
    /// always added).
    pub fn entity_fields(&self) -> Vec<&str> {
        match &self.group_by {
            Some(fields) => fields.iter().map(String::as_str).collect(),
            None => DEFAULT_ENTITY_FIELDS.to_vec(),
        }
    }
}

/// The part of a matched event an alert needs: its id and time, and the text of the fields used
/// for entity keys and suppression matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedEvent {
    /// `event.id`.
    pub id: String,
    /// `@timestamp`.
    pub timestamp: DateTime<Utc>,
    /// Captured fields by dotted ECS path, as display text (IPs in canonical form), cut to
    /// [`MAX_FIELD_VALUE_BYTES`]. Absent and empty fields are left out.
    pub fields: BTreeMap<String, String>,
    /// Why the detection fired, in one sentence, when the engine explains itself (anomaly
    /// findings: "new country RU; seen before: VN (212), SG (3) over 14 days").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl MatchedEvent {
    /// Capture `fields` (and always `organization.id`) of `event` through [`Event::get`].
    pub fn capture<'a>(event: &Event, fields: impl IntoIterator<Item = &'a str>) -> MatchedEvent {
        let mut out = BTreeMap::new();
        for path in fields.into_iter().chain([ORGANIZATION_FIELD]) {
            if out.contains_key(path) {
                continue;
            }
            if let Some(text) = event.get(path).map(|f| f.to_text())
                && !text.is_empty()
            {
                out.insert(path.to_owned(), truncate(&text, MAX_FIELD_VALUE_BYTES).to_owned());
            }
        }
        MatchedEvent { id: event.id.clone(), timestamp: event.timestamp, fields: out, reason: None }
    }
}

/// What a detection engine emits for one match.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The rule that matched.
    pub rule: Arc<RuleMeta>,
    /// The event it matched.
    pub event: MatchedEvent,
}

impl Detection {
    /// A detection of `rule` on `event`, capturing the rule's entity fields and
    /// `extra_fields` (for instance the fields suppressions match on; see
    /// [`AlertGrouper::detection`](super::AlertGrouper::detection), which adds them for you).
    pub fn new<'a>(
        rule: Arc<RuleMeta>,
        event: &Event,
        extra_fields: impl IntoIterator<Item = &'a str>,
    ) -> Detection {
        let matched = {
            let mut fields = rule.entity_fields();
            for f in extra_fields {
                fields.push(f);
            }
            MatchedEvent::capture(event, fields)
        };
        Detection { rule, event: matched }
    }

    /// The entity this detection is about: the rule's entity fields present in the event, plus
    /// `organization.id`.
    pub fn entity(&self) -> Entity {
        let mut e = Entity::default();
        for f in self.rule.entity_fields().into_iter().chain([ORGANIZATION_FIELD]) {
            if let Some(v) = self.event.fields.get(f) {
                e.0.insert(f.to_owned(), v.clone());
            }
        }
        e
    }
}

/// The entity an alert is about: field → value (display text), ordered by field name so the
/// same values always give the same key whatever order the rule lists its group-by fields in.
///
/// It always includes `organization.id` when the event has one. A field the event lacks is left
/// out, so events without it group together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Entity(pub BTreeMap<String, String>);

impl Entity {
    /// Value of one field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Whether there is no field at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tenant, if any.
    pub fn organization(&self) -> Option<&str> {
        self.get(ORGANIZATION_FIELD)
    }
}

impl fmt::Display for Entity {
    /// `host.name=web01 user.name=root` (tenant left out); `-` when there is nothing else.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (k, v) in self.0.iter().filter(|(k, _)| *k != ORGANIZATION_FIELD) {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{k}={v}")?;
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// What a flood-summary alert adds: a sample of the entities whose alerts it folded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flood {
    /// Distinct entities of folded detections, first seen first, at most
    /// [`Flood::MAX_SAMPLE`].
    pub sample: Vec<Entity>,
    /// Whether folded detections named entities beyond the sample.
    pub more: bool,
}

impl Flood {
    /// Most entities kept in [`Flood::sample`].
    pub const MAX_SAMPLE: usize = 20;

    pub(crate) fn note(&mut self, entity: &Entity) {
        if self.sample.contains(entity) {
            return;
        }
        if self.sample.len() < Flood::MAX_SAMPLE {
            self.sample.push(entity.clone());
        } else {
            self.more = true;
        }
    }
}

/// An alert: one rule, one entity, one window, and every detection that fell into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id: [`Alert::derive_id`] of rule id, entity key and window start, so a replay of
    /// the same detections with the same times recreates it (and the index upserts it).
    pub id: String,
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub rule_title: String,
    /// The rule's author(s), when it names them (`rule.author` in the alert document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_author: Option<String>,
    /// What kind of detection produced it.
    pub kind: DetectionKind,
    /// Severity from the rule level.
    pub severity: Severity,
    /// ATT&CK context from the rule tags.
    pub threat: Threat,
    /// The rule's tags, as written.
    pub tags: Vec<String>,
    /// The entity key (empty for a flood summary, whose entities are in `flood`).
    pub entity: Entity,
    /// When the window opened (the grouper's clock at the first detection). Also the alert's
    /// `@timestamp`, so its day index never changes while it grows.
    pub window_start: DateTime<Utc>,
    /// Earliest `@timestamp` of a matched event.
    pub first_seen: DateTime<Utc>,
    /// Latest `@timestamp` of a matched event.
    pub last_seen: DateTime<Utc>,
    /// Detections in this alert (for a flood summary: detections folded into it).
    pub count: u64,
    /// Ids of the first matched events, in arrival order, bounded by the grouper's
    /// `max_event_ids`.
    pub event_ids: Vec<String>,
    /// Matched events beyond `event_ids` (`count == event_ids.len() + event_ids_omitted`).
    pub event_ids_omitted: u64,
    /// Workflow state.
    pub status: AlertStatus,
    /// Present on a per-rule flood summary (see the `alerts` module docs).
    pub flood: Option<Flood>,
    /// Why, in words, from the detection that opened the alert (an anomaly's explanation, the
    /// indicator and feed of a threat-intel match); `event.reason` in the alert document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Paths under which [`Alert::to_event`] writes its own fields (`sen.alert.*`).
pub mod paths {
    /// Severity label (`high`).
    pub const SEVERITY_LABEL: &str = "sen.alert.severity";
    /// Workflow status.
    pub const STATUS: &str = "sen.alert.status";
    /// Detection kind.
    pub const KIND: &str = "sen.alert.kind";
    /// Number of detections.
    pub const COUNT: &str = "sen.alert.count";
    /// Retained matched event ids.
    pub const EVENT_IDS: &str = "sen.alert.event_ids";
    /// Matched events beyond the retained ids.
    pub const EVENT_IDS_OMITTED: &str = "sen.alert.event_ids_omitted";
    /// Prefix of the entity key copy (`sen.alert.entity.host.name`).
    pub const ENTITY_PREFIX: &str = "sen.alert.entity.";
    /// Whether the alert is a flood summary.
    pub const FLOOD: &str = "sen.alert.flood";
    /// Sample of folded entities (JSON array of objects).
    pub const FLOOD_SAMPLE: &str = "sen.alert.flood_sample";
    /// Whether folded entities go beyond the sample.
    pub const FLOOD_MORE: &str = "sen.alert.flood_more";
}

/// `event.dataset` of alert documents.
pub const ALERT_DATASET: &str = "sen.alerts";

impl Alert {
    /// The stable id of the alert of `rule_id` about `entity` whose window opened at
    /// `window_start` (millisecond precision). `flood` selects the rule's flood summary.
    pub fn derive_id(
        rule_id: &str,
        entity: &Entity,
        window_start: DateTime<Utc>,
        flood: bool,
    ) -> String {
        let start = window_start.timestamp_millis().to_string();
        let mut parts: Vec<&[u8]> = Vec::with_capacity(4 + 2 * entity.0.len());
        parts.push(if flood { b"alert-flood" } else { b"alert" });
        parts.push(rule_id.as_bytes());
        parts.push(start.as_bytes());
        for (k, v) in &entity.0 {
            parts.push(k.as_bytes());
            parts.push(v.as_bytes());
        }
        derive_id(&parts)
    }

    /// A new open alert for one detection.
    pub(crate) fn open(d: &Detection, entity: Entity, now: DateTime<Utc>, flood: bool) -> Alert {
        let rule = &d.rule;
        let id = Alert::derive_id(&rule.id, &entity, now, flood);
        let (entity, flood) = if flood {
            let mut f = Flood::default();
            f.note(&entity);
            (Entity::default(), Some(f))
        } else {
            (entity, None)
        };
        Alert {
            id,
            rule_id: rule.id.clone(),
            rule_title: rule.title.clone(),
            rule_author: rule.author.clone(),
            kind: rule.kind,
            severity: rule.level.severity(),
            threat: Threat::from_tags(&rule.tags),
            tags: rule.tags.clone(),
            entity,
            window_start: now,
            first_seen: d.event.timestamp,
            last_seen: d.event.timestamp,
            count: 0,
            event_ids: Vec::new(),
            event_ids_omitted: 0,
            status: AlertStatus::Open,
            reason: if flood.is_some() { None } else { d.event.reason.clone() },
            flood,
        }
    }

    /// Add one matched event: count, first/last seen, bounded event ids.
    pub(crate) fn absorb(&mut self, event: &MatchedEvent, max_event_ids: usize) {
        self.count = self.count.saturating_add(1);
        self.first_seen = self.first_seen.min(event.timestamp);
        self.last_seen = self.last_seen.max(event.timestamp);
        if self.event_ids.len() < max_event_ids {
            self.event_ids.push(event.id.clone());
        } else {
            self.event_ids_omitted = self.event_ids_omitted.saturating_add(1);
        }
    }

    /// Whether this is a per-rule flood summary.
    pub fn is_flood_summary(&self) -> bool {
        self.flood.is_some()
    }

    /// One-line description (`message` and `event.original` of the alert document).
    pub fn summary(&self) -> String {
        match &self.flood {
            Some(f) => format!(
                "{}: rate limit reached, {} further detection(s) folded into this summary \
                 ({} distinct entit{} sampled{})",
                self.rule_title,
                self.count,
                f.sample.len(),
                if f.sample.len() == 1 { "y" } else { "ies" },
                if f.more { ", more not sampled" } else { "" },
            ),
            None => format!("{}: {} detection(s) on {}", self.rule_title, self.count, self.entity),
        }
    }

    /// The alert as an ECS document, indexable like any event.
    ///
    /// - `event.id` is the alert id, `@timestamp` the window start, `event.start` /
    ///   `event.end` the first and last matched event times.
    /// - `event.kind: alert`, `event.module: sen`, `event.dataset: sen.alerts`,
    ///   `event.severity` and `event.risk_score` the 0–100 score.
    /// - `rule.id`, `rule.name`; `tags` the rule's tags.
    /// - `threat.framework`, `threat.tactic.{id,name,reference}`,
    ///   `threat.technique.{id,reference}` (technique level, parents of sub-techniques
    ///   included), `threat.technique.subtechnique.{id,reference}`,
    ///   `threat.group.{id,reference}`, `threat.software.{id,reference}`: parallel arrays.
    /// - The entity key at its own ECS paths (`host.name`, `source.ip`, `organization.id` …),
    ///   so the usual field searches find alerts too, and a copy under `sen.alert.entity.*`.
    ///   Where an entity field has the same path as one of the alert's own fields, the alert's
    ///   field wins at that path; the copy keeps the entity's value.
    /// - `sen.alert.*`: severity label, status, kind, count, event ids, omitted ids, and for a
    ///   flood summary `sen.alert.flood`, `sen.alert.flood_sample`, `sen.alert.flood_more`.
    ///
    /// [`Alert::from_event`] reads it back.
    pub fn to_event(&self) -> Event {
        let summary = self.summary();
        let mut e = Event::new(self.id.clone(), self.window_start, summary.clone());
        for (k, v) in &self.entity.0 {
            // The event's own identity and time are the alert's; such an entity field (an odd
            // group-by) lives only in the `sen.alert.entity.*` copy.
            if !matches!(k.as_str(), TIMESTAMP | EVENT_ID | EVENT_ORIGINAL) {
                e.set(k, typed(k, v));
            }
        }
        for (k, v) in &self.entity.0 {
            let path = format!("{}{k}", paths::ENTITY_PREFIX);
            let value = typed(&path, v);
            e.set(&path, value);
        }
        e.set("message", summary);
        e.set("event.kind", "alert");
        e.set("event.module", "sen");
        e.set("event.dataset", ALERT_DATASET);
        e.set("event.severity", i64::from(self.severity.score));
        e.set("event.risk_score", f64::from(self.severity.score));
        e.set("event.start", self.first_seen);
        e.set("event.end", self.last_seen);
        e.set("rule.id", self.rule_id.as_str());
        e.set("rule.name", self.rule_title.as_str());
        if let Some(a) = &self.rule_author {
            e.set("rule.author", a.as_str());
        }
        if let Some(r) = &self.reason {
            e.set("event.reason", r.as_str());
        }
        if !self.tags.is_empty() {
            e.set("tags", str_list(self.tags.iter().cloned()));
        }
        self.write_threat(&mut e);
        e.set(paths::SEVERITY_LABEL, self.severity.label.as_str());
        e.set(paths::STATUS, self.status.as_str());
        e.set(paths::KIND, self.kind.as_str());
        e.set(paths::COUNT, i64::try_from(self.count).unwrap_or(i64::MAX));
        e.set(paths::EVENT_IDS, str_list(self.event_ids.iter().cloned()));
        e.set(paths::EVENT_IDS_OMITTED, i64::try_from(self.event_ids_omitted).unwrap_or(i64::MAX));
        if let Some(f) = &self.flood {
            e.set(paths::FLOOD, true);
            let sample: Vec<serde_json::Value> = f
                .sample
                .iter()
                .map(|ent| serde_json::to_value(ent).unwrap_or(serde_json::Value::Null))
                .collect();
            // An empty array is a plain (empty) list in the event model, not JSON.
            if !sample.is_empty() {
                e.set(paths::FLOOD_SAMPLE, Value::json(serde_json::Value::Array(sample)));
            }
            e.set(paths::FLOOD_MORE, f.more);
        }
        e
    }

    fn write_threat(&self, e: &mut Event) {
        let t = &self.threat;
        if t.is_empty() {
            return;
        }
        e.set("threat.framework", attack::FRAMEWORK);
        if !t.tactics.is_empty() {
            e.set("threat.tactic.id", str_list(t.tactics.iter().map(|x| x.id.clone())));
            e.set("threat.tactic.name", str_list(t.tactics.iter().map(|x| x.name.clone())));
            e.set("threat.tactic.reference", str_list(t.tactics.iter().map(|x| x.reference())));
        }
        let techniques = t.technique_ids();
        if !techniques.is_empty() {
            e.set("threat.technique.id", str_list(techniques.iter().map(|x| (*x).to_owned())));
            e.set(
                "threat.technique.reference",
                str_list(techniques.iter().map(|x| attack::technique_reference(x))),
            );
        }
        let subs: Vec<_> = t.subtechniques().collect();
        if !subs.is_empty() {
            e.set("threat.technique.subtechnique.id", str_list(subs.iter().map(|x| x.id.clone())));
            e.set(
                "threat.technique.subtechnique.reference",
                str_list(subs.iter().map(|x| x.reference())),
            );
        }
        if !t.groups.is_empty() {
            e.set("threat.group.id", str_list(t.groups.iter().cloned()));
            e.set(
                "threat.group.reference",
                str_list(t.groups.iter().map(|x| attack::group_reference(x))),
            );
        }
        if !t.software.is_empty() {
            e.set("threat.software.id", str_list(t.software.iter().cloned()));
            e.set(
                "threat.software.reference",
                str_list(t.software.iter().map(|x| attack::software_reference(x))),
            );
        }
    }

    /// Read an alert back from its document (as written by [`Alert::to_event`], possibly after
    /// a trip through JSON or the index). The ATT&CK context is re-derived from `tags`.
    pub fn from_event(e: &Event) -> Result<Alert, AlertError> {
        if e.get_str("event.kind") != Some("alert") {
            return Err(AlertError::NotAnAlert("`event.kind` is not `alert`".into()));
        }
        let text = |path: &'static str| -> Result<String, AlertError> {
            e.get(path)
                .map(|f| f.to_text())
                .ok_or_else(|| AlertError::NotAnAlert(format!("missing `{path}`")))
        };
        let time = |path: &'static str| -> Result<DateTime<Utc>, AlertError> {
            match e.get(path) {
                Some(FieldRef::Time(t)) => Ok(t),
                _ => Err(AlertError::NotAnAlert(format!("missing or non-time `{path}`"))),
            }
        };
        let count = |path: &'static str| -> Result<u64, AlertError> {
            e.fields
                .get(path)
                .and_then(Value::as_i64)
                .and_then(|i| u64::try_from(i).ok())
                .ok_or_else(|| AlertError::NotAnAlert(format!("missing or negative `{path}`")))
        };
        let label: Level = text(paths::SEVERITY_LABEL)?.parse()?;
        let score = e
            .fields
            .get("event.severity")
            .and_then(Value::as_i64)
            .map(|s| u8::try_from(s.clamp(0, 100)).unwrap_or(0))
            .unwrap_or_else(|| label.score());
        let tags = strings(e.fields.get("tags"));
        let mut entity = Entity::default();
        for (k, v) in e.fields.with_prefix(paths::ENTITY_PREFIX) {
            let Some(field) = k.strip_prefix(paths::ENTITY_PREFIX) else {
                continue;
            };
            entity.0.insert(field.to_owned(), v.to_text());
        }
        let flood = match e.fields.get(paths::FLOOD) {
            Some(Value::Bool(true)) => Some(Flood {
                sample: match e.fields.get(paths::FLOOD_SAMPLE) {
                    Some(Value::Json(j)) => {
                        serde_json::from_value((**j).clone()).map_err(|err| {
                            AlertError::NotAnAlert(format!("bad `{}`: {err}", paths::FLOOD_SAMPLE))
                        })?
                    }
                    _ => Vec::new(),
                },
                more: matches!(e.fields.get(paths::FLOOD_MORE), Some(Value::Bool(true))),
            }),
            _ => None,
        };
        Ok(Alert {
            id: e.id.clone(),
            rule_id: text("rule.id")?,
            rule_title: text("rule.name")?,
            rule_author: e.get_str("rule.author").map(str::to_owned),
            kind: text(paths::KIND)?.parse()?,
            severity: Severity { score, label },
            threat: Threat::from_tags(&tags),
            tags,
            entity,
            window_start: e.timestamp,
            first_seen: time("event.start")?,
            last_seen: time("event.end")?,
            count: count(paths::COUNT)?,
            event_ids: strings(e.fields.get(paths::EVENT_IDS)),
            event_ids_omitted: count(paths::EVENT_IDS_OMITTED)?,
            status: text(paths::STATUS)?.parse()?,
            flood,
            reason: e.get_str("event.reason").map(str::to_owned),
        })
    }
}

/// A value typed the way the event model types JSON text at `path` (IPs at `*.ip` paths), so
/// an alert document equals itself after a trip through JSON.
fn typed(path: &str, text: &str) -> Value {
    Value::from_json(path, serde_json::Value::String(text.to_owned()))
        .unwrap_or_else(|| Value::Str(text.to_owned()))
}

fn str_list(items: impl Iterator<Item = String>) -> Value {
    Value::List(items.map(Value::Str).collect())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::List(items)) => items.iter().map(Value::to_text).collect(),
        Some(other) => vec![other.to_text()],
        None => Vec::new(),
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_795_000_000 + secs, 0).single().expect("valid time")
    }

    fn rule() -> Arc<RuleMeta> {
        Arc::new(RuleMeta {
            id: "r-ssh-brute".into(),
            title: "SSH brute force".into(),
            level: Level::High,
            tags: vec![
                "attack.credential_access".into(),
                "attack.t1110.001".into(),
                "attack.t1110".into(),
                "attack.g0016".into(),
                "attack.s0002".into(),
                "cve.2024-0001".into(),
            ],
            group_by: None,
            kind: DetectionKind::Sigma,
            author: None,
        })
    }

    fn event(id: &str, secs: i64) -> Event {
        let mut e = Event::new(id.into(), t(secs), "Failed password for root");
        e.organization = Some("org-a".into());
        e.set("host.name", "web01");
        e.set("user.name", "root");
        e.set("source.ip", "203.0.113.7".parse::<std::net::IpAddr>().expect("ip"));
        e.set("process.name", "sshd");
        e
    }

    #[test]
    fn severity_mapping() {
        let got: Vec<(Level, u8)> = Level::ALL.iter().map(|l| (*l, l.score())).collect();
        assert_eq!(
            got,
            vec![
                (Level::Informational, 1),
                (Level::Low, 21),
                (Level::Medium, 47),
                (Level::High, 73),
                (Level::Critical, 99),
            ]
        );
        assert_eq!("HIGH ".parse::<Level>(), Ok(Level::High));
        assert_eq!(Level::Critical.severity(), Severity { score: 99, label: Level::Critical });
        assert!(matches!("severe".parse::<Level>(), Err(AlertError::UnknownLevel(_))));
        assert_eq!(Level::default(), Level::Low);
        // Scores rise with the level.
        assert!(Level::ALL.windows(2).all(|w| w[0].score() < w[1].score()));
    }

    #[test]
    fn entity_uses_default_fields_present_plus_tenant() {
        let d = Detection::new(rule(), &event("e1", 0), []);
        let ent = d.entity();
        let keys: Vec<&str> = ent.0.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["host.name", "organization.id", "source.ip", "user.name"]);
        assert_eq!(ent.get("source.ip"), Some("203.0.113.7"));
        assert_eq!(ent.to_string(), "host.name=web01 source.ip=203.0.113.7 user.name=root");
        // process.name was not asked for.
        assert!(!d.event.fields.contains_key("process.name"));
    }

    #[test]
    fn entity_uses_rule_group_by() {
        let mut r = (*rule()).clone();
        r.group_by = Some(vec!["source.ip".into(), "nope.missing".into()]);
        let d = Detection::new(Arc::new(r), &event("e1", 0), ["process.name"]);
        let ent = d.entity();
        let keys: Vec<&str> = ent.0.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["organization.id", "source.ip"]);
        assert_eq!(d.event.fields.get("process.name").map(String::as_str), Some("sshd"));
    }

    #[test]
    fn long_values_are_cut_at_a_char_boundary() {
        let mut e = event("e1", 0);
        e.set("user.name", "é".repeat(1000));
        let d = Detection::new(rule(), &e, []);
        let v = d.event.fields.get("user.name").expect("captured");
        assert!(v.len() <= MAX_FIELD_VALUE_BYTES && v.len() >= MAX_FIELD_VALUE_BYTES - 1);
        assert!(v.chars().all(|c| c == 'é'));
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn ids_are_stable_and_depend_on_every_part() {
        let d = Detection::new(rule(), &event("e1", 0), []);
        let ent = d.entity();
        let a = Alert::derive_id("r", &ent, t(0), false);
        assert_eq!(a, Alert::derive_id("r", &ent, t(0), false));
        assert_eq!(a.len(), 32);
        assert_ne!(a, Alert::derive_id("r2", &ent, t(0), false));
        assert_ne!(a, Alert::derive_id("r", &Entity::default(), t(0), false));
        assert_ne!(a, Alert::derive_id("r", &ent, t(1), false));
        assert_ne!(a, Alert::derive_id("r", &ent, t(0), true));
    }

    fn sample_alert() -> Alert {
        let d = Detection::new(rule(), &event("e1", 5), []);
        let mut a = Alert::open(&d, d.entity(), t(0), false);
        a.absorb(&d.event, 2);
        let d2 = Detection::new(rule(), &event("e2", 2), []);
        a.absorb(&d2.event, 2);
        let d3 = Detection::new(rule(), &event("e3", 9), []);
        a.absorb(&d3.event, 2);
        a
    }

    #[test]
    fn absorb_tracks_times_count_and_bounded_ids() {
        let a = sample_alert();
        assert_eq!(a.count, 3);
        assert_eq!(a.first_seen, t(2));
        assert_eq!(a.last_seen, t(9));
        assert_eq!(a.event_ids, vec!["e1", "e2"]);
        assert_eq!(a.event_ids_omitted, 1);
        assert_eq!(a.count, a.event_ids.len() as u64 + a.event_ids_omitted);
    }

    #[test]
    fn to_event_is_an_ecs_alert_document() {
        let a = sample_alert();
        let e = a.to_event();
        assert_eq!(e.id, a.id);
        assert_eq!(e.timestamp, t(0));
        assert_eq!(e.organization.as_deref(), Some("org-a"));
        assert_eq!(e.get_str("event.kind"), Some("alert"));
        assert_eq!(e.get("event.severity"), Some(FieldRef::Int(73)));
        assert_eq!(e.get_str("rule.id"), Some("r-ssh-brute"));
        assert_eq!(e.get_str("rule.name"), Some("SSH brute force"));
        assert_eq!(e.get("event.start"), Some(FieldRef::Time(t(2))));
        assert_eq!(e.get("event.end"), Some(FieldRef::Time(t(9))));
        assert_eq!(e.get("source.ip"), Some(FieldRef::Ip("203.0.113.7".parse().expect("ip"))));
        assert_eq!(e.get_str("sen.alert.entity.host.name"), Some("web01"));
        let list = |p: &str| e.fields.get(p).map(Value::to_text).unwrap_or_default();
        assert_eq!(list("threat.framework"), "MITRE ATT&CK");
        assert_eq!(list("threat.tactic.id"), "TA0006");
        assert_eq!(list("threat.tactic.name"), "Credential Access");
        assert_eq!(list("threat.technique.id"), "T1110");
        assert_eq!(list("threat.technique.subtechnique.id"), "T1110.001");
        assert_eq!(list("threat.group.id"), "G0016");
        assert_eq!(list("threat.software.id"), "S0002");
        assert_eq!(list("sen.alert.event_ids"), "e1, e2");
        assert_eq!(e.get("sen.alert.count"), Some(FieldRef::Int(3)));
        assert_eq!(e.get("sen.alert.event_ids_omitted"), Some(FieldRef::Int(1)));
        assert!(!e.fields.keys().any(|k| k.starts_with("kibana.")));
        assert!(e.original.contains("3 detection(s)"), "{}", e.original);
    }

    #[test]
    fn to_event_round_trips_through_json() {
        let mut flood = sample_alert();
        flood.flood = Some(Flood { sample: vec![flood.entity.clone()], more: true });
        flood.entity = Entity::default();
        let mut bare = sample_alert();
        bare.tags.clear();
        bare.threat = Threat::default();
        bare.entity = Entity::default();
        bare.status = AlertStatus::Acknowledged;
        let mut empty_flood = sample_alert();
        empty_flood.flood = Some(Flood::default());
        // A SigmaHQ rule's alert names the rule's author (DRL 1.1).
        let mut authored = sample_alert();
        authored.rule_author = Some("Florian Roth (Nextron Systems)".into());
        assert_eq!(
            authored.to_event().get_str("rule.author"),
            Some("Florian Roth (Nextron Systems)")
        );
        for a in [sample_alert(), flood, bare, empty_flood, authored] {
            let e = a.to_event();
            let text = e.to_json_string();
            let back: Event = serde_json::from_str(&text).expect("parses");
            assert_eq!(back, e, "{text}");
            assert_eq!(Alert::from_event(&back), Ok(a.clone()), "{text}");
            // The serde form round-trips too (for the workflow store and the bus).
            let json = serde_json::to_string(&a).expect("serializes");
            assert_eq!(serde_json::from_str::<Alert>(&json).expect("parses"), a);
        }
    }

    #[test]
    fn from_event_rejects_other_events() {
        assert!(matches!(Alert::from_event(&event("e1", 0)), Err(AlertError::NotAnAlert(_))));
        let mut e = sample_alert().to_event();
        e.remove("event.end");
        assert!(Alert::from_event(&e).is_err());
        let mut e = sample_alert().to_event();
        e.set("sen.alert.count", -1i64);
        assert!(Alert::from_event(&e).is_err());
        let mut e = sample_alert().to_event();
        e.set("sen.alert.status", "weird");
        assert_eq!(Alert::from_event(&e), Err(AlertError::UnknownStatus("weird".into())));
    }

    #[test]
    fn enums_parse_and_print() {
        for s in [AlertStatus::Open, AlertStatus::Acknowledged, AlertStatus::Closed] {
            assert_eq!(s.as_str().parse::<AlertStatus>(), Ok(s));
        }
        for k in [
            DetectionKind::Sigma,
            DetectionKind::Correlation,
            DetectionKind::Ioc,
            DetectionKind::Anomaly,
        ] {
            assert_eq!(k.to_string().parse::<DetectionKind>(), Ok(k));
        }
        assert!("x".repeat(10_000).parse::<DetectionKind>().is_err());
    }
}
