//! Zeek corpus: the Mordor APT29 day-1 Zeek logs (`@stream` JSON with underscored names), every
//! record normalized, and the log inferred from the fields alone when `@stream` is taken away.
//!
//! Reproduce: `CARGO_TARGET_DIR=target-zeek cargo test -p sen-parse --test zeek -- --nocapture`

mod common;

use std::collections::BTreeMap;

use chrono::Utc;
use sen_core::event::{Event, TAG_PARSE_FAILURE, Value};
use sen_parse::{Context, Parser, normalize_json};

fn normalize(obj: serde_json::Map<String, serde_json::Value>, line: &str) -> Event {
    let ctx = Context::new(Utc::now());
    let mut e = Event::new("z".into(), ctx.received, line);
    let o = normalize_json(&mut e, obj, &ctx);
    assert!(o.matched(Parser::Zeek), "{line}");
    e
}

#[test]
fn mordor_apt29_every_record_and_inference_without_stream() {
    let Some(dir) = common::corpus("logs/zeek/mordor-apt29-day1") else { return };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 26);
    let (mut records, mut inferred) = (0, 0);
    // log → records whose fields alone did not name it (what was inferred instead).
    let mut not_inferred: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let serde_json::Value::Object(obj) = serde_json::from_str(line).unwrap() else {
                panic!("{}: not an object", f.display())
            };
            let stream = obj["@stream"].as_str().unwrap().to_owned();
            let e = normalize(obj.clone(), line);
            records += 1;
            assert!(!e.has_tag(TAG_PARSE_FAILURE), "{}: {e}", f.display());
            assert_eq!(e.get_str("event.dataset"), Some(format!("zeek.{stream}").as_str()));
            assert_eq!(e.get_str("event.module"), Some("zeek"));
            assert!(e.get_str("observer.hostname").is_some());
            let ts = obj["ts"].as_f64().unwrap();
            assert!((e.timestamp.timestamp_micros() as f64 / 1e6 - ts).abs() < 1e-5, "{line}");
            // Underscored names are Zeek's dotted ones again.
            if obj.contains_key("id_orig_h") {
                let p = format!("zeek.{stream}.id.orig_h");
                assert!(e.get(&p).is_some(), "{p} in {e}");
                assert!(matches!(e.fields.get("source.ip"), Some(Value::Ip(_))), "{e}");
                assert!(e.get("related.ip").is_some());
            }
            // Every field of the record is kept under zeek.<log>.
            let zeek_fields = e.fields.keys().filter(|k| k.starts_with("zeek.")).count();
            assert!(zeek_fields + 3 >= obj.len(), "{line} → {e}");

            let mut bare = obj;
            for k in ["@stream", "@system", "@proc"] {
                bare.remove(k);
            }
            let e = normalize(bare, line);
            let got = e.get_str("event.dataset").unwrap().trim_start_matches("zeek.").to_owned();
            if got == stream {
                inferred += 1;
            } else {
                *not_inferred.entry(stream).or_default().entry(got).or_default() += 1;
            }
        }
    }
    eprintln!("{records} records; log inferred from the fields alone: {inferred}");
    eprintln!("not inferred: {not_inferred:?}");
    assert_eq!(records, 2140);
    // Only kerberos records holding nothing but the connection id (10 of 35) do not tell their
    // log; they are `zeek.unknown`, never another log.
    let expected: BTreeMap<String, BTreeMap<String, usize>> =
        [("kerberos".to_owned(), [("unknown".to_owned(), 10)].into())].into();
    assert_eq!(not_inferred, expected);
    assert_eq!(inferred, records - 10);
}
