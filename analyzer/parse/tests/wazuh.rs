//! Wazuh ruleset test logs (`logs/vendor-samples/wazuh-ruleset-tests/`): every line yields an event
//! without panic; the parse-failure rate is reported (many are vendor formats without a dedicated
//! parser: Cisco ASA without syslog header, SonicWall key=value, …).
//!
//! Reproduce: `CARGO_TARGET_DIR=target-parse cargo test -p sen-parse --test wazuh -- --nocapture`

mod common;

use std::collections::BTreeMap;

use sen_parse::Format;

#[test]
fn wazuh_lines() {
    let Some(sections) =
        common::jsonl("logs/vendor-samples/wazuh-ruleset-tests/wazuh_ruleset_tests.jsonl")
    else {
        return;
    };
    let ctx = common::ctx_at("2026-11-26T12:00:00Z");
    let (mut n, mut failed) = (0usize, 0usize);
    let mut per_decoder: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for s in &sections {
        let decoder = s["decoder"].as_str().unwrap_or_default().to_owned();
        for l in s["logs"].as_array().into_iter().flatten() {
            let line = l["log"].as_str().unwrap_or_default();
            n += 1;
            let (e, o) = common::normalize(line, Format::Auto, &ctx);
            assert!(e.get("event.kind").is_some());
            let entry = per_decoder.entry(decoder.clone()).or_default();
            entry.0 += 1;
            if o.is_failure() {
                failed += 1;
                entry.1 += 1;
            }
        }
    }
    println!(
        "wazuh: {n} lines, {failed} parse failures ({:.1}%)",
        100.0 * failed as f64 / n as f64
    );
    for (d, (total, f)) in per_decoder.iter().filter(|(_, (_, f))| *f > 0) {
        println!("  {d:32} {f}/{total} unparsed");
    }
    assert_eq!(n, 774);
}

/// The Junos sections (SRX flow and screen logs in structured data, relayed behind a BSD
/// header) are read as Junos: the flow's addresses, ports and action, the screen's attack.
#[test]
fn junos_lines_are_read_as_junos() {
    let Some(sections) =
        common::jsonl("logs/vendor-samples/wazuh-ruleset-tests/wazuh_ruleset_tests.jsonl")
    else {
        return;
    };
    let ctx = common::ctx_at("2026-11-26T12:00:00Z");
    let mut n = 0;
    for s in
        sections.iter().filter(|s| s["decoder"].as_str().is_some_and(|d| d.starts_with("junos")))
    {
        for l in s["logs"].as_array().into_iter().flatten() {
            let line = l["log"].as_str().unwrap_or_default();
            let (e, o) = common::normalize(line, Format::Auto, &ctx);
            n += 1;
            assert!(!o.is_failure(), "{line}: {o}");
            assert!(o.matched(sen_parse::Parser::Junos), "{line}: {o}");
            assert_eq!(e.get_str("event.dataset"), Some("juniper.srx"), "{line}");
            assert!(e.get("source.ip").is_some() && e.get("destination.ip").is_some(), "{line}");
            if line.contains("RT_FLOW_SESSION_DENY") {
                assert_eq!(e.get_str("event.action"), Some("flow_deny"));
                assert_eq!(e.get_str("rule.name"), Some("Local-Default-Deny"));
                assert_eq!(e.get_str("network.transport"), Some("udp"));
            }
            if line.contains("RT_SCREEN_IP") {
                assert_eq!(e.get_str("event.action"), Some("drop"));
                assert_eq!(e.get_str("rule.name"), Some("IP spoofing!"));
            }
        }
    }
    assert_eq!(n, 3);
}
