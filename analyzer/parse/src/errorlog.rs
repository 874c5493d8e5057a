//! Apache httpd error logs (2.2: `[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] msg`,
//! 2.4: `[Tue Jun 08 11:54:08.929301 2021] [php7:emerg] [pid 1374899:tid 5] [client ip:port] msg`)
//! and nginx error logs (`2021/04/01 13:02:31 [error] 31#31: *1 msg, client: ip, server: s, …`).

use chrono::NaiveDate;
use nom::bytes::complete::{take_until, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{opt, recognize};
use nom::sequence::{delimited, terminated};
use nom::{IResult, Parser};
use sen_core::event::Event;

use crate::Context;
use crate::ecs::{self, set_str};
use crate::time::{self, LogTime};

/// A parsed Apache error log line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApacheError<'a> {
    /// Timestamp (no zone: the context's applies).
    pub timestamp: Option<LogTime>,
    /// Module (2.4 `[module:level]`).
    pub module: Option<&'a str>,
    /// Level (`error`, `notice` …).
    pub level: Option<&'a str>,
    /// Process id.
    pub pid: Option<&'a str>,
    /// Thread id.
    pub tid: Option<&'a str>,
    /// Client address.
    pub client: Option<&'a str>,
    /// Client port.
    pub client_port: Option<&'a str>,
    /// The message.
    pub message: &'a str,
}

const LEVELS: [&str; 17] = [
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1", "trace2",
    "trace3", "trace4", "trace5", "trace6", "trace7", "trace8", "warning",
];

fn bracket(i: &str) -> IResult<&str, &str> {
    delimited(char('['), take_until("]"), char(']')).parse(i)
}

fn timestamp(inside: &str) -> Option<LogTime> {
    if let Some(n) = time::ctime(inside) {
        return Some(LogTime::Local(n));
    }
    if let Some(t) = time::clf(inside) {
        return Some(LogTime::Zoned(t));
    }
    match time::iso8601(inside.as_bytes()) {
        Some((t, n)) if n == inside.len() => Some(t),
        _ => None,
    }
}

/// Split `ip:port` (IPv4, bare IPv6 with a trailing `:port`, or `[v6]:port`).
pub(crate) fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if ecs::parse_ip(s).is_some() {
        return (s, None);
    }
    if let Some((h, p)) = s.rsplit_once(':')
        && !p.is_empty()
        && p.bytes().all(|c| c.is_ascii_digit())
    {
        let h = h.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(h);
        return (h, Some(p));
    }
    (s, None)
}

/// Parse an Apache error log line.
pub fn parse_apache(line: &str) -> Option<ApacheError<'_>> {
    let mut out = ApacheError::default();
    let (mut rest, first) = bracket(line).ok()?;
    let mut pending = Some(first);
    if let Some(t) = timestamp(first) {
        out.timestamp = Some(t);
        pending = None;
    }
    loop {
        let inside = match pending.take() {
            Some(p) => p,
            None => {
                let Ok((r, _)) = space1::<&str, nom::error::Error<&str>>(rest) else { break };
                match bracket(r) {
                    Ok((r2, inside)) => {
                        rest = r2;
                        inside
                    }
                    Err(_) => break,
                }
            }
        };
        if let Some(p) = inside.strip_prefix("pid ") {
            match p.split_once(":tid ") {
                Some((pid, tid)) => {
                    out.pid = Some(pid.trim());
                    out.tid = Some(tid.trim());
                }
                None => out.pid = Some(p.trim()),
            }
        } else if let Some(c) =
            inside.strip_prefix("client ").or_else(|| inside.strip_prefix("remote "))
        {
            if out.client.is_none() {
                let (h, p) = split_host_port(c.trim());
                out.client = Some(h);
                out.client_port = p;
            }
        } else if out.level.is_none() {
            let (module, level) = match inside.rsplit_once(':') {
                Some((m, l)) => (Some(m), l),
                None => (None, inside),
            };
            if !LEVELS.contains(&level) {
                // Not a header group: the message starts here.
                out.timestamp?;
                let start = line.len().saturating_sub(rest.len() + inside.len() + 2);
                out.message = line.get(start..).unwrap_or_default().trim();
                return Some(out);
            }
            out.module = module;
            out.level = Some(level);
        } else {
            let start = line.len().saturating_sub(rest.len() + inside.len() + 2);
            out.message = line.get(start..).unwrap_or_default().trim();
            return Some(out);
        }
    }
    if out.timestamp.is_none() && out.level.is_none() {
        return None;
    }
    out.message = rest.trim();
    Some(out)
}

/// Parse an Apache error log line into `e`; returns whether it matched.
pub(crate) fn apply_apache(e: &mut Event, line: &str, ctx: &Context) -> bool {
    let Some(a) = parse_apache(line) else { return false };
    if let Some(t) = a.timestamp.and_then(|t| t.resolve(ctx)) {
        e.timestamp = t;
    }
    write_apache(e, &a);
    set_str(e, "message", a.message);
    true
}

/// Write Apache error fields (not `@timestamp`, not `message`).
pub(crate) fn write_apache(e: &mut Event, a: &ApacheError<'_>) {
    ecs::module(e, "apache", "apache.error");
    ecs::categorize(e, &["web"], &["error"]);
    if let Some(l) = a.level {
        set_str(e, "log.level", l);
    }
    if let Some(m) = a.module {
        set_str(e, "apache.error.module", m);
    }
    if let Some(p) = a.pid {
        ecs::set_int_str(e, "process.pid", p);
    }
    if let Some(t) = a.tid {
        ecs::set_int_str(e, "process.thread.id", t);
    }
    if let Some(c) = a.client {
        ecs::set_endpoint(e, "source", c);
    }
    if let Some(p) = a.client_port {
        ecs::set_port(e, "source.port", p);
    }
    // 2.4 error codes: `AH00957: …`
    let code = a.message.as_bytes();
    if code.len() > 8
        && code.starts_with(b"AH")
        && code.get(7) == Some(&b':')
        && time::digit_run(code, 2) == 5
    {
        set_str(e, "error.code", a.message.get(..7).unwrap_or_default());
    }
}

/// A parsed nginx error log line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NginxError<'a> {
    /// Local time (the context's zone applies).
    pub timestamp: Option<chrono::NaiveDateTime>,
    /// Level.
    pub level: &'a str,
    /// Process id.
    pub pid: Option<&'a str>,
    /// Thread id.
    pub tid: Option<&'a str>,
    /// Connection id (`*N`).
    pub connection_id: Option<&'a str>,
    /// The message, without the trailing `, client: …` details.
    pub message: &'a str,
    /// Trailing `key: value` details (`client`, `server`, `request`, `upstream`, `host`, `referrer`), unquoted.
    pub details: Vec<(&'a str, &'a str)>,
}

/// date, time, level, `pid#tid`, `*cid`.
type NginxHeader<'a> =
    (&'a str, &'a str, &'a str, Option<(&'a str, Option<&'a str>)>, Option<&'a str>);

fn nginx_header(i: &str) -> IResult<&str, NginxHeader<'_>> {
    let date = recognize((
        take_while_m_n(4, 4, |c: char| c.is_ascii_digit()),
        char('/'),
        take_while_m_n(2, 2, |c: char| c.is_ascii_digit()),
        char('/'),
        take_while_m_n(2, 2, |c: char| c.is_ascii_digit()),
    ));
    let hms = recognize((
        take_while_m_n(2, 2, |c: char| c.is_ascii_digit()),
        char(':'),
        take_while_m_n(2, 2, |c: char| c.is_ascii_digit()),
        char(':'),
        take_while_m_n(2, 2, |c: char| c.is_ascii_digit()),
    ));
    let level = delimited(char('['), take_while1(|c: char| c.is_ascii_alphabetic()), char(']'));
    let pid_tid =
        terminated((digit1, char('#'), digit1).map(|(p, _, t)| (p, Some(t))), (char(':'), space0));
    let cid = delimited(char('*'), digit1, space1);
    (
        terminated(date, char(' ')),
        terminated(hms, char(' ')),
        terminated(level, space1),
        opt(pid_tid),
        opt(cid),
    )
        .parse(i)
}

/// Parse an nginx error log line.
pub fn parse_nginx(line: &str) -> Option<NginxError<'_>> {
    let (rest, (date, hms, level, pid_tid, cid)) = nginx_header(line).ok()?;
    let b = date.as_bytes();
    let d = NaiveDate::from_ymd_opt(
        time::digits(b, 0, 4)? as i32,
        time::digits(b, 5, 2)?,
        time::digits(b, 8, 2)?,
    )?;
    let (t, _) = time::hms_frac(hms.as_bytes(), 0)?;
    let mut out = NginxError {
        timestamp: Some(d.and_time(t)),
        level,
        pid: pid_tid.map(|(p, _)| p),
        tid: pid_tid.and_then(|(_, t)| t),
        connection_id: cid,
        message: rest.trim(),
        details: Vec::new(),
    };
    if let Some(at) = rest.find(", client: ") {
        out.message = rest.get(..at).unwrap_or_default().trim();
        let mut d = rest.get(at + 2..).unwrap_or_default();
        while !d.is_empty() {
            let Some((key, after)) = d.split_once(": ") else { break };
            let key = key.trim();
            let (value, next) = if let Some(q) = after.strip_prefix('"') {
                match q.find('"') {
                    Some(end) => {
                        (q.get(..end).unwrap_or_default(), q.get(end + 1..).unwrap_or_default())
                    }
                    None => (q, ""),
                }
            } else {
                match after.find(", ") {
                    Some(end) => {
                        (after.get(..end).unwrap_or_default(), after.get(end..).unwrap_or_default())
                    }
                    None => (after, ""),
                }
            };
            out.details.push((key, value));
            d = next.trim_start_matches([',', ' ']);
        }
    }
    Some(out)
}

/// Parse an nginx error log line into `e`; returns whether it matched.
pub(crate) fn apply_nginx(e: &mut Event, line: &str, ctx: &Context) -> bool {
    let Some(n) = parse_nginx(line) else { return false };
    if let Some(t) = n.timestamp {
        e.timestamp = time::resolve_local(ctx.timezone, t);
    }
    ecs::module(e, "nginx", "nginx.error");
    ecs::categorize(e, &["web"], &["error"]);
    set_str(e, "log.level", n.level);
    if let Some(p) = n.pid {
        ecs::set_int_str(e, "process.pid", p);
    }
    if let Some(t) = n.tid {
        ecs::set_int_str(e, "process.thread.id", t);
    }
    if let Some(c) = n.connection_id {
        ecs::set_int_str(e, "nginx.error.connection_id", c);
    }
    set_str(e, "message", n.message);
    for (k, v) in &n.details {
        match *k {
            "client" => ecs::set_endpoint(e, "source", v),
            "server" => set_str(e, "nginx.error.server", v),
            "upstream" => set_str(e, "nginx.error.upstream", v),
            "host" => {
                let (h, p) = split_host_port(v);
                set_str(e, "url.domain", h);
                if let Some(p) = p {
                    ecs::set_port(e, "url.port", p);
                }
            }
            "referrer" => ecs::set_opt(e, "http.request.referrer", v),
            "request" => {
                let mut parts = v.split(' ');
                if let (Some(m), Some(u), Some(p), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                {
                    set_str(e, "http.request.method", m);
                    set_str(e, "url.original", u);
                    set_str(e, "http.version", p.strip_prefix("HTTP/").unwrap_or(p));
                } else {
                    set_str(e, "url.original", v);
                }
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apache_22_and_24() {
        let a = parse_apache(
            "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
        )
        .unwrap();
        assert_eq!(
            (a.level, a.message),
            (Some("error"), "mod_jk child workerEnv in error state 6")
        );
        let a = parse_apache("[Tue Jun 08 11:54:08.929301 2021] [php7:emerg] [pid 1374899] [client 95.223.77.60:41888] rest [x]").unwrap();
        assert_eq!(
            (a.module, a.level, a.pid, a.client, a.client_port),
            (Some("php7"), Some("emerg"), Some("1374899"), Some("95.223.77.60"), Some("41888"))
        );
        assert_eq!(a.message, "rest [x]");
        let a = parse_apache("[01/Mar/2021:12:00:19 +0000] [ab:alert] [pid 4803:tid 3814] [client eda7:35d:3ceb:ef1e:2133:e7bf:116e:24cc:24259] I'll").unwrap();
        assert_eq!(
            (a.tid, a.client, a.client_port),
            (Some("3814"), Some("eda7:35d:3ceb:ef1e:2133:e7bf:116e:24cc"), Some("24259"))
        );
        let a = parse_apache("[error] [client 64.94.163.159] Client sent malformed Host header")
            .unwrap();
        assert_eq!((a.timestamp, a.client), (None, Some("64.94.163.159")));
        let a = parse_apache("[Sun Dec 04 04:47:44 2005] [notice] [something] else").unwrap();
        assert_eq!(a.message, "[something] else");
        assert!(parse_apache("[not a time] hello").is_none());
    }

    #[test]
    fn nginx() {
        let n = parse_nginx("2021/04/01 13:02:31 [error] 31#31: *1 open() \"/x\" failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: \"POST /not-found HTTP/1.1\", host: \"localhost:8081\"").unwrap();
        assert_eq!(
            (n.level, n.pid, n.tid, n.connection_id),
            ("error", Some("31"), Some("31"), Some("1"))
        );
        assert_eq!(n.message, "open() \"/x\" failed (2: No such file or directory)");
        assert_eq!(
            n.details,
            vec![
                ("client", "172.17.0.1"),
                ("server", "localhost"),
                ("request", "POST /not-found HTTP/1.1"),
                ("host", "localhost:8081")
            ]
        );
        let n = parse_nginx("2021/06/17 19:25:59 [notice] 133309#133309: signal process started")
            .unwrap();
        assert_eq!(n.message, "signal process started");
        let n = parse_nginx("2014/12/30 06:07:37 [warn] 80:2 yadda yadda").unwrap();
        assert_eq!(n.message, "80:2 yadda yadda");
    }
}
