//! The literal prefilter (ADR 0008, "literal prefiltering").
//!
//! For each compiled rule, [`rule_needles`] derives a **necessary condition**: a set of lower-case
//! literals such that the rule can only match an event in which one of them occurs, in one of
//! the fields named with it (or, for keyword needles, in any value the keyword search sees). It
//! walks the condition: an `or` needs the union of its branches' sets (each branch must have
//! one), an `and` the most selective child's set, a `not` gives nothing; a selection needs the
//! best of its items; an item needs its matcher's literals: `contains`, `startswith`,
//! `endswith` and exact strings (case-sensitive or not — the haystack is lower-cased, so a
//! case-sensitive match implies a case-insensitive one), Aho-Corasick sets and their
//! `any`/`all` groups. Regular expressions, numbers, CIDRs, `exists`, `null`, `fieldref`,
//! `expand` and negations constrain nothing. A rule with no necessary literal is always
//! evaluated.
//!
//! Non-ASCII literals constrain nothing: Unicode lower-casing is not a per-character map
//! (the Kelvin sign lower-cases to ASCII `k`), so only ASCII needles are trusted; a haystack
//! with non-ASCII text is lower-cased with the same full Unicode rules rsigma uses.

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

/// A needle: a lower-case ASCII literal and where it must occur.
pub type Needle = (Scope, String);

/// Needles shorter than this are not worth scanning for (they occur almost everywhere).
pub const MIN_NEEDLE: usize = 4;

fn score(set: &[Needle]) -> (usize, std::cmp::Reverse<usize>) {
    let min = set.iter().map(|(_, n)| n.len()).min().unwrap_or(0);
    (min.min(8), std::cmp::Reverse(set.len()))
}

fn best(options: impl IntoIterator<Item = Option<Vec<Needle>>>) -> Option<Vec<Needle>> {
    options.into_iter().flatten().max_by_key(|s| score(s))
}

fn union(options: impl IntoIterator<Item = Option<Vec<Needle>>>) -> Option<Vec<Needle>> {
    let mut out = Vec::new();
    for o in options {
        out.extend(o?);
    }
    if out.is_empty() {
        return None;
    }
    out.sort();
    out.dedup();
    Some(out)
}

fn literal(value: &str, scope: &Scope) -> Option<Vec<Needle>> {
    if value.len() < MIN_NEEDLE || !value.is_ascii() {
        return None;
    }
    Some(vec![(scope.clone(), value.to_ascii_lowercase())])
}

/// The literals one of which a string must contain for `m` to match it.
pub fn matcher_needles(m: &CompiledMatcher, scope: &Scope) -> Option<Vec<Needle>> {
    match m {
        CompiledMatcher::Exact { value, .. }
        | CompiledMatcher::Contains { value, .. }
        | CompiledMatcher::StartsWith { value, .. }
        | CompiledMatcher::EndsWith { value, .. } => literal(value, scope),
        CompiledMatcher::AhoCorasickSet { needles, .. } => {
            union(needles.iter().map(|n| literal(n, scope)))
        }
        CompiledMatcher::AnyOf(ms) => union(ms.iter().map(|m| matcher_needles(m, scope))),
        CompiledMatcher::AllOf(ms) => best(ms.iter().map(|m| matcher_needles(m, scope))),
        CompiledMatcher::CaseInsensitiveGroup { children, mode } => match mode {
            rsigma_eval::matcher::GroupMode::Any => {
                union(children.iter().map(|m| matcher_needles(m, scope)))
            }
            rsigma_eval::matcher::GroupMode::All => {
                best(children.iter().map(|m| matcher_needles(m, scope)))
            }
        },
        _ => None,
    }
}

fn detection_needles(d: &CompiledDetection) -> Option<Vec<Needle>> {
    match d {
        CompiledDetection::AllOf(items) => best(items.iter().map(|item| {
            if item.exists.is_some() {
                return None;
            }
            let scope = match &item.field {
                Some(f) => Scope::Field(f.clone()),
                None => Scope::Keyword,
            };
            matcher_needles(&item.matcher, &scope)
        })),
        CompiledDetection::AnyOf(ds) => union(ds.iter().map(detection_needles)),
        CompiledDetection::And(ds) => best(ds.iter().map(detection_needles)),
        CompiledDetection::Keywords(m) => matcher_needles(m, &Scope::Keyword),
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
) -> Option<Vec<Needle>> {
    match c {
        ConditionExpr::Identifier(name) => detection_needles(dets.get(name)?),
        ConditionExpr::And(cs) => best(cs.iter().map(|c| condition_needles(c, dets))),
        ConditionExpr::Or(cs) => union(cs.iter().map(|c| condition_needles(c, dets))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Selector { quantifier, pattern } => {
            let names: Vec<&String> = dets
                .keys()
                .filter(|k| match pattern {
                    SelectorPattern::Them => !k.starts_with('_'),
                    SelectorPattern::Pattern(p) => glob(p, k),
                })
                .collect();
            if names.is_empty() {
                return None;
            }
            let sets = names.iter().map(|n| detection_needles(&dets[n.as_str()]));
            match quantifier {
                Quantifier::All => best(sets),
                Quantifier::Any | Quantifier::Count(1) => union(sets),
                // `N of` (N ≥ 2): any N−1 may be absent, so the union still holds when N ≥ 1.
                Quantifier::Count(n) if *n >= 1 => union(sets),
                Quantifier::Count(_) => None,
            }
        }
    }
}

/// The rule's necessary needles, or `None` when it must always be evaluated.
pub fn rule_needles(rule: &CompiledRule) -> Option<Vec<Needle>> {
    union(rule.conditions.iter().map(|c| condition_needles(c, &rule.detections)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(yaml: &str) -> CompiledRule {
        let c = rsigma_parser::parse_sigma_yaml(yaml).unwrap();
        rsigma_eval::compile_rule(&c.rules[0]).unwrap()
    }

    const HEAD: &str = "title: t\nlogsource:\n  product: windows\n  category: process_creation\n";

    #[test]
    fn and_picks_the_most_selective_and_or_unions() {
        let r = compile(&format!(
            "{HEAD}detection:\n  a:\n    Image|endswith: '\\\\cmd.exe'\n    CommandLine|contains: 'x'\n  b:\n    CommandLine|contains|all:\n      - 'whoami'\n      - '/all'\n  condition: a or b\n"
        ));
        let n = rule_needles(&r).unwrap();
        let lits: Vec<&str> = n.iter().map(|(_, s)| s.as_str()).collect();
        assert!(lits.contains(&"\\cmd.exe"), "{n:?}");
        assert!(lits.contains(&"whoami"), "{n:?}");
        assert_eq!(lits.len(), 2, "{n:?}");
    }

    #[test]
    fn negation_and_regex_constrain_nothing() {
        let r = compile(&format!(
            "{HEAD}detection:\n  a:\n    CommandLine|re: 'who.mi'\n  f:\n    Image|endswith: 'x.exe'\n  condition: a and not f\n"
        ));
        assert_eq!(rule_needles(&r), None);
        let r = compile(&format!(
            "{HEAD}detection:\n  a:\n    CommandLine|re: 'who.mi'\n  b:\n    Image|endswith: 'calc.exe'\n  condition: a and b\n"
        ));
        assert_eq!(rule_needles(&r).unwrap().len(), 1);
    }

    #[test]
    fn selectors_and_keywords() {
        let r = compile(&format!(
            "{HEAD}detection:\n  sel_a:\n    CommandLine|contains: 'mimikatz'\n  sel_b:\n    - 'sekurlsa'\n  condition: 1 of sel_*\n"
        ));
        let n = rule_needles(&r).unwrap();
        assert!(n.contains(&(Scope::Keyword, "sekurlsa".into())), "{n:?}");
        assert!(n.contains(&(Scope::Field("CommandLine".into()), "mimikatz".into())), "{n:?}");
        assert!(glob("sel_*", "sel_a") && !glob("sel_*", "filter") && glob("*_x*", "a_xb"));
    }
}
