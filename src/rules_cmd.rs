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
    /// Events no parser understood (tagged `_parse_failure`).
    pub parse_failures: usize,
    /// Records that could not be read (position: reason).
    pub unreadable: Vec<String>,
    /// Every match, in event order.
    pub matches: Vec<MatchOut>,
    /// Alerts a server would raise, by rule id (before grouping).
    pub alerts_by_rule: BTreeMap<String, usize>,
    /// Load errors.
    pub errors: Vec<RuleError>,
}

/// Read events from a file (EVTX, NDJSON, Zeek TSV or log lines) and normalize them as the
/// analyzer does, with the joined event of each kernel event's audit records after its records
/// (the file is one stream).
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
    let events = sen_parse::auditd::join::with_joined(events, Default::default());
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
        engine.evaluate_event(e, &mut hits);
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
    events: &[PathBuf],
    timezone: &str,
    json: bool,
) -> Result<()> {
    let (engine, mut correlator, report) = load(rules, builtin);
    let mut evs = Vec::new();
    let mut unreadable = Vec::new();
    for path in events {
        let (e, u) = read_events(path, timezone)?;
        evs.extend(e);
        unreadable.extend(u.into_iter().map(|u| format!("{}: {u}", path.display())));
    }
    if events.len() > 1 {
        // Correlations run at event time: several files are merged in time order.
        evs.sort_by_key(|e| e.timestamp);
    }
    let parse_failures =
        evs.iter().filter(|e| e.has_tag(sen_core::event::TAG_PARSE_FAILURE)).count();
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
            parse_failures,
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
            "{} events ({} unparsed), {} rules ({} correlations): {} matches, {} alerts",
            evs.len(),
            parse_failures,
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

/// One rule's backtest figures.
#[derive(Debug, Default, Serialize)]
pub struct BacktestRow {
    /// Rule title.
    pub title: String,
    /// Level.
    pub level: String,
    /// Sigma matches or correlation firings.
    pub matches: u64,
    /// Alerts it would have raised (after grouping: one per rule, entity and window).
    pub alerts: u64,
    /// First and last matching event.
    pub first: Option<String>,
    /// Last matching event.
    pub last: Option<String>,
}

/// What `sen rules backtest` prints with `--json`.
#[derive(Debug, Serialize)]
pub struct BacktestReport {
    /// Time range.
    pub from: String,
    /// End of the range.
    pub to: String,
    /// Events read from the index.
    pub events: u64,
    /// Per rule id.
    pub rules: BTreeMap<String, BacktestRow>,
    /// Load errors.
    pub errors: Vec<RuleError>,
}

/// Read every event of `[from, to)` matching `q`, oldest first, in time slices small enough for
/// one search page each.
fn scan_index(
    index: &sen_analyzer::index::IndexStore,
    q: &str,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    f: &mut dyn FnMut(Event),
) -> Result<u64> {
    const PAGE: usize = 20_000;
    let mut n = 0;
    let mut stack = vec![(from, to)];
    // Slices are processed oldest first: the stack holds later slices below earlier ones.
    while let Some((a, b)) = stack.pop() {
        let resp = index.search(&sen_analyzer::index::SearchRequest {
            q: q.to_owned(),
            from: a,
            to: b,
            limit: PAGE,
            offset: 0,
        })?;
        if resp.total as usize > PAGE && b - a > chrono::Duration::seconds(1) {
            let mid = a + (b - a) / 2;
            stack.push((mid, b));
            stack.push((a, mid));
            continue;
        }
        if resp.total as usize > PAGE {
            eprintln!(
                "warning: more than {PAGE} events in one second at {a}; the rest are skipped"
            );
        }
        let mut events: Vec<Event> = resp
            .hits
            .into_iter()
            .filter_map(|h| match h {
                serde_json::Value::Object(m) => Event::from_json_map(m).ok(),
                _ => None,
            })
            .collect();
        events.sort_by_key(|e| e.timestamp);
        for e in events {
            n += 1;
            f(e);
        }
    }
    Ok(n)
}

/// `sen rules backtest`.
pub fn backtest(
    rules: &[PathBuf],
    builtin: bool,
    data_dir: &Path,
    from: &str,
    to: &str,
    query: &str,
    json: bool,
) -> Result<()> {
    use sen_analyzer::alerts::AlertUpdate;
    let parse = |name: &str, s: &str| {
        relative_time(s).or_else(|| sen_analyzer::index::query::parse_time(s)).with_context(|| {
            format!("--{name}: `{s}` is not a time (RFC 3339, a date, or now-7d style)")
        })
    };
    let (from_t, to_t) = (parse("from", from)?, parse("to", to)?);
    if to_t <= from_t {
        bail!("--to must be after --from");
    }
    let index_dir = data_dir.join("index");
    if !index_dir.is_dir() {
        bail!("no event index at {}", index_dir.display());
    }
    let index = sen_analyzer::index::IndexStore::open(&index_dir, Default::default())
        .with_context(|| format!("opening {}", index_dir.display()))?;
    // The server's own detection path: matching, correlation and grouping at event time.
    let mut set = RuleSet::load(rules);
    if builtin || rules.is_empty() {
        sen_rules::packs::add_builtin(&mut set);
    }
    let (detector, report) = sen_analyzer::detect::Detector::from_set(
        &set,
        &sen_analyzer::detect::DetectionConfig::default(),
        None,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    drop(set);
    let mut rows: BTreeMap<String, BacktestRow> = BTreeMap::new();
    let mut hits = Vec::new();
    let events = scan_index(&index, query, from_t, to_t, &mut |e| {
        let mut out = sen_analyzer::detect::ScanOutput::default();
        detector.scan(&e, None, &mut hits, &mut out);
        detector.correlate(out.correlate, &mut out.detections);
        let seen: Vec<_> = out.detections.iter().map(|d| d.rule.clone()).collect();
        // One update per detection, in order.
        for (rule, u) in seen.iter().zip(detector.group(out.detections)) {
            let row = rows.entry(rule.id.clone()).or_default();
            row.title = rule.title.clone();
            row.level = rule.level.as_str().to_owned();
            row.matches += 1;
            if matches!(&u, AlertUpdate::Created(a) if !a.is_flood_summary()) {
                row.alerts += 1;
            }
            let ts = e.timestamp.to_rfc3339();
            row.first.get_or_insert_with(|| ts.clone());
            row.last = Some(ts);
        }
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        let r = BacktestReport {
            from: from_t.to_rfc3339(),
            to: to_t.to_rfc3339(),
            events,
            rules: rows,
            errors: report.errors,
        };
        serde_json::to_writer_pretty(&mut out, &r)?;
        writeln!(out)?;
    } else {
        print_errors(&mut out, &report.errors)?;
        let mut sorted: Vec<_> = rows.iter().collect();
        sorted.sort_by(|a, b| b.1.alerts.cmp(&a.1.alerts).then(b.1.matches.cmp(&a.1.matches)));
        writeln!(out, "{:>7} {:>8}  {:<13} rule", "alerts", "matches", "level")?;
        for (id, r) in sorted {
            writeln!(out, "{:>7} {:>8}  {:<13} {} ({id})", r.alerts, r.matches, r.level, r.title)?;
        }
        writeln!(out, "{events} events from {} to {}", from_t.to_rfc3339(), to_t.to_rfc3339())?;
    }
    out.flush()?;
    Ok(())
}

/// `now`, `now-90s`, `now-15m`, `now-24h`, `now-7d`.
fn relative_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let rest = s.trim().strip_prefix("now")?;
    let now = chrono::Utc::now();
    if rest.is_empty() {
        return Some(now);
    }
    let rest = rest.strip_prefix('-')?;
    let (n, unit) = rest.split_at(rest.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    let d = match unit {
        "s" => chrono::Duration::try_seconds(n)?,
        "m" => chrono::Duration::try_minutes(n)?,
        "h" => chrono::Duration::try_hours(n)?,
        "d" => chrono::Duration::try_days(n)?,
        _ => return None,
    };
    now.checked_sub_signed(d)
}
