//! ArcSight Common Event Format:
//! `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`.
//!
//! Header fields un-escape `\|` and `\\`; extension values un-escape `\=`, `\\`, `\n`, `\r` (any
//! other backslash is kept as written). Extension values may contain spaces: a value runs until
//! the next ` key=`.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem;
use sen_core::event::{Event, Value};

use crate::ecs::{self, set_str};
use crate::{Context, time};

static FINDER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"CEF:"));

/// Byte offset of a `CEF:<digits>|` header in `line`, at the start or after a space, `>` or `:`.
pub fn find(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    for at in FINDER.find_iter(b) {
        let before_ok = at == 0 || matches!(b.get(at - 1), Some(b' ' | b'>' | b':' | b'\t'));
        let mut p = at + 4;
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
        let n = time::digit_run(b, p);
        let after_ok = n > 0 && matches!(b.get(p + n), Some(b'|' | b'.'));
        if before_ok && after_ok {
            return Some(at);
        }
    }
    None
}

/// A parsed CEF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cef<'a> {
    /// CEF version (`0`, `1`).
    pub version: Cow<'a, str>,
    /// Device vendor.
    pub device_vendor: Cow<'a, str>,
    /// Device product.
    pub device_product: Cow<'a, str>,
    /// Device version.
    pub device_version: Cow<'a, str>,
    /// Signature ID / device event class ID.
    pub signature_id: Cow<'a, str>,
    /// Name.
    pub name: Cow<'a, str>,
    /// Severity (`0`-`10` or `Low`/`Medium`/`High`/`Very-High`/`Unknown`).
    pub severity: Cow<'a, str>,
    /// Extension key/value pairs in order, values un-escaped.
    pub extensions: Vec<(&'a str, Cow<'a, str>)>,
}

impl<'a> Cef<'a> {
    /// The value of an extension key (last one wins).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extensions.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.as_ref())
    }
}

/// Why a CEF record was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CefError {
    /// Does not start with `CEF:`.
    #[error("expecting `CEF:` at the start")]
    NotCef,
    /// Fewer than seven `|`-terminated header fields.
    #[error("incomplete header: expecting 7 `|`-terminated fields, found {0}")]
    IncompleteHeader(usize),
}

/// Parse a CEF record (starting with `CEF:`).
pub fn parse(s: &str) -> Result<Cef<'_>, CefError> {
    let body = s.strip_prefix("CEF:").ok_or(CefError::NotCef)?;
    let b = body.as_bytes();
    let mut fields: [Cow<'_, str>; 7] = Default::default();
    let mut p = 0;
    for (i, slot) in fields.iter_mut().enumerate() {
        let start = p;
        let mut escaped = false;
        loop {
            match b.get(p) {
                None => return Err(CefError::IncompleteHeader(i)),
                Some(b'\\') => {
                    escaped = true;
                    p += 2;
                }
                Some(b'|') => break,
                Some(_) => p += 1,
            }
        }
        let raw = body.get(start..p).unwrap_or_default();
        *slot = if escaped { Cow::Owned(unescape_header(raw)) } else { Cow::Borrowed(raw) };
        p += 1;
    }
    let ext = body.get(p..).unwrap_or_default();
    let [version, device_vendor, device_product, device_version, signature_id, name, severity] =
        fields;
    Ok(Cef {
        version: trim_cow(version),
        device_vendor,
        device_product,
        device_version,
        signature_id,
        name,
        severity: trim_cow(severity),
        extensions: extensions(ext),
    })
}

fn trim_cow(c: Cow<'_, str>) -> Cow<'_, str> {
    match c {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
    }
}

fn unescape_header(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n @ ('|' | '\\')) => {
                    out.push(n);
                    chars.next();
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[inline]
fn key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b',' | b'[' | b']' | b'-')
}

/// Whether the byte at `at` is preceded by an odd number of backslashes.
#[inline]
fn is_escaped(b: &[u8], at: usize) -> bool {
    let n = b.get(..at).map_or(0, |s| s.iter().rev().take_while(|&&c| c == b'\\').count());
    n % 2 == 1
}

/// Split a CEF extension into key/value pairs.
pub fn extensions(ext: &str) -> Vec<(&str, Cow<'_, str>)> {
    let b = ext.as_bytes();
    // (key start, '=' offset)
    let mut keys: Vec<(usize, usize)> = Vec::new();
    for eq in memchr::memchr_iter(b'=', b) {
        if is_escaped(b, eq) {
            continue;
        }
        let mut ks = eq;
        while ks > 0 && b.get(ks - 1).is_some_and(|&c| key_char(c)) {
            ks -= 1;
        }
        if ks == eq {
            continue;
        }
        if ks > 0 && !matches!(b.get(ks - 1), Some(b' ' | b'\t')) {
            continue;
        }
        if keys.last().is_some_and(|&(_, peq)| ks <= peq) {
            continue;
        }
        keys.push((ks, eq));
    }
    let mut out = Vec::with_capacity(keys.len());
    for (i, &(ks, eq)) in keys.iter().enumerate() {
        let vend = keys.get(i + 1).map_or(b.len(), |&(next, _)| next);
        let key = ext.get(ks..eq).unwrap_or_default();
        let raw = ext.get(eq + 1..vend).unwrap_or_default().trim_matches([' ', '\t']);
        let value =
            if raw.contains('\\') { Cow::Owned(unescape_value(raw)) } else { Cow::Borrowed(raw) };
        out.push((key, value));
    }
    out
}

fn unescape_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('=') => out.push('='),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                _ => {
                    out.push('\\');
                    continue;
                }
            }
            chars.next();
        } else {
            out.push(c);
        }
    }
    out
}

/// How an extension value maps to ECS.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Lower,
    Ip,
    Port,
    Int,
    User,
    Mac,
    Time,
    Outcome,
    Direction,
}

/// ECS destination of a standard extension key (short or full name).
fn mapping(key: &str) -> Option<(&'static str, Kind)> {
    use Kind::*;
    Some(match key {
        "act" | "deviceAction" => ("event.action", Str),
        "app" | "applicationProtocol" => ("network.protocol", Lower),
        "dhost" | "destinationHostName" => ("destination.domain", Str),
        "dmac" | "destinationMacAddress" => ("destination.mac", Mac),
        "dntdom" | "destinationNtDomain" => ("destination.user.domain", Str),
        "dpt" | "destinationPort" => ("destination.port", Port),
        "dst" | "destinationAddress" => ("destination", Ip),
        "duid" | "destinationUserId" => ("destination.user.id", Str),
        "duser" | "destinationUserName" => ("destination.user.name", User),
        "dpriv" | "destinationUserPrivileges" => ("destination.user.group.name", Str),
        "dvc" | "deviceAddress" => ("observer", Ip),
        "dvchost" | "deviceHostName" => ("observer.hostname", Str),
        "dvcmac" | "deviceMacAddress" => ("observer.mac", Mac),
        "dvcpid" | "deviceProcessId" => ("process.pid", Int),
        "deviceProcessName" => ("process.name", Str),
        "deviceInboundInterface" => ("observer.ingress.interface.name", Str),
        "deviceOutboundInterface" => ("observer.egress.interface.name", Str),
        "deviceDirection" => ("network.direction", Direction),
        "end" | "endTime" => ("event.end", Time),
        "start" | "startTime" => ("event.start", Time),
        "rt" | "deviceReceiptTime" => ("@timestamp", Time),
        "fname" | "fileName" => ("file.name", Str),
        "filePath" => ("file.path", Str),
        "fsize" | "fileSize" => ("file.size", Int),
        "in" | "bytesIn" => ("source.bytes", Int),
        "out" | "bytesOut" => ("destination.bytes", Int),
        "msg" | "message" => ("message", Str),
        "outcome" | "eventOutcome" => ("event.outcome", Outcome),
        "proto" | "transportProtocol" => ("network.transport", Lower),
        "reason" => ("event.reason", Str),
        "request" | "requestUrl" => ("url.original", Str),
        "requestMethod" => ("http.request.method", Str),
        "requestClientApplication" => ("user_agent.original", Str),
        "requestContext" => ("http.request.referrer", Str),
        "shost" | "sourceHostName" => ("source.domain", Str),
        "smac" | "sourceMacAddress" => ("source.mac", Mac),
        "sntdom" | "sourceNtDomain" => ("source.user.domain", Str),
        "spt" | "sourcePort" => ("source.port", Port),
        "src" | "sourceAddress" => ("source", Ip),
        "suid" | "sourceUserId" => ("source.user.id", Str),
        "suser" | "sourceUserName" => ("source.user.name", User),
        "spriv" | "sourceUserPrivileges" => ("source.user.group.name", Str),
        "sourceTranslatedAddress" => ("source.nat", Ip),
        "sourceTranslatedPort" => ("source.nat.port", Port),
        "destinationTranslatedAddress" => ("destination.nat", Ip),
        "destinationTranslatedPort" => ("destination.nat.port", Port),
        _ => return None,
    })
}

/// The label key of a custom field (`cs1` → `cs1Label`), if `key` is one.
fn label_key(key: &str) -> Option<String> {
    const PREFIXES: [&str; 14] = [
        "cs",
        "cn",
        "cfp",
        "c6a",
        "deviceCustomString",
        "deviceCustomNumber",
        "deviceCustomFloatingPoint",
        "deviceCustomIPv6Address",
        "deviceCustomDate",
        "flexString",
        "flexNumber",
        "flexDate",
        "cfp",
        "c6a",
    ];
    let digits = key.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let stem = key.get(..key.len() - digits)?;
    if PREFIXES.contains(&stem) { Some(format!("{key}Label")) } else { None }
}

/// Numeric `event.severity` of a CEF severity.
fn severity_number(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    Some(match s.to_ascii_lowercase().as_str() {
        "low" => 3,
        "medium" => 6,
        "high" => 8,
        "very-high" | "very high" | "veryhigh" => 10,
        _ => return None,
    })
}

/// Write a CEF record to ECS.
pub(crate) fn apply(e: &mut Event, c: &Cef<'_>, ctx: &Context) {
    ecs::module(e, "cef", "cef.log");
    set_str(e, "cef.version", &c.version);
    set_str(e, "cef.device.vendor", &c.device_vendor);
    set_str(e, "cef.device.product", &c.device_product);
    set_str(e, "cef.device.version", &c.device_version);
    set_str(e, "cef.device.event_class_id", &c.signature_id);
    set_str(e, "cef.name", &c.name);
    set_str(e, "cef.severity", &c.severity);
    ecs::set_opt(e, "observer.vendor", &c.device_vendor);
    ecs::set_opt(e, "observer.product", &c.device_product);
    ecs::set_opt(e, "observer.version", &c.device_version);
    ecs::set_opt(e, "event.code", &c.signature_id);
    if !c.name.is_empty() {
        set_str(e, "message", &c.name);
    }
    if let Some(n) = severity_number(&c.severity) {
        ecs::set_int(e, "event.severity", n);
    }
    for (key, value) in &c.extensions {
        let raw_path = ecs::join("cef.extensions", key);
        e.fields.insert(raw_path, Value::Str(value.to_string()));
        let v: &str = value;
        if let Some((path, kind)) = mapping(key) {
            apply_value(e, path, kind, v, ctx);
        } else if let Some(label_key) = label_key(key)
            && let Some(label) = c.get(&label_key).map(str::trim).filter(|l| !l.is_empty())
        {
            e.fields.insert(ecs::join("cef.custom", label), Value::Str(v.to_owned()));
        }
    }
    if let Some(name) = e.get_str("destination.user.name").map(str::to_owned) {
        set_str(e, "user.name", &name);
    } else if let Some(name) = e.get_str("source.user.name").map(str::to_owned) {
        set_str(e, "user.name", &name);
    }
}

fn apply_value(e: &mut Event, path: &str, kind: Kind, v: &str, ctx: &Context) {
    if v.is_empty() {
        return;
    }
    match kind {
        Kind::Str => set_str(e, path, v),
        Kind::Lower => set_str(e, path, &v.to_ascii_lowercase()),
        Kind::Ip => {
            if let Some(ip) = ecs::parse_ip(v) {
                ecs::set_ip(e, path, ip);
            }
        }
        Kind::Port => {
            ecs::set_port(e, path, v);
        }
        Kind::Int => {
            ecs::set_int_str(e, path, v);
        }
        Kind::User => ecs::set_user(e, path, v),
        Kind::Mac => {
            if let Some(m) = ecs::ecs_mac(v) {
                set_str(e, path, &m);
            }
        }
        Kind::Time => {
            if let Some(t) = time::device_time(v, ctx) {
                if path == "@timestamp" {
                    e.timestamp = t;
                } else {
                    e.fields.insert(path.to_owned(), Value::Time(t));
                }
            }
        }
        Kind::Outcome => {
            let o = match v.to_ascii_lowercase().as_str() {
                "success" | "succeeded" | "allowed" | "accept" | "pass" => "success",
                "failure" | "failed" | "fail" | "denied" | "blocked" => "failure",
                _ => "unknown",
            };
            set_str(e, path, o);
        }
        Kind::Direction => match v.trim() {
            "0" => set_str(e, path, "inbound"),
            "1" => set_str(e, path, "outbound"),
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_extensions() {
        let c = parse("CEF:0|security\\\\\\||threatmanager\\\\|1.0|100|trojan|10|src=10.0.0.192  dst=12.121.122.82 msg=a b\\=c\\\\d\\ne x\\|y").unwrap();
        assert_eq!(c.device_vendor, "security\\|");
        assert_eq!(c.device_product, "threatmanager\\");
        assert_eq!(c.get("src"), Some("10.0.0.192"));
        assert_eq!(c.get("msg"), Some("a b=c\\d\ne x\\|y"));
        assert_eq!(parse("CEF:0|a|b|c|d|e|"), Err(CefError::IncompleteHeader(6)));
    }

    #[test]
    fn values_with_spaces_and_equals() {
        let c = parse("CEF:0|a|b|c|d|e|10|moo=this =has = equals\\= dproc=InternetExplorer x.x.x.x ad.field[0]=f0").unwrap();
        assert_eq!(c.get("moo"), Some("this =has = equals="));
        assert_eq!(c.get("dproc"), Some("InternetExplorer x.x.x.x"));
        assert_eq!(c.get("ad.field[0]"), Some("f0"));
    }

    #[test]
    fn find_positions() {
        assert_eq!(find("CEF:0|x"), Some(0));
        assert_eq!(find("<134>Feb 1 host CEF:0|x"), Some(16));
        assert_eq!(find("xCEF:0|x"), None);
        assert_eq!(find("CEF: nope"), None);
    }
}
