//! Acceptance: Linux audit logs end to end — OTRF Security-Datasets' (Mordor) auditd logs and
//! the Log4Shell auoms records (Sentinel `Syslog` rows) parse without a failure, and SigmaHQ's
//! Linux rules (auditd, process_creation, builtin …) raise what they should on them, and nothing
//! else of the whole SigmaHQ rule set does.
//!
//! Sen keeps one event per audit record: SigmaHQ's auditd rules test one record each
//! (`type: EXECVE` with `a0`…, `type: SYSCALL` with `exe`/`SYSCALL`, `type: PATH` with
//! `name`), which is how they are written. It adds the joined event of each kernel event's
//! records (ADR 0011), on which the `process_creation` rules that need `Image` and
//! `CommandLine` together match.

mod common;

use std::collections::BTreeMap;

use sen_rules::sigma::{DetectionEngine, SigmaEngine};

#[test]
fn mordor_auditd_and_log4shell_auoms() {
    let Some(dir) = common::corpus() else { return };
    let mordor = dir.join("windows-events/mordor");
    let (engine, _set, report) = SigmaEngine::load(&[dir.join("sigma/rules/rules")]);
    assert_eq!(report.failed, 0);
    let files = [
        "linux/defense_evasion/host/sh_binary_padding_dd.log",
        "linux/discovery/host/sh_arp_cache.log",
        "compound/Log4Shell/syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json",
    ];
    let mut fired: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut hits = Vec::new();
    let mut events_total = 0;
    let mut joined_total = 0;
    for file in files {
        let events = common::events(&mordor.join(file), chrono_tz::UTC);
        assert!(!events.is_empty(), "{file}");
        for e in &events {
            events_total += 1;
            assert!(
                !e.has_tag(sen_core::event::TAG_PARSE_FAILURE),
                "{file}: {:?} {}",
                e.get_str("error.message"),
                e.original
            );
            assert_eq!(e.get_str("event.module"), Some("auditd"), "{file}: {}", e.original);
            assert!(e.get("auditd.sequence").is_some(), "{file}: {}", e.original);
            let joined = e.get_str("event.dataset") == Some("auditd.event");
            joined_total += usize::from(joined);
            hits.clear();
            engine.evaluate(e, &mut hits);
            for h in &hits {
                let rule = &engine.rules()[h.rule];
                // A joined event answers its category's rules only, so no rule reads the
                // records' text twice.
                if joined {
                    assert_eq!(
                        rule.category.as_deref(),
                        Some("process_creation"),
                        "{}",
                        rule.title
                    );
                }
                *fired.entry((file, rule.title.clone())).or_default() += 1;
            }
        }
    }
    for ((file, title), n) in &fired {
        eprintln!("{n:3}  {title}  ({file})");
    }
    eprintln!(
        "{events_total} audit events ({joined_total} joined), {} (dataset, rule) pairs fired",
        fired.len()
    );
    // 68 records; the `dd` execution and the two of `arp -a | grep -v ^?` joined (auoms records
    // are whole events already).
    assert_eq!(events_total, 6 + 12 + 50 + 3);
    assert_eq!(joined_total, 3);
    let got = |file: &str, title: &str| fired.get(&(file, title.to_owned())).copied();
    let dd = files[0];
    // Two auditd rules on the EXECVE record `dd if=/dev/zero bs=1 count=1` (T1027.001, T1485).
    assert_eq!(got(dd, "Binary Padding - Linux"), Some(1));
    assert_eq!(got(dd, "Overwriting the File with Dev Zero or Null"), Some(1));
    // The reverse shell's `base64 -d` and the post-exploitation `groups` (twice).
    let l4s = files[2];
    assert_eq!(got(l4s, "Decode Base64 Encoded Text"), Some(1));
    assert_eq!(got(l4s, "Local Groups Discovery - Linux"), Some(2));
    // `arp -a`: the SYSCALL's `exe` and the EXECVE's arguments in the joined event (T1018).
    let arp = files[1];
    assert_eq!(got(arp, "Linux Remote System Discovery"), Some(1));
    // Measured 2026-11-27: exactly these five of the 3,141 SigmaHQ rules fire; anything more is
    // a false positive to look at. The joined `dd` and `grep -v ^?` events match no
    // process_creation rule (SigmaHQ's dd rule wants `of=`), and no rule fires twice for one
    // kernel event.
    assert_eq!(fired.len(), 5, "{fired:?}");
}

/// The same records wrapped in syslog by audisp-syslog, as a province's Linux servers forward
/// them, fire the same auditd rule as the raw log lines.
#[test]
fn auditd_records_through_syslog_fire_the_same_rules() {
    let Some(dir) = common::corpus() else { return };
    let path =
        dir.join("windows-events/mordor/linux/defense_evasion/host/sh_binary_padding_dd.log");
    let (engine, _set, report) = SigmaEngine::load(&[dir.join("sigma/rules/rules/linux/auditd")]);
    assert_eq!(report.failed, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let wrapped = tmp.path().join("audisp.log");
    let lines: Vec<String> = text
        .lines()
        .map(|l| format!("<14>Nov 10 08:19:44 web01 audispd: node=web01 {l}"))
        .collect();
    std::fs::write(&wrapped, lines.join("\n")).unwrap();
    let mut titles = Vec::new();
    let mut hits = Vec::new();
    for e in common::events(&wrapped, chrono_tz::UTC) {
        assert_eq!(e.get_str("host.name"), Some("web01"));
        assert_eq!(e.get_str("log.syslog.appname"), Some("audispd"));
        hits.clear();
        engine.evaluate(&e, &mut hits);
        titles.extend(hits.iter().map(|h| engine.rules()[h.rule].title.clone()));
    }
    assert_eq!(titles, ["Binary Padding - Linux", "Overwriting the File with Dev Zero or Null"]);
}
