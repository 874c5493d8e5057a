//! JSON objects: one per line, or from the HTTP ingest API.

use chrono::{DateTime, Utc};
use sen_core::event::{EVENT_ORIGINAL, Event, TAG_PARSE_FAILURE, TIMESTAMP, Value};

use crate::{Context, Format, Outcome, ParseError, Parser};

/// A JSON line: must be one object.
pub(crate) fn parse_line(
    event: &mut Event,
    line: &str,
    ctx: &Context,
    out: &mut Outcome,
) -> Result<(), ParseError> {
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| ParseError::new("json", format!("invalid JSON: {e}")))?;
    match v {
        serde_json::Value::Object(obj) => {
            normalize_object(event, obj, ctx, out);
            Ok(())
        }
        _ => Err(ParseError::new("json", "expected a JSON object")),
    }
}

/// Tag the event `_parse_failure` with `err` as its `error.message`.
pub(crate) fn reject(event: &mut Event, out: &mut Outcome, err: ParseError) {
    event.add_tag(TAG_PARSE_FAILURE);
    event.set("error.message", err.to_string());
    out.tagged = true;
    out.error = Some(err);
}

/// Apply the rules of [`crate::normalize_json`].
pub(crate) fn normalize_object(
    event: &mut Event,
    obj: serde_json::Map<String, serde_json::Value>,
    ctx: &Context,
    out: &mut Outcome,
) {
    out.push(Parser::Json);
    // Windows event logs (evtx_dump, winlogbeat, NXLog/Mordor) have their own normalization.
    if let Some(shape) = crate::windows::detect(&obj) {
        crate::windows::normalize(event, obj, shape, ctx, out);
        return;
    }
    if is_sentinel_syslog(&obj) {
        sentinel_syslog(event, obj, ctx, out);
        return;
    }
    // Zeek logs (Zeek's JSON writer, `_path`, `@stream`, or inside a shipper's envelope).
    let Some(obj) = crate::zeek::normalize(event, obj, ctx, out) else { return };
    let Ok(mut flat) = sen_core::event::flatten_json(serde_json::Value::Object(obj)) else {
        return;
    };

    // The raw line to parse, if any: `event.original` (explicit), else `message`.
    let explicit_original = match flat.remove(EVENT_ORIGINAL) {
        Some(Value::Str(s)) => Some(s),
        Some(other) => Some(other.to_text()),
        None => None,
    };
    if let Some(raw) = explicit_original {
        match parse_raw(&raw, ctx, out) {
            Ok(Some(parsed)) => merge(event, parsed),
            Ok(None) => {}
            Err(err) => {
                if !flat.contains_key("message") {
                    event.set("message", raw.as_str());
                }
                reject(event, out, err);
            }
        }
        event.original = raw;
    } else if let Some(Value::Str(m)) = flat.get("message")
        && let Ok(Some(parsed)) = parse_raw(m, ctx, out)
    {
        merge(event, parsed);
        if let Some(Value::Str(m)) = flat.remove("message") {
            event.original = m;
        }
    }

    // Explicit fields win over parsed ones.
    for (k, v) in flat {
        match k.as_str() {
            TIMESTAMP => match sender_time(&v) {
                Some(t) => event.timestamp = t,
                None => reject(event, out, bad_time(&v)),
            },
            _ => put_explicit(event, k, v),
        }
    }
}

/// A row of Microsoft Sentinel's / Log Analytics' `Syslog` table: `SyslogMessage` with
/// `Facility` or `Type: Syslog`.
fn is_sentinel_syslog(obj: &serde_json::Map<String, serde_json::Value>) -> bool {
    obj.get("SyslogMessage").is_some_and(serde_json::Value::is_string)
        && (obj.contains_key("Facility")
            || obj.get("Type").and_then(serde_json::Value::as_str) == Some("Syslog"))
}

/// A Sentinel `Syslog` row becomes the syslog record it was: header fields from the columns,
/// the message parsed by program and content like any syslog message (auoms audit records,
/// sshd …). Collector metadata (`TenantId`, `_ResourceId`, `MG`, `SourceSystem` …) is not event
/// data and stays only in `event.original`.
fn sentinel_syslog(
    event: &mut Event,
    obj: serde_json::Map<String, serde_json::Value>,
    ctx: &Context,
    out: &mut Outcome,
) {
    let s = |k: &str| obj.get(k).and_then(serde_json::Value::as_str).filter(|v| !v.is_empty());
    let time = s("EventTime").or_else(|| s("TimeGenerated"));
    if let Some(t) = time {
        match DateTime::parse_from_rfc3339(t) {
            Ok(t) => event.timestamp = t.to_utc(),
            Err(_) => reject(
                event,
                out,
                ParseError::new("json", format!("`EventTime` is not an RFC 3339 time: {t:?}")),
            ),
        }
    }
    if let Some(h) = s("HostName").or_else(|| s("Computer")) {
        event.set("host.hostname", h);
        event.set("host.name", h);
    }
    if let Some(ip) = s("HostIP").and_then(crate::ecs::parse_ip) {
        event.fields.insert("host.ip".to_owned(), Value::Ip(ip));
    }
    if let Some(f) = s("Facility") {
        event.set("log.syslog.facility.name", f);
    }
    if let Some(l) = s("SeverityLevel") {
        event.set("log.syslog.severity.name", l);
        event.set("log.level", l);
    }
    let program = s("ProcessName");
    if let Some(p) = program {
        event.set("log.syslog.appname", p);
        event.set("process.name", p);
    }
    match obj.get("ProcessID") {
        Some(serde_json::Value::Number(n)) => {
            if let Some(n) = n.as_i64() {
                event.fields.insert("process.pid".to_owned(), Value::Int(n));
            }
        }
        Some(serde_json::Value::String(n)) => {
            crate::ecs::set_int_str(event, "process.pid", n);
        }
        _ => {}
    }
    let msg = s("SyslogMessage").unwrap_or_default();
    event.set("message", msg);
    crate::msg::parse_message(event, program, msg, ctx, out);
}

/// Set one field the sender gave explicitly (anything but `@timestamp`): a sender's `event.id`
/// becomes `labels.sender_event_id`, `organization.id` is ignored (the tenant comes from
/// authentication), `tags` are added to the event's tags.
pub(crate) fn put_explicit<K>(event: &mut Event, k: K, v: Value)
where
    K: AsRef<str> + Into<sen_core::Name>,
{
    match k.as_ref() {
        "event.id" => {
            event.fields.insert("labels.sender_event_id".to_owned(), Value::Str(v.to_text()));
        }
        "organization.id" => {}
        "tags" => match v {
            Value::List(items) => {
                for i in items {
                    event.add_tag(&i.to_text());
                }
            }
            other => event.add_tag(&other.to_text()),
        },
        _ => {
            event.fields.insert(k, v);
        }
    }
}

/// A sender's `@timestamp`: RFC 3339 (already typed by flattening), or epoch seconds or
/// milliseconds.
pub(crate) fn sender_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Time(t) => Some(*t),
        Value::Int(n) if n.unsigned_abs() >= 100_000_000_000 => DateTime::from_timestamp_millis(*n),
        Value::Int(n) => DateTime::from_timestamp(*n, 0),
        _ => None,
    }
}

/// The error for an `@timestamp` that is not a time.
pub(crate) fn bad_time(v: &Value) -> ParseError {
    let mut text = v.to_text();
    if text.len() > 64 {
        let mut end = 64;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    ParseError::new("json", format!("`@timestamp` is not an RFC 3339 time: {text:?}"))
}

/// Parse a raw line embedded in a JSON object into a scratch event. `Ok(None)`: not a line to
/// parse (it is JSON itself: the object's own fields already describe it).
fn parse_raw(raw: &str, ctx: &Context, out: &mut Outcome) -> Result<Option<Event>, ParseError> {
    let mut scratch = Event::new(String::new(), ctx.received, "");
    let mut inner = Outcome::default();
    let text = raw.trim_end_matches(['\n', '\r']);
    // Do not recurse into JSON inside JSON.
    if text.trim_start().starts_with('{') {
        return Ok(None);
    }
    crate::parse_line(&mut scratch, text, Format::Auto, ctx, &mut inner)?;
    for p in inner.parsers() {
        out.push(p);
    }
    Ok(Some(scratch))
}

fn merge(event: &mut Event, parsed: Event) {
    event.timestamp = parsed.timestamp;
    for (k, v) in parsed.fields {
        if k == "tags" {
            if let Value::List(items) = v {
                for i in items {
                    event.add_tag(&i.to_text());
                }
            }
        } else {
            event.fields.insert(k, v);
        }
    }
}
