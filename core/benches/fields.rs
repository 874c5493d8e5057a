//! An event's fields (ADR 0013): building a Windows-shaped field set (40 names, in the order a
//! parser writes them) and looking names up, `Fields` against the `BTreeMap<String, Value>` it
//! replaced, in the same run.
//!
//! `cargo bench -p sen-core --bench fields`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sen_core::event::{Fields, Value};

/// Names as the Windows parser writes them: event data in the event's order, then ECS fields.
fn names() -> Vec<String> {
    let data = [
        "RuleName",
        "UtcTime",
        "ProcessGuid",
        "ProcessId",
        "Image",
        "FileVersion",
        "Description",
        "Product",
        "Company",
        "OriginalFileName",
        "CommandLine",
        "CurrentDirectory",
        "User",
        "LogonGuid",
        "LogonId",
        "TerminalSessionId",
        "IntegrityLevel",
        "Hashes",
        "ParentProcessGuid",
        "ParentProcessId",
        "ParentImage",
        "ParentCommandLine",
        "ParentUser",
    ];
    let mut v: Vec<String> = data.iter().map(|d| format!("winlog.event_data.{d}")).collect();
    v.extend(
        [
            "winlog.channel",
            "winlog.event_id",
            "winlog.provider_name",
            "winlog.computer_name",
            "winlog.record_id",
            "event.code",
            "event.kind",
            "event.category",
            "event.type",
            "host.name",
            "process.pid",
            "process.executable",
            "process.command_line",
            "process.parent.executable",
            "user.name",
            "user.domain",
            "log.level",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v
}

fn bench(c: &mut Criterion) {
    let names = names();
    let values: Vec<Value> =
        (0..names.len()).map(|i| Value::Str(format!("value number {i}"))).collect();
    let mut g = c.benchmark_group("fields");
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(20);
    g.throughput(Throughput::Elements(names.len() as u64));
    g.bench_function("build/fields", |b| {
        b.iter(|| {
            let mut f = Fields::new();
            for (k, v) in names.iter().zip(&values) {
                f.insert(k.as_str(), v.clone());
            }
            black_box(f)
        })
    });
    g.bench_function("build/btreemap", |b| {
        b.iter(|| {
            let mut f = BTreeMap::new();
            for (k, v) in names.iter().zip(&values) {
                f.insert(k.clone(), v.clone());
            }
            black_box(f)
        })
    });
    let fields: Fields = names.iter().map(|k| k.as_str()).zip(values.iter().cloned()).collect();
    let map: BTreeMap<String, Value> = names.iter().cloned().zip(values.iter().cloned()).collect();
    let probes: Vec<String> =
        names.iter().cloned().chain(names.iter().map(|n| format!("{n}X"))).collect();
    g.throughput(Throughput::Elements(probes.len() as u64));
    g.bench_function("get/fields", |b| {
        b.iter(|| probes.iter().filter(|p| fields.get(p).map(black_box).is_some()).count())
    });
    g.bench_function("get/btreemap", |b| {
        b.iter(|| probes.iter().filter(|p| map.get(p.as_str()).map(black_box).is_some()).count())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
