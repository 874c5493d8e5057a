//! Feed parsers: STIX 2.1 bundles ([`stix`]), MISP JSON ([`misp`]) and CSV ([`csv`]).
//!
//! They are pure functions over the feed's text: no I/O and no clock (the caller passes `now`,
//! which decides what has expired). A document that cannot be read at all is a
//! [`ParseError`] with its location; otherwise every entry is judged on its own: good entries
//! are kept, each bad one is an [`Issue`] naming where it is (`line 12`,
//! `objects[3] indicator--…`, `Event.Attribute[7] <uuid>`), and everything is counted in
//! [`ParseStats`].

pub mod csv;
pub mod misp;
pub mod stix;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ioc::{FeedInfo, Ioc};

/// Most issues kept per parse (all are counted in [`ParseStats`]).
pub const MAX_ISSUES: usize = 1000;

/// The format of a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    /// A STIX 2.x bundle (or TAXII envelope, or array of objects).
    Stix,
    /// MISP JSON: an event, a list of events, a REST search response, or a list of attributes.
    Misp,
    /// CSV with a header naming its columns, or one value per line.
    Csv,
}

impl FeedFormat {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Stix => "stix",
            FeedFormat::Misp => "misp",
            FeedFormat::Csv => "csv",
        }
    }
}

/// What a parser needs besides the text.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// The feed the indicators belong to.
    pub feed: Arc<FeedInfo>,
    /// The present time: indicators whose `valid_until` is not after it are skipped.
    pub now: DateTime<Utc>,
    /// MISP: only attributes with `to_ids` set (the MISP default for detection).
    pub to_ids_only: bool,
    /// STIX: cyber-observable objects (`ipv4-addr`, `domain-name`, `url`, `file` …) found
    /// directly in the bundle are indicators too, not only `indicator` patterns.
    pub observables: bool,
}

impl ParseOptions {
    /// Defaults for a feed: `to_ids_only` and `observables` on.
    pub fn new(feed: Arc<FeedInfo>, now: DateTime<Utc>) -> ParseOptions {
        ParseOptions { feed, now, to_ids_only: true, observables: true }
    }
}

/// Whether an entry was wrong or beyond what Sen can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueKind {
    /// The entry is malformed (bad value, bad pattern syntax, missing field).
    Invalid,
    /// The entry is well formed but asks for matching Sen does not do (a STIX pattern with
    /// `AND` across observations, `MATCHES`, a qualifier; an indicator type with no ECS field).
    Unsupported,
}

/// One entry that was not loaded (or only partly), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Invalid or unsupported.
    pub kind: IssueKind,
    /// Where: `line 12`, `objects[3] indicator--…`, `Event.Attribute[7] <uuid>`.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            IssueKind::Invalid => "invalid",
            IssueKind::Unsupported => "unsupported",
        };
        write!(f, "{}: {kind}: {}", self.location, self.message)
    }
}

/// Counts of one parse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParseStats {
    /// Entries looked at (indicators and observables, attributes, data lines).
    pub entries: u64,
    /// Indicators loaded (an entry can give several, e.g. an `OR` pattern or MISP `domain|ip`).
    pub loaded: u64,
    /// Entries rejected as malformed.
    pub invalid: u64,
    /// Entries (or parts of them) Sen cannot match, listed as issues.
    pub unsupported: u64,
    /// Indicators past their `valid_until`.
    pub expired: u64,
    /// STIX indicators marked `revoked`.
    pub revoked: u64,
    /// MISP attributes without `to_ids` (when only those are wanted).
    pub not_to_ids: u64,
    /// MISP attributes marked deleted.
    pub deleted: u64,
    /// Entries of types that are not indicators Sen matches (STIX `malware`, MISP
    /// `email-src` …), by type. Not issues.
    pub ignored: BTreeMap<String, u64>,
}

/// The result of parsing one feed document.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The indicators, in document order.
    pub iocs: Vec<Ioc>,
    /// The first [`MAX_ISSUES`] issues.
    pub issues: Vec<Issue>,
    /// Counts.
    pub stats: ParseStats,
}

impl Parsed {
    pub(crate) fn issue(&mut self, kind: IssueKind, location: String, message: String) {
        match kind {
            IssueKind::Invalid => self.stats.invalid += 1,
            IssueKind::Unsupported => self.stats.unsupported += 1,
        }
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(Issue { kind, location, message });
        }
    }

    pub(crate) fn ignore(&mut self, what: &str) {
        let what: String = super::ioc::clip(what).chars().take(64).collect();
        *self.stats.ignored.entry(what).or_default() += 1;
    }

    pub(crate) fn push(&mut self, ioc: Ioc) {
        self.stats.loaded += 1;
        self.iocs.push(ioc);
    }
}

/// A document that could not be read at all (nothing in it was loaded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ParseError {
    /// Where (`line 3, column 17` for JSON syntax errors, `document` otherwise).
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn json(e: &serde_json::Error) -> ParseError {
        ParseError {
            location: format!("line {}, column {}", e.line(), e.column()),
            message: format!("not valid JSON: {e}"),
        }
    }

    pub(crate) fn document(message: impl Into<String>) -> ParseError {
        ParseError { location: "document".into(), message: message.into() }
    }
}

/// Parse a document in `format`.
pub fn parse(format: FeedFormat, text: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    match format {
        FeedFormat::Stix => stix::parse(text, opts),
        FeedFormat::Misp => misp::parse(text, opts),
        FeedFormat::Csv => csv::parse(text, opts),
    }
}

/// Text of a JSON string field (trimmed, `None` when absent, not a string, or empty).
pub(crate) fn json_str<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|s| s.as_str()).map(str::trim).filter(|s| !s.is_empty())
}

/// A confidence 0–100 from a JSON number or numeric string.
pub(crate) fn confidence(v: Option<&serde_json::Value>) -> Result<Option<u8>, String> {
    let Some(v) = v else { return Ok(None) };
    let n = match v {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if s.trim().is_empty() => return Ok(None),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (0.0..=100.0).contains(&n) => Ok(Some(n.round() as u8)),
        _ => Err(format!("confidence `{v}` is not a number from 0 to 100")),
    }
}
