//! Fortinet FortiGate (FortiOS) logs: `key=value` pairs, values quoted when they hold spaces:
//! `date=2026-11-26 time=15:00:01 devname="fw-border" devid="FG201FTK22901234" logid="0100044547"
//! type="event" subtype="system" level="information" vd="root" user="admin" ui="GUI(10.10.3.5)"
//! action="Add" cfgpath="firewall.policy" cfgobj="12" msg="Add firewall.policy 12"`.
//!
//! FortiOS writes them with or without a syslog header (`<189>date=…` has only a priority; an RFC
//! 5424 header or a relay's BSD header may come first), and in CEF when the log format is set to
//! CEF (`CEF:0|Fortinet|Fortigate|…|FTNTFGTlogid=… act=…`): [`from_cef`] turns those extensions
//! back into FortiOS names, so both shapes end as the same event.
//!
//! The tokenizer ([`parse`]) never fails and never panics. It reads keys (`[A-Za-z0-9_.-]`, at
//! most 64 bytes) and bare or double-quoted values. A quoted value ends at the first `"` that is
//! followed by the end of the line or by a space and the next `key=` — so unescaped quotes
//! inside a value (FortiOS does not escape them everywhere) stay in it, unless that would swallow
//! another pair — and `\"` inside a quoted value is an escaped quote. What it cannot read is
//! reported in [`Fortigate::errors`] (with the byte offset) and skipped, and every readable pair
//! around it is kept:
//!
//! * a quoted value without a closing quote runs to the next ` key=` (or the end);
//! * a token that is not `key=value` (`garbage`, `=x`, a key longer than 64 bytes) is skipped up
//!   to the next space.
//!
//! A key written twice keeps its first value: FortiOS writes its header keys (`devid`, `logid`,
//! `type`, `subtype`) first, so a later duplicate cannot change what the event is.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use nom::bytes::complete::{take_till, take_while_m_n};
use nom::character::complete::char;
use nom::sequence::terminated;
use nom::{IResult, Parser as _};
use sen_core::event::Event;

use crate::cef::Cef;
use crate::ecs::{self, categorize, set_str};
use crate::time;
use crate::{Context, Outcome, ParseError, Parser};

/// Where the FortiOS fields go: `fortinet.firewall.<key>` (Elastic's Fortinet integration uses
/// the same prefix).
pub const PREFIX: &str = "fortinet.firewall";

/// Longest key the tokenizer accepts.
const MAX_KEY: usize = 64;

/// What the tokenizer could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvErrorKind {
    /// A quoted value without its closing quote (the key is given).
    UnterminatedQuote(String),
    /// Text that is not `key=value`.
    NotAPair,
}

/// A problem at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvError {
    /// Byte offset in the text given to [`parse`].
    pub offset: usize,
    /// What is wrong.
    pub kind: KvErrorKind,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            KvErrorKind::UnterminatedQuote(k) => {
                write!(f, "unterminated quoted value of `{k}` at byte {}", self.offset)
            }
            KvErrorKind::NotAPair => write!(f, "expecting `key=value` at byte {}", self.offset),
        }
    }
}

/// A FortiOS log: its pairs in order and what could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fortigate<'a> {
    /// `(key, value)` in order, quotes removed and `\"` un-escaped.
    pub pairs: Vec<(&'a str, Cow<'a, str>)>,
    /// Problems, in order (empty for a well-formed log).
    pub errors: Vec<KvError>,
}

impl Fortigate<'_> {
    /// The (first) value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_ref())
    }

    /// The value of `key` unless it is empty or FortiOS's `N/A`.
    fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty() && *v != "N/A")
    }

    /// The errors as one sentence (`None` when there are none).
    pub fn error_text(&self) -> Option<String> {
        let first = self.errors.first()?;
        Some(match self.errors.len() {
            1 => first.to_string(),
            n => format!("{first} (and {} more)", n - 1),
        })
    }
}

#[inline]
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

#[inline]
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `key=` at the start of `i`.
fn key(i: &str) -> IResult<&str, &str> {
    terminated(take_while_m_n(1, MAX_KEY, is_key_char), char('=')).parse(i)
}

/// A bare value: everything up to the next space.
fn bare(i: &str) -> IResult<&str, &str> {
    take_till(is_space).parse(i)
}

/// Whether `s` starts with spaces (at least one) and then `key=`, or is only spaces.
fn at_boundary(s: &str) -> bool {
    let t = s.trim_start_matches(is_space);
    t.is_empty() || (t.len() < s.len() && key(t).is_ok())
}

/// Offset in `s` of the next ` key=` (the space's offset), else `s.len()`.
fn next_pair(s: &str) -> usize {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(rel) = b.get(from..).and_then(|r| r.iter().position(|c| is_space(*c as char))) {
        let at = from + rel;
        let after = s.get(at..).unwrap_or_default();
        let t = after.trim_start_matches(is_space);
        if key(t).is_ok() {
            return at;
        }
        from = at + 1;
    }
    s.len()
}

/// The quoted value at the start of `i` (just after the opening quote): `(value, rest, closed)`.
///
/// The closing quote is the first unescaped `"` followed by the end or by ` key=`, unless an
/// earlier `"` followed by a space ends the value before another ` key=` (`a="x" junk b="y"`:
/// `a` is `x`). Failing both, an escaped `\"` followed by the end or ` key=` (`"C:\dir\"`), then
/// an earlier `"` followed by a space; failing all, the value is unterminated.
fn quoted(i: &str) -> (Cow<'_, str>, &str, bool) {
    let closed_at = |at: usize| {
        (unescape(i.get(..at).unwrap_or_default()), i.get(at + 1..).unwrap_or_default(), true)
    };
    let mut escaped_candidate = None;
    let mut weak = None;
    for (at, _) in i.match_indices('"') {
        let after = i.get(at + 1..).unwrap_or_default();
        let backslashes =
            i.get(..at).map_or(0, |s| s.bytes().rev().take_while(|&c| c == b'\\').count());
        let escaped = backslashes % 2 == 1;
        if !at_boundary(after) {
            if !escaped && weak.is_none() && after.starts_with(is_space) {
                weak = Some(at);
            }
            continue;
        }
        if escaped {
            escaped_candidate.get_or_insert(at);
            continue;
        }
        if let Some(w) = weak {
            let between = i.get(w + 1..at).unwrap_or_default();
            if next_pair(between) < between.len() {
                return closed_at(w);
            }
        }
        return closed_at(at);
    }
    if let Some(at) = escaped_candidate {
        return (
            Cow::Borrowed(i.get(..at).unwrap_or_default()),
            i.get(at + 1..).unwrap_or_default(),
            true,
        );
    }
    if let Some(w) = weak {
        return closed_at(w);
    }
    let end = next_pair(i);
    (
        Cow::Borrowed(i.get(..end).unwrap_or_default().trim_end()),
        i.get(end..).unwrap_or_default(),
        false,
    )
}

/// `\"` → `"`; every other backslash is kept (Windows paths).
fn unescape(raw: &str) -> Cow<'_, str> {
    if raw.contains("\\\"") { Cow::Owned(raw.replace("\\\"", "\"")) } else { Cow::Borrowed(raw) }
}

/// Split a FortiOS log into pairs (see the module docs). Never fails.
pub fn parse(s: &str) -> Fortigate<'_> {
    let mut out = Fortigate::default();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches(is_space);
        if rest.is_empty() {
            break;
        }
        let offset = s.len() - rest.len();
        let Ok((after_key, k)) = key(rest) else {
            out.errors.push(KvError { offset, kind: KvErrorKind::NotAPair });
            rest = rest.get(rest.find(is_space).unwrap_or(rest.len())..).unwrap_or_default();
            continue;
        };
        if let Some(inner) = after_key.strip_prefix('"') {
            let (v, r, closed) = quoted(inner);
            if !closed {
                out.errors.push(KvError {
                    offset: offset + k.len() + 1,
                    kind: KvErrorKind::UnterminatedQuote(k.to_owned()),
                });
            }
            out.pairs.push((k, v));
            rest = r;
        } else {
            // `take_till` cannot fail on complete input.
            let (r, v) = bare(after_key).unwrap_or(("", after_key));
            out.pairs.push((k, Cow::Borrowed(v)));
            rest = r;
        }
    }
    out
}

/// Whether a text looks like a FortiOS log: it starts with `key=` and has a `logid=` and a
/// `type=` pair.
pub fn looks_like(s: &str) -> bool {
    let t = s.trim_start_matches(is_space);
    if key(t).is_err() {
        return false;
    }
    let has = |name: &str| {
        t.match_indices(name).any(|(at, _)| at == 0 || t.as_bytes().get(at - 1) == Some(&b' '))
    };
    has("logid=") && has("type=")
}

/// The FortiOS pairs of a FortiGate CEF record (`CEF:0|Fortinet|Fortigate|…`), or `None` for
/// another vendor's. `FTNTFGT<key>` extensions are FortiOS's own keys; the standard CEF keys
/// FortiOS fills go back to the FortiOS names (`src` → `srcip`, `act` → `action`, `duser` →
/// `user`, …); `cat` (`traffic:forward`) gives `type` and `subtype`, the header's signature id
/// `logid`, when the record does not name them itself.
pub fn from_cef<'a>(c: &'a Cef<'a>) -> Option<Fortigate<'a>> {
    if !c.device_vendor.trim().eq_ignore_ascii_case("fortinet")
        || !c.device_product.trim().to_ascii_lowercase().starts_with("fortigate")
    {
        return None;
    }
    let mut out = Fortigate::default();
    let mut derived: Vec<(&'a str, Cow<'a, str>)> = Vec::new();
    for (k, v) in &c.extensions {
        if let Some(name) = k.strip_prefix("FTNTFGT").filter(|n| !n.is_empty()) {
            out.pairs.push((name, v.clone()));
        } else if *k == "cat" {
            let (t, sub) = match v.split_once(':') {
                Some((t, s)) => (t, Some(s)),
                None => (v.as_ref(), None),
            };
            derived.push(("type", Cow::Owned(t.to_owned())));
            if let Some(s) = sub {
                derived.push(("subtype", Cow::Owned(s.to_owned())));
            }
        } else if let Some(name) = cef_key(k) {
            out.pairs.push((name, v.clone()));
        }
    }
    if !c.signature_id.is_empty() {
        derived.push(("logid", c.signature_id.clone()));
    }
    // Explicit `FTNTFGT*` keys come first, so they win over the derived ones.
    out.pairs.extend(derived);
    Some(out)
}

/// The FortiOS name of a standard CEF key as FortiOS writes it.
fn cef_key(k: &str) -> Option<&'static str> {
    Some(match k {
        "deviceExternalId" => "devid",
        "dvchost" => "devname",
        "src" => "srcip",
        "spt" => "srcport",
        "dst" => "dstip",
        "dpt" => "dstport",
        "smac" => "srcmac",
        "dmac" => "dstmac",
        "deviceInboundInterface" => "srcintf",
        "deviceOutboundInterface" => "dstintf",
        "proto" => "proto",
        "act" => "action",
        "app" => "app",
        "out" => "sentbyte",
        "in" => "rcvdbyte",
        "msg" => "msg",
        "duser" | "suser" => "user",
        "sourceTranslatedAddress" => "transip",
        "sourceTranslatedPort" => "transport",
        "destinationTranslatedAddress" => "tranip",
        "destinationTranslatedPort" => "tranport",
        "reason" => "reason",
        "outcome" => "status",
        _ => return None,
    })
}

/// FortiOS log types whose events are UTM (security profile) logs; FortiOS 5 wrote the profile
/// as the type itself.
const UTM_TYPES: &[&str] = &[
    "utm",
    "ips",
    "anomaly",
    "virus",
    "webfilter",
    "app-ctrl",
    "dns",
    "emailfilter",
    "dlp",
    "waf",
    "ssl",
    "ssh",
    "file-filter",
    "voip",
    "icap",
    "cifs",
    "virtual-patch",
];

/// Traffic and UTM actions that mean the session was stopped.
fn denied(action: &str) -> bool {
    matches!(
        action.to_ascii_lowercase().as_str(),
        "deny" | "denied" | "block" | "blocked" | "drop" | "dropped" | "reset" | "reject"
    )
}

/// Syslog severity code of a FortiOS level.
fn level_code(level: &str) -> Option<i64> {
    Some(match level.to_ascii_lowercase().as_str() {
        "emergency" => 0,
        "alert" => 1,
        "critical" => 2,
        "error" => 3,
        "warning" => 4,
        "notice" => 5,
        "information" | "info" => 6,
        "debug" => 7,
        _ => return None,
    })
}

/// `eventtime`: epoch seconds, milliseconds, microseconds or nanoseconds (by length).
fn event_time(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim();
    if v.is_empty() || v.len() > 19 || !v.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = v.parse().ok()?;
    match v.len() {
        0..=10 => DateTime::from_timestamp(n, 0),
        11..=13 => DateTime::from_timestamp_millis(n),
        14..=16 => DateTime::from_timestamp_micros(n),
        _ => Some(DateTime::from_timestamp_nanos(n)),
    }
}

/// `date` + `time` (+ `tz`): the device's local time.
fn local_time(fg: &Fortigate<'_>, ctx: &Context) -> Option<DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(fg.value("date")?, "%Y-%m-%d").ok()?;
    let t = fg.value("time")?;
    let time = NaiveTime::parse_from_str(t, "%H:%M:%S%.f").ok()?;
    let naive = date.and_time(time);
    match fg.value("tz").and_then(time::zone_offset) {
        Some(z) => Some(z.from_local_datetime(&naive).single()?.with_timezone(&Utc)),
        None => Some(time::resolve_local(ctx.timezone, naive)),
    }
}

/// The address in `GUI(10.0.0.5)` / `ssh(10.0.0.5)` (the `ui` of admin and config logs).
fn ui_address(ui: &str) -> Option<std::net::IpAddr> {
    let open = ui.find('(')?;
    let inner = ui.get(open + 1..)?.strip_suffix(')')?;
    ecs::parse_ip(inner)
}

/// Parse a FortiOS log and write it to `e`. What the tokenizer could not read tags the event
/// `_parse_failure` with an `error.message`; every pair it could read is kept.
pub(crate) fn normalize(e: &mut Event, text: &str, ctx: &Context, out: &mut Outcome) {
    let fg = parse(text);
    apply(e, &fg, ctx);
    out.push(Parser::Fortigate);
    if let Some(err) = fg.error_text() {
        crate::json::reject(e, out, ParseError::new("fortigate", err));
    }
}

/// Write a FortiOS log to `e`: every pair under `fortinet.firewall.<key>` (first value), ECS,
/// `event.module` `fortinet`, `event.dataset` `fortinet.firewall` (see the crate docs).
pub(crate) fn apply(e: &mut Event, fg: &Fortigate<'_>, ctx: &Context) {
    ecs::module(e, "fortinet", "fortinet.firewall");
    for (k, v) in &fg.pairs {
        let path = ecs::join(PREFIX, k);
        e.fields.entry(path).or_insert_with(|| sen_core::event::Value::Str(v.to_string()));
    }
    set_str(e, "observer.vendor", "Fortinet");
    set_str(e, "observer.product", "FortiGate");
    set_str(e, "observer.type", "firewall");
    if let Some(name) = fg.value("devname") {
        set_str(e, "observer.name", name);
        set_str(e, "observer.hostname", name);
        if !e.fields.contains_key("host.hostname") && !e.fields.contains_key("host.name") {
            crate::syslog::set_host(e, name);
        }
    }
    if let Some(id) = fg.value("devid") {
        set_str(e, "observer.serial_number", id);
    }
    if let Some(t) = fg.value("eventtime").and_then(event_time).or_else(|| local_time(fg, ctx)) {
        e.timestamp = t;
    }
    if let Some(id) = fg.value("logid") {
        set_str(e, "event.code", id);
    }
    if let Some(level) = fg.value("level") {
        set_str(e, "log.level", level);
        if let Some(code) = level_code(level) {
            ecs::set_int(e, "event.severity", code);
        }
    }
    // Addresses and ports.
    if let Some(v) = fg.value("srcip") {
        ecs::set_endpoint(e, "source", v);
    } else if let Some(v) = fg.value("remip") {
        ecs::set_endpoint(e, "source", v);
    }
    if let Some(v) = fg.value("dstip") {
        ecs::set_endpoint(e, "destination", v);
    }
    for (key, path) in [
        ("srcport", "source.port"),
        ("dstport", "destination.port"),
        ("transport", "source.nat.port"),
        ("tranport", "destination.nat.port"),
    ] {
        if let Some(v) = fg.value(key) {
            ecs::set_port(e, path, v);
        }
    }
    if let Some(ip) = fg.value("transip").and_then(ecs::parse_ip) {
        e.fields.insert("source.nat.ip", sen_core::event::Value::Ip(ip));
    }
    if let Some(ip) = fg.value("tranip").and_then(ecs::parse_ip) {
        e.fields.insert("destination.nat.ip", sen_core::event::Value::Ip(ip));
    }
    for (key, path) in [("srcmac", "source.mac"), ("dstmac", "destination.mac")] {
        if let Some(m) = fg.value(key).and_then(ecs::ecs_mac) {
            set_str(e, path, &m);
        }
    }
    if let Some(v) = fg.value("srcintf") {
        set_str(e, "observer.ingress.interface.name", v);
    }
    if let Some(v) = fg.value("dstintf") {
        set_str(e, "observer.egress.interface.name", v);
    }
    if let Some(p) = fg.value("proto") {
        match p.parse::<u8>() {
            Ok(n) => ecs::set_iana_protocol(e, n),
            Err(_) => set_str(e, "network.transport", &p.to_ascii_lowercase()),
        }
    }
    if let Some(app) = fg.value("app") {
        let app = app.to_ascii_lowercase();
        // FortiOS's `app` is an application (CEF's `app`, which the CEF mapping takes for the
        // protocol, carries it in FortiGate's CEF).
        if e.get_str("network.protocol") == Some(app.as_str()) {
            e.fields.remove("network.protocol");
        }
        set_str(e, "network.application", &app);
    }
    // The requested host name of web filter logs (an address there is not the destination's).
    if let Some(host) = fg.value("hostname").filter(|h| ecs::parse_ip(h).is_none()) {
        ecs::set_endpoint(e, "destination", host);
    }
    for (key, path) in [
        ("sentbyte", "source.bytes"),
        ("rcvdbyte", "destination.bytes"),
        ("sentpkt", "source.packets"),
        ("rcvdpkt", "destination.packets"),
    ] {
        if let Some(v) = fg.value(key) {
            ecs::set_int_str(e, path, v);
        }
    }
    if let Some(secs) = fg.value("duration") {
        ecs::set_duration_secs(e, secs);
    }
    // Policy, user, action.
    if let Some(v) = fg.value("policyid") {
        set_str(e, "rule.id", v);
    }
    if let Some(v) = fg.value("policyname") {
        set_str(e, "rule.name", v);
    }
    if let Some(v) = fg.value("poluuid") {
        set_str(e, "rule.uuid", v);
    }
    if let Some(u) = fg.value("user") {
        ecs::set_user(e, "user.name", u);
    }
    if let Some(ip) = fg.value("ui").and_then(ui_address)
        && !e.fields.contains_key("source.ip")
    {
        ecs::set_ip(e, "source", ip);
    }
    let action = fg.value("action");
    if let Some(a) = action {
        set_str(e, "event.action", a);
    }
    categories(e, fg, action);
}

/// `event.category` / `event.type` / `event.outcome` by log type (see the crate docs).
fn categories(e: &mut Event, fg: &Fortigate<'_>, action: Option<&str>) {
    let kind = fg.value("type").unwrap_or_default().to_ascii_lowercase();
    let status = fg.value("status").map(str::to_ascii_lowercase);
    let outcome = |e: &mut Event, ok: Option<bool>| match ok {
        Some(true) => set_str(e, "event.outcome", "success"),
        Some(false) => set_str(e, "event.outcome", "failure"),
        None => {}
    };
    let status_ok = status.as_deref().and_then(|s| match s {
        "success" | "succeeded" | "ok" => Some(true),
        "failed" | "failure" | "fail" | "denied" => Some(false),
        _ => None,
    });
    let action_l = action.map(str::to_ascii_lowercase).unwrap_or_default();
    if kind == "traffic" {
        categorize(e, &["network"], &["connection"]);
        if denied(&action_l) {
            e.push("event.type", "denied");
            outcome(e, Some(false));
        } else if !action_l.is_empty() {
            e.push("event.type", "allowed");
            match action_l.as_str() {
                "start" => e.push("event.type", "start"),
                "close" | "timeout" | "server-rst" | "client-rst" => e.push("event.type", "end"),
                _ => {}
            }
            outcome(e, Some(true));
        }
    } else if kind == "event" {
        let logid = fg.value("logid").and_then(|l| l.parse::<u64>().ok());
        if fg.value("cfgpath").is_some()
            || logid.is_some_and(|l| (100_044_544..=100_044_547).contains(&l))
        {
            let t = match action_l.as_str() {
                "add" => "creation",
                "delete" => "deletion",
                _ => "change",
            };
            categorize(e, &["configuration"], &[t]);
            outcome(e, status_ok.or(Some(true)));
        } else if action_l.contains("login")
            || action_l.contains("logout")
            || action_l.contains("auth")
            || action_l.contains("tunnel-up")
        {
            let t = if action_l.contains("logout") {
                "end"
            } else if action_l.contains("fail") || status_ok == Some(false) {
                "info"
            } else {
                "start"
            };
            categorize(e, &["authentication"], &[t]);
            let failed = action_l.contains("fail");
            outcome(e, if failed { Some(false) } else { status_ok });
        } else {
            outcome(e, status_ok);
        }
    } else if UTM_TYPES.contains(&kind.as_str()) {
        let profile = if kind == "utm" {
            fg.value("subtype").unwrap_or_default().to_ascii_lowercase()
        } else {
            kind.clone()
        };
        e.push("event.category", "network");
        match profile.as_str() {
            "ips" | "anomaly" | "virtual-patch" => e.push("event.category", "intrusion_detection"),
            "virus" => e.push("event.category", "malware"),
            _ => {}
        }
        if denied(&action_l) {
            e.push("event.type", "denied");
        } else if !action_l.is_empty() {
            e.push("event.type", "info");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs<'a>(f: &'a Fortigate<'a>) -> Vec<(&'a str, &'a str)> {
        f.pairs.iter().map(|(k, v)| (*k, v.as_ref())).collect()
    }

    #[test]
    fn bare_and_quoted_values() {
        let f = parse(
            r#"date=2026-11-26 time=15:00:01 devname="fw border" logid="0100044547" msg="Add firewall.policy 12" srcname= x=1"#,
        );
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(
            pairs(&f),
            [
                ("date", "2026-11-26"),
                ("time", "15:00:01"),
                ("devname", "fw border"),
                ("logid", "0100044547"),
                ("msg", "Add firewall.policy 12"),
                ("srcname", ""),
                ("x", "1"),
            ]
        );
        assert_eq!(f.get("devname"), Some("fw border"));
    }

    #[test]
    fn quotes_inside_values() {
        // Escaped quotes.
        let f = parse(r#"msg="say \"hi\" now" a=1"#);
        assert_eq!(pairs(&f), [("msg", r#"say "hi" now"#), ("a", "1")]);
        // Unescaped quotes: the value ends at the quote before ` key=`.
        let f = parse(r#"msg="He said "hi" ok" action="deny""#);
        assert!(f.errors.is_empty());
        assert_eq!(pairs(&f), [("msg", r#"He said "hi" ok"#), ("action", "deny")]);
        // A value ending in a backslash.
        let f = parse(r#"filename="C:\dir\" b=2"#);
        assert_eq!(pairs(&f), [("filename", r"C:\dir\"), ("b", "2")]);
        // `=` and quotes inside bare values.
        let f = parse(r#"url=/a?b=c&d="e" n=1"#);
        assert_eq!(pairs(&f), [("url", r#"/a?b=c&d="e""#), ("n", "1")]);
    }

    #[test]
    fn malformed_input_keeps_the_good_pairs() {
        let f = parse(r#"logid="0100044547" msg="unterminated value srcip=10.0.0.1 action=deny"#);
        assert_eq!(
            pairs(&f),
            [
                ("logid", "0100044547"),
                ("msg", "unterminated value"),
                ("srcip", "10.0.0.1"),
                ("action", "deny")
            ]
        );
        assert_eq!(
            f.errors,
            [KvError { offset: 23, kind: KvErrorKind::UnterminatedQuote("msg".into()) }]
        );
        assert_eq!(
            f.error_text().as_deref(),
            Some("unterminated quoted value of `msg` at byte 23")
        );
        // An unterminated quote at the end.
        let f = parse(r#"a=1 msg="no end"#);
        assert_eq!(pairs(&f), [("a", "1"), ("msg", "no end")]);
        assert_eq!(f.errors.len(), 1);
        // Junk after a quoted value does not swallow the next pair.
        let f = parse(r#"a="x" ?! b="y" c="z" ??"#);
        assert_eq!(pairs(&f), [("a", "x"), ("b", "y"), ("c", "z")]);
        assert_eq!(f.errors.len(), 2);
        // Junk tokens are skipped and reported.
        let f = parse("a=1 garbage =x b=2 ");
        assert_eq!(pairs(&f), [("a", "1"), ("b", "2")]);
        assert_eq!(
            f.errors,
            [
                KvError { offset: 4, kind: KvErrorKind::NotAPair },
                KvError { offset: 12, kind: KvErrorKind::NotAPair }
            ]
        );
        assert_eq!(f.error_text().as_deref(), Some("expecting `key=value` at byte 4 (and 1 more)"));
        let long = format!("{}=1 b=2", "k".repeat(65));
        let f = parse(&long);
        assert_eq!(pairs(&f), [("b", "2")]);
        // Duplicates are all kept by the tokenizer; `get` gives the first.
        let f = parse("type=event action=Add type=traffic");
        assert_eq!(f.get("type"), Some("event"));
        // Lossily decoded bytes and odd characters never panic.
        for s in [
            "",
            "=",
            "\"",
            "a=\"",
            "a=\"\\",
            "a=\u{fffd}\u{fffd} b=\"\u{fffd}",
            "é=1 ü=\"ä",
            "a=1\tb=2\r\n",
        ] {
            let f = parse(s);
            assert!(f.pairs.len() + f.errors.len() <= s.len() + 1, "{s:?}");
        }
    }

    #[test]
    fn recognition() {
        assert!(looks_like(
            r#"date=2026-11-26 time=1 devname="x" logid="0000000013" type="traffic""#
        ));
        assert!(looks_like("logid=1 type=event"));
        assert!(!looks_like("logid=1 subtype=event"));
        assert!(!looks_like("hello logid=1 type=event"));
        assert!(!looks_like("id=firewall sn=X time=\"2026\" fw=1.2.3.4 pri=6 c=262144 m=98"));
    }

    #[test]
    fn event_times() {
        let want = "2026-11-26T08:00:01+00:00";
        for v in ["1795680001", "1795680001000", "1795680001000000", "1795680001000000000"] {
            assert_eq!(event_time(v).unwrap().to_rfc3339(), want, "{v}");
        }
        assert!(event_time("17956800010000000000").is_none());
        assert!(event_time("x").is_none());
    }
}
