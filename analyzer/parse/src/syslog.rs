//! Syslog: RFC 5424 (strict, with the column and the fields read so far on error) and RFC 3164 /
//! BSD syslog (lenient: optional `<PRI>`, year-less or ISO 8601 timestamps, optional host, tag with
//! optional `[pid]`).
//!
//! Both parsers borrow from the input and allocate nothing except for un-escaped structured data
//! values.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use sen_core::event::Event;

use crate::Context;
use crate::ecs::{self, set_str};
use crate::time::{self, LogTime};

/// Byte order mark that may start an RFC 5424 MSG.
const BOM: &str = "\u{feff}";

/// A structured data element (`[id key="value" …]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdElement<'a> {
    /// SD-ID.
    pub id: &'a str,
    /// Parameters in order, values un-escaped (`\"`, `\\`, `\]`).
    pub params: Vec<(&'a str, Cow<'a, str>)>,
}

/// A parsed RFC 5424 message (NILVALUE `-` fields are `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Syslog5424<'a> {
    /// PRI value (0-191).
    pub priority: u8,
    /// VERSION (1-999).
    pub version: u16,
    /// TIMESTAMP.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// HOSTNAME.
    pub hostname: Option<&'a str>,
    /// APP-NAME.
    pub appname: Option<&'a str>,
    /// PROCID.
    pub procid: Option<&'a str>,
    /// MSGID.
    pub msgid: Option<&'a str>,
    /// STRUCTURED-DATA elements.
    pub structured_data: Vec<SdElement<'a>>,
    /// MSG, as sent (may start with a BOM); `None` when absent or empty.
    pub message: Option<&'a str>,
}

impl Syslog5424<'_> {
    /// The message without its leading BOM.
    pub fn message_text(&self) -> Option<&str> {
        self.message.map(|m| m.strip_prefix(BOM).unwrap_or(m))
    }
}

/// Where and why an RFC 5424 message was rejected, with what was read before the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syslog5424Error<'a> {
    /// What was expected.
    pub reason: &'static str,
    /// Byte offset of the problem.
    pub column: usize,
    /// Fields read before the error (priority/version/timestamp/hostname … as far as it got).
    pub partial: Option<Syslog5424<'a>>,
}

impl std::fmt::Display for Syslog5424Error<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [col {}]", self.reason, self.column)
    }
}

const E_PRI_BRACKETS: &str = "expecting a priority value within angle brackets";
const E_PRI_RANGE: &str = "expecting a priority value in the range 1-191 or equal to 0";
const E_VERSION: &str = "expecting a version value in the range 1-999";
const E_SP: &str = "expecting a space";
const E_TIMESTAMP: &str = "expecting a RFC3339MICRO timestamp or a nil value";
const E_HOSTNAME: &str =
    "expecting a hostname (1-255 printable US-ASCII characters) or a nil value";
const E_APPNAME: &str = "expecting an app-name (1-48 printable US-ASCII characters) or a nil value";
const E_PROCID: &str = "expecting a procid (1-128 printable US-ASCII characters) or a nil value";
const E_MSGID: &str = "expecting a msgid (1-32 printable US-ASCII characters) or a nil value";
const E_SD: &str = "expecting a structured data section (`[id( key=\"value\")*]+`) or a nil value";
const E_SD_ID: &str = "expecting a structured data element id (1-32 printable US-ASCII characters except `=`, ` `, `]`, `\"`)";
const E_SD_PARAM: &str = "expecting a structured data parameter (`key=\"value\"`, key 1-32 printable US-ASCII characters except `=`, ` `, `]`, `\"`)";
const E_SD_ESCAPE: &str = "expecting chars `]`, `\"`, and `\\` to be escaped within param value";

/// Parse `<PRI>` at the start of `b`: returns (value, bytes consumed) or (error, column).
fn pri(b: &[u8], strict: bool) -> Result<(u8, usize), (&'static str, usize)> {
    if b.first() != Some(&b'<') {
        return Err((E_PRI_BRACKETS, 0));
    }
    let n = time::digit_run(b, 1);
    if n == 0 {
        return Err((E_PRI_RANGE, 1));
    }
    if n > 3 {
        return Err((E_PRI_RANGE, 4));
    }
    if strict && n > 1 && b.get(1) == Some(&b'0') {
        return Err((E_PRI_RANGE, 2));
    }
    let v = time::digits(b, 1, n).unwrap_or(u32::MAX);
    if v > 191 {
        return Err((E_PRI_RANGE, 1 + n));
    }
    if b.get(1 + n) != Some(&b'>') {
        return Err((E_PRI_RANGE, 1 + n));
    }
    Ok((v as u8, n + 2))
}

/// Whether `line` starts like RFC 5424 (`<PRI>VERSION SP`).
pub(crate) fn looks_like_5424(b: &[u8]) -> bool {
    let Ok((_, p)) = pri(b, false) else { return false };
    let n = time::digit_run(b, p);
    (1..=3).contains(&n) && b.get(p + n) == Some(&b' ')
}

/// Parse an RFC 5424 message strictly (the structured data reader also accepts spaces around
/// `=`, as real senders emit them).
pub fn parse_5424(input: &str) -> Result<Syslog5424<'_>, Syslog5424Error<'_>> {
    parse_5424_inner(input, false).map(|(_, s)| s)
}

/// Parse RFC 5424 as real senders write it: `<PRI>` may be missing (the first value is then
/// `false`), the timestamp may be any ISO 8601 time, and structured data that does not parse is
/// left at the start of the message instead of failing the line.
pub fn parse_5424_lenient(input: &str) -> Option<(bool, Syslog5424<'_>)> {
    parse_5424_inner(input, true).ok()
}

fn fail<'a>(
    reason: &'static str,
    column: usize,
    partial: Option<Syslog5424<'a>>,
) -> Syslog5424Error<'a> {
    Syslog5424Error { reason, column, partial }
}

fn parse_5424_inner(
    input: &str,
    lenient: bool,
) -> Result<(bool, Syslog5424<'_>), Syslog5424Error<'_>> {
    let b = input.as_bytes();
    let mut out = Syslog5424::default();
    let has_pri = !lenient || b.first() == Some(&b'<');
    let mut p = 0;
    if has_pri {
        let (priority, n) = pri(b, !lenient).map_err(|(r, c)| fail(r, c, None))?;
        out.priority = priority;
        p = n;
    }
    // VERSION: 1-3 digits, no leading zero.
    let n = time::digit_run(b, p).min(3);
    if n == 0 || b.get(p) == Some(&b'0') {
        return Err(fail(E_VERSION, p, None));
    }
    out.version = time::digits(b, p, n).unwrap_or(0) as u16;
    p += n;
    macro_rules! sp {
        () => {
            if b.get(p) != Some(&b' ') {
                return Err(fail(E_SP, p, Some(out)));
            }
            p += 1;
        };
    }
    sp!();
    // TIMESTAMP
    if nil_at(b, p) {
        p += 1;
    } else {
        let rest = b.get(p..).unwrap_or_default();
        match time::rfc3339_strict(rest) {
            Ok((t, used)) => {
                out.timestamp = Some(t);
                p += used;
            }
            Err(e) => match time::iso8601(rest) {
                Some((time::LogTime::Zoned(t), used)) if lenient => {
                    out.timestamp = Some(t);
                    p += used;
                }
                Some((time::LogTime::Local(n), used)) if lenient => {
                    out.timestamp = Some(n.and_utc().fixed_offset());
                    p += used;
                }
                _ => return Err(fail(E_TIMESTAMP, p + e.0, Some(out))),
            },
        }
    }
    sp!();
    match header_field(input, p, 255) {
        Ok((v, np)) => {
            out.hostname = v;
            p = np;
        }
        Err(c) => return Err(fail(E_HOSTNAME, c, Some(out))),
    }
    sp!();
    match header_field(input, p, 48) {
        Ok((v, np)) => {
            out.appname = v;
            p = np;
        }
        Err(c) => return Err(fail(E_APPNAME, c, Some(out))),
    }
    sp!();
    match header_field(input, p, 128) {
        Ok((v, np)) => {
            out.procid = v;
            p = np;
        }
        Err(c) => return Err(fail(E_PROCID, c, Some(out))),
    }
    sp!();
    match header_field(input, p, 32) {
        Ok((v, np)) => {
            out.msgid = v;
            p = np;
        }
        Err(c) => return Err(fail(E_MSGID, c, Some(out))),
    }
    sp!();
    // STRUCTURED-DATA
    let sd_start = p;
    let sd_error = if nil_at(b, p) {
        p += 1;
        None
    } else if b.get(p) == Some(&b'[') {
        let mut err = None;
        while b.get(p) == Some(&b'[') {
            match sd_element(input, p, &mut out.structured_data) {
                Ok(np) => p = np,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        err
    } else {
        Some((E_SD, p))
    };
    if let Some((reason, c)) = sd_error {
        if !lenient {
            return Err(fail(reason, c, Some(out)));
        }
        // Non-standard structured data: keep it as the start of the message.
        out.structured_data.clear();
        out.message = input.get(sd_start..).filter(|m| !m.is_empty());
        return Ok((has_pri, out));
    }
    // MSG
    if p < b.len() {
        if b.get(p) != Some(&b' ') {
            if lenient {
                out.structured_data.clear();
                out.message = input.get(sd_start..).filter(|m| !m.is_empty());
                return Ok((has_pri, out));
            }
            return Err(fail(E_SP, p, Some(out)));
        }
        let msg = input.get(p + 1..).unwrap_or_default();
        if !msg.is_empty() {
            out.message = Some(msg);
        }
    }
    Ok((has_pri, out))
}

/// Whether `b` starts like PRI-less RFC 5424: `VERSION SP (TIMESTAMP|-) SP`.
pub(crate) fn looks_like_5424_without_pri(b: &[u8]) -> bool {
    let n = time::digit_run(b, 0);
    if !(1..=3).contains(&n) || b.first() == Some(&b'0') || b.get(n) != Some(&b' ') {
        return false;
    }
    let rest = b.get(n + 1..).unwrap_or_default();
    (rest.first() == Some(&b'-') && rest.get(1) == Some(&b' ')) || time::iso8601(rest).is_some()
}

/// `-` followed by a space or the end.
#[inline]
fn nil_at(b: &[u8], p: usize) -> bool {
    b.get(p) == Some(&b'-') && matches!(b.get(p + 1), None | Some(b' '))
}

/// A header field: NILVALUE or 1..=max PRINTUSASCII. Returns the value and the end offset, or the
/// error column.
fn header_field(input: &str, p: usize, max: usize) -> Result<(Option<&str>, usize), usize> {
    let b = input.as_bytes();
    let rest = b.get(p..).unwrap_or_default();
    let len = rest.iter().take_while(|&&c| c != b' ').count();
    if len == 0 {
        return Err(p);
    }
    if let Some(bad) = rest.get(..len).and_then(|f| f.iter().position(|c| !(33..=126).contains(c)))
    {
        return Err(p + bad);
    }
    if len > max {
        return Err(p + max);
    }
    let v = input.get(p..p + len).unwrap_or_default();
    Ok((if v == "-" { None } else { Some(v) }, p + len))
}

/// SD-NAME character (PRINTUSASCII except `=`, SP, `]`, `"`).
#[inline]
fn sd_name_char(c: u8) -> bool {
    (33..=126).contains(&c) && !matches!(c, b'=' | b']' | b'"')
}

/// One `[id param*]` at `p`; pushes it and returns the offset after `]`.
fn sd_element<'a>(
    input: &'a str,
    mut p: usize,
    out: &mut Vec<SdElement<'a>>,
) -> Result<usize, (&'static str, usize)> {
    let b = input.as_bytes();
    p += 1; // '['
    let id_len = b.get(p..).unwrap_or_default().iter().take_while(|&&c| sd_name_char(c)).count();
    if id_len == 0 || id_len > 32 {
        return Err((E_SD_ID, p + id_len.min(32)));
    }
    let id = input.get(p..p + id_len).unwrap_or_default();
    p += id_len;
    out.push(SdElement { id, params: Vec::new() });
    loop {
        match b.get(p) {
            Some(b']') => return Ok(p + 1),
            Some(b' ') => {
                while b.get(p) == Some(&b' ') {
                    p += 1;
                }
                if b.get(p) == Some(&b']') {
                    return Ok(p + 1);
                }
                let name_len =
                    b.get(p..).unwrap_or_default().iter().take_while(|&&c| sd_name_char(c)).count();
                if name_len == 0 || name_len > 32 {
                    return Err((E_SD_PARAM, p + name_len.min(32)));
                }
                let name = input.get(p..p + name_len).unwrap_or_default();
                p += name_len;
                if b.get(p) != Some(&b'=') {
                    return Err((E_SD_PARAM, p));
                }
                p += 1;
                while b.get(p) == Some(&b' ') {
                    p += 1;
                }
                if b.get(p) != Some(&b'"') {
                    return Err((E_SD_PARAM, p));
                }
                p += 1;
                let start = p;
                let mut escaped = false;
                loop {
                    match b.get(p) {
                        None => return Err((E_SD_PARAM, p)),
                        Some(b'\\') => {
                            match b.get(p + 1) {
                                Some(b'"' | b'\\' | b']') => {}
                                _ => return Err((E_SD_ESCAPE, p + 1)),
                            }
                            escaped = true;
                            p += 2;
                        }
                        Some(b']') => return Err((E_SD_ESCAPE, p)),
                        Some(b'"') => break,
                        Some(_) => p += 1,
                    }
                }
                let raw = input.get(start..p).unwrap_or_default();
                let value = if escaped { Cow::Owned(unescape_sd(raw)) } else { Cow::Borrowed(raw) };
                if let Some(el) = out.last_mut() {
                    el.params.push((name, value));
                }
                p += 1; // closing quote
                if !matches!(b.get(p), Some(b' ' | b']')) {
                    return Err((E_SD_PARAM, p));
                }
            }
            _ => return Err((E_SD_ID, p)),
        }
    }
}

/// Structured data elements at the start of `s` (`[id k="v"][id2 …] rest`): the elements and the
/// text after them (leading spaces trimmed). `None` unless at least one element parses.
pub(crate) fn parse_sd(s: &str) -> Option<(Vec<SdElement<'_>>, &str)> {
    let mut out = Vec::new();
    let mut p = 0;
    while s.as_bytes().get(p) == Some(&b'[') {
        let before = out.len();
        match sd_element(s, p, &mut out) {
            Ok(np) => p = np,
            Err(_) => {
                out.truncate(before);
                break;
            }
        }
    }
    if out.is_empty() {
        return None;
    }
    Some((out, s.get(p..).unwrap_or_default().trim_start()))
}

fn unescape_sd(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                s.push(n);
            }
        } else {
            s.push(c);
        }
    }
    s
}

/// A parsed RFC 3164 / BSD syslog line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Syslog3164<'a> {
    /// PRI value, if the line has one.
    pub priority: Option<u8>,
    /// Timestamp as written (resolve with [`LogTime::resolve`]).
    pub timestamp: Option<LogTime>,
    /// HOSTNAME.
    pub hostname: Option<&'a str>,
    /// TAG (program name).
    pub appname: Option<&'a str>,
    /// `[pid]` after the tag.
    pub procid: Option<&'a str>,
    /// CONTENT.
    pub message: &'a str,
}

/// Parse an RFC 3164 / BSD syslog line leniently. `None` if it has neither `<PRI>` nor a
/// recognizable timestamp at the start. A numeric offset right after the time (`…15:00:01+07:00`,
/// Huawei VRP) is read; a word starting with `%` after the time is a message header (Cisco's
/// `%ASA-6-302013:`, Huawei's `%%01BGP/3/…:`), never the host name or the tag.
pub fn parse_3164(input: &str) -> Option<Syslog3164<'_>> {
    let b = input.as_bytes();
    let mut out = Syslog3164::default();
    let mut p = 0;
    if b.first() == Some(&b'<') {
        let (v, n) = pri(b, false).ok()?;
        out.priority = Some(v);
        p = n;
    }
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    let rest = b.get(p..).unwrap_or_default();
    if let Some((month, day, year, t, n)) = time::bsd(rest) {
        out.timestamp =
            Some(match year.and_then(|y| chrono::NaiveDate::from_ymd_opt(y, month, day)) {
                Some(d) => LogTime::Local(d.and_time(t)),
                None => LogTime::YearLess { month, day, time: t },
            });
        p += n;
        // A numeric offset right after the time (Huawei VRP: `Nov 26 2026 15:00:01+07:00`).
        if let Some((offset, used)) = numeric_offset(b.get(p..).unwrap_or_default()) {
            if let Some(LogTime::Local(naive)) = out.timestamp
                && let Some(t) = offset.from_local_datetime(&naive).single()
            {
                out.timestamp = Some(LogTime::Zoned(t));
            }
            p += used;
        }
        // Optional zone word (`UTC`, `GMT`) and a colon (Cisco).
        let after = b.get(p..).unwrap_or_default();
        for z in [&b" UTC"[..], b" GMT", b" Z"] {
            if after.starts_with(z) && matches!(after.get(z.len()), None | Some(b' ' | b':')) {
                // The zone is UTC whatever the context says.
                out.timestamp = out.timestamp.map(LogTime::in_utc);
                p += z.len();
                break;
            }
        }
        if b.get(p) == Some(&b':') {
            p += 1;
        }
    } else if let Some((t, n)) = time::iso8601(rest) {
        out.timestamp = Some(t);
        p += n;
    } else if out.priority.is_none() {
        return None;
    }
    if out.timestamp.is_some() {
        // The timestamp must be followed by a space or the end.
        match b.get(p) {
            None => {
                out.message = "";
                return Some(out);
            }
            Some(b' ') => {}
            Some(_) if out.priority.is_some() => {
                out.timestamp = None;
                out.message = input.get(p..).unwrap_or_default();
                return Some(out);
            }
            Some(_) => return None,
        }
    }
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    if out.timestamp.is_none() {
        // `<PRI>` without a timestamp: the rest is the message (RFC 3164 §4.3.3).
        out.message = input.get(p..).unwrap_or_default();
        return Some(out);
    }
    // HOSTNAME, unless the next word is already the tag or a message header (`%ASA-6-…`,
    // Huawei's `%%01BGP/…`).
    if tag_at(input, p).is_none() && b.get(p) != Some(&b'%') {
        let len = b.get(p..).unwrap_or_default().iter().take_while(|&&c| c != b' ').count();
        if len > 0 {
            out.hostname = input.get(p..p + len);
            p += len;
            while b.get(p) == Some(&b' ') {
                p += 1;
            }
        }
    }
    if let Some((tag, pid, np)) = tag_at(input, p) {
        out.appname = Some(tag);
        out.procid = pid;
        p = np;
    }
    out.message = input.get(p..).unwrap_or_default();
    Some(out)
}

/// `+hh:mm`, `-hh:mm`, `+hhmm` at the start of `b`, followed by a space, `:` or the end.
fn numeric_offset(b: &[u8]) -> Option<(FixedOffset, usize)> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = time::digits(b, 1, 2)?;
    let (m, used) = if b.get(3) == Some(&b':') {
        (time::digits(b, 4, 2)?, 6)
    } else {
        (time::digits(b, 3, 2)?, 5)
    };
    if time::digit_run(b, 1) > 4
        || !matches!(b.get(used), None | Some(b' ' | b':'))
        || h > 23
        || m > 59
    {
        return None;
    }
    Some((FixedOffset::east_opt(sign * (h as i32 * 3600 + m as i32 * 60))?, used))
}

/// A tag at `p`: `name[pid]:`, `name[pid]`, `name:` (colon followed by a space or the end),
/// `name version:` (`syslogd 1.4.1:`), or `name ` followed by `[` (rsyslog imfile tags without a
/// colon). Returns (name, pid, offset of the content).
fn tag_at(input: &str, p: usize) -> Option<(&str, Option<&str>, usize)> {
    let b = input.as_bytes();
    let rest = b.get(p..)?;
    let len = rest.iter().take(128).take_while(|&&c| !matches!(c, b' ' | b'[' | b':')).count();
    if len == 0 {
        return None;
    }
    let name = input.get(p..p + len)?;
    // `%ASA-6-302013:` and `%%01BGP/3/…(l)[7]:` are message headers, not program names.
    if name.starts_with('%') {
        return None;
    }
    let mut q = p + len;
    match b.get(q) {
        Some(b'[') => {
            let close = b.get(q + 1..)?.iter().take(64).position(|&c| c == b']')?;
            let pid = input.get(q + 1..q + 1 + close)?;
            if pid.is_empty() || pid.contains(' ') {
                return None;
            }
            q += close + 2;
            if b.get(q) == Some(&b':') {
                q += 1;
            }
            if b.get(q) == Some(&b' ') {
                q += 1;
            }
            Some((name, Some(pid), q))
        }
        Some(b':') => match b.get(q + 1) {
            None => Some((name, None, q + 1)),
            Some(b' ') => Some((name, None, q + 2)),
            _ => None,
        },
        Some(b' ') => {
            let next = b.get(q + 1..)?;
            // `syslogd 1.4.1: restart.`
            let vlen = next.iter().take_while(|c| c.is_ascii_digit() || **c == b'.').count();
            if vlen > 0
                && next.first().is_some_and(u8::is_ascii_digit)
                && next.get(vlen) == Some(&b':')
            {
                let q2 = q + 1 + vlen + 1;
                let q2 = if b.get(q2) == Some(&b' ') { q2 + 1 } else { q2 };
                return Some((name, None, q2));
            }
            // `apache_error [Tue Jun 08 …] …`
            if next.first() == Some(&b'[')
                && name
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/'))
                && !name.bytes().all(|c| c.is_ascii_digit())
            {
                return Some((name, None, q + 1));
            }
            None
        }
        _ => None,
    }
}

/// Write RFC 5424 header fields to `event` (the priority ones only when the line had `<PRI>`).
/// Returns the message (without BOM).
pub(crate) fn apply_5424<'a>(e: &mut Event, s: &Syslog5424<'a>, has_pri: bool) -> Option<&'a str> {
    if has_pri {
        ecs::set_priority(e, s.priority);
    }
    set_str(e, "log.syslog.version", &s.version.to_string());
    if let Some(t) = s.timestamp {
        e.timestamp = t.with_timezone(&Utc);
    }
    if let Some(h) = s.hostname {
        set_host(e, h);
    }
    if let Some(a) = s.appname {
        set_str(e, "log.syslog.appname", a);
        set_str(e, "process.name", a);
    }
    if let Some(pid) = s.procid {
        set_str(e, "log.syslog.procid", pid);
        if let Ok(n) = pid.parse::<i64>() {
            ecs::set_int(e, "process.pid", n);
        }
    }
    if let Some(m) = s.msgid {
        set_str(e, "log.syslog.msgid", m);
    }
    for el in &s.structured_data {
        for (k, val) in &el.params {
            let mut path = String::with_capacity(28 + el.id.len() + k.len());
            path.push_str("log.syslog.structured_data.");
            path.push_str(el.id);
            path.push('.');
            path.push_str(k);
            e.fields.insert(path, sen_core::event::Value::Str(val.to_string()));
        }
    }
    // Strip a BOM (so search sees the text).
    let msg = match s.message {
        Some(m) => m.strip_prefix(BOM).unwrap_or(m),
        None => return None,
    };
    Some(msg)
}

/// Set `host.hostname` and `host.name`.
pub(crate) fn set_host(e: &mut Event, h: &str) {
    set_str(e, "host.hostname", h);
    set_str(e, "host.name", h);
}

/// Write RFC 3164 header fields to `event`.
pub(crate) fn apply_3164(e: &mut Event, s: &Syslog3164<'_>, ctx: &Context) {
    if let Some(pri) = s.priority {
        ecs::set_priority(e, pri);
    }
    if let Some(t) = s.timestamp.and_then(|t| t.resolve(ctx)) {
        e.timestamp = t;
    }
    if let Some(h) = s.hostname {
        set_host(e, h);
    }
    if let Some(a) = s.appname {
        set_str(e, "log.syslog.appname", a);
        set_str(e, "process.name", a);
    }
    if let Some(pid) = s.procid {
        set_str(e, "log.syslog.procid", pid);
        if let Ok(n) = pid.parse::<i64>() {
            ecs::set_int(e, "process.pid", n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5424_full() {
        let s = parse_5424(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][x a=\"q\\\"\\]\"] \u{feff}An application event",
        )
        .unwrap();
        assert_eq!(s.priority, 165);
        assert_eq!(s.hostname, Some("mymachine.example.com"));
        assert_eq!(s.procid, None);
        assert_eq!(s.msgid, Some("ID47"));
        assert_eq!(s.structured_data.len(), 2);
        assert_eq!(s.structured_data[1].params[0].1, "q\"]");
        assert_eq!(s.message_text(), Some("An application event"));
    }

    #[test]
    fn rfc5424_rejects() {
        for bad in [
            "",
            "<1>1",
            "<002>1 - - - - - -",
            "<192>1 - - - - - -",
            "<1>1 - - - - - X",
            "<1>1 - - - - - []",
            "<29>3 2016-01-15T01:00:43Z hn S - - [meta escape=\"]\"] m",
            "<29>8 2016-01-15T01:00:43Z hn S - - [meta escape=\"\\n\"] m",
            "<1>1 - - - - - -\n<2>1",
            "<1>10 -- - - - -",
        ] {
            assert!(parse_5424(bad).is_err(), "{bad:?}");
        }
        let e = parse_5424("<1>1 2004-09-29T22:14:16Z host abcdefghilmnopqrstuvzabcdefghilmnopqrstuvzabcdefX - - -").unwrap_err();
        let p = e.partial.unwrap();
        assert_eq!(p.hostname, Some("host"));
        assert!(p.timestamp.is_some());
    }

    #[test]
    fn rfc3164_shapes() {
        let s = parse_3164("<34>Oct 11 22:14:15 mymachine su: 'su root' failed").unwrap();
        assert_eq!((s.priority, s.hostname, s.appname), (Some(34), Some("mymachine"), Some("su")));
        assert_eq!(s.message, "'su root' failed");
        let s = parse_3164("<133>Jun 13 16:33:35 haproxy[73411]: Proxy started.").unwrap();
        assert_eq!((s.hostname, s.appname, s.procid), (None, Some("haproxy"), Some("73411")));
        let s = parse_3164("<166>Jul  6 20:33:28 ABC-1-234567 Some message here").unwrap();
        assert_eq!(
            (s.hostname, s.appname, s.message),
            (Some("ABC-1-234567"), None, "Some message here")
        );
        let s = parse_3164("2024-01-02T03:04:05.123456+01:00 web1 sshd[42]: hello").unwrap();
        assert!(matches!(s.timestamp, Some(LogTime::Zoned(_))));
        assert_eq!(
            (s.hostname, s.appname, s.procid, s.message),
            (Some("web1"), Some("sshd"), Some("42"), "hello")
        );
        let s = parse_3164("Jun 19 04:09:11 combo syslogd 1.4.1: restart.").unwrap();
        assert_eq!((s.appname, s.message), (Some("syslogd"), "restart."));
        let s = parse_3164("<131>Jun 8 11:54:08 master apache_error [Tue Jun 08] x").unwrap();
        assert_eq!(
            (s.hostname, s.appname, s.message),
            (Some("master"), Some("apache_error"), "[Tue Jun 08] x")
        );
        let s = parse_3164("<13>hello").unwrap();
        assert_eq!((s.timestamp, s.message), (None, "hello"));
        assert!(parse_3164("hello").is_none());
        let s = parse_3164("Dec 19 17:20:08 User test_pcre2_9[12345]:test_user x").unwrap();
        assert_eq!((s.appname, s.message), (Some("test_pcre2_9"), "test_user x"));
    }
}
