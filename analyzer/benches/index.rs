//! Analyzer benchmarks over real log lines: the Elastic examples' `auth.log` (7,121 sshd/PAM
//! syslog lines of a brute-force attack) and `apache_access.log` (10,000 combined-format lines).
//!
//! Groups (throughput in events, except `search`, whose elements are queries):
//! * `parse_normalize`: `RawRecord` → `Event` with `pipeline::build_event` (empty enricher);
//! * `prepare_doc`: `IndexStore::prepare` (`Event` → Tantivy document);
//! * `index_commit`: add 20,000 prepared documents to a fresh store in a temporary directory and
//!   commit (opening the store and preparing the documents are excluded);
//! * `search`: on a store of ~51k events (three passes over both files, three commits, then
//!   reopened as after a restart): `search` (term, phrase, CIDR, everything; newest 50; also
//!   everything within one day), `histogram` (60 buckets requested) and `top_values` on keyword
//!   fields.
//!
//! Records carry a fixed receive time (2015-06-01T00:00:00Z), so year-less syslog dates resolve
//! to 2015, and the store keeps events forever (`max_age_days = 0`), so each event is filed under
//! its own UTC day: 25 day indexes for `auth.log`, 4 for `apache_access.log`, as production
//! would file them. The global allocator is mimalloc, as in the `sen` binary.
//!
//! `CARGO_TARGET_DIR=target-bench cargo bench -p sen-analyzer --bench index` (kept short: 10
//! samples, 1 s warm-up, 3 s of measurement per benchmark). The corpora live outside the
//! repository (`../../shared/corpora/public/logs/elastic-examples/`); without them the benchmark
//! prints a message and measures nothing.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sen_analyzer::enrich::{EnrichConfig, Enricher};
use sen_analyzer::index::{IndexConfig, IndexStore, Position, PreparedDoc, SearchRequest};
use sen_analyzer::pipeline::build_event;
use sen_core::Event;
use sen_core::raw::{Body, RawRecord, Transport};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Corpus files, relative to the analyzer crate.
const CORPORA: &[(&str, &str)] = &[
    ("auth", "../../shared/corpora/public/logs/elastic-examples/auth-bruteforce/auth.log"),
    ("apache", "../../shared/corpora/public/logs/elastic-examples/apache-access/apache_access.log"),
];

/// Documents per `index_commit` iteration.
const COMMIT_DOCS: usize = 20_000;
/// Passes over both corpora for the `search` store (3 × 17,121 = 51,363 events).
const SEARCH_PASSES: usize = 3;

struct Corpus {
    name: &'static str,
    lines: Vec<String>,
}

/// Both corpora, or `None` (after saying so once) when a file is missing.
fn corpora() -> Option<&'static [Corpus]> {
    static CORPORA_CELL: OnceLock<Option<Vec<Corpus>>> = OnceLock::new();
    CORPORA_CELL
        .get_or_init(|| {
            let base = Path::new(env!("CARGO_MANIFEST_DIR"));
            let mut out = Vec::new();
            for (name, rel) in CORPORA {
                let path: PathBuf = base.join(rel);
                match std::fs::read_to_string(&path) {
                    Ok(text) => out.push(Corpus {
                        name,
                        lines: text
                            .lines()
                            .filter(|l| !l.trim().is_empty())
                            .map(str::to_owned)
                            .collect(),
                    }),
                    Err(e) => {
                        println!(
                            "analyzer index benchmarks skipped: corpus {} unavailable ({e})",
                            path.display()
                        );
                        return None;
                    }
                }
            }
            Some(out)
        })
        .as_deref()
}

/// The fixed receive time (and "now") of every record.
fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 6, 1, 0, 0, 0).single().expect("valid time")
}

fn record(line: &str) -> RawRecord {
    RawRecord {
        received_ms: received().timestamp_millis(),
        transport: Transport::File,
        peer: None,
        organization: None,
        origin: None,
        format: None,
        body: Body::Line(line.to_owned()),
    }
}

fn enricher() -> Enricher {
    Enricher::new(&EnrichConfig::default()).expect("empty enricher")
}

/// Parsed events of `lines`, cycled to `n` events with distinct bus offsets (so distinct ids).
fn parse_events(lines: &[String], n: usize, enricher: &Enricher) -> Vec<(Event, Position, bool)> {
    let now = received();
    lines
        .iter()
        .cycle()
        .take(n)
        .enumerate()
        .map(|(i, line)| {
            let offset = i as u64;
            let (e, upsert) = build_event(record(line), 0, offset, chrono_tz::UTC, enricher, now);
            (e, Position { partition: 0, offset }, upsert)
        })
        .collect()
}

fn config() -> IndexConfig {
    IndexConfig { max_age_days: 0, min_free_bytes: 0, ..IndexConfig::default() }
}

fn prepare_all(store: &IndexStore, events: &[(Event, Position, bool)]) -> Vec<PreparedDoc> {
    let now = received();
    events.iter().map(|(e, pos, upsert)| store.prepare(e, Some(*pos), *upsert, now)).collect()
}

fn parse_normalize(c: &mut Criterion) {
    let Some(corpora) = corpora() else { return };
    let enricher = enricher();
    let now = received();
    let mut group = c.benchmark_group("parse_normalize");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for corpus in corpora {
        let records: Vec<RawRecord> = corpus.lines.iter().map(|l| record(l)).collect();
        group.throughput(Throughput::Elements(records.len() as u64));
        group.bench_function(corpus.name, |b| {
            b.iter_batched(
                || records.clone(),
                |recs| {
                    for (i, rec) in recs.into_iter().enumerate() {
                        black_box(build_event(rec, 0, i as u64, chrono_tz::UTC, &enricher, now));
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn prepare_doc(c: &mut Criterion) {
    let Some(corpora) = corpora() else { return };
    let enricher = enricher();
    let now = received();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = IndexStore::open(dir.path(), config()).expect("open store");
    let mut group = c.benchmark_group("prepare_doc");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for corpus in corpora {
        let events = parse_events(&corpus.lines, corpus.lines.len(), &enricher);
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_function(corpus.name, |b| {
            b.iter(|| {
                for (e, pos, upsert) in &events {
                    black_box(store.prepare(e, Some(*pos), *upsert, now));
                }
            })
        });
    }
    group.finish();
}

fn index_commit(c: &mut Criterion) {
    let Some(corpora) = corpora() else { return };
    let enricher = enricher();
    let mut group = c.benchmark_group("index_commit");
    // One iteration is a whole fresh index: flat sampling keeps it to ~10 of them.
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5)).sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(COMMIT_DOCS as u64));
    for corpus in corpora {
        let events = parse_events(&corpus.lines, COMMIT_DOCS, &enricher);
        group.bench_function(format!("{}/{COMMIT_DOCS}", corpus.name), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store = IndexStore::open(dir.path(), config()).expect("open store");
                    let docs = prepare_all(&store, &events);
                    (store, dir, docs)
                },
                |(store, dir, docs)| {
                    let added = store.add_prepared(docs).expect("add");
                    assert_eq!(added, COMMIT_DOCS);
                    store.commit(Duration::from_secs(3600)).expect("commit");
                    // Returned so that closing the writers and deleting the directory are not
                    // timed (the store drops before the directory).
                    (store, dir)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// A store of `SEARCH_PASSES` passes over every corpus, committed once per pass, writers closed,
/// then reopened.
fn search_store(corpora: &[Corpus]) -> (tempfile::TempDir, IndexStore, usize) {
    let enricher = enricher();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut total = 0;
    {
        let store = IndexStore::open(dir.path(), config()).expect("open store");
        let mut offset = 0u64;
        for _ in 0..SEARCH_PASSES {
            for corpus in corpora {
                let now = received();
                let docs: Vec<PreparedDoc> = corpus
                    .lines
                    .iter()
                    .map(|line| {
                        let (e, upsert) =
                            build_event(record(line), 0, offset, chrono_tz::UTC, &enricher, now);
                        let pos = Position { partition: 0, offset };
                        offset += 1;
                        store.prepare(&e, Some(pos), upsert, now)
                    })
                    .collect();
                total += store.add_prepared(docs).expect("add");
            }
            store.commit(Duration::from_secs(3600)).expect("commit");
        }
        // Close the writers (waiting for merges) so nothing runs in the background.
        store.commit(Duration::ZERO).expect("close writers");
    }
    let store = IndexStore::open(dir.path(), config()).expect("reopen store");
    let indexed: u64 = store.doc_counts().values().sum();
    assert_eq!(indexed as usize, total, "every event is searchable");
    (dir, store, total)
}

fn search(c: &mut Criterion) {
    let Some(corpora) = corpora() else { return };
    let (_dir, store, total) = search_store(corpora);
    let from = Utc.with_ymd_and_hms(2015, 3, 1, 0, 0, 0).single().expect("valid time");
    let to = received();
    println!("search: {total} events in {} day indexes", store.doc_counts().len());

    let mut group = c.benchmark_group("search");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    // One element = one query.
    group.throughput(Throughput::Elements(1));
    let queries = [
        ("term", "event.outcome:failure"),
        ("phrase", "\"failed password\""),
        ("cidr", "source.ip:66.249.0.0/16"),
        ("all", ""),
    ];
    for (name, q) in queries {
        let req = SearchRequest { q: q.to_owned(), from, to, limit: 50, offset: 0 };
        let r = store.search(&req).expect("search");
        assert!(r.total > 0 && !r.hits.is_empty(), "`{q}` matches");
        println!("search/{name}_newest50: `{q}` matches {} events", r.total);
        group.bench_function(format!("{name}_newest50"), |b| {
            b.iter(|| black_box(store.search(&req).expect("search")))
        });
    }

    // The same, over one day (one day index) instead of the whole span (29 of them).
    let day_from = Utc.with_ymd_and_hms(2015, 5, 19, 0, 0, 0).single().expect("valid time");
    let day = SearchRequest {
        q: String::new(),
        from: day_from,
        to: day_from + chrono::Duration::days(1),
        limit: 50,
        offset: 0,
    };
    println!(
        "search/all_newest50_one_day: matches {} events",
        store.search(&day).expect("search").total
    );
    group.bench_function("all_newest50_one_day", |b| {
        b.iter(|| black_box(store.search(&day).expect("search")))
    });

    let h = store.histogram("", from, to, 60).expect("histogram");
    assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>() as usize, total);
    println!("search/histogram_60: {} buckets of {} ms", h.buckets.len(), h.interval_ms);
    group.bench_function("histogram_60", |b| {
        b.iter(|| black_box(store.histogram("", from, to, 60).expect("histogram")))
    });

    for (field, q) in [("url.path", ""), ("user.name", "event.action:ssh_login")] {
        let t = store.top_values(field, q, from, to, 10).expect("top values");
        assert!(!t.values.is_empty() && !t.sampled, "{field} has a column");
        println!(
            "search/top_values_{field}: `{q}` matches {}, top `{}` ×{}",
            t.total, t.values[0].value, t.values[0].count
        );
        group.bench_function(format!("top_values_{field}"), |b| {
            b.iter(|| black_box(store.top_values(field, q, from, to, 10).expect("top values")))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_normalize, prepare_doc, index_commit, search);
criterion_main!(benches);
