//! Readers of the three input shapes into a [`Win`].

use sen_core::event::Value;
use serde_json::Map;
use serde_json::Value as Json;

use super::{
    Win, WinTime, event_id_of, infer_offset, int_of, int_text, level_name, level_word, parse_time,
    text_of,
};
use crate::Context;
use crate::time::resolve_local;

// ---------------------------------------------------------------------------------------------
// evtx: {"Event": {"System": …, "EventData": …, "UserData": …}}

/// The evtx crate / evtx_dump shape.
pub(super) fn evtx(mut obj: Map<String, Json>) -> Win {
    let mut w = Win::default();
    let Some(Json::Object(mut ev)) = obj.remove("Event") else {
        w.errors.push("`Event` is not an object".to_owned());
        return w;
    };
    match ev.remove("System") {
        Some(Json::Object(sys)) => system(&mut w, sys),
        _ => w.errors.push("`Event.System` is not an object".to_owned()),
    }
    let mut params = 0;
    if let Some(d) = ev.remove("EventData") {
        event_data(&mut w.data, &mut params, d);
    }
    if let Some(u) = ev.remove("UserData") {
        user_data(&mut w, u);
    }
    if let Some(p) = ev.remove("ProcessingErrorData") {
        flatten(&mut w.processing_error, None, p);
    }
    if let Some(Json::Object(r)) = ev.remove("RenderingInfo") {
        rendering_info(&mut w, r);
    }
    // Anything the sender put next to `Event` (tags, labels …) is kept as given; a sender's
    // `@timestamp` only stands in for a missing `TimeCreated`.
    let sender_time = obj.remove("@timestamp");
    sender_fields(&mut w, obj);
    if w.time.is_none()
        && let Some(t) = sender_time
    {
        sender_timestamp(&mut w, t);
    }
    w
}

fn system(w: &mut Win, sys: Map<String, Json>) {
    for (k, mut v) in sys {
        match k.as_str() {
            "Provider" => {
                w.provider = attr(&mut v, "Name").and_then(text_of);
                w.provider_guid = attr(&mut v, "Guid").and_then(text_of);
                if w.provider.is_none() {
                    w.provider = attr(&mut v, "EventSourceName").and_then(text_of);
                }
            }
            "EventID" => w.event_id = event_id_of(&v, &mut w.errors),
            "Version" => w.version = int_of(&v),
            "Level" => w.level = int_of(&v).and_then(level_name).map(str::to_owned),
            "Keywords" => w.keywords = int_of(&v).map(|k| k as u64),
            "TimeCreated" => {
                let raw = match v {
                    Json::String(s) => Some(s),
                    mut other => attr(&mut other, "SystemTime").and_then(text_of),
                };
                match raw.as_deref().map(|s| (s, parse_time(s))) {
                    // SystemTime is UTC by definition, even when written without a zone.
                    Some((_, Some(WinTime::Zoned(t)))) => w.time = Some(t),
                    Some((_, Some(WinTime::Naive(n)))) => w.time = Some(n.and_utc()),
                    Some((s, None)) => w.errors.push(format!(
                        "TimeCreated/SystemTime is not a time: {:?}",
                        super::short(s)
                    )),
                    None => w.errors.push("no TimeCreated/SystemTime".to_owned()),
                }
            }
            "EventRecordID" => w.record_id = int_of(&v),
            "Correlation" => {
                w.activity_id = attr(&mut v, "ActivityID").and_then(text_of);
                w.related_activity_id = attr(&mut v, "RelatedActivityID").and_then(text_of);
            }
            "Execution" => {
                w.pid = attr(&mut v, "ProcessID").as_ref().and_then(int_of);
                w.tid = attr(&mut v, "ThreadID").as_ref().and_then(int_of);
            }
            "Channel" => w.channel = text_of(v).filter(|c| !c.is_empty()),
            "Computer" => w.computer = text_of(v).filter(|c| !c.is_empty()),
            "Security" => w.user.identifier = attr(&mut v, "UserID").and_then(text_of),
            // Task and Opcode are numbers here; winlogbeat's `winlog.task`/`winlog.opcode` are
            // the rendered names (RenderingInfo, NXLog `Category`/`Opcode`). The numbers stay in
            // `event.original`.
            _ => {}
        }
    }
}

/// An XML attribute of an element object: `{"#attributes": {"Name": …}}` (evtx), `{"@Name": …}`
/// (xmltodict-style converters) or a plain `{"Name": …}`.
fn attr(v: &mut Json, name: &str) -> Option<Json> {
    let Json::Object(m) = v else { return None };
    if let Some(Json::Object(a)) = m.get_mut("#attributes")
        && let Some(x) = a.remove(name)
    {
        return Some(x);
    }
    let at = super::prefixed("@", name);
    m.remove(&at).or_else(|| m.remove(name))
}

fn rendering_info(w: &mut Win, mut r: Map<String, Json>) {
    if w.message.is_none() {
        w.message = r.remove("Message").and_then(text_of);
    }
    if let Some(t) = r.remove("Task").and_then(text_of) {
        w.task = Some(t);
    }
    if let Some(o) = r.remove("Opcode").and_then(text_of) {
        w.opcode = Some(o);
    }
    if let Some(Json::Object(mut k)) = r.remove("Keywords") {
        match k.remove("Keyword") {
            Some(Json::Array(items)) => {
                w.keyword_names.extend(items.into_iter().filter_map(text_of));
            }
            Some(one) => w.keyword_names.extend(text_of(one)),
            None => {}
        }
    }
}

/// `EventData` in any of its forms: named fields, `Data` elements (named or not), an XML string
/// (Sentinel `SecurityEvent`), a JSON string (Sentinel `WindowsEvent`).
pub(super) fn event_data(out: &mut Vec<(String, Value)>, params: &mut usize, d: Json) {
    match d {
        Json::Object(m) => {
            for (k, v) in m {
                match k.as_str() {
                    "#attributes" => {}
                    "Data" | "#text" => data_elements(out, params, v),
                    _ => put_value(out, k, v),
                }
            }
        }
        Json::String(s) => {
            let t = s.trim_start();
            if t.starts_with('<') {
                super::xml::data_elements(t, |name, value| match name {
                    Some(n) => out.push((n, Value::Str(value))),
                    None => push_param(out, params, value),
                });
            } else if t.starts_with('{') || t.starts_with('[') {
                match serde_json::from_str::<Json>(t) {
                    Ok(v @ (Json::Object(_) | Json::Array(_))) => event_data(out, params, v),
                    _ => push_param(out, params, s),
                }
            } else if !t.is_empty() {
                push_param(out, params, s);
            }
        }
        Json::Array(items) => {
            for i in items {
                data_elements(out, params, i);
            }
        }
        Json::Null => {}
        other => {
            if let Some(t) = text_of(other) {
                push_param(out, params, t);
            }
        }
    }
}

/// `Data` elements: `{"#attributes": {"Name": n}, "#text": v}`, lists of them, or unnamed values
/// (`{"#text": [v1, v2]}`, `"v"`), which become `param1`, `param2` … as in winlogbeat.
fn data_elements(out: &mut Vec<(String, Value)>, params: &mut usize, v: Json) {
    match v {
        Json::Array(items) => {
            for i in items {
                data_elements(out, params, i);
            }
        }
        Json::Object(_) => {
            let mut v = v;
            let name = attr(&mut v, "Name").and_then(text_of);
            let Json::Object(mut m) = v else { return };
            let text = m.remove("#text");
            match (name, text) {
                (Some(n), Some(t)) => put_value(out, n, t),
                (Some(n), None) => out.push((n, Value::Str(String::new()))),
                (None, Some(t)) => data_elements(out, params, t),
                (None, None) => {
                    m.remove("#attributes");
                    for (k, v) in m {
                        put_value(out, k, v);
                    }
                }
            }
        }
        Json::Null => {}
        other => {
            if let Some(t) = text_of(other) {
                push_param(out, params, t);
            }
        }
    }
}

fn push_param(out: &mut Vec<(String, Value)>, params: &mut usize, v: String) {
    *params += 1;
    out.push((format!("param{params}"), Value::Str(v)));
}

/// One named field: text, a list of texts, or an object flattened into `name.child` fields.
fn put_value(out: &mut Vec<(String, Value)>, name: String, v: Json) {
    flatten(out, Some(name), v);
}

/// Flatten a value into text fields (`#attributes` dropped, `#text` taken as the value).
fn flatten(out: &mut Vec<(String, Value)>, name: Option<String>, v: Json) {
    match v {
        Json::Null => {}
        Json::Object(mut m) => {
            m.remove("#attributes");
            if let Some(t) = m.remove("#text")
                && let Some(n) = &name
            {
                flatten(out, Some(n.clone()), t);
            }
            for (k, v) in m {
                let path = match &name {
                    Some(n) => format!("{n}.{k}"),
                    None => k,
                };
                flatten(out, Some(path), v);
            }
        }
        Json::Array(items) => {
            let Some(n) = name else { return };
            let list = items
                .into_iter()
                .filter_map(|i| match i {
                    Json::Object(_) | Json::Array(_) => Some(i.to_string()),
                    other => text_of(other),
                })
                .map(Value::Str)
                .collect();
            out.push((n, Value::List(list)));
        }
        other => {
            if let (Some(n), Some(t)) = (name, text_of(other)) {
                out.push((n, Value::Str(t)));
            }
        }
    }
}

/// `UserData`: one child element (`LogFileCleared`, `EventXML` …) whose fields are kept under
/// `winlog.user_data.*`, its name as `winlog.user_data.xml_name`.
fn user_data(w: &mut Win, u: Json) {
    match u {
        Json::Object(m) => {
            let single = m.len() == 1;
            for (k, v) in m {
                if k == "#attributes" {
                    continue;
                }
                if single && matches!(v, Json::Object(_)) {
                    w.user_data_name = Some(k);
                    flatten(&mut w.user_data, None, v);
                } else {
                    flatten(&mut w.user_data, Some(k), v);
                }
            }
        }
        Json::String(s) if s.trim_start().starts_with('<') => {
            let mut params = 0;
            let user_data = &mut w.user_data;
            super::xml::data_elements(&s, |name, value| match name {
                Some(n) => user_data.push((n, Value::Str(value))),
                None => push_param(user_data, &mut params, value),
            });
        }
        other => flatten(&mut w.user_data, Some("param1".to_owned()), other),
    }
}

// ---------------------------------------------------------------------------------------------
// winlogbeat: winlog.* (nested or flat)

/// winlogbeat / Elastic Agent.
pub(super) fn winlogbeat(obj: Map<String, Json>) -> Win {
    let mut w = Win::default();
    let flat = match sen_core::event::flatten_json(Json::Object(obj)) {
        Ok(f) => f,
        Err(e) => {
            w.errors.push(e.to_string());
            return w;
        }
    };
    let mut code = None;
    let mut sender_time = None;
    let mut time_created = None;
    let mut provider_fallback = None;
    for (k, v) in flat {
        if let Some(name) = k.strip_prefix("winlog.event_data.") {
            w.data.push((name.to_owned(), as_text(v)));
            continue;
        }
        if let Some(name) = k.strip_prefix("winlog.user_data.") {
            if name == "xml_name" {
                w.user_data_name = Some(v.to_text());
            } else {
                w.user_data.push((name.to_owned(), as_text(v)));
            }
            continue;
        }
        match k.as_str() {
            "winlog.event_id" => w.event_id = event_id_value(&v, &mut w.errors),
            "event.code" => code = Some(v),
            "winlog.channel" => w.channel = Some(v.to_text()).filter(|c| !c.is_empty()),
            "winlog.provider_name" => w.provider = Some(v.to_text()),
            "event.provider" => provider_fallback = Some(v.to_text()),
            "winlog.provider_guid" => w.provider_guid = Some(v.to_text()),
            "winlog.computer_name" => w.computer = Some(v.to_text()).filter(|c| !c.is_empty()),
            "winlog.record_id" => w.record_id = v.as_i64(),
            "winlog.process.pid" => w.pid = v.as_i64(),
            "winlog.process.thread.id" => w.tid = v.as_i64(),
            "winlog.user.identifier" => w.user.identifier = Some(v.to_text()),
            "winlog.user.name" => w.user.name = Some(v.to_text()),
            "winlog.user.domain" => w.user.domain = Some(v.to_text()),
            "winlog.user.type" => w.user.kind = Some(v.to_text()),
            "winlog.keywords" => match v {
                Value::List(items) => w.keyword_names.extend(items.iter().map(Value::to_text)),
                other => w.keyword_names.push(other.to_text()),
            },
            "winlog.opcode" => w.opcode = Some(v.to_text()),
            "winlog.task" => w.task = Some(v.to_text()),
            "winlog.version" => w.version = v.as_i64(),
            "winlog.activity_id" => w.activity_id = Some(v.to_text()),
            "winlog.related_activity_id" => w.related_activity_id = Some(v.to_text()),
            "winlog.time_created" => time_created = Some(v),
            "@timestamp" => sender_time = Some(v),
            "message" => w.message = Some(v.to_text()),
            "log.level" => w.level = Some(v.to_text()),
            "host.name" => w.sender_host = Some(v.to_text()),
            // The JSON text is the original; winlogbeat's XML `event.original` stays in it.
            "event.original" => {}
            _ => w.extra.push((k, v)),
        }
    }
    if w.event_id.is_none()
        && w.errors.is_empty()
        && let Some(c) = code
    {
        w.event_id = event_id_value(&c, &mut w.errors);
    }
    if w.provider.is_none() {
        w.provider = provider_fallback;
    }
    // winlogbeat writes the event's TimeCreated as `@timestamp`.
    match (sender_time, time_created) {
        (Some(t), _) => sender_timestamp_value(&mut w, &t),
        (None, Some(t)) => sender_timestamp_value(&mut w, &t),
        (None, None) => {}
    }
    w
}

fn event_id_value(v: &Value, errors: &mut Vec<String>) -> Option<i64> {
    match v.as_i64().filter(|n| (0..=i64::from(u32::MAX)).contains(n)) {
        Some(n) => Some(n),
        None => {
            errors.push(format!("EventID is not an event number: {}", super::short(&v.to_text())));
            None
        }
    }
}

/// Event data values are text (lists of text stay lists).
fn as_text(v: Value) -> Value {
    match v {
        Value::Str(_) => v,
        Value::List(items) => Value::List(items.into_iter().map(as_text).collect()),
        Value::Json(j) => match *j {
            Json::String(s) => Value::Str(s),
            other => Value::Str(Value::json(other).to_text()),
        },
        other => Value::Str(other.to_text()),
    }
}

fn sender_timestamp(w: &mut Win, t: Json) {
    match Value::from_json(sen_core::event::TIMESTAMP, t) {
        Some(v) => sender_timestamp_value(w, &v),
        None => w.errors.push("`@timestamp` is null".to_owned()),
    }
}

fn sender_timestamp_value(w: &mut Win, v: &Value) {
    let t = crate::json::sender_time(v).or_else(|| match v.as_str().and_then(parse_time) {
        Some(WinTime::Zoned(t)) => Some(t),
        Some(WinTime::Naive(n)) => Some(n.and_utc()),
        None => None,
    });
    match t {
        Some(t) => w.time = Some(t),
        None => w.errors.push(crate::json::bad_time(v).reason.into_owned()),
    }
}

/// Keys other than `Event` next to an evtx object: kept as the sender gave them.
fn sender_fields(w: &mut Win, obj: Map<String, Json>) {
    if obj.is_empty() {
        return;
    }
    if let Ok(flat) = sen_core::event::flatten_json(Json::Object(obj)) {
        for (k, v) in flat {
            if k == sen_core::event::EVENT_ORIGINAL {
                continue;
            }
            w.extra.push((k, v));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// flat: NXLog im_msvistalog, Mordor / Security-Datasets, Microsoft Sentinel

/// Time fields of the flat shape, resolved once every key has been seen.
#[derive(Default)]
struct FlatTimes {
    time_created: Option<Json>,
    event_time: Option<Json>,
    received: Option<Json>,
    generated: Option<Json>,
    sender: Option<Json>,
}

/// NXLog, Mordor, Sentinel: system fields and event data side by side.
pub(super) fn flat(obj: Map<String, Json>, ctx: &Context) -> Win {
    let mut w = Win::default();
    let has_exec_pid = obj.contains_key("ExecutionProcessID");
    let mut times = FlatTimes::default();
    let mut params = 0;
    let mut severity = None;
    let mut numeric_level = None;
    for (k, v) in obj {
        match k.as_str() {
            "EventID" => w.event_id = event_id_of(&v, &mut w.errors),
            "Channel" => w.channel = text_of(v).filter(|c| !c.is_empty()),
            "Hostname" => w.computer = text_of(v).filter(|c| !c.is_empty()),
            "Computer" => {
                if w.computer.is_none() {
                    w.computer = text_of(v).filter(|c| !c.is_empty());
                }
            }
            "SourceName" | "EventSourceName" | "ProviderName" => {
                if let Some(p) = text_of(v) {
                    w.provider = Some(p);
                }
            }
            "Provider" => {
                let mut v = v;
                let p = match attr(&mut v, "Name") {
                    Some(n) => text_of(n),
                    None => text_of(v),
                };
                if w.provider.is_none() {
                    w.provider = p;
                }
            }
            "ProviderGuid" => w.provider_guid = text_of(v),
            "RecordNumber" | "EventRecordID" => w.record_id = int_of(&v),
            "ExecutionProcessID" => w.pid = int_of(&v),
            "ExecutionThreadID" => w.tid = int_of(&v),
            // NXLog's own `ProcessID`/`ThreadID` are numbers; event data (Security 5156
            // `ProcessID`) is text. With `ExecutionProcessID` present, `ProcessID` is data.
            "ProcessID" if v.is_number() && !has_exec_pid => w.pid = int_of(&v),
            "ThreadID" if v.is_number() => w.tid = int_of(&v),
            "Keywords" => w.keywords = int_of(&v).map(|k| k as u64),
            "EventType" => {
                if let Some(t) = text_of(v) {
                    w.audit = super::audit_of_name(&t);
                }
            }
            "Severity" | "EventLevelName" => severity = text_of(v),
            "Level" | "EventLevel" => match int_of(&v) {
                Some(n) => numeric_level = Some(n),
                None => severity = severity.or_else(|| text_of(v)),
            },
            "Category" => w.task = text_of(v).filter(|t| !t.is_empty()),
            "Task" => {
                if w.task.is_none()
                    && let Json::String(s) = &v
                    && int_text(s).is_none()
                    && !s.is_empty()
                {
                    w.task = Some(s.clone());
                }
            }
            "Opcode" => {
                if let Json::String(s) = v
                    && int_text(&s).is_none()
                    && !s.is_empty()
                {
                    w.opcode = Some(s);
                }
            }
            "Version" => w.version = int_of(&v),
            "ActivityID" => w.activity_id = text_of(v),
            "RelatedActivityID" => w.related_activity_id = text_of(v),
            "UserID" => w.user.identifier = text_of(v),
            "AccountName" => w.user.name = text_of(v),
            "Domain" => w.user.domain = text_of(v),
            "AccountType" => w.user.kind = text_of(v),
            "Message" | "message" => w.message = text_of(v),
            "tags" => {
                if let Some(t) = Value::from_json("tags", v) {
                    w.extra.push((k.into(), t));
                }
            }
            "TimeCreated" => times.time_created = Some(v),
            "EventTime" => times.event_time = Some(v),
            "EventReceivedTime" => times.received = Some(v),
            "TimeGenerated" => times.generated = Some(v),
            "@timestamp" => times.sender = Some(v),
            "EventData" => event_data(&mut w.data, &mut params, v),
            "EventData_dynamic" => event_data(&mut w.data, &mut params, v),
            "UserData" => user_data(&mut w, v),
            // Transport metadata of NXLog, Logstash and Sentinel: kept in `event.original` only.
            "SourceModuleName"
            | "SourceModuleType"
            | "SeverityValue"
            | "OpcodeValue"
            | "ERROR_EVT_UNRESOLVED"
            | "@version"
            | "host"
            | "port"
            | "TenantId"
            | "SourceSystem"
            | "MG"
            | "ManagementGroupName"
            | "_ResourceId"
            | "SourceComputerId"
            | "TimeCollected"
            | "EventOriginId"
            | "Activity"
            | "Account" => {}
            "Type" if matches!(v.as_str(), Some("SecurityEvent" | "WindowsEvent" | "Event")) => {}
            _ => put_value(&mut w.data, k, v),
        }
    }
    w.level = numeric_level
        .and_then(level_name)
        .or_else(|| severity.as_deref().and_then(level_word))
        .map(str::to_owned);
    flat_time(&mut w, times, ctx);
    w
}

/// The event time of the flat shape: `TimeCreated` (Mordor), else `EventTime` (NXLog; in
/// the collector's local time when it has no zone: the zone is worked out from
/// `EventReceivedTime` against a Logstash `@timestamp` when both are there, else the context's
/// time zone applies), else `TimeGenerated` (Sentinel), else `@timestamp`.
fn flat_time(w: &mut Win, times: FlatTimes, ctx: &Context) {
    let text = |v: Option<Json>| v.and_then(text_of);
    let bad = |w: &mut Win, name: &str, s: &str| {
        w.errors.push(format!("`{name}` is not a time: {:?}", super::short(s)));
    };
    if let Some(s) = text(times.time_created) {
        match parse_time(&s) {
            Some(WinTime::Zoned(t)) => return w.time = Some(t),
            // Exports differ on the zone of a zone-less TimeCreated (several Mordor datasets
            // wrote it in local time): the context's zone applies, as to any zone-less time.
            Some(WinTime::Naive(n)) => return w.time = Some(resolve_local(ctx.timezone, n)),
            None => bad(w, "TimeCreated", &s),
        }
    }
    let sender = times.sender;
    if let Some(s) = text(times.event_time) {
        match parse_time(&s) {
            Some(WinTime::Zoned(t)) => return w.time = Some(t),
            Some(WinTime::Naive(n)) => {
                let received = text(times.received).as_deref().and_then(parse_time);
                let logstash = sender.as_ref().and_then(|v| {
                    Value::from_json(sen_core::event::TIMESTAMP, v.clone())
                        .and_then(|v| crate::json::sender_time(&v))
                });
                if let (Some(WinTime::Naive(r)), Some(u)) = (received, logstash)
                    && let Some(t) = infer_offset(r, u).and_then(|off| n.checked_sub_signed(off))
                {
                    return w.time = Some(t.and_utc());
                }
                return w.time = Some(resolve_local(ctx.timezone, n));
            }
            None => bad(w, "EventTime", &s),
        }
    }
    if let Some(s) = text(times.generated) {
        match parse_time(&s) {
            Some(WinTime::Zoned(t)) => return w.time = Some(t),
            Some(WinTime::Naive(n)) => return w.time = Some(n.and_utc()),
            None => bad(w, "TimeGenerated", &s),
        }
    }
    if let Some(t) = sender {
        sender_timestamp(w, t);
    }
}
