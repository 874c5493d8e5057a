//! Acceptance: on the `auth.log` sample (elastic-examples/auth-bruteforce, 7,121 real sshd
//! lines), the built-in SSH brute-force correlation alerts on exactly the source addresses
//! that exceed its threshold — ten rejected attempts within five minutes — derived here by
//! counting the lines directly.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use sen_rules::sigma::{Correlator, CorrelatorConfig, DetectionEngine, SigmaEngine};

#[test]
fn brute_force_alerts_on_exactly_the_addresses_over_the_threshold() {
    let Some(dir) = common::corpus() else { return };
    let path = dir.join("logs/elastic-examples/auth-bruteforce/auth.log");
    let text = std::fs::read_to_string(&path).unwrap();

    // Expected, by counting: sshd "Failed <method> for … from <ip>" lines (one per rejected
    // attempt, including those syslog folded into "message repeated N times: [ … ]"), and an
    // address qualifies when some 5-minute window holds 10 of them.
    let re = regex::Regex::new(
        r"sshd\[\d+\]: (?:message repeated \d+ times: \[ )?Failed \S+ for .* from (\S+) port",
    )
    .unwrap();
    let mut times: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(c) = re.captures(line) {
            let ts = NaiveDateTime::parse_from_str(
                &format!("2026 {}", &line[..15]),
                "%Y %b %e %H:%M:%S",
            )
            .unwrap()
            .and_utc()
            .timestamp();
            times.entry(c[1].to_owned()).or_default().push(ts);
        }
    }
    let mut expected = BTreeSet::new();
    for (ip, ts) in &mut times {
        ts.sort();
        if ts
            .iter()
            .enumerate()
            .any(|(i, t)| ts[..=i].iter().filter(|u| t - *u <= 300).count() >= 10)
        {
            expected.insert(ip.clone());
        }
    }
    assert!(expected.len() >= 5, "the sample has several brute-forcing addresses: {expected:?}");

    let set = sen_rules::packs::builtin();
    let (engine, report) = SigmaEngine::new(&set);
    assert_eq!(report.failed, 0, "{:?}", report.errors);
    let (mut correlator, errors) = Correlator::new(&set, &engine, &CorrelatorConfig::default());
    assert!(errors.is_empty(), "{errors:?}");
    let brute = correlator
        .rules()
        .iter()
        .position(|c| c.rule.name.as_deref() == Some("sen_ssh_bruteforce"))
        .unwrap();

    let mut got = BTreeSet::new();
    let mut hits = Vec::new();
    let events = common::events(&path, chrono_tz::UTC);
    assert_eq!(events.len(), 7121);
    for e in &events {
        hits.clear();
        engine.evaluate(e, &mut hits);
        for c in correlator.process(e, &hits) {
            if c.correlation == brute {
                let ip = c.group.iter().find(|(k, _)| k == "source.ip").map(|(_, v)| v.clone());
                got.insert(ip.expect("grouped by source.ip"));
            }
        }
    }
    assert_eq!(got, expected);
    eprintln!("brute force: {} addresses, as counted: {expected:?}", got.len());
}
