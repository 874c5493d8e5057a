//! Apache / nginx access logs, Common Log Format and Combined:
//! `host ident user [time] "request" status bytes ["referrer" "user-agent" [more]]`, optionally
//! preceded by a virtual host (`vhost:port host ident …`). Fields may be `-`.

use chrono::{DateTime, FixedOffset, Utc};
use sen_core::event::{Event, Value};

use crate::ecs::{self, set_str};
use crate::time;

/// A parsed access log line (`-` fields are `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessLog<'a> {
    /// Virtual host, when the line starts with one.
    pub vhost: Option<&'a str>,
    /// Client address or host name.
    pub client: Option<&'a str>,
    /// RFC 1413 identity.
    pub ident: Option<&'a str>,
    /// Authenticated user.
    pub user: Option<&'a str>,
    /// Request time.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// The request line as written (between the quotes).
    pub request: Option<&'a str>,
    /// HTTP method, when the request line is well formed.
    pub method: Option<&'a str>,
    /// Request target, when the request line is well formed.
    pub target: Option<&'a str>,
    /// Protocol (`HTTP/1.1`), when present.
    pub protocol: Option<&'a str>,
    /// Response status.
    pub status: Option<u16>,
    /// Response body size.
    pub bytes: Option<u64>,
    /// Referrer (combined format; `Some("")` when the quotes are empty).
    pub referrer: Option<&'a str>,
    /// User agent (combined format).
    pub user_agent: Option<&'a str>,
    /// Whatever follows (nginx `"$http_x_forwarded_for"`, timings …), trimmed.
    pub rest: &'a str,
}

/// Why a line is not an access log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The shape does not match.
    #[error("failed parsing access log line")]
    Shape,
    /// The bracketed time is not `dd/Mon/yyyy:HH:MM:SS zone`.
    #[error("failed parsing access log timestamp")]
    Timestamp,
}

struct Cursor<'a> {
    s: &'a str,
    p: usize,
}

impl<'a> Cursor<'a> {
    fn skip_spaces(&mut self) {
        let b = self.s.as_bytes();
        while b.get(self.p) == Some(&b' ') {
            self.p += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.p).copied()
    }

    /// A space-delimited token (non-empty).
    fn token(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let b = self.s.as_bytes();
        let start = self.p;
        while b.get(self.p).is_some_and(|&c| c != b' ') {
            self.p += 1;
        }
        if self.p == start { None } else { self.s.get(start..self.p) }
    }

    /// `"…"` with `\"` escapes; returns the raw inside.
    fn quoted(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let b = self.s.as_bytes();
        if b.get(self.p) != Some(&b'"') {
            return None;
        }
        let start = self.p + 1;
        let mut q = start;
        loop {
            match b.get(q) {
                None => return None,
                Some(b'\\') => q += 2,
                Some(b'"') => break,
                Some(_) => q += 1,
            }
        }
        self.p = q + 1;
        self.s.get(start..q)
    }

    /// `[…]`; returns the inside.
    fn bracketed(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let b = self.s.as_bytes();
        if b.get(self.p) != Some(&b'[') {
            return None;
        }
        let close = memchr::memchr(b']', b.get(self.p..)?)?;
        let inside = self.s.get(self.p + 1..self.p + close)?;
        self.p += close + 1;
        Some(inside)
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.p..).unwrap_or_default().trim()
    }
}

fn dash(s: &str) -> Option<&str> {
    if s == "-" { None } else { Some(s) }
}

/// Whether the token at position 4 starts a bracketed time (`host ident user [dd/...`).
fn time_follows(s: &str) -> bool {
    let mut c = Cursor { s, p: 0 };
    for _ in 0..3 {
        if c.token().is_none() {
            return false;
        }
    }
    c.skip_spaces();
    c.peek() == Some(b'[')
}

/// Parse a Common/Combined log line.
pub fn parse(line: &str) -> Result<AccessLog<'_>, AccessError> {
    let line = line.trim();
    let mut out = AccessLog::default();
    let mut c = Cursor { s: line, p: 0 };
    let first = c.token().ok_or(AccessError::Shape)?;
    // `vhost:port client ident user [time] …`
    if !time_follows(line) && time_follows(c.rest()) {
        out.vhost = Some(first);
        out.client = dash(c.token().ok_or(AccessError::Shape)?);
    } else {
        out.client = dash(first);
    }
    out.ident = dash(c.token().ok_or(AccessError::Shape)?);
    out.user = dash(c.token().ok_or(AccessError::Shape)?);
    c.skip_spaces();
    if c.peek() == Some(b'[') {
        let inside = c.bracketed().ok_or(AccessError::Shape)?;
        if inside != "-" {
            out.timestamp = Some(time::clf(inside).ok_or(AccessError::Timestamp)?);
        }
    } else {
        let t = c.token().ok_or(AccessError::Shape)?;
        if t != "-" {
            return Err(AccessError::Timestamp);
        }
    }
    c.skip_spaces();
    if c.peek() == Some(b'"') {
        let r = c.quoted().ok_or(AccessError::Shape)?;
        if r != "-" {
            out.request = Some(r);
        }
    } else if c.token() != Some("-") {
        return Err(AccessError::Shape);
    }
    if let Some(r) = out.request {
        split_request(r, &mut out);
    }
    let status = c.token().ok_or(AccessError::Shape)?;
    if status != "-" {
        out.status = Some(status.parse().map_err(|_| AccessError::Shape)?);
    }
    let bytes = c.token().ok_or(AccessError::Shape)?;
    if bytes != "-" {
        out.bytes = Some(bytes.parse().map_err(|_| AccessError::Shape)?);
    }
    // Combined: "referrer" "agent" (or bare dashes).
    c.skip_spaces();
    let save = c.p;
    let referrer = match c.peek() {
        Some(b'"') => c.quoted().map(Some),
        Some(b'-') => c.token().filter(|t| *t == "-").map(|_| None),
        _ => None,
    };
    if let Some(r) = referrer {
        out.referrer = r.filter(|r| *r != "-");
        c.skip_spaces();
        match c.peek() {
            Some(b'"') => out.user_agent = c.quoted().filter(|a| *a != "-"),
            Some(b'-') => {
                let _ = c.token();
            }
            _ => {}
        }
    } else {
        c.p = save;
    }
    out.rest = c.rest();
    Ok(out)
}

fn split_request<'a>(r: &'a str, out: &mut AccessLog<'a>) {
    let mut parts = r.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else { return };
    let protocol = parts.next();
    if parts.next().is_some()
        || method.is_empty()
        || method.len() > 20
        || !method.bytes().all(|c| c.is_ascii_uppercase() || c == b'_' || c == b'-')
        || target.is_empty()
        || protocol.is_some_and(|p| !p.starts_with("HTTP/"))
    {
        return;
    }
    out.method = Some(method);
    out.target = Some(target);
    out.protocol = protocol;
}

/// Parse `line` as an access log and write ECS fields. With `require_full`, only lines with a
/// time, a request and a status count (auto-detection); returns whether it matched.
pub(crate) fn apply(e: &mut Event, line: &str, require_full: bool) -> bool {
    let Ok(a) = parse(line) else { return false };
    if require_full && (a.timestamp.is_none() || a.request.is_none() || a.status.is_none()) {
        return false;
    }
    if let Some(t) = a.timestamp {
        e.timestamp = t.with_timezone(&Utc);
    }
    write(e, &a);
    true
}

/// Write the fields of an access log line (not `@timestamp`).
pub(crate) fn write(e: &mut Event, a: &AccessLog<'_>) {
    ecs::module(e, "apache", "apache.access");
    ecs::categorize(e, &["web"], &["access"]);
    if let Some(v) = a.vhost {
        set_str(e, "url.domain", v.split(':').next().unwrap_or(v));
    }
    if let Some(c) = a.client {
        ecs::set_endpoint(e, "source", c);
    }
    if let Some(u) = a.user {
        ecs::set_user(e, "user.name", u);
    }
    if let Some(m) = a.method {
        set_str(e, "http.request.method", m);
    }
    if let Some(t) = a.target {
        ecs::set_url_target(e, t);
    } else if let Some(r) = a.request {
        // Not a well-formed request line (scanners, TLS on a plain port …).
        set_str(e, "url.original", r);
    }
    if let Some(p) = a.protocol {
        set_str(e, "http.version", p.strip_prefix("HTTP/").unwrap_or(p));
    }
    if let Some(s) = a.status {
        ecs::set_int(e, "http.response.status_code", i64::from(s));
        set_str(e, "event.outcome", ecs::http_outcome(s));
        if s >= 400 {
            e.push("event.type", "error");
        }
    }
    if let Some(b) = a.bytes {
        e.fields.insert(
            "http.response.body.bytes".to_owned(),
            Value::Int(b.min(i64::MAX as u64) as i64),
        );
    }
    if let Some(r) = a.referrer.filter(|r| !r.is_empty()) {
        set_str(e, "http.request.referrer", r);
    }
    if let Some(ua) = a.user_agent.filter(|u| !u.is_empty()) {
        set_str(e, "user_agent.original", ua);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_and_common() {
        let a = parse(r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a/b.png?x=1 HTTP/1.1" 200 203023 "http://semicomplete.com/" "Mozilla/5.0 (Macintosh)""#).unwrap();
        assert_eq!(a.client, Some("83.149.9.216"));
        assert_eq!(
            (a.method, a.target, a.protocol),
            (Some("GET"), Some("/a/b.png?x=1"), Some("HTTP/1.1"))
        );
        assert_eq!((a.status, a.bytes), (Some(200), Some(203023)));
        assert_eq!(a.user_agent, Some("Mozilla/5.0 (Macintosh)"));
        let a = parse(r#"127.0.0.1 bob frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#).unwrap();
        assert_eq!((a.ident, a.user), (Some("bob"), Some("frank")));
        assert!(parse("- - - - - - -").is_ok());
        assert!(parse("- - - [-] \"-\" - -").is_ok());
        assert_eq!(parse("- - - [1234] - - -"), Err(AccessError::Timestamp));
        assert!(parse("not a common log line").is_err());
        let a = parse(
            r#"www.example.com:80 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 -"#,
        )
        .unwrap();
        assert_eq!(
            (a.vhost, a.client, a.bytes),
            (Some("www.example.com:80"), Some("1.2.3.4"), None)
        );
    }
}
