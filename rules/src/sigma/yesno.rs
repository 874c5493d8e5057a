//! Regular expressions cut to what a yes/no search needs.
//!
//! Detection asks a rule's regex only whether it occurs somewhere in a value (unanchored
//! `is_match`), never where or how long. For that question a pattern's ends often say more
//! than they need: in `-k\s\w{1,64}(?:\s?(?:-p|-s))?` (SigmaHQ's "Uncommon Svchost Command
//! Line Parameter") the value holds a match exactly when it holds `-k\s\w`. The long form is
//! not only longer: 64 copies of Unicode's `\w` make an automaton the regex crate's lazy DFA
//! gives up on, and it falls back to an engine a hundred times slower (2.5 µs against 20 ns
//! a command line here; that one rule was a tenth of the attack samples' evaluation time).
//!
//! The cuts, each keeping "occurs somewhere" unchanged in both directions:
//! - a last (or, the search being unanchored at the start, first) element of a concatenation
//!   that can match the empty string with no assertion (`X?`, `X*`, `X{0,n}`) is dropped: a
//!   match of the rest is a match of the whole with that element empty, and a match of the
//!   whole holds a match of the rest;
//! - a last (or first) repetition `X{m,n}` with `m ≥ 1` keeps `m` copies, and when `m` is 1
//!   the copy is cut again as a last (or first) element;
//! - a capture group is its contents; each branch of a last (or first) alternation is cut.
//!
//! Anything else (anchors, word boundaries, literals, classes) ends the cutting.

use regex_syntax::hir::{Hir, HirKind, Repetition};

/// The expression to ask whether `pattern` occurs, when cutting changes it (`None`: the
/// pattern is as short as it gets, or does not parse as the regex crate parses it). It is
/// compiled from its syntax tree: written out, a Unicode class is every range it holds.
pub fn for_match(pattern: &str) -> Option<Hir> {
    let hir = parse(pattern)?;
    let cut = cut_ends(&hir);
    (cut != hir).then_some(cut)
}

/// `pattern` as the regex crate parses it by default (rsigma writes its flags into it).
fn parse(pattern: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new().build().parse(pattern).ok()
}

/// `hir` cut at both ends.
fn cut_ends(hir: &Hir) -> Hir {
    cut(cut(hir.clone(), End::Last), End::First)
}

/// A regex asked only whether it occurs: the regex crate's own, or one compiled from the cut
/// expression ([`for_match`]).
#[derive(Clone, Debug)]
pub enum YesNo {
    Plain(regex::Regex),
    Cut(regex_automata::meta::Regex),
}

impl YesNo {
    /// `re`, cut when that changes it.
    pub fn new(re: &regex::Regex) -> YesNo {
        for_match(re.as_str())
            .and_then(|h| regex_automata::meta::Regex::builder().build_from_hir(&h).ok())
            .map_or_else(|| YesNo::Plain(re.clone()), YesNo::Cut)
    }

    #[inline]
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            YesNo::Plain(re) => re.is_match(s),
            YesNo::Cut(re) => re.is_match(s),
        }
    }
}

/// A regex set asked whether any (or all) of its patterns occur, each pattern cut
/// ([`for_match`]) when that changes one.
#[derive(Clone, Debug)]
pub enum YesNoSet {
    Plain(regex::RegexSet),
    Cut(regex_automata::meta::Regex),
}

impl YesNoSet {
    pub fn new(set: &regex::RegexSet) -> YesNoSet {
        let parsed: Option<Vec<Hir>> = set.patterns().iter().map(|p| parse(p)).collect();
        let Some(parsed) = parsed else { return YesNoSet::Plain(set.clone()) };
        let cut: Vec<Hir> = parsed.iter().map(cut_ends).collect();
        if cut == parsed {
            return YesNoSet::Plain(set.clone());
        }
        // As `RegexSet` is built: every pattern that matches is reported.
        let config =
            regex_automata::meta::Regex::config().match_kind(regex_automata::MatchKind::All);
        regex_automata::meta::Regex::builder()
            .configure(config)
            .build_many_from_hir(&cut)
            .map_or_else(|_| YesNoSet::Plain(set.clone()), YesNoSet::Cut)
    }

    /// Whether any pattern occurs in `s` (`all`: every one).
    pub fn matches(&self, all: bool, s: &str) -> bool {
        match self {
            YesNoSet::Plain(set) if all => set.matches(s).iter().count() == set.len(),
            YesNoSet::Plain(set) => set.is_match(s),
            YesNoSet::Cut(re) if all => {
                let mut found = regex_automata::PatternSet::new(re.pattern_len());
                re.which_overlapping_matches(&regex_automata::Input::new(s), &mut found);
                found.is_full()
            }
            YesNoSet::Cut(re) => re.is_match(s),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum End {
    First,
    Last,
}

/// Whether `h` can match the empty string without any assertion deciding it.
fn plainly_empty(h: &Hir) -> bool {
    h.properties().minimum_len() == Some(0) && h.properties().look_set().is_empty()
}

/// `h` cut at its `end`.
fn cut(h: Hir, end: End) -> Hir {
    match h.kind() {
        HirKind::Concat(parts) => {
            let mut parts = parts.clone();
            if end == End::First {
                parts.reverse();
            }
            // `parts` now ends where the cut goes.
            while parts.last().is_some_and(plainly_empty) {
                parts.pop();
            }
            if let Some(last) = parts.pop() {
                parts.push(cut(last, end));
            }
            if end == End::First {
                parts.reverse();
            }
            Hir::concat(parts)
        }
        HirKind::Repetition(rep) if rep.min == 1 => cut((*rep.sub).clone(), end),
        HirKind::Repetition(rep) if rep.min > 1 => {
            Hir::repetition(Repetition { max: Some(rep.min), ..rep.clone() })
        }
        HirKind::Capture(c) => cut((*c.sub).clone(), end),
        HirKind::Alternation(alts) => {
            Hir::alternation(alts.iter().map(|a| cut(a.clone(), end)).collect())
        }
        _ => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_that_decide_nothing_are_cut() {
        let cut = |p: &str| for_match(p);
        let hir = |p: &str| regex_syntax::ParserBuilder::new().build().parse(p).ok();
        assert_eq!(cut(r"-k\s\w{1,64}(?:\s?(?:-p|-s))?"), hir(r"-k\s\w"));
        // Leading repetitions and optional parts, in an unanchored search.
        assert_eq!(cut(r".*foo"), hir("foo"));
        assert_eq!(cut(r"(?:ab)?x{3,}y+"), hir("x{3}y"));
        // An anchor ends the cutting at its side.
        assert_eq!(cut(r"^abc$"), None);
        assert_eq!(cut(r"^ab{2,9}"), hir("^ab{2}"));
        // A trailing word boundary is an assertion: kept, and so is the repetition before it.
        assert_eq!(cut(r"ab+\b"), None);
        // An optional part holding an assertion may decide the match: kept.
        assert_eq!(cut(r"ab(?:\b)?"), None);
        assert_eq!(cut(r"abc"), None);
    }

    /// The cut pattern and the original agree on every value: the SigmaHQ-like patterns
    /// below against values built from their own pieces and noise.
    #[test]
    fn cut_patterns_answer_as_the_originals_do() {
        let patterns = [
            r"-k\s\w{1,64}(?:\s?(?:-p|-s))?",
            r"(?i)\\[a-z]{1,8}\.exe\s+(?:-|/)[a-z]+",
            r"https?://[0-9]{1,3}\.[0-9]{1,3}\.0[0-9]{3,4}",
            r" [0-7]{7,13}",
            r"(?:0[0-9]{1,11}\.){3}0[0-9]{1,11}",
            r"[A-Za-z0-9+/]{20,}={0,2}",
            r"^.{0,3}cmd(?:\.exe)?$",
            r"\bnet\s+user\b.*",
            r"a{2,5}b*|c?d{1,3}",
            r"(x|y{3,})+z?",
        ];
        let pieces = [
            "-k",
            " ",
            "\t",
            "netsvcs",
            "-p",
            "-s",
            "\\cmd.exe",
            " /c",
            "-enc",
            "http://",
            "https://",
            "81.4.",
            "031754",
            "http://81.4.0317",
            "0121.04.0174.012",
            "0121.",
            "01234567",
            "abcd",
            "==",
            "=",
            "aaa",
            "b",
            "c",
            "dd",
            "x",
            "yyy",
            "z",
            "net user",
            "é",
            "ü",
            "\\",
            ".",
            "9",
        ];
        let mut next = crate::sigma::testing::draws(0x2545_f491_4f6c_dd1du64);
        let set = regex::RegexSet::new(patterns).unwrap();
        let cut_set = YesNoSet::new(&set);
        assert!(matches!(cut_set, YesNoSet::Cut(_)));
        let pairs = regex::RegexSet::new(&patterns[..2]).unwrap();
        let cut_pairs = YesNoSet::new(&pairs);
        for p in patterns {
            let original = regex::Regex::new(p).unwrap();
            let cut = YesNo::new(&original);
            let mut answers = [0; 2];
            for _ in 0..4000 {
                let value: String = (0..next(8)).map(|_| pieces[next(pieces.len())]).collect();
                let yes = original.is_match(&value);
                answers[usize::from(yes)] += 1;
                assert_eq!(yes, cut.is_match(&value), "{p} against {value:?}");
                assert_eq!(set.is_match(&value), cut_set.matches(false, &value), "{value:?}");
                let all = pairs.matches(&value).iter().count() == 2;
                assert_eq!(all, cut_pairs.matches(true, &value), "{value:?}");
            }
            assert!(answers[0] > 0 && answers[1] > 0, "{p}: values all answered alike");
        }
    }
}
