//! [`IocSet`]: the compiled, immutable matcher, and [`IocHit`], one match.
//!
//! # Which fields are checked
//!
//! | IOC | event fields |
//! |---|---|
//! | IP, CIDR | `client.ip`, `destination.ip`, `dns.resolved_ip`, `host.ip`, `server.ip`, `source.ip`, `related.ip` |
//! | domain | `client.domain`, `destination.domain`, `dns.question.name`, `server.domain`, `source.domain`, `tls.client.server_name`, `url.domain`, `related.hosts` |
//! | URL | `url.full`, `url.original` |
//! | hash | `file.hash.*`, `process.hash.*`, `process.parent.hash.*` (`md5`, `sha1`, `sha256`), `related.hash`, and Sysmon's `winlog.event_data.Hashes` / `Hash` (`SHA256=…,MD5=…`) |
//!
//! ([`WATCHED`] is the list.) A field may hold one value or a list. IP fields may hold text;
//! hash fields are compared by length (32 hex digits: MD5, 40: SHA-1, 64: SHA-256), in any case.
//!
//! Each indicator is reported at most once per event, at the first field it matched; the
//! `related.*` fields, which repeat the others, are looked at last, so a hit names the specific
//! field (`destination.ip`) whenever there is one.
//!
//! # Cost
//!
//! Matching reads the event's fields in one ordered pass beside the (sorted) watched list, and
//! only the classes the set has indicators for. A miss allocates nothing: IPs are hashed (exact)
//! and binary-searched (CIDR: a partition of the address space into ranges, each listing the
//! networks that cover it, so overlapping networks from several feeds all match); domains are
//! lower-cased on the stack and looked up at each label boundary (`a.b.evil.example`,
//! `b.evil.example`, `evil.example`); a URL's canonical key is hashed in pieces; hashes are
//! decoded to bytes on the stack. `benches/intel.rs` measures it.
//!
//! Reading fields: the pass reads each field at its flat dotted path, as [`Event::get`] does;
//! a watched path below an untyped JSON value (`winlog` stored as one object) is read with
//! [`Event::get`] itself, which walks into it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use foldhash::fast::FixedState;
use ipnet::IpNet;
use sen_core::event::{Event, FieldRef, Value};

use super::ioc::{Ioc, IocKind, IocValue, MAX_DOMAIN_BYTES, UrlParts, parse_hex};

type FastMap<K, V> = HashMap<K, V, FixedState>;

/// What kind of values a watched field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldClass {
    /// IP addresses.
    Ip,
    /// Domain names.
    Domain,
    /// URLs.
    Url,
    /// File hashes (hex).
    Hash,
    /// Sysmon's `ALGO=hex,ALGO=hex` list.
    SysmonHashes,
}

/// The fields indicators are matched against, sorted by path (the order of the event's
/// fields), with their class and whether they are a `related.*` summary field (looked at
/// last).
pub const WATCHED: &[(&str, FieldClass, bool)] = &[
    ("client.domain", FieldClass::Domain, false),
    ("client.ip", FieldClass::Ip, false),
    ("destination.domain", FieldClass::Domain, false),
    ("destination.ip", FieldClass::Ip, false),
    ("dns.question.name", FieldClass::Domain, false),
    ("dns.resolved_ip", FieldClass::Ip, false),
    ("file.hash.md5", FieldClass::Hash, false),
    ("file.hash.sha1", FieldClass::Hash, false),
    ("file.hash.sha256", FieldClass::Hash, false),
    ("host.ip", FieldClass::Ip, false),
    ("process.hash.md5", FieldClass::Hash, false),
    ("process.hash.sha1", FieldClass::Hash, false),
    ("process.hash.sha256", FieldClass::Hash, false),
    ("process.parent.hash.md5", FieldClass::Hash, false),
    ("process.parent.hash.sha1", FieldClass::Hash, false),
    ("process.parent.hash.sha256", FieldClass::Hash, false),
    ("related.hash", FieldClass::Hash, true),
    ("related.hosts", FieldClass::Domain, true),
    ("related.ip", FieldClass::Ip, true),
    ("server.domain", FieldClass::Domain, false),
    ("server.ip", FieldClass::Ip, false),
    ("source.domain", FieldClass::Domain, false),
    ("source.ip", FieldClass::Ip, false),
    ("tls.client.server_name", FieldClass::Domain, false),
    ("url.domain", FieldClass::Domain, false),
    ("url.full", FieldClass::Url, false),
    ("url.original", FieldClass::Url, false),
    ("winlog.event_data.Hash", FieldClass::SysmonHashes, false),
    ("winlog.event_data.Hashes", FieldClass::SysmonHashes, false),
];

/// The watched fields of one class (for building search queries).
pub fn watched_fields(class: FieldClass) -> impl Iterator<Item = &'static str> {
    WATCHED.iter().filter(move |(_, c, _)| *c == class).map(|(p, _, _)| *p)
}

/// One indicator matched in one event.
#[derive(Debug, Clone, PartialEq)]
pub struct IocHit {
    /// The indicator (with its feed and source id).
    pub ioc: Arc<Ioc>,
    /// The ECS field it matched in.
    pub field: &'static str,
    /// The value of that field that matched (for a domain, the event's name, which may be a
    /// subdomain of the indicator; for a CIDR, the address).
    pub matched: String,
}

/// A run of indicator ids in [`IocSet::members`].
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    len: u32,
}

/// Address → covering networks: `starts` partition the address space into segments
/// `[starts[i], starts[i + 1])`, each with the ids of the networks covering all of it.
#[derive(Debug, Default)]
struct Ranges<T> {
    starts: Vec<T>,
    spans: Vec<Span>,
}

trait Addr: Ord + Copy {
    fn succ(self) -> Option<Self>;
}
impl Addr for u32 {
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
}
impl Addr for u128 {
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
}

impl<T: Addr> Ranges<T> {
    fn build(mut ranges: Vec<(T, T, u32)>, members: &mut Vec<u32>) -> Ranges<T> {
        if ranges.is_empty() {
            return Ranges { starts: Vec::new(), spans: Vec::new() };
        }
        ranges.sort_by_key(|r| r.2);
        let mut starts: Vec<T> = Vec::with_capacity(ranges.len() * 2);
        for (lo, hi, _) in &ranges {
            starts.push(*lo);
            if let Some(next) = hi.succ() {
                starts.push(next);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); starts.len()];
        for (lo, hi, id) in &ranges {
            let mut i = starts.partition_point(|s| s < lo);
            while i < starts.len() && starts[i] <= *hi {
                lists[i].push(*id);
                i += 1;
            }
        }
        let mut spans = Vec::with_capacity(starts.len());
        for l in lists {
            spans.push(Span { start: members.len() as u32, len: l.len() as u32 });
            members.extend(l);
        }
        Ranges { starts, spans }
    }

    fn find(&self, x: T) -> Span {
        let i = self.starts.partition_point(|s| *s <= x);
        if i == 0 { Span::default() } else { self.spans[i - 1] }
    }

    fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// A hasher for keys that already are hashes (URL keys are xxh3 digests).
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The compiled matcher over many feeds' indicators. Immutable: a refresh builds a new one
/// and swaps it in (see [`IntelManager`](super::IntelManager)).
#[derive(Debug, Default)]
pub struct IocSet {
    iocs: Vec<Arc<Ioc>>,
    members: Vec<u32>,
    ips: FastMap<IpAddr, Span>,
    v4: Ranges<u32>,
    v6: Ranges<u128>,
    domains: FastMap<Box<[u8]>, Span>,
    urls: HashMap<u64, Span, BuildHasherDefault<PassThrough>>,
    md5: FastMap<[u8; 16], Span>,
    sha1: FastMap<[u8; 20], Span>,
    sha256: FastMap<[u8; 32], Span>,
    has_ip: bool,
    has_domain: bool,
    has_url: bool,
    has_hash: bool,
}

fn group<K: std::hash::Hash + Eq>(
    entries: Vec<(K, u32)>,
    members: &mut Vec<u32>,
) -> FastMap<K, Span> {
    let mut by_key: FastMap<K, Vec<u32>> = FastMap::default();
    for (k, id) in entries {
        by_key.entry(k).or_default().push(id);
    }
    let mut out = FastMap::with_capacity_and_hasher(by_key.len(), FixedState::default());
    for (k, ids) in by_key {
        out.insert(k, Span { start: members.len() as u32, len: ids.len() as u32 });
        members.extend(ids);
    }
    out
}

fn url_hash(parts: &UrlParts<'_>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    parts.write_key(&mut |b| h.update(b));
    h.digest()
}

/// A value to compare: an address, or text.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Ip(IpAddr),
    Str(&'a str),
}

impl Scalar<'_> {
    fn text(self) -> String {
        match self {
            Scalar::Ip(ip) => ip.to_string(),
            Scalar::Str(s) => s.to_owned(),
        }
    }
}

fn for_each_scalar<'a>(f: FieldRef<'a>, cb: &mut impl FnMut(Scalar<'a>)) {
    match f {
        FieldRef::Str(s) => cb(Scalar::Str(s)),
        FieldRef::Ip(ip) => cb(Scalar::Ip(ip)),
        FieldRef::List(items) => {
            for v in items {
                match v {
                    Value::Str(s) => cb(Scalar::Str(s)),
                    Value::Ip(ip) => cb(Scalar::Ip(*ip)),
                    _ => {}
                }
            }
        }
        FieldRef::Json(serde_json::Value::String(s)) => cb(Scalar::Str(s)),
        FieldRef::Json(serde_json::Value::Array(items)) => {
            for v in items {
                if let serde_json::Value::String(s) = v {
                    cb(Scalar::Str(s));
                }
            }
        }
        _ => {}
    }
}

impl IocSet {
    /// An empty set (matches nothing).
    pub fn empty() -> IocSet {
        IocSet::default()
    }

    /// Compile indicators into a matcher. Duplicates (same value from several feeds or source
    /// ids) are all kept and all reported.
    pub fn build(iocs: impl IntoIterator<Item = Arc<Ioc>>) -> IocSet {
        let iocs: Vec<Arc<Ioc>> = iocs.into_iter().collect();
        let mut ips = Vec::new();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut domains = Vec::new();
        let mut urls = Vec::new();
        let mut md5 = Vec::new();
        let mut sha1 = Vec::new();
        let mut sha256 = Vec::new();
        for (i, ioc) in iocs.iter().enumerate() {
            let id = i as u32;
            match &ioc.value {
                IocValue::Ip(ip) => ips.push((ip.to_canonical(), id)),
                IocValue::Cidr(IpNet::V4(n)) => {
                    v4.push((u32::from(n.network()), u32::from(n.broadcast()), id));
                }
                IocValue::Cidr(IpNet::V6(n)) => {
                    v6.push((u128::from(n.network()), u128::from(n.broadcast()), id));
                }
                IocValue::Domain(d) => domains.push((Box::<[u8]>::from(d.as_bytes()), id)),
                // Hashing the key at once equals hashing its pieces (`url_hash`).
                IocValue::Url(u) => urls.push((xxhash_rust::xxh3::xxh3_64(u.key.as_bytes()), id)),
                IocValue::Md5(h) => md5.push((*h, id)),
                IocValue::Sha1(h) => sha1.push((*h, id)),
                IocValue::Sha256(h) => sha256.push((*h, id)),
            }
        }
        let mut members = Vec::with_capacity(iocs.len());
        let mut set = IocSet {
            ips: group(ips, &mut members),
            v4: Ranges::build(v4, &mut members),
            v6: Ranges::build(v6, &mut members),
            domains: group(domains, &mut members),
            md5: group(md5, &mut members),
            sha1: group(sha1, &mut members),
            sha256: group(sha256, &mut members),
            ..IocSet::default()
        };
        let url_groups = group(urls, &mut members);
        set.urls.reserve(url_groups.len());
        set.urls.extend(url_groups);
        set.members = members;
        set.has_ip = !set.ips.is_empty() || !set.v4.is_empty() || !set.v6.is_empty();
        set.has_domain = !set.domains.is_empty();
        set.has_url = !set.urls.is_empty();
        set.has_hash = !set.md5.is_empty() || !set.sha1.is_empty() || !set.sha256.is_empty();
        set.iocs = iocs;
        set
    }

    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.iocs.len()
    }

    /// Whether the set has no indicator.
    pub fn is_empty(&self) -> bool {
        self.iocs.is_empty()
    }

    /// Every indicator, in the order given to [`IocSet::build`].
    pub fn iocs(&self) -> &[Arc<Ioc>] {
        &self.iocs
    }

    /// Number of indicators of each kind.
    pub fn counts(&self) -> std::collections::BTreeMap<IocKind, usize> {
        let mut out = std::collections::BTreeMap::new();
        for i in &self.iocs {
            *out.entry(i.kind()).or_default() += 1;
        }
        out
    }

    fn class_enabled(&self, class: FieldClass) -> bool {
        match class {
            FieldClass::Ip => self.has_ip,
            FieldClass::Domain => self.has_domain,
            FieldClass::Url => self.has_url,
            FieldClass::Hash | FieldClass::SysmonHashes => self.has_hash,
        }
    }

    /// Append to `out` a hit for each indicator matching `event` (see the
    /// [module docs](self) for the fields and the order). Allocates only for hits.
    pub fn match_event(&self, event: &Event, out: &mut Vec<IocHit>) {
        if self.iocs.is_empty() {
            return;
        }
        let start = out.len();
        let mut deferred: [Option<(&'static str, FieldClass, FieldRef<'_>)>; 3] = [None; 3];
        let mut n_deferred = 0;
        let mut w = 0;
        for (k, v) in &event.fields {
            let k = k.as_str();
            while w < WATCHED.len() && WATCHED[w].0 < k {
                w += 1;
            }
            if w == WATCHED.len() {
                break;
            }
            let (path, class, related) = WATCHED[w];
            if path == k {
                if !self.class_enabled(class) {
                    continue;
                }
                if related {
                    if n_deferred < deferred.len() {
                        deferred[n_deferred] = Some((path, class, FieldRef::of(v)));
                        n_deferred += 1;
                    }
                } else {
                    self.check(class, path, FieldRef::of(v), out, start);
                }
            } else if let Value::Json(_) = v {
                // Watched paths below an untyped JSON value: read them through `Event::get`.
                for &(p, class, _) in &WATCHED[w..] {
                    if !p.starts_with(k) {
                        break;
                    }
                    if p.as_bytes().get(k.len()) == Some(&b'.')
                        && self.class_enabled(class)
                        && let Some(f) = event.get(p)
                    {
                        self.check(class, p, f, out, start);
                    }
                }
            }
        }
        for (path, class, f) in deferred.into_iter().flatten() {
            self.check(class, path, f, out, start);
        }
    }

    fn check(
        &self,
        class: FieldClass,
        field: &'static str,
        f: FieldRef<'_>,
        out: &mut Vec<IocHit>,
        start: usize,
    ) {
        for_each_scalar(f, &mut |s| match class {
            FieldClass::Ip => self.check_ip(field, s, out, start),
            FieldClass::Domain => {
                if let Scalar::Str(t) = s {
                    self.check_domain(field, t, out, start);
                }
            }
            FieldClass::Url => {
                if let Scalar::Str(t) = s {
                    self.check_url(field, t, out, start);
                }
            }
            FieldClass::Hash => {
                if let Scalar::Str(t) = s {
                    self.check_hash(field, t.trim(), s, out, start);
                }
            }
            FieldClass::SysmonHashes => {
                if let Scalar::Str(t) = s {
                    for part in t.split(',') {
                        if let Some((algo, h)) = part.split_once('=') {
                            let algo = algo.trim();
                            if ["md5", "sha1", "sha256"]
                                .iter()
                                .any(|a| algo.eq_ignore_ascii_case(a))
                            {
                                let h = h.trim();
                                self.check_hash(field, h, Scalar::Str(h), out, start);
                            }
                        }
                    }
                }
            }
        });
    }

    fn emit(
        &self,
        span: Span,
        field: &'static str,
        s: Scalar<'_>,
        out: &mut Vec<IocHit>,
        start: usize,
    ) {
        if span.len == 0 {
            return;
        }
        let ids = &self.members[span.start as usize..(span.start + span.len) as usize];
        for &id in ids {
            let ioc = &self.iocs[id as usize];
            if out[start..].iter().any(|h| Arc::ptr_eq(&h.ioc, ioc)) {
                continue;
            }
            out.push(IocHit { ioc: ioc.clone(), field, matched: s.text() });
        }
    }

    fn check_ip(&self, field: &'static str, s: Scalar<'_>, out: &mut Vec<IocHit>, start: usize) {
        let ip = match s {
            Scalar::Ip(ip) => ip,
            Scalar::Str(t) => match t.trim().parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => return,
            },
        }
        .to_canonical();
        if let Some(span) = self.ips.get(&ip) {
            self.emit(*span, field, Scalar::Ip(ip), out, start);
        }
        let span = match ip {
            IpAddr::V4(v4) if !self.v4.is_empty() => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) if !self.v6.is_empty() => self.v6.find(u128::from(v6)),
            _ => return,
        };
        self.emit(span, field, Scalar::Ip(ip), out, start);
    }

    fn check_domain(&self, field: &'static str, t: &str, out: &mut Vec<IocHit>, start: usize) {
        let raw = t.trim();
        let name = raw.strip_suffix('.').unwrap_or(raw).as_bytes();
        if name.is_empty() || name.len() > MAX_DOMAIN_BYTES {
            return;
        }
        let mut buf = [0u8; MAX_DOMAIN_BYTES];
        let lower = &mut buf[..name.len()];
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = &buf[..name.len()];
        // The name itself, then each parent with at least two labels (single-label
        // indicators are rejected at load).
        let mut at = 0;
        loop {
            let suffix = &lower[at..];
            let Some(dot) = suffix.iter().position(|b| *b == b'.') else { break };
            if let Some(span) = self.domains.get(suffix) {
                self.emit(*span, field, Scalar::Str(raw), out, start);
            }
            at += dot + 1;
        }
    }

    fn check_url(&self, field: &'static str, t: &str, out: &mut Vec<IocHit>, start: usize) {
        let Some(parts) = UrlParts::split(t) else { return };
        let Some(span) = self.urls.get(&url_hash(&parts)) else { return };
        // Verify (the key is a hash) and compare schemes.
        let ids = &self.members[span.start as usize..(span.start + span.len) as usize];
        for &id in ids {
            let ioc = &self.iocs[id as usize];
            let IocValue::Url(u) = &ioc.value else { continue };
            let scheme_ok = match (&u.scheme, parts.scheme) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => true,
            };
            if !scheme_ok || !key_equals(&parts, &u.key) {
                continue;
            }
            if out[start..].iter().any(|h| Arc::ptr_eq(&h.ioc, ioc)) {
                continue;
            }
            out.push(IocHit { ioc: ioc.clone(), field, matched: t.to_owned() });
        }
    }

    fn check_hash(
        &self,
        field: &'static str,
        h: &str,
        s: Scalar<'_>,
        out: &mut Vec<IocHit>,
        start: usize,
    ) {
        let span = match h.len() {
            32 => parse_hex::<16>(h).and_then(|b| self.md5.get(&b)),
            40 => parse_hex::<20>(h).and_then(|b| self.sha1.get(&b)),
            64 => parse_hex::<32>(h).and_then(|b| self.sha256.get(&b)),
            _ => None,
        };
        if let Some(span) = span {
            self.emit(*span, field, s, out, start);
        }
    }
}

/// Whether the canonical key of `parts` equals `key`, without building it.
fn key_equals(parts: &UrlParts<'_>, key: &str) -> bool {
    let mut rest = key.as_bytes();
    let mut ok = true;
    parts.write_key(&mut |piece| {
        if ok {
            match rest.strip_prefix(piece) {
                Some(r) => rest = r,
                None => ok = false,
            }
        }
    });
    ok && rest.is_empty()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::alerts::Level;
    use crate::intel::ioc::FeedInfo;

    fn ioc(feed: &Arc<FeedInfo>, kind: IocKind, v: &str) -> Arc<Ioc> {
        Arc::new(Ioc::new(IocValue::parse(kind, v).unwrap(), feed.clone(), format!("{kind}:{v}")))
    }

    fn event(fields: &[(&str, Value)]) -> Event {
        let mut e = Event::new("e1".into(), Utc::now(), "orig");
        for (k, v) in fields {
            e.set(k, v.clone());
        }
        e
    }

    fn ip(s: &str) -> Value {
        Value::Ip(s.parse().unwrap())
    }

    fn hits(set: &IocSet, e: &Event) -> Vec<String> {
        let mut out = Vec::new();
        set.match_event(e, &mut out);
        out.iter()
            .map(|h| format!("{}|{}|{}|{}", h.ioc.feed.name, h.ioc.value, h.field, h.matched))
            .collect()
    }

    #[test]
    fn watched_fields_are_sorted() {
        for w in WATCHED.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
    }

    #[test]
    fn ips_cidrs_and_their_edges() {
        let a = FeedInfo::new("a", Level::High);
        let b = FeedInfo::new("b", Level::Medium);
        let set = IocSet::build([
            ioc(&a, IocKind::Ip, "198.51.100.7"),
            ioc(&b, IocKind::Ip, "198.51.100.7"),
            ioc(&a, IocKind::Cidr, "10.0.0.0/8"),
            ioc(&b, IocKind::Cidr, "10.1.0.0/16"),
            ioc(&a, IocKind::Cidr, "192.0.2.0/25"),
            ioc(&a, IocKind::Ip, "2001:db8::1"),
            ioc(&a, IocKind::Cidr, "2001:db8:ff00::/40"),
            ioc(&a, IocKind::Cidr, "0.0.0.0/1"),
        ]);
        let one = |f: &str, v: Value| hits(&set, &event(&[(f, v)]));
        assert_eq!(
            one("destination.ip", ip("198.51.100.7")),
            [
                "a|198.51.100.7|destination.ip|198.51.100.7",
                "b|198.51.100.7|destination.ip|198.51.100.7"
            ]
        );
        assert_eq!(one("source.ip", ip("10.1.2.3")).len(), 3, "/1, /8 and /16 all cover it");
        assert_eq!(one("source.ip", ip("10.2.0.0")).len(), 2);
        assert_eq!(one("source.ip", ip("9.255.255.255")), ["a|0.0.0.0/1|source.ip|9.255.255.255"]);
        assert_eq!(one("source.ip", ip("11.0.0.0")), ["a|0.0.0.0/1|source.ip|11.0.0.0"]);
        assert_eq!(one("client.ip", ip("192.0.2.0")), ["a|192.0.2.0/25|client.ip|192.0.2.0"]);
        assert_eq!(one("client.ip", ip("192.0.2.127")).len(), 1);
        assert!(one("client.ip", ip("192.0.2.128")).is_empty(), "just past the /25");
        assert!(one("client.ip", ip("255.255.255.255")).is_empty());
        assert_eq!(one("host.ip", ip("::ffff:198.51.100.7")).len(), 2, "IPv4-mapped");
        assert_eq!(one("server.ip", Value::Str(" 198.51.100.7".into())).len(), 2, "text");
        assert_eq!(one("source.ip", ip("2001:DB8::1")), ["a|2001:db8::1|source.ip|2001:db8::1"]);
        assert_eq!(one("source.ip", ip("2001:db8:ff00::")).len(), 1);
        assert_eq!(one("source.ip", ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")).len(), 1);
        assert!(one("source.ip", ip("2001:db8:feff:ffff:ffff:ffff:ffff:ffff")).is_empty());
        assert!(one("source.ip", ip("2001:db9::")).is_empty());
        assert!(one("source.port", Value::Str("198.51.100.7".into())).is_empty(), "unwatched");
        let list = Value::List(vec![ip("203.0.113.1"), ip("198.51.100.7")]);
        assert_eq!(one("dns.resolved_ip", list).len(), 2);
    }

    #[test]
    fn each_indicator_once_per_event_specific_field_first() {
        let a = FeedInfo::new("a", Level::High);
        let set = IocSet::build([ioc(&a, IocKind::Ip, "198.51.100.7")]);
        let e = event(&[
            ("related.ip", Value::List(vec![ip("10.0.0.1"), ip("198.51.100.7")])),
            ("source.ip", ip("198.51.100.7")),
            ("destination.ip", ip("198.51.100.7")),
        ]);
        assert_eq!(hits(&set, &e), ["a|198.51.100.7|destination.ip|198.51.100.7"]);
        let only_related = event(&[("related.ip", Value::List(vec![ip("198.51.100.7")]))]);
        assert_eq!(hits(&set, &only_related), ["a|198.51.100.7|related.ip|198.51.100.7"]);
    }

    #[test]
    fn domains_match_themselves_and_subdomains_at_label_boundaries() {
        let a = FeedInfo::new("a", Level::High);
        let set = IocSet::build([
            ioc(&a, IocKind::Domain, "evil.example"),
            ioc(&a, IocKind::Domain, "x.co.example"),
        ]);
        let one = |v: &str| hits(&set, &event(&[("dns.question.name", Value::Str(v.into()))]));
        assert_eq!(one("evil.example").len(), 1);
        assert_eq!(one("EVIL.Example.").len(), 1);
        assert_eq!(one("a.b.evil.example"), ["a|evil.example|dns.question.name|a.b.evil.example"]);
        assert!(one("notevil.example").is_empty());
        assert!(one("evil.example.com").is_empty());
        assert!(one("evilexample").is_empty());
        assert!(one("example").is_empty());
        assert!(one("co.example").is_empty(), "a parent of an indicator is not a match");
        assert_eq!(one("www.x.co.example").len(), 1);
        assert!(one(&"a.".repeat(200)).is_empty(), "too long for a name");
        for f in ["tls.client.server_name", "url.domain", "destination.domain", "server.domain"] {
            assert_eq!(
                hits(&set, &event(&[(f, Value::Str("c2.evil.example".into()))])).len(),
                1,
                "{f}"
            );
        }
        let hosts =
            Value::List(vec![Value::Str("web01".into()), Value::Str("cdn.evil.example".into())]);
        assert_eq!(hits(&set, &event(&[("related.hosts", hosts)])).len(), 1);
    }

    #[test]
    fn urls_match_in_canonical_form() {
        let a = FeedInfo::new("a", Level::High);
        let set = IocSet::build([
            ioc(&a, IocKind::Url, "http://evil.example/dl/payload.exe?x=1"),
            ioc(&a, IocKind::Url, "bad.example/gate.php"),
        ]);
        let one = |f: &str, v: &str| hits(&set, &event(&[(f, Value::Str(v.into()))])).len();
        assert_eq!(one("url.full", "http://evil.example/dl/payload.exe?x=1"), 1);
        assert_eq!(one("url.full", "HTTP://EVIL.example:80/dl/payload.exe?x=1#top"), 1);
        assert_eq!(
            one("url.original", "evil.example/dl/payload.exe?x=1"),
            1,
            "no scheme in the event"
        );
        assert_eq!(one("url.full", "https://evil.example/dl/payload.exe?x=1"), 0, "other scheme");
        assert_eq!(
            one("url.full", "http://evil.example/dl/Payload.exe?x=1"),
            0,
            "path case counts"
        );
        assert_eq!(one("url.full", "http://evil.example/dl/payload.exe?x=2"), 0);
        assert_eq!(one("url.full", "https://bad.example/gate.php"), 1);
        assert_eq!(one("url.full", "ftp://bad.example:21/gate.php"), 0, "port differs");
        assert_eq!(one("url.original", "/gate.php"), 0);
    }

    #[test]
    fn hashes_in_ecs_and_sysmon_fields() {
        let a = FeedInfo::new("a", Level::High);
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let set = IocSet::build([ioc(&a, IocKind::Md5, md5), ioc(&a, IocKind::Sha256, sha256)]);
        let one = |f: &str, v: &str| hits(&set, &event(&[(f, Value::Str(v.into()))]));
        assert_eq!(one("file.hash.md5", &md5.to_uppercase()).len(), 1);
        assert_eq!(one("process.hash.sha256", sha256).len(), 1);
        assert!(one("process.hash.sha1", &md5[..31]).is_empty());
        let sysmon = format!(
            "SHA1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,MD5={},SHA256={},IMPHASH=00",
            md5.to_uppercase(),
            sha256.to_uppercase()
        );
        let got = one("winlog.event_data.Hashes", &sysmon);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], format!("a|{md5}|winlog.event_data.Hashes|{}", md5.to_uppercase()));
        // A winlog object stored as one JSON value is read through `Event::get`.
        let mut e = event(&[]);
        e.fields.insert(
            "winlog",
            Value::json(serde_json::json!({"event_data": {"Hashes": format!("MD5={md5}")}})),
        );
        assert_eq!(hits(&set, &e).len(), 1);
    }

    #[test]
    fn empty_set_and_classes_without_indicators() {
        let e = event(&[
            ("source.ip", ip("198.51.100.7")),
            ("url.full", Value::Str("http://a.example/".into())),
        ]);
        assert!(hits(&IocSet::empty(), &e).is_empty());
        let a = FeedInfo::new("a", Level::High);
        let set = IocSet::build([ioc(&a, IocKind::Domain, "a.example")]);
        assert!(hits(&set, &e).is_empty(), "URL fields are not domain fields");
        assert_eq!(set.counts().get(&IocKind::Domain), Some(&1));
    }
}
