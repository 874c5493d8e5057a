//! IBM QRadar Log Event Extended Format:
//! `LEEF:1.0|Vendor|Product|Version|EventID|k=v<TAB>k=v…` and
//! `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|k=v<D>k=v…` (delimiter as a character or as
//! hex `xHH` / `0xHH`; empty means tab).

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use memchr::memmem;
use sen_core::event::{Event, Value};

use crate::ecs::{self, set_str};
use crate::{Context, time};

static FINDER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"LEEF:"));

/// Byte offset of a `LEEF:<digit>` header in `line`, at the start or after a space, `>` or `:`.
pub fn find(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    FINDER.find_iter(b).find(|&at| {
        (at == 0 || matches!(b.get(at - 1), Some(b' ' | b'>' | b':' | b'\t')))
            && b.get(at + 5).is_some_and(u8::is_ascii_digit)
    })
}

/// A parsed LEEF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leef<'a> {
    /// LEEF version (`1.0`, `2.0`).
    pub version: &'a str,
    /// Vendor.
    pub vendor: &'a str,
    /// Product.
    pub product: &'a str,
    /// Product version.
    pub product_version: &'a str,
    /// Event ID.
    pub event_id: &'a str,
    /// The attribute delimiter used.
    pub delimiter: char,
    /// Attributes in order.
    pub attributes: Vec<(&'a str, Cow<'a, str>)>,
}

impl Leef<'_> {
    /// The value of an attribute (last one wins).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.as_ref())
    }
}

/// Why a LEEF record was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeefError {
    /// Does not start with `LEEF:`.
    #[error("expecting `LEEF:` at the start")]
    NotLeef,
    /// Fewer than five `|`-terminated header fields.
    #[error(
        "incomplete header: expecting version|vendor|product|version|event id|, found {0} fields"
    )]
    IncompleteHeader(usize),
}

/// Parse a LEEF record (starting with `LEEF:`).
pub fn parse(s: &str) -> Result<Leef<'_>, LeefError> {
    let body = s.strip_prefix("LEEF:").ok_or(LeefError::NotLeef)?;
    let mut parts = body.splitn(6, '|');
    let mut header: [&str; 5] = [""; 5];
    for (i, slot) in header.iter_mut().enumerate() {
        *slot = parts.next().ok_or(LeefError::IncompleteHeader(i))?;
    }
    // The event id must be `|`-terminated (the attributes may be empty).
    let rest = parts.next().ok_or(LeefError::IncompleteHeader(4))?;
    let [version, vendor, product, product_version, event_id] = header;
    let version = version.trim();
    let mut delimiter = '\t';
    let mut attrs = rest;
    if version.starts_with('2') {
        // 2.0: a delimiter field, unless the sender skipped it.
        if let Some((d, after)) = rest.split_once('|')
            && let Some(c) = delimiter_spec(d)
        {
            delimiter = c;
            attrs = after;
        }
    }
    let attributes = if attrs.contains(delimiter) || !attrs.contains('=') {
        split_attrs(attrs, delimiter)
    } else if attrs.contains('\t') {
        split_attrs(attrs, '\t')
    } else {
        // No delimiter at all: some senders use spaces; split like CEF (` key=`).
        crate::cef::extensions(attrs)
    };
    Ok(Leef { version, vendor, product, product_version, event_id, delimiter, attributes })
}

/// `^`, `x09`, `0x09`, `\t`, or empty (tab).
fn delimiter_spec(d: &str) -> Option<char> {
    if d.is_empty() {
        return Some('\t');
    }
    if d.contains('=') {
        return None;
    }
    let hex = d
        .strip_prefix("0x")
        .or_else(|| d.strip_prefix("0X"))
        .or_else(|| d.strip_prefix('x'))
        .or_else(|| d.strip_prefix('X'));
    if let Some(h) = hex
        && !h.is_empty()
        && h.len() <= 4
        && let Ok(v) = u32::from_str_radix(h, 16)
    {
        return char::from_u32(v);
    }
    if d == "\\t" {
        return Some('\t');
    }
    let mut chars = d.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn split_attrs(attrs: &str, delimiter: char) -> Vec<(&str, Cow<'_, str>)> {
    attrs
        .split(delimiter)
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let k = k.trim();
            if k.is_empty() {
                return None;
            }
            Some((k, Cow::Borrowed(v.trim_end_matches(['\r', '\n']))))
        })
        .collect()
}

/// Write a LEEF record to ECS.
pub(crate) fn apply(e: &mut Event, l: &Leef<'_>, ctx: &Context) {
    ecs::module(e, "leef", "leef.log");
    set_str(e, "leef.version", l.version);
    set_str(e, "leef.vendor", l.vendor);
    set_str(e, "leef.product", l.product);
    set_str(e, "leef.product_version", l.product_version);
    set_str(e, "leef.event_id", l.event_id);
    ecs::set_opt(e, "observer.vendor", l.vendor);
    ecs::set_opt(e, "observer.product", l.product);
    ecs::set_opt(e, "observer.version", l.product_version);
    ecs::set_opt(e, "event.code", l.event_id);
    for (k, v) in &l.attributes {
        e.fields.insert(ecs::join("leef.attributes", k), Value::Str(v.to_string()));
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match *k {
            "src" => endpoint_ip(e, "source", v),
            "dst" => endpoint_ip(e, "destination", v),
            "srcPort" => {
                ecs::set_port(e, "source.port", v);
            }
            "dstPort" => {
                ecs::set_port(e, "destination.port", v);
            }
            "srcPostNAT" => endpoint_ip(e, "source.nat", v),
            "dstPostNAT" => endpoint_ip(e, "destination.nat", v),
            "srcPostNATPort" => {
                ecs::set_port(e, "source.nat.port", v);
            }
            "dstPostNATPort" => {
                ecs::set_port(e, "destination.nat.port", v);
            }
            "srcMAC" => mac(e, "source.mac", v),
            "dstMAC" => mac(e, "destination.mac", v),
            "srcBytes" => {
                ecs::set_int_str(e, "source.bytes", v);
            }
            "dstBytes" => {
                ecs::set_int_str(e, "destination.bytes", v);
            }
            "srcPackets" => {
                ecs::set_int_str(e, "source.packets", v);
            }
            "dstPackets" => {
                ecs::set_int_str(e, "destination.packets", v);
            }
            "totalPackets" => {
                ecs::set_int_str(e, "network.packets", v);
            }
            "usrName" => ecs::set_user(e, "user.name", v),
            "proto" => set_str(e, "network.transport", &transport(v)),
            "sev" => {
                ecs::set_int_str(e, "event.severity", v);
            }
            "url" => set_str(e, "url.original", v),
            "action" => set_str(e, "event.action", v),
            "policy" => set_str(e, "rule.name", v),
            "identHostName" => set_str(e, "host.name", v),
            "msg" | "message" => set_str(e, "message", v),
            _ => {}
        }
    }
    if let Some(dev) = l.get("devTime")
        && let Some(t) = dev_time(dev, l.get("devTimeFormat"), ctx)
    {
        e.timestamp = t;
    }
}

fn endpoint_ip(e: &mut Event, side: &str, v: &str) {
    if let Some(ip) = ecs::parse_ip(v) {
        ecs::set_ip(e, side, ip);
    }
}

fn mac(e: &mut Event, path: &str, v: &str) {
    if let Some(m) = ecs::ecs_mac(v) {
        set_str(e, path, &m);
    }
}

/// IANA protocol numbers to names; names lower-cased.
fn transport(v: &str) -> String {
    match v {
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "ipv6-icmp".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// `devTime` with an optional Java `SimpleDateFormat` pattern (`devTimeFormat`).
fn dev_time(v: &str, format: Option<&str>, ctx: &Context) -> Option<DateTime<Utc>> {
    if let Some(f) = format {
        let (fmt, zoned) = java_to_chrono(f.trim());
        if zoned {
            if let Ok(t) = DateTime::parse_from_str(v.trim(), &fmt) {
                return Some(t.with_timezone(&Utc));
            }
        } else if let Ok(n) = NaiveDateTime::parse_from_str(v.trim(), &fmt) {
            return Some(time::resolve_local(ctx.timezone, n));
        }
    }
    time::device_time(v, ctx)
}

/// Translate a Java `SimpleDateFormat` pattern to a chrono format; also says whether it has a
/// zone offset.
fn java_to_chrono(p: &str) -> (String, bool) {
    let mut out = String::with_capacity(p.len() + 8);
    let mut zoned = false;
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '\'' {
            // Quoted literal ('' is a quote).
            i += 1;
            while let Some(&q) = chars.get(i) {
                i += 1;
                if q == '\'' {
                    break;
                }
                push_literal(&mut out, q);
            }
            continue;
        }
        let run = chars.get(i..).map_or(0, |s| s.iter().take_while(|&&x| x == c).count());
        i += run.max(1);
        let spec = match (c, run) {
            ('y', 2) => "%y",
            ('y', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', 1..=3) => "%3f",
            ('S', 4..=6) => "%6f",
            ('S', _) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('z', _) => "%Z",
            ('Z', _) => {
                zoned = true;
                "%z"
            }
            ('X', _) => {
                zoned = true;
                "%:z"
            }
            _ => {
                for _ in 0..run {
                    push_literal(&mut out, c);
                }
                continue;
            }
        };
        out.push_str(spec);
    }
    (out, zoned)
}

fn push_literal(out: &mut String, c: char) {
    if c == '%' {
        out.push_str("%%");
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leef1_tabs() {
        let l = parse(
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tspt=1200",
        )
        .unwrap();
        assert_eq!(l.vendor, "Microsoft");
        assert_eq!(l.get("dst"), Some("2.10.20.20"));
        assert_eq!(l.attributes.len(), 3);
    }

    #[test]
    fn leef2_delimiters() {
        let l = parse("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5")
            .unwrap();
        assert_eq!((l.delimiter, l.get("sev")), ('^', Some("5")));
        let l = parse("LEEF:2.0|V|P|1|E|0x7c|a=1|b=2").unwrap();
        assert_eq!((l.delimiter, l.get("b")), ('|', Some("2")));
        let l = parse("LEEF:2.0|V|P|1|E|x09|a=1\tb=2").unwrap();
        assert_eq!(l.get("b"), Some("2"));
        assert!(parse("LEEF:1.0|V|P").is_err());
    }

    #[test]
    fn java_formats() {
        assert_eq!(java_to_chrono("MMM dd yyyy HH:mm:ss").0, "%b %d %Y %H:%M:%S");
        assert_eq!(
            java_to_chrono("yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
            ("%Y-%m-%dT%H:%M:%S.%3f%z".into(), true)
        );
        let ctx = Context::new(Utc::now());
        let t = dev_time("Oct 05 2018 13:20:30", Some("MMM dd yyyy HH:mm:ss"), &ctx).unwrap();
        assert_eq!(t.to_rfc3339(), "2018-10-05T13:20:30+00:00");
    }
}
