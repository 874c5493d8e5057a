//! Per-parser throughput over real corpus lines (lines/s: criterion reports elements/s).
//!
//! Run: `CARGO_TARGET_DIR=target-parse cargo bench -p sen-parse --bench parsers`
//! (only the Windows JSON group: `… --bench parsers -- normalize_json`)
//! Each iteration normalizes every line of the sample once, including building the `Event`
//! (as the pipeline does), with `Format::Auto`.

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sen_core::event::Event;
use sen_parse::{Context, Format, normalize_json, normalize_line};

use common::{CORPORA, lines};

fn jsonl_field(rel: &str, field: &str) -> Option<Vec<String>> {
    Some(
        lines(rel)?
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get(field)?.as_str().map(str::to_owned))
            .collect(),
    )
}

fn bench_set(c: &mut Criterion, name: &str, sample: Option<Vec<String>>, format: Format) {
    let Some(sample) = sample else { return };
    if sample.is_empty() {
        return;
    }
    let ctx = Context::new(
        DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").unwrap().with_timezone(&Utc),
    );
    let mut g = c.benchmark_group("normalize_line");
    g.throughput(Throughput::Elements(sample.len() as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            for line in &sample {
                let mut e = Event::new(String::new(), ctx.received, line.as_str());
                black_box(normalize_line(&mut e, format, &ctx));
                black_box(&e);
            }
        })
    });
    g.finish();
}

/// Every non-empty line of every `*.ndjson` file under `rel` (recursively).
fn ndjson_tree(rel: &str) -> Option<Vec<String>> {
    let root = PathBuf::from(CORPORA).join(rel);
    if !root.exists() {
        eprintln!("SKIP: {} not found", root.display());
        return None;
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for p in entries.flatten().map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ndjson")
                && let Ok(b) = std::fs::read(&p)
            {
                let text = String::from_utf8_lossy(&b);
                out.extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned));
            }
        }
    }
    Some(out)
}

/// Windows events per second through `normalize_json`, JSON decoding included (as the pipeline
/// does for an ingest record: `serde_json::from_str`, then `normalize_json`).
fn bench_json(c: &mut Criterion, name: &str, sample: Option<Vec<String>>) {
    let Some(sample) = sample.filter(|s| !s.is_empty()) else { return };
    let ctx = Context::new(
        DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").unwrap().with_timezone(&Utc),
    );
    let mut g = c.benchmark_group("normalize_json");
    g.throughput(Throughput::Elements(sample.len() as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            for line in &sample {
                let mut e = Event::new(String::new(), ctx.received, line.as_str());
                if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str(line) {
                    black_box(normalize_json(&mut e, obj, &ctx));
                }
                black_box(&e);
            }
        })
    });
    g.finish();
}

fn windows(c: &mut Criterion) {
    bench_json(
        c,
        "windows evtx-attack-samples (evtx_dump)",
        ndjson_tree("windows-events/evtx-attack-samples"),
    );
    bench_json(c, "windows mordor (NXLog/flat)", ndjson_tree("windows-events/mordor/windows"));
}

fn parsers(c: &mut Criterion) {
    bench_set(
        c,
        "auth.log (sshd/sudo/pam)",
        lines("logs/elastic-examples/auth-bruteforce/auth.log"),
        Format::Auto,
    );
    bench_set(
        c,
        "apache_access.log",
        lines("logs/elastic-examples/apache-access/apache_access.log"),
        Format::Auto,
    );
    bench_set(c, "Linux_2k.log (rfc3164)", lines("logs/loghub/Linux/Linux_2k.log"), Format::Auto);
    bench_set(
        c,
        "Apache_2k.log (error log)",
        lines("logs/loghub/Apache/Apache_2k.log"),
        Format::Auto,
    );
    let mut cef = jsonl_field("formats/cef-logstash-codec-cef/cef_edge_case_inputs.jsonl", "input")
        .unwrap_or_default();
    if let Some(v) = lines("formats/vrl-parse-functions/vrl_parse_vectors.jsonl") {
        cef.extend(
            v.iter()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|v| v["function"] == "parse_cef")
                .filter_map(|v| v["args"]["value"].as_str().map(str::to_owned)),
        );
    }
    bench_set(c, "CEF vectors", Some(cef), Format::Auto);
    let syslog5424: Option<Vec<String>> =
        jsonl_field("formats/syslog-go-syslog/go_syslog_vectors.jsonl", "input")
            .map(|v| v.into_iter().filter(|l| l.starts_with('<') && l.contains(">1 ")).collect());
    bench_set(c, "go-syslog 5424 vectors", syslog5424, Format::Auto);
    // Network devices: the FortiOS, VRP and Junos lines of the rule packs' golden tests (no
    // public corpus has FortiGate logs).
    let golden = |name: &str| -> Option<Vec<String>> {
        let p =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/tests/golden").join(name);
        let text = std::fs::read_to_string(&p).ok()?;
        Some(
            text.lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect(),
        )
    };
    bench_set(c, "FortiGate (key=value, CEF)", golden("sigmahq_fortigate.log"), Format::Auto);
    bench_set(c, "Huawei VRP and Junos", golden("sigmahq_routers.log"), Format::Auto);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = parsers, windows
}
criterion_main!(benches);
