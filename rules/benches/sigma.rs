//! Sigma detection throughput (issue "Detection", item 3; ADR 0008).
//!
//! Loads every SigmaHQ rule (`shared/corpora/public/sigma/rules/rules`, 3,141) and evaluates the
//! EVTX-ATTACK-SAMPLES events (5,250), the Mordor Windows datasets and the regression-pair
//! events, normalized by sen-parse as `sen serve` would. In the same run it evaluates the same
//! rules and events with `rsigma-eval` used plainly, as its README shows (`Engine::add_rules`,
//! `engine.evaluate(&JsonEvent::borrow(&flat))` over the flattened event JSON), and prints the
//! ratio, and then does the same with `sigma-rust` (about 100 events/s here, so it walks only
//! as many events as the measuring time allows).
//!
//! Sen is evaluated through `DetectionEngine::evaluate`, the pipeline's path, whose matches name
//! their rule (alerts read the rule by index; the correlator builds the headers it needs);
//! rsigma-eval's results also carry the rule's header and the matched selections and fields
//! (Sen's `SigmaEngine::evaluate_event` does too, for `sen rules test`).
//!
//! It also measures detection in the pipeline's order (normalize a line, then evaluate the
//! event just built) against normalizing alone, and prints the engine's live heap (a counting
//! allocator over mimalloc) next to RSS.
//!
//! `cargo bench -p sen-rules --bench sigma` — set `SEN_BENCH_SECS` to change the measuring time,
//! `SEN_BENCH_PEERS=0` to skip the peers. `SEN_BENCH_FIXED=N` instead evaluates each event set
//! exactly N times (and the attack-sample lines N times in the pipeline's order, normalizing
//! alone and then normalizing and evaluating) and prints the CPU time per event (the thread's
//! run time from `/proc/thread-self/schedstat`): a fixed amount of work, for
//! `perf stat -e instructions` or for comparing builds on a busy machine (CPU time and
//! instruction counts move far less with load than wall-clock rates). `SEN_BENCH_THREADS=T`
//! evaluates the attack samples on T threads at once and prints each one's CPU per event.
//! `SEN_BENCH_ONLY=<set>` (`evtx-attack-samples`, `mordor-windows`, `regression-pairs`) loads
//! and measures that event set alone (with `SEN_BENCH_FIXED`, nothing else: for profiling).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sen_core::event::Event;
use sen_rules::sigma::{DetectionEngine, SigmaEngine};

#[path = "../tests/common/mod.rs"]
mod common;

#[global_allocator]
static GLOBAL: LiveHeap = LiveHeap;

/// mimalloc (as `sen serve` uses) counting the bytes currently allocated: RSS also holds what
/// the allocator keeps after frees (the parsed rules), the live heap is what the engine holds.
struct LiveHeap;

static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

#[allow(unsafe_code)] // a GlobalAlloc cannot be written without it; forwards to mimalloc
mod live_heap {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::Ordering::Relaxed;

    use super::{LIVE, LiveHeap};

    // SAFETY: every call forwards to mimalloc unchanged; the counter is an atomic.
    unsafe impl GlobalAlloc for LiveHeap {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            LIVE.fetch_add(l.size() as isize, Relaxed);
            // SAFETY: the caller upholds GlobalAlloc's contract.
            unsafe { mimalloc::MiMalloc.alloc(l) }
        }
        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            LIVE.fetch_add(l.size() as isize, Relaxed);
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            LIVE.fetch_sub(l.size() as isize, Relaxed);
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
            LIVE.fetch_add(n as isize - l.size() as isize, Relaxed);
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.realloc(p, l, n) }
        }
    }
}

/// mimalloc's `mi_collect(true)`: return this thread's free pages to the system.
#[allow(unsafe_code)] // an FFI call; mimalloc allows it from any thread at any time
fn release_free_memory() {
    // SAFETY: no arguments but a flag; it only walks mimalloc's own structures.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

fn live_mb() -> f64 {
    LIVE.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6
}

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/public");
    dir.is_dir().then_some(dir)
}

/// (normalized events, the same events as flat JSON for rsigma plain)
fn load_events(files: &[PathBuf]) -> Vec<Event> {
    let ctx = sen_parse::Context {
        received: chrono::Utc::now(),
        timezone: chrono_tz::UTC,
        peer_ip: None,
    };
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        for (i, l) in text.lines().enumerate() {
            let Ok(serde_json::Value::Object(map)) = serde_json::from_str(l) else { continue };
            let mut e = Event::new(format!("{}#{i}", f.display()), chrono::Utc::now(), l);
            sen_parse::normalize_json(&mut e, map, &ctx);
            out.push(e);
        }
    }
    out
}

/// The EVTX-ATTACK-SAMPLES lines, as the pipeline receives them.
fn evtx_lines(dir: &Path) -> Vec<String> {
    let files = common::tree_files(&dir.join("windows-events/evtx-attack-samples"), &["ndjson"]);
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| t.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// Normalize one line as a parse worker does.
fn parse_line(l: &str) -> Event {
    let ctx = sen_parse::Context {
        received: chrono::Utc::now(),
        timezone: chrono_tz::UTC,
        peer_ip: None,
    };
    let mut e = Event::new(String::new(), ctx.received, l);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(l) {
        sen_parse::normalize_json(&mut e, map, &ctx);
    }
    e
}

/// The rsigma README's way: flatten the raw event JSON (Event.System + Event.EventData).
fn flat_json(e: &Event) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, v) in &e.fields {
        let key = k
            .strip_prefix("winlog.event_data.")
            .or_else(|| k.strip_prefix("winlog.user_data."))
            .unwrap_or(k);
        m.insert(key.to_owned(), v.to_json());
    }
    if let Some(id) = e.fields.get("winlog.event_id") {
        m.insert("EventID".into(), id.to_json());
    }
    if let Some(c) = e.fields.get("winlog.channel") {
        m.insert("Channel".into(), c.to_json());
    }
    serde_json::Value::Object(m)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU time of this thread so far, in seconds.
fn cpu_secs() -> f64 {
    // /proc/thread-self/schedstat: time on the CPU in nanoseconds (finer than clock ticks).
    if let Some(ns) = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()))
    {
        return ns / 1e9;
    }
    // /proc/thread-self/stat: utime and stime (fields 14 and 15) in clock ticks.
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command: state is index 0, so utime (14th) is 11 and stime 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn rate(mut f: impl FnMut() -> usize, secs: f64) -> f64 {
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed().as_secs_f64() < secs {
        n += f();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let Some(dir) = corpus() else {
        eprintln!("corpus absent: nothing to measure");
        return;
    };
    let secs: f64 =
        std::env::var("SEN_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    // The events first, so that what the engine's load frees and hands back does not decide
    // where they live.
    let mut sets: Vec<(&str, Vec<Event>)> = Vec::new();
    let only = std::env::var("SEN_BENCH_ONLY").ok();
    for (name, sub) in [
        ("evtx-attack-samples", "windows-events/evtx-attack-samples"),
        ("mordor-windows", "windows-events/mordor/windows"),
        ("regression-pairs", "sigma/regression_pairs"),
    ] {
        if only.as_deref().is_none_or(|o| o == name) {
            sets.push((name, load_events(&common::tree_files(&dir.join(sub), &["ndjson"]))));
        }
    }
    if sets.is_empty() {
        eprintln!(
            "SEN_BENCH_ONLY names no event set: evtx-attack-samples, mordor-windows, regression-pairs"
        );
        return;
    }
    let rss0 = rss_mb();
    let live0 = live_mb();
    let t = Instant::now();
    let (engine, set, report) = SigmaEngine::load(&[dir.join("sigma/rules/rules")]);
    // `sen serve` drops the parsed rules once compiled; so does the measurement.
    drop(set);
    // As `sen serve` does once the rules are loaded: hand the parse's free pages back.
    release_free_memory();
    // As `sen serve` does: after a rebuild without common needles, the same.
    sen_rules::sigma::engine::set_release_hook(release_free_memory);
    let load_s = t.elapsed().as_secs_f64();
    let live_loaded = live_mb() - live0;
    // Warm the class plans, then measure memory with the engine built (the events were loaded
    // before `rss0`, so the growth is the engine's).
    let mut hits = Vec::new();
    for (_, evs) in &sets {
        for e in evs {
            hits.clear();
            engine.evaluate(e, &mut hits);
        }
    }
    let rss_sen = rss_mb() - rss0;
    let live_plans = live_mb() - live0 - live_loaded;
    let st = engine.stats();
    eprintln!(
        "sen: {} rules loaded in {load_s:.2}s ({} prefiltered); engine RSS ≈ {rss_sen:.0} MB, live heap {:.0} MB ({:.0} MB compiled rules, {:.0} MB \
         plans); \
         {} classes, {} prefilter scans ({:.1} MB), {} common needles dropped; per event {:.2} rule evaluations, {:.2} hits",
        report.loaded,
        report.prefiltered,
        live_loaded + live_plans,
        live_loaded,
        live_plans,
        st.classes,
        st.scans,
        st.scan_bytes as f64 / 1e6,
        st.common_needles,
        st.evaluations as f64 / st.events.max(1) as f64,
        st.hits as f64 / st.events.max(1) as f64,
    );

    // `SEN_BENCH_THREADS=T`: T threads evaluate the attack samples 20 times each at once; the
    // CPU time per event of each, against one thread's, shows what they cost one another.
    if let Some(threads) =
        std::env::var("SEN_BENCH_THREADS").ok().and_then(|v| v.parse::<usize>().ok())
    {
        let n = 20;
        let evs = &sets[0].1;
        let per: Vec<f64> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads.max(1))
                .map(|_| {
                    let engine = &engine;
                    s.spawn(move || {
                        let mut hits = Vec::new();
                        let cpu0 = cpu_secs();
                        for _ in 0..n {
                            for e in evs {
                                hits.clear();
                                engine.evaluate(e, &mut hits);
                            }
                        }
                        (cpu_secs() - cpu0) / (n * evs.len()) as f64 * 1e6
                    })
                })
                .collect();
            workers.into_iter().filter_map(|w| w.join().ok()).collect()
        });
        eprintln!("{threads} thread(s) at once, evtx-attack-samples: CPU per event {per:.3?} µs");
        return;
    }
    if let Some(n) = std::env::var("SEN_BENCH_FIXED").ok().and_then(|v| v.parse::<usize>().ok()) {
        for (name, evs) in &sets {
            let before = engine.stats();
            let cpu0 = cpu_secs();
            let mut found = 0;
            for _ in 0..n {
                for e in evs {
                    hits.clear();
                    engine.evaluate(e, &mut hits);
                    found += hits.len();
                }
            }
            let per = (cpu_secs() - cpu0) / (n * evs.len()) as f64;
            let after = engine.stats();
            eprintln!(
                "fixed {name}: {n} × {} events, {found} hits, {:.3} µs CPU per event ≈ {:.0} events/s per core, {:.3} rule evaluations per event",
                evs.len(),
                per * 1e6,
                1.0 / per,
                (after.evaluations - before.evaluations) as f64
                    / (after.events - before.events).max(1) as f64
            );
        }
        if only.is_some() {
            return;
        }
        // The pipeline's order: normalize a line, evaluate the event just built.
        let lines = evtx_lines(&dir);
        let cpu = |eval: bool, hits: &mut Vec<_>| {
            let cpu0 = cpu_secs();
            for _ in 0..n {
                for l in &lines {
                    let e = parse_line(l);
                    if eval {
                        hits.clear();
                        engine.evaluate(&e, hits);
                    }
                    std::hint::black_box(&e);
                }
            }
            (cpu_secs() - cpu0) / (n * lines.len()) as f64 * 1e6
        };
        let (parse, both) = (cpu(false, &mut hits), cpu(true, &mut hits));
        eprintln!(
            "fixed pipeline order, evtx-attack-samples: normalize {parse:.3} µs, normalize + evaluate {both:.3} µs CPU per event: evaluation adds {:.3} µs",
            both - parse
        );
        return;
    }

    let mut g = c.benchmark_group("sigma");
    g.measurement_time(Duration::from_secs_f64(secs.max(1.0)));
    g.sample_size(10);
    for (name, evs) in &sets {
        g.throughput(Throughput::Elements(evs.len() as u64));
        g.bench_function(format!("sen/{name}"), |b| {
            b.iter(|| {
                let mut n = 0;
                for e in evs {
                    hits.clear();
                    engine.evaluate(e, &mut hits);
                    n += hits.len();
                }
                n
            })
        });
    }
    g.finish();

    // In the pipeline a parse worker evaluates each event right after normalizing it, so the
    // event is in cache; the loop above walks 5,250 events that are not. Same lines, same
    // run: normalizing alone, then normalizing and evaluating; the difference is detection's
    // cost per event in that setting.
    {
        let lines = evtx_lines(&dir);
        let parse_rate = rate(
            || {
                for l in &lines {
                    std::hint::black_box(parse_line(l));
                }
                lines.len()
            },
            secs,
        );
        let both_rate = rate(
            || {
                for l in &lines {
                    let e = parse_line(l);
                    hits.clear();
                    engine.evaluate(&e, &mut hits);
                }
                lines.len()
            },
            secs,
        );
        let detect_us = (1.0 / both_rate - 1.0 / parse_rate) * 1e6;
        eprintln!(
            "in the pipeline's order (normalize, then evaluate the event just built), {} lines: \
             normalize {parse_rate:.0} ev/s, normalize + evaluate {both_rate:.0} ev/s; \
             evaluation adds {detect_us:.2} µs per event ≈ {:.0} ev/s for detection alone",
            lines.len(),
            1e6 / detect_us.max(1e-3),
        );
    }

    // Same-run comparison with rsigma-eval used plainly (`SEN_BENCH_PEERS=0` skips it, e.g.
    // to profile Sen alone).
    if std::env::var("SEN_BENCH_PEERS").is_ok_and(|v| v == "0") {
        return;
    }
    let (attack_name, attack) = &sets[0];
    let sen_rate = rate(
        || {
            for e in attack {
                hits.clear();
                engine.evaluate(e, &mut hits);
            }
            attack.len()
        },
        secs,
    );
    let rss1 = rss_mb();
    let collection = rsigma_parser::parse_sigma_directory(&dir.join("sigma/rules/rules")).unwrap();
    let mut plain = rsigma_eval::Engine::new();
    let errors = plain.add_rules(collection.rules.iter());
    let flat: Vec<serde_json::Value> = attack.iter().map(flat_json).collect();
    let rss_plain = rss_mb() - rss1;
    let plain_rate = rate(
        || {
            for j in &flat {
                std::hint::black_box(plain.evaluate(&rsigma_eval::JsonEvent::borrow(j)));
            }
            flat.len()
        },
        secs,
    );
    // sigma-rust used plainly, as its README shows: `rule_from_yaml` per rule file,
    // `Event::try_from` over the same flattened JSON, `rule.is_match(&event)` for every rule.
    // At about 100 events/s it walks a prefix of the events for the measuring time.
    let yaml_files = common::tree_files(&dir.join("sigma/rules/rules"), &["yml", "yaml"]);
    let mut sr_rules = Vec::new();
    let mut sr_failed = 0;
    for f in &yaml_files {
        match std::fs::read_to_string(f).map(|t| sigma_rust::rule_from_yaml(&t)) {
            Ok(Ok(r)) => sr_rules.push(r),
            _ => sr_failed += 1,
        }
    }
    let sr_events: Vec<sigma_rust::Event> =
        flat.iter().filter_map(|j| sigma_rust::Event::try_from(j.clone()).ok()).collect();
    let mut next = 0usize;
    let sr_rate = rate(
        || {
            let e = &sr_events[next % sr_events.len()];
            next += 1;
            std::hint::black_box(sr_rules.iter().filter(|r| r.is_match(e)).count());
            1
        },
        secs,
    );
    eprintln!(
        "same run, {attack_name} ({} events), one thread: sen {sen_rate:.0} ev/s; rsigma-eval plain \
         {plain_rate:.0} ev/s ({} compile errors, RSS ≈ {rss_plain:.0} MB); sigma-rust plain \
         {sr_rate:.0} ev/s ({} rules, {sr_failed} failed to load, {next} events evaluated); \
         ratio sen/rsigma = {:.1}×, sen/sigma-rust = {:.0}×",
        attack.len(),
        errors.len(),
        sr_rules.len(),
        sen_rate / plain_rate,
        sen_rate / sr_rate,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
