//! Zero-copy access to a [`sen_core::Event`] for rsigma's matchers (ADR 0008, "zero-copy event
//! access").
//!
//! [`SigmaView`] implements [`rsigma_eval::Event`] over the flat dotted map: text is borrowed,
//! IPs and times are formatted only when a rule asks for them. Field names resolve in this
//! order:
//!
//! 1. the dotted path itself (`process.command_line`, `winlog.event_data.Image`, `@timestamp`);
//! 2. below an untyped JSON value stored under a prefix of the path ([`Event::get`]);
//! 3. for a Windows event (one with `winlog.channel` or `winlog.event_id`), a bare Sigma name:
//!    the System names (`EventID`, `Channel`, `Provider_Name`, `Computer`, …) map to their
//!    `winlog.*` field, any other name is looked up in `winlog.event_data.` and then in
//!    `winlog.user_data.`;
//! 4. for an auditd event (`event.module: auditd`), a bare name is auditd's own: `type` is
//!    `auditd.message_type`, anything else `auditd.data.<name>`;
//! 5. for a Zeek event (`event.dataset: zeek.<log>`), a Zeek name (`query`, `id.resp_h`) is
//!    looked up as `zeek.<log>.<name>`, and the non-Zeek names of [`super::fields::ZEEK_ECS`]
//!    as their ECS field;
//! 6. for a FortiGate event (`event.dataset: fortinet.firewall`), a bare name is FortiOS's own:
//!    `fortinet.firewall.<name>`, then its ECS aliases;
//! 7. for any other event, a bare name's ECS aliases ([`super::fields::ECS_ALIASES`]).
//!
//! Compiled rules have their field names rewritten once at load ([`super::fields`]), so steps 3
//! to 6 are the fallback for names a rule computes at run time (correlation `group-by`, `fieldref`,
//! `expand` placeholders), not the hot path.

use std::borrow::Cow;

use rsigma_eval::{Event as SigmaEvent, EventValue};
use sen_core::event::{Event, FieldRef, Value};

use super::logsource::{EventFacts, event_facts};

/// Windows System element names as Sigma rules write them, and the `winlog.*` field each one is
/// stored under by sen-parse's Windows normalizer.
pub const WINDOWS_SYSTEM_FIELDS: &[(&str, &str)] = &[
    ("EventID", "winlog.event_id"),
    ("Channel", "winlog.channel"),
    ("Provider_Name", "winlog.provider_name"),
    ("Provider_Guid", "winlog.provider_guid"),
    ("Computer", "winlog.computer_name"),
    ("EventRecordID", "winlog.record_id"),
    ("Task", "winlog.task"),
    ("Opcode", "winlog.opcode"),
    ("Version", "winlog.version"),
    ("Keywords", "winlog.keywords"),
    ("Level", "log.level"),
    ("ProcessID", "winlog.process.pid"),
    ("ThreadID", "winlog.process.thread.id"),
    ("UserID", "winlog.user.identifier"),
];

/// The `winlog.*` path of a Windows System field name, if it is one.
pub fn windows_system_field(name: &str) -> Option<&'static str> {
    WINDOWS_SYSTEM_FIELDS.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

/// Fields the keyword search (`any_string_value`) skips: the raw text duplicates the parsed
/// fields (keywords would otherwise match JSON syntax and field names of structured events), and
/// ids are not content. `event.original` is searched when the event has no `message` and came
/// as a line of text: the original of a structured (JSON) record is its fields again plus
/// their names and JSON syntax, which keywords must not match (and which would double the
/// text a keyword search reads).
const KEYWORD_SKIP: &[&str] = &["event.id", "event.ingested", "event.created"];

/// Sigma's `Data` of a Windows event ("the container for the event data as a whole", as
/// SigmaHQ's rules for the Application and classic PowerShell logs say): unnamed `<Data>`
/// elements are `param1`, `param2` … here, as winlogbeat writes them, so a rule's
/// `Data|contains` reads every `winlog.event_data` value unless the event has a field of
/// that name.
pub const WHOLE_EVENT_DATA: &str = "winlog.event_data.Data";

/// A read-only Sigma view of one event.
#[derive(Clone)]
pub struct SigmaView<'a> {
    event: &'a Event,
    windows: bool,
    /// Whether the event is a Linux audit record (`event.module: auditd`).
    auditd: bool,
    /// The Zeek log of a Zeek event (`event.dataset: zeek.<log>`).
    zeek_log: Option<&'a str>,
    /// Whether the event is a FortiGate log (`event.dataset: fortinet.firewall`).
    fortigate: bool,
    /// Whether any field holds untyped JSON (only then can a path lead below a stored value);
    /// computed on the first miss.
    has_json: std::cell::Cell<Option<bool>>,
    /// [`SigmaView::whole_event_data`], once asked for.
    whole: std::cell::OnceCell<Vec<EventValue<'a>>>,
}

impl std::fmt::Debug for SigmaView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigmaView").field("id", &self.event.id).finish()
    }
}

impl<'a> SigmaView<'a> {
    /// A view of `event`.
    pub fn new(event: &'a Event) -> SigmaView<'a> {
        SigmaView::with_facts(event, &event_facts(event))
    }

    /// A view of `event` from what [`event_facts`] found in it (no lookups).
    pub fn with_facts(event: &'a Event, facts: &EventFacts<'a>) -> SigmaView<'a> {
        let windows = facts.windows;
        let dataset = facts.dataset.filter(|_| !windows);
        SigmaView {
            event,
            windows,
            auditd: !windows && facts.module == Some("auditd"),
            zeek_log: dataset.and_then(|d| d.strip_prefix("zeek.")).filter(|l| !l.is_empty()),
            fortigate: dataset == Some("fortinet.firewall"),
            has_json: std::cell::Cell::new(Some(facts.has_json)),
            whole: std::cell::OnceCell::new(),
        }
    }

    /// The event.
    pub fn event(&self) -> &'a Event {
        self.event
    }

    /// Whether the event is a Windows event log record.
    pub fn is_windows(&self) -> bool {
        self.windows
    }

    /// Every `winlog.event_data` value, in name order ([`WHOLE_EVENT_DATA`]); gathered once
    /// a view (a rule asks for `Data` in each of its selections and filters).
    fn whole_event_data(&self) -> Option<EventValue<'a>> {
        let items = self.whole.get_or_init(|| {
            self.event
                .fields
                .iter()
                .filter(|(k, _)| k.starts_with("winlog.event_data."))
                .map(|(_, v)| value(v))
                .collect()
        });
        (!items.is_empty()).then(|| EventValue::Array(items.clone()))
    }

    fn lookup(&self, path: &str) -> Option<EventValue<'a>> {
        if let Some(v) = self.event.fields.get(path) {
            return Some(value(v));
        }
        if path.starts_with('@') || path.starts_with("event.") || path == "organization.id" {
            return self.event.get(path).map(field_ref);
        }
        let has_json = match self.has_json.get() {
            Some(b) => b,
            None => {
                let b = self.event.fields.values().any(|v| matches!(v, Value::Json(_)));
                self.has_json.set(Some(b));
                b
            }
        };
        if has_json { self.event.get(path).map(field_ref) } else { None }
    }

    /// Visit every string leaf the keyword search sees, with its field path.
    pub fn visit_strings(&self, visit: &mut dyn FnMut(&str, &str)) {
        let mut buf = String::new();
        for (k, v) in &self.event.fields {
            if keyword_searched(k) {
                visit_value(k, v, Some(&mut buf), visit);
            }
        }
        self.visit_other_strings(visit);
    }

    /// The part of [`SigmaView::visit_strings`] that is not in the field map: the
    /// organization and, for a line of text without `message`, `event.original`.
    pub fn visit_other_strings(&self, visit: &mut dyn FnMut(&str, &str)) {
        if let Some(org) = &self.event.organization {
            visit("organization.id", org);
        }
        if !self.event.fields.contains_key("message")
            && !self.event.original.trim_start().starts_with('{')
        {
            visit("event.original", &self.event.original);
        }
    }
}

/// Whether the keyword search reads the field `key` of the field map.
#[inline]
pub fn keyword_searched(key: &str) -> bool {
    !KEYWORD_SKIP.contains(&key)
}

/// Every string leaf the keyword search sees in one stored value. `scalars` formats numbers,
/// addresses, times and booleans as text; without it they are skipped (for a search none of
/// whose needles could occur in their text, [`super::scan::Scan::scalar_text`]).
pub fn visit_value(
    path: &str,
    v: &Value,
    mut scalars: Option<&mut String>,
    visit: &mut dyn FnMut(&str, &str),
) {
    use std::fmt::Write;
    let buf = match v {
        Value::Str(s) => return visit(path, s),
        Value::List(items) => {
            for i in items {
                visit_value(path, i, scalars.as_deref_mut(), visit);
            }
            return;
        }
        Value::Json(j) => return visit_json(path, j, visit),
        _ => match scalars {
            Some(buf) => buf,
            None => return,
        },
    };
    buf.clear();
    let _ = match v {
        Value::Bool(b) => buf.write_str(if *b { "true" } else { "false" }),
        Value::Ip(ip) => write!(buf, "{ip}"),
        Value::Int(n) => write!(buf, "{n}"),
        Value::Float(f) => write!(buf, "{f}"),
        Value::Time(t) => buf.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        // Text, lists and JSON were visited above.
        Value::Str(_) | Value::List(_) | Value::Json(_) => Ok(()),
    };
    visit(path, buf)
}

fn visit_json(path: &str, j: &serde_json::Value, visit: &mut dyn FnMut(&str, &str)) {
    match j {
        serde_json::Value::String(s) => visit(path, s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| visit_json(path, x, visit)),
        serde_json::Value::Object(o) => o.values().for_each(|x| visit_json(path, x, visit)),
        serde_json::Value::Number(n) => visit(path, &n.to_string()),
        serde_json::Value::Bool(b) => visit(path, if *b { "true" } else { "false" }),
        serde_json::Value::Null => {}
    }
}

/// The rsigma value of a stored value (text borrowed).
pub fn value(v: &Value) -> EventValue<'_> {
    match v {
        Value::Str(s) => EventValue::Str(Cow::Borrowed(s)),
        Value::Int(n) => EventValue::Int(*n),
        Value::Float(f) => EventValue::Float(*f),
        Value::Bool(b) => EventValue::Bool(*b),
        Value::Ip(ip) => EventValue::Str(Cow::Owned(ip.to_string())),
        Value::Time(t) => {
            EventValue::Str(Cow::Owned(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
        }
        Value::List(items) => EventValue::Array(items.iter().map(value).collect()),
        Value::Json(j) => EventValue::from(&**j),
    }
}

fn field_ref(f: FieldRef<'_>) -> EventValue<'_> {
    match f {
        FieldRef::Str(s) => EventValue::Str(Cow::Borrowed(s)),
        FieldRef::Int(n) => EventValue::Int(n),
        FieldRef::Float(x) => EventValue::Float(x),
        FieldRef::Bool(b) => EventValue::Bool(b),
        FieldRef::Ip(ip) => EventValue::Str(Cow::Owned(ip.to_string())),
        FieldRef::Time(t) => {
            EventValue::Str(Cow::Owned(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
        }
        FieldRef::List(items) => EventValue::Array(items.iter().map(value).collect()),
        FieldRef::Json(j) => EventValue::from(j),
    }
}

impl<'a> SigmaEvent for SigmaView<'a> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        // rsigma's correlation takes event ids from `id`, `_id`, …: give it `event.id`.
        if path == "_id" {
            return Some(EventValue::Str(Cow::Borrowed(&self.event.id)));
        }
        if let Some(v) = self.lookup(path) {
            return Some(v);
        }
        if self.windows && (path == WHOLE_EVENT_DATA || path == "Data") {
            return match self.event.fields.get("winlog.user_data.Data") {
                Some(v) => Some(value(v)),
                None if path == "Data" => {
                    self.lookup(WHOLE_EVENT_DATA).or_else(|| self.whole_event_data())
                }
                None => self.whole_event_data(),
            };
        }
        if self.windows && !path.contains('.') {
            if let Some(sys) = windows_system_field(path) {
                return self.lookup(sys);
            }
            let mut key = String::with_capacity(path.len() + 20);
            key.push_str("winlog.event_data.");
            key.push_str(path);
            if let Some(v) = self.event.fields.get(&key) {
                return Some(value(v));
            }
            key.replace_range(..18, "winlog.user_data.");
            return self.event.fields.get(&key).map(value);
        }
        if let Some(log) = self.zeek_log {
            use super::fields::{is_zeek_name, zeek_ecs, zeek_path};
            if let Some(ecs) = zeek_ecs(path) {
                return self.lookup(ecs);
            }
            if is_zeek_name(path)
                && let Some(v) = self.event.fields.get(&zeek_path(log, path))
            {
                return Some(value(v));
            }
        }
        if !self.windows && !path.contains('.') {
            if self.auditd
                && let Some(v) = self.lookup(&super::fields::auditd_field(path))
            {
                return Some(v);
            }
            if self.fortigate
                && let Some(v) = self.lookup(&super::fields::fortigate_field(path))
            {
                return Some(v);
            }
            for alias in super::fields::ecs_aliases(path) {
                if let Some(v) = self.lookup(alias) {
                    return Some(v);
                }
            }
            return None;
        }
        // A rule field rewritten to `winlog.event_data.X` may live under `UserData`.
        if self.windows
            && let Some(rest) = path.strip_prefix("winlog.event_data.")
        {
            let mut key = String::with_capacity(rest.len() + 17);
            key.push_str("winlog.user_data.");
            key.push_str(rest);
            return self.event.fields.get(&key).map(value);
        }
        None
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut hit = false;
        self.visit_strings(&mut |_, s| {
            if !hit && pred(s) {
                hit = true;
            }
        });
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit_strings(&mut |_, s| out.push(Cow::Owned(s.to_owned())));
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.visit_strings(&mut |_, s| visit(s));
    }

    fn to_json(&self) -> serde_json::Value {
        self.event.to_json()
    }

    fn field_keys(&self) -> Vec<Cow<'_, str>> {
        self.event.fields.keys().map(|k| Cow::Borrowed(k.as_str())).collect()
    }
}
