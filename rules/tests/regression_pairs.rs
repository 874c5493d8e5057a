//! Acceptance: SigmaHQ's regression pairs (`shared/corpora/public/sigma/regression_pairs`).
//!
//! Every one of the 3,141 SigmaHQ rules (plus the emerging-threats rules some pairs test) is
//! loaded into one engine, each pair's events are normalized by sen-parse exactly as `sen serve`
//! would, and then:
//! * each pair's rule must fire at least `match_count` times (default 1) on its own events;
//! * every hit of any *other* rule on the 187 events is counted as over-firing and must stay at
//!   or below the figure ADR 0008 measured with routing (82).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sen_core::event::Event;
use sen_rules::sigma::{DetectionEngine, SigmaEngine};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/public/sigma");
    if dir.is_dir() {
        return Some(dir);
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "corpus missing under CI");
    eprintln!("skipping: {} is absent", dir.display());
    None
}

fn events(path: &Path) -> Vec<Event> {
    let ctx = sen_parse::Context {
        received: chrono::Utc::now(),
        timezone: chrono_tz::UTC,
        peer_ip: None,
    };
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let serde_json::Value::Object(map) = serde_json::from_str(l).unwrap() else {
                panic!("{}: line {} is not an object", path.display(), i + 1)
            };
            let mut e = Event::new(format!("{}#{i}", path.display()), chrono::Utc::now(), l);
            sen_parse::normalize_json(&mut e, map, &ctx);
            e
        })
        .collect()
}

#[test]
fn regression_pairs_all_fire_and_over_firing_stays_low() {
    let Some(dir) = corpus() else { return };
    let pairs_dir = dir.join("regression_pairs");
    let index: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(pairs_dir.join("INDEX.json")).unwrap())
            .unwrap();
    let mut paths = vec![dir.join("rules/rules")];
    for p in &index {
        if p["rule_source_path"].as_str().unwrap().starts_with("rules-emerging-threats") {
            paths.push(pairs_dir.join(p["pair"].as_str().unwrap()).join("rule.yml"));
        }
    }
    let (engine, _set, report) = SigmaEngine::load(&paths);
    for e in report.errors.iter().take(10) {
        eprintln!("{}: {:?}: {}", e.file.display(), e.rule, e.reason);
    }
    assert_eq!(report.failed, 0);
    assert_eq!(report.loaded, 3141 + paths.len() - 1);

    let mut failed = Vec::new();
    let mut foreign: BTreeMap<String, usize> = BTreeMap::new();
    let mut n_events = 0;
    let mut hits = Vec::new();
    for p in &index {
        let folder = pairs_dir.join(p["pair"].as_str().unwrap());
        let want = p["match_count"].as_u64().unwrap_or(1) as usize;
        let rule_id = p["rule_id"].as_str().unwrap();
        let mut own = 0;
        for f in std::fs::read_dir(&folder).unwrap().flatten() {
            if f.path().extension().is_none_or(|e| e != "ndjson") {
                continue;
            }
            for e in events(&f.path()) {
                n_events += 1;
                hits.clear();
                engine.evaluate(&e, &mut hits);
                for h in &hits {
                    let r = &engine.rules()[h.rule];
                    if r.id == rule_id {
                        own += 1;
                    } else {
                        *foreign.entry(r.id.clone()).or_default() += 1;
                    }
                }
            }
        }
        if own < want {
            failed.push(format!("{} ({own} < {want})", p["pair"]));
        }
    }
    let over: usize = foreign.values().sum();
    let stats = engine.stats();
    eprintln!(
        "pairs: {}/{} pass; {n_events} events; other rules fired {over} times ({} rules); \
         {} rule evaluations ({:.1} per event)",
        index.len() - failed.len(),
        index.len(),
        foreign.len(),
        stats.evaluations,
        stats.evaluations as f64 / n_events as f64
    );
    assert!(failed.is_empty(), "failing pairs: {failed:#?}");
    assert_eq!(n_events, 187);
    assert!(over <= 82, "over-firing {over} > 82: {foreign:#?}");
}
