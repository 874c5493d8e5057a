//! Threat intel benchmarks: the ingest-time matcher over 100,000 indicators and a realistic
//! event mix.
//!
//! Indicators (deterministic pseudo-random, 100,000 in all): 40,000 IPv4 and 5,000 IPv6
//! addresses, 8,000 IPv4 and 2,000 IPv6 networks (/16 to /30 and /32 to /64, overlapping
//! freely), 25,000 domains, 10,000 URLs and 10,000 hashes (MD5, SHA-1, SHA-256), plus a few
//! planted indicators that occur in the events (a Sysmon image hash, a multicast address, a
//! parent domain of a DNS query), so the hit path runs too.
//!
//! Events (parsed by the real pipeline, `pipeline::build_event`): every Sysmon and Security
//! event of the OTRF Mordor Windows datasets (~16,700, many fields each, hashes, DNS queries,
//! connections), the Elastic examples' `auth.log` (7,121 sshd lines, source IPs) and
//! `apache_access.log` (10,000 lines, client IPs and URLs): ~33,800 events, matched in turn.
//!
//! Groups:
//! * `intel/match`: `IocSet::match_event` per event (throughput in events);
//! * `intel/build`: `IocSet::build` over the 100,000 indicators.
//!
//! `SEN_CORPORA=/path/to/corpora/public cargo bench -p sen-analyzer --bench intel` (default:
//! `../../shared/corpora/public` from the analyzer crate, as `benches/index.rs`). Without the
//! corpora the benchmark prints a message and measures nothing.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sen_analyzer::alerts::Level;
use sen_analyzer::enrich::{EnrichConfig, Enricher};
use sen_analyzer::intel::{FeedInfo, Ioc, IocKind, IocSet, IocValue};
use sen_analyzer::pipeline::build_event;
use sen_core::Event;
use sen_core::raw::{Body, RawRecord, Transport};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpora_dir() -> PathBuf {
    match std::env::var_os("SEN_CORPORA") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/public"),
    }
}

/// `(is_json, line)` of every corpus record, or `None` when a corpus is missing.
fn corpus_lines() -> Option<Vec<(bool, String)>> {
    let dir = corpora_dir();
    let mut out = Vec::new();
    let mut files: Vec<(bool, PathBuf)> = vec![
        (false, dir.join("logs/elastic-examples/auth-bruteforce/auth.log")),
        (false, dir.join("logs/elastic-examples/apache-access/apache_access.log")),
    ];
    let mordor = dir.join("windows-events/mordor/windows");
    let Ok(tactics) = std::fs::read_dir(&mordor) else {
        println!("intel benchmarks skipped: {} unavailable", mordor.display());
        return None;
    };
    for tactic in tactics.flatten() {
        if let Ok(host) = std::fs::read_dir(tactic.path().join("host")) {
            for f in host.flatten() {
                if f.path().extension().is_some_and(|e| e == "ndjson") {
                    files.push((true, f.path()));
                }
            }
        }
    }
    files.sort();
    for (json, path) in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => out.extend(
                text.lines().filter(|l| !l.trim().is_empty()).map(|l| (json, l.to_owned())),
            ),
            Err(e) => {
                println!("intel benchmarks skipped: {} unavailable ({e})", path.display());
                return None;
            }
        }
    }
    Some(out)
}

fn events(lines: &[(bool, String)]) -> Vec<Event> {
    let now = Utc.with_ymd_and_hms(2020, 11, 1, 0, 0, 0).single().expect("valid time");
    let enricher = Enricher::new(&EnrichConfig::default()).expect("empty enricher");
    lines
        .iter()
        .enumerate()
        .map(|(i, (json, line))| {
            let rec = RawRecord {
                received_ms: now.timestamp_millis(),
                transport: Transport::File,
                peer: None,
                organization: None,
                origin: None,
                format: None,
                body: if *json { Body::Json(line.clone()) } else { Body::Line(line.clone()) },
            };
            build_event(rec, 0, i as u64, chrono_tz::UTC, &enricher, now).0
        })
        .collect()
}

/// xorshift64*: deterministic indicators without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn word(&mut self, len: usize) -> String {
        (0..len).map(|_| (b'a' + self.below(26) as u8) as char).collect()
    }
    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0')).collect()
    }
}

fn indicators() -> Vec<Arc<Ioc>> {
    let feeds = [FeedInfo::new("bench-a", Level::High), FeedInfo::new("bench-b", Level::Medium)];
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut out = Vec::with_capacity(100_000);
    let mut push = |rng: &mut Rng, kind: IocKind, text: String| {
        let feed = feeds[rng.below(2) as usize].clone();
        let value = IocValue::parse(kind, &text).expect("generated indicators are valid");
        out.push(Arc::new(Ioc::new(value, feed, format!("bench-{}", out.len()))));
    };
    let tlds = ["com", "net", "org", "ru", "cn", "info", "xyz", "top", "vn"];
    for _ in 0..40_000 {
        let ip = std::net::Ipv4Addr::from(rng.next() as u32);
        push(&mut rng, IocKind::Ip, ip.to_string());
    }
    for _ in 0..5_000 {
        let ip = std::net::Ipv6Addr::from(u128::from(rng.next()) << 64 | u128::from(rng.next()));
        push(&mut rng, IocKind::Ip, ip.to_string());
    }
    for _ in 0..8_000 {
        // /16 to /30, as blocklists of networks (Spamhaus DROP: /11 to /24) are.
        let len = 16 + rng.below(15);
        let ip = std::net::Ipv4Addr::from(rng.next() as u32);
        push(&mut rng, IocKind::Cidr, format!("{ip}/{len}"));
    }
    for _ in 0..2_000 {
        let len = 32 + rng.below(33);
        let ip = std::net::Ipv6Addr::from(u128::from(rng.next()) << 64);
        push(&mut rng, IocKind::Cidr, format!("{ip}/{len}"));
    }
    for _ in 0..25_000 {
        let labels = 1 + rng.below(3) as usize;
        let mut name: Vec<String> = (0..labels)
            .map(|_| {
                let len = 4 + rng.below(8) as usize;
                rng.word(len)
            })
            .collect();
        name.push(tlds[rng.below(tlds.len() as u64) as usize].to_string());
        push(&mut rng, IocKind::Domain, name.join("."));
    }
    for _ in 0..10_000 {
        let host = format!("{}.{}", rng.word(8), tlds[rng.below(tlds.len() as u64) as usize]);
        let path = rng.word(10);
        let id = rng.below(1000);
        push(&mut rng, IocKind::Url, format!("http://{host}/{path}.php?id={id}"));
    }
    for i in 0..10_000 {
        let (kind, len) = match i % 3 {
            0 => (IocKind::Md5, 32),
            1 => (IocKind::Sha1, 40),
            _ => (IocKind::Sha256, 64),
        };
        let h = rng.hex(len);
        push(&mut rng, kind, h);
    }
    // Planted: present in the Mordor events.
    push(
        &mut rng,
        IocKind::Sha256,
        "EAAE8536D554D0E86D8540A8B34DB2649BD884843F389495D0B6E91636C6CF54".into(),
    );
    push(&mut rng, IocKind::Ip, "239.255.255.250".into());
    push(&mut rng, IocKind::Domain, "githubusercontent.com".into());
    out
}

fn bench(c: &mut Criterion) {
    let Some(lines) = corpus_lines() else { return };
    let events = events(&lines);
    let iocs = indicators();
    let set = IocSet::build(iocs.iter().cloned());
    let mut hits = Vec::new();
    let mut total = 0;
    let mut with_hits = 0;
    for e in &events {
        hits.clear();
        set.match_event(e, &mut hits);
        total += hits.len();
        with_hits += usize::from(!hits.is_empty());
    }
    println!(
        "intel bench: {} indicators, {} events ({} fields on average), {total} hits in {with_hits} events",
        set.len(),
        events.len(),
        events.iter().map(|e| e.fields.len()).sum::<usize>() / events.len().max(1),
    );

    let mut group = c.benchmark_group("intel");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("match", |b| {
        let mut hits = Vec::with_capacity(16);
        b.iter(|| {
            let mut n = 0;
            for e in &events {
                hits.clear();
                set.match_event(black_box(e), &mut hits);
                n += hits.len();
            }
            black_box(n)
        })
    });
    group.throughput(Throughput::Elements(iocs.len() as u64));
    group.bench_function("build", |b| {
        b.iter(|| black_box(IocSet::build(iocs.iter().cloned())).len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
