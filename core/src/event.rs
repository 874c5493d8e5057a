//! The normalized event: Elastic Common Schema (ECS) field names, a few typed hot fields, and a
//! flexible remainder keyed by dotted ECS path.
//!
//! Architecture invariant: this module depends on nothing internal. Every component downstream
//! (parsers, enrichment, index, detection, console) reads fields through [`Event::get`], the one
//! dotted-path lookup, so a field means the same thing everywhere.
//!
//! JSON form: a flat object whose keys are dotted ECS paths (`"source.ip": "203.0.113.7"`),
//! `@timestamp` first. Input accepts both the flat and the nested (`{"source":{"ip":…}}`) shapes.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::fields::{Fields, Name};

/// Dotted path of the event timestamp.
pub const TIMESTAMP: &str = "@timestamp";
/// Dotted path of the stable event id.
pub const EVENT_ID: &str = "event.id";
/// Dotted path of the original, unparsed text.
pub const EVENT_ORIGINAL: &str = "event.original";
/// Dotted path of the tenant (agency) id.
pub const ORGANIZATION_ID: &str = "organization.id";
/// Dotted path of tags (e.g. the parse-failure tag).
pub const TAGS: &str = "tags";
/// Tag added to events that no parser understood (they are still indexed with their raw text).
pub const TAG_PARSE_FAILURE: &str = "_parse_failure";

/// One field value. Typed where the type matters for search and detection (IPs, times, numbers).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text or keyword.
    Str(String),
    /// Signed integer.
    Int(i64),
    /// Floating point number.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// IPv4 or IPv6 address (ECS `*.ip` fields).
    Ip(IpAddr),
    /// Point in time (UTC).
    Time(DateTime<Utc>),
    /// Array of values.
    List(Vec<Value>),
    /// Anything the model does not type (objects inside arrays, for instance). Boxed: it is
    /// rare, and unboxed it would make every value (and every event entry) twice as large.
    Json(Box<serde_json::Value>),
}

impl Value {
    /// An untyped JSON value.
    pub fn json(v: serde_json::Value) -> Value {
        Value::Json(Box::new(v))
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer, converting floats without fraction and numeric strings.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as an IP address (parses text too).
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Value::Ip(ip) => Some(*ip),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Render the value as display text (used for keyword indexing and aggregations).
    pub fn to_text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Ip(ip) => ip.to_string(),
            Value::Time(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            Value::List(l) => l.iter().map(Value::to_text).collect::<Vec<_>>().join(", "),
            Value::Json(j) => j.to_string(),
        }
    }

    /// Convert to plain JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Bool(b) => (*b).into(),
            Value::Ip(ip) => serde_json::Value::String(ip.to_string()),
            Value::Time(t) => {
                serde_json::Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Json(j) => (**j).clone(),
        }
    }

    /// Build a typed value from JSON for the field at `path` (IP fields become [`Value::Ip`],
    /// known time fields [`Value::Time`]). Returns `None` for JSON null.
    pub fn from_json(path: &str, v: serde_json::Value) -> Option<Value> {
        Some(match v {
            serde_json::Value::Null => return None,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => typed_string(path, s),
            serde_json::Value::Array(items) => {
                if items.iter().any(|i| i.is_object() || i.is_array()) {
                    Value::json(serde_json::Value::Array(items))
                } else {
                    Value::List(
                        items.into_iter().filter_map(|i| Value::from_json(path, i)).collect(),
                    )
                }
            }
            obj @ serde_json::Value::Object(_) => Value::json(obj),
        })
    }
}

fn is_ip_path(path: &str) -> bool {
    path.ends_with(".ip") || path == "ip"
}

fn is_time_path(path: &str) -> bool {
    matches!(path, "@timestamp" | "event.created" | "event.ingested" | "event.start" | "event.end")
}

fn typed_string(path: &str, s: String) -> Value {
    if is_ip_path(path) {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Value::Ip(ip);
        }
    } else if is_time_path(path)
        && let Ok(t) = DateTime::parse_from_rfc3339(&s)
    {
        return Value::Time(t.with_timezone(&Utc));
    }
    Value::Str(s)
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<u16> for Value {
    fn from(i: u16) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<IpAddr> for Value {
    fn from(ip: IpAddr) -> Self {
        Value::Ip(ip)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Self {
        Value::Time(t)
    }
}

/// A borrowed view of one field, as returned by [`Event::get`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    /// Text.
    Str(&'a str),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// IP address.
    Ip(IpAddr),
    /// Time.
    Time(DateTime<Utc>),
    /// Array.
    List(&'a [Value]),
    /// Untyped JSON.
    Json(&'a serde_json::Value),
}

impl<'a> FieldRef<'a> {
    /// Borrow from a value.
    pub fn of(v: &'a Value) -> Self {
        match v {
            Value::Str(s) => FieldRef::Str(s),
            Value::Int(i) => FieldRef::Int(*i),
            Value::Float(f) => FieldRef::Float(*f),
            Value::Bool(b) => FieldRef::Bool(*b),
            Value::Ip(ip) => FieldRef::Ip(*ip),
            Value::Time(t) => FieldRef::Time(*t),
            Value::List(l) => FieldRef::List(l),
            Value::Json(j) => FieldRef::Json(j),
        }
    }

    /// Text, if the field is text.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            FieldRef::Str(s) => Some(s),
            FieldRef::Json(serde_json::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Display text of the field.
    pub fn to_text(&self) -> String {
        match self {
            FieldRef::Str(s) => (*s).to_owned(),
            FieldRef::Int(i) => i.to_string(),
            FieldRef::Float(f) => f.to_string(),
            FieldRef::Bool(b) => b.to_string(),
            FieldRef::Ip(ip) => ip.to_string(),
            FieldRef::Time(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            FieldRef::List(l) => l.iter().map(Value::to_text).collect::<Vec<_>>().join(", "),
            FieldRef::Json(serde_json::Value::String(s)) => s.clone(),
            FieldRef::Json(j) => j.to_string(),
        }
    }
}

/// The normalized event.
///
/// Hot fields every event has are typed members; everything else lives in `fields`, keyed by
/// dotted ECS path. Use [`Event::get`] / [`Event::set`] rather than touching `fields` for the hot
/// paths (`@timestamp`, `event.id`, `event.original`, `organization.id`): they route to the members.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Stable id derived from the event's origin (see [`derive_id`]); a replay re-produces it.
    pub id: String,
    /// `@timestamp`: when the event happened (UTC).
    pub timestamp: DateTime<Utc>,
    /// `event.original`: the text as received, always kept.
    pub original: String,
    /// `organization.id`: the tenant (agency).
    pub organization: Option<String>,
    /// Every other field, by dotted ECS path.
    pub fields: Fields,
}

impl Event {
    /// A new event with the given origin-derived id, time and original text.
    pub fn new(id: String, timestamp: DateTime<Utc>, original: impl Into<String>) -> Self {
        Event {
            id,
            timestamp,
            original: original.into(),
            organization: None,
            fields: Fields::new(),
        }
    }

    /// The one dotted-path field lookup. Paths below an untyped JSON value are walked too
    /// (`winlog.event_data.TargetUserName` inside a `winlog` object).
    pub fn get(&self, path: &str) -> Option<FieldRef<'_>> {
        match path {
            TIMESTAMP => return Some(FieldRef::Time(self.timestamp)),
            EVENT_ID => return Some(FieldRef::Str(&self.id)),
            EVENT_ORIGINAL => return Some(FieldRef::Str(&self.original)),
            ORGANIZATION_ID => return self.organization.as_deref().map(FieldRef::Str),
            _ => {}
        }
        if let Some(v) = self.fields.get(path) {
            return Some(FieldRef::of(v));
        }
        // Walk into an untyped JSON object stored under a prefix of the path.
        let mut end = path.len();
        while let Some(dot) = path[..end].rfind('.') {
            if let Some(Value::Json(j)) = self.fields.get(&path[..dot]) {
                let mut cur: &serde_json::Value = j;
                for part in path[dot + 1..].split('.') {
                    cur = cur.get(part)?;
                }
                return match cur {
                    serde_json::Value::Null => None,
                    other => Some(FieldRef::Json(other)),
                };
            }
            end = dot;
        }
        None
    }

    /// Text of a field, if it is text.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(|f| f.as_str())
    }

    /// Set a field by dotted path (hot paths route to the typed members).
    pub fn set(&mut self, path: &str, value: impl Into<Value>) {
        let value = value.into();
        match path {
            TIMESTAMP => match value {
                Value::Time(t) => self.timestamp = t,
                Value::Str(s) => {
                    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
                        self.timestamp = t.with_timezone(&Utc);
                    }
                }
                _ => {}
            },
            EVENT_ID => self.id = value.to_text(),
            EVENT_ORIGINAL => self.original = value.to_text(),
            ORGANIZATION_ID => self.organization = Some(value.to_text()),
            _ => match value {
                // Objects are stored flat, by dotted path, like everything else.
                Value::Json(obj) if obj.is_object() => {
                    flatten_into(&mut self.fields, path.to_owned(), *obj);
                }
                value => {
                    self.fields.insert(path, value);
                }
            },
        }
    }

    /// Set a field only if it is not set yet.
    pub fn set_default(&mut self, path: &str, value: impl Into<Value>) {
        if self.get(path).is_none() {
            self.set(path, value);
        }
    }

    /// Remove a field from the remainder.
    pub fn remove(&mut self, path: &str) -> Option<Value> {
        self.fields.remove(path)
    }

    /// Append a value to an array field (`tags`, `event.category`, `event.type` …), without
    /// duplicates.
    pub fn push(&mut self, path: &str, value: &str) {
        let entry = self.fields.entry(path).or_insert_with(|| Value::List(Vec::new()));
        match entry {
            Value::List(items) => {
                if !items.iter().any(|i| i.as_str() == Some(value)) {
                    items.push(Value::Str(value.to_owned()));
                }
            }
            other => {
                let prev = std::mem::replace(other, Value::List(Vec::new()));
                if let Value::List(items) = other {
                    if prev.as_str() != Some(value) {
                        items.push(prev);
                    }
                    items.push(Value::Str(value.to_owned()));
                }
            }
        }
    }

    /// Add a tag.
    pub fn add_tag(&mut self, tag: &str) {
        self.push(TAGS, tag);
    }

    /// Whether the event carries a tag.
    pub fn has_tag(&self, tag: &str) -> bool {
        match self.fields.get(TAGS) {
            Some(Value::List(items)) => items.iter().any(|i| i.as_str() == Some(tag)),
            Some(Value::Str(s)) => s == tag,
            _ => false,
        }
    }

    /// Build an event from a JSON object (flat dotted or nested ECS). `@timestamp` and `event.id`
    /// are required; use [`flatten_json`] to get at a partial object.
    pub fn from_json_map(
        map: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Event, EventError> {
        let mut flat = Fields::new();
        flatten_into(&mut flat, String::new(), serde_json::Value::Object(map));
        let timestamp = match flat.remove(TIMESTAMP) {
            Some(Value::Time(t)) => t,
            Some(other) => return Err(EventError::BadTimestamp(other.to_text())),
            None => return Err(EventError::Missing(TIMESTAMP)),
        };
        let id = match flat.remove(EVENT_ID) {
            Some(v) => v.to_text(),
            None => return Err(EventError::Missing(EVENT_ID)),
        };
        let original = flat.remove(EVENT_ORIGINAL).map(|v| v.to_text()).unwrap_or_default();
        let organization = flat.remove(ORGANIZATION_ID).map(|v| v.to_text());
        Ok(Event { id, timestamp, original, organization, fields: flat })
    }

    /// The flat dotted JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Serialize to compact JSON text.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Errors building an event.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// `@timestamp` is not RFC 3339.
    #[error("`@timestamp` is not an RFC 3339 time: {0}")]
    BadTimestamp(String),
    /// Not a JSON object.
    #[error("event must be a JSON object")]
    NotObject,
}

/// Flatten a JSON object into dotted paths with typed values.
pub fn flatten_json(v: serde_json::Value) -> Result<Fields, EventError> {
    if !v.is_object() {
        return Err(EventError::NotObject);
    }
    let mut out = Fields::new();
    flatten_into(&mut out, String::new(), v);
    Ok(out)
}

fn flatten_into(out: &mut Fields, prefix: String, v: serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            if map.is_empty() && !prefix.is_empty() {
                return;
            }
            for (k, v) in map {
                let path = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                flatten_into(out, path, v);
            }
        }
        other => {
            if let Some(value) = Value::from_json(&prefix, other) {
                out.insert(prefix, value);
            }
        }
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let extra = usize::from(self.organization.is_some());
        let mut map = s.serialize_map(Some(3 + extra + self.fields.len()))?;
        map.serialize_entry(
            TIMESTAMP,
            &self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )?;
        map.serialize_entry(EVENT_ID, &self.id)?;
        if let Some(org) = &self.organization {
            map.serialize_entry(ORGANIZATION_ID, org)?;
        }
        for (k, v) in &self.fields {
            map.serialize_entry(k, &ValueSer(v))?;
        }
        map.serialize_entry(EVENT_ORIGINAL, &self.original)?;
        map.end()
    }
}

struct ValueSer<'a>(&'a Value);

impl Serialize for ValueSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Str(v) => s.serialize_str(v),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Ip(ip) => s.collect_str(ip),
            Value::Time(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::List(items) => s.collect_seq(items.iter().map(ValueSer)),
            Value::Json(j) => j.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        Event::from_json_map(map).map_err(D::Error::custom)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_string())
    }
}

/// Derive a stable event id from the parts that identify where an event came from (for
/// instance `["bus", topic, partition, offset]`, or `["http", batch id, line index]`, or
/// `["agent", agent id, stream, offset]`). The same parts always give the same id, so a
/// replay after a crash re-produces it and indexing stays idempotent.
pub fn derive_id(parts: &[&[u8]]) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    format!("{:032x}", h.digest128())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        let t =
            DateTime::parse_from_rfc3339("2026-11-26T10:00:00.123Z").unwrap().with_timezone(&Utc);
        let mut e = Event::new(derive_id(&[b"test", b"1"]), t, "Nov 26 10:00:00 web01 sshd[1]: hi");
        e.organization = Some("stttt".into());
        e.set("source.ip", "203.0.113.7".parse::<IpAddr>().unwrap());
        e.set("source.port", 2222i64);
        e.set("user.name", "root");
        e.push("event.category", "authentication");
        e.add_tag("demo");
        e.set("winlog", Value::json(serde_json::json!({"event_data": {"User": "bob"}})));
        e
    }

    #[test]
    fn lookup_hot_and_remainder() {
        let e = sample();
        assert_eq!(e.get("organization.id"), Some(FieldRef::Str("stttt")));
        assert_eq!(e.get("source.ip"), Some(FieldRef::Ip("203.0.113.7".parse().unwrap())));
        assert_eq!(e.get("source.port"), Some(FieldRef::Int(2222)));
        assert_eq!(e.get_str("winlog.event_data.User"), Some("bob"));
        assert_eq!(e.get("winlog.event_data.Nope"), None);
        assert_eq!(e.get("nope"), None);
        assert!(e.has_tag("demo"));
        assert!(!e.has_tag("other"));
    }

    #[test]
    fn json_round_trip_flat() {
        let e = sample();
        let text = e.to_json_string();
        assert!(text.starts_with("{\"@timestamp\":\"2026-11-26T10:00:00.123Z\""));
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn nested_input_is_flattened() {
        let v = serde_json::json!({
            "@timestamp": "2026-11-26T10:00:00Z", "event": {"id": "x", "original": "o"},
            "source": {"ip": "10.0.0.1", "port": 22}, "tags": ["a", "b"]
        });
        let e: Event = serde_json::from_value(v).unwrap();
        assert_eq!(e.id, "x");
        assert_eq!(e.get("source.ip"), Some(FieldRef::Ip("10.0.0.1".parse().unwrap())));
        assert!(e.has_tag("b"));
    }

    #[test]
    fn missing_timestamp_is_an_error() {
        let v = serde_json::json!({"event.id": "x"});
        let err = serde_json::from_value::<Event>(v).unwrap_err();
        assert!(err.to_string().contains("@timestamp"), "{err}");
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derive_id(&[b"a", b"bc"]), derive_id(&[b"a", b"bc"]));
        assert_ne!(derive_id(&[b"a", b"bc"]), derive_id(&[b"ab", b"c"]));
        assert_eq!(derive_id(&[b"a"]).len(), 32);
    }
}
