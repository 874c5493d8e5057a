//! The prefilter's matchers (ADR 0008, "literal prefiltering"): one [`Scan`] per field (or for
//! the keyword search) runs every needle of the rules a plan admits over one lower-cased value
//! and reports the clauses whose needle occurred.
//!
//! Each needle kind has the matcher its anchoring allows: `contains` needles one Aho-Corasick
//! automaton (overlapping search: every needle that occurs), exact values a hash map of whole
//! values, prefixes a byte trie walked from the value's start and suffixes one walked from its
//! end, so anchored needles cost a few steps whatever the value's length.
//!
//! Scans are immutable and shared: plans of different event classes whose rules put the same
//! needles on a field share one scan ([`ScanBuilder::fingerprint`]).

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::Xxh3;

use super::prefilter::{Kind, Scope};

/// Largest `contains` pattern set with a SIMD gate: Teddy refuses more than 64 patterns (its
/// heuristic limit; past it verification slows down). Splitting larger sets over several gates
/// was measured and gained nothing (docs/PERFORMANCE.md).
const GATE_MAX_PATTERNS: usize = 64;

/// A byte trie; each node may end a needle (an index into the scan's clause lists).
#[derive(Debug, Default)]
struct Trie {
    /// Node 0 is the root. Per node: sorted edges and its output.
    edges: Vec<Vec<(u8, u32)>>,
    out: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Trie {
    fn new() -> Trie {
        Trie { edges: vec![Vec::new()], out: vec![NONE] }
    }

    fn insert(&mut self, bytes: impl Iterator<Item = u8>, out: u32) {
        let mut node = 0usize;
        for b in bytes {
            let next = match self.edges[node].binary_search_by_key(&b, |e| e.0) {
                Ok(i) => self.edges[node][i].1 as usize,
                Err(i) => {
                    let id = self.edges.len();
                    self.edges.push(Vec::new());
                    self.out.push(NONE);
                    self.edges[node].insert(i, (b, id as u32));
                    id
                }
            };
            node = next;
        }
        self.out[node] = out;
    }

    /// Every output on the path `bytes` spells from the root.
    #[inline]
    fn walk(&self, bytes: impl Iterator<Item = u8>, mut found: impl FnMut(u32)) {
        let mut node = 0usize;
        for b in bytes {
            let edges = &self.edges[node];
            let next = if edges.len() <= 8 {
                edges.iter().find(|e| e.0 == b).map(|e| e.1)
            } else {
                edges.binary_search_by_key(&b, |e| e.0).ok().map(|i| edges[i].1)
            };
            match next {
                Some(n) => node = n as usize,
                None => return,
            }
            let o = self.out[node];
            if o != NONE {
                found(o);
            }
        }
    }

    fn memory(&self) -> usize {
        self.edges.iter().map(|e| e.capacity() * 8 + 24).sum::<usize>() + self.out.capacity() * 4
    }
}

/// The needles of one scope, being collected for a plan.
#[derive(Debug, Default)]
pub struct ScanBuilder {
    needles: BTreeMap<(Kind, String), Vec<u32>>,
}

impl ScanBuilder {
    /// Needle `lit` of kind `kind` satisfies clause `clause`.
    pub fn add(&mut self, kind: Kind, lit: &str, clause: u32) {
        let v = self.needles.entry((kind, lit.to_owned())).or_default();
        if v.last() != Some(&clause) {
            v.push(clause);
        }
    }

    /// Every clause some needle satisfies.
    pub fn clauses(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.needles.values().flatten().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// A digest of the scope and every needle with its clauses: equal digests, equal scans.
    pub fn fingerprint(&self, scope: &Scope) -> u128 {
        let mut h = Xxh3::new();
        match scope {
            Scope::Field(f) => {
                h.update(b"F");
                h.update(f.as_bytes());
            }
            Scope::Keyword => h.update(b"K"),
        }
        for ((kind, lit), clauses) in &self.needles {
            h.update(&[0xff, *kind as u8]);
            h.update(lit.as_bytes());
            h.update(&[0xfe]);
            for c in clauses {
                h.update(&c.to_le_bytes());
            }
        }
        h.digest128()
    }

    /// Build the scan. An automaton that cannot be built is an error (the caller evaluates
    /// those rules unfiltered).
    pub fn build(self, scope: Scope) -> Result<Scan, aho_corasick::BuildError> {
        let mut scan = Scan {
            field: match scope {
                Scope::Field(f) => Some(f),
                Scope::Keyword => None,
            },
            contains: None,
            gate: None,
            contains_out: Vec::new(),
            exact: FxHashMap::default(),
            numbers: FxHashMap::default(),
            prefix: None,
            suffix: None,
            outs: Vec::new(),
            numeric_text: false,
            has_nul: false,
        };
        let mut patterns = Vec::new();
        for ((kind, lit), clauses) in self.needles {
            if kind != Kind::Number && lit.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                scan.numeric_text = true;
            }
            scan.has_nul |= lit.contains('\0');
            match kind {
                Kind::Contains => {
                    patterns.push(lit);
                    scan.contains_out.push(clauses.into_boxed_slice());
                }
                Kind::Exact => {
                    let o = scan.outs.len() as u32;
                    scan.outs.push(clauses.into_boxed_slice());
                    scan.exact.insert(lit.into_boxed_str(), o);
                }
                Kind::Number => {
                    let o = scan.outs.len() as u32;
                    scan.outs.push(clauses.into_boxed_slice());
                    // The prefilter writes integers only; anything else would be its bug, and
                    // dropping the needle would make the clause unsatisfiable: keep it as text.
                    match lit.parse::<i64>() {
                        Ok(n) => scan.numbers.insert(n, o),
                        Err(_) => scan.exact.insert(lit.into_boxed_str(), o),
                    };
                }
                Kind::Prefix => {
                    let o = scan.outs.len() as u32;
                    scan.outs.push(clauses.into_boxed_slice());
                    scan.prefix.get_or_insert_with(Trie::new).insert(lit.bytes(), o);
                }
                Kind::Suffix => {
                    let o = scan.outs.len() as u32;
                    scan.outs.push(clauses.into_boxed_slice());
                    scan.suffix.get_or_insert_with(Trie::new).insert(lit.bytes().rev(), o);
                }
            }
        }
        if !patterns.is_empty() {
            // A contiguous NFA: the SIMD gate rejects most values first, and a DFA (tried up to
            // 300 patterns) was no faster for twice the memory (docs/PERFORMANCE.md).
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(&patterns)
                .or_else(|_| {
                    AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns)
                })?;
            scan.contains = Some(ac);
            if patterns.len() <= GATE_MAX_PATTERNS {
                scan.gate = aho_corasick::packed::Config::new()
                    .only_teddy(true)
                    .builder()
                    .extend(&patterns)
                    .build();
            }
        }
        Ok(scan)
    }
}

/// The matchers of one scope.
#[derive(Debug)]
pub struct Scan {
    /// The field; `None`: every value the keyword search sees.
    pub field: Option<String>,
    contains: Option<AhoCorasick>,
    /// For small sets: a SIMD (Teddy) searcher that tells whether any `contains` needle occurs
    /// and where the leftmost starts; the automaton then runs from there only. Needles rarely
    /// occur, so most values are rejected at SIMD speed.
    gate: Option<aho_corasick::packed::Searcher>,
    /// Per automaton pattern: the clauses it satisfies.
    contains_out: Vec<Box<[u32]>>,
    exact: FxHashMap<Box<str>, u32>,
    /// Integer values (numeric equality), to clause lists in `outs`.
    numbers: FxHashMap<i64, u32>,
    prefix: Option<Trie>,
    suffix: Option<Trie>,
    /// Clause lists of exact, prefix and suffix needles.
    outs: Vec<Box<[u32]>>,
    /// Whether some text needle (not a [`Kind::Number`]) could occur in an integer's decimal
    /// form (only digits and `-`): else an integer value needs the number map only.
    numeric_text: bool,
    /// Whether some needle holds a NUL byte.
    has_nul: bool,
}

impl Scan {
    /// Report the clauses of every needle that occurs in `lower` (a lower-cased value).
    #[inline]
    pub fn run(&self, lower: &str, mark: &mut impl FnMut(&[u32])) {
        if let Some(ac) = &self.contains {
            let from = match &self.gate {
                Some(g) => g.find(lower).map(|m| m.start()),
                None => Some(0),
            };
            // Every occurrence starts at or after the leftmost one.
            if let Some(from) = from {
                let input = aho_corasick::Input::new(lower).range(from..);
                for m in ac.find_overlapping_iter(input) {
                    mark(&self.contains_out[m.pattern().as_usize()]);
                }
            }
        }
        if !self.exact.is_empty()
            && let Some(&o) = self.exact.get(lower)
        {
            mark(&self.outs[o as usize]);
        }
        if !self.numbers.is_empty()
            && let Some(n) = as_integer(lower)
            && let Some(&o) = self.numbers.get(&n)
        {
            mark(&self.outs[o as usize]);
        }
        if let Some(t) = &self.prefix {
            t.walk(lower.bytes(), |o| mark(&self.outs[o as usize]));
        }
        if let Some(t) = &self.suffix {
            t.walk(lower.bytes().rev(), |o| mark(&self.outs[o as usize]));
        }
    }

    /// Whether the scan holds only `contains` needles, none with a NUL: then values joined by
    /// NUL can be scanned at once (no needle spans two values, none is anchored to one).
    pub fn joinable(&self) -> bool {
        self.exact.is_empty()
            && self.numbers.is_empty()
            && self.prefix.is_none()
            && self.suffix.is_none()
            && !self.has_nul
    }

    /// [`Scan::run`] on an integer value, as its decimal text (`buf` formats it only when a
    /// text needle could occur in it).
    #[inline]
    pub fn run_int(&self, n: i64, buf: &mut String, mark: &mut impl FnMut(&[u32])) {
        if self.numeric_text {
            use std::fmt::Write;
            buf.clear();
            let _ = write!(buf, "{n}");
            self.run(buf, mark);
        } else if let Some(&o) = self.numbers.get(&n) {
            mark(&self.outs[o as usize]);
        }
    }

    /// Approximate heap bytes.
    pub fn memory(&self) -> usize {
        let lists = |v: &[Box<[u32]>]| v.iter().map(|l| l.len() * 4 + 16).sum::<usize>();
        self.contains.as_ref().map_or(0, |a| a.memory_usage())
            + self.gate.as_ref().map_or(0, |g| g.memory_usage())
            + lists(&self.contains_out)
            + lists(&self.outs)
            + self.exact.keys().map(|k| k.len() + 24).sum::<usize>()
            + self.numbers.len() * 16
            + self.prefix.as_ref().map_or(0, Trie::memory)
            + self.suffix.as_ref().map_or(0, Trie::memory)
    }
}

/// The integer a value equals the way rsigma's numeric equality reads it: parsed as `f64`,
/// equal to an integer within `f64::EPSILON`.
#[inline]
fn as_integer(s: &str) -> Option<i64> {
    // Cheap rejection first: a number starts with a digit, a sign, a dot, or is inf/nan.
    let first = *s.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'n')) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    let r = v.round();
    ((v - r).abs() < f64::EPSILON && r.abs() < 9.0e15).then_some(r as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(scan: &Scan, hay: &str) -> Vec<u32> {
        let mut out = Vec::new();
        scan.run(hay, &mut |c: &[u32]| out.extend_from_slice(c));
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn each_kind_matches_where_it_is_anchored() {
        let mut b = ScanBuilder::default();
        b.add(Kind::Contains, "whoami", 1);
        b.add(Kind::Suffix, "\\cmd.exe", 2);
        b.add(Kind::Suffix, ".exe", 3);
        b.add(Kind::Prefix, "c:\\windows\\", 4);
        b.add(Kind::Exact, "net.exe", 5);
        b.add(Kind::Prefix, "c:\\", 6);
        b.add(Kind::Number, "4624", 7);
        let s = b.build(Scope::Field("f".into())).unwrap();
        assert_eq!(found(&s, "c:\\windows\\system32\\cmd.exe"), vec![2, 3, 4, 6]);
        assert_eq!(found(&s, "cmd.exe /c whoami"), vec![1]);
        assert_eq!(found(&s, &"whoami ".repeat(20)), vec![1]);
        assert_eq!(found(&s, &format!("{}whoami", "x".repeat(100))), vec![1]);
        assert_eq!(found(&s, "net.exe"), vec![3, 5]);
        assert_eq!(found(&s, "x\\cmd.exe "), Vec::<u32>::new());
        assert_eq!(found(&s, ""), Vec::<u32>::new());
        for n in ["4624", "4624.0", "04624", "+4624", "4.624e3"] {
            assert_eq!(found(&s, n), vec![7], "{n}");
        }
        for n in ["4625", " 4624", "4624x", "4624.5", "4623.9999999999995"] {
            assert_eq!(found(&s, n), Vec::<u32>::new(), "{n}");
        }
    }

    #[test]
    fn integers_match_as_their_text_and_as_numbers() {
        let found_int = |s: &Scan, n: i64| {
            let mut out = Vec::new();
            s.run_int(n, &mut String::new(), &mut |c: &[u32]| out.extend_from_slice(c));
            out.sort();
            out
        };
        let mut b = ScanBuilder::default();
        b.add(Kind::Number, "4624", 1);
        b.add(Kind::Contains, "abcd", 2);
        let s = b.build(Scope::Field("f".into())).unwrap();
        assert!(!s.numeric_text);
        assert_eq!(found_int(&s, 4624), vec![1]);
        assert_eq!(found_int(&s, 4625), Vec::<u32>::new());
        let mut b = ScanBuilder::default();
        b.add(Kind::Number, "4624", 1);
        b.add(Kind::Contains, "4624", 2);
        b.add(Kind::Suffix, "-12", 3);
        let s = b.build(Scope::Field("f".into())).unwrap();
        assert!(s.numeric_text);
        assert_eq!(found_int(&s, 14624), vec![2]);
        assert_eq!(found_int(&s, 4624), vec![1, 2]);
        assert_eq!(found_int(&s, -12), vec![3]);
    }

    #[test]
    fn fingerprint_tells_needles_and_clauses_apart() {
        let mk = |lit: &str, c: u32| {
            let mut b = ScanBuilder::default();
            b.add(Kind::Contains, lit, c);
            b.fingerprint(&Scope::Field("f".into()))
        };
        assert_eq!(mk("abcd", 1), mk("abcd", 1));
        assert_ne!(mk("abcd", 1), mk("abcd", 2));
        assert_ne!(mk("abcd", 1), mk("abce", 1));
    }
}
