//! Bus benchmarks: publish throughput of the embedded log for batches of 1, 100 and 1000
//! records of ~300 bytes under `fsync = never` and `fsync = always`, and fetch throughput.
//! One partition, so each publish is one write (+ one fsync under `always`).
//!
//! `cargo bench -p sen-core --bench bus` (kept short: 10 samples, 2 s of measurement).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sen_core::bus::embedded::{EmbeddedLog, FsyncPolicy, LogConfig, TopicConfig};
use sen_core::bus::{Bus, Message};

const TOPIC: &str = "bench";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn config(fsync: FsyncPolicy) -> LogConfig {
    LogConfig {
        topics: [(TOPIC.to_owned(), TopicConfig { partitions: 1 })].into_iter().collect(),
        fsync,
        segment_bytes: 64 << 20,
        // Bounds the disk used by a run.
        retention_bytes: Some(256 << 20),
        ..LogConfig::default()
    }
}

/// A syslog-like record of 300 bytes (key + payload).
fn record(i: usize) -> Message {
    let line = format!(
        "<34>1 2024-05-01T12:00:{:02}.{:03}Z web-{:02}.example.org sshd 4242 ID47 - Failed password \
         for invalid user admin{} from 203.0.113.{} port {} ssh2; session aborted after 3 \
         attempts, client banner SSH-2.0-libssh_0.9.6, kex curve25519-sha256",
        i % 60,
        i % 1000,
        i % 16,
        i % 97,
        i % 255,
        40_000 + i % 20_000
    );
    let key = format!("web-{:02}", i % 16).into_bytes();
    let mut payload = line.into_bytes();
    payload.resize(300 - key.len(), b'.');
    Message { key, payload, timestamp_ms: 1_714_564_800_000 + i as i64 }
}

fn publish(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("publish");
    group.sample_size(10).warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (name, fsync) in [("never", FsyncPolicy::Never), ("always", FsyncPolicy::Always)] {
        for batch in [1usize, 100, 1000] {
            let dir = tempfile::tempdir().expect("tempdir");
            let log = EmbeddedLog::open(dir.path(), config(fsync)).expect("open");
            let msgs: Vec<Message> = (0..batch).map(record).collect();
            let bytes: usize = msgs.iter().map(|m| m.key.len() + m.payload.len()).sum();
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(format!("fsync_{name}/batch_{batch}/{}B", bytes / batch), |b| {
                b.iter_batched(
                    || msgs.clone(),
                    |m| rt.block_on(log.publish(TOPIC, m)).expect("publish"),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

fn fetch(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), config(FsyncPolicy::Never)).expect("open");
    let total = 100_000u64;
    rt.block_on(async {
        for chunk in (0..total as usize).collect::<Vec<_>>().chunks(1000) {
            let msgs = chunk.iter().map(|&i| record(i)).collect();
            log.publish(TOPIC, msgs).await.expect("fill");
        }
    });
    let mut group = c.benchmark_group("fetch");
    group.sample_size(10).warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for max in [100usize, 1000] {
        group.throughput(Throughput::Elements(max as u64));
        let mut offset = 0u64;
        group.bench_function(format!("sequential/max_{max}"), |b| {
            b.iter(|| {
                let got =
                    rt.block_on(log.fetch(TOPIC, 0, offset, max, Duration::ZERO)).expect("fetch");
                offset = (offset + got.len() as u64) % (total - max as u64);
                black_box(got)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, publish, fetch);
criterion_main!(benches);
