//! The prefilter only skips rules that cannot match: over real events, the engine's hits equal
//! those of every routed rule evaluated unfiltered ([`SigmaEngine::evaluate_unfiltered`]).
//!
//! All 3,141 SigmaHQ rules (and the emerging-threats Zeek rules) over the regression-pair
//! events, every 5th EVTX-ATTACK-SAMPLES event, every 5th Mordor Windows event, every 2nd
//! record of the APT29 Zeek logs, and the Mordor Linux audit records. The events go through
//! twice: the second time, the scans have judged which needles occur in most values and the
//! plans have dropped them (their clauses counted as satisfied), which must change no verdict.

mod common;

use sen_rules::sigma::SigmaEngine;

#[test]
fn prefiltered_hits_equal_unfiltered_hits() {
    let Some(dir) = common::corpus() else { return };
    let mut zeek_et = common::tree_files(&dir.join("sigma/rules/rules-emerging-threats"), &["yml"]);
    zeek_et.retain(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("zeek_")));
    let mut paths = vec![dir.join("sigma/rules/rules")];
    paths.extend(zeek_et.iter().cloned());
    let (engine, _set, report) = SigmaEngine::load(&paths);
    assert_eq!(report.loaded, 3141 + zeek_et.len(), "{:?}", report.errors.first());
    let mut events = Vec::new();
    for (sub, ext, step) in [
        ("sigma/regression_pairs", "ndjson", 1),
        ("windows-events/evtx-attack-samples", "ndjson", 5),
        ("windows-events/mordor/windows", "ndjson", 5),
        ("logs/zeek/mordor-apt29-day1", "log", 2),
        ("windows-events/mordor/linux", "log", 1),
    ] {
        let files = common::tree_files(&dir.join(sub), &[ext]);
        assert!(!files.is_empty(), "{sub}: no events");
        for f in files {
            events.extend(common::events(&f, chrono_tz::UTC).into_iter().step_by(step));
        }
    }
    assert!(events.len() > 2500, "{} events", events.len());
    let (mut fast, mut slow, mut alerts) = (Vec::new(), Vec::new(), Vec::new());
    let (mut hits, mut evaluated) = (0usize, 0u64);
    for e in events.iter().chain(&events) {
        fast.clear();
        slow.clear();
        alerts.clear();
        engine.evaluate_event(e, &mut fast);
        engine.evaluate_unfiltered(e, &mut slow);
        // The alerting path decides matches on the rules' compact form (`sigma::compact`).
        engine.evaluate_for_alerts(e, &mut alerts);
        let f: Vec<usize> = fast.iter().map(|h| h.rule).collect();
        let s: Vec<usize> = slow.iter().map(|h| h.rule).collect();
        let a: Vec<usize> = alerts.iter().map(|h| h.rule).collect();
        assert_eq!(f, s, "event {}: prefiltered vs unfiltered rule hits", e.id);
        assert_eq!(a, s, "event {}: compact rules vs rsigma's evaluation", e.id);
        // What correlation reads of an alerting match: the header, built on demand.
        for (x, y) in alerts.iter().zip(&slow) {
            let (x, y) = (engine.result_of(x), engine.result_of(y));
            assert_eq!(x.header.rule_id, y.header.rule_id);
            assert_eq!(x.header.rule_title, y.header.rule_title);
            assert_eq!(x.header.tags, y.header.tags);
            assert_eq!(x.header.level, y.header.level);
        }
        hits += f.len();
    }
    // Both prefiltered evaluations of each event counted (the alerting path's too).
    evaluated += engine.stats().evaluations / 2;
    // The comparison means something only if rules do fire, and the prefilter only pays if it
    // skips most of them.
    assert!(hits > 100, "{hits} hits");
    let per_event = evaluated as f64 / (2 * events.len()) as f64;
    assert!(per_event < 20.0, "{per_event:.1} evaluations per event");
    let common = engine.stats().common_needles;
    assert!(common > 0, "no needle was found common: the second pass tests nothing new");
    eprintln!(
        "{} events twice, {hits} hits, {per_event:.1} evaluations per event, {common} common needles dropped",
        events.len()
    );
}
