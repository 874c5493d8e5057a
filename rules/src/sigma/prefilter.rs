//! The literal prefilter (ADR 0008, "literal prefiltering").
//!
//! For each compiled rule, [`rule_needles`] derives a **necessary condition** in conjunctive
//! form: a list of clauses, each a set of lower-case literals ([`Needle`]s), such that the rule
//! can only match an event in which, for every clause, one of the clause's needles occurs where
//! the needle says (in one named field or, for keyword needles, in any value the keyword search
//! sees) and how it says: anywhere in the value ([`Kind::Contains`]), at its start
//! ([`Kind::Prefix`]), at its end ([`Kind::Suffix`]), as the whole value ([`Kind::Exact`]) or,
//! for numeric equality (`EventID: 4624`), as the number ([`Kind::Number`]).
//!
//! It walks the condition: an `and` needs every child's clauses; an `or` needs, for each way of
//! picking one clause per branch, their union (the cross product, while it stays small; else the
//! union of each branch's best clause); a `not` gives nothing; a selection is an `and` of its
//! items; an item needs its matcher's literals: `contains`, `startswith`, `endswith` and exact
//! strings (case-sensitive or not — the haystack is lower-cased, so a case-sensitive match
//! implies a case-insensitive one), Aho-Corasick sets and their `any`/`all` groups, integer
//! equality, and the literals a regular expression cannot match without ([`regex_needles`]).
//! Comparisons, CIDRs, `exists`, `null`, `fieldref`, `expand` and negations constrain
//! nothing. A rule with no necessary literal is always evaluated.
//!
//! The haystack is lower-cased with the same rules rsigma uses (ASCII fast path, full Unicode
//! otherwise). A case-insensitive matcher's literal is stored by rsigma already lower-cased
//! that way, and rsigma tests it against the lower-cased value: the needle is that literal
//! (lower-cased again, which changes nothing but a literal rsigma left with an upper-case
//! letter and so can never match), ASCII or not, so the scan tests what rsigma tests. A case-sensitive literal
//! is lower-cased here; that is sound for ASCII (a case-sensitive match implies the lower-cased
//! one), but Unicode lower-casing is not a per-character map (a final capital sigma lower-cases
//! by context), so a case-sensitive non-ASCII literal constrains nothing. Non-ASCII needles
//! count from 2 bytes (`windash`'s dashes, emoji, homoglyphs): such characters are rare in the
//! logs where rules look for them. So do ASCII needles that hold a character rarely seen in
//! command lines and paths ([`RARE_BYTES`]: `^^` and `,;,` of cmd.exe obfuscation).

use std::collections::HashMap;

use rsigma_eval::{CompiledDetection, CompiledMatcher, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier, SelectorPattern};

/// Where a needle must occur.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// In this field's value.
    Field(String),
    /// In any value the keyword search sees.
    Keyword,
}

/// How a needle must occur in the (lower-cased) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Anywhere.
    Contains,
    /// At the start.
    Prefix,
    /// At the end.
    Suffix,
    /// As the whole value.
    Exact,
    /// The value, read as a number the way rsigma's numeric matchers read it, equals this
    /// integer (the literal is its decimal form).
    Number,
}

/// A needle: where, how, and the lower-case ASCII literal.
pub type Needle = (Scope, Kind, String);

/// One clause: at least one of these needles must occur.
pub type Clause = Vec<Needle>;

/// `contains` needles shorter than this are not worth scanning for (they occur almost
/// everywhere). Anchored needles (prefix, suffix, exact) cost the same whatever their length.
pub const MIN_NEEDLE: usize = 4;

/// Characters rare enough in command lines and paths that a 2- or 3-byte `contains` needle
/// holding one is still selective (cmd.exe escapes and separators, PowerShell backticks).
pub const RARE_BYTES: &[u8] = b"^`;~{}";

/// Of those, the ones selective even alone (a PowerShell backtick escape, a cmd.exe caret).
pub const RARE_ALONE: &[u8] = b"`^";

/// What every event of one class is known to hold: a Windows class is one channel and one
/// EventID ([`super::logsource::class_key`]). A needle these make true for every event of the
/// class tells the class's events apart no better than nothing, so it constrains nothing there,
/// and the rule's other needles are chosen instead ([`rule_needles_in`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    /// `winlog.event_id`, when an integer.
    pub event_id: Option<i64>,
    /// `winlog.channel`, lower-cased.
    pub channel: Option<String>,
}

impl Known {
    /// Nothing known (the rule's needles for any class).
    pub const NONE: Known = Known { event_id: None, channel: None };

    /// Whether the matcher a needle comes from is true for every event of the class: integer
    /// equality with its EventID, or case-insensitive equality with its channel (`ci`: the
    /// matcher ignores case).
    fn holds(&self, scope: &Scope, kind: Kind, lit: &str, ci: bool) -> bool {
        let Scope::Field(f) = scope else { return false };
        match (f.as_str(), kind) {
            ("winlog.event_id", Kind::Number) => {
                self.event_id.is_some_and(|id| lit.parse::<i64>() == Ok(id))
            }
            ("winlog.channel", Kind::Exact) => ci && self.channel.as_deref() == Some(lit),
            _ => false,
        }
    }

    /// Whether no event of the class can hold any needle of `clause`: each tests the EventID
    /// or the channel for another value than the class has (a Security rule for 4624 in the
    /// class of 4688). A rule with such a clause never matches there.
    pub fn rules_out(&self, clause: &Clause) -> bool {
        !clause.is_empty()
            && clause.iter().all(|(scope, kind, lit)| {
                let Scope::Field(f) = scope else { return false };
                match (f.as_str(), kind) {
                    ("winlog.event_id", Kind::Number) => {
                        self.event_id.is_some_and(|id| lit.parse::<i64>() != Ok(id))
                    }
                    ("winlog.channel", Kind::Exact) => {
                        self.channel.as_deref().is_some_and(|c| c != lit)
                    }
                    _ => false,
                }
            })
    }

    /// Whether a rule's needles can depend on what is known (it names one of these fields).
    pub fn concerns(rule: &CompiledRule) -> bool {
        fn det(d: &CompiledDetection) -> bool {
            match d {
                CompiledDetection::AllOf(items) => items.iter().any(|i| {
                    matches!(i.field.as_deref(), Some("winlog.event_id" | "winlog.channel"))
                }),
                CompiledDetection::AnyOf(ds) | CompiledDetection::And(ds) => ds.iter().any(det),
                CompiledDetection::Conditional { named, .. } => named.values().any(det),
                CompiledDetection::Keywords(_) | CompiledDetection::ArrayMatch { .. } => false,
            }
        }
        rule.detections.values().any(det)
    }
}

/// How needles are derived: what the class holds, and the shortest plain `contains` needle
/// worth scanning for.
#[derive(Debug, Clone, Copy)]
pub struct Cx<'a> {
    /// What every event of the class holds.
    pub known: &'a Known,
    /// [`MIN_NEEDLE`], or [`MIN_NEEDLE_LAST_RESORT`] for a rule that has no needle otherwise.
    pub min: usize,
}

/// The shortest plain `contains` needle taken when the rule would otherwise have none and be
/// evaluated for every event of its classes (`arp\s+-a` in "Suspicious Network Command"; and
/// one [`RARE_BYTES`] character alone, as `{` of `"(?:\{\d\})+"\s*-f` in "Powershell Token
/// Obfuscation"): a short needle lets through far more than a longer one, but far less than
/// everything.
pub const MIN_NEEDLE_LAST_RESORT: usize = 3;

/// Clauses kept per rule (the most selective ones).
pub const MAX_CLAUSES: usize = 8;

/// Largest cross product an `or` is expanded into (then the [`MAX_CLAUSES`] most selective
/// clauses are kept). Past it, the `or` gives one clause, the union of each branch's best,
/// which lets far more through: 8 left 0.35 evaluations per attack-sample event, 64 leaves
/// 0.25 (256 no fewer), for 0.1 s more loading.
const MAX_PRODUCT: usize = 64;

/// How selective a clause is: anchored needles beat substrings, long beats short, few beats
/// many. A short whole value (`IntegrityLevel: High`, `LogonType: 3`) is common: it scores as
/// a prefix of its length would.
fn score(c: &Clause) -> (usize, std::cmp::Reverse<usize>) {
    let min = c
        .iter()
        .map(|(_, k, n)| match k {
            Kind::Exact | Kind::Number => (n.len() + 4).min(12),
            Kind::Prefix | Kind::Suffix => (n.len() + 2).min(10),
            Kind::Contains => n.len().min(8),
        })
        .min()
        .unwrap_or(0);
    (min, std::cmp::Reverse(c.len()))
}

fn normalize(mut cnf: Vec<Clause>) -> Option<Vec<Clause>> {
    for c in &mut cnf {
        c.sort();
        c.dedup();
    }
    cnf.retain(|c| !c.is_empty());
    cnf.sort();
    cnf.dedup();
    if cnf.is_empty() {
        return None;
    }
    if cnf.len() > MAX_CLAUSES {
        cnf.sort_by_key(|c| std::cmp::Reverse(score(c)));
        cnf.truncate(MAX_CLAUSES);
    }
    Some(cnf)
}

/// Conjunction: every child that constrains contributes its clauses.
fn and(options: impl IntoIterator<Item = Option<Vec<Clause>>>) -> Option<Vec<Clause>> {
    normalize(options.into_iter().flatten().flatten().collect())
}

/// Disjunction: every branch must constrain.
fn or(options: impl IntoIterator<Item = Option<Vec<Clause>>>) -> Option<Vec<Clause>> {
    let branches: Vec<Vec<Clause>> = options.into_iter().collect::<Option<_>>()?;
    if branches.is_empty() {
        return None;
    }
    let product = branches.iter().try_fold(1usize, |acc, b| {
        let n = acc.saturating_mul(b.len());
        (n <= MAX_PRODUCT).then_some(n)
    });
    let cnf = if product.is_some() {
        let mut acc: Vec<Clause> = vec![Vec::new()];
        for b in &branches {
            let mut next = Vec::with_capacity(acc.len() * b.len());
            for partial in &acc {
                for clause in b {
                    let mut c = partial.clone();
                    c.extend(clause.iter().cloned());
                    next.push(c);
                }
            }
            acc = next;
        }
        acc
    } else {
        let mut one = Vec::new();
        for b in &branches {
            if let Some(best) = b.iter().max_by_key(|c| score(c)) {
                one.extend(best.iter().cloned());
            }
        }
        vec![one]
    };
    normalize(cnf)
}

/// One needle from a matcher's literal. `ci`: the matcher is case-insensitive, so rsigma
/// stores `value` lower-cased already and tests it against the lower-cased value.
fn literal(value: &str, kind: Kind, scope: &Scope, ci: bool, cx: &Cx<'_>) -> Option<Vec<Clause>> {
    let ascii = value.is_ascii();
    let min = match kind {
        Kind::Contains if ascii && !value.bytes().any(|b| RARE_BYTES.contains(&b)) => cx.min,
        Kind::Contains if value.bytes().all(|b| RARE_ALONE.contains(&b)) => 1,
        // The last resort takes one rare character alone (`{` of a format string).
        Kind::Contains if ascii && cx.min < MIN_NEEDLE => 1,
        Kind::Contains => 2,
        Kind::Prefix | Kind::Suffix => 2,
        Kind::Exact | Kind::Number => 1,
    };
    if value.len() < min {
        return None;
    }
    let needle = if ascii {
        value.to_ascii_lowercase()
    } else if ci {
        // rsigma stores it lower-cased; lower-casing again changes nothing, except for a
        // literal rsigma left with an upper-case letter (`Ⓜ`), which its lower-cased haystack
        // can never contain: the lower-cased needle is then merely looser.
        value.to_lowercase()
    } else {
        return None;
    };
    if cx.known.holds(scope, kind, &needle, ci) {
        return None;
    }
    Some(vec![vec![(scope.clone(), kind, needle)]])
}

/// The clauses a string must satisfy for `m` to match it.
pub fn matcher_needles(m: &CompiledMatcher, scope: &Scope, cx: &Cx<'_>) -> Option<Vec<Clause>> {
    match m {
        CompiledMatcher::Exact { value, case_insensitive } => {
            literal(value, Kind::Exact, scope, *case_insensitive, cx)
        }
        CompiledMatcher::Contains { value, case_insensitive } => {
            literal(value, Kind::Contains, scope, *case_insensitive, cx)
        }
        CompiledMatcher::StartsWith { value, case_insensitive } => {
            literal(value, Kind::Prefix, scope, *case_insensitive, cx)
        }
        CompiledMatcher::EndsWith { value, case_insensitive } => {
            literal(value, Kind::Suffix, scope, *case_insensitive, cx)
        }
        // Integers only: rsigma compares within f64::EPSILON, which for an integer means the
        // nearest integer (the scan rounds the same way).
        CompiledMatcher::NumericEq(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            literal(&format!("{}", *n as i64), Kind::Number, scope, false, cx)
        }
        CompiledMatcher::AhoCorasickSet { needles, case_insensitive, .. } => {
            or(needles.iter().map(|n| literal(n, Kind::Contains, scope, *case_insensitive, cx)))
        }
        CompiledMatcher::Regex(re) => regex_needles_min(re.as_str(), scope, cx.min),
        CompiledMatcher::RegexSetMatch { set, mode } => {
            let each = set.patterns().iter().map(|p| regex_needles_min(p, scope, cx.min));
            match mode {
                rsigma_eval::matcher::GroupMode::Any => or(each),
                rsigma_eval::matcher::GroupMode::All => and(each),
            }
        }
        CompiledMatcher::AnyOf(ms) => or(ms.iter().map(|m| matcher_needles(m, scope, cx))),
        CompiledMatcher::AllOf(ms) => and(ms.iter().map(|m| matcher_needles(m, scope, cx))),
        CompiledMatcher::CaseInsensitiveGroup { children, mode } => match mode {
            rsigma_eval::matcher::GroupMode::Any => {
                or(children.iter().map(|m| matcher_needles(m, scope, cx)))
            }
            rsigma_eval::matcher::GroupMode::All => {
                and(children.iter().map(|m| matcher_needles(m, scope, cx)))
            }
        },
        _ => None,
    }
}

/// The `contains` clauses a regular expression implies: the literal runs every match must
/// contain (a concatenation needs each of its parts, an alternation one of its branches, a
/// repetition its body when it must occur at least once). Case-insensitive letters count as
/// their lower-case letter; any other character class, or a non-ASCII character, ends a run.
pub fn regex_needles(pattern: &str, scope: &Scope) -> Option<Vec<Clause>> {
    regex_needles_min(pattern, scope, MIN_NEEDLE)
}

/// [`regex_needles`] with plain `contains` needles of at least `min` bytes.
fn regex_needles_min(pattern: &str, scope: &Scope, min: usize) -> Option<Vec<Clause>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    hir_needles(&hir, scope, min)
}

/// Most texts a run of literal characters and small classes is expanded into (`\{[0-9]\}` is
/// ten: `{0}` … `{9}`).
const MAX_RUN_TEXTS: usize = 16;

/// The lower-cased characters a small class of ASCII characters stands for (`[0-9]`, `[abc]`;
/// not `\d`, which is Unicode's digits), as one-byte texts; `None` for a larger or non-ASCII
/// class.
fn small_class(h: &regex_syntax::hir::Hir) -> Option<Vec<u8>> {
    use regex_syntax::hir::{Class, HirKind};
    let HirKind::Class(cls) = h.kind() else { return None };
    let mut out: Vec<u8> = Vec::new();
    let mut add = |lo: u32, hi: u32| -> Option<()> {
        if hi - lo >= MAX_RUN_TEXTS as u32 || hi >= 0x80 {
            return None;
        }
        for c in lo..=hi {
            out.push((c as u8).to_ascii_lowercase());
        }
        (out.len() <= 2 * MAX_RUN_TEXTS).then_some(())
    };
    match cls {
        Class::Unicode(u) => {
            for r in u.ranges() {
                add(r.start() as u32, r.end() as u32)?;
            }
        }
        Class::Bytes(b) => {
            for r in b.ranges() {
                add(r.start() as u32, r.end() as u32)?;
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    (out.len() <= 10).then_some(out)
}

/// The one lower-cased character a regex element stands for, if it is one (a literal
/// character, or a class whose members all lower-case to the same text, as `(?i)k` whose
/// members are `K`, `k` and the Kelvin sign), as UTF-8. Lower-casing maps each character on
/// its own (so a value holding the character holds its lower-case form once lower-cased),
/// except the capital sigma, whose lower case depends on the next character: it stands for
/// nothing here.
fn single_char(h: &regex_syntax::hir::Hir) -> Option<Vec<u8>> {
    use regex_syntax::hir::{Class, HirKind};
    let lower = |c: char| -> Option<String> { (c != 'Σ').then(|| c.to_lowercase().collect()) };
    match h.kind() {
        HirKind::Literal(lit) => {
            let text = std::str::from_utf8(&lit.0).ok()?;
            let mut out = String::new();
            for c in text.chars() {
                out.push_str(&lower(c)?);
            }
            Some(out.into_bytes())
        }
        HirKind::Class(Class::Unicode(cls)) => {
            let mut one: Option<String> = None;
            for r in cls.ranges() {
                if (r.end() as u32) - (r.start() as u32) > 2 {
                    return None;
                }
                for c in r.start()..=r.end() {
                    let l = lower(c)?;
                    if *one.get_or_insert_with(|| l.clone()) != l {
                        return None;
                    }
                }
            }
            one.map(String::into_bytes)
        }
        HirKind::Class(Class::Bytes(cls)) => {
            let mut one = None;
            for r in cls.ranges() {
                for b in r.start()..=r.end() {
                    if !b.is_ascii() {
                        return None;
                    }
                    let l = b.to_ascii_lowercase();
                    if *one.get_or_insert(l) != l {
                        return None;
                    }
                }
            }
            one.map(|b| vec![b])
        }
        _ => None,
    }
}

fn hir_needles(h: &regex_syntax::hir::Hir, scope: &Scope, min: usize) -> Option<Vec<Clause>> {
    use regex_syntax::hir::HirKind;
    // Already lower-cased.
    let cx = Cx { known: &Known::NONE, min };
    let text = |t: &[u8]| literal(std::str::from_utf8(t).ok()?, Kind::Contains, scope, true, &cx);
    match h.kind() {
        HirKind::Literal(_) | HirKind::Class(_) => text(&single_char(h)?),
        HirKind::Concat(parts) => {
            let mut clauses = Vec::new();
            // The texts the run so far can be: one, unless it went through a small class.
            let mut run: Vec<Vec<u8>> = vec![Vec::new()];
            let flush = |run: &mut Vec<Vec<u8>>, clauses: &mut Vec<Option<Vec<Clause>>>| {
                clauses.push(or(run.iter().map(|t| text(t))));
                *run = vec![Vec::new()];
            };
            for p in parts {
                if let Some(chars) = single_char(p) {
                    run.iter_mut().for_each(|t| t.extend_from_slice(&chars));
                } else if let Some(members) = small_class(p) {
                    if run.len() * members.len() > MAX_RUN_TEXTS {
                        flush(&mut run, &mut clauses);
                        if members.len() > MAX_RUN_TEXTS {
                            continue;
                        }
                    }
                    run = run
                        .iter()
                        .flat_map(|t| {
                            members.iter().map(move |&m| {
                                let mut t = t.clone();
                                t.push(m);
                                t
                            })
                        })
                        .collect();
                } else {
                    flush(&mut run, &mut clauses);
                    clauses.push(hir_needles(p, scope, min));
                }
            }
            flush(&mut run, &mut clauses);
            and(clauses)
        }
        HirKind::Alternation(branches) => or(branches.iter().map(|b| hir_needles(b, scope, min))),
        HirKind::Repetition(rep) if rep.min >= 1 => hir_needles(&rep.sub, scope, min),
        HirKind::Capture(cap) => hir_needles(&cap.sub, scope, min),
        _ => None,
    }
}

fn detection_needles(d: &CompiledDetection, cx: &Cx<'_>) -> Option<Vec<Clause>> {
    match d {
        CompiledDetection::AllOf(items) => and(items.iter().map(|item| {
            if item.exists.is_some() {
                return None;
            }
            let scope = match &item.field {
                Some(f) => Scope::Field(f.clone()),
                None => Scope::Keyword,
            };
            matcher_needles(&item.matcher, &scope, cx)
        })),
        CompiledDetection::AnyOf(ds) => or(ds.iter().map(|d| detection_needles(d, cx))),
        CompiledDetection::And(ds) => and(ds.iter().map(|d| detection_needles(d, cx))),
        CompiledDetection::Keywords(m) => matcher_needles(m, &Scope::Keyword, cx),
        CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => None,
    }
}

fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, rest)) => {
            if !name.starts_with(pre) {
                return false;
            }
            let tail = &name[pre.len()..];
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

fn condition_needles(
    c: &ConditionExpr,
    dets: &HashMap<String, CompiledDetection>,
    cx: &Cx<'_>,
) -> Option<Vec<Clause>> {
    match c {
        ConditionExpr::Identifier(name) => detection_needles(dets.get(name)?, cx),
        ConditionExpr::And(cs) => and(cs.iter().map(|c| condition_needles(c, dets, cx))),
        ConditionExpr::Or(cs) => or(cs.iter().map(|c| condition_needles(c, dets, cx))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Selector { quantifier, pattern } => {
            let mut names: Vec<&String> = dets
                .keys()
                .filter(|k| match pattern {
                    SelectorPattern::Them => !k.starts_with('_'),
                    SelectorPattern::Pattern(p) => glob(p, k),
                })
                .collect();
            if names.is_empty() {
                return None;
            }
            names.sort();
            let sets = names.iter().map(|n| detection_needles(&dets[n.as_str()], cx));
            match quantifier {
                Quantifier::All => and(sets),
                // `N of` (N ≥ 1): one of them at least must match, so the disjunction holds.
                Quantifier::Any => or(sets),
                Quantifier::Count(n) if *n >= 1 => or(sets),
                Quantifier::Count(_) => None,
            }
        }
    }
}

/// The rule's necessary clauses, or `None` when it must always be evaluated.
pub fn rule_needles(rule: &CompiledRule) -> Option<Vec<Clause>> {
    rule_needles_in(rule, &Known::NONE)
}

/// [`rule_needles`] for the events of a class where `known` holds.
pub fn rule_needles_in(rule: &CompiledRule, known: &Known) -> Option<Vec<Clause>> {
    let with = |min| {
        let cx = Cx { known, min };
        or(rule.conditions.iter().map(|c| condition_needles(c, &rule.detections, &cx)))
    };
    with(MIN_NEEDLE).or_else(|| with(MIN_NEEDLE_LAST_RESORT))
}

/// Needles any one of which, occurring, makes the rule false for the event: the rule's
/// condition is a conjunction with a negated filter (`selection and not 1 of filter_*`), and
/// the needle is *sufficient* for one of those filters to hold. For a rule with clauses, only
/// anchored needles come out (whole values, prefixes, suffixes: a hash lookup and two trie
/// walks the scan does anyway); a filter's `contains` literal gives its prefix form (a value
/// starting with it contains it). A rule without clauses (`unfiltered`: evaluated for every
/// event of its classes, as "Execution Of Non-Existing File", which is only `not` filters)
/// keeps a filter's `contains` literal as it is: a kill is then its only way out of an
/// evaluation, and worth a needle that occurs anywhere in the value (`\` in `Image`).
///
/// A kill needle must be exact where a prefilter needle need only be necessary: it comes from
/// a case-insensitive matcher only (the scan sees the value lower-cased, as rsigma's matcher
/// does), whose literal rsigma stored lower-cased; from a filter selection of one item (every
/// item of a larger selection would have to hold); and from a rule with one condition.
pub fn rule_kills(rule: &CompiledRule, unfiltered: bool) -> Vec<Needle> {
    let mut out = Vec::new();
    if let [cond] = rule.conditions.as_slice() {
        kills(cond, &rule.detections, &mut out);
    }
    if !unfiltered {
        for (_, kind, _) in &mut out {
            if *kind == Kind::Contains {
                *kind = Kind::Prefix;
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Needles that make `c` false.
fn kills(c: &ConditionExpr, dets: &HashMap<String, CompiledDetection>, out: &mut Vec<Needle>) {
    match c {
        ConditionExpr::And(cs) => cs.iter().for_each(|c| kills(c, dets, out)),
        ConditionExpr::Not(inner) => sufficient(inner, dets, out),
        _ => {}
    }
}

/// Needles each of which makes `c` true.
fn sufficient(c: &ConditionExpr, dets: &HashMap<String, CompiledDetection>, out: &mut Vec<Needle>) {
    match c {
        ConditionExpr::Identifier(name) => {
            if let Some(d) = dets.get(name) {
                detection_sufficient(d, out);
            }
        }
        ConditionExpr::Or(cs) => cs.iter().for_each(|c| sufficient(c, dets, out)),
        ConditionExpr::And(cs) if cs.len() == 1 => sufficient(&cs[0], dets, out),
        ConditionExpr::Selector { quantifier: Quantifier::Any | Quantifier::Count(1), pattern } => {
            for (name, d) in dets {
                if pattern.matches_detection_name(name) {
                    detection_sufficient(d, out);
                }
            }
        }
        _ => {}
    }
}

fn detection_sufficient(d: &CompiledDetection, out: &mut Vec<Needle>) {
    match d {
        CompiledDetection::AllOf(items) => {
            if let [item] = items.as_slice()
                && item.exists.is_none()
                && let Some(field) = &item.field
            {
                matcher_sufficient(&item.matcher, &Scope::Field(field.clone()), out);
            }
        }
        CompiledDetection::AnyOf(ds) => ds.iter().for_each(|d| detection_sufficient(d, out)),
        _ => {}
    }
}

fn matcher_sufficient(m: &CompiledMatcher, scope: &Scope, out: &mut Vec<Needle>) {
    // rsigma stores a case-insensitive literal lower-cased; one it left otherwise (`Ⓜ`) is
    // not what the scan would look for.
    let mut push = |kind: Kind, lit: &str| {
        if lit.to_lowercase() == lit && (kind == Kind::Exact || !lit.is_empty()) {
            out.push((scope.clone(), kind, lit.to_owned()));
        }
    };
    match m {
        CompiledMatcher::Exact { value, case_insensitive: true } => push(Kind::Exact, value),
        CompiledMatcher::StartsWith { value, case_insensitive: true } => push(Kind::Prefix, value),
        // Narrowed to its prefix form by `rule_kills` unless the rule has no clauses.
        CompiledMatcher::Contains { value, case_insensitive: true } => push(Kind::Contains, value),
        CompiledMatcher::EndsWith { value, case_insensitive: true } => push(Kind::Suffix, value),
        CompiledMatcher::AhoCorasickSet { needles, case_insensitive: true, .. } => {
            needles.iter().for_each(|n| push(Kind::Contains, n))
        }
        CompiledMatcher::AnyOf(ms)
        | CompiledMatcher::CaseInsensitiveGroup {
            children: ms,
            mode: rsigma_eval::matcher::GroupMode::Any,
        } => ms.iter().for_each(|m| matcher_sufficient(m, scope, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(yaml: &str) -> CompiledRule {
        let c = rsigma_parser::parse_sigma_yaml(yaml).unwrap();
        rsigma_eval::compile_rule(&c.rules[0]).unwrap()
    }

    /// The needles' texts, clause by clause (none: no clause).
    fn texts(cnf: Option<Vec<Clause>>) -> Vec<Vec<String>> {
        cnf.unwrap_or_default()
            .into_iter()
            .map(|c| c.into_iter().map(|(_, _, s)| s).collect())
            .collect()
    }

    const HEAD: &str = "title: t\nlogsource:\n  product: windows\n  category: process_creation\n";

    #[test]
    fn non_ascii_and_rare_short_needles() {
        // windash: the ASCII and the Unicode dash variants all become needles.
        let r = compile(&format!(
            "{HEAD}detection:\n  s:\n    CommandLine|contains|windash: ' -s cmd'\n  condition: s\n"
        ));
        let n = rule_needles(&r).expect("constrained");
        let needles: Vec<&str> = n[0].iter().map(|(_, _, s)| s.as_str()).collect();
        assert!(needles.contains(&" -s cmd") && needles.contains(&" /s cmd"), "{needles:?}");
        assert!(needles.iter().any(|s| s.contains('\u{2013}')), "en dash variant: {needles:?}");
        // Emoji (case-insensitive, stored lower-cased) and short needles with a rare byte.
        let r = compile(&format!(
            "{HEAD}detection:\n  s:\n    CommandLine|contains:\n      - '🦆'\n      - 'Ⓜ'\n      - '^^'\n  condition: s\n"
        ));
        let n = rule_needles(&r).expect("constrained");
        let mut needles: Vec<&str> = n[0].iter().map(|(_, _, s)| s.as_str()).collect();
        needles.sort();
        assert_eq!(needles, ["^^", "ⓜ", "🦆"]);
        // Short ASCII needles without a rare byte, and case-sensitive non-ASCII ones, constrain
        // nothing.
        for v in ["'ab'", "'Σx'"] {
            let m = if v.contains('Σ') { "contains|cased" } else { "contains" };
            let r = compile(&format!(
                "{HEAD}detection:\n  s:\n    CommandLine|{m}: {v}\n  condition: s\n"
            ));
            assert_eq!(rule_needles(&r), None, "{v}");
        }
    }

    #[test]
    fn and_keeps_every_clause_and_or_distributes() {
        let r = compile(&format!(
            "{HEAD}detection:\n  a:\n    Image|endswith: '\\\\cmd.exe'\n    CommandLine|contains: 'x'\n  b:\n    CommandLine|contains|all:\n      - 'whoami'\n      - '/all'\n  condition: a or b\n"
        ));
        let n = rule_needles(&r).unwrap();
        // (a or b) with a = [[\\cmd.exe suffix]] (x is too short) and b = [[whoami], [/all]]:
        // two clauses, each "\\cmd.exe or <one of b's>".
        assert_eq!(n.len(), 2, "{n:?}");
        for c in &n {
            assert!(c.iter().any(|(_, k, s)| *k == Kind::Suffix && s == "\\cmd.exe"), "{n:?}");
        }
        assert!(n.iter().any(|c| c.iter().any(|(_, k, s)| *k == Kind::Contains && s == "whoami")));
        assert!(n.iter().any(|c| c.iter().any(|(_, _, s)| s == "/all")));
    }

    #[test]
    fn negation_and_regex_constrain_nothing() {
        let r = compile(&format!(
            "{HEAD}detection:\n  a:\n    CommandLine|re: 'wh.mi'\n  f:\n    Image|endswith: 'x.exe'\n  condition: a and not f\n"
        ));
        assert_eq!(rule_needles(&r), None);
        let r = compile(&format!(
            "{HEAD}detection:\n  a:\n    CommandLine|re: 'who.mi'\n  b:\n    Image|endswith: 'calc.exe'\n  condition: a and b\n"
        ));
        assert_eq!(
            rule_needles(&r).unwrap(),
            vec![vec![(Scope::Field("Image".into()), Kind::Suffix, "calc.exe".into())]]
        );
    }

    #[test]
    fn kill_needles_come_from_negated_one_item_filters() {
        let kills = |det: &str| -> Vec<(Kind, String)> {
            let r = compile(&format!("{HEAD}detection:\n{det}"));
            rule_kills(&r, false).into_iter().map(|(_, k, s)| (k, s)).collect()
        };
        let sel = "  sel:\n    Image|endswith: '.exe'\n";
        // Each filter of `not 1 of filter_*` with one item: exact, prefix, suffix, and a
        // `contains` as the prefix that implies it.
        let k = kills(&format!(
            "{sel}  filter_a:\n    Image:\n      - 'C:\\A.exe'\n      - ''\n  filter_b:\n    Image|startswith: 'C:\\Windows\\'\n  filter_c:\n    Image|contains: 'C:\\Temp\\'\n  filter_d:\n    Image|endswith: '\\x.exe'\n  condition: sel and not 1 of filter_*\n"
        ));
        assert_eq!(
            k,
            vec![
                (Kind::Prefix, "c:\\temp\\".into()),
                (Kind::Prefix, "c:\\windows\\".into()),
                (Kind::Suffix, "\\x.exe".into()),
                (Kind::Exact, "".into()),
                (Kind::Exact, "c:\\a.exe".into()),
            ]
        );
        // A rule without clauses keeps a `contains` literal as it is.
        let r = compile(&format!(
            "{HEAD}detection:\n  filter_a:\n    Image|contains: '\\'\n  filter_b:\n    Image|contains:\n      - 'x'\n      - 'y'\n  condition: not 1 of filter_*\n"
        ));
        let k: Vec<_> = rule_kills(&r, true).into_iter().map(|(_, k, s)| (k, s)).collect();
        assert_eq!(
            k,
            vec![
                (Kind::Contains, "\\".into()),
                (Kind::Contains, "x".into()),
                (Kind::Contains, "y".into())
            ]
        );
        // Not from a selection of two items, a case-sensitive matcher, a regex, an `or`, or a
        // filter that is not negated.
        for det in [
            format!(
                "{sel}  f:\n    Image|startswith: 'C:\\'\n    User: 'x'\n  condition: sel and not f\n"
            ),
            format!("{sel}  f:\n    Image|startswith|cased: 'C:\\'\n  condition: sel and not f\n"),
            format!("{sel}  f:\n    Image|re: 'C:.*'\n  condition: sel and not f\n"),
            format!("{sel}  f:\n    Image|startswith: 'C:\\'\n  condition: sel or not f\n"),
            format!("{sel}  f:\n    Image|startswith: 'C:\\'\n  condition: sel and f\n"),
        ] {
            assert_eq!(kills(&det), vec![], "{det}");
        }
    }

    #[test]
    fn small_classes_and_the_last_resort() {
        let f = Scope::Field("f".into());
        let lits = |p: &str| texts(regex_needles(p, &f));
        // A small ASCII class multiplies the run; a large or Unicode one ends it.
        assert_eq!(lits("[aB]xyz[12]"), vec![vec!["axyz1", "axyz2", "bxyz1", "bxyz2"]]);
        assert_eq!(lits("abcd[a-z]efgh"), vec![vec!["abcd"], vec!["efgh"]]);
        assert_eq!(lits(r"{\d}"), Vec::<Vec<String>>::new());
        // A rule with no needle of 4 bytes takes 3-byte needles, or a rare character alone.
        for (re, want) in [
            (r"arp\s+-a", vec![vec!["arp"]]),
            (r"\w+`(?:\w+|-|.)`", vec![vec!["`"]]),
            (r#""(?:\{\d\})+"\s*-f"#, vec![vec!["{"], vec!["}"]]),
        ] {
            let r = compile(&format!(
                "{HEAD}detection:\n  s:\n    CommandLine|re: '{re}'\n  condition: s\n"
            ));
            let got = texts(rule_needles(&r));
            assert_eq!(got, want, "{re}");
        }
        // Not when the rule has a longer needle.
        let r = compile(&format!(
            "{HEAD}detection:\n  s:\n    CommandLine|re: 'arp\\s+-a'\n    Image|endswith: '\\\\arp.exe'\n  condition: s\n"
        ));
        let n = rule_needles(&r).unwrap();
        assert!(n.iter().flatten().all(|(_, _, s)| s != "arp"), "{n:?}");
    }

    #[test]
    fn regex_literals() {
        let f = Scope::Field("f".into());
        let lits = |p: &str| texts(regex_needles(p, &f));
        assert_eq!(lits("(?i)invoke-mimikatz"), vec![vec!["invoke-mimikatz".to_owned()]]);
        assert_eq!(lits("foo.*barbaz"), vec![vec!["barbaz".to_owned()]]);
        assert_eq!(
            lits(r"\\(cmd1|powershell)\.exe$"),
            vec![vec![".exe".to_owned()], vec!["cmd1".to_owned(), "powershell".to_owned()]]
        );
        assert_eq!(lits("(abcd)?xy"), Vec::<Vec<String>>::new());
        assert_eq!(lits("[a-z]{4}"), Vec::<Vec<String>>::new());
        assert_eq!(lits("(?i)ſomething"), vec![vec!["omething".to_owned()]]);
        assert_eq!(lits("(?i)Kelvin"), vec![vec!["kelvin".to_owned()]]);
        assert_eq!(lits("x(abcd){2,}"), vec![vec!["abcd".to_owned()]]);
        assert!(regex_needles("(", &f).is_none());
    }

    #[test]
    fn what_the_class_holds_constrains_nothing() {
        let head = "title: t\nlogsource:\n  product: windows\n  service: security\n";
        let mut r = compile(&format!(
            "{head}detection:\n  a:\n    EventID: 5136\n    AttributeValue|contains: 'CAB54552'\n  b:\n    EventID: 5145\n    ShareName|endswith: '\\SYSVOL'\n  condition: a or b\n"
        ));
        let map = super::super::fields::mapping_for(Some("windows"), Some("security"), None);
        super::super::fields::rewrite_rule(&mut r, &map);
        assert!(Known::concerns(&r));
        let in_5145 = Known { event_id: Some(5145), channel: Some("security".into()) };
        let lits = |k: &Known| texts(rule_needles_in(&r, k));
        // Anywhere: the EventIDs are the most selective needles.
        assert!(lits(&Known::NONE).iter().any(|c| c.contains(&"5145".to_owned())));
        // In the 5145 class, EventID 5145 always holds: the share name must be there instead.
        let c = lits(&in_5145);
        assert!(c.iter().all(|c| !c.contains(&"5145".to_owned())), "{c:?}");
        assert!(c.iter().any(|c| c.contains(&"\\sysvol".to_owned())), "{c:?}");
        // A rule that is only its EventID matches every event of its class.
        let mut only =
            compile(&format!("{head}detection:\n  a:\n    EventID: 5145\n  condition: a\n"));
        super::super::fields::rewrite_rule(&mut only, &map);
        assert_eq!(rule_needles_in(&only, &in_5145), None);
        assert!(rule_needles_in(&only, &Known { event_id: Some(4624), channel: None }).is_some());
        // The channel, compared ignoring case only.
        for (m, holds) in [("Channel", true), ("Channel|cased", false)] {
            let mut c =
                compile(&format!("{head}detection:\n  a:\n    {m}: 'Security'\n  condition: a\n"));
            super::super::fields::rewrite_rule(&mut c, &map);
            assert_eq!(rule_needles_in(&c, &in_5145).is_none(), holds, "{m}");
        }
    }

    #[test]
    fn selectors_and_keywords() {
        let r = compile(&format!(
            "{HEAD}detection:\n  sel_a:\n    CommandLine|contains: 'mimikatz'\n  sel_b:\n    - 'sekurlsa'\n  condition: 1 of sel_*\n"
        ));
        let n = rule_needles(&r).unwrap();
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains(&(Scope::Keyword, Kind::Contains, "sekurlsa".into())), "{n:?}");
        let cl = (Scope::Field("CommandLine".into()), Kind::Contains, "mimikatz".into());
        assert!(n[0].contains(&cl), "{n:?}");
        assert!(glob("sel_*", "sel_a") && !glob("sel_*", "filter") && glob("*_x*", "a_xb"));
    }
}
