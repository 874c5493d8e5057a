//! Small helpers that write ECS fields consistently (typed IPs, ports, `related.*`).

use std::net::IpAddr;

use sen_core::event::{Event, Value};

/// Syslog facility keywords, by code.
pub const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Syslog severity keywords, by code.
pub const SEVERITY_NAMES: [&str; 8] =
    ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/// Set a text field.
#[inline]
pub(crate) fn set_str(e: &mut Event, path: &str, v: &str) {
    e.fields.insert(path.to_owned(), Value::Str(v.to_owned()));
}

/// Set a text field unless `v` is empty or `-`.
#[inline]
pub(crate) fn set_opt(e: &mut Event, path: &str, v: &str) {
    if !v.is_empty() && v != "-" {
        set_str(e, path, v);
    }
}

/// Set an integer field.
#[inline]
pub(crate) fn set_int(e: &mut Event, path: &str, v: i64) {
    e.fields.insert(path.to_owned(), Value::Int(v));
}

/// Set an integer field from text, if it is one.
#[inline]
pub(crate) fn set_int_str(e: &mut Event, path: &str, v: &str) -> bool {
    match v.trim().parse::<i64>() {
        Ok(i) => {
            set_int(e, path, i);
            true
        }
        Err(_) => false,
    }
}

/// Set a port field (0-65535) from text.
#[inline]
pub(crate) fn set_port(e: &mut Event, path: &str, v: &str) -> bool {
    match v.trim().parse::<u16>() {
        Ok(p) => {
            set_int(e, path, i64::from(p));
            true
        }
        Err(_) => false,
    }
}

/// Append a typed IP to a list field without duplicates.
pub(crate) fn push_ip(e: &mut Event, path: &str, ip: IpAddr) {
    let entry = e.fields.entry(path.to_owned()).or_insert_with(|| Value::List(Vec::new()));
    if let Value::List(items) = entry {
        if !items.iter().any(|i| i.as_ip() == Some(ip)) {
            items.push(Value::Ip(ip));
        }
    } else {
        let prev = std::mem::replace(entry, Value::List(Vec::new()));
        if let Value::List(items) = entry {
            items.push(prev);
            items.push(Value::Ip(ip));
        }
    }
}

/// Parse text as an IP address (accepts `[v6]` and IPv4-mapped forms; trims spaces).
#[inline]
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(s);
    if s.is_empty() || s.len() > 45 {
        return None;
    }
    s.parse().ok()
}

/// Set `<side>.ip` (and `related.ip`) when `v` is an IP, else `<side>.domain` when it looks like
/// a host name. `side` is `source`, `destination`, `client`, `server`, `observer`, `host`.
pub(crate) fn set_endpoint(e: &mut Event, side: &str, v: &str) {
    let v = v.trim();
    if v.is_empty() || v == "-" {
        return;
    }
    if let Some(ip) = parse_ip(v) {
        set_ip(e, side, ip);
    } else if v.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_')) {
        let path = join(side, "domain");
        set_str(e, &path, v);
    }
}

/// Set `<side>.ip` and `related.ip`.
pub(crate) fn set_ip(e: &mut Event, side: &str, ip: IpAddr) {
    let path = join(side, "ip");
    e.fields.insert(path, Value::Ip(ip));
    push_ip(e, "related.ip", ip);
}

/// Set a user name field and add it to `related.user`.
pub(crate) fn set_user(e: &mut Event, path: &str, name: &str) {
    let name = name.trim();
    if name.is_empty() || name == "-" {
        return;
    }
    set_str(e, path, name);
    e.push("related.user", name);
}

/// Add `event.category` and `event.type` values.
pub(crate) fn categorize(e: &mut Event, categories: &[&str], types: &[&str]) {
    for c in categories {
        e.push("event.category", c);
    }
    for t in types {
        e.push("event.type", t);
    }
}

/// Set `event.module` and `event.dataset`.
pub(crate) fn module(e: &mut Event, module: &str, dataset: &str) {
    set_str(e, "event.module", module);
    set_str(e, "event.dataset", dataset);
}

/// `a.b`.
#[inline]
pub(crate) fn join(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len() + 1);
    s.push_str(a);
    s.push('.');
    s.push_str(b);
    s
}

/// Set the syslog priority fields (`log.syslog.priority`, facility and severity code/name,
/// `log.level`).
pub(crate) fn set_priority(e: &mut Event, pri: u8) {
    let facility = usize::from(pri >> 3);
    let severity = usize::from(pri & 7);
    set_int(e, "log.syslog.priority", i64::from(pri));
    set_int(e, "log.syslog.facility.code", facility as i64);
    if let Some(name) = FACILITY_NAMES.get(facility) {
        set_str(e, "log.syslog.facility.name", name);
    }
    set_int(e, "log.syslog.severity.code", severity as i64);
    if let Some(name) = SEVERITY_NAMES.get(severity) {
        set_str(e, "log.syslog.severity.name", name);
        set_str(e, "log.level", name);
    }
}

/// Set `event.severity` and `log.level` from a syslog severity (0 emergency … 7 debug), as
/// Cisco's and Huawei's message headers carry it.
pub(crate) fn set_severity(e: &mut Event, severity: u8) {
    if let Some(level) = SEVERITY_NAMES.get(usize::from(severity)) {
        set_str(e, "log.level", level);
    }
    set_int(e, "event.severity", i64::from(severity));
}

/// Format a 6-byte MAC as ECS wants it (`00-00-5E-00-53-23`). Accepts `:`/`-` separated hex.
pub(crate) fn ecs_mac(s: &str) -> Option<String> {
    let mut out = String::with_capacity(17);
    let mut n = 0;
    for part in s.split([':', '-']) {
        if part.len() != 2 || !part.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        if n > 0 {
            out.push('-');
        }
        out.push_str(&part.to_ascii_uppercase());
        n += 1;
    }
    (n == 6).then_some(out)
}

/// Set `url.original` to a request target (`/path?query`, or an absolute URL) and, when it has a
/// path, `url.path` and `url.query` (without the fragment).
pub(crate) fn set_url_target(e: &mut Event, t: &str) {
    set_str(e, "url.original", t);
    let path_start = if t.starts_with('/') {
        Some(0)
    } else {
        t.find("://").and_then(|i| t.get(i + 3..)?.find('/').map(|j| i + 3 + j))
    };
    if let Some(ps) = path_start {
        let pq = t.get(ps..).unwrap_or_default();
        let (path, query) = match pq.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (pq, None),
        };
        let path = path.split('#').next().unwrap_or(path);
        set_str(e, "url.path", path);
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            set_str(e, "url.query", q.split('#').next().unwrap_or(q));
        }
    }
}

/// `event.outcome` for an HTTP status.
pub(crate) fn http_outcome(status: u16) -> &'static str {
    if status < 400 { "success" } else { "failure" }
}

/// Set `network.iana_number` and, for the common protocols, `network.transport`.
pub(crate) fn set_iana_protocol(e: &mut Event, n: u8) {
    set_int(e, "network.iana_number", i64::from(n));
    if let Some(name) = iana_protocol(n) {
        set_str(e, "network.transport", name);
    }
}

/// Set `event.duration` (nanoseconds) from a whole number of seconds written as text; nothing
/// when it is not one.
pub(crate) fn set_duration_secs(e: &mut Event, secs: &str) {
    if let Ok(secs) = secs.parse::<i64>() {
        set_int(e, "event.duration", secs.saturating_mul(1_000_000_000));
    }
}

/// ECS `network.transport` name of an IANA protocol number (the common ones).
fn iana_protocol(n: u8) -> Option<&'static str> {
    Some(match n {
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        88 => "eigrp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        115 => "l2tp",
        132 => "sctp",
        _ => return None,
    })
}
