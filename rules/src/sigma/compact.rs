//! Rules in one compact block each, for deciding whether a candidate matches (ADR 0010, sixth
//! session: "compact rules").
//!
//! rsigma's compiled rule spreads over many allocations: a hash map of detections, a vector of
//! items per selection, a string per field name and per literal. A candidate is evaluated once
//! in a while, its data cold, so each of those allocations is a cache miss. Here every rule
//! becomes a run of fixed-size nodes in one array, its strings side by side in one byte arena,
//! so that evaluating it reads a few contiguous lines. Regular expressions, Aho-Corasick sets
//! and the matchers this form does not describe (CIDRs, field references, placeholders, …)
//! keep rsigma's objects, reached through side tables (`regex` and `aho-corasick` objects are
//! reference-counted: cloning them shares the compiled automaton).
//!
//! The semantics are rsigma 0.23's boolean evaluation, node for node: conditions, selectors
//! and their quantifiers (resolved to detection lists when compiled), detections, items with
//! `exists` and absent fields, and the string matchers' coercion of numbers, booleans and
//! arrays. Rules with array matches or conditional detections are not compiled
//! ([`Compact::supports`]) and stay with rsigma. `tests/prefilter_sound.rs` compares the
//! alerting path built on this with rsigma's evaluation on every corpus event.

use std::borrow::Cow;
use std::collections::HashMap;

use rsigma_eval::matcher::GroupMode;
use rsigma_eval::{
    CompiledDetection, CompiledDetectionItem, CompiledMatcher, CompiledRule, Event, EventValue,
};
use rsigma_parser::{ConditionExpr, Quantifier};

use super::lower::{is_lower_ascii, push_lowered_str};
use super::yesno::{YesNo, YesNoSet};

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    // Boolean structure (conditions, selectors, detections): over `kids[a..a + b]`.
    And,
    Or,
    Not,
    /// At least `n` of the children.
    AtLeast,
    True,
    False,
    /// A detection item: field name `bytes[a..a + len]`, matcher node `b`; `flag`: 0 none,
    /// 1 `exists: true`, 2 `exists: false`.
    Item,
    /// A keyword item or detection: `fallback[a].matches_keyword`.
    Keyword,
    // Matchers over one value. String literals are `bytes[a..a + len]`; `flag`: ignore case.
    Exact,
    Contains,
    StartsWith,
    EndsWith,
    /// `automata[a]`.
    AcSet,
    /// `regexes[a]`, on the raw value.
    Regex,
    /// `sets[a]`; `flag`: 1 all patterns, 0 any.
    RegexSet,
    /// Numeric equality with `numbers[a]`.
    NumEq,
    Null,
    /// Over `kids[a..a + b]`.
    AnyOf,
    AllOf,
    /// Child `a`.
    MNot,
    /// A case-insensitive group: children over the value lowered once; `flag`: 1 all, 0 any.
    Group,
    /// `fallback[a].matches`.
    Fallback,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    op: Op,
    flag: u8,
    len: u16,
    a: u32,
    b: u32,
}

/// Most bytes of each of a rule's arrays [`Compact::prefetch`] asks for.
const PREFETCH_MOST: usize = 512;

/// The compact form of a rule set.
#[derive(Default)]
pub struct Compact {
    nodes: Vec<Node>,
    kids: Vec<u32>,
    /// Field names and string literals, each a whole `&str` (so a name is sliced out as one,
    /// with no UTF-8 check an evaluation).
    bytes: String,
    numbers: Vec<f64>,
    automata: Vec<aho_corasick::AhoCorasick>,
    /// Regexes and sets, cut to what a yes/no search needs ([`super::yesno`]).
    regexes: Vec<YesNo>,
    sets: Vec<YesNoSet>,
    fallback: Vec<CompiledMatcher>,
    /// Per rule: its root node, or [`NONE`] when the rule is left to rsigma.
    roots: Vec<u32>,
    /// Per rule: where its nodes, child lists and strings start; the next rule's entry (or
    /// the arrays' ends) closes them ([`Compact::prefetch`]).
    starts: Vec<[u32; 3]>,
    /// Set while compiling a rule that cannot be described after all.
    failed: bool,
}

/// Whether the compact form can describe the rule (no array match, no conditional detection).
fn describable(rule: &CompiledRule) -> bool {
    fn det(d: &CompiledDetection) -> bool {
        match d {
            CompiledDetection::AllOf(_) | CompiledDetection::Keywords(_) => true,
            CompiledDetection::AnyOf(ds) | CompiledDetection::And(ds) => ds.iter().all(det),
            CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => false,
        }
    }
    rule.detections.values().all(det)
}

impl Compact {
    /// The compact form of `rules` (in order).
    pub fn new(rules: &[CompiledRule]) -> Compact {
        let mut c = Compact::default();
        for r in rules {
            c.starts.push([c.nodes.len() as u32, c.kids.len() as u32, c.bytes.len() as u32]);
            c.failed = false;
            let root = if describable(r) { c.rule(r) } else { NONE };
            c.roots.push(if c.failed { NONE } else { root });
        }
        c.nodes.shrink_to_fit();
        c.kids.shrink_to_fit();
        c.bytes.shrink_to_fit();
        c
    }

    /// Ask the processor to fetch rule `r`'s nodes, child lists and strings (up to
    /// [`PREFETCH_MOST`] bytes of each), for an evaluation to come: a rule becomes a candidate
    /// while the scans still run, and is evaluated after them.
    #[inline]
    pub fn prefetch(&self, r: usize) {
        fn part<T>(all: &[T], from: u32, to: Option<u32>) -> &[T] {
            let from = (from as usize).min(all.len());
            let to = to.map_or(all.len(), |t| t as usize).clamp(from, all.len());
            let most = PREFETCH_MOST / std::mem::size_of::<T>().max(1);
            &all[from..to.min(from + most)]
        }
        let Some(start) = self.starts.get(r) else { return };
        let end = self.starts.get(r + 1);
        super::cache::prefetch(part(&self.nodes, start[0], end.map(|e| e[0])));
        super::cache::prefetch(part(&self.kids, start[1], end.map(|e| e[1])));
        super::cache::prefetch(part(self.bytes.as_bytes(), start[2], end.map(|e| e[2])));
    }

    /// Whether rule `r` has a compact form.
    pub fn supports(&self, r: usize) -> bool {
        self.roots.get(r).is_some_and(|&n| n != NONE)
    }

    fn push(&mut self, op: Op, flag: u8, len: u16, a: u32, b: u32) -> u32 {
        self.nodes.push(Node { op, flag, len, a, b });
        (self.nodes.len() - 1) as u32
    }

    fn string(&mut self, s: &str) -> Option<(u32, u16)> {
        let len = u16::try_from(s.len()).ok()?;
        let at = self.bytes.len() as u32;
        self.bytes.push_str(s);
        Some((at, len))
    }

    /// A node over already built children, `kids[a..a + b]` (for [`Op::AtLeast`], the
    /// threshold `n` follows them).
    fn list(&mut self, op: Op, flag: u8, children: Vec<u32>, n: u32) -> u32 {
        let at = self.kids.len() as u32;
        let count = children.len() as u32;
        self.kids.extend(children);
        if op == Op::AtLeast {
            self.kids.push(n);
        }
        self.push(op, flag, 0, at, count)
    }

    fn rule(&mut self, r: &CompiledRule) -> u32 {
        // Detections first, by name, so conditions can refer to them.
        let mut names: Vec<&String> = r.detections.keys().collect();
        names.sort();
        let mut by_name: HashMap<&str, u32> = HashMap::new();
        for n in names {
            let node = self.detection(&r.detections[n]);
            by_name.insert(n.as_str(), node);
        }
        let conds: Vec<u32> =
            r.conditions.iter().map(|c| self.condition(c, &r.detections, &by_name)).collect();
        self.list(Op::Or, 0, conds, 0)
    }

    fn condition(
        &mut self,
        c: &ConditionExpr,
        dets: &HashMap<String, CompiledDetection>,
        by_name: &HashMap<&str, u32>,
    ) -> u32 {
        match c {
            ConditionExpr::Identifier(name) => match by_name.get(name.as_str()) {
                Some(&n) => n,
                None => self.push(Op::False, 0, 0, 0, 0),
            },
            ConditionExpr::And(cs) => {
                let k = cs.iter().map(|c| self.condition(c, dets, by_name)).collect();
                self.list(Op::And, 0, k, 0)
            }
            ConditionExpr::Or(cs) => {
                let k = cs.iter().map(|c| self.condition(c, dets, by_name)).collect();
                self.list(Op::Or, 0, k, 0)
            }
            ConditionExpr::Not(inner) => {
                let k = vec![self.condition(inner, dets, by_name)];
                self.list(Op::Not, 0, k, 0)
            }
            ConditionExpr::Selector { quantifier, pattern } => {
                let mut named: Vec<&str> = dets
                    .keys()
                    .filter(|n| pattern.matches_detection_name(n))
                    .map(String::as_str)
                    .collect();
                named.sort_unstable();
                let k: Vec<u32> = named.iter().map(|n| by_name[n]).collect();
                match quantifier {
                    Quantifier::Any => self.list(Op::Or, 0, k, 0),
                    Quantifier::All => self.list(Op::And, 0, k, 0),
                    Quantifier::Count(0) => self.push(Op::True, 0, 0, 0, 0),
                    Quantifier::Count(n) => match u32::try_from(*n) {
                        Ok(n) => self.list(Op::AtLeast, 0, k, n),
                        Err(_) => self.push(Op::False, 0, 0, 0, 0),
                    },
                }
            }
        }
    }

    fn detection(&mut self, d: &CompiledDetection) -> u32 {
        match d {
            CompiledDetection::AllOf(items) => {
                let k = items.iter().map(|i| self.item(i)).collect();
                self.list(Op::And, 0, k, 0)
            }
            CompiledDetection::AnyOf(ds) => {
                let k = ds.iter().map(|d| self.detection(d)).collect();
                self.list(Op::Or, 0, k, 0)
            }
            CompiledDetection::And(ds) => {
                let k = ds.iter().map(|d| self.detection(d)).collect();
                self.list(Op::And, 0, k, 0)
            }
            CompiledDetection::Keywords(m) => {
                self.fallback.push(m.clone());
                self.push(Op::Keyword, 0, 0, (self.fallback.len() - 1) as u32, 0)
            }
            // Not describable: `Compact::new` never gets here.
            CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => {
                self.push(Op::True, 0, 0, 0, 0)
            }
        }
    }

    fn item(&mut self, i: &CompiledDetectionItem) -> u32 {
        let Some(field) = &i.field else {
            if i.exists.is_some() {
                // rsigma: an `exists` item without a field is true when it expects absence.
                let op = if i.exists == Some(false) { Op::True } else { Op::False };
                return self.push(op, 0, 0, 0, 0);
            }
            self.fallback.push(i.matcher.clone());
            return self.push(Op::Keyword, 0, 0, (self.fallback.len() - 1) as u32, 0);
        };
        let flag = match i.exists {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        let m = if flag == 0 { self.matcher(&i.matcher) } else { NONE };
        let Some((at, len)) = self.string(field) else {
            // A field name of 64 KiB: the rule is left to rsigma.
            self.failed = true;
            return self.push(Op::False, 0, 0, 0, 0);
        };
        self.push(Op::Item, flag, len, at, m)
    }

    fn fallback(&mut self, m: &CompiledMatcher) -> u32 {
        self.fallback.push(m.clone());
        self.push(Op::Fallback, 0, 0, (self.fallback.len() - 1) as u32, 0)
    }

    fn text(&mut self, op: Op, value: &str, ci: bool, m: &CompiledMatcher) -> u32 {
        match self.string(value) {
            Some((at, len)) => self.push(op, u8::from(ci), len, at, 0),
            None => self.fallback(m),
        }
    }

    fn matcher(&mut self, m: &CompiledMatcher) -> u32 {
        match m {
            CompiledMatcher::Exact { value, case_insensitive } => {
                self.text(Op::Exact, value, *case_insensitive, m)
            }
            CompiledMatcher::Contains { value, case_insensitive } => {
                self.text(Op::Contains, value, *case_insensitive, m)
            }
            CompiledMatcher::StartsWith { value, case_insensitive } => {
                self.text(Op::StartsWith, value, *case_insensitive, m)
            }
            CompiledMatcher::EndsWith { value, case_insensitive } => {
                self.text(Op::EndsWith, value, *case_insensitive, m)
            }
            CompiledMatcher::AhoCorasickSet { automaton, case_insensitive, .. } => {
                self.automata.push(automaton.clone());
                let at = (self.automata.len() - 1) as u32;
                self.push(Op::AcSet, u8::from(*case_insensitive), 0, at, 0)
            }
            CompiledMatcher::Regex(re) => {
                // Only asked whether it occurs: cut to what decides that.
                self.regexes.push(YesNo::new(re));
                self.push(Op::Regex, 0, 0, (self.regexes.len() - 1) as u32, 0)
            }
            CompiledMatcher::RegexSetMatch { set, mode } => {
                self.sets.push(YesNoSet::new(set));
                let all = u8::from(matches!(mode, GroupMode::All));
                self.push(Op::RegexSet, all, 0, (self.sets.len() - 1) as u32, 0)
            }
            CompiledMatcher::NumericEq(n) => {
                self.numbers.push(*n);
                self.push(Op::NumEq, 0, 0, (self.numbers.len() - 1) as u32, 0)
            }
            CompiledMatcher::Null => self.push(Op::Null, 0, 0, 0, 0),
            CompiledMatcher::Not(inner) => {
                let k = self.matcher(inner);
                self.push(Op::MNot, 0, 0, k, 0)
            }
            CompiledMatcher::AnyOf(ms) | CompiledMatcher::AllOf(ms) => {
                let k = ms.iter().map(|m| self.matcher(m)).collect();
                let op = if matches!(m, CompiledMatcher::AnyOf(_)) { Op::AnyOf } else { Op::AllOf };
                self.list(op, 0, k, 0)
            }
            CompiledMatcher::CaseInsensitiveGroup { children, mode } => {
                // Children are tested against the lowered value: only the kinds rsigma's
                // `matches_pre_lowered` answers are described here.
                if !children.iter().all(pre_lowerable) {
                    return self.fallback(m);
                }
                let k = children.iter().map(|c| self.matcher(c)).collect();
                self.list(Op::Group, u8::from(matches!(mode, GroupMode::All)), k, 0)
            }
            _ => self.fallback(m),
        }
    }

    /// Whether rule `r` (one [`Compact::supports`]) matches the event.
    pub fn matches(&self, r: usize, event: &impl Event, low: &mut Lowered) -> bool {
        self.node(self.roots[r], event, low)
    }

    fn kids_of(&self, n: &Node) -> &[u32] {
        &self.kids[n.a as usize..(n.a + n.b) as usize]
    }

    fn str_at(&self, n: &Node) -> &[u8] {
        &self.bytes.as_bytes()[n.a as usize..n.a as usize + n.len as usize]
    }

    /// [`Compact::str_at`] as the `&str` it was stored from.
    fn name_at(&self, n: &Node) -> &str {
        self.bytes.get(n.a as usize..n.a as usize + n.len as usize).unwrap_or_default()
    }

    fn node(&self, i: u32, event: &impl Event, low: &mut Lowered) -> bool {
        let n = &self.nodes[i as usize];
        match n.op {
            Op::And => self.kids_of(n).iter().all(|&k| self.node(k, event, low)),
            Op::Or => self.kids_of(n).iter().any(|&k| self.node(k, event, low)),
            Op::Not => !self.node(self.kids[n.a as usize], event, low),
            Op::AtLeast => {
                let need = u64::from(self.kids[(n.a + n.b) as usize]);
                let mut hits = 0u64;
                self.kids_of(n).iter().any(|&k| {
                    if self.node(k, event, low) {
                        hits += 1;
                    }
                    hits >= need
                })
            }
            Op::True => true,
            Op::False => false,
            Op::Keyword => self.fallback[n.a as usize].matches_keyword(event),
            Op::Item => {
                let field = self.name_at(n);
                match n.flag {
                    1 | 2 => {
                        let exists = event.get_field(field).is_some_and(|v| !v.is_null());
                        exists == (n.flag == 1)
                    }
                    _ => match event.get_field(field) {
                        Some(v) => self.value(n.b, &v, event, low),
                        None => self.nodes[n.b as usize].op == Op::Null,
                    },
                }
            }
            _ => false,
        }
    }

    /// rsigma's `CompiledMatcher::matches` on one value.
    fn value(&self, i: u32, v: &EventValue<'_>, event: &impl Event, low: &mut Lowered) -> bool {
        let n = &self.nodes[i as usize];
        match n.op {
            Op::Exact | Op::Contains | Op::StartsWith | Op::EndsWith => {
                let lit = self.str_at(n);
                let test = |hay: &[u8]| match n.op {
                    Op::Exact => hay == lit,
                    Op::Contains => contains(hay, lit),
                    Op::StartsWith => hay.starts_with(lit),
                    _ => hay.ends_with(lit),
                };
                str_value(v, &mut |s| {
                    if n.flag == 1 { test(low.get(s).as_bytes()) } else { test(s.as_bytes()) }
                })
            }
            Op::AcSet => {
                let ac = &self.automata[n.a as usize];
                str_value(v, &mut |s| {
                    if n.flag == 1 { ac.is_match(low.get(s)) } else { ac.is_match(s.as_ref()) }
                })
            }
            Op::Regex => {
                let re = &self.regexes[n.a as usize];
                str_value(v, &mut |s| re.is_match(s))
            }
            Op::RegexSet => {
                let set = &self.sets[n.a as usize];
                str_value(v, &mut |s| set.matches(n.flag == 1, s))
            }
            Op::NumEq => {
                let x = self.numbers[n.a as usize];
                num_value(v, &|y| (y - x).abs() < f64::EPSILON)
            }
            Op::Null => v.is_null(),
            Op::MNot => !self.value(n.a, v, event, low),
            Op::AnyOf => self.kids_of(n).iter().any(|&k| self.value(k, v, event, low)),
            Op::AllOf => self.kids_of(n).iter().all(|&k| self.value(k, v, event, low)),
            Op::Group => str_value(v, &mut |s| self.pre_lowered(i, low.get(s))),
            Op::Fallback => self.fallback[n.a as usize].matches(v, event),
            _ => false,
        }
    }

    /// rsigma's `matches_pre_lowered` (a case-insensitive group's child on the lowered value).
    fn pre_lowered(&self, i: u32, l: &str) -> bool {
        let n = &self.nodes[i as usize];
        let ci = n.flag == 1;
        match n.op {
            Op::Exact if ci => l.as_bytes() == self.str_at(n),
            Op::Contains if ci => contains(l.as_bytes(), self.str_at(n)),
            Op::StartsWith if ci => l.as_bytes().starts_with(self.str_at(n)),
            Op::EndsWith if ci => l.as_bytes().ends_with(self.str_at(n)),
            Op::Regex => self.regexes[n.a as usize].is_match(l),
            Op::AcSet if ci => self.automata[n.a as usize].is_match(l),
            Op::RegexSet => self.sets[n.a as usize].matches(n.flag == 1, l),
            Op::MNot => !self.pre_lowered(n.a, l),
            Op::AnyOf => self.kids_of(n).iter().any(|&k| self.pre_lowered(k, l)),
            Op::AllOf => self.kids_of(n).iter().all(|&k| self.pre_lowered(k, l)),
            Op::Group => {
                if n.flag == 1 {
                    self.kids_of(n).iter().all(|&k| self.pre_lowered(k, l))
                } else {
                    self.kids_of(n).iter().any(|&k| self.pre_lowered(k, l))
                }
            }
            _ => false,
        }
    }
}

/// Whether rsigma's `matches_pre_lowered` answers a group child (else it would say false, and
/// the group is left to rsigma whole).
fn pre_lowerable(m: &CompiledMatcher) -> bool {
    match m {
        CompiledMatcher::Exact { case_insensitive: true, .. }
        | CompiledMatcher::Contains { case_insensitive: true, .. }
        | CompiledMatcher::StartsWith { case_insensitive: true, .. }
        | CompiledMatcher::EndsWith { case_insensitive: true, .. }
        | CompiledMatcher::AhoCorasickSet { case_insensitive: true, .. }
        | CompiledMatcher::Regex(_)
        | CompiledMatcher::RegexSetMatch { .. } => true,
        CompiledMatcher::Not(inner) => pre_lowerable(inner),
        CompiledMatcher::AnyOf(ms) | CompiledMatcher::AllOf(ms) => ms.iter().all(pre_lowerable),
        CompiledMatcher::CaseInsensitiveGroup { children, .. } => {
            children.iter().all(pre_lowerable)
        }
        _ => false,
    }
}

/// Whether `hay` holds `lit`. A value is mostly under a few hundred bytes and searched once
/// for a literal: `memmem::find` spent more building its searcher for each call (a tenth of
/// the compact evaluation's time) than searching; candidates for the literal's first byte,
/// found by `memchr`, are compared whole instead.
#[inline]
fn contains(hay: &[u8], lit: &[u8]) -> bool {
    let Some((&first, rest)) = lit.split_first() else { return true };
    if hay.len() < lit.len() {
        return false;
    }
    if hay.len() > 512 {
        return memchr::memmem::find(hay, lit).is_some();
    }
    let last_start = hay.len() - lit.len();
    memchr::memchr_iter(first, &hay[..=last_start]).any(|i| hay[i + 1..].starts_with(rest))
}

/// rsigma's `match_str_value`: text as is, numbers and booleans as text, arrays by member.
fn str_value(v: &EventValue<'_>, pred: &mut dyn FnMut(&Cow<'_, str>) -> bool) -> bool {
    match v {
        EventValue::Str(s) => pred(s),
        EventValue::Int(n) => pred(&Cow::Owned(n.to_string())),
        EventValue::Float(f) => pred(&Cow::Owned(f.to_string())),
        EventValue::Bool(b) => pred(&Cow::Borrowed(if *b { "true" } else { "false" })),
        EventValue::Array(items) => items.iter().any(|i| str_value(i, pred)),
        _ => false,
    }
}

/// rsigma's `match_numeric_value`.
fn num_value(v: &EventValue<'_>, pred: &dyn Fn(f64) -> bool) -> bool {
    match v {
        EventValue::Int(n) => pred(*n as f64),
        EventValue::Float(f) => pred(*f),
        EventValue::Str(s) => s.parse::<f64>().is_ok_and(pred),
        EventValue::Array(items) => items.iter().any(|i| num_value(i, pred)),
        _ => false,
    }
}

/// Text values lowered during one event's evaluation, by the address and length of the text
/// the view lends (borrowed from the event, so stable while it is evaluated).
#[derive(Default)]
pub struct Lowered {
    buf: String,
    /// (address, length, start, end in `buf`)
    seen: Vec<(usize, usize, u32, u32)>,
    /// Scratch for text that is not borrowed from the event (not kept).
    once: String,
}

impl Lowered {
    /// Forget the last event's values.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.seen.clear();
    }

    /// `s` lower-cased (as text: a regex takes it with no UTF-8 check).
    // The `Cow` itself is the point: only text borrowed from the event is stable enough to be
    // cached by its address.
    #[allow(clippy::ptr_arg)]
    fn get<'a>(&'a mut self, s: &'a Cow<'_, str>) -> &'a str {
        if is_lower_ascii(s.as_bytes()) {
            return s;
        }
        let Cow::Borrowed(b) = s else {
            self.once.clear();
            push_lowered_str(&mut self.once, s);
            return &self.once;
        };
        let key = (b.as_ptr() as usize, b.len());
        if let Some(&(_, _, from, to)) = self.seen.iter().find(|e| (e.0, e.1) == key) {
            return self.buf.get(from as usize..to as usize).unwrap_or_default();
        }
        let from = self.buf.len();
        push_lowered_str(&mut self.buf, b);
        self.seen.push((key.0, key.1, from as u32, self.buf.len() as u32));
        &self.buf[from..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::SigmaView;
    use sen_core::event::{Event, Value};

    /// `contains` answers as `memmem` does: short and long values (past the length where it
    /// hands over to `memmem`), literals at the ends, repeated first bytes, empty literals.
    #[test]
    fn contains_finds_what_memmem_finds() {
        let mut next = crate::sigma::testing::draws(0x9e37_79b9_7f4a_7c15u64);
        let alphabet = b"aab\\c.";
        let mut found = 0;
        for round in 0..20_000 {
            let len = if round % 10 == 0 { 500 + next(100) } else { next(40) };
            let hay: Vec<u8> = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let lit: Vec<u8> = (0..next(5)).map(|_| alphabet[next(alphabet.len())]).collect();
            let want = memchr::memmem::find(&hay, &lit).is_some();
            found += usize::from(want);
            assert_eq!(contains(&hay, &lit), want, "{hay:?} {lit:?}");
        }
        assert!((2_000..18_000).contains(&found), "both answers drawn: {found}");
    }

    /// The compact form agrees with rsigma's `evaluate_rule` on hand-made events, for the
    /// shapes the corpus has few of: counted selectors, `exists`, `null`, keywords, numbers,
    /// case-sensitive and case-insensitive strings, lists and negations.
    #[test]
    fn agrees_with_rsigma_on_each_shape() {
        let head = "title: t\nlogsource: {product: linux}\ndetection:\n";
        let rules = [
            "  sel_a: {process.name: bash}\n  sel_b: {user.name|startswith: ro}\n  sel_c: {process.pid: 42}\n  condition: 2 of sel_*\n",
            "  sel: {process.name|exists: true}\n  f: {user.name|exists: false}\n  condition: sel and not f\n",
            "  sel: {user.name: null}\n  condition: sel\n",
            "  keywords: ['needle', 'other']\n  condition: keywords\n",
            "  sel: {process.pid: [41, 42]}\n  condition: sel\n",
            "  sel: {process.name|cased: Bash}\n  condition: sel\n",
            "  sel: {process.name|contains|all: [as, ba]}\n  condition: sel\n",
            "  sel: {process.name|endswith: [sh, zsh, fish, ksh, csh, tcsh, dash, ash, busybox]}\n  condition: not sel\n",
            "  sel: {process.name|re: '^b.sh$'}\n  condition: sel\n",
            "  sel: {process.args: bar}\n  condition: sel\n",
            "  a: {process.name: bash}\n  b: {user.name: root}\n  condition: all of them\n",
        ];
        let events: Vec<Event> = [
            vec![("process.name", "bash"), ("user.name", "root"), ("message", "a needle here")],
            vec![("process.name", "Bash"), ("message", "nothing")],
            vec![("user.name", "rob")],
            vec![("process.name", "zsh"), ("user.name", "alice")],
        ]
        .into_iter()
        .enumerate()
        .map(|(i, fields)| {
            let mut e = Event::new(format!("{i}"), chrono::Utc::now(), "x");
            for (k, v) in fields {
                e.set(k, v);
            }
            e.fields.insert("process.pid", Value::Int(40 + i as i64));
            e.fields.insert(
                "process.args",
                Value::List(vec![Value::Str("foo".into()), Value::Str("bar".into())]),
            );
            e
        })
        .collect();
        let mut outcomes = [0usize; 2];
        for r in rules {
            let parsed = rsigma_parser::parse_sigma_yaml(&format!("{head}{r}")).unwrap();
            let rule = rsigma_eval::compile_rule(&parsed.rules[0]).unwrap();
            let compact = Compact::new(std::slice::from_ref(&rule));
            assert!(compact.supports(0), "{r}");
            for e in &events {
                let view = SigmaView::new(e);
                let want = rsigma_eval::evaluate_rule(&rule, &view).is_some();
                let got = compact.matches(0, &view, &mut Lowered::default());
                assert_eq!(got, want, "rule {r} on event {}", e.id);
                outcomes[usize::from(want)] += 1;
            }
        }
        assert!(outcomes[0] > 5 && outcomes[1] > 5, "both verdicts exercised: {outcomes:?}");
    }
}
