//! Shared helpers for the corpus tests: locating the corpora (skip when absent, fail under CI),
//! a small CSV reader, JSONL loading.
#![allow(dead_code)]

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use sen_core::event::Event;
use sen_parse::{Context, Format, Outcome, normalize_line};

/// Root of the public corpora, relative to this crate.
pub const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/public");

/// Path of a corpus file; `None` (with a message) when absent — but absence fails when `CI=true`.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(CORPORA).join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus file {} is missing (CI=true: corpora are required)", p.display());
    }
    eprintln!(
        "SKIP: corpus file {} not found; set up /work/shared/corpora to run this test",
        p.display()
    );
    None
}

/// Read a corpus file as text (lossy UTF-8).
pub fn read(rel: &str) -> Option<String> {
    let p = corpus(rel)?;
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// JSON Lines.
pub fn jsonl(rel: &str) -> Option<Vec<serde_json::Value>> {
    let text = read(rel)?;
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{rel}: bad JSON line: {e}"))
            })
            .collect(),
    )
}

/// RFC 4180-ish CSV: quoted fields with `""` escapes; returns rows of fields (header included).
pub fn csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// A fixed received time.
pub fn ctx_at(received: &str) -> Context {
    Context::new(DateTime::parse_from_rfc3339(received).unwrap().with_timezone(&Utc))
}

/// Normalize one line.
pub fn normalize(line: &str, format: Format, ctx: &Context) -> (Event, Outcome) {
    let mut e = Event::new("test".into(), ctx.received, line);
    let o = normalize_line(&mut e, format, ctx);
    (e, o)
}

/// Print at most `n` failure lines.
pub fn print_failures(title: &str, failures: &[String], n: usize) {
    if failures.is_empty() {
        return;
    }
    eprintln!("--- {title}: {} failure(s), first {}:", failures.len(), n.min(failures.len()));
    for f in failures.iter().take(n) {
        eprintln!("  {f}");
    }
}
