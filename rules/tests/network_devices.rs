//! SigmaHQ's FortiGate, Huawei and Juniper rules on the golden events of
//! `golden/sigmahq_fortigate.log` and `golden/sigmahq_routers.log`, line by line: each rule fires
//! on its true positive and on nothing else (the golden test checks the totals; this one checks
//! which line raised which match).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use sen_rules::sigma::{DetectionEngine, SigmaEngine};

/// `(line, titles)` of every line that matches a rule; every other line matches none.
fn matches_by_line(file: &str) -> BTreeMap<usize, Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(file);
    let (engine, report) = SigmaEngine::new(&sen_rules::packs::builtin());
    assert_eq!(report.failed, 0, "{:?}", report.errors);
    let mut out = BTreeMap::new();
    let mut hits = Vec::new();
    for e in common::events(&path, chrono_tz::Asia::Ho_Chi_Minh) {
        assert!(!e.has_tag(sen_core::event::TAG_PARSE_FAILURE), "{}", e.original);
        hits.clear();
        engine.evaluate(&e, &mut hits);
        let line: usize = e.id.rsplit(':').next().unwrap().parse().unwrap();
        let mut titles: Vec<String> =
            hits.iter().map(|h| engine.rules()[h.rule].title.clone()).collect();
        titles.sort();
        if !titles.is_empty() {
            out.insert(line, titles);
        }
    }
    out
}

fn want(rows: &[(usize, &str)]) -> BTreeMap<usize, Vec<String>> {
    rows.iter().map(|(l, t)| (*l, vec![(*t).to_owned()])).collect()
}

#[test]
fn fortigate_rules_fire_on_their_true_positives_only() {
    assert_eq!(
        matches_by_line("sigmahq_fortigate.log"),
        want(&[
            (6, "FortiGate - New Administrator Account Created"),
            (8, "FortiGate - New Local User Created"),
            (10, "FortiGate - User Group Modified"),
            (12, "FortiGate - Firewall Address Object Added"),
            (14, "FortiGate - New VPN SSL Web Portal Added"),
            (16, "FortiGate - VPN SSL Settings Modified"),
            (18, "FortiGate - New Firewall Policy Added"),
            // The denied session: Sen's own firewall rule (no FortiGate configuration rule).
            (33, "Firewall Denied Connection"),
        ])
    );
}

#[test]
fn huawei_and_juniper_rules_fire_on_their_true_positives_only() {
    assert_eq!(
        matches_by_line("sigmahq_routers.log"),
        want(&[
            (5, "Huawei BGP Authentication Failures"),
            (12, "Juniper BGP Missing MD5"),
            (13, "Juniper BGP Missing MD5"),
            (23, "Firewall Denied Connection"),
        ])
    );
}
