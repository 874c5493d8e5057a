//! The prefilter's matchers (ADR 0008, "literal prefiltering"): one [`Scan`] per field (or for
//! the keyword search) runs every needle of the rules a plan admits over one lower-cased value
//! and reports the clauses whose needle occurred.
//!
//! Each needle kind has the matcher its anchoring allows: `contains` needles one Aho-Corasick
//! automaton (overlapping search: every needle that occurs) behind SIMD gates that reject most
//! values, or, for a field's set larger than one gate takes, a matcher by 4-byte windows
//! (`Windows`) that touches far less memory than a large automaton; exact values a hash map
//! of whole values, prefixes a byte trie walked from the value's start and suffixes one walked
//! from its end, so anchored needles cost a few steps whatever the value's length.
//!
//! Scans are immutable and shared: plans of different event classes whose rules put the same
//! needles on a field share one scan ([`ScanBuilder::fingerprint`]).
//!
//! A scan with `contains` needles learns from its first [`LEARN_RUNS`] values which needles
//! occur in most of them ([`COMMON_SHARE`]): such a needle filters nothing (`ntdll.dll` in a
//! Sysmon call trace) yet costs a match on nearly every value and keeps the SIMD gate from
//! rejecting anything. The engine then builds the scan again without it and counts its
//! clauses as satisfied whenever the field has a value ([`ScanBuilder::add_always`]). That is
//! sound: a clause taken as satisfied only lets more rules through to evaluation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::Xxh3;

use super::prefilter::{Kind, Scope};

/// Most patterns one SIMD gate takes: Teddy refuses more than 64 (its heuristic limit; past it
/// verification slows down). Larger sets are split over several gates.
const GATE_MAX_PATTERNS: usize = 64;
/// Most gates the keyword search's needles are split over. The keyword text (every value of
/// the event, joined, a kilobyte and more) rarely holds a needle, so a few SIMD passes reject
/// it where a larger set would otherwise walk the automaton over all of it.
const KEYWORD_MAX_GATES: usize = 6;
/// Most gates a field's set of up to [`GATE_MAX_PATTERNS`] needles is split over (one per
/// length group, [`gates`]). A larger field set has the window matcher instead ([`Windows`]).
const FIELD_MAX_GATES: usize = 3;

/// Every byte the lower-cased text of a number, an IP address, a time (RFC 3339) or a boolean
/// can hold: digits, signs and separators, hexadecimal digits (IPv6), `t` and `z` (times),
/// `inf`, `nan`, `e` (floats), `true`, `false`. A needle with another byte never occurs in
/// them. Deliberately wide: a byte too many only writes out a value for nothing.
const SCALAR_TEXT: &[u8] = b"0123456789+-.:abcdefilnrstuz ";

/// Set on a mark that is not a clause but a rule (the rest of the bits) that the needle's
/// occurrence makes false ([`super::prefilter::rule_kills`]).
pub const KILL: u32 = 1 << 31;

/// Values a scan's `contains` needles are counted over before they are judged.
pub const LEARN_RUNS: u32 = 1024;
/// A needle that occurs in at least this many of the [`LEARN_RUNS`] values is common.
pub const COMMON_SHARE: u32 = LEARN_RUNS / 2;

/// Larger `contains` sets do not learn: they have no gate for a dropped needle to unblock, and
/// keeping their needles' text to judge them would cost more memory than it saves time.
const LEARN_MAX_PATTERNS: usize = 512;

/// What a scan learns about its `contains` needles.
#[derive(Debug)]
struct Learn {
    /// The needles' text, one after the other, and where each ends (by automaton pattern).
    text: Box<str>,
    ends: Box<[u32]>,
    /// Values scanned so far (counting stops at [`LEARN_RUNS`]).
    runs: AtomicU32,
    /// Per pattern: values it occurred in.
    seen: Box<[AtomicU32]>,
    /// The common needles, once judged.
    verdict: OnceLock<Box<[Box<str>]>>,
    /// Raised when the verdict names a needle, for the engine to rebuild its plans.
    notify: Option<Arc<AtomicBool>>,
}

impl Learn {
    /// Judge the needles (once the learning values are in).
    fn judge(&self) {
        let common: Box<[Box<str>]> = self
            .seen
            .iter()
            .enumerate()
            .filter(|(_, n)| n.load(Ordering::Relaxed) >= COMMON_SHARE)
            .map(|(i, _)| {
                let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
                self.text[start..self.ends[i] as usize].into()
            })
            .collect();
        let any = !common.is_empty();
        if self.verdict.set(common).is_ok()
            && any
            && let Some(flag) = &self.notify
        {
            flag.store(true, Ordering::Release);
        }
    }
}

/// A byte trie being built; each node may end a needle (an index into the scan's clause lists).
#[derive(Debug, Default)]
struct TrieBuilder {
    /// Node 0 is the root. Per node: sorted edges and its output.
    edges: Vec<Vec<(u8, u32)>>,
    out: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl TrieBuilder {
    fn new() -> TrieBuilder {
        TrieBuilder { edges: vec![Vec::new()], out: vec![NONE] }
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

    /// The trie as one array of node records in depth-first order (a node's first child
    /// follows it, so a walk down a path reads forward), the root's edges in a table indexed
    /// by byte.
    fn freeze(self) -> Trie {
        let n = self.edges.len();
        let mut order = Vec::with_capacity(n);
        let mut stack = vec![0usize];
        while let Some(node) = stack.pop() {
            order.push(node);
            stack.extend(self.edges[node].iter().rev().map(|e| e.1 as usize));
        }
        // A record: output, edge count, then (byte, child's record) per edge.
        let mut at = vec![0u32; n];
        let mut len = 0u32;
        for &node in &order {
            at[node] = len;
            len += 2 + 2 * self.edges[node].len() as u32;
        }
        let mut nodes = Vec::with_capacity(len as usize);
        for &node in &order {
            nodes.push(self.out[node]);
            nodes.push(self.edges[node].len() as u32);
            for &(b, to) in &self.edges[node] {
                nodes.push(u32::from(b));
                nodes.push(at[to as usize]);
            }
        }
        let mut root = Box::new([NONE; 256]);
        for &(b, to) in &self.edges[0] {
            root[b as usize] = at[to as usize];
        }
        Trie { root, nodes }
    }
}

/// A byte trie as one array of node records ([`TrieBuilder::freeze`]): a step of a walk reads
/// one record, usually one cache line, where a heap block per node (and, after it, separate
/// arrays of edges and outputs) cost a miss or more a step when the trie was cold.
#[derive(Debug)]
struct Trie {
    /// The root's edges, by byte: the child's record, or `NONE`.
    root: Box<[u32; 256]>,
    /// Node records: output (or `NONE`), edge count, then (byte, child's record) per edge,
    /// sorted by byte.
    nodes: Vec<u32>,
}

impl Trie {
    /// Every output on the path `bytes` spells from the root.
    #[inline]
    fn walk(&self, mut bytes: impl Iterator<Item = u8>, mut found: impl FnMut(u32)) {
        let Some(first) = bytes.next() else { return };
        let mut node = self.root[first as usize] as usize;
        if node == NONE as usize {
            return;
        }
        loop {
            let o = self.nodes[node];
            if o != NONE {
                found(o);
            }
            let Some(b) = bytes.next() else { return };
            let count = self.nodes[node + 1] as usize;
            // (byte, child's record) pairs, sorted by byte.
            let (edges, _) = self.nodes[node + 2..node + 2 + 2 * count].as_chunks::<2>();
            let b = u32::from(b);
            let next = if count <= 16 {
                edges.iter().find(|e| e[0] == b).map(|e| e[1])
            } else {
                edges.binary_search_by_key(&b, |e| e[0]).ok().map(|i| edges[i][1])
            };
            match next {
                Some(n) => node = n as usize,
                None => return,
            }
        }
    }

    fn memory(&self) -> usize {
        1024 + self.nodes.capacity() * 4
    }
}

/// Every occurrence of a large set of needles, found through one 4-byte window of each needle
/// (ADR 0010, "large sets"): a 1.4 MB automaton walked over a cold value costs a cache miss
/// nearly every byte, where this reads a bit filter that stays in cache at every position and
/// its table only where the filter says a window may start.
///
/// Each needle of 4 bytes or more is anchored on the window of its own the fewest other
/// needles share; at each position of the value, a window in the filter and the table lists
/// the needles anchored on it, each checked whole where it would start. Shorter needles go to a
/// small automaton. Every occurrence of every needle is reported, as the automaton's
/// overlapping search does.
#[derive(Debug)]
struct Windows {
    /// One bit per hashed window: may some needle be anchored on it.
    filter: Box<[u64]>,
    /// Open addressing by window: (window, first entry, entries).
    slots: Box<[(u32, u32, u32)]>,
    /// (needle, offset of its window), grouped by window.
    entries: Box<[(u32, u32)]>,
    /// Needle texts, one after the other, and where each starts.
    text: Box<[u8]>,
    starts: Box<[u32]>,
    /// Needles under 4 bytes, by their index in the set.
    short: Option<(AhoCorasick, Box<[u32]>)>,
    /// Those that are not ASCII (homoglyphs, `®`, dashes): only a value with a non-ASCII
    /// byte can hold one, and most values have none.
    short_wide: Option<(AhoCorasick, Box<[u32]>)>,
}

const FILTER_BITS: u32 = 16;

/// A window's hash: the high half of a 64-bit multiply, mixed in every bit (the filter takes
/// its top bits, the table its low ones).
#[inline]
fn window_hash(w: u32) -> u32 {
    (u64::from(w).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

impl Windows {
    fn new(patterns: &[String]) -> Option<Windows> {
        use std::collections::HashMap;
        let window = |p: &[u8], o: usize| u32::from_le_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]);
        // How many needles hold each window: a needle is anchored on its least shared one.
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for p in patterns.iter().filter(|p| p.len() >= 4) {
            let mut seen: Vec<u32> = (0..=p.len() - 4).map(|o| window(p.as_bytes(), o)).collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *shared.entry(w).or_default() += 1;
            }
        }
        let mut by_window: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        let (mut short, mut short_ids) = (Vec::new(), Vec::new());
        let (mut wide, mut wide_ids) = (Vec::new(), Vec::new());
        let mut text = Vec::new();
        let mut starts = Vec::with_capacity(patterns.len() + 1);
        for (i, p) in patterns.iter().enumerate() {
            starts.push(text.len() as u32);
            text.extend_from_slice(p.as_bytes());
            if p.len() < 4 {
                if p.is_ascii() {
                    short.push(p.as_str());
                    short_ids.push(i as u32);
                } else {
                    wide.push(p.as_str());
                    wide_ids.push(i as u32);
                }
                continue;
            }
            let b = p.as_bytes();
            let o = (0..=b.len() - 4).min_by_key(|&o| (shared[&window(b, o)], o))?;
            by_window.entry(window(b, o)).or_default().push((i as u32, o as u32));
        }
        starts.push(text.len() as u32);
        let size = (by_window.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![(0u32, 0u32, 0u32); size];
        let mut entries = Vec::new();
        let mut filter = vec![0u64; 1 << (FILTER_BITS - 6)];
        for (w, list) in by_window {
            let h = window_hash(w);
            let f = (h >> (32 - FILTER_BITS)) as usize;
            filter[f >> 6] |= 1 << (f & 63);
            let mut at = (h as usize) & (size - 1);
            while slots[at].2 != 0 {
                at = (at + 1) & (size - 1);
            }
            slots[at] = (w, entries.len() as u32, list.len() as u32);
            entries.extend(list);
        }
        let automaton = |needles: Vec<&str>, ids: Vec<u32>| {
            if needles.is_empty() {
                return Some(None);
            }
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(&needles)
                .ok()?;
            Some(Some((ac, ids.into_boxed_slice())))
        };
        let short = automaton(short, short_ids)?;
        let short_wide = automaton(wide, wide_ids)?;
        Some(Windows {
            filter: filter.into_boxed_slice(),
            slots: slots.into_boxed_slice(),
            entries: entries.into_boxed_slice(),
            text: text.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            short,
            short_wide,
        })
    }

    /// Call `found` with the index of each needle at each place it occurs in `hay`.
    #[inline]
    fn find_all(&self, hay: &[u8], mut found: impl FnMut(usize)) {
        let wide = self.short_wide.as_ref().filter(|_| !hay.is_ascii());
        for (ac, ids) in self.short.iter().chain(wide) {
            for m in ac.find_overlapping_iter(hay) {
                found(ids[m.pattern().as_usize()] as usize);
            }
        }
        if hay.len() < 4 {
            return;
        }
        let mask = self.slots.len() - 1;
        for p in 0..=hay.len() - 4 {
            let w = u32::from_le_bytes([hay[p], hay[p + 1], hay[p + 2], hay[p + 3]]);
            let h = window_hash(w);
            let f = (h >> (32 - FILTER_BITS)) as usize;
            if self.filter[f >> 6] & (1 << (f & 63)) == 0 {
                continue;
            }
            let mut at = (h as usize) & mask;
            loop {
                let (key, first, n) = self.slots[at];
                if n == 0 {
                    break;
                }
                if key == w {
                    for &(needle, o) in &self.entries[first as usize..(first + n) as usize] {
                        let (o, i) = (o as usize, needle as usize);
                        let text = &self.text[self.starts[i] as usize..self.starts[i + 1] as usize];
                        if p >= o && hay.get(p - o..p - o + text.len()) == Some(text) {
                            found(i);
                        }
                    }
                    break;
                }
                at = (at + 1) & mask;
            }
        }
    }

    fn memory(&self) -> usize {
        self.filter.len() * 8
            + self.slots.len() * 12
            + self.entries.len() * 8
            + self.text.len()
            + self.starts.len() * 4
            + [&self.short, &self.short_wide]
                .iter()
                .filter_map(|s| s.as_ref())
                .map(|(ac, ids)| ac.memory_usage() + ids.len() * 4)
                .sum::<usize>()
    }
}

/// The needles of one scope, being collected for a plan.
#[derive(Debug, Default)]
pub struct ScanBuilder {
    needles: BTreeMap<(Kind, String), Vec<u32>>,
    /// Clauses satisfied whenever the field has a value (their needle was found common).
    always: Vec<u32>,
}

impl ScanBuilder {
    /// Needle `lit` of kind `kind` satisfies clause `clause`.
    pub fn add(&mut self, kind: Kind, lit: &str, clause: u32) {
        let v = self.needles.entry((kind, lit.to_owned())).or_default();
        if v.last() != Some(&clause) {
            v.push(clause);
        }
    }

    /// Clause `clause` counts as satisfied whenever the scope has a value.
    pub fn add_always(&mut self, clause: u32) {
        if self.always.last() != Some(&clause) {
            self.always.push(clause);
        }
    }

    /// Every clause some needle satisfies (kill marks, [`KILL`], are not clauses).
    pub fn clauses(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .needles
            .values()
            .flatten()
            .chain(self.always.iter())
            .copied()
            .filter(|c| c & KILL == 0)
            .collect();
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
        h.update(&[0xfd]);
        for c in &self.always {
            h.update(&c.to_le_bytes());
        }
        h.digest128()
    }

    /// Build the scan. An automaton that cannot be built is an error (the caller evaluates
    /// those rules unfiltered).
    pub fn build(self, scope: Scope) -> Result<Scan, aho_corasick::BuildError> {
        self.build_learning(scope, None)
    }

    /// [`ScanBuilder::build`], raising `notify` once the scan has found common needles.
    pub fn build_learning(
        self,
        scope: Scope,
        notify: Option<Arc<AtomicBool>>,
    ) -> Result<Scan, aho_corasick::BuildError> {
        let mut scan = Scan {
            field: match scope {
                Scope::Field(f) => Some(f),
                Scope::Keyword => None,
            },
            contains: None,
            gates: Vec::new(),
            contains_out: Lists::default(),
            exact: FxHashMap::default(),
            numbers: FxHashMap::default(),
            prefix: None,
            suffix: None,
            outs: Lists::default(),
            numeric_text: false,
            scalar_text: false,
            has_nul: false,
            always: self.always.into_boxed_slice(),
            learn: None,
            kills_anywhere: Vec::new(),
        };
        let mut patterns = Vec::new();
        let (mut prefix, mut suffix) = (None, None);
        for ((kind, lit), clauses) in self.needles {
            if kind != Kind::Number && lit.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                scan.numeric_text = true;
            }
            scan.has_nul |= lit.contains('\0');
            if kind != Kind::Number && lit.bytes().all(|b| SCALAR_TEXT.contains(&b)) {
                scan.scalar_text = true;
            }
            match kind {
                Kind::Contains => {
                    // Kills anywhere in the value are searched apart: they come from rules
                    // that have no clause and are few, and a needle as common as `\` in a
                    // path would keep the gates from rejecting anything.
                    let (kills, clauses): (Vec<u32>, Vec<u32>) =
                        clauses.into_iter().partition(|c| c & KILL != 0);
                    if !kills.is_empty() {
                        let finder = memchr::memmem::Finder::new(lit.as_bytes()).into_owned();
                        scan.kills_anywhere.push((finder, kills.into_boxed_slice()));
                    }
                    if !clauses.is_empty() {
                        patterns.push(lit);
                        scan.contains_out.push(&clauses);
                    }
                }
                Kind::Exact => {
                    let o = scan.outs.push(&clauses);
                    scan.exact.insert(lit.into_bytes().into_boxed_slice(), o);
                }
                Kind::Number => {
                    let o = scan.outs.push(&clauses);
                    // The prefilter writes integers only; anything else would be its bug, and
                    // dropping the needle would make the clause unsatisfiable: keep it as text.
                    match lit.parse::<i64>() {
                        Ok(n) => scan.numbers.insert(n, o),
                        Err(_) => scan.exact.insert(lit.into_bytes().into_boxed_slice(), o),
                    };
                }
                Kind::Prefix => {
                    let o = scan.outs.push(&clauses);
                    prefix.get_or_insert_with(TrieBuilder::new).insert(lit.bytes(), o);
                }
                Kind::Suffix => {
                    let o = scan.outs.push(&clauses);
                    suffix.get_or_insert_with(TrieBuilder::new).insert(lit.bytes().rev(), o);
                }
            }
        }
        scan.prefix = prefix.map(TrieBuilder::freeze);
        scan.suffix = suffix.map(TrieBuilder::freeze);
        if !patterns.is_empty() {
            // A field's set larger than one gate takes: the window matcher, in place of gates
            // and automaton. (The keyword text, a kilobyte and more, is rejected faster by its
            // gates.)
            let windows = (patterns.len() > GATE_MAX_PATTERNS && scan.field.is_some())
                .then(|| Windows::new(&patterns))
                .flatten();
            scan.contains = Some(match windows {
                Some(w) => Contains::Windows(w),
                // A contiguous NFA: the SIMD gates reject most values first, and a DFA (tried
                // up to 300 patterns) was no faster for twice the memory (docs/PERFORMANCE.md).
                None => Contains::Automaton(
                    AhoCorasick::builder()
                        .match_kind(MatchKind::Standard)
                        .kind(Some(AhoCorasickKind::ContiguousNFA))
                        .build(&patterns)
                        .or_else(|_| {
                            AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns)
                        })?,
                ),
            });
            if patterns.len() <= LEARN_MAX_PATTERNS {
                let text: String = patterns.concat();
                let ends = patterns
                    .iter()
                    .scan(0u32, |end, p| {
                        *end += p.len() as u32;
                        Some(*end)
                    })
                    .collect();
                scan.learn = Some(Box::new(Learn {
                    seen: patterns.iter().map(|_| AtomicU32::new(0)).collect(),
                    text: text.into_boxed_str(),
                    ends,
                    runs: AtomicU32::new(0),
                    verdict: OnceLock::new(),
                    notify,
                }));
            }
            // Gates for the keyword search and for a field's set of up to one gate's patterns
            // (a larger field set has the window matcher).
            let max_gates = if scan.field.is_none() { KEYWORD_MAX_GATES } else { FIELD_MAX_GATES };
            if scan.field.is_none() || patterns.len() <= GATE_MAX_PATTERNS {
                scan.gates = gates(&patterns, max_gates).unwrap_or_default();
            }
        }
        Ok(scan)
    }
}

/// SIMD gates over `patterns`, at most `max` of them, or `None`.
///
/// A Teddy searcher compares the first `min(4, shortest)` bytes of its patterns, and refuses a
/// set holding a 1-byte pattern past 16 patterns. One short needle (a PowerShell backtick, a
/// `^^`) in a chunk of long ones would make the chunk's gate weak or impossible, so the
/// patterns are grouped by length first: 1 byte (16 a gate), 2–3 bytes, 4 and more (64 a gate).
fn gates(patterns: &[String], max: usize) -> Option<Vec<aho_corasick::packed::Searcher>> {
    let mut by_len: Vec<&String> = patterns.iter().collect();
    by_len.sort_by_key(|p| p.len());
    let mut out = Vec::new();
    for (lo, hi, per_gate) in
        [(1, 1, 16), (2, 3, GATE_MAX_PATTERNS), (4, usize::MAX, GATE_MAX_PATTERNS)]
    {
        let group: Vec<&String> =
            by_len.iter().copied().filter(|p| (lo..=hi).contains(&p.len())).collect();
        if group.is_empty() {
            continue;
        }
        let per = group.len().div_ceil(group.len().div_ceil(per_gate));
        for chunk in group.chunks(per) {
            out.push(
                aho_corasick::packed::Config::new()
                    .only_teddy(true)
                    .builder()
                    .extend(chunk)
                    .build()?,
            );
        }
    }
    (out.len() <= max).then_some(out)
}

/// Clause lists one after the other in one array (a list per needle): reading a needle's
/// clauses stays within the scan's block instead of a heap block per needle.
#[derive(Debug, Default)]
struct Lists {
    /// Where each list starts in `ids`; one more entry closes the last.
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl Lists {
    /// Add a list; returns its index.
    fn push(&mut self, list: &[u32]) -> u32 {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.ids.extend_from_slice(list);
        self.starts.push(self.ids.len() as u32);
        (self.starts.len() - 2) as u32
    }

    #[inline]
    fn get(&self, i: usize) -> &[u32] {
        &self.ids[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    fn memory(&self) -> usize {
        (self.starts.capacity() + self.ids.capacity()) * 4
    }
}

/// The matcher of a scan's `contains` needles; both report every occurrence of every needle by
/// its index in the set.
#[derive(Debug)]
enum Contains {
    /// An Aho-Corasick automaton (overlapping search), behind the scan's gates.
    Automaton(AhoCorasick),
    /// A field's set larger than one gate takes ([`Windows`]).
    Windows(Windows),
}

/// The matchers of one scope.
#[derive(Debug)]
pub struct Scan {
    /// The field; `None`: every value the keyword search sees.
    pub field: Option<String>,
    /// The `contains` needles' matcher.
    contains: Option<Contains>,
    /// SIMD (Teddy) searchers, each over a share of the `contains` needles (up to
    /// [`KEYWORD_MAX_GATES`] for the keyword search, [`FIELD_MAX_GATES`] for a field), that
    /// tell whether any needle occurs and where the leftmost starts; the automaton then runs
    /// from there only. Needles rarely occur, so most values are rejected at SIMD speed. Empty
    /// for a field's larger set (its window matcher reads every value) and when Teddy cannot
    /// take the set (the automaton reads every value).
    gates: Vec<aho_corasick::packed::Searcher>,
    /// Per automaton pattern: the clauses it satisfies.
    contains_out: Lists,
    exact: FxHashMap<Box<[u8]>, u32>,
    /// Integer values (numeric equality), to clause lists in `outs`.
    numbers: FxHashMap<i64, u32>,
    prefix: Option<Trie>,
    suffix: Option<Trie>,
    /// Clause lists of exact, prefix and suffix needles.
    outs: Lists,
    /// Whether some text needle (not a [`Kind::Number`]) could occur in an integer's decimal
    /// form (only digits and `-`): else an integer value needs the number map only.
    numeric_text: bool,
    /// Whether some text needle could occur in the text of a number, an address, a time or a
    /// boolean ([`SCALAR_TEXT`]): else such values need not be written out for it.
    scalar_text: bool,
    /// Whether some needle holds a NUL byte.
    has_nul: bool,
    /// Clauses satisfied whenever the scan runs (needles found common, dropped).
    always: Box<[u32]>,
    /// What the scan learns about its `contains` needles.
    learn: Option<Box<Learn>>,
    /// Kill needles that count wherever they occur in the value
    /// ([`super::prefilter::rule_kills`] of a rule without clauses), with their marks.
    kills_anywhere: Vec<(memchr::memmem::Finder<'static>, Box<[u32]>)>,
}

impl Scan {
    /// Report the clauses of every needle that occurs in `lower` (a lower-cased value,
    /// [`super::lower`]).
    #[inline]
    pub fn run(&self, lower: &[u8], mark: &mut impl FnMut(&[u32])) {
        if !self.always.is_empty() {
            mark(&self.always);
        }
        if let Some(contains) = &self.contains {
            let gates = &self.gates;
            let from = if gates.is_empty() {
                Some(0)
            } else {
                gates.iter().filter_map(|g| g.find(lower).map(|m| m.start())).min()
            };
            let learning =
                self.learn.as_deref().filter(|l| l.runs.load(Ordering::Relaxed) < LEARN_RUNS);
            // Every occurrence starts at or after the leftmost one.
            if let Some(from) = from {
                let each = |on: &mut dyn FnMut(usize)| match contains {
                    Contains::Windows(w) => w.find_all(lower, on),
                    Contains::Automaton(ac) => {
                        let input = aho_corasick::Input::new(lower).range(from..);
                        for m in ac.find_overlapping_iter(input) {
                            on(m.pattern().as_usize());
                        }
                    }
                };
                match learning {
                    None => each(&mut |p| mark(self.contains_out.get(p))),
                    Some(l) => {
                        let mut found: Vec<usize> = Vec::new();
                        each(&mut |p| {
                            mark(self.contains_out.get(p));
                            if !found.contains(&p) {
                                found.push(p);
                            }
                        });
                        for p in found {
                            l.seen[p].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            // The last value of the learning run judges the needles (once).
            if let Some(l) = learning
                && l.runs.fetch_add(1, Ordering::Relaxed) + 1 == LEARN_RUNS
            {
                l.judge();
            }
        }
        if !self.exact.is_empty()
            && let Some(&o) = self.exact.get(lower)
        {
            mark(self.outs.get(o as usize));
        }
        if !self.numbers.is_empty()
            && let Some(n) = as_integer(lower)
            && let Some(&o) = self.numbers.get(&n)
        {
            mark(self.outs.get(o as usize));
        }
        if let Some(t) = &self.prefix {
            t.walk(lower.iter().copied(), |o| mark(self.outs.get(o as usize)));
        }
        if let Some(t) = &self.suffix {
            t.walk(lower.iter().rev().copied(), |o| mark(self.outs.get(o as usize)));
        }
        for (finder, kills) in &self.kills_anywhere {
            if finder.find(lower).is_some() {
                mark(kills);
            }
        }
    }

    /// Whether the scan holds only `contains` needles, none with a NUL: then values joined by
    /// NUL can be scanned at once (no needle spans two values, none is anchored to one).
    pub fn joinable(&self) -> bool {
        self.exact.is_empty()
            && self.kills_anywhere.is_empty()
            && self.numbers.is_empty()
            && self.prefix.is_none()
            && self.suffix.is_none()
            && !self.has_nul
    }

    /// Whether some text needle could occur in a number's, an address's, a time's or a
    /// boolean's text.
    pub fn scalar_text(&self) -> bool {
        self.scalar_text
    }

    /// [`Scan::run`] on an integer value, as its decimal text (`buf` formats it only when a
    /// text needle could occur in it).
    #[inline]
    pub fn run_int(&self, n: i64, buf: &mut String, mark: &mut impl FnMut(&[u32])) {
        if !self.always.is_empty() {
            mark(&self.always);
        }
        if self.numeric_text {
            use std::fmt::Write;
            buf.clear();
            let _ = write!(buf, "{n}");
            self.run(buf.as_bytes(), mark);
        } else if let Some(&o) = self.numbers.get(&n) {
            mark(self.outs.get(o as usize));
        }
    }

    /// The `contains` needles this scan found common, once it has judged them.
    pub fn common(&self) -> Option<&[Box<str>]> {
        self.learn.as_ref().and_then(|l| l.verdict.get()).map(|v| &**v)
    }

    /// Approximate heap bytes.
    pub fn memory(&self) -> usize {
        self.contains.as_ref().map_or(0, |c| match c {
            Contains::Automaton(ac) => ac.memory_usage(),
            Contains::Windows(w) => w.memory(),
        }) + self.gates.iter().map(|g| g.memory_usage()).sum::<usize>()
            + self.contains_out.memory()
            + self.outs.memory()
            + self.exact.keys().map(|k| k.len() + 24).sum::<usize>()
            + self.numbers.len() * 16
            + self.always.len() * 4
            + self.learn.as_ref().map_or(0, |l| l.text.len() + l.ends.len() * 4 + l.seen.len() * 4)
            + self
                .kills_anywhere
                .iter()
                .map(|(f, k)| f.needle().len() + k.len() * 4 + 64)
                .sum::<usize>()
            + self.prefix.as_ref().map_or(0, Trie::memory)
            + self.suffix.as_ref().map_or(0, Trie::memory)
    }
}

/// The integer a value equals the way rsigma's numeric equality reads it: parsed as `f64`,
/// equal to an integer within `f64::EPSILON`.
#[inline]
fn as_integer(s: &[u8]) -> Option<i64> {
    // Cheap rejection first: a number starts with a digit, a sign, a dot, or is inf/nan.
    let first = *s.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'n')) {
        return None;
    }
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    let r = v.round();
    ((v - r).abs() < f64::EPSILON && r.abs() < 9.0e15).then_some(r as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(scan: &Scan, hay: &str) -> Vec<u32> {
        let mut out = Vec::new();
        scan.run(hay.as_bytes(), &mut |c: &[u32]| out.extend_from_slice(c));
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

    /// Random words over `alphabet` (xorshift from `seed`: the same words every run).
    fn words(seed: u64, alphabet: &'static [u8]) -> impl FnMut(usize) -> String {
        let mut next = crate::sigma::testing::draws(seed);
        move |len| (0..len).map(|_| alphabet[next(alphabet.len())] as char).collect()
    }

    /// A scan of `n` needles `needle000x`…, needle `i` satisfying clause `i`.
    fn numbered(n: u32, scope: Scope) -> Scan {
        let mut b = ScanBuilder::default();
        for i in 0..n {
            b.add(Kind::Contains, &format!("needle{i:03}x"), i);
        }
        b.build(scope).unwrap()
    }

    #[test]
    fn keyword_needles_are_split_over_gates_and_all_found() {
        let kw = numbered(150, Scope::Keyword);
        assert_eq!(kw.gates.len(), 3);
        for i in [0u32, 63, 64, 100, 149] {
            assert_eq!(found(&kw, &format!("a\0b needle{i:03}x c")), vec![i]);
        }
        assert_eq!(found(&kw, "needle120x\0needle001x"), vec![1, 120]);
        assert_eq!(found(&kw, "needle150x"), Vec::<u32>::new());
        // A field's set that large has the window matcher instead of gates.
        let f = numbered(150, Scope::Field("f".into()));
        assert!(f.gates.is_empty() && matches!(f.contains, Some(Contains::Windows(_))));
        assert_eq!(found(&f, "x needle149x needle002x"), vec![2, 149]);
        assert_eq!(found(&f, "nothing"), Vec::<u32>::new());
    }

    #[test]
    fn short_needles_get_gates_of_their_own() {
        // Teddy refuses a 1-byte pattern among more than 16: grouped by length, the long
        // needles keep a gate with a 4-byte mask and the backtick gets one of its own.
        let mut b = ScanBuilder::default();
        for i in 0..40u32 {
            b.add(Kind::Contains, &format!("needle{i:03}x"), i);
        }
        b.add(Kind::Contains, "`", 100);
        b.add(Kind::Contains, "^^", 101);
        let s = b.build(Scope::Field("f".into())).unwrap();
        assert_eq!(s.gates.len(), 3);
        assert_eq!(found(&s, "a needle007x b"), vec![7]);
        assert_eq!(found(&s, "i`ex"), vec![100]);
        assert_eq!(found(&s, "a^^b needle039x"), vec![39, 101]);
        assert_eq!(found(&s, "plain text"), Vec::<u32>::new());
    }

    #[test]
    fn the_window_matcher_finds_what_the_automaton_finds() {
        // Random needles over a small alphabet (so that windows are shared and values hold
        // many overlapping occurrences), short ones included; then with non-ASCII characters
        // (short needles of their own, searched only in values that hold one).
        let alphabets: [&'static [u8]; 2] = [b"abcde\\.-", b"ab\xe9\xdf-"];
        for alphabet in alphabets {
            let mut word = words(0x2545_f491_4f6c_dd1d, alphabet);
            let mut needles: Vec<String> = (0..300).map(|i| word(1 + i % 9)).collect();
            needles.sort();
            needles.dedup();
            let w = Windows::new(&needles).unwrap();
            let ac =
                AhoCorasick::builder().match_kind(MatchKind::Standard).build(&needles).unwrap();
            let mut ascii = words(7, b"ab-");
            for len in [0, 1, 3, 4, 5, 17, 64, 300] {
                for i in 0..40 {
                    let hay = if i % 4 == 3 { ascii(len) } else { word(len) };
                    let mut want: Vec<usize> = ac
                        .find_overlapping_iter(hay.as_str())
                        .map(|m| m.pattern().as_usize())
                        .collect();
                    let mut got = Vec::new();
                    w.find_all(hay.as_bytes(), |p| got.push(p));
                    want.sort_unstable();
                    got.sort_unstable();
                    assert_eq!(got, want, "{hay}");
                }
            }
        }
    }

    #[test]
    fn a_scan_learns_which_needles_are_common() {
        let mut b = ScanBuilder::default();
        b.add(Kind::Contains, "ntdll.dll", 1);
        b.add(Kind::Contains, "comsvcs.dll", 2);
        b.add(Kind::Contains, "kernelbase", 3);
        let flag = Arc::new(AtomicBool::new(false));
        let s = b.build_learning(Scope::Field("f".into()), Some(flag.clone())).unwrap();
        for i in 0..LEARN_RUNS {
            assert!(s.common().is_none());
            // ntdll in every value (twice: counted once per value), kernelbase in a third.
            let v = if i % 3 == 0 { "ntdll.dll+1|kernelbase+2|ntdll.dll" } else { "ntdll.dll+1" };
            assert!(found(&s, v).contains(&1));
        }
        let common: Vec<&str> = s.common().unwrap().iter().map(|n| &**n).collect();
        assert_eq!(common, ["ntdll.dll"]);
        assert!(flag.load(Ordering::Acquire));
        // Judged once: later values change nothing.
        found(&s, "comsvcs.dll");
        assert_eq!(s.common().unwrap().len(), 1);
    }

    #[test]
    fn flat_trie_finds_every_prefix() {
        // Needles over a small alphabet, so that nodes have many edges (past the linear search)
        // and paths share prefixes.
        let mut word = words(0x9e37_79b9_7f4a_7c15, b"abcdefghijklmnopqrstuvwxyz0123456789");
        let needles: Vec<String> = (0..400).map(|i| word(1 + i % 5)).collect();
        let mut b = TrieBuilder::new();
        for (i, n) in needles.iter().enumerate() {
            b.insert(n.bytes(), i as u32);
        }
        let t = b.freeze();
        for _ in 0..500 {
            let hay = word(6);
            let mut got = Vec::new();
            t.walk(hay.bytes(), |o| got.push(needles[o as usize].clone()));
            let mut want: Vec<String> =
                needles.iter().filter(|n| hay.starts_with(n.as_str())).cloned().collect();
            want.sort();
            want.dedup();
            got.sort();
            assert_eq!(got, want, "{hay}");
        }
    }

    #[test]
    fn always_clauses_are_marked_for_every_value() {
        let mut b = ScanBuilder::default();
        b.add(Kind::Contains, "abcd", 1);
        b.add_always(2);
        let s = b.build(Scope::Field("f".into())).unwrap();
        assert_eq!(found(&s, "zzz"), vec![2]);
        assert_eq!(found(&s, "xabcdx"), vec![1, 2]);
        let mut out = Vec::new();
        s.run_int(7, &mut String::new(), &mut |c: &[u32]| out.extend_from_slice(c));
        assert_eq!(out, vec![2]);
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
