//! The search query language and its translation to Tantivy queries.
//!
//! ```text
//! query   := or
//! or      := and ( "OR" and )*
//! and     := unary ( ["AND"] unary )*          -- juxtaposition means AND
//! unary   := ("NOT" | "-") unary | "(" or ")" | term
//! term    := FIELD ":" value | FIELD ":" cmp value | value
//! value   := "phrase" | [a TO b] | {a TO b} | word     -- word may hold * wildcards
//! cmp     := ">" | ">=" | "<" | "<="
//! ```
//! Fields are ECS dotted paths (`source.ip`, `user.name`, `http.response.status_code`);
//! `_exists_:field` and `field:*` test presence. A bare value searches `message`. IP fields take
//! CIDR blocks (`source.ip:203.0.113.0/24`). Keyword matching is case-insensitive.

use std::net::{IpAddr, Ipv6Addr};
use std::ops::Bound;

use chrono::{DateTime, Utc};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, ExistsQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    RangeQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use super::schema::{self, Fields, Kind};

/// A query syntax or semantic error, with the byte position in the query text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query error at position {pos}: {msg}")]
pub struct QueryError {
    /// Byte offset in the query text.
    pub pos: usize,
    /// What is wrong.
    pub msg: String,
}

/// Parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// Matches everything.
    All,
    /// Both.
    And(Vec<Ast>),
    /// Either.
    Or(Vec<Ast>),
    /// Negation.
    Not(Box<Ast>),
    /// A field (None = default text field) compared to a value.
    Term { field: Option<String>, value: Val, pos: usize },
}

/// A value in a term.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A word (may contain `*` wildcards).
    Word(String),
    /// A quoted phrase.
    Phrase(String),
    /// A range with inclusive/exclusive bounds (`*` = open).
    Range { lo: Option<String>, hi: Option<String>, lo_incl: bool, hi_incl: bool },
    /// Presence test (`field:*` or `_exists_:field`).
    Exists,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Phrase(String),
    LParen,
    RParen,
    Colon,
    Cmp(&'static str),
    LBracket(bool),
    RBracket(bool),
    Minus,
}

fn lex(q: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let bytes = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((i, Tok::LParen));
                i += 1
            }
            b')' => {
                out.push((i, Tok::RParen));
                i += 1
            }
            b':' => {
                out.push((i, Tok::Colon));
                i += 1
            }
            b'[' | b'{' => {
                out.push((i, Tok::LBracket(c == b'[')));
                i += 1
            }
            b']' | b'}' => {
                out.push((i, Tok::RBracket(c == b']')));
                i += 1
            }
            b'>' | b'<' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'>', true) => ">=",
                    (b'>', false) => ">",
                    (_, true) => "<=",
                    _ => "<",
                };
                out.push((i, Tok::Cmp(op)));
                i += if eq { 2 } else { 1 };
            }
            b'-' if out.last().is_none_or(|(_, t)| !matches!(t, Tok::Colon | Tok::Cmp(_))) => {
                out.push((i, Tok::Minus));
                i += 1
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut s = String::new();
                let mut closed = false;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if i + 1 < bytes.len() => {
                            let ch = q[i + 1..].chars().next().unwrap_or('\\');
                            s.push(ch);
                            i += 1 + ch.len_utf8();
                        }
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        _ => {
                            let ch = q[i..].chars().next().unwrap_or(' ');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                if !closed {
                    return Err(QueryError {
                        pos: start,
                        msg: "unterminated quoted phrase".into(),
                    });
                }
                out.push((start, Tok::Phrase(s)));
            }
            _ => {
                let start = i;
                let mut s = String::new();
                while i < bytes.len() {
                    let b = bytes[i];
                    if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'"' | b']' | b'}')
                    {
                        break;
                    }
                    if b == b':' {
                        // `:` splits field and value, but IPv6 literals keep theirs when the
                        // word already looks like an address (hex groups).
                        let is_v6ish = !s.is_empty()
                            && s.chars().all(|ch| ch.is_ascii_hexdigit() || ch == ':')
                            && out.last().is_some_and(|(_, t)| matches!(t, Tok::Colon));
                        if !is_v6ish {
                            break;
                        }
                    }
                    if b == b'\\' && i + 1 < bytes.len() {
                        let ch = q[i + 1..].chars().next().unwrap_or('\\');
                        s.push(ch);
                        i += 1 + ch.len_utf8();
                        continue;
                    }
                    let ch = q[i..].chars().next().unwrap_or(' ');
                    s.push(ch);
                    i += ch.len_utf8();
                }
                out.push((start, Tok::Word(s)));
            }
        }
    }
    Ok(out)
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
        self.toks.get(self.i).map(|(p, _)| *p).unwrap_or(self.end)
    }
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, QueryError> {
        Err(QueryError { pos: self.pos(), msg: msg.into() })
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w == kw)
    }

    fn parse_or(&mut self) -> Result<Ast, QueryError> {
        let mut items = vec![self.parse_and()?];
        while self.is_kw("OR") || matches!(self.peek(), Some(Tok::Word(w)) if w == "||") {
            self.i += 1;
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Ast::Or(items) })
    }

    fn parse_and(&mut self) -> Result<Ast, QueryError> {
        let mut items = vec![self.parse_unary()?];
        loop {
            if self.is_kw("AND") || matches!(self.peek(), Some(Tok::Word(w)) if w == "&&") {
                self.i += 1;
                items.push(self.parse_unary()?);
                continue;
            }
            match self.peek() {
                None | Some(Tok::RParen) => break,
                Some(Tok::Word(w)) if w == "OR" || w == "||" => break,
                _ => items.push(self.parse_unary()?),
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Ast::And(items) })
    }

    fn parse_unary(&mut self) -> Result<Ast, QueryError> {
        match self.peek() {
            Some(Tok::Minus) => {
                self.i += 1;
                Ok(Ast::Not(Box::new(self.parse_unary()?)))
            }
            Some(Tok::Word(w)) if w == "NOT" || w == "!" => {
                self.i += 1;
                Ok(Ast::Not(Box::new(self.parse_unary()?)))
            }
            Some(Tok::LParen) => {
                self.i += 1;
                let inner = self.parse_or()?;
                if !matches!(self.peek(), Some(Tok::RParen)) {
                    return self.err("expected `)`");
                }
                self.i += 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) if w == "AND" || w == "OR" => {
                self.err(format!("`{w}` needs a term before it"))
            }
            Some(_) => self.parse_term(),
            None => self.err("unexpected end of query"),
        }
    }

    fn parse_term(&mut self) -> Result<Ast, QueryError> {
        let pos = self.pos();
        let Some((_, tok)) = self.toks.get(self.i).cloned() else {
            return self.err("expected a term");
        };
        self.i += 1;
        match tok {
            Tok::Phrase(p) => Ok(Ast::Term { field: None, value: Val::Phrase(p), pos }),
            Tok::Word(w) => {
                if matches!(self.peek(), Some(Tok::Colon)) {
                    self.i += 1;
                    let value = self.parse_value()?;
                    if w == "_exists_" {
                        let Val::Word(field) = value else {
                            return Err(QueryError {
                                pos,
                                msg: "`_exists_` takes a field name".into(),
                            });
                        };
                        return Ok(Ast::Term { field: Some(field), value: Val::Exists, pos });
                    }
                    if w == "*" && value == Val::Word("*".into()) {
                        return Ok(Ast::All);
                    }
                    Ok(Ast::Term { field: Some(w), value, pos })
                } else if w == "*" {
                    Ok(Ast::All)
                } else {
                    Ok(Ast::Term { field: None, value: Val::Word(w), pos })
                }
            }
            Tok::Cmp(_) | Tok::LBracket(_) => Err(QueryError {
                pos,
                msg: "a range needs a field, e.g. `source.port:[1 TO 1024]`".into(),
            }),
            other => Err(QueryError { pos, msg: format!("unexpected {}", describe(&other)) }),
        }
    }

    fn parse_value(&mut self) -> Result<Val, QueryError> {
        let Some((_, tok)) = self.toks.get(self.i).cloned() else {
            return self.err("expected a value after `:`");
        };
        self.i += 1;
        match tok {
            Tok::Word(w) if w == "*" => Ok(Val::Exists),
            Tok::Word(w) => Ok(Val::Word(w)),
            Tok::Phrase(p) => Ok(Val::Phrase(p)),
            Tok::Cmp(op) => {
                let v = match self.toks.get(self.i).cloned() {
                    Some((_, Tok::Word(w))) | Some((_, Tok::Phrase(w))) => w,
                    _ => return self.err(format!("expected a value after `{op}`")),
                };
                self.i += 1;
                Ok(match op {
                    ">" => Val::Range { lo: Some(v), hi: None, lo_incl: false, hi_incl: false },
                    ">=" => Val::Range { lo: Some(v), hi: None, lo_incl: true, hi_incl: false },
                    "<" => Val::Range { lo: None, hi: Some(v), lo_incl: false, hi_incl: false },
                    _ => Val::Range { lo: None, hi: Some(v), lo_incl: false, hi_incl: true },
                })
            }
            Tok::LBracket(lo_incl) => {
                let lo = self.range_bound()?;
                if !self.is_kw("TO") {
                    return self.err("expected `TO` in range");
                }
                self.i += 1;
                let hi = self.range_bound()?;
                let Some(Tok::RBracket(hi_incl)) = self.peek().cloned() else {
                    return self.err("expected `]` or `}` to close the range");
                };
                self.i += 1;
                Ok(Val::Range { lo, hi, lo_incl, hi_incl })
            }
            other => Err(QueryError {
                pos: self.toks[self.i - 1].0,
                msg: format!("expected a value, found {}", describe(&other)),
            }),
        }
    }

    fn range_bound(&mut self) -> Result<Option<String>, QueryError> {
        match self.toks.get(self.i).cloned() {
            Some((_, Tok::Word(w))) if w == "*" => {
                self.i += 1;
                Ok(None)
            }
            Some((_, Tok::Word(w))) | Some((_, Tok::Phrase(w))) => {
                self.i += 1;
                // A word split at `:` (times like 10:00:00) is glued back together.
                let mut w = w;
                while matches!(self.peek(), Some(Tok::Colon)) {
                    if let Some((_, Tok::Word(next))) = self.toks.get(self.i + 1).cloned() {
                        w.push(':');
                        w.push_str(&next);
                        self.i += 2;
                    } else {
                        break;
                    }
                }
                Ok(Some(w))
            }
            _ => self.err("expected a range bound"),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Phrase(_) => "a phrase".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Colon => "`:`".into(),
        Tok::Cmp(op) => format!("`{op}`"),
        Tok::LBracket(_) => "`[`".into(),
        Tok::RBracket(_) => "`]`".into(),
        Tok::Minus => "`-`".into(),
    }
}

/// Parse query text. Empty text (or `*`) means everything.
pub fn parse(q: &str) -> Result<Ast, QueryError> {
    let toks = lex(q)?;
    if toks.is_empty() {
        return Ok(Ast::All);
    }
    let mut p = Parser { toks, i: 0, end: q.len() };
    let ast = p.parse_or()?;
    if p.i < p.toks.len() {
        return p.err("unexpected `)`");
    }
    Ok(ast)
}

/// Translates an [`Ast`] into a Tantivy query for one schema.
pub struct Compiler<'a> {
    /// Schema handles.
    pub fields: &'a Fields,
    /// Analyzer for full-text fields.
    pub text: TextAnalyzer,
}

fn qerr(pos: usize, msg: impl Into<String>) -> QueryError {
    QueryError { pos, msg: msg.into() }
}

/// IP addresses are indexed as IPv6 (IPv4 as mapped addresses).
pub(crate) fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// Parse a time bound: RFC 3339, a date, or epoch milliseconds.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
    }
    if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(n.and_utc());
    }
    s.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis)
}

impl Compiler<'_> {
    /// Compile the AST.
    pub fn compile(&mut self, ast: &Ast) -> Result<Box<dyn Query>, QueryError> {
        Ok(match ast {
            Ast::All => Box::new(AllQuery),
            Ast::And(items) => {
                let mut subs = Vec::new();
                let mut positive = false;
                for item in items {
                    if let Ast::Not(inner) = item {
                        subs.push((Occur::MustNot, self.compile(inner)?));
                    } else {
                        positive = true;
                        subs.push((Occur::Must, self.compile(item)?));
                    }
                }
                if !positive {
                    subs.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(subs))
            }
            Ast::Or(items) => {
                let mut subs = Vec::new();
                for item in items {
                    subs.push((Occur::Should, self.compile(item)?));
                }
                Box::new(BooleanQuery::new(subs))
            }
            Ast::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, self.compile(inner)?),
            ])),
            Ast::Term { field, value, pos } => self.term(field.as_deref(), value, *pos)?,
        })
    }

    fn term(
        &mut self,
        field: Option<&str>,
        value: &Val,
        pos: usize,
    ) -> Result<Box<dyn Query>, QueryError> {
        let path = field.unwrap_or("message");
        if path == "@timestamp" {
            return self.time_term(value, pos);
        }
        if path == "event.id" {
            return match value {
                Val::Word(w) | Val::Phrase(w) => Ok(Box::new(TermQuery::new(
                    Term::from_field_u64(self.fields.id, schema::id_hash(w)),
                    IndexRecordOption::Basic,
                ))),
                Val::Exists => Ok(Box::new(AllQuery)),
                Val::Range { .. } => Err(qerr(pos, "`event.id` takes no range")),
            };
        }
        let Some((idx, spec)) = schema::FIELDS.iter().enumerate().find(|(_, s)| s.path == path)
        else {
            return self.json_term(path, value, pos);
        };
        let f = self.fields.typed[idx];
        match (spec.kind, value) {
            (_, Val::Exists) => Ok(Box::new(ExistsQuery::new(spec.name.to_string(), false))),
            (Kind::Keyword, Val::Word(w)) if w.contains('*') || w.contains('?') => {
                Ok(Box::new(wildcard_regex(f, &w.to_lowercase(), pos)?))
            }
            (Kind::Keyword, Val::Word(w) | Val::Phrase(w)) => Ok(Box::new(TermQuery::new(
                Term::from_field_text(f, &w.to_lowercase()),
                IndexRecordOption::Basic,
            ))),
            (Kind::Keyword, Val::Range { lo, hi, lo_incl, hi_incl }) => {
                let b = |v: &Option<String>, incl: bool| match v {
                    None => Bound::Unbounded,
                    Some(s) => {
                        let t = Term::from_field_text(f, &s.to_lowercase());
                        if incl { Bound::Included(t) } else { Bound::Excluded(t) }
                    }
                };
                Ok(Box::new(RangeQuery::new(b(lo, *lo_incl), b(hi, *hi_incl))))
            }
            (Kind::Text, Val::Word(w)) => self.text_query(f, w, pos, true),
            (Kind::Text, Val::Phrase(p)) => self.text_query(f, p, pos, false),
            (Kind::Text, Val::Range { .. }) => {
                Err(qerr(pos, format!("`{path}` is full text: no ranges")))
            }
            (Kind::Ip, Val::Word(w) | Val::Phrase(w)) => ip_query(f, w, pos),
            (Kind::Ip, Val::Range { lo, hi, lo_incl, hi_incl }) => {
                let b = |v: &Option<String>, incl: bool| -> Result<Bound<Term>, QueryError> {
                    Ok(match v {
                        None => Bound::Unbounded,
                        Some(s) => {
                            let ip: IpAddr = s
                                .parse()
                                .map_err(|_| qerr(pos, format!("`{s}` is not an IP address")))?;
                            let t = Term::from_field_ip_addr(f, to_v6(ip));
                            if incl { Bound::Included(t) } else { Bound::Excluded(t) }
                        }
                    })
                };
                Ok(Box::new(RangeQuery::new(b(lo, *lo_incl)?, b(hi, *hi_incl)?)))
            }
            (Kind::Int, Val::Word(w) | Val::Phrase(w)) => {
                let n: i64 = w
                    .parse()
                    .map_err(|_| qerr(pos, format!("`{path}` is a number; `{w}` is not")))?;
                Ok(Box::new(TermQuery::new(Term::from_field_i64(f, n), IndexRecordOption::Basic)))
            }
            (Kind::Int, Val::Range { lo, hi, lo_incl, hi_incl }) => {
                let b = |v: &Option<String>, incl: bool| -> Result<Bound<Term>, QueryError> {
                    Ok(match v {
                        None => Bound::Unbounded,
                        Some(s) => {
                            let n: i64 = s.parse().map_err(|_| {
                                qerr(pos, format!("`{path}` is a number; `{s}` is not"))
                            })?;
                            let t = Term::from_field_i64(f, n);
                            if incl { Bound::Included(t) } else { Bound::Excluded(t) }
                        }
                    })
                };
                Ok(Box::new(RangeQuery::new(b(lo, *lo_incl)?, b(hi, *hi_incl)?)))
            }
        }
    }

    fn time_term(&self, value: &Val, pos: usize) -> Result<Box<dyn Query>, QueryError> {
        let f = self.fields.ts;
        let b = |v: &Option<String>, incl: bool| -> Result<Bound<Term>, QueryError> {
            Ok(match v {
                None => Bound::Unbounded,
                Some(s) => {
                    let t =
                        parse_time(s).ok_or_else(|| qerr(pos, format!("`{s}` is not a time")))?;
                    let t = Term::from_field_date(
                        f,
                        tantivy::DateTime::from_timestamp_millis(t.timestamp_millis()),
                    );
                    if incl { Bound::Included(t) } else { Bound::Excluded(t) }
                }
            })
        };
        match value {
            Val::Range { lo, hi, lo_incl, hi_incl } => {
                Ok(Box::new(RangeQuery::new(b(lo, *lo_incl)?, b(hi, *hi_incl)?)))
            }
            Val::Exists => Ok(Box::new(AllQuery)),
            Val::Word(w) | Val::Phrase(w) => {
                let t = parse_time(w).ok_or_else(|| qerr(pos, format!("`{w}` is not a time")))?;
                let term = Term::from_field_date(
                    f,
                    tantivy::DateTime::from_timestamp_millis(t.timestamp_millis()),
                );
                Ok(Box::new(RangeQuery::new(Bound::Included(term.clone()), Bound::Included(term))))
            }
        }
    }

    fn text_query(
        &mut self,
        f: Field,
        text: &str,
        pos: usize,
        allow_wildcard: bool,
    ) -> Result<Box<dyn Query>, QueryError> {
        let prefix = allow_wildcard && text.ends_with('*') && !text[..text.len() - 1].contains('*');
        let body = if prefix { &text[..text.len() - 1] } else { text };
        if allow_wildcard && body.contains('*') {
            return Ok(Box::new(wildcard_regex(f, &body.to_lowercase(), pos)?));
        }
        let mut stream = self.text.token_stream(body);
        let mut terms = Vec::new();
        while let Some(tok) = stream.next() {
            terms.push((tok.position, Term::from_field_text(f, &tok.text)));
        }
        Ok(match terms.len() {
            0 => Box::new(EmptyQuery),
            1 if prefix => Box::new(PhrasePrefixQuery::new_with_offset(terms)),
            1 => Box::new(TermQuery::new(terms.remove(0).1, IndexRecordOption::WithFreqs)),
            _ if prefix => Box::new(PhrasePrefixQuery::new_with_offset(terms)),
            _ => Box::new(PhraseQuery::new_with_offset(terms)),
        })
    }

    fn json_term(&self, path: &str, value: &Val, pos: usize) -> Result<Box<dyn Query>, QueryError> {
        if path.is_empty() || path.starts_with('.') || path.ends_with('.') {
            return Err(qerr(pos, format!("`{path}` is not a field name")));
        }
        let f = self.fields.attrs;
        let base = || Term::from_field_json_path(f, path, true);
        match value {
            Val::Exists => {
                Ok(Box::new(ExistsQuery::new(format!("{}.{path}", schema::ATTRS), false)))
            }
            Val::Word(w) | Val::Phrase(w) => {
                let mut subs: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                if let Some(stem) = w.strip_suffix('*').filter(|s| !s.contains('*')) {
                    let mut prefix = base();
                    prefix.append_type_and_str(&stem.to_lowercase());
                    return Ok(Box::new(JsonPrefixQuery {
                        field: f,
                        prefix: prefix.serialized_value_bytes().to_vec(),
                    }));
                }
                let mut t = base();
                t.append_type_and_str(&w.to_lowercase());
                subs.push((Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::Basic))));
                if let Ok(n) = w.parse::<i64>() {
                    let mut t = base();
                    t.append_type_and_fast_value(n);
                    subs.push((
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                    ));
                    if n >= 0 {
                        let mut t = base();
                        t.append_type_and_fast_value(n as u64);
                        subs.push((
                            Occur::Should,
                            Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                        ));
                    }
                } else if let Ok(x) = w.parse::<f64>() {
                    let mut t = base();
                    t.append_type_and_fast_value(x);
                    subs.push((
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                    ));
                }
                if let Ok(b) = w.parse::<bool>() {
                    let mut t = base();
                    t.append_type_and_fast_value(b);
                    subs.push((
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                    ));
                }
                Ok(Box::new(BooleanQuery::new(subs)))
            }
            Val::Range { lo, hi, lo_incl, hi_incl } => {
                let num = |v: &Option<String>| v.as_ref().map(|s| s.parse::<i64>());
                let b = |v: Option<i64>, incl: bool| match v {
                    None => Bound::Unbounded,
                    Some(n) => {
                        let mut t = base();
                        t.append_type_and_fast_value(n);
                        if incl { Bound::Included(t) } else { Bound::Excluded(t) }
                    }
                };
                match (num(lo).transpose(), num(hi).transpose()) {
                    (Ok(l), Ok(h)) => Ok(Box::new(RangeQuery::new(b(l, *lo_incl), b(h, *hi_incl)))),
                    _ => {
                        let sb = |v: &Option<String>, incl: bool| match v {
                            None => Bound::Unbounded,
                            Some(s) => {
                                let mut t = base();
                                t.append_type_and_str(&s.to_lowercase());
                                if incl { Bound::Included(t) } else { Bound::Excluded(t) }
                            }
                        };
                        Ok(Box::new(RangeQuery::new(sb(lo, *lo_incl), sb(hi, *hi_incl))))
                    }
                }
            }
        }
    }
}

/// Every term of a JSON field that starts with `prefix` (path, type and text bytes): a scan of
/// the term dictionary between `prefix` and its successor. tantivy's `RangeQuery` would need a
/// fast column on the JSON field.
#[derive(Debug, Clone)]
struct JsonPrefixQuery {
    field: Field,
    prefix: Vec<u8>,
}

impl tantivy::query::Query for JsonPrefixQuery {
    fn weight(
        &self,
        _scoring: tantivy::query::EnableScoring<'_>,
    ) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        Ok(Box::new(tantivy::query::AutomatonWeight::new_for_json_path(
            self.field,
            tantivy_fst::automaton::AlwaysMatch,
            &self.prefix,
        )))
    }
}

fn wildcard_regex(f: Field, pattern: &str, pos: usize) -> Result<RegexQuery, QueryError> {
    let mut re = String::with_capacity(pattern.len() * 2);
    for ch in pattern.chars() {
        match ch {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c if c.is_alphanumeric() || c == ' ' || c == '_' => re.push(c),
            c => {
                re.push('\\');
                re.push(c);
            }
        }
    }
    RegexQuery::from_pattern(&re, f).map_err(|e| qerr(pos, format!("bad wildcard: {e}")))
}

fn ip_query(f: Field, w: &str, pos: usize) -> Result<Box<dyn Query>, QueryError> {
    if let Some((addr, len)) = w.split_once('/') {
        let ip: IpAddr =
            addr.parse().map_err(|_| qerr(pos, format!("`{w}` is not a CIDR block")))?;
        let len: u32 =
            len.parse().map_err(|_| qerr(pos, format!("`{w}` has a bad prefix length")))?;
        let (v6, len6) = match ip {
            IpAddr::V4(v4) if len <= 32 => (v4.to_ipv6_mapped(), len + 96),
            IpAddr::V6(v6) if len <= 128 => (v6, len),
            _ => return Err(qerr(pos, format!("`{w}` has a bad prefix length"))),
        };
        let bits = u128::from(v6);
        let mask = if len6 == 0 { 0 } else { u128::MAX << (128 - len6) };
        let lo = Ipv6Addr::from(bits & mask);
        let hi = Ipv6Addr::from(bits | !mask);
        return Ok(Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_ip_addr(f, lo)),
            Bound::Included(Term::from_field_ip_addr(f, hi)),
        )));
    }
    let ip: IpAddr = w.parse().map_err(|_| qerr(pos, format!("`{w}` is not an IP address")))?;
    Ok(Box::new(TermQuery::new(Term::from_field_ip_addr(f, to_v6(ip)), IndexRecordOption::Basic)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(f: Option<&str>, v: &str) -> Ast {
        Ast::Term { field: f.map(String::from), value: Val::Word(v.into()), pos: 0 }
    }

    fn strip(a: Ast) -> Ast {
        match a {
            Ast::Term { field, value, .. } => Ast::Term { field, value, pos: 0 },
            Ast::And(v) => Ast::And(v.into_iter().map(strip).collect()),
            Ast::Or(v) => Ast::Or(v.into_iter().map(strip).collect()),
            Ast::Not(b) => Ast::Not(Box::new(strip(*b))),
            Ast::All => Ast::All,
        }
    }

    #[test]
    fn grammar() {
        assert_eq!(parse("").unwrap(), Ast::All);
        assert_eq!(parse("*").unwrap(), Ast::All);
        assert_eq!(strip(parse("user.name:root").unwrap()), word(Some("user.name"), "root"));
        assert_eq!(
            strip(parse("a b OR c").unwrap()),
            Ast::Or(vec![Ast::And(vec![word(None, "a"), word(None, "b")]), word(None, "c")])
        );
        assert_eq!(
            strip(parse("NOT x AND -y").unwrap()),
            Ast::And(vec![
                Ast::Not(Box::new(word(None, "x"))),
                Ast::Not(Box::new(word(None, "y")))
            ])
        );
        assert_eq!(
            strip(parse("(a OR b) c").unwrap()),
            Ast::And(vec![Ast::Or(vec![word(None, "a"), word(None, "b")]), word(None, "c")])
        );
        assert!(matches!(
            strip(parse("source.port:[1 TO 1024}").unwrap()),
            Ast::Term { value: Val::Range { lo_incl: true, hi_incl: false, .. }, .. }
        ));
        assert!(matches!(
            strip(parse("http.response.status_code:>=500").unwrap()),
            Ast::Term { value: Val::Range { lo_incl: true, hi: None, .. }, .. }
        ));
        assert_eq!(
            strip(parse("source.ip:2001:db8::1").unwrap()),
            word(Some("source.ip"), "2001:db8::1")
        );
        assert!(matches!(
            parse("@timestamp:[2026-11-26T10:00:00Z TO *]").unwrap(),
            Ast::Term { value: Val::Range { lo: Some(ref l), .. }, .. } if l == "2026-11-26T10:00:00Z"
        ));
        assert_eq!(
            strip(parse("_exists_:user.name").unwrap()),
            Ast::Term { field: Some("user.name".into()), value: Val::Exists, pos: 0 }
        );
        assert_eq!(
            strip(parse(r#"message:"failed password""#).unwrap()),
            Ast::Term {
                field: Some("message".into()),
                value: Val::Phrase("failed password".into()),
                pos: 0
            }
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("a AND (b").unwrap_err();
        assert_eq!(e.pos, 8);
        let e = parse("\"open").unwrap_err();
        assert_eq!(e.pos, 0);
        assert!(parse("a)").is_err());
        assert!(parse("OR a").is_err());
        assert!(parse("f:[1 2]").is_err());
    }
}
