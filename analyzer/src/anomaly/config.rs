//! [`AnomalyConfig`]: what the detectors learn, when they may fire, and how much they keep.
//!
//! Durations are humantime text (`"7d"`, `"90m"`, `"1h 30m"`). Unknown fields are rejected.
//! [`AnomalyConfig::validate`] collects every problem in one pass. Each detector's `rules`
//! replaces the built-in list when given (`rules = []` turns the detector's rules off); the
//! defaults are what [`AnomalyConfig::default`] shows.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::AnomalyError;
use super::fields::Pattern;
use crate::alerts::Level;

/// Most rules per detector.
pub const MAX_RULES: usize = 64;
/// Most fields in one rule's entity, values, key or category list.
pub const MAX_RULE_FIELDS: usize = 8;
/// Longest learning period, forgetting time or baseline window accepted.
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 86_400);

const DAY: u64 = 86_400;

/// Field → pattern(s) conditions of a rule (`when` / `unless`). A pattern is exact text,
/// `prefix*`, `*suffix`, `*infix*` or `*` (field present); matching ignores ASCII case, and a
/// list-valued field (`event.category`) matches when any element does.
pub type Conditions = BTreeMap<String, OneOrMany>;

/// One pattern or a list of patterns (any may match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single pattern.
    One(String),
    /// Any of several patterns.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The patterns as a slice.
    pub fn as_slice(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// The whole anomaly detection configuration (`[anomaly]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyConfig {
    /// Master switch. Default on.
    pub enabled: bool,
    /// First-seen values per entity (new login country, new parent → child process pair …).
    pub first_seen: FirstSeenConfig,
    /// Rare values of a categorical field per host or organization.
    pub rare: RareConfig,
    /// Volume spikes per host and category.
    pub volume: VolumeConfig,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            enabled: true,
            first_seen: FirstSeenConfig::default(),
            rare: RareConfig::default(),
            volume: VolumeConfig::default(),
        }
    }
}

/// The first-seen detector (`[anomaly.first_seen]`).
///
/// Per rule and entity (the rule's `entity` fields plus `organization.id`) it keeps the values
/// seen (`values` fields, as a tuple) with counts. A value the entity has not shown before
/// raises a finding once the entity has left its learning period: it was first seen at least
/// `learning_period` ago and has at least `min_events` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirstSeenConfig {
    /// Detector switch. Default on.
    pub enabled: bool,
    /// Level of findings (rules may override). Default low.
    pub level: Level,
    /// How long after an entity is first seen its new values raise nothing. Default 7 days.
    #[serde(with = "humantime_serde")]
    pub learning_period: Duration,
    /// Matching events an entity needs before its new values raise findings. Default 3.
    pub min_events: u64,
    /// A value not seen for this long is forgotten (and is new again). Default 90 days.
    #[serde(with = "humantime_serde")]
    pub forget_after: Duration,
    /// Most entities kept per rule; beyond, the stalest are evicted (and learn again).
    /// Default 100,000.
    pub max_entities: usize,
    /// Most values kept per entity; beyond, the least used (then oldest) is evicted, and is
    /// new again if it comes back. Default 64 (rules may override: the process pair rule
    /// keeps 1,024, host → user 4,096).
    pub max_values: usize,
    /// The rules. Default: login country, login ASN, host → user login, parent → child
    /// process.
    pub rules: Vec<FirstSeenRule>,
}

impl Default for FirstSeenConfig {
    fn default() -> Self {
        FirstSeenConfig {
            enabled: true,
            level: Level::Low,
            learning_period: Duration::from_secs(7 * DAY),
            min_events: 3,
            forget_after: Duration::from_secs(90 * DAY),
            max_entities: 100_000,
            max_values: 64,
            rules: default_first_seen_rules(),
        }
    }
}

/// One first-seen rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstSeenRule {
    /// Short unique name (`[a-z0-9_-]`); the rule id is `anomaly:first_seen:<name>`.
    pub name: String,
    /// Alert title.
    pub title: String,
    /// Rule switch. Default on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Fields naming the entity (`organization.id` is always added). Empty: the organization.
    pub entity: Vec<String>,
    /// Fields whose value tuple is tracked per entity (all must be present).
    pub values: Vec<String>,
    /// Fields shown next to a value in explanations, not part of it (an AS number's
    /// organization name).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Conditions every matching event meets.
    #[serde(default)]
    pub when: Conditions,
    /// Conditions that exclude an event.
    #[serde(default)]
    pub unless: Conditions,
    /// Level override.
    #[serde(default)]
    pub level: Option<Level>,
    /// Alert tags besides `anomaly` and `anomaly.first_seen` (ATT&CK tags are read by the
    /// alert model).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Learning period override.
    #[serde(default, with = "humantime_serde::option")]
    pub learning_period: Option<Duration>,
    /// `min_events` override.
    #[serde(default)]
    pub min_events: Option<u64>,
    /// `max_values` override (a host runs far more parent → child pairs than a user has
    /// login countries).
    #[serde(default)]
    pub max_values: Option<usize>,
}

/// The rare-value detector (`[anomaly.rare]`).
///
/// Per rule and scope (the `scope` fields, typically `host.name`, or none for the whole
/// organization) it keeps exponentially decayed counts of the `key` values, with a mean life of
/// `window`, so a count approximates the value's events in the last `window`. A value whose
/// count before the event is below `min_count` and whose share of the scope's events is below
/// `max_share` raises a finding once the scope has left its learning period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RareConfig {
    /// Detector switch. Default on.
    pub enabled: bool,
    /// Level of findings (rules may override). Default low.
    pub level: Level,
    /// How long after a scope is first seen nothing is rare. Default 7 days.
    #[serde(with = "humantime_serde")]
    pub learning_period: Duration,
    /// Matching events a scope needs before anything is rare in it. Default 1,000.
    pub min_events: u64,
    /// Mean life of the decayed counts (the baseline window). Default 14 days.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// A value is rare while its decayed count is below this. Default 3.
    pub min_count: f64,
    /// … and its share of the scope's (decayed) events below this. Default 0.001 (0.1 %).
    pub max_share: f64,
    /// Most scopes kept per rule; beyond, the stalest are evicted. Default 10,000.
    pub max_scopes: usize,
    /// Most values counted per scope. At the cap a new value takes the place of the least
    /// frequent one and inherits its count (Space-Saving), an upper bound of any untracked
    /// value's count: in a scope with more common values than the cap, rare values may be
    /// missed, but a common value is never called rare. Default 1,000.
    pub max_values: usize,
    /// The rules. Default: rare `event.action` per host, rare started process per host.
    pub rules: Vec<RareRule>,
}

impl Default for RareConfig {
    fn default() -> Self {
        RareConfig {
            enabled: true,
            level: Level::Low,
            learning_period: Duration::from_secs(7 * DAY),
            min_events: 1_000,
            window: Duration::from_secs(14 * DAY),
            min_count: 3.0,
            max_share: 0.001,
            max_scopes: 10_000,
            max_values: 1_000,
            rules: default_rare_rules(),
        }
    }
}

/// One rare-value rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RareRule {
    /// Short unique name; the rule id is `anomaly:rare:<name>`.
    pub name: String,
    /// Alert title.
    pub title: String,
    /// Rule switch. Default on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Fields naming the scope (`organization.id` is always added). Empty: the organization.
    pub scope: Vec<String>,
    /// Fields whose value tuple is counted (all must be present).
    pub key: Vec<String>,
    /// Conditions every matching event meets.
    #[serde(default)]
    pub when: Conditions,
    /// Conditions that exclude an event.
    #[serde(default)]
    pub unless: Conditions,
    /// Level override.
    #[serde(default)]
    pub level: Option<Level>,
    /// Alert tags besides `anomaly` and `anomaly.rare`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `min_count` override.
    #[serde(default)]
    pub min_count: Option<f64>,
    /// `max_share` override.
    #[serde(default)]
    pub max_share: Option<f64>,
}

/// The volume-spike detector (`[anomaly.volume]`).
///
/// Per rule and series (the `entity` fields plus the first present `category` field, plus
/// `organization.id`) it counts events per `bucket` of event time and keeps an exponentially
/// weighted mean and variance of the bucket counts (half-life `half_life`). A bucket whose
/// count reaches `min_count`, exceeds mean + `z`·σ (σ at least √mean and 1) and exceeds
/// `peak_factor` × the decayed peak of earlier buckets raises one finding, as soon as the
/// count crosses, once the series has left its learning period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeConfig {
    /// Detector switch. Default on.
    pub enabled: bool,
    /// Level of findings (rules may override). Default low.
    pub level: Level,
    /// Bucket length. Default 1 minute; 1 s to 1 h, dividing a day.
    #[serde(with = "humantime_serde")]
    pub bucket: Duration,
    /// How long after a series is first seen it raises nothing. Default 1 day.
    #[serde(with = "humantime_serde")]
    pub learning_period: Duration,
    /// Closed buckets (empty ones included) a series needs before it raises findings.
    /// Default 60.
    pub min_buckets: u64,
    /// Half-life of the mean and variance, in time (converted to buckets). Default 1 hour.
    #[serde(with = "humantime_serde")]
    pub half_life: Duration,
    /// Standard deviations above the mean. Default 6.
    pub z: f64,
    /// Fewest events in a bucket for a finding. Default 100.
    pub min_count: u64,
    /// A bucket must also exceed this multiple of the decayed peak of earlier buckets (the
    /// busiest recent bucket, so a daily burst such as boot or backup time does not fire).
    /// 0 turns the check off. Default 1.
    pub peak_factor: f64,
    /// Half-life of that peak. Default 7 days.
    #[serde(with = "humantime_serde")]
    pub peak_half_life: Duration,
    /// Events older than the series' current bucket by up to this much are counted in the
    /// current bucket; older ones are not counted (see `volume_late_dropped`). Default 5
    /// minutes.
    #[serde(with = "humantime_serde")]
    pub max_lateness: Duration,
    /// Most series kept per rule; beyond, the stalest are evicted. Default 50,000.
    pub max_series: usize,
    /// The rules. Default: events per host and category (else dataset).
    pub rules: Vec<VolumeRule>,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        VolumeConfig {
            enabled: true,
            level: Level::Low,
            bucket: Duration::from_secs(60),
            learning_period: Duration::from_secs(DAY),
            min_buckets: 60,
            half_life: Duration::from_secs(3600),
            z: 6.0,
            min_count: 100,
            peak_factor: 1.0,
            peak_half_life: Duration::from_secs(7 * DAY),
            max_lateness: Duration::from_secs(300),
            max_series: 50_000,
            rules: default_volume_rules(),
        }
    }
}

/// One volume rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeRule {
    /// Short unique name; the rule id is `anomaly:volume:<name>`.
    pub name: String,
    /// Alert title.
    pub title: String,
    /// Rule switch. Default on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Fields naming the entity (all must be present; `organization.id` is always added).
    pub entity: Vec<String>,
    /// Alternatives for the category: the first present field's value is used, and an event
    /// with none of them counts under `(none)`. Empty: one series per entity.
    #[serde(default)]
    pub category: Vec<String>,
    /// Conditions every counted event meets.
    #[serde(default)]
    pub when: Conditions,
    /// Conditions that exclude an event.
    #[serde(default)]
    pub unless: Conditions,
    /// Level override.
    #[serde(default)]
    pub level: Option<Level>,
    /// Alert tags besides `anomaly` and `anomaly.volume`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `z` override.
    #[serde(default)]
    pub z: Option<f64>,
    /// `min_count` override.
    #[serde(default)]
    pub min_count: Option<u64>,
}

fn yes() -> bool {
    true
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn conditions(items: &[(&str, &[&str])]) -> Conditions {
    items
        .iter()
        .map(|(k, v)| {
            let v = if v.len() == 1 {
                OneOrMany::One(v[0].to_owned())
            } else {
                OneOrMany::Many(strings(v))
            };
            ((*k).to_owned(), v)
        })
        .collect()
}

/// Windows accounts that log on by themselves (services, window manager and font driver
/// sessions, machine accounts) and would make "new user on host" noise.
const SERVICE_ACCOUNTS: &[&str] =
    &["SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE", "ANONYMOUS LOGON", "DWM-*", "UMFD-*", "*$"];

fn successful_login() -> Conditions {
    conditions(&[("event.category", &["authentication"]), ("event.outcome", &["success"])])
}

fn default_first_seen_rules() -> Vec<FirstSeenRule> {
    let rule = |name: &str, title: &str, entity: &[&str], values: &[&str]| FirstSeenRule {
        name: name.into(),
        title: title.into(),
        enabled: true,
        entity: strings(entity),
        values: strings(values),
        labels: Vec::new(),
        when: successful_login(),
        unless: Conditions::new(),
        level: None,
        tags: strings(&["attack.initial_access", "attack.t1078"]),
        learning_period: None,
        min_events: None,
        max_values: None,
    };
    vec![
        rule(
            "login-country",
            "Login from a new country",
            &["user.name"],
            &["source.geo.country_iso_code"],
        ),
        FirstSeenRule {
            labels: strings(&["source.as.organization.name"]),
            ..rule(
                "login-asn",
                "Login from a new network (ASN)",
                &["user.name"],
                &["source.as.number"],
            )
        },
        FirstSeenRule {
            unless: conditions(&[("user.name", SERVICE_ACCOUNTS)]),
            tags: strings(&["attack.lateral_movement", "attack.t1078"]),
            // A domain controller authenticates every user of the domain.
            max_values: Some(4_096),
            ..rule("host-user", "New user logging in to a host", &["host.name"], &["user.name"])
        },
        FirstSeenRule {
            when: conditions(&[("event.category", &["process"]), ("event.type", &["start"])]),
            tags: strings(&["attack.execution"]),
            max_values: Some(1_024),
            ..rule(
                "process-parent",
                "New parent → child process pair on a host",
                &["host.name"],
                &["process.parent.name", "process.name"],
            )
        },
    ]
}

fn default_rare_rules() -> Vec<RareRule> {
    vec![
        RareRule {
            name: "host-action".into(),
            title: "Rare event action on a host".into(),
            enabled: true,
            scope: strings(&["host.name"]),
            key: strings(&["event.action"]),
            when: Conditions::new(),
            unless: Conditions::new(),
            level: None,
            tags: Vec::new(),
            min_count: None,
            max_share: None,
        },
        RareRule {
            name: "host-process".into(),
            title: "Rare process started on a host".into(),
            enabled: true,
            scope: strings(&["host.name"]),
            key: strings(&["process.name"]),
            when: conditions(&[("event.category", &["process"]), ("event.type", &["start"])]),
            unless: Conditions::new(),
            level: None,
            tags: strings(&["attack.execution"]),
            min_count: None,
            max_share: None,
        },
    ]
}

fn default_volume_rules() -> Vec<VolumeRule> {
    vec![VolumeRule {
        name: "host-category".into(),
        title: "Event volume spike on a host".into(),
        enabled: true,
        entity: strings(&["host.name"]),
        category: strings(&["event.category", "event.dataset"]),
        when: Conditions::new(),
        unless: Conditions::new(),
        level: None,
        tags: Vec::new(),
        z: None,
        min_count: None,
    }]
}

/// Collects problems with their place in the configuration.
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, place: &str, msg: impl std::fmt::Display) {
        self.0.push(format!("{place}: {msg}"));
    }

    fn period(&mut self, place: &str, d: Duration, min: Duration, max: Duration) {
        if d < min || d > max {
            self.add(
                place,
                format!(
                    "must be between {} and {}, not {}",
                    humantime::format_duration(min),
                    humantime::format_duration(max),
                    humantime::format_duration(d)
                ),
            );
        }
    }

    fn cap(&mut self, place: &str, v: usize, max: usize) {
        if v == 0 || v > max {
            self.add(place, format!("must be between 1 and {max}, not {v}"));
        }
    }

    fn fields(&mut self, place: &str, fields: &[String], may_be_empty: bool) {
        if fields.is_empty() && !may_be_empty {
            self.add(place, "must name at least one field");
        }
        if fields.len() > MAX_RULE_FIELDS {
            self.add(place, format!("at most {MAX_RULE_FIELDS} fields, not {}", fields.len()));
        }
        for (i, f) in fields.iter().enumerate() {
            if let Err(e) = check_path(f) {
                self.add(place, e);
            }
            if fields[..i].contains(f) {
                self.add(place, format!("`{f}` is listed twice"));
            }
        }
    }

    fn conditions(&mut self, place: &str, c: &Conditions) {
        for (field, pats) in c {
            if let Err(e) = check_path(field) {
                self.add(place, e);
            }
            if pats.as_slice().is_empty() {
                self.add(&format!("{place}.{field}"), "needs at least one pattern");
            }
            for p in pats.as_slice() {
                if let Err(e) = Pattern::parse(p) {
                    self.add(&format!("{place}.{field}"), e);
                }
            }
        }
    }

    fn rule_common(&mut self, place: &str, name: &str, title: &str, tags: &[String]) {
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            self.add(place, format!("name `{name}`: use 1 to 64 of a-z, 0-9, `-` and `_`"));
        }
        if title.trim().is_empty() {
            self.add(place, "title must not be empty");
        }
        if tags.iter().any(|t| t.trim().is_empty()) {
            self.add(place, "tags must not be empty");
        }
    }

    fn names<'a>(&mut self, place: &str, names: impl Iterator<Item = &'a str>) {
        let mut seen: Vec<&str> = Vec::new();
        for n in names {
            if seen.contains(&n) {
                self.add(place, format!("rule name `{n}` is used twice"));
            }
            seen.push(n);
        }
        if seen.len() > MAX_RULES {
            self.add(place, format!("at most {MAX_RULES} rules, not {}", seen.len()));
        }
    }

    fn fraction(&mut self, place: &str, v: f64, max: f64) {
        if !(v.is_finite() && v > 0.0 && v <= max) {
            self.add(place, format!("must be greater than 0 and at most {max}, not {v}"));
        }
    }
}

/// A dotted field path: non-empty, no white space, no empty segment.
fn check_path(p: &str) -> Result<(), String> {
    if p.is_empty()
        || p.len() > 256
        || p.chars().any(char::is_whitespace)
        || p.split('.').any(str::is_empty)
    {
        return Err(format!("`{p}` is not a dotted field path like `host.name`"));
    }
    Ok(())
}

impl AnomalyConfig {
    /// Check every value; the error lists every problem found, each with its place
    /// (`rare.rules[1] (host-process).key: must name at least one field`).
    pub fn validate(&self) -> Result<(), AnomalyError> {
        let mut p = Problems(Vec::new());
        let secs = Duration::from_secs;

        let fs = &self.first_seen;
        p.period("first_seen.learning_period", fs.learning_period, secs(0), MAX_PERIOD);
        p.period("first_seen.forget_after", fs.forget_after, secs(3600), MAX_PERIOD);
        p.cap("first_seen.max_entities", fs.max_entities, 10_000_000);
        p.cap("first_seen.max_values", fs.max_values, 4_096);
        p.names("first_seen.rules", fs.rules.iter().map(|r| r.name.as_str()));
        for (i, r) in fs.rules.iter().enumerate() {
            let at = format!("first_seen.rules[{i}] ({})", r.name);
            p.rule_common(&at, &r.name, &r.title, &r.tags);
            p.fields(&format!("{at}.entity"), &r.entity, true);
            p.fields(&format!("{at}.values"), &r.values, false);
            p.fields(&format!("{at}.labels"), &r.labels, true);
            for v in &r.values {
                if r.entity.contains(v) {
                    p.add(&format!("{at}.values"), format!("`{v}` is also an entity field"));
                }
            }
            p.conditions(&format!("{at}.when"), &r.when);
            p.conditions(&format!("{at}.unless"), &r.unless);
            if let Some(l) = r.learning_period {
                p.period(&format!("{at}.learning_period"), l, secs(0), MAX_PERIOD);
            }
            if let Some(v) = r.max_values {
                p.cap(&format!("{at}.max_values"), v, 4_096);
            }
        }

        let ra = &self.rare;
        p.period("rare.learning_period", ra.learning_period, secs(0), MAX_PERIOD);
        p.period("rare.window", ra.window, secs(3600), MAX_PERIOD);
        p.fraction("rare.min_count", ra.min_count, 1e9);
        p.fraction("rare.max_share", ra.max_share, 1.0);
        p.cap("rare.max_scopes", ra.max_scopes, 1_000_000);
        p.cap("rare.max_values", ra.max_values, 100_000);
        p.names("rare.rules", ra.rules.iter().map(|r| r.name.as_str()));
        for (i, r) in ra.rules.iter().enumerate() {
            let at = format!("rare.rules[{i}] ({})", r.name);
            p.rule_common(&at, &r.name, &r.title, &r.tags);
            p.fields(&format!("{at}.scope"), &r.scope, true);
            p.fields(&format!("{at}.key"), &r.key, false);
            for v in &r.key {
                if r.scope.contains(v) {
                    p.add(&format!("{at}.key"), format!("`{v}` is also a scope field"));
                }
            }
            p.conditions(&format!("{at}.when"), &r.when);
            p.conditions(&format!("{at}.unless"), &r.unless);
            if let Some(v) = r.min_count {
                p.fraction(&format!("{at}.min_count"), v, 1e9);
            }
            if let Some(v) = r.max_share {
                p.fraction(&format!("{at}.max_share"), v, 1.0);
            }
        }

        let vo = &self.volume;
        p.period("volume.bucket", vo.bucket, secs(1), secs(3600));
        if vo.bucket.subsec_nanos() != 0 || !DAY.is_multiple_of(vo.bucket.as_secs().max(1)) {
            p.add("volume.bucket", "must be a whole number of seconds that divides a day");
        }
        p.period("volume.learning_period", vo.learning_period, secs(0), MAX_PERIOD);
        if vo.min_buckets > 1_000_000 {
            p.add("volume.min_buckets", format!("must be at most 1000000, not {}", vo.min_buckets));
        }
        p.period("volume.half_life", vo.half_life, vo.bucket, MAX_PERIOD);
        p.period("volume.peak_half_life", vo.peak_half_life, vo.bucket, MAX_PERIOD);
        p.period("volume.max_lateness", vo.max_lateness, secs(0), secs(DAY));
        p.fraction("volume.z", vo.z, 1e6);
        if !(vo.peak_factor.is_finite() && (0.0..=1e6).contains(&vo.peak_factor)) {
            p.add(
                "volume.peak_factor",
                format!("must be between 0 and 1000000, not {}", vo.peak_factor),
            );
        }
        if vo.min_count == 0 {
            p.add("volume.min_count", "must be at least 1");
        }
        p.cap("volume.max_series", vo.max_series, 10_000_000);
        p.names("volume.rules", vo.rules.iter().map(|r| r.name.as_str()));
        for (i, r) in vo.rules.iter().enumerate() {
            let at = format!("volume.rules[{i}] ({})", r.name);
            p.rule_common(&at, &r.name, &r.title, &r.tags);
            p.fields(&format!("{at}.entity"), &r.entity, true);
            p.fields(&format!("{at}.category"), &r.category, true);
            p.conditions(&format!("{at}.when"), &r.when);
            p.conditions(&format!("{at}.unless"), &r.unless);
            if let Some(z) = r.z {
                p.fraction(&format!("{at}.z"), z, 1e6);
            }
            if r.min_count == Some(0) {
                p.add(&format!("{at}.min_count"), "must be at least 1");
            }
        }

        if p.0.is_empty() { Ok(()) } else { Err(AnomalyError::InvalidConfig(p.0)) }
    }
}
