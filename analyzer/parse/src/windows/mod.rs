//! Windows event logs sent as JSON, normalized to one layout whatever the shipper: ECS plus the
//! winlogbeat `winlog.*` fields.
//!
//! Three input shapes are recognized by [`detect`] (inside [`crate::normalize_json`]):
//!
//! * **evtx** ([`Shape::Evtx`]): the `evtx` crate / `evtx_dump` JSON, `{"Event": {"System": {…},
//!   "EventData": {…}, "UserData": {…}}}`, attributes under `#attributes` (the `@Name` form of
//!   XML-to-JSON converters is read too);
//! * **winlogbeat** ([`Shape::Winlogbeat`]): a `winlog` object or flat `winlog.*` keys, as
//!   winlogbeat and the Elastic Agent send them;
//! * **flat** ([`Shape::Flat`]): top-level `EventID` and `Channel`, as NXLog `im_msvistalog`, the
//!   Mordor / Security-Datasets NDJSON and Microsoft Sentinel (`SecurityEvent`, `WindowsEvent`)
//!   exports write them: system fields and event data side by side at the top level.
//!
//! The output layout is documented in the crate docs (`lib.rs`, "Windows event logs").
//! Everything here is hand-written scanning over `serde_json` values: no regex.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use sen_core::event::{Event, Value};
use serde_json::Map;
use serde_json::Value as Json;

use crate::{Context, Outcome, ParseError, Parser};

mod map;
mod read;
mod xml;

#[cfg(test)]
mod tests;

/// Which shipper's layout a Windows event object has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `{"Event": {"System": …}}` (evtx crate, evtx_dump, XML-to-JSON converters).
    Evtx,
    /// winlogbeat / Elastic Agent: `winlog.*`.
    Winlogbeat,
    /// NXLog, Mordor, Sentinel: top-level `EventID` + `Channel`.
    Flat,
}

/// The shape of a Windows event object, or `None` when the object is not one.
pub(crate) fn detect(obj: &Map<String, Json>) -> Option<Shape> {
    if let Some(Json::Object(ev)) = obj.get("Event")
        && ev.contains_key("System")
    {
        return Some(Shape::Evtx);
    }
    if matches!(obj.get("winlog"), Some(Json::Object(_)))
        || obj.keys().any(|k| k.starts_with("winlog."))
    {
        return Some(Shape::Winlogbeat);
    }
    if obj.contains_key("EventID") && obj.contains_key("Channel") {
        return Some(Shape::Flat);
    }
    None
}

/// Normalize a Windows event object of the given shape into `event`. Never panics; an object that
/// lacks what every Windows event has (an `EventID`, a readable `System`) or carries an unreadable
/// time keeps whatever could be read and is tagged `_parse_failure` with an `error.message`.
pub(crate) fn normalize(
    event: &mut Event,
    obj: Map<String, Json>,
    shape: Shape,
    ctx: &Context,
    out: &mut Outcome,
) {
    let w = match shape {
        Shape::Evtx => read::evtx(obj),
        Shape::Winlogbeat => read::winlogbeat(obj),
        Shape::Flat => read::flat(obj, ctx),
    };
    emit(event, w, out);
}

/// `winlog.user.*`: the account of the `System/Security` element.
#[derive(Debug, Default)]
struct WinUser {
    identifier: Option<String>,
    name: Option<String>,
    domain: Option<String>,
    kind: Option<String>,
}

/// Whether a Security audit succeeded (from the audit keywords or NXLog's `EventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audit {
    Success,
    Failure,
}

/// What was read from one Windows event, whatever its shape.
#[derive(Debug, Default)]
struct Win {
    event_id: Option<i64>,
    channel: Option<String>,
    provider: Option<String>,
    provider_guid: Option<String>,
    computer: Option<String>,
    record_id: Option<i64>,
    pid: Option<i64>,
    tid: Option<i64>,
    user: WinUser,
    /// `log.level` (`information`, `warning` …).
    level: Option<String>,
    task: Option<String>,
    opcode: Option<String>,
    version: Option<i64>,
    /// The keywords bit mask, when the input has it.
    keywords: Option<u64>,
    /// Keyword names, when the input has them (winlogbeat, RenderingInfo).
    keyword_names: Vec<String>,
    audit: Option<Audit>,
    activity_id: Option<String>,
    related_activity_id: Option<String>,
    message: Option<String>,
    time: Option<DateTime<Utc>>,
    /// `EventData` fields, in input order (text, or lists of text).
    data: Vec<(String, Value)>,
    /// `UserData` fields, and the name of the `UserData` child element.
    user_data: Vec<(String, Value)>,
    user_data_name: Option<String>,
    processing_error: Vec<(String, Value)>,
    /// The sender's own `host.name` (winlogbeat: the shipper's host), used when the event names
    /// no computer.
    sender_host: Option<String>,
    /// Other fields the sender set (winlogbeat `agent.*`, `ecs.*` …), kept as they are.
    extra: Vec<(sen_core::Name, Value)>,
    /// Why the object is malformed.
    errors: Vec<String>,
}

/// Write what was read into the event: sender fields first, then the `winlog.*` layout and the
/// ECS mappings, which win over the sender's.
fn emit(event: &mut Event, w: Win, out: &mut Outcome) {
    out.push(Parser::Windows);
    let Win {
        event_id,
        channel,
        provider,
        provider_guid,
        computer,
        record_id,
        pid,
        tid,
        user,
        level,
        task,
        opcode,
        version,
        keywords,
        mut keyword_names,
        mut audit,
        activity_id,
        related_activity_id,
        message,
        time,
        data,
        user_data,
        user_data_name,
        processing_error,
        sender_host,
        extra,
        mut errors,
    } = w;
    for (k, v) in extra {
        crate::json::put_explicit(event, k, v);
    }
    if let Some(t) = time {
        event.timestamp = t;
    }
    let channel = channel.map(canonical_channel);
    match event_id {
        Some(id) => {
            put_int(event, "winlog.event_id", id);
            put(event, "event.code", id.to_string());
        }
        None if errors.is_empty() => errors.push("no EventID".to_owned()),
        None => {}
    }
    if let Some(c) = &channel {
        put(event, "winlog.channel", c.clone());
    }
    if let Some(p) = &provider {
        put(event, "winlog.provider_name", p.clone());
        put(event, "event.provider", p.clone());
    }
    if let Some(g) = provider_guid {
        put(event, "winlog.provider_guid", g);
    }
    match computer {
        Some(c) => {
            put(event, "host.name", c.clone());
            put(event, "winlog.computer_name", c);
        }
        None => {
            if let Some(h) = sender_host {
                put(event, "host.name", h);
            }
        }
    }
    if let Some(r) = record_id {
        put_int(event, "winlog.record_id", r);
    }
    if let Some(p) = pid {
        put_int(event, "winlog.process.pid", p);
    }
    if let Some(t) = tid {
        put_int(event, "winlog.process.thread.id", t);
    }
    if let Some(v) = user.identifier {
        put(event, "winlog.user.identifier", v);
    }
    if let Some(v) = user.name {
        put(event, "winlog.user.name", v);
    }
    if let Some(v) = user.domain {
        put(event, "winlog.user.domain", v);
    }
    if let Some(v) = user.kind {
        put(event, "winlog.user.type", v);
    }
    if let Some(l) = level {
        put(event, "log.level", l);
    }
    if let Some(t) = task {
        put(event, "winlog.task", t);
    }
    if let Some(o) = opcode {
        put(event, "winlog.opcode", o);
    }
    if let Some(v) = version {
        put_int(event, "winlog.version", v);
    }
    if let Some(k) = keywords {
        for (bit, name) in KEYWORD_BITS {
            if k & bit != 0 && !keyword_names.iter().any(|n| n == name) {
                keyword_names.push(name.to_owned());
            }
        }
        if audit.is_none() {
            audit = audit_of_bits(k);
        }
    }
    if audit.is_none() {
        audit = keyword_names.iter().find_map(|n| audit_of_name(n));
    }
    if !keyword_names.is_empty() {
        event.fields.insert(
            "winlog.keywords".to_owned(),
            Value::List(keyword_names.into_iter().map(Value::Str).collect()),
        );
    }
    if let Some(a) = activity_id {
        put(event, "winlog.activity_id", a);
    }
    if let Some(a) = related_activity_id {
        put(event, "winlog.related_activity_id", a);
    }
    if let Some(m) = message {
        put(event, "message", m);
    }

    let is_sysmon = provider.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(SYSMON))
        || channel.as_deref() == Some(SYSMON_CHANNEL);
    let (module, dataset) = if is_sysmon {
        ("sysmon", "windows.sysmon_operational")
    } else {
        ("windows", dataset_of(channel.as_deref()))
    };
    crate::ecs::module(event, module, dataset);

    if let Some(id) = event_id {
        let fields = map::Fields { data: &data, user_data: &user_data };
        let is_security = channel.as_deref() == Some("Security")
            || provider.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(SECURITY_PROVIDER));
        if is_sysmon {
            map::sysmon(event, id, &fields);
        } else if is_security {
            map::security(event, id, &fields, audit);
        } else {
            map::other(event, id, channel.as_deref(), &fields);
        }
    }

    for (k, v) in data {
        event.fields.insert(prefixed("winlog.event_data.", &k), v);
    }
    for (k, v) in user_data {
        event.fields.insert(prefixed("winlog.user_data.", &k), v);
    }
    if let Some(n) = user_data_name {
        put(event, "winlog.user_data.xml_name", n);
    }
    for (k, v) in processing_error {
        event.fields.insert(prefixed("winlog.processing_error_data.", &k), v);
    }
    if !errors.is_empty() {
        let reason = format!("Windows event: {}", errors.join("; "));
        crate::json::reject(event, out, ParseError::new("windows", reason));
    }
}

const SYSMON: &str = "Microsoft-Windows-Sysmon";
const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";
const SECURITY_PROVIDER: &str = "Microsoft-Windows-Security-Auditing";

/// Standard keyword bits (`winmeta.xml`) and the names winlogbeat renders for them.
const KEYWORD_BITS: [(u64, &str); 8] = [
    (0x0001_0000_0000_0000, "Response Time"),
    (0x0002_0000_0000_0000, "WDI Context"),
    (0x0004_0000_0000_0000, "WDI Diag"),
    (0x0008_0000_0000_0000, "SQM"),
    (0x0010_0000_0000_0000, "Audit Failure"),
    (0x0020_0000_0000_0000, "Audit Success"),
    (0x0040_0000_0000_0000, "Correlation Hint"),
    (0x0080_0000_0000_0000, "Classic"),
];

fn audit_of_bits(k: u64) -> Option<Audit> {
    if k & 0x0010_0000_0000_0000 != 0 {
        Some(Audit::Failure)
    } else if k & 0x0020_0000_0000_0000 != 0 {
        Some(Audit::Success)
    } else {
        None
    }
}

fn audit_of_name(n: &str) -> Option<Audit> {
    if n.eq_ignore_ascii_case("Audit Failure") || n.eq_ignore_ascii_case("AUDIT_FAILURE") {
        Some(Audit::Failure)
    } else if n.eq_ignore_ascii_case("Audit Success") || n.eq_ignore_ascii_case("AUDIT_SUCCESS") {
        Some(Audit::Success)
    } else {
        None
    }
}

/// Well-known channel names in their canonical spelling (channel names are case-insensitive on
/// Windows; NXLog and some collectors lower-case them).
const CHANNELS: [&str; 7] = [
    "Security",
    "System",
    "Application",
    SYSMON_CHANNEL,
    "Windows PowerShell",
    "Microsoft-Windows-PowerShell/Operational",
    "ForwardedEvents",
];

fn canonical_channel(c: String) -> String {
    match CHANNELS.iter().find(|k| k.eq_ignore_ascii_case(&c)) {
        Some(k) if **k != c => (*k).to_owned(),
        _ => c,
    }
}

fn dataset_of(channel: Option<&str>) -> &'static str {
    match channel {
        Some("Security") => "windows.security",
        Some("System") => "windows.system",
        Some("Application") => "windows.application",
        Some("Windows PowerShell") => "windows.powershell",
        Some("Microsoft-Windows-PowerShell/Operational") => "windows.powershell_operational",
        Some("ForwardedEvents") => "windows.forwarded",
        _ => "windows.eventlog",
    }
}

/// `log.level` for a numeric event level (winlogbeat's names; 0, "log always", is how audit
/// events are written and reads as information).
fn level_name(level: i64) -> Option<&'static str> {
    Some(match level {
        0 | 4 => "information",
        1 => "critical",
        2 => "error",
        3 => "warning",
        5 => "verbose",
        _ => return None,
    })
}

/// `log.level` for a level written as a word (NXLog `Severity`, Sentinel `EventLevelName`).
fn level_word(word: &str) -> Option<&'static str> {
    let w = word.trim();
    let eq = |s: &str| w.eq_ignore_ascii_case(s);
    Some(if eq("INFO") || eq("information") || eq("informational") {
        "information"
    } else if eq("WARNING") || eq("warn") {
        "warning"
    } else if eq("ERROR") {
        "error"
    } else if eq("CRITICAL") {
        "critical"
    } else if eq("DEBUG") || eq("verbose") {
        "verbose"
    } else {
        return None;
    })
}

#[inline]
fn put(e: &mut Event, path: &str, v: String) {
    e.fields.insert(path.to_owned(), Value::Str(v));
}

#[inline]
fn put_int(e: &mut Event, path: &str, v: i64) {
    e.fields.insert(path.to_owned(), Value::Int(v));
}

fn prefixed(prefix: &str, k: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + k.len());
    s.push_str(prefix);
    s.push_str(k);
    s
}

/// An integer written as a JSON number, a decimal string or a `0x` hex string.
fn int_of(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)).or_else(|| {
            n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)
        }),
        Json::String(s) => int_text(s),
        Json::Object(m) => m.get("#text").and_then(int_of),
        _ => None,
    }
}

/// An integer written as decimal or `0x` hex text.
fn int_text(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|u| u as i64),
        None => s.parse().ok(),
    }
}

/// An `EventID`: a non-negative integer that fits 32 bits (16 bits plus qualifiers in legacy
/// sources).
fn event_id_of(v: &Json, errors: &mut Vec<String>) -> Option<i64> {
    match int_of(v).filter(|n| (0..=i64::from(u32::MAX)).contains(n)) {
        Some(n) => Some(n),
        None => {
            errors.push(format!("EventID is not an event number: {}", short(&v.to_string())));
            None
        }
    }
}

/// Text of a scalar JSON value (`#text` of an element object).
fn text_of(v: Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Object(mut m) => m.remove("#text").and_then(text_of),
        Json::Null | Json::Array(_) => None,
    }
}

/// At most 64 bytes of `s`, for error messages.
fn short(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// A time as Windows shippers write it, and whether it carried its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WinTime {
    Zoned(DateTime<Utc>),
    Naive(NaiveDateTime),
}

/// `2019-05-12T17:20:01.980574Z`, `2020-10-12 18:32:50`, `2019-05-12 17:20:01.980574 UTC`,
/// `…+02:00`, `…7724491Z` (up to 9 fraction digits).
fn parse_time(s: &str) -> Option<WinTime> {
    let s = s.trim();
    let (t, n) = crate::time::iso8601(s.as_bytes())?;
    let rest = s.get(n..)?.trim();
    match t {
        crate::time::LogTime::Zoned(z) if rest.is_empty() => Some(WinTime::Zoned(z.to_utc())),
        crate::time::LogTime::Local(naive) if rest.is_empty() => Some(WinTime::Naive(naive)),
        crate::time::LogTime::Local(naive) => {
            let off = crate::time::zone_offset(rest)?;
            Some(WinTime::Zoned(off.from_local_datetime(&naive).single()?.to_utc()))
        }
        _ => None,
    }
}

/// The UTC offset of a collector's local clock, from the same instant written in local time
/// (`local`, e.g. NXLog's `EventReceivedTime`) and in UTC (`utc`, e.g. Logstash's `@timestamp`,
/// set moments later). Accepted when it is a whole number of quarter hours within a few minutes
/// and at most 14 hours.
fn infer_offset(local: NaiveDateTime, utc: DateTime<Utc>) -> Option<Duration> {
    let diff = local.and_utc() - utc;
    let quarter = 15 * 60;
    let secs = diff.num_seconds();
    let rounded = (secs + secs.signum() * quarter / 2) / quarter * quarter;
    ((secs - rounded).abs() <= 300 && rounded.abs() <= 14 * 3600)
        .then(|| Duration::seconds(rounded))
}
