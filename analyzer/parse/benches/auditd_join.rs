//! Linux audit records per second, parsed (as every record is) and parsed and joined as the
//! analyzer pipeline does (`auditd::join`: the record events moved into the joiner once their
//! documents are built), in the same run; with mimalloc, the allocator of the `sen` binary.
//!
//! Run: `CARGO_TARGET_DIR=target-parse cargo bench -p sen-parse --bench auditd_join`

mod common;

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sen_core::event::Event;
use sen_parse::{Context, Format, normalize_line};

use common::lines;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A stream of audit records: the 18 records of the two Mordor auditd datasets (`arp -a |
/// grep -v ^?` and `dd`, three kernel events), repeated with fresh serials, with (`eoe`) or
/// without an EOE record after each kernel event.
fn audit_stream(copies: u64, eoe: bool) -> Option<Vec<String>> {
    let mut records = lines("windows-events/mordor/linux/discovery/host/sh_arp_cache.log")?;
    records.extend(lines(
        "windows-events/mordor/linux/defense_evasion/host/sh_binary_padding_dd.log",
    )?);
    records.retain(|l| l.starts_with("type="));
    let mut out = Vec::new();
    for n in 0..copies {
        let mut prev: Option<String> = None;
        for r in &records {
            let (head, rest) = r.split_once("msg=audit(")?;
            let (stamp, tail) = rest.split_once("): ")?;
            let (time, serial) = stamp.split_once(':')?;
            let serial: u64 = serial.parse().ok()?;
            let stamp = format!("{time}:{}", serial * 1000 + n);
            if eoe && prev.as_deref().is_some_and(|p| p != stamp) {
                out.push(format!("type=EOE msg=audit({}): ", prev.unwrap_or_default()));
            }
            out.push(format!("{head}msg=audit({stamp}): {tail}"));
            prev = Some(stamp);
        }
        if let Some(p) = prev.filter(|_| eoe) {
            out.push(format!("type=EOE msg=audit({p}): "));
        }
    }
    Some(out)
}

/// One record parsed as the pipeline does.
fn parse(i: usize, line: &str, ctx: &Context) -> Event {
    let mut e = Event::new(format!("r{i}"), ctx.received, line);
    black_box(normalize_line(&mut e, Format::Auto, ctx));
    e
}

/// Join the joinable events in order; the number of events the joiner gave back.
fn join(events: impl Iterator<Item = (usize, Event)>) -> usize {
    use sen_parse::auditd::join::{Joiner, joinable};
    let mut joiner = Joiner::default();
    let mut out = Vec::new();
    let mut joined = 0usize;
    for (i, e) in events {
        if joinable(&e) {
            joiner.push(i as u64, e, &mut out);
            joined += out.len();
            out.clear();
        }
    }
    joiner.flush(&mut out);
    joined + out.len()
}

/// Both variants over the stream with and without EOE records.
fn auditd_join(c: &mut Criterion) {
    let ctx = Context::new(
        DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").unwrap().with_timezone(&Utc),
    );
    for (name, eoe) in [("with EOE", true), ("without EOE", false)] {
        let Some(sample) = audit_stream(400, eoe) else { return };
        let mut g = c.benchmark_group("auditd_join");
        g.throughput(Throughput::Elements(sample.len() as u64));
        g.bench_function(format!("parse only, {name}"), |b| {
            b.iter(|| {
                for (i, line) in sample.iter().enumerate() {
                    black_box(parse(i, line, &ctx));
                }
            })
        });
        // Each record is parsed right before it is joined (the iterator is lazy).
        g.bench_function(format!("parse and join, {name}"), |b| {
            b.iter(|| {
                let events = sample.iter().enumerate().map(|(i, line)| {
                    let e = parse(i, line, &ctx);
                    black_box(&e);
                    (i, e)
                });
                black_box(join(events))
            })
        });
        // The join alone, over events parsed beforehand (their cloning is not timed).
        let parsed: Vec<Event> =
            sample.iter().enumerate().map(|(i, line)| parse(i, line, &ctx)).collect();
        g.bench_function(format!("join only, {name}"), |b| {
            b.iter_batched(
                || parsed.clone(),
                |events| black_box(join(events.into_iter().enumerate())),
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = auditd_join
}
criterion_main!(benches);
