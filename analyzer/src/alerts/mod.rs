//! Alerts: the pure core between a detection engine and the alert store.
//!
//! A detection engine (Sigma, correlation, IOC, anomaly) emits one [`Detection`] per match: the
//! rule's metadata ([`RuleMeta`], shared in an `Arc`) and the part of the matched event an alert
//! needs ([`MatchedEvent`]: id, `@timestamp`, captured fields). An [`AlertGrouper`] turns
//! detections into [`AlertUpdate`]s. Nothing here does I/O or reads a clock: the caller passes
//! the time, stores, indexes and publishes the updates.
//!
//! # What is grouped
//!
//! An alert is one rule, one entity, one window. The **entity key** is the value of the rule's
//! group-by fields ([`RuleMeta::group_by`]), or, when the rule declares none, of
//! [`DEFAULT_ENTITY_FIELDS`] (`host.name`, `user.name`, `source.ip`, `destination.ip`). Only
//! fields present in the event count, and `organization.id` is always part of the key, so two
//! tenants never share an alert. Values are compared as display text (IPs canonical), cut to
//! [`MAX_FIELD_VALUE_BYTES`].
//!
//! The **window** opens at the first detection of a (rule, entity) pair, at the caller's time
//! `now`, and lasts [`GrouperConfig::window`] (10 minutes by default). Every later detection of
//! the pair with `now` before the window's end, including one whose `now` is earlier than the
//! window start (a late event), joins that alert: its count grows, `first_seen`/`last_seen`
//! (from the matched events' `@timestamp`) widen, and its event id is kept while fewer than
//! [`GrouperConfig::max_event_ids`] are (100 by default; beyond, ids are only counted). A
//! detection at or after the window's end opens a new alert with a new id.
//!
//! # What is folded
//!
//! Each rule may open at most [`GrouperConfig::rate_limit_per_minute`] new alerts per UTC minute
//! (50 by default, overridable per rule). Detections that join an open alert are never limited.
//! A detection that would open one more is **folded** into the rule's **flood summary**: one
//! alert per rule and window (its own id, an empty entity key), created by the first folded
//! detection ([`AlertUpdate::Created`] with [`Alert::is_flood_summary`]) and growing with each
//! further one ([`AlertUpdate::Folded`], whose `count` is the number of detections the summary
//! holds). The summary keeps the first matched event ids like any alert and a sample of the
//! folded entities ([`Flood`]). A flood is summarized, never silently dropped: every detection
//! is accounted for in exactly one of [`GrouperStats`]' `created`, `updated`, `folded` and
//! `suppressed`.
//!
//! # Suppressions
//!
//! A [`Suppression`] (optional rule id, field = value matchers, reason, author, mandatory
//! expiry) stops matching detections from raising or growing alerts. Each suppressed detection
//! is counted on the first matching suppression (in the order they were added) and reported
//! as [`AlertUpdate::Suppressed`]. A suppression stops applying at its `expires_at`;
//! [`AlertGrouper::expire`] then hands it back with its final count. Matchers compare captured
//! fields, so a detection must capture them: [`AlertGrouper::detection`] does; a detection built
//! without them is not suppressed (the grouper fails open).
//!
//! # Memory
//!
//! Open alerts are capped ([`GrouperConfig::max_open_groups`], 10,000 by default). Opening one
//! at the cap evicts the alert whose window started first (counted in
//! [`GrouperStats::evicted`]); its last state was already emitted, and a later detection of its
//! key opens a new alert. Event ids per alert, entity values and the flood sample are bounded;
//! rate-limit state is one small record per rule, pruned by `expire`.
//!
//! # Replay and determinism
//!
//! The grouper's output depends only on its configuration and on the sequence of
//! `(detection, now)` and `expire(now)` calls. Alert ids are [`Alert::derive_id`] of rule id,
//! entity key and window start (millisecond precision), so feeding the same detections with
//! the same times to a fresh grouper recreates the same alerts, ids included, and the index
//! upserts them instead of duplicating. This holds when `now` is the event time (or another
//! time carried by the input); with processing time, a replay opens windows at other instants
//! and therefore under other ids. The grouper does not deduplicate: a detection delivered
//! twice is counted twice. In-memory state is lost on restart; what resumes grouping after a
//! restart (re-reading the window's events, or loading open alerts) is the wiring's choice.
//!
//! # Output
//!
//! [`Alert`] derives serde for the workflow store and the bus; [`Alert::to_event`] gives the
//! flat ECS alert document (`event.kind: alert`, `rule.*`, `event.severity`, `threat.*`) that
//! is indexed like any event, and [`Alert::from_event`] reads it back. Severity scores follow
//! Elastic's risk scores ([`Level::score`]); ATT&CK context comes from the rule's tags
//! ([`attack`]).

pub mod attack;
pub mod grouper;
pub mod model;
pub mod store;

pub use attack::{Tactic, Technique, Threat};
pub use grouper::{AlertGrouper, AlertUpdate, Expired, GrouperConfig, GrouperStats, Suppression};
pub use model::{
    Alert, AlertError, AlertStatus, DEFAULT_ENTITY_FIELDS, Detection, DetectionKind, Entity, Flood,
    Level, MAX_FIELD_VALUE_BYTES, MatchedEvent, RuleMeta, Severity,
};
pub use store::{
    AlertCounts, AlertFeed, AlertPage, AlertQuery, AlertSort, AlertStore, HistoryAction,
    HistoryEntry, NewSuppression, PageStart, StoreError, StoredAlert, StoredSuppression,
    SuppressionState, Upsert, sync_grouper_suppressions, transition_allowed,
};
