//! Field access for the detectors: a per-event cache of field lookups and their key hashes,
//! allocation-free hashing of values, and the `when` / `unless` patterns.
//!
//! Keys are 64-bit xxh3 hashes of the values' display text, ASCII case folded (Windows user
//! and process names are case-insensitive, and a user logging in as `Alice` and `alice` is one
//! user). Hashing renders numbers and addresses into a stack buffer, so the common path builds
//! no `String`.

use std::fmt::Write as _;

use sen_core::event::{Event, FieldRef, Value};
use xxhash_rust::xxh3::{Xxh3, xxh3_64_with_seed};

/// Field slots cached per event; paths beyond this many are looked up uncached (still correct).
pub(crate) const CACHED_SLOTS: usize = 32;

/// Seed of every key hash.
const SEED: u64 = 0x5e4a_0b5e_55ed_0001;
/// Seed mixed in for an absent organization (distinct from any organization's text).
const NO_ORG: u64 = 0x5e4a_0b5e_55ed_00ff;

/// The field paths the configured rules read, each with a slot number, and their distinct
/// conditions, each with a number (rules sharing a condition share its result per event).
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldTable {
    paths: Vec<String>,
    conditions: Vec<Condition>,
}

impl FieldTable {
    /// The slot of `path`, adding it when new.
    pub(crate) fn slot(&mut self, path: &str) -> usize {
        if let Some(i) = self.paths.iter().position(|p| p == path) {
            return i;
        }
        self.paths.push(path.to_owned());
        self.paths.len() - 1
    }

    /// The path of a slot.
    pub(crate) fn path(&self, slot: usize) -> &str {
        &self.paths[slot]
    }

    /// The number of a condition, adding it when new.
    pub(crate) fn condition(&mut self, slot: usize, patterns: Vec<Pattern>) -> usize {
        let c = Condition { slot, patterns };
        if let Some(i) = self.conditions.iter().position(|o| *o == c) {
            return i;
        }
        self.conditions.push(c);
        self.conditions.len() - 1
    }

    /// Number of distinct paths.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }
}

#[derive(Clone, Copy)]
enum Cached<'e> {
    Unknown,
    Missing,
    Present(FieldRef<'e>, Option<u64>),
}

/// One event's fields, looked up at most once per slot (for the first [`CACHED_SLOTS`]).
pub(crate) struct EventFields<'e, 't> {
    event: &'e Event,
    table: &'t FieldTable,
    cache: [Cached<'e>; CACHED_SLOTS],
    /// Condition results: 0 unknown, 1 false, 2 true.
    held: [u8; CACHED_SLOTS],
    org_hash: u64,
}

impl<'e, 't> EventFields<'e, 't> {
    pub(crate) fn new(event: &'e Event, table: &'t FieldTable) -> Self {
        let org_hash = match event.organization.as_deref() {
            Some(org) => hash_str(org, SEED),
            None => NO_ORG,
        };
        EventFields {
            event,
            table,
            cache: [Cached::Unknown; CACHED_SLOTS],
            held: [0; CACHED_SLOTS],
            org_hash,
        }
    }

    /// The event.
    pub(crate) fn event(&self) -> &'e Event {
        self.event
    }

    /// The field table the slots index.
    pub(crate) fn table(&self) -> &'t FieldTable {
        self.table
    }

    /// The value of a slot's field; `None` when absent or empty.
    pub(crate) fn get(&mut self, slot: usize) -> Option<FieldRef<'e>> {
        match self.cache.get(slot) {
            Some(Cached::Present(v, _)) => Some(*v),
            Some(Cached::Missing) => None,
            Some(Cached::Unknown) => {
                let v = lookup(self.event, self.table.path(slot));
                self.cache[slot] = match v {
                    Some(v) => Cached::Present(v, None),
                    None => Cached::Missing,
                };
                v
            }
            None => lookup(self.event, self.table.path(slot)),
        }
    }

    /// The key hash of a slot's value; `None` when the field is absent or empty.
    pub(crate) fn hash(&mut self, slot: usize) -> Option<u64> {
        if let Some(Cached::Present(_, Some(h))) = self.cache.get(slot) {
            return Some(*h);
        }
        let v = self.get(slot)?;
        let h = hash_value(v, SEED);
        if let Some(Cached::Present(_, cached)) = self.cache.get_mut(slot) {
            *cached = Some(h);
        }
        Some(h)
    }

    /// The combined key of the organization and `slots` (all must be present).
    pub(crate) fn key(&mut self, slots: &[usize]) -> Option<u64> {
        let mut h = self.org_hash;
        for &s in slots {
            h = combine(h, self.hash(s)?);
        }
        Some(h)
    }

    /// The combined hash of `slots` without the organization (all must be present).
    pub(crate) fn tuple(&mut self, slots: &[usize]) -> Option<u64> {
        let mut h = SEED;
        for &s in slots {
            h = combine(h, self.hash(s)?);
        }
        Some(h)
    }

    /// The first slot of `slots` whose field is present, with its position in `slots`.
    pub(crate) fn first_present(&mut self, slots: &[usize]) -> Option<(usize, u64)> {
        for (i, &s) in slots.iter().enumerate() {
            if let Some(h) = self.hash(s) {
                return Some((i, h));
            }
        }
        None
    }

    /// Whether condition `id` holds for the event (evaluated once per event for the first
    /// [`CACHED_SLOTS`] conditions).
    pub(crate) fn holds(&mut self, id: usize) -> bool {
        match self.held.get(id) {
            Some(1) => return false,
            Some(2) => return true,
            _ => {}
        }
        let table = self.table;
        let Some(c) = table.conditions.get(id) else { return false };
        let r = match self.get(c.slot) {
            Some(v) => c.patterns.iter().any(|p| p.matches(v)),
            None => false,
        };
        if let Some(h) = self.held.get_mut(id) {
            *h = 1 + u8::from(r);
        }
        r
    }

    /// Display text of a slot's value (allocates; for findings only).
    pub(crate) fn text(&mut self, slot: usize) -> Option<String> {
        self.get(slot).map(|v| v.to_text())
    }
}

/// `event.get(path)`, with empty text and empty lists treated as absent.
fn lookup<'e>(event: &'e Event, path: &str) -> Option<FieldRef<'e>> {
    match event.get(path)? {
        FieldRef::Str("") | FieldRef::List([]) => None,
        FieldRef::Json(serde_json::Value::String(s)) if s.is_empty() => None,
        v => Some(v),
    }
}

/// Mix a component hash into a running key.
#[inline]
pub(crate) fn combine(h: u64, part: u64) -> u64 {
    xxh3_64_with_seed(&part.to_le_bytes(), h)
}

/// A hash of a string constant (rule signatures).
pub(crate) fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    xxh3_64_with_seed(bytes, seed)
}

/// Hash text, ASCII case folded, without allocating. The result is the xxh3 of the folded
/// bytes whatever the branch taken.
pub(crate) fn hash_str(s: &str, seed: u64) -> u64 {
    let bytes = s.as_bytes();
    let seed = seed ^ bytes.len() as u64;
    if !bytes.iter().any(u8::is_ascii_uppercase) {
        return xxh3_64_with_seed(bytes, seed);
    }
    let mut buf = [0u8; 128];
    if bytes.len() <= buf.len() {
        let out = &mut buf[..bytes.len()];
        out.copy_from_slice(bytes);
        out.make_ascii_lowercase();
        return xxh3_64_with_seed(out, seed);
    }
    // Long text with capitals (rare): fold chunk by chunk into the streaming hasher.
    let mut h = Xxh3::with_seed(seed);
    for chunk in bytes.chunks(buf.len()) {
        let out = &mut buf[..chunk.len()];
        out.copy_from_slice(chunk);
        out.make_ascii_lowercase();
        h.update(out);
    }
    h.digest()
}

/// A small stack buffer for rendering numbers and addresses.
struct StackText {
    buf: [u8; 64],
    len: usize,
    overflow: bool,
}

impl StackText {
    fn new() -> Self {
        StackText { buf: [0; 64], len: 0, overflow: false }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            self.overflow = true;
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Call `f` with the display text of a value: borrowed for text, rendered on the stack for
/// numbers, booleans and addresses, allocated only for lists, JSON and long renderings.
pub(crate) fn with_text<R>(v: FieldRef<'_>, f: impl FnOnce(&str) -> R) -> R {
    let mut st = StackText::new();
    let rendered = match v {
        FieldRef::Str(s) => return f(s),
        FieldRef::Json(serde_json::Value::String(s)) => return f(s),
        FieldRef::Int(i) => write!(st, "{i}"),
        FieldRef::Float(x) => write!(st, "{x}"),
        FieldRef::Bool(b) => return f(if b { "true" } else { "false" }),
        FieldRef::Ip(ip) => write!(st, "{ip}"),
        _ => Err(std::fmt::Error),
    };
    if rendered.is_ok() && !st.overflow { f(st.as_str()) } else { f(&v.to_text()) }
}

/// The key hash of a value: its display text, case folded. A list hashes as its elements'
/// texts in order (so it equals no single value).
pub(crate) fn hash_value(v: FieldRef<'_>, seed: u64) -> u64 {
    match v {
        FieldRef::List(items) => {
            let mut h = seed ^ 0x4c15_7000 ^ items.len() as u64;
            for item in items {
                let part = match item {
                    Value::Str(s) => hash_str(s, seed),
                    other => hash_value(FieldRef::of(other), seed),
                };
                h = combine(h, part);
            }
            h
        }
        v => with_text(v, |s| hash_str(s, seed)),
    }
}

/// One `when` / `unless` pattern: exact text, `prefix*`, `*suffix`, `*infix*`, or `*` (any
/// value). Matching ignores ASCII case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    Any,
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl Pattern {
    pub(crate) fn parse(s: &str) -> Result<Pattern, String> {
        if s.is_empty() {
            return Err("empty pattern (use `*` for any value)".into());
        }
        if s == "*" || s == "**" {
            return Ok(Pattern::Any);
        }
        let lead = s.starts_with('*');
        let trail = s.ends_with('*');
        let core = s.trim_start_matches('*').trim_end_matches('*');
        if core.contains('*') {
            return Err(format!(
                "`{s}`: `*` is allowed only at the start and the end of a pattern"
            ));
        }
        let core = core.to_ascii_lowercase();
        Ok(match (lead, trail) {
            (false, false) => Pattern::Exact(core),
            (false, true) => Pattern::Prefix(core),
            (true, false) => Pattern::Suffix(core),
            (true, true) => Pattern::Contains(core),
        })
    }

    fn matches_text(&self, t: &str) -> bool {
        let tb = t.as_bytes();
        match self {
            Pattern::Any => true,
            Pattern::Exact(p) => t.eq_ignore_ascii_case(p),
            Pattern::Prefix(p) => {
                tb.len() >= p.len() && tb[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            }
            Pattern::Suffix(p) => {
                tb.len() >= p.len() && tb[tb.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes())
            }
            Pattern::Contains(p) => {
                p.is_empty() || tb.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p.as_bytes()))
            }
        }
    }

    /// Whether a value matches; a list matches when any element does.
    pub(crate) fn matches(&self, v: FieldRef<'_>) -> bool {
        match v {
            FieldRef::List(items) => items.iter().any(|i| self.matches(FieldRef::of(i))),
            v => with_text(v, |t| self.matches_text(t)),
        }
    }
}

/// One condition: the field at `slot` matches one of `patterns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    slot: usize,
    patterns: Vec<Pattern>,
}

/// A rule's event filter (condition numbers in the [`FieldTable`]): every `when` condition
/// holds and no `unless` condition does.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub(crate) when: Vec<usize>,
    pub(crate) unless: Vec<usize>,
}

impl Filter {
    pub(crate) fn accepts(&self, f: &mut EventFields<'_, '_>) -> bool {
        self.when.iter().all(|&c| f.holds(c)) && !self.unless.iter().any(|&c| f.holds(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event() -> Event {
        let t = Utc.timestamp_opt(1_795_000_000, 0).single().expect("time");
        let mut e = Event::new("e1".into(), t, "x");
        e.organization = Some("org-a".into());
        e.set("user.name", "Alice");
        e.set("source.as.number", 18403i64);
        e.set("source.ip", "203.0.113.7".parse::<std::net::IpAddr>().expect("ip"));
        e.push("event.category", "authentication");
        e.push("event.category", "session");
        e.set("empty", "");
        e
    }

    #[test]
    fn case_folded_hashes_agree_whatever_the_length() {
        for s in ["alice", &"x".repeat(127), &"x".repeat(128), &"y".repeat(300)] {
            assert_eq!(hash_str(s, 1), hash_str(&s.to_ascii_uppercase(), 1), "{}", s.len());
        }
        assert_ne!(hash_str("alice", 1), hash_str("alicf", 1));
        assert_ne!(hash_str("alice", 1), hash_str("alice", 2));
        let long_a = format!("{}a", "x".repeat(200));
        let long_b = format!("{}b", "x".repeat(200));
        assert_ne!(hash_str(&long_a, 1), hash_str(&long_b, 1));
    }

    #[test]
    fn numbers_and_text_hash_alike() {
        assert_eq!(hash_value(FieldRef::Int(18403), 7), hash_value(FieldRef::Str("18403"), 7));
        let ip: std::net::IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(hash_value(FieldRef::Ip(ip), 7), hash_value(FieldRef::Str("2001:db8::1"), 7));
        let list = [Value::Str("a".into())];
        assert_ne!(hash_value(FieldRef::List(&list), 7), hash_value(FieldRef::Str("a"), 7));
    }

    #[test]
    fn cache_lookups_keys_and_absent_fields() {
        let e = event();
        let mut table = FieldTable::default();
        let user = table.slot("user.name");
        let asn = table.slot("source.as.number");
        let empty = table.slot("empty");
        let nope = table.slot("nope.missing");
        assert_eq!(table.slot("user.name"), user);
        assert_eq!(table.len(), 4);
        let mut f = EventFields::new(&e, &table);
        assert!(f.get(user).is_some());
        assert!(f.get(empty).is_none(), "empty text is absent");
        assert!(f.key(&[user, nope]).is_none());
        let k1 = f.key(&[user, asn]).expect("present");
        assert_eq!(f.key(&[user, asn]), Some(k1));
        assert_ne!(f.key(&[asn, user]), Some(k1), "order matters");
        assert_ne!(f.tuple(&[user, asn]), Some(k1), "the organization is part of a key");
        let mut other = e.clone();
        other.organization = Some("org-b".into());
        let mut g = EventFields::new(&other, &table);
        assert_ne!(g.key(&[user, asn]), Some(k1));
        assert_eq!(g.tuple(&[user, asn]), f.tuple(&[user, asn]));
        assert_eq!(f.first_present(&[nope, asn]).map(|(i, _)| i), Some(1));
        assert_eq!(f.text(asn).as_deref(), Some("18403"));
    }

    #[test]
    fn patterns() {
        let p = |s: &str| Pattern::parse(s).expect("valid");
        assert!(p("authentication").matches(FieldRef::Str("Authentication")));
        assert!(!p("authentication").matches(FieldRef::Str("authentication2")));
        assert!(p("DWM-*").matches(FieldRef::Str("dwm-3")));
        assert!(p("*$").matches(FieldRef::Str("WS01$")));
        assert!(!p("*$").matches(FieldRef::Str("WS01")));
        assert!(p("*power*").matches(FieldRef::Str("WindowsPowerShell.exe")));
        assert!(p("*").matches(FieldRef::Int(3)));
        assert!(p("4624").matches(FieldRef::Int(4624)));
        let list = [Value::Str("authentication".into()), Value::Str("session".into())];
        assert!(p("session").matches(FieldRef::List(&list)));
        assert!(!p("process").matches(FieldRef::List(&list)));
        assert!(Pattern::parse("").is_err());
        assert!(Pattern::parse("a*b").is_err());
    }

    #[test]
    fn filters() {
        let e = event();
        let mut table = FieldTable::default();
        let cat = table.slot("event.category");
        let user = table.slot("user.name");
        let nope = table.slot("nope");
        let mut cond = |slot, pats: &[&str]| {
            table.condition(slot, pats.iter().map(|s| Pattern::parse(s).expect("valid")).collect())
        };
        let auth = cond(cat, &["authentication"]);
        assert_eq!(cond(cat, &["authentication"]), auth, "conditions are shared");
        let alice = cond(user, &["alice"]);
        let present = cond(nope, &["*"]);
        let mut f = EventFields::new(&e, &table);
        let filter = Filter { when: vec![auth], unless: vec![] };
        assert!(filter.accepts(&mut f));
        assert!(filter.accepts(&mut f), "cached result");
        let filter = Filter { when: vec![auth], unless: vec![alice] };
        assert!(!filter.accepts(&mut f));
        let filter = Filter { when: vec![present], unless: vec![] };
        assert!(!filter.accepts(&mut f), "`*` needs the field present");
        let filter = Filter { when: vec![], unless: vec![present] };
        assert!(filter.accepts(&mut f));
    }
}
