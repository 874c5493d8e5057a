//! Indicators of compromise: their typed, canonical values and where they came from.
//!
//! Canonical forms (what a feed's value becomes, and what the matcher compares):
//!
//! - **IP**: the address, IPv4-mapped IPv6 made IPv4 (`::ffff:192.0.2.1` → `192.0.2.1`).
//! - **CIDR**: the network with its host bits cleared (`192.0.2.9/24` → `192.0.2.0/24`); a
//!   block of one address (`/32`, `/128`) is an IP.
//! - **Domain**: lower case, one trailing dot and a leading `*.` removed. At least two labels
//!   (a single label such as `com` would match every name under it), each of 1–63 bytes of
//!   letters, digits, `-` and `_`, 253 bytes at most. A domain matches itself and every name
//!   below it (`evil.example` matches `a.b.evil.example`, never `notevil.example`).
//! - **URL**: scheme and host lower case, user info, the default port (80 for `http`, 443 for
//!   `https`) and the fragment removed, an empty path made `/`. Path and query are kept byte
//!   for byte (no percent-decoding). A URL without a scheme (`evil.example/a`) matches any
//!   scheme, and so does an event URL without one.
//! - **Hashes**: MD5, SHA-1, SHA-256 as bytes (hex in any case in, lower-case hex out).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::alerts::Level;

/// Longest domain name, in bytes (RFC 1035, without the trailing dot).
pub const MAX_DOMAIN_BYTES: usize = 253;
/// Longest URL host (with port) the matcher considers, in bytes.
pub const MAX_URL_AUTHORITY_BYTES: usize = 300;

/// The type of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IocKind {
    /// One IP address.
    Ip,
    /// An IP network.
    Cidr,
    /// A domain and everything below it.
    Domain,
    /// A URL.
    Url,
    /// MD5 file hash.
    Md5,
    /// SHA-1 file hash.
    Sha1,
    /// SHA-256 file hash.
    Sha256,
}

impl IocKind {
    /// Every kind.
    pub const ALL: [IocKind; 7] = [
        IocKind::Ip,
        IocKind::Cidr,
        IocKind::Domain,
        IocKind::Url,
        IocKind::Md5,
        IocKind::Sha1,
        IocKind::Sha256,
    ];

    /// Lower-case name (`ip`, `cidr`, `domain`, `url`, `md5`, `sha1`, `sha256`), used in rule
    /// ids and titles.
    pub fn as_str(self) -> &'static str {
        match self {
            IocKind::Ip => "ip",
            IocKind::Cidr => "cidr",
            IocKind::Domain => "domain",
            IocKind::Url => "url",
            IocKind::Md5 => "md5",
            IocKind::Sha1 => "sha1",
            IocKind::Sha256 => "sha256",
        }
    }
}

impl fmt::Display for IocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A URL indicator in canonical form (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlIoc {
    /// Lower-case scheme, or `None` when the feed gave none (then any scheme matches).
    pub scheme: Option<Box<str>>,
    /// `host[:port]/path?query`: host lower case, default port, user info and fragment
    /// removed, empty path made `/`.
    pub key: Box<str>,
}

impl fmt::Display for UrlIoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.scheme {
            write!(f, "{s}://")?;
        }
        f.write_str(&self.key)
    }
}

/// A typed, canonical indicator value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IocValue {
    /// One address.
    Ip(IpAddr),
    /// A network (host bits cleared).
    Cidr(IpNet),
    /// A domain (lower case, no trailing dot).
    Domain(Box<str>),
    /// A URL.
    Url(UrlIoc),
    /// MD5.
    Md5([u8; 16]),
    /// SHA-1.
    Sha1([u8; 20]),
    /// SHA-256.
    Sha256([u8; 32]),
}

impl IocValue {
    /// The value's type.
    pub fn kind(&self) -> IocKind {
        match self {
            IocValue::Ip(_) => IocKind::Ip,
            IocValue::Cidr(_) => IocKind::Cidr,
            IocValue::Domain(_) => IocKind::Domain,
            IocValue::Url(_) => IocKind::Url,
            IocValue::Md5(_) => IocKind::Md5,
            IocValue::Sha1(_) => IocKind::Sha1,
            IocValue::Sha256(_) => IocKind::Sha256,
        }
    }

    /// The STIX Cyber-observable type this value is (`ipv4-addr`, `ipv6-addr`, `domain-name`,
    /// `url`, `file`); also ECS `threat.indicator.type`.
    pub fn stix_type(&self) -> &'static str {
        match self {
            IocValue::Ip(IpAddr::V4(_)) => "ipv4-addr",
            IocValue::Ip(IpAddr::V6(_)) => "ipv6-addr",
            IocValue::Cidr(IpNet::V4(_)) => "ipv4-addr",
            IocValue::Cidr(IpNet::V6(_)) => "ipv6-addr",
            IocValue::Domain(_) => "domain-name",
            IocValue::Url(_) => "url",
            IocValue::Md5(_) | IocValue::Sha1(_) | IocValue::Sha256(_) => "file",
        }
    }

    /// Parse `text` as a value of `kind` (see the [module docs](self) for what is accepted).
    pub fn parse(kind: IocKind, text: &str) -> Result<IocValue, String> {
        match kind {
            IocKind::Ip | IocKind::Cidr => parse_ip_or_cidr(text),
            IocKind::Domain => normalize_domain(text).map(IocValue::Domain),
            IocKind::Url => normalize_url(text).map(IocValue::Url),
            IocKind::Md5 => parse_hex::<16>(text.trim())
                .map(IocValue::Md5)
                .ok_or_else(|| format!("`{}` is not an MD5 hash (32 hex digits)", clip(text))),
            IocKind::Sha1 => parse_hex::<20>(text.trim())
                .map(IocValue::Sha1)
                .ok_or_else(|| format!("`{}` is not a SHA-1 hash (40 hex digits)", clip(text))),
            IocKind::Sha256 => parse_hex::<32>(text.trim())
                .map(IocValue::Sha256)
                .ok_or_else(|| format!("`{}` is not a SHA-256 hash (64 hex digits)", clip(text))),
        }
    }

    /// A hash of any supported length (32, 40 or 64 hex digits).
    pub fn parse_hash(text: &str) -> Result<IocValue, String> {
        let t = text.trim();
        match t.len() {
            32 => IocValue::parse(IocKind::Md5, t),
            40 => IocValue::parse(IocKind::Sha1, t),
            64 => IocValue::parse(IocKind::Sha256, t),
            n => Err(format!(
                "`{}` is not an MD5, SHA-1 or SHA-256 hash ({n} characters, expected 32, 40 or 64 \
                 hex digits)",
                clip(t)
            )),
        }
    }

    /// An IP address or a domain name, whichever `text` is (MISP `hostname`, STIX
    /// `network-traffic` references).
    pub fn parse_host(text: &str) -> Result<IocValue, String> {
        let t = strip_brackets(text.trim());
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Ok(IocValue::Ip(ip.to_canonical()));
        }
        normalize_domain(text).map(IocValue::Domain)
    }

    /// Guess the type of a bare value: IP, CIDR, `ip:port`, hash (by length), URL (has `://`
    /// or a path after a domain), else domain.
    pub fn infer(text: &str) -> Result<IocValue, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty value".into());
        }
        if let Ok(v) = parse_ip_or_cidr(t) {
            return Ok(v);
        }
        if let Some(ip) = ip_with_port(t) {
            return Ok(IocValue::Ip(ip));
        }
        if matches!(t.len(), 32 | 40 | 64) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return IocValue::parse_hash(t);
        }
        if t.contains("://") || t.contains('/') {
            return normalize_url(t).map(IocValue::Url);
        }
        normalize_domain(t).map(IocValue::Domain).map_err(|e| {
            format!("cannot tell the type of `{}` (not an IP, CIDR, hash or URL; {e})", clip(t))
        })
    }
}

impl fmt::Display for IocValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IocValue::Ip(ip) => write!(f, "{ip}"),
            IocValue::Cidr(net) => write!(f, "{net}"),
            IocValue::Domain(d) => f.write_str(d),
            IocValue::Url(u) => write!(f, "{u}"),
            IocValue::Md5(h) => write_hex(f, h),
            IocValue::Sha1(h) => write_hex(f, h),
            IocValue::Sha256(h) => write_hex(f, h),
        }
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// A feed as indicators and alerts name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedInfo {
    /// The configured feed name.
    pub name: String,
    /// The level of alerts on this feed's indicators.
    pub level: Level,
}

impl FeedInfo {
    /// A feed with a name and alert level.
    pub fn new(name: impl Into<String>, level: Level) -> Arc<FeedInfo> {
        Arc::new(FeedInfo { name: name.into(), level })
    }
}

/// One indicator of compromise with its provenance. The same value from two feeds (or twice
/// in one feed under two source ids) is two `Ioc`s; a match reports each.
#[derive(Debug, Clone, PartialEq)]
pub struct Ioc {
    /// The canonical value.
    pub value: IocValue,
    /// The feed it came from.
    pub feed: Arc<FeedInfo>,
    /// Where in the feed: the STIX indicator (or observable) id, the MISP attribute uuid, or
    /// `line N` of a CSV file.
    pub source_id: String,
    /// The indicator's name (STIX `name`, MISP event `info`).
    pub name: Option<String>,
    /// Description (STIX `description`, MISP attribute `comment`, CSV `description`).
    pub description: Option<String>,
    /// Confidence 0–100 (STIX `confidence`, CSV `confidence`).
    pub confidence: Option<u8>,
    /// Labels (STIX `labels`, MISP tag names).
    pub labels: Vec<String>,
    /// End of validity (STIX `valid_until`); expired indicators are not loaded.
    pub valid_until: Option<DateTime<Utc>>,
}

impl Ioc {
    /// An indicator with only a value, feed and source id.
    pub fn new(value: IocValue, feed: Arc<FeedInfo>, source_id: impl Into<String>) -> Ioc {
        Ioc {
            value,
            feed,
            source_id: source_id.into(),
            name: None,
            description: None,
            confidence: None,
            labels: Vec::new(),
            valid_until: None,
        }
    }

    /// The indicator's type.
    pub fn kind(&self) -> IocKind {
        self.value.kind()
    }

    /// A 64-bit key of (kind, canonical value), the same for the same indicator from any
    /// source id; used to tell new indicators from known ones.
    pub fn key(&self) -> u64 {
        let text = self.value.to_string();
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(self.kind().as_str().as_bytes());
        h.update(&[0]);
        h.update(text.as_bytes());
        h.digest()
    }

    /// Confidence on the STIX "None / Low / Med / High" scale (STIX 2.1 appendix A), the words
    /// ECS `threat.indicator.confidence` expects.
    pub fn confidence_label(&self) -> Option<&'static str> {
        self.confidence.map(|c| match c {
            0 => "None",
            1..=29 => "Low",
            30..=69 => "Medium",
            _ => "High",
        })
    }
}

impl Serialize for Ioc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Ioc", 9)?;
        st.serialize_field("type", &self.kind())?;
        st.serialize_field("value", &self.value.to_string())?;
        st.serialize_field("feed", &self.feed.name)?;
        st.serialize_field("source_id", &self.source_id)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("description", &self.description)?;
        st.serialize_field("confidence", &self.confidence)?;
        st.serialize_field("labels", &self.labels)?;
        st.serialize_field("valid_until", &self.valid_until)?;
        st.end()
    }
}

/// Cut a value for an error message.
pub(crate) fn clip(s: &str) -> &str {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s;
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn strip_brackets(t: &str) -> &str {
    t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(t)
}

/// `192.0.2.1:443` → the address (ThreatFox `ip:port`); `[2001:db8::1]:443` too.
pub(crate) fn ip_with_port(t: &str) -> Option<IpAddr> {
    let (host, port) = t.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let host = strip_brackets(host);
    match host.parse::<IpAddr>().ok()? {
        // `2001:db8::1` would otherwise split into `2001:db8:` + `1`.
        IpAddr::V6(_) if !t.starts_with('[') => None,
        ip => Some(ip.to_canonical()),
    }
}

/// An address or a network (`192.0.2.0/24`); host bits are cleared, one-address blocks are IPs.
pub fn parse_ip_or_cidr(text: &str) -> Result<IocValue, String> {
    let t = strip_brackets(text.trim());
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(IocValue::Ip(ip.to_canonical()));
    }
    if let Some((addr, len)) = t.split_once('/') {
        let ip: IpAddr = strip_brackets(addr)
            .parse()
            .map_err(|_| format!("`{}` is not an IP network (bad address)", clip(t)))?;
        let len: u8 = len
            .parse()
            .map_err(|_| format!("`{}` is not an IP network (bad prefix length)", clip(t)))?;
        // An IPv4-mapped IPv6 network is the IPv4 network.
        let net = match ip {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() && len >= 96 => {
                let v4 = v6.to_ipv4_mapped().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
                IpNet::new(IpAddr::V4(v4), len - 96)
            }
            _ => IpNet::new(ip, len),
        }
        .map_err(|_| format!("`{}` has a prefix length out of range", clip(t)))?
        .trunc();
        if net.prefix_len() == net.max_prefix_len() {
            return Ok(IocValue::Ip(net.addr()));
        }
        return Ok(IocValue::Cidr(net));
    }
    Err(format!("`{}` is not an IP address or network", clip(t)))
}

/// A domain in canonical form (see the [module docs](self)).
pub fn normalize_domain(text: &str) -> Result<Box<str>, String> {
    let t = text.trim();
    let t = t.strip_suffix('.').unwrap_or(t);
    let t = t.strip_prefix("*.").unwrap_or(t);
    if t.is_empty() {
        return Err("empty domain".into());
    }
    let lower = if t.bytes().any(|b| b.is_ascii_uppercase()) || !t.is_ascii() {
        t.to_lowercase()
    } else {
        t.to_owned()
    };
    if lower.len() > MAX_DOMAIN_BYTES {
        return Err(format!("domain `{}…` is longer than {MAX_DOMAIN_BYTES} bytes", clip(t)));
    }
    if strip_brackets(&lower).parse::<IpAddr>().is_ok() {
        return Err(format!("`{}` is an IP address, not a domain", clip(t)));
    }
    let mut labels = 0;
    for label in lower.split('.') {
        labels += 1;
        if label.is_empty() {
            return Err(format!("domain `{}` has an empty label", clip(t)));
        }
        if label.len() > 63 {
            return Err(format!("domain `{}` has a label longer than 63 bytes", clip(t)));
        }
        if let Some(c) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '_')) {
            return Err(format!("domain `{}` contains `{c}`", clip(t)));
        }
    }
    if labels < 2 {
        return Err(format!(
            "`{}` is a single label; as a domain indicator it would match every name under it",
            clip(t)
        ));
    }
    Ok(lower.into_boxed_str())
}

/// The parts of a URL the canonical form is built from. Borrowed from the input, so the
/// matcher can use it without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// Scheme as written (compare case-insensitively).
    pub scheme: Option<&'a str>,
    /// Host as written (lower-case it), without user info and port.
    pub host: &'a str,
    /// Port digits, `None` when absent or the scheme's default.
    pub port: Option<&'a str>,
    /// Path and query, without the fragment; may be empty (means `/`).
    pub rest: &'a str,
}

impl<'a> UrlParts<'a> {
    /// Split a URL. `None` when there is no host (`/index.php`, `mailto:x`), the host is empty
    /// or longer than [`MAX_URL_AUTHORITY_BYTES`], or the port is not a number.
    pub fn split(text: &'a str) -> Option<UrlParts<'a>> {
        let t = text.trim();
        let (scheme, after) = match t.find("://") {
            Some(i) => {
                let s = &t[..i];
                let mut bytes = s.bytes();
                if !bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                    || !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                {
                    return None;
                }
                (Some(s), &t[i + 3..])
            }
            None => (None, t),
        };
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let rest = rest.split('#').next().unwrap_or("");
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if hostport.is_empty() || hostport.len() > MAX_URL_AUTHORITY_BYTES {
            return None;
        }
        let (host, port) = if let Some(v6end) =
            hostport.strip_prefix('[').and_then(|r| r.find(']')).map(|i| i + 2)
        {
            let (h, p) = hostport.split_at(v6end);
            match p.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if p.is_empty() => (h, None),
                None => return None,
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() || host.bytes().any(|b| b.is_ascii_whitespace() || b == b'/') {
            return None;
        }
        let port = match port {
            None | Some("") => None,
            Some(p) if !p.bytes().all(|b| b.is_ascii_digit()) => return None,
            Some(p) => {
                let default = match scheme {
                    Some(s) if s.eq_ignore_ascii_case("http") => Some("80"),
                    Some(s) if s.eq_ignore_ascii_case("https") => Some("443"),
                    _ => None,
                };
                if default == Some(p.trim_start_matches('0')) { None } else { Some(p) }
            }
        };
        Some(UrlParts { scheme, host, port, rest })
    }

    /// Feed the canonical key (`host[:port]/path?query`, host lower case) to `sink` in pieces.
    pub fn write_key(&self, sink: &mut impl FnMut(&[u8])) {
        let mut buf = [0u8; MAX_URL_AUTHORITY_BYTES];
        let n = self.host.len().min(buf.len());
        for (d, s) in buf.iter_mut().zip(self.host.as_bytes()) {
            *d = s.to_ascii_lowercase();
        }
        sink(&buf[..n]);
        if let Some(p) = self.port {
            sink(b":");
            sink(p.as_bytes());
        }
        if !self.rest.starts_with('/') {
            sink(b"/");
        }
        sink(self.rest.as_bytes());
    }
}

/// A URL in canonical form (see the [module docs](self)).
pub fn normalize_url(text: &str) -> Result<UrlIoc, String> {
    let parts = UrlParts::split(text)
        .ok_or_else(|| format!("`{}` is not a URL with a host", clip(text.trim())))?;
    if normalize_domain(parts.host).is_err()
        && strip_brackets(parts.host).parse::<IpAddr>().is_err()
    {
        return Err(format!("`{}` has no valid host", clip(text.trim())));
    }
    let mut key = Vec::with_capacity(text.len());
    parts.write_key(&mut |b| key.extend_from_slice(b));
    let key = String::from_utf8(key).map_err(|_| "URL is not UTF-8".to_string())?;
    Ok(UrlIoc {
        scheme: parts.scheme.map(|s| s.to_ascii_lowercase().into_boxed_str()),
        key: key.into_boxed_str(),
    })
}

/// Decode `N` bytes of hex (either case); `None` unless `text` is exactly `2 * N` hex digits.
pub(crate) fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let b = text.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (hex_digit(b[2 * i])? << 4) | hex_digit(b[2 * i + 1])?;
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(kind: IocKind, s: &str) -> String {
        IocValue::parse(kind, s).unwrap().to_string()
    }

    #[test]
    fn ips_and_networks_are_canonical() {
        assert_eq!(v(IocKind::Ip, " 192.0.2.1 "), "192.0.2.1");
        assert_eq!(v(IocKind::Ip, "::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(v(IocKind::Ip, "2001:DB8:0::1"), "2001:db8::1");
        assert_eq!(v(IocKind::Ip, "[2001:db8::1]"), "2001:db8::1");
        assert_eq!(v(IocKind::Cidr, "192.0.2.9/24"), "192.0.2.0/24");
        assert_eq!(v(IocKind::Cidr, "2001:db8::1/32"), "2001:db8::/32");
        assert_eq!(v(IocKind::Cidr, "::ffff:10.0.0.0/104"), "10.0.0.0/8");
        assert!(matches!(IocValue::parse(IocKind::Cidr, "192.0.2.7/32"), Ok(IocValue::Ip(_))));
        assert!(IocValue::parse(IocKind::Cidr, "192.0.2.0/33").is_err());
        assert!(IocValue::parse(IocKind::Ip, "192.0.2").is_err());
        assert!(IocValue::parse(IocKind::Ip, "010.0.0.1").is_err(), "octal-looking octets");
    }

    #[test]
    fn domains_are_lowercase_without_trailing_dot() {
        assert_eq!(v(IocKind::Domain, "Evil.Example."), "evil.example");
        assert_eq!(v(IocKind::Domain, "*.evil.example"), "evil.example");
        assert_eq!(v(IocKind::Domain, "_dmarc.evil.example"), "_dmarc.evil.example");
        assert_eq!(v(IocKind::Domain, "BÜCHER.example"), "bücher.example");
        for bad in ["com", "", "a..b", "evil example.com", "192.0.2.1", "a/b.com", "-."] {
            assert!(IocValue::parse(IocKind::Domain, bad).is_err(), "{bad}");
        }
        assert!(normalize_domain(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(normalize_domain(&["abc"; 70].join(".")).is_err());
    }

    #[test]
    fn urls_are_canonical() {
        assert_eq!(
            v(IocKind::Url, "HTTP://Evil.Example:80/A?b=C#frag"),
            "http://evil.example/A?b=C"
        );
        assert_eq!(v(IocKind::Url, "https://evil.example:8443"), "https://evil.example:8443/");
        assert_eq!(v(IocKind::Url, "https://u:p@evil.example./x"), "https://evil.example/x");
        assert_eq!(v(IocKind::Url, "evil.example/dl.exe"), "evil.example/dl.exe");
        assert_eq!(v(IocKind::Url, "http://[2001:DB8::1]:80/x"), "http://[2001:db8::1]/x");
        assert_eq!(v(IocKind::Url, "http://evil.example?q=1"), "http://evil.example/?q=1");
        for bad in ["/index.php", "http:///x", "http://evil.example:8o/", "1http://a.b/", "x"] {
            assert!(IocValue::parse(IocKind::Url, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashes_and_inference() {
        let md5 = "D41D8CD98F00B204E9800998ECF8427E";
        assert_eq!(v(IocKind::Md5, md5), md5.to_lowercase());
        assert!(IocValue::parse(IocKind::Sha1, md5).is_err());
        assert!(IocValue::parse(IocKind::Md5, "z41d8cd98f00b204e9800998ecf8427e").is_err());
        let kind = |s: &str| IocValue::infer(s).map(|v| v.kind());
        assert_eq!(kind("192.0.2.1"), Ok(IocKind::Ip));
        assert_eq!(kind("192.0.2.1:8080"), Ok(IocKind::Ip));
        assert_eq!(kind("[2001:db8::1]:443"), Ok(IocKind::Ip));
        assert_eq!(kind("2001:db8::1"), Ok(IocKind::Ip));
        assert_eq!(kind("10.0.0.0/8"), Ok(IocKind::Cidr));
        assert_eq!(kind(md5), Ok(IocKind::Md5));
        assert_eq!(kind(&"a".repeat(40)), Ok(IocKind::Sha1));
        assert_eq!(kind(&"a".repeat(64)), Ok(IocKind::Sha256));
        assert_eq!(kind("https://evil.example/x"), Ok(IocKind::Url));
        assert_eq!(kind("evil.example/x"), Ok(IocKind::Url));
        assert_eq!(kind("evil.example"), Ok(IocKind::Domain));
        assert!(kind("not a thing").is_err());
        assert!(kind("deadbeef").is_err(), "a single label is not a domain");
    }

    #[test]
    fn keys_ignore_provenance() {
        let f = FeedInfo::new("a", Level::High);
        let a = Ioc::new(IocValue::parse(IocKind::Domain, "Evil.Example").unwrap(), f.clone(), "1");
        let b = Ioc::new(IocValue::parse(IocKind::Domain, "evil.example.").unwrap(), f, "2");
        assert_eq!(a.key(), b.key());
        let c =
            Ioc::new(IocValue::parse(IocKind::Url, "evil.example").unwrap(), a.feed.clone(), "");
        assert_ne!(a.key(), c.key());
    }
}
