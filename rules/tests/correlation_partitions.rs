//! Correlation state partitions (see `sen_rules::sigma::correlate`): any partition count gives
//! the same firings, one event at a time or in batches (which run partitions in parallel), and
//! a snapshot written with one partition count, or by the unpartitioned version 1, restores
//! into any other and goes on exactly as if nothing had stopped.

mod common;

use std::path::Path;

use sen_core::event::Event;
use sen_rules::sigma::{Correlator, CorrelatorConfig, DetectionEngine, Hit, SigmaEngine};

/// (input index, correlation, group) of each firing.
type Firing = (usize, usize, Vec<(String, String)>);

/// The golden files of our own correlation rules (every type we ship: event_count,
/// value_count, temporal_ordered, chained), and the real `auth.log` sample when present.
fn streams() -> Vec<Vec<Event>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out = Vec::new();
    for f in [
        "linux_auth.log",
        "web_access.log",
        "firewall.log",
        "windows_logon.ndjson",
        "zeek_sen.ndjson",
    ] {
        out.push(common::events(&dir.join(f), chrono_tz::Asia::Ho_Chi_Minh));
    }
    if let Some(c) = common::corpus() {
        out.push(common::events(
            &c.join("logs/elastic-examples/auth-bruteforce/auth.log"),
            chrono_tz::UTC,
        ));
    }
    out
}

fn setup() -> (sen_rules::sigma::RuleSet, SigmaEngine) {
    let set = sen_rules::packs::builtin();
    let (engine, report) = SigmaEngine::new(&set);
    assert_eq!(report.failed, 0, "{:?}", report.errors);
    (set, engine)
}

fn correlator(
    set: &sen_rules::sigma::RuleSet,
    engine: &SigmaEngine,
    partitions: usize,
) -> Correlator {
    let cfg = CorrelatorConfig { partitions, ..CorrelatorConfig::default() };
    let (c, errors) = Correlator::new(set, engine, &cfg);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(c.partitions(), partitions);
    c
}

fn hits_of(engine: &SigmaEngine, events: &[Event]) -> Vec<Vec<Hit>> {
    events
        .iter()
        .map(|e| {
            let mut h = Vec::new();
            engine.evaluate(e, &mut h);
            h
        })
        .collect()
}

/// One event at a time, from input `offset` on.
fn one_by_one(
    c: &mut Correlator,
    events: &[Event],
    hits: &[Vec<Hit>],
    offset: usize,
) -> Vec<Firing> {
    let mut out = Vec::new();
    for (i, (e, h)) in events.iter().zip(hits).enumerate() {
        for f in c.process(e, h) {
            out.push((offset + i, f.correlation, f.group));
        }
    }
    out
}

#[test]
fn every_partition_count_fires_the_same() {
    let (set, engine) = setup();
    let mut total = 0;
    for events in streams() {
        let hits = hits_of(&engine, &events);
        let want = one_by_one(&mut correlator(&set, &engine, 1), &events, &hits, 0);
        total += want.len();
        for p in [2, 4, 7, 64] {
            let got = one_by_one(&mut correlator(&set, &engine, p), &events, &hits, 0);
            assert_eq!(got, want, "{p} partitions, one event at a time");
            // Batches: all at once (parallel partitions when large), and in slices.
            for size in [events.len().max(1), 97] {
                let mut c = correlator(&set, &engine, p);
                let mut got = Vec::new();
                for (k, chunk) in events.chunks(size).enumerate() {
                    let batch: Vec<(&Event, &[Hit])> = chunk
                        .iter()
                        .zip(&hits[k * size..])
                        .map(|(e, h)| (e, h.as_slice()))
                        .collect();
                    for (i, f) in c.process_batch(&batch) {
                        got.push((k * size + i, f.correlation, f.group));
                    }
                }
                assert_eq!(got, want, "{p} partitions, batches of {size}");
            }
        }
    }
    assert!(total >= 10, "the streams make correlations fire: {total}");
}

#[test]
fn busy_correlation_spreads_over_partitions() {
    let (set, engine) = setup();
    let Some(events) = common::corpus().map(|c| {
        common::events(&c.join("logs/elastic-examples/auth-bruteforce/auth.log"), chrono_tz::UTC)
    }) else {
        return;
    };
    let hits = hits_of(&engine, &events);
    let mut c = correlator(&set, &engine, 4);
    one_by_one(&mut c, &events, &hits, 0);
    let counts = c.partition_state_counts();
    assert_eq!(counts.len(), 4);
    assert!(
        counts.iter().filter(|n| **n > 0).count() >= 3,
        "the brute force groups (one per address) land in several partitions: {counts:?}"
    );
}

#[test]
fn snapshots_restore_into_any_partition_count() {
    let (set, engine) = setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    for events in streams() {
        let hits = hits_of(&engine, &events);
        let want = one_by_one(&mut correlator(&set, &engine, 1), &events, &hits, 0);
        for cut in [events.len() / 3, events.len() / 2] {
            let tail_want: Vec<Firing> = want.iter().filter(|f| f.0 >= cut).cloned().collect();
            for (before, after) in [(4, 3), (1, 4), (7, 1), (4, 4)] {
                let mut c = correlator(&set, &engine, before);
                one_by_one(&mut c, &events[..cut], &hits[..cut], 0);
                let positions = [(0u32, cut as u64)].into_iter().collect();
                c.save(&path, Some(&positions)).unwrap();
                let windows = c.state_count();

                let mut r = correlator(&set, &engine, after);
                let restored = r.restore(&path).unwrap().expect("saved");
                assert_eq!(restored.windows, windows, "{before} → {after}");
                assert_eq!(restored.dropped, 0);
                assert_eq!(restored.saved_partitions, before);
                assert_eq!(restored.positions, Some(positions));
                let got = one_by_one(&mut r, &events[cut..], &hits[cut..], cut);
                assert_eq!(got, tail_want, "{before} → {after} partitions, cut at {cut}");
            }
            // The previous version's file: one unpartitioned snapshot, no positions.
            let mut c = correlator(&set, &engine, 1);
            one_by_one(&mut c, &events[..cut], &hits[..cut], 0);
            c.save(&path, None).unwrap();
            let v2: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let v1 = serde_json::json!({ "version": 1, "snapshot": v2["shards"][0]["snapshot"] });
            std::fs::write(&path, v1.to_string()).unwrap();
            let mut r = correlator(&set, &engine, 4);
            let restored = r.restore(&path).unwrap().expect("saved");
            assert_eq!(restored.positions, None);
            assert_eq!(restored.windows, c.state_count());
            // Version 1 did not keep Sen's flood bookkeeping: firings may differ only in a
            // quiet period's count, never in which groups fire.
            let got = one_by_one(&mut r, &events[cut..], &hits[cut..], cut);
            let groups = |v: &[Firing]| {
                v.iter().map(|f| (f.1, f.2.clone())).collect::<std::collections::BTreeSet<_>>()
            };
            assert_eq!(
                groups(&got),
                groups(&tail_want),
                "version 1 → 4 partitions, cut {cut}: {got:?} vs {tail_want:?} {:?}",
                r.rules().iter().map(|c| c.rule.id.clone()).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn bad_state_files_are_errors_and_missing_is_none() {
    let (set, engine) = setup();
    let dir = tempfile::tempdir().unwrap();
    let mut c = correlator(&set, &engine, 2);
    assert_eq!(c.restore(&dir.path().join("none.json")).unwrap(), None);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"version\": 2, \"shards\": [").unwrap();
    let e = c.restore(&bad).unwrap_err();
    assert!(e.contains("corrupt correlation state"), "{e}");
    std::fs::write(&bad, b"{\"version\": 9}").unwrap();
    let e = c.restore(&bad).unwrap_err();
    assert!(e.contains("version 9"), "{e}");
    std::fs::write(&bad, b"{\"version\": 1}").unwrap();
    assert!(c.restore(&bad).is_err());
    // State of a correlation that is no longer loaded is dropped and counted.
    let state = serde_json::json!({
        "version": 2, "partitions": 1, "positions": null,
        "shards": [{ "partition": 0, "snapshot": {
            "version": 1, "windows": {}, "last_alert": { "gone-rule": [[["10.0.0.1"], 5]] },
            "event_buffers": {}, "event_ref_buffers": {}
        }, "quiet": [["gone-rule", ["10.0.0.1"], 99, 0]], "fed": [] }]
    });
    std::fs::write(&bad, state.to_string()).unwrap();
    let r = c.restore(&bad).unwrap().expect("read");
    assert_eq!(r.dropped, 2, "{r:?}");
    assert_eq!(r.windows, 0);
}
