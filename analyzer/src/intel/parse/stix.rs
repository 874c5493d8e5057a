//! STIX 2.x: bundles of `indicator` objects with STIX patterns, and cyber-observable objects.
//!
//! Accepted documents: a bundle (`{"type": "bundle", "objects": [...]}`), a TAXII 2.1
//! envelope (`{"objects": [...]}`), a JSON array of objects, or one object.
//!
//! # Indicators
//!
//! An `indicator` with `pattern_type: "stix"` (or none, as in STIX 2.0) gives one IOC per value
//! its pattern compares. What Sen matches is a disjunction of equality tests on one property:
//!
//! | pattern property | IOC |
//! |---|---|
//! | `ipv4-addr:value`, `ipv6-addr:value` | IP, or CIDR when the value is a block |
//! | `domain-name:value` | domain |
//! | `url:value` | URL |
//! | `file:hashes.MD5` / `'SHA-1'` / `'SHA-256'` (any case, `SHA1`, `SHA256` too) | hash |
//! | `network-traffic:dst_ref.value`, `src_ref.value` | IP or domain, by the value |
//!
//! with `=`, `IN ('a', 'b')`, and `ISSUBSET` on an address (`[ipv4-addr:value ISSUBSET
//! '198.51.100.0/24']`, a CIDR). Comparisons may be joined by `OR`, inside one observation
//! (`[a = 'x' OR b = 'y']`) or between observations (`[a = 'x'] OR [b = 'y']`), and
//! parenthesized. `AND` inside one observation is accepted only between hashes of the file
//! (`[file:hashes.MD5 = 'x' AND file:hashes.'SHA-256' = 'y']`: each hash identifies the file,
//! so each is an IOC).
//!
//! Everything else is reported as [`IssueKind::Unsupported`] with the indicator id, never
//! silently dropped: `AND` or `FOLLOWEDBY` between observations, `AND` between other
//! comparisons, `NOT`, the operators `!=`, `<`, `>`, `LIKE`, `MATCHES`, `ISSUPERSET`, the
//! qualifiers `WITHIN`, `REPEATS`, `START … STOP`, other object paths, other hash algorithms
//! and other pattern languages (`pattern_type: snort`, `yara`, `sigma` …). In an `OR`, the
//! branches Sen can match are loaded and the others are listed, which keeps the indicator's
//! meaning (any branch matching is a match). Syntax errors are [`IssueKind::Invalid`] with the
//! column in the pattern.
//!
//! `revoked` indicators and those whose `valid_until` is not after `now` are skipped and
//! counted. `name`, `description`, `confidence`, `labels` (and `indicator_types`) and
//! `valid_until` are kept.
//!
//! # Observables
//!
//! With [`ParseOptions::observables`], the objects `ipv4-addr`, `ipv6-addr`, `domain-name`,
//! `url` (their `value`) and `file` (its `hashes`) found directly in the document are IOCs too,
//! with the object's id as source id.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::{IssueKind, ParseError, ParseOptions, Parsed, confidence, json_str};
use crate::intel::ioc::{Ioc, IocKind, IocValue, clip};

/// Parse a STIX document.
pub fn parse(text: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| ParseError::json(&e))?;
    let objects = match doc {
        Json::Array(items) => items,
        Json::Object(mut map) => match map.remove("objects") {
            Some(Json::Array(items)) => items,
            Some(_) => return Err(ParseError::document("`objects` is not an array")),
            // An envelope or bundle without objects is empty, not wrong.
            None if matches!(map.get("type").and_then(Json::as_str), Some("bundle"))
                || map.contains_key("more") =>
            {
                Vec::new()
            }
            None if map.get("type").is_some_and(Json::is_string) => vec![Json::Object(map)],
            None => {
                return Err(ParseError::document(
                    "not a STIX bundle (expected an object with `type: bundle` and `objects`, \
                     an array of objects, or one STIX object)",
                ));
            }
        },
        _ => return Err(ParseError::document("not a STIX bundle (expected a JSON object)")),
    };
    let mut out = Parsed::default();
    for (i, obj) in objects.iter().enumerate() {
        let Some(ty) = json_str(obj, "type") else {
            out.stats.entries += 1;
            out.issue(IssueKind::Invalid, format!("objects[{i}]"), "object has no `type`".into());
            continue;
        };
        let id = json_str(obj, "id");
        let location = match id {
            Some(id) => format!("objects[{i}] {}", clip(id)),
            None => format!("objects[{i}]"),
        };
        match ty {
            "indicator" => {
                out.stats.entries += 1;
                indicator(obj, id.unwrap_or(&location), &location, opts, &mut out);
            }
            "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "file" if opts.observables => {
                out.stats.entries += 1;
                observable(obj, ty, id.unwrap_or(&location), &location, opts, &mut out);
            }
            other => out.ignore(other),
        }
    }
    Ok(out)
}

fn timestamp(obj: &Json, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| format!("`{key}` `{}` is not an RFC 3339 time", clip(s))),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

fn indicator(obj: &Json, id: &str, location: &str, opts: &ParseOptions, out: &mut Parsed) {
    if obj.get("revoked").and_then(Json::as_bool) == Some(true) {
        out.stats.revoked += 1;
        return;
    }
    let valid_until = match timestamp(obj, "valid_until") {
        Ok(t) => t,
        Err(e) => return out.issue(IssueKind::Invalid, location.into(), e),
    };
    if valid_until.is_some_and(|t| t <= opts.now) {
        out.stats.expired += 1;
        return;
    }
    if let Some(pt) = json_str(obj, "pattern_type")
        && !pt.eq_ignore_ascii_case("stix")
    {
        return out.issue(
            IssueKind::Unsupported,
            location.into(),
            format!("pattern_type `{}`: Sen matches STIX patterns only", clip(pt)),
        );
    }
    let Some(pattern) = json_str(obj, "pattern") else {
        return out.issue(IssueKind::Invalid, location.into(), "indicator has no `pattern`".into());
    };
    let confidence = match confidence(obj.get("confidence")) {
        Ok(c) => c,
        Err(e) => return out.issue(IssueKind::Invalid, location.into(), e),
    };
    let ast = match parse_pattern(pattern) {
        Ok(ast) => ast,
        Err(e) => {
            return out.issue(
                IssueKind::Invalid,
                location.into(),
                format!("pattern `{}`: {e}", clip(pattern)),
            );
        }
    };
    let mut values = Vec::new();
    let mut problems = Vec::new();
    extract_obs(&ast, &mut values, &mut problems);
    for (kind, msg) in problems {
        out.issue(kind, location.into(), format!("pattern `{}`: {msg}", clip(pattern)));
    }
    let mut labels: Vec<String> = Vec::new();
    for key in ["labels", "indicator_types"] {
        if let Some(Json::Array(items)) = obj.get(key) {
            for l in items.iter().filter_map(Json::as_str) {
                if !labels.iter().any(|x| x == l) {
                    labels.push(l.to_owned());
                }
            }
        }
    }
    for value in values {
        out.push(Ioc {
            value,
            feed: opts.feed.clone(),
            source_id: id.to_owned(),
            name: json_str(obj, "name").map(str::to_owned),
            description: json_str(obj, "description").map(str::to_owned),
            confidence,
            labels: labels.clone(),
            valid_until,
        });
    }
}

fn observable(
    obj: &Json,
    ty: &str,
    id: &str,
    location: &str,
    opts: &ParseOptions,
    out: &mut Parsed,
) {
    let mut values = Vec::new();
    if ty == "file" {
        let Some(Json::Object(hashes)) = obj.get("hashes") else {
            // A file known by name or size only is not something Sen can match.
            out.ignore("file (no hashes)");
            return;
        };
        for (algo, h) in hashes {
            let Some(h) = h.as_str() else {
                out.issue(
                    IssueKind::Invalid,
                    location.into(),
                    format!("hash `{algo}` is not text"),
                );
                continue;
            };
            match hash_kind(algo) {
                Some(kind) => match IocValue::parse(kind, h) {
                    Ok(v) => values.push(v),
                    Err(e) => out.issue(IssueKind::Invalid, location.into(), e),
                },
                None => out.ignore(&format!("file hash {algo}")),
            }
        }
    } else {
        let Some(text) = json_str(obj, "value") else {
            return out.issue(
                IssueKind::Invalid,
                location.into(),
                format!("`{ty}` has no `value`"),
            );
        };
        let parsed = match ty {
            "ipv4-addr" | "ipv6-addr" => IocValue::parse(IocKind::Ip, text),
            "domain-name" => IocValue::parse(IocKind::Domain, text),
            _ => IocValue::parse(IocKind::Url, text),
        };
        match parsed {
            Ok(v) => values.push(v),
            Err(e) => return out.issue(IssueKind::Invalid, location.into(), e),
        }
    }
    for value in values {
        out.push(Ioc::new(value, opts.feed.clone(), id));
    }
}

/// The hash kind of a STIX hash algorithm name (`MD5`, `SHA-1`, `SHA-256`; case and the dash
/// are not significant).
fn hash_kind(algo: &str) -> Option<IocKind> {
    let a: String =
        algo.chars().filter(|c| *c != '-' && *c != '_').map(|c| c.to_ascii_lowercase()).collect();
    match a.as_str() {
        "md5" => Some(IocKind::Md5),
        "sha1" => Some(IocKind::Sha1),
        "sha256" => Some(IocKind::Sha256),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The pattern language (STIX 2.1 part 9): lexer, recursive-descent parser, extraction.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Op(&'static str),
    /// A keyword or bare word (`AND`, `WITHIN`, a number, `true`).
    Word(String),
    /// A quoted string.
    Str(String),
    /// A typed literal: `t'…'`, `h'…'`, `b'…'`.
    Typed(char, String),
    /// An object path: type and components (`file`, [`hashes`, `SHA-256`]).
    Path(String, Vec<String>),
}

/// A pattern syntax error with its 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PatternError {
    column: usize,
    message: String,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

fn perr<T>(pos: usize, msg: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError { column: pos + 1, message: msg.into() })
}

fn quoted(s: &str, start: usize) -> Result<(String, usize), PatternError> {
    // `start` is the index of the opening quote; returns the text and the index after it.
    let mut out = String::new();
    let mut chars = s[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('\'' | '\\'))) => out.push(e),
                Some((_, e)) => {
                    return perr(start + 1 + i, format!("unknown escape `\\{e}` in a string"));
                }
                None => break,
            },
            '\'' => return Ok((out, start + 1 + i + 1)),
            c => out.push(c),
        }
    }
    perr(start, "unterminated string")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, PatternError> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let single = match c {
            b'[' => Some(Tok::LBracket),
            b']' => Some(Tok::RBracket),
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(t) = single {
            out.push((i, t));
            i += 1;
            continue;
        }
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'=' => {
                out.push((i, Tok::Op("=")));
                i += 1;
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                out.push((i, Tok::Op("!=")));
                i += 2;
            }
            b'<' | b'>' => {
                let eq = b.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'<', true) => "<=",
                    (b'<', false) => "<",
                    (_, true) => ">=",
                    _ => ">",
                };
                out.push((i, Tok::Op(op)));
                i += if eq { 2 } else { 1 };
            }
            b'\'' => {
                let (text, next) = quoted(s, i)?;
                out.push((i, Tok::Str(text)));
                i = next;
            }
            b't' | b'h' | b'b' if b.get(i + 1) == Some(&b'\'') => {
                let (text, next) = quoted(s, i + 1)?;
                out.push((i, Tok::Typed(c as char, text)));
                i = next;
            }
            _ if (c as char).is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' => {
                let start = i;
                while i < b.len() && (is_ident(b[i] as char) || b[i] == b'.') {
                    i += 1;
                }
                let word = &s[start..i];
                if b.get(i) == Some(&b':') {
                    // An object path: `type:prop(.prop | .'quoted' | [index])*`.
                    i += 1;
                    let mut comps = Vec::new();
                    let mut need = true;
                    loop {
                        match b.get(i) {
                            Some(b'\'') if need => {
                                let (text, next) = quoted(s, i)?;
                                comps.push(text);
                                i = next;
                                need = false;
                            }
                            Some(ch) if need && is_ident(*ch as char) => {
                                let st = i;
                                while i < b.len() && is_ident(b[i] as char) {
                                    i += 1;
                                }
                                comps.push(s[st..i].to_owned());
                                need = false;
                            }
                            Some(b'.') if !need => {
                                i += 1;
                                need = true;
                            }
                            Some(b'[') if !need => {
                                let close = s[i..].find(']').map(|k| i + k).ok_or_else(|| {
                                    PatternError {
                                        column: i + 1,
                                        message: "unclosed `[` in an object path".into(),
                                    }
                                })?;
                                comps.push(s[i..=close].to_owned());
                                i = close + 1;
                            }
                            _ if need => return perr(i, "expected a property name after `:`/`.`"),
                            _ => break,
                        }
                    }
                    out.push((start, Tok::Path(word.to_owned(), comps)));
                } else {
                    out.push((start, Tok::Word(word.to_owned())));
                }
            }
            _ => {
                let ch = s[i..].chars().next().unwrap_or('?');
                return perr(i, format!("unexpected `{ch}`"));
            }
        }
    }
    Ok(out)
}

/// An observation expression.
#[derive(Debug, Clone, PartialEq)]
enum Obs {
    Or(Vec<Obs>),
    And(Vec<Obs>),
    FollowedBy(Vec<Obs>),
    Qualified(Box<Obs>, String),
    Atom(Comp),
}

/// A comparison expression (inside `[...]`).
#[derive(Debug, Clone, PartialEq)]
enum Comp {
    Or(Vec<Comp>),
    And(Vec<Comp>),
    Cmp { ty: String, path: Vec<String>, negated: bool, op: String, values: Vec<Tok> },
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(_, t)| t)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |(p, _)| *p)
    }
    fn kw(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), PatternError> {
        if self.peek() == Some(&t) {
            self.i += 1;
            Ok(())
        } else {
            perr(self.pos(), format!("expected {what}"))
        }
    }

    fn obs_or(&mut self) -> Result<Obs, PatternError> {
        let mut items = vec![self.obs_and()?];
        while self.kw("OR") {
            self.i += 1;
            items.push(self.obs_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Obs::Or(items) })
    }

    fn obs_and(&mut self) -> Result<Obs, PatternError> {
        let mut items = vec![self.obs_followed()?];
        while self.kw("AND") {
            self.i += 1;
            items.push(self.obs_followed()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Obs::And(items) })
    }

    fn obs_followed(&mut self) -> Result<Obs, PatternError> {
        let mut items = vec![self.obs_qualified()?];
        while self.kw("FOLLOWEDBY") {
            self.i += 1;
            items.push(self.obs_qualified()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Obs::FollowedBy(items) })
    }

    fn obs_qualified(&mut self) -> Result<Obs, PatternError> {
        let mut obs = self.obs_atom()?;
        loop {
            let q = if self.kw("WITHIN") {
                self.i += 1;
                let n = self.number()?;
                if !self.kw("SECONDS") {
                    return perr(self.pos(), "expected `SECONDS` after `WITHIN n`");
                }
                self.i += 1;
                format!("WITHIN {n} SECONDS")
            } else if self.kw("REPEATS") {
                self.i += 1;
                let n = self.number()?;
                if !self.kw("TIMES") {
                    return perr(self.pos(), "expected `TIMES` after `REPEATS n`");
                }
                self.i += 1;
                format!("REPEATS {n} TIMES")
            } else if self.kw("START") {
                self.i += 1;
                let Some(Tok::Typed('t', a)) = self.peek().cloned() else {
                    return perr(self.pos(), "expected a t'…' timestamp after `START`");
                };
                self.i += 1;
                if !self.kw("STOP") {
                    return perr(self.pos(), "expected `STOP`");
                }
                self.i += 1;
                let Some(Tok::Typed('t', b)) = self.peek().cloned() else {
                    return perr(self.pos(), "expected a t'…' timestamp after `STOP`");
                };
                self.i += 1;
                format!("START t'{a}' STOP t'{b}'")
            } else {
                break;
            };
            obs = Obs::Qualified(Box::new(obs), q);
        }
        Ok(obs)
    }

    fn number(&mut self) -> Result<String, PatternError> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) if w.parse::<f64>().is_ok() => {
                self.i += 1;
                Ok(w)
            }
            _ => perr(self.pos(), "expected a number"),
        }
    }

    fn obs_atom(&mut self) -> Result<Obs, PatternError> {
        match self.peek() {
            Some(Tok::LBracket) => {
                self.i += 1;
                let c = self.comp_or()?;
                self.expect(Tok::RBracket, "`]` closing the observation")?;
                Ok(Obs::Atom(c))
            }
            Some(Tok::LParen) => {
                self.i += 1;
                let o = self.obs_or()?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(o)
            }
            _ => perr(self.pos(), "expected `[` starting an observation"),
        }
    }

    fn comp_or(&mut self) -> Result<Comp, PatternError> {
        let mut items = vec![self.comp_and()?];
        while self.kw("OR") {
            self.i += 1;
            items.push(self.comp_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Comp::Or(items) })
    }

    fn comp_and(&mut self) -> Result<Comp, PatternError> {
        let mut items = vec![self.comp_unit()?];
        while self.kw("AND") {
            self.i += 1;
            items.push(self.comp_unit()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Comp::And(items) })
    }

    fn comp_unit(&mut self) -> Result<Comp, PatternError> {
        if self.peek() == Some(&Tok::LParen) {
            self.i += 1;
            let c = self.comp_or()?;
            self.expect(Tok::RParen, "`)`")?;
            return Ok(c);
        }
        let Some(Tok::Path(ty, path)) = self.peek().cloned() else {
            return perr(self.pos(), "expected an object path like `ipv4-addr:value`");
        };
        self.i += 1;
        let negated = self.kw("NOT");
        if negated {
            self.i += 1;
        }
        let op = match self.peek().cloned() {
            Some(Tok::Op(op)) => op.to_owned(),
            Some(Tok::Word(w))
                if ["IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                w.to_ascii_uppercase()
            }
            _ => return perr(self.pos(), "expected a comparison operator"),
        };
        self.i += 1;
        let values = if op == "IN" {
            self.expect(Tok::LParen, "`(` after `IN`")?;
            let mut vals = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.i += 1;
                vals.push(self.literal()?);
            }
            self.expect(Tok::RParen, "`)` closing the `IN` set")?;
            vals
        } else {
            vec![self.literal()?]
        };
        Ok(Comp::Cmp { ty, path, negated, op, values })
    }

    fn literal(&mut self) -> Result<Tok, PatternError> {
        match self.peek().cloned() {
            Some(t @ (Tok::Str(_) | Tok::Typed(..) | Tok::Word(_))) => {
                self.i += 1;
                Ok(t)
            }
            _ => perr(self.pos(), "expected a value"),
        }
    }
}

fn parse_pattern(p: &str) -> Result<Obs, PatternError> {
    let toks = lex(p)?;
    let mut parser = Parser { toks, i: 0, end: p.len() };
    let obs = parser.obs_or()?;
    if parser.i < parser.toks.len() {
        return perr(parser.pos(), "unexpected text after the pattern");
    }
    Ok(obs)
}

type Problems = Vec<(IssueKind, String)>;

fn extract_obs(o: &Obs, values: &mut Vec<IocValue>, problems: &mut Problems) {
    let unsupported = |problems: &mut Problems, msg: String| {
        problems.push((IssueKind::Unsupported, msg));
    };
    match o {
        Obs::Or(items) => {
            for it in items {
                extract_obs(it, values, problems);
            }
        }
        Obs::And(_) => unsupported(
            problems,
            "`AND` between observations (all must be seen) cannot be matched per event".into(),
        ),
        Obs::FollowedBy(_) => unsupported(
            problems,
            "`FOLLOWEDBY` (a sequence of observations) cannot be matched per event".into(),
        ),
        Obs::Qualified(_, q) => {
            unsupported(problems, format!("the qualifier `{q}` cannot be matched per event"))
        }
        Obs::Atom(c) => extract_comp(c, values, problems),
    }
}

fn extract_comp(c: &Comp, values: &mut Vec<IocValue>, problems: &mut Problems) {
    match c {
        Comp::Or(items) => {
            for it in items {
                extract_comp(it, values, problems);
            }
        }
        Comp::And(items) => {
            let all_hashes = items.iter().all(|it| {
                matches!(it, Comp::Cmp { ty, path, negated: false, op, .. }
                    if ty == "file" && op == "=" && path.len() == 2 && path[0] == "hashes")
            });
            if all_hashes {
                for it in items {
                    extract_comp(it, values, problems);
                }
            } else {
                problems.push((
                    IssueKind::Unsupported,
                    "`AND` between comparisons (other than hashes of one file) cannot be \
                     expressed as an indicator"
                        .into(),
                ));
            }
        }
        Comp::Cmp { ty, path, negated, op, values: lits } => {
            let shown = format!("{ty}:{}", path.join("."));
            if *negated {
                problems.push((IssueKind::Unsupported, format!("`{shown} NOT {op}`")));
                return;
            }
            let kind = match target(ty, path) {
                Ok(k) => k,
                Err(msg) => {
                    problems.push((IssueKind::Unsupported, msg));
                    return;
                }
            };
            let is_addr = matches!(kind, Target::Addr);
            match op.as_str() {
                "=" | "IN" => {}
                "ISSUBSET" if is_addr => {}
                other => {
                    problems.push((
                        IssueKind::Unsupported,
                        format!("the operator `{other}` on `{shown}`"),
                    ));
                    return;
                }
            }
            for lit in lits {
                let Tok::Str(text) = lit else {
                    problems.push((
                        IssueKind::Invalid,
                        format!("`{shown}` is compared to a non-string value"),
                    ));
                    continue;
                };
                let parsed = match kind {
                    Target::Addr if op == "ISSUBSET" => IocValue::parse(IocKind::Cidr, text),
                    Target::Addr => IocValue::parse(IocKind::Ip, text),
                    Target::Host => IocValue::parse_host(text),
                    Target::Kind(k) => IocValue::parse(k, text),
                };
                match parsed {
                    Ok(v) => values.push(v),
                    Err(e) => problems.push((IssueKind::Invalid, e)),
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    /// An address or CIDR.
    Addr,
    /// An address or domain, by the value.
    Host,
    Kind(IocKind),
}

fn target(ty: &str, path: &[String]) -> Result<Target, String> {
    let shown = format!("{ty}:{}", path.join("."));
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match (ty, p.as_slice()) {
        ("ipv4-addr" | "ipv6-addr", ["value"]) => Ok(Target::Addr),
        ("domain-name", ["value"]) => Ok(Target::Kind(IocKind::Domain)),
        ("url", ["value"]) => Ok(Target::Kind(IocKind::Url)),
        ("file", ["hashes", algo]) => hash_kind(algo)
            .map(Target::Kind)
            .ok_or_else(|| format!("`{shown}`: Sen matches MD5, SHA-1 and SHA-256 hashes only")),
        ("network-traffic", ["dst_ref" | "src_ref", "value"]) => Ok(Target::Host),
        _ => Err(format!("the object path `{shown}` has no ECS field Sen matches")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Level;
    use crate::intel::ioc::FeedInfo;

    fn opts() -> ParseOptions {
        let now = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z").unwrap().with_timezone(&Utc);
        ParseOptions::new(FeedInfo::new("test", Level::High), now)
    }

    fn values(pattern: &str) -> (Vec<String>, Problems) {
        let ast = parse_pattern(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let mut v = Vec::new();
        let mut p = Vec::new();
        extract_obs(&ast, &mut v, &mut p);
        (v.iter().map(|x| format!("{}:{x}", x.kind())).collect(), p)
    }

    #[test]
    fn supported_patterns() {
        let (v, p) = values("[ipv4-addr:value = '198.51.100.7']");
        assert_eq!(v, ["ip:198.51.100.7"]);
        assert!(p.is_empty());
        let (v, _) = values("[ipv4-addr:value = '198.51.100.0/24']");
        assert_eq!(v, ["cidr:198.51.100.0/24"]);
        let (v, _) = values("[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
        assert_eq!(v, ["cidr:10.0.0.0/8"]);
        let (v, _) = values("[ipv6-addr:value = '2001:DB8::1']");
        assert_eq!(v, ["ip:2001:db8::1"]);
        let (v, _) = values(
            "[domain-name:value = 'Evil.Example'] OR [url:value = 'http://evil.example/a'] OR \
             ([file:hashes.'SHA-256' = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'])",
        );
        assert_eq!(
            v,
            [
                "domain:evil.example",
                "url:http://evil.example/a",
                &format!("sha256:{}", "a".repeat(64))
            ]
        );
        let (v, _) = values(
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:hashes.'SHA-1' = \
             'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
        );
        assert_eq!(v.len(), 2);
        let (v, _) = values(
            "[file:hashes.sha256 = '0000000000000000000000000000000000000000000000000000000000000000' AND file:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        );
        assert_eq!(v.len(), 2, "AND between hashes of one file");
        let (v, _) = values("[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]");
        assert_eq!(v, ["ip:192.0.2.1", "ip:192.0.2.2"]);
        let (v, _) = values("[network-traffic:dst_ref.value = 'c2.example']");
        assert_eq!(v, ["domain:c2.example"]);
        let (v, _) = values(r"[url:value = 'http://evil.example/it\'s']");
        assert_eq!(v, ["url:http://evil.example/it's"]);
    }

    #[test]
    fn unsupported_patterns_are_reported() {
        for (p, needle) in [
            ("[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'a.example']", "AND"),
            ("[ipv4-addr:value = '192.0.2.1' AND network-traffic:dst_port = 443]", "AND"),
            ("[url:value MATCHES '^http://evil']", "MATCHES"),
            ("[ipv4-addr:value = '192.0.2.1'] WITHIN 300 SECONDS", "WITHIN"),
            ("[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES", "REPEATS"),
            (
                "[ipv4-addr:value = '192.0.2.1'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
                "START",
            ),
            ("[a:value = '1'] FOLLOWEDBY [b:value = '2']", "FOLLOWEDBY"),
            ("[ipv4-addr:value != '192.0.2.1']", "!="),
            ("[ipv4-addr:value NOT = '192.0.2.1']", "NOT"),
            ("[email-addr:value = 'x@example.org']", "email-addr:value"),
            ("[file:hashes.'SHA-512' = 'ab']", "SHA-512"),
            ("[file:name = 'evil.exe']", "file:name"),
        ] {
            let (v, problems) = values(p);
            assert!(v.is_empty(), "{p}: {v:?}");
            assert_eq!(problems.len(), 1, "{p}: {problems:?}");
            assert_eq!(problems[0].0, IssueKind::Unsupported, "{p}");
            assert!(problems[0].1.contains(needle), "{p}: {}", problems[0].1);
        }
        // In an OR, the branches Sen can match are kept.
        let (v, problems) =
            values("[ipv4-addr:value = '192.0.2.1'] OR [email-addr:value = 'x@example.org']");
        assert_eq!(v, ["ip:192.0.2.1"]);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn syntax_errors_have_columns() {
        for (p, col) in [
            ("[ipv4-addr:value = '1.2.3.4'", 29),
            ("[ipv4-addr:value = '1.2.3.4]", 20),
            ("ipv4-addr:value = '1.2.3.4'", 1),
            ("[ipv4-addr:value '1.2.3.4']", 18),
            ("[ipv4-addr:value = '1'] OR", 27),
            ("[ipv4-addr: = '1']", 12),
            ("[x:y = 'a'] ?", 13),
        ] {
            let e = parse_pattern(p).unwrap_err();
            assert_eq!(e.column, col, "{p}: {e}");
        }
    }

    #[test]
    fn bundle_with_good_bad_expired_and_unsupported() {
        let doc = serde_json::json!({
            "type": "bundle", "id": "bundle--1", "objects": [
                {"type": "identity", "id": "identity--1", "name": "CERT"},
                {"type": "indicator", "id": "indicator--good", "name": "C2", "description": "c2 server",
                 "confidence": 85, "labels": ["malicious-activity"], "indicator_types": ["malicious-activity", "c2"],
                 "pattern_type": "stix", "pattern": "[ipv4-addr:value = '198.51.100.7']",
                 "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2026-02-01T00:00:00Z"},
                {"type": "indicator", "id": "indicator--expired", "pattern_type": "stix",
                 "pattern": "[ipv4-addr:value = '198.51.100.8']", "valid_until": "2026-01-01T00:00:00Z"},
                {"type": "indicator", "id": "indicator--revoked", "revoked": true, "pattern_type": "stix",
                 "pattern": "[ipv4-addr:value = '198.51.100.9']"},
                {"type": "indicator", "id": "indicator--and", "pattern_type": "stix",
                 "pattern": "[ipv4-addr:value = '198.51.100.10'] AND [domain-name:value = 'x.example']"},
                {"type": "indicator", "id": "indicator--yara", "pattern_type": "yara", "pattern": "rule x {}"},
                {"type": "indicator", "id": "indicator--bad", "pattern_type": "stix", "pattern": "[ipv4-addr:value = 'nope']"},
                {"type": "indicator", "id": "indicator--syntax", "pattern": "[ipv4-addr:value = "},
                {"type": "domain-name", "id": "domain-name--1", "value": "Bad.Example."},
                {"type": "file", "id": "file--1", "hashes": {"SHA-256": "A".repeat(64), "SSDEEP": "3:a:b"}},
                {"type": "malware", "id": "malware--1", "name": "x"},
                {"id": "no-type"}
            ]
        });
        let out = parse(&doc.to_string(), &opts()).unwrap();
        let got: Vec<_> =
            out.iocs.iter().map(|i| format!("{} {} {}", i.kind(), i.value, i.source_id)).collect();
        assert_eq!(
            got,
            [
                "ip 198.51.100.7 indicator--good",
                "domain bad.example domain-name--1",
                &format!("sha256 {} file--1", "a".repeat(64)),
            ]
        );
        let good = &out.iocs[0];
        assert_eq!(good.name.as_deref(), Some("C2"));
        assert_eq!(good.description.as_deref(), Some("c2 server"));
        assert_eq!(good.confidence, Some(85));
        assert_eq!(good.labels, ["malicious-activity", "c2"]);
        assert!(good.valid_until.is_some());
        let s = &out.stats;
        assert_eq!((s.entries, s.loaded, s.expired, s.revoked), (10, 3, 1, 1));
        assert_eq!((s.invalid, s.unsupported), (3, 2), "{:#?}", out.issues);
        assert_eq!(s.ignored.get("identity"), Some(&1));
        assert_eq!(s.ignored.get("malware"), Some(&1));
        assert_eq!(s.ignored.get("file hash SSDEEP"), Some(&1));
        let find = |id: &str| out.issues.iter().find(|i| i.location.contains(id)).unwrap();
        assert_eq!(find("indicator--and").kind, IssueKind::Unsupported);
        assert!(find("indicator--yara").message.contains("yara"));
        assert!(find("indicator--bad").message.contains("nope"));
        assert!(find("indicator--syntax").message.contains("column"));
        assert_eq!(find("objects[11]").message, "object has no `type`");
    }

    #[test]
    fn documents_that_are_not_bundles() {
        assert!(parse("{", &opts()).unwrap_err().location.starts_with("line 1"));
        assert!(parse("{\"foo\": 1}", &opts()).is_err());
        assert!(parse("42", &opts()).is_err());
        let envelope = r#"{"more": false}"#;
        assert_eq!(parse(envelope, &opts()).unwrap().iocs.len(), 0);
        let one = r#"{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "192.0.2.1"}"#;
        assert_eq!(parse(one, &opts()).unwrap().iocs.len(), 1);
        let mut no_obs = opts();
        no_obs.observables = false;
        assert_eq!(parse(one, &no_obs).unwrap().iocs.len(), 0);
    }
}
