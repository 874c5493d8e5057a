//! `sen rules check | test | backtest`: load Sigma content, evaluate it on events from files
//! or from the index, and say what matched and why.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use sen_core::event::Event;
use sen_rules::check::{CheckReport, RuleError};
use sen_rules::sigma::{Correlator, CorrelatorConfig, DetectionEngine, RuleSet, SigmaEngine};
use serde::Serialize;

/// Load rules: the given paths, plus the built-in packs when `builtin` (or when no path is
/// given). Returns the engine, the correlator and the combined report.
pub fn load(paths: &[PathBuf], builtin: bool) -> (SigmaEngine, Correlator, CheckReport) {
    let mut set = RuleSet::load(paths);
    if builtin || paths.is_empty() {
        sen_rules::packs::add_builtin(&mut set);
    }
    let (engine, report) = SigmaEngine::new(&set);
    let (correlator, corr_errors) = Correlator::new(&set, &engine, &CorrelatorConfig::default());
    let mut errors = report.errors;
    errors.extend(corr_errors);
    let check = CheckReport {
        files: report.files,
        loaded: report.loaded,
        correlations: correlator.rules().len(),
        filters: report.filters,
        failed: errors.len(),
        errors,
    };
    (engine, correlator, check)
}

fn print_errors(out: &mut impl Write, errors: &[RuleError]) -> Result<()> {
    for e in errors {
        match &e.rule {
            Some(r) => writeln!(out, "{}: rule {r}: {}", e.file.display(), e.reason)?,
            None => writeln!(out, "{}: {}", e.file.display(), e.reason)?,
        }
    }
    Ok(())
}

/// `sen rules check PATH [--json]`.
pub fn check(path: &Path, json: bool) -> Result<bool> {
    let (_, _, report) = load(&[path.to_owned()], false);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_errors(&mut out, &report.errors)?;
        writeln!(
            out,
            "{} files: {} rules loaded, {} failed, {} correlation rules, {} filters",
            report.files, report.loaded, report.failed, report.correlations, report.filters
        )?;
    }
    out.flush()?;
    Ok(report.failed == 0)
}

/// One match, as `sen rules test` reports it.
#[derive(Debug, Serialize)]
pub struct MatchOut {
    /// `sigma` or `correlation`.
    pub kind: &'static str,
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub title: String,
    /// Rule level.
    pub level: String,
    /// Whether it raises an alert (a rule only feeding a correlation does not).
    pub alert: bool,
    /// The event (for a correlation, the event that completed it).
    pub event_id: String,
    /// Its time.
    pub timestamp: String,
    /// Selections that matched (Sigma).
    pub selections: Vec<String>,
    /// Field = value pairs that matched (Sigma) or the group (correlation).
    pub fields: BTreeMap<String, String>,
    /// The aggregated value (correlation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Events in the correlation window.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<String>,
    /// The event's original text.
    pub original: String,
}

/// What `sen rules test` prints with `--json`.
#[derive(Debug, Serialize)]
pub struct TestReport {
    /// Rules loaded.
    pub rules: usize,
    /// Correlation rules loaded.
    pub correlations: usize,
    /// Events evaluated.
    pub events: usize,
    /// Records that could not be read (position: reason).
    pub unreadable: Vec<String>,
    /// Every match, in event order.
    pub matches: Vec<MatchOut>,
    /// Alerts a server would raise, by rule id (before grouping).
    pub alerts_by_rule: BTreeMap<String, usize>,
    /// Load errors.
    pub errors: Vec<RuleError>,
}

/// Read events from a file (EVTX, NDJSON or log lines) and normalize them as the analyzer does.
pub fn read_events(path: &Path, timezone: &str) -> Result<(Vec<Event>, Vec<String>)> {
    let tz: chrono_tz::Tz =
        timezone.parse().map_err(|_| anyhow::anyhow!("unknown time zone `{timezone}`"))?;
    let ctx = sen_parse::Context { received: chrono::Utc::now(), timezone: tz, peer_ip: None };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut events = Vec::new();
    let mut bad = Vec::new();
    let mut n = 0usize;
    let r = sen_collector::files::for_each_record(
        path,
        sen_collector::files::FileFormat::Auto,
        |rec| {
            n += 1;
            match rec {
                Ok(line) => {
                    let id = format!("{name}:{n}");
                    let mut e = Event::new(id, ctx.received, line.clone());
                    match serde_json::from_str::<serde_json::Value>(&line) {
                        Ok(serde_json::Value::Object(map)) => {
                            sen_parse::normalize_json(&mut e, map, &ctx);
                        }
                        _ => {
                            sen_parse::normalize_line(&mut e, sen_parse::Format::Auto, &ctx);
                        }
                    }
                    events.push(e);
                }
                Err(e) => bad.push(format!("record {}: {}", e.position, e.reason)),
            }
            Ok::<(), std::convert::Infallible>(())
        },
    )
    .with_context(|| format!("reading {}", path.display()))?;
    let _ = r;
    Ok((events, bad))
}

/// Evaluate rules over events in order, with correlation at event time.
pub fn evaluate(
    engine: &SigmaEngine,
    correlator: &mut Correlator,
    events: &[Event],
) -> Vec<MatchOut> {
    let mut out = Vec::new();
    let mut hits = Vec::new();
    for e in events {
        hits.clear();
        engine.evaluate(e, &mut hits);
        for h in &hits {
            let r = &engine.rules()[h.rule];
            out.push(MatchOut {
                kind: "sigma",
                rule_id: r.id.clone(),
                title: r.title.clone(),
                level: r.level.clone(),
                alert: !r.correlation_only,
                event_id: e.id.clone(),
                timestamp: e.timestamp.to_rfc3339(),
                selections: h.selections().to_vec(),
                fields: h.fields().into_iter().collect(),
                value: None,
                event_ids: Vec::new(),
                original: e.original.clone(),
            });
        }
        for c in correlator.process(e, &hits) {
            let r = &correlator.rules()[c.correlation];
            out.push(MatchOut {
                kind: "correlation",
                rule_id: r.rule.id.clone(),
                title: r.rule.title.clone(),
                level: r.rule.level.clone(),
                alert: true,
                event_id: e.id.clone(),
                timestamp: e.timestamp.to_rfc3339(),
                selections: Vec::new(),
                fields: c.group.into_iter().collect(),
                value: Some(c.value),
                event_ids: c.event_ids,
                original: e.original.clone(),
            });
        }
    }
    out
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(n).collect();
    t.push('…');
    t
}

/// `sen rules test`.
pub fn test(
    rules: &[PathBuf],
    builtin: bool,
    events: &Path,
    timezone: &str,
    json: bool,
) -> Result<()> {
    let (engine, mut correlator, report) = load(rules, builtin);
    let (evs, unreadable) = read_events(events, timezone)?;
    let matches = evaluate(&engine, &mut correlator, &evs);
    let mut alerts_by_rule = BTreeMap::new();
    for m in matches.iter().filter(|m| m.alert) {
        *alerts_by_rule.entry(m.rule_id.clone()).or_insert(0) += 1;
    }
    let mut out = std::io::stdout().lock();
    if json {
        let r = TestReport {
            rules: report.loaded,
            correlations: report.correlations,
            events: evs.len(),
            unreadable,
            matches,
            alerts_by_rule,
            errors: report.errors,
        };
        serde_json::to_writer_pretty(&mut out, &r)?;
        writeln!(out)?;
    } else {
        print_errors(&mut out, &report.errors)?;
        for u in &unreadable {
            writeln!(out, "unreadable {u}")?;
        }
        for m in &matches {
            let tag = match (m.kind, m.alert) {
                ("correlation", _) => "CORRELATION",
                (_, true) => "MATCH",
                (_, false) => "match (feeds a correlation only)",
            };
            writeln!(
                out,
                "{tag} [{}] {} — {} (rule {})",
                m.level, m.timestamp, m.title, m.rule_id
            )?;
            writeln!(out, "  event {}: {}", m.event_id, cut(&m.original, 160))?;
            let fields: Vec<String> =
                m.fields.iter().map(|(k, v)| format!("{k}={}", cut(v, 80))).collect();
            match m.kind {
                "correlation" => writeln!(
                    out,
                    "  why: value {} over the window; group {}",
                    m.value.unwrap_or_default(),
                    fields.join(", ")
                )?,
                _ => writeln!(
                    out,
                    "  why: selection {} matched{}{}",
                    m.selections.join(", "),
                    if fields.is_empty() { "" } else { ": " },
                    fields.join(", ")
                )?,
            }
        }
        writeln!(
            out,
            "{} events, {} rules ({} correlations): {} matches, {} alerts",
            evs.len(),
            report.loaded,
            report.correlations,
            matches.len(),
            alerts_by_rule.values().sum::<usize>()
        )?;
    }
    out.flush()?;
    if report.failed > 0 {
        bail!("{} rule(s) failed to load", report.failed);
    }
    Ok(())
}
