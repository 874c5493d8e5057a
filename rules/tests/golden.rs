//! Golden tests of the built-in rule packs: each `golden/<name>.log|.ndjson` holds test events
//! (attacks and look-alike benign activity), normalized as `sen serve` does, and
//! `golden/<name>.expected.json` the exact number of matches and of alert-raising detections
//! per rule (by rule `name`; rules without one, as SigmaHQ's, by `title [id]`). Every rule of
//! Sen's own (every rule with a `name`) must appear in some expected file; the SigmaHQ packs
//! are covered by a sample.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sen_rules::sigma::{Correlator, CorrelatorConfig, DetectionEngine, SigmaEngine};

#[derive(Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
struct Expected {
    /// Rule name → matches (Sigma hits and correlation firings).
    matches: BTreeMap<String, usize>,
    /// Rule name → detections that raise alerts (before grouping).
    alerts: BTreeMap<String, usize>,
}

#[test]
fn every_pack_rule_matches_its_golden_events_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let set = sen_rules::packs::builtin();
    let (engine, report) = SigmaEngine::new(&set);
    assert_eq!(report.failed, 0, "{:?}", report.errors);
    let (_, errors) = Correlator::new(&set, &engine, &CorrelatorConfig::default());
    assert!(errors.is_empty(), "{errors:?}");

    let mut covered = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "ndjson"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    let update = std::env::var("SEN_UPDATE_GOLDEN").is_ok();
    for f in files {
        let (mut correlator, _) = Correlator::new(&set, &engine, &CorrelatorConfig::default());
        let mut got = Expected::default();
        let mut hits = Vec::new();
        for e in common::events(&f, chrono_tz::Asia::Ho_Chi_Minh) {
            hits.clear();
            engine.evaluate(&e, &mut hits);
            for h in &hits {
                let r = &engine.rules()[h.rule];
                let name = r.name.clone().unwrap_or_else(|| format!("{} [{}]", r.title, r.id));
                *got.matches.entry(name.clone()).or_default() += 1;
                if !r.correlation_only {
                    *got.alerts.entry(name).or_default() += 1;
                }
            }
            for c in correlator.process(&e, &hits) {
                let r = &correlator.rules()[c.correlation].rule;
                let name = r.name.clone().unwrap_or_else(|| format!("{} [{}]", r.title, r.id));
                *got.matches.entry(name.clone()).or_default() += 1;
                *got.alerts.entry(name).or_default() += 1;
            }
        }
        covered.extend(got.matches.keys().cloned());
        let exp_path = f.with_extension("expected.json");
        if update {
            std::fs::write(&exp_path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: Expected = serde_json::from_str(
            &std::fs::read_to_string(&exp_path)
                .unwrap_or_else(|e| panic!("{}: {e}", exp_path.display())),
        )
        .unwrap();
        assert_eq!(got, want, "{}", f.display());
    }
    let (_, _) = (&engine, &set);
    let mut names: BTreeSet<String> =
        engine.rules().iter().filter_map(|r| r.name.clone()).collect();
    let (c, _) = Correlator::new(&set, &engine, &CorrelatorConfig::default());
    names.extend(c.rules().iter().filter_map(|r| r.rule.name.clone()));
    let uncovered: Vec<_> = names.difference(&covered).collect();
    assert!(uncovered.is_empty(), "rules without golden events: {uncovered:?}");
}
