//! Anomaly detector benchmark: `AnomalyDetector::observe` over a realistic mix of parsed events.
//!
//! The events are synthetic but real parser output: raw lines and Windows JSON objects go
//! through `pipeline::build_event` (parse + normalize) once, before measuring, and logins get
//! the `source.geo.country_iso_code` / `source.as.*` fields the GeoIP enricher writes. The mix,
//! per 100 events: 15 sshd logins to servers (RFC 5424 syslog; 90 % accepted), 10 Windows
//! Security 4624 logons (60 % on the user's workstation, 40 % on the tenant's domain
//! controller), 20 Sysmon process creations (ten usual parent → child pairs), 30 Apache access
//! lines (10 web servers) and 25 iptables firewall lines (4 firewalls); 5 organizations, 2,000
//! users, 250 workstations, 40 servers, 5 domain controllers. One login in 50 comes from
//! another of four networks than the user's usual one.
//!
//! Groups (throughput in events):
//! * `anomaly/observe_learned`: 100,000 events of day 9 into a detector that learned from
//!   800,000 events of days 1–8 (restored from a snapshot before each iteration, outside the
//!   measurement): the steady state, where nearly every event only updates counters;
//! * `anomaly/observe_cold`: the first 100,000 events into an empty detector: every entity,
//!   value and series is new (insertions and learning);
//! * `anomaly/read_fields_only`: only `Event::get` of the twelve fields the default rules read,
//!   for each measured event: the floor of any detector reading them;
//! * `anomaly/touch_only` and `anomaly/touch_then_observe_learned`: the 100,000 events are far
//!   larger than the CPU caches, so the benchmarks above pay a cache miss for nearly every field
//!   read, whereas in the pipeline an event reaches the detector right after it was parsed and
//!   enriched. These two read every field of each event first (as the enricher and indexer do)
//!   and then observe it; observing costs the difference.
//!
//! `now` is the event time. The global allocator is mimalloc, as in the `sen` binary.
//!
//! `CARGO_TARGET_DIR=target-bench cargo bench -p sen-analyzer --bench anomaly`.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sen_analyzer::anomaly::{AnomalyConfig, AnomalyDetector, AnomalyState};
use sen_analyzer::enrich::{EnrichConfig, Enricher};
use sen_analyzer::pipeline::build_event;
use sen_core::Event;
use sen_core::event::Value;
use sen_core::raw::{Body, RawRecord, Transport};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WORKSTATIONS: u64 = 250;
const SERVERS: u64 = 40;
const USERS: u64 = 2_000;
const ORGS: [&str; 5] = ["so-tttt", "so-tc", "so-yt", "ubnd", "so-gd"];
const MEASURED: usize = 100_000;
const WARM: usize = 800_000;

/// Deterministic xorshift.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).single().expect("valid time")
}

const COUNTRIES: [(&str, i64, &str); 4] = [
    ("VN", 18403, "FPT Telecom"),
    ("VN", 45899, "VNPT"),
    ("VN", 7552, "Viettel"),
    ("SG", 4773, "MobileOne"),
];

const PAIRS: [(&str, &str); 10] = [
    ("explorer.exe", "chrome.exe"),
    ("explorer.exe", "winword.exe"),
    ("explorer.exe", "excel.exe"),
    ("services.exe", "svchost.exe"),
    ("svchost.exe", "taskhostw.exe"),
    ("svchost.exe", "wmiprvse.exe"),
    ("userinit.exe", "explorer.exe"),
    ("cmd.exe", "conhost.exe"),
    ("explorer.exe", "outlook.exe"),
    ("services.exe", "msmpeng.exe"),
];

fn raw(received: DateTime<Utc>, body: Body) -> RawRecord {
    RawRecord {
        received_ms: received.timestamp_millis(),
        transport: Transport::File,
        peer: None,
        organization: None,
        origin: None,
        format: None,
        body,
    }
}

/// `n` parsed events, `per_second` a second from `from`.
fn events(seed: u64, from: DateTime<Utc>, n: usize, span: Duration) -> Vec<Event> {
    let enricher = Enricher::new(&EnrichConfig::default()).expect("empty enricher");
    let mut rng = Rng(seed);
    let step_ms = (span.as_millis() as f64 / n as f64).max(1.0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let at = from + chrono::Duration::milliseconds((i as f64 * step_ms) as i64);
        let ts = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // A user belongs to organization `u % 5`, as do workstation `u % 250` and server
        // `u % 40`; every host's organization is its number modulo 5.
        let user_n = rng.below(USERS);
        let org_n = user_n % ORGS.len() as u64;
        let org = ORGS[org_n as usize];
        let user = format!("user{user_n:04}");
        let ws = user_n % WORKSTATIONS;
        let srv = user_n % SERVERS;
        let host_n = rng.below(WORKSTATIONS);
        let kind = rng.below(100);
        let (body, login) = if kind < 15 {
            let verb = if rng.below(10) == 0 { "Failed" } else { "Accepted" };
            let line = format!(
                "<38>1 {ts} srv-{srv:03} sshd 4242 - - {verb} password for {user} from \
                 1.53.{}.{} port {} ssh2",
                user_n % 250,
                rng.below(250),
                1024 + rng.below(60_000)
            );
            (Body::Line(line), true)
        } else if kind < 25 {
            let host =
                if rng.below(10) < 6 { format!("ws-{ws:03}") } else { format!("dc-{org_n}") };
            let obj = serde_json::json!({
                "EventID": 4624,
                "Channel": "Security",
                "SourceName": "Microsoft-Windows-Security-Auditing",
                "Hostname": format!("{host}.corp.local"),
                "TimeCreated": ts,
                "Keywords": "0x8020000000000000",
                "TargetUserName": user,
                "TargetDomainName": "CORP",
                "LogonType": "3",
                "IpAddress": format!("1.54.{}.{}", user_n % 250, rng.below(250)),
                "IpPort": "0",
            });
            (Body::Json(obj.to_string()), true)
        } else if kind < 45 {
            let (parent, child) = PAIRS[(rng.below(PAIRS.len() as u64)) as usize];
            let obj = serde_json::json!({
                "EventID": 1,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "SourceName": "Microsoft-Windows-Sysmon",
                "Hostname": format!("ws-{ws:03}.corp.local"),
                "TimeCreated": ts,
                "Image": format!("C:\\Windows\\System32\\{child}"),
                "ParentImage": format!("C:\\Windows\\{parent}"),
                "CommandLine": child,
                "User": format!("CORP\\{user}"),
                "ProcessId": format!("{}", 1000 + rng.below(30_000)),
            });
            (Body::Json(obj.to_string()), false)
        } else if kind < 75 {
            let paths = ["/", "/login", "/static/app.js", "/api/v1/items", "/favicon.ico"];
            let line = format!(
                "<134>1 {ts} web-{:02} apache - - - 203.0.113.{} - - [{}] \"GET {} HTTP/1.1\" \
                 200 {} \"-\" \"Mozilla/5.0\"",
                host_n % 10,
                rng.below(250),
                at.format("%d/%b/%Y:%H:%M:%S +0000"),
                paths[rng.below(paths.len() as u64) as usize],
                200 + rng.below(20_000),
            );
            (Body::Line(line), false)
        } else {
            let line = format!(
                "<4>1 {ts} fw-{:02} kernel - - - [UFW BLOCK] IN=eth0 OUT= MAC= SRC=198.51.100.{} \
                 DST=10.0.{}.{} LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=0 DF PROTO=TCP SPT={} DPT={} \
                 WINDOW=29200 RES=0x00 SYN URGP=0",
                host_n % 5,
                rng.below(250),
                host_n % 250,
                rng.below(250),
                1024 + rng.below(60_000),
                [22, 80, 443, 3389, 445][rng.below(5) as usize],
            );
            (Body::Line(line), false)
        };
        let (mut e, _) = build_event(raw(at, body), 0, i as u64, chrono_tz::UTC, &enricher, at);
        // Web servers and firewalls belong to the organization of their number.
        let org = if kind < 45 { org } else { ORGS[(host_n % ORGS.len() as u64) as usize] };
        e.organization = Some(org.to_owned());
        if login && e.get("source.ip").is_some() {
            // What the GeoIP enricher adds: mostly the user's usual network, sometimes another.
            let pick = if rng.below(50) == 0 { rng.below(4) } else { user_n % 3 };
            let (cc, asn, as_org) = COUNTRIES[pick as usize];
            e.set("source.geo.country_iso_code", cc);
            e.set("source.as.number", asn);
            e.set("source.as.organization.name", as_org);
        }
        out.push(e);
    }
    out
}

/// Read every field of an event: its keys, and the first byte of its texts.
fn touch(e: &Event) -> usize {
    let text = |s: &str| s.len() + usize::from(s.as_bytes().first().copied().unwrap_or(0));
    e.fields
        .iter()
        .map(|(k, v)| {
            text(k)
                + match v {
                    Value::Str(s) => text(s),
                    Value::List(items) => items.iter().map(|i| i.as_str().map_or(1, text)).sum(),
                    _ => 1,
                }
        })
        .sum::<usize>()
        + text(&e.id)
        + text(&e.original)
}

fn run(d: &mut AnomalyDetector, events: &[Event], out: &mut Vec<sen_analyzer::alerts::Detection>) {
    for e in events {
        d.observe(e, e.timestamp, out);
    }
}

fn bench(c: &mut Criterion) {
    let warm = events(0x5eed_0001, start(), WARM, Duration::from_secs(8 * 86_400));
    let measured = events(
        0x5eed_0002,
        start() + chrono::Duration::days(8),
        MEASURED,
        Duration::from_secs(3_600),
    );
    let cfg = AnomalyConfig::default();
    let mut learned = AnomalyDetector::new(cfg.clone()).expect("valid config");
    let mut out = Vec::new();
    run(&mut learned, &warm, &mut out);
    let state: AnomalyState = learned.snapshot();
    let warm_findings = out.len();
    out.clear();
    run(&mut learned, &measured, &mut out);
    let s = learned.stats();
    println!(
        "anomaly bench: {} warm-up events ({warm_findings} findings), state of {} entries; \
         {} measured events give {} findings (first seen {}, rare {}, volume {})",
        warm.len(),
        state.entries(),
        measured.len(),
        out.len(),
        out.iter().filter(|d| d.rule.id.starts_with("anomaly:first_seen")).count(),
        out.iter().filter(|d| d.rule.id.starts_with("anomaly:rare")).count(),
        out.iter().filter(|d| d.rule.id.starts_with("anomaly:volume")).count(),
    );
    println!("anomaly bench: stats after both phases: {s:?}");

    let mut group = c.benchmark_group("anomaly");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(measured.len() as u64));
    group.bench_function("observe_learned", |b| {
        b.iter_batched(
            || {
                let mut d = AnomalyDetector::new(cfg.clone()).expect("valid config");
                d.restore(state.clone()).expect("restores");
                (d, Vec::with_capacity(1024))
            },
            |(mut d, mut out)| {
                run(&mut d, &measured, &mut out);
                black_box((d, out))
            },
            BatchSize::PerIteration,
        );
    });
    // The floor: reading (with `Event::get`) the fields the default rules read, nothing else.
    let paths = [
        "event.kind",
        "event.category",
        "event.outcome",
        "event.type",
        "user.name",
        "source.geo.country_iso_code",
        "source.as.number",
        "host.name",
        "process.parent.name",
        "process.name",
        "event.action",
        "event.dataset",
    ];
    group.bench_function("read_fields_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for e in &measured {
                for p in paths {
                    n += usize::from(e.get(p).is_some());
                }
            }
            black_box(n)
        });
    });
    // In the pipeline an event reaches the detector right after it was built and enriched, so
    // it is in the CPU cache; the 100,000 events here are not (hundreds of MB). These two
    // emulate the pipeline: read every field of an event (as the enricher and indexer do),
    // then observe it. Observing costs the difference.
    group.bench_function("touch_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for e in &measured {
                n += touch(e);
            }
            black_box(n)
        });
    });
    group.bench_function("touch_then_observe_learned", |b| {
        b.iter_batched(
            || {
                let mut d = AnomalyDetector::new(cfg.clone()).expect("valid config");
                d.restore(state.clone()).expect("restores");
                (d, Vec::with_capacity(1024))
            },
            |(mut d, mut out)| {
                let mut n = 0usize;
                for e in &measured {
                    n += touch(e);
                    d.observe(e, e.timestamp, &mut out);
                }
                black_box((d, out, n))
            },
            BatchSize::PerIteration,
        );
    });
    let cold = &warm[..MEASURED];
    group.bench_function("observe_cold", |b| {
        b.iter_batched(
            || (AnomalyDetector::new(cfg.clone()).expect("valid config"), Vec::new()),
            |(mut d, mut out)| {
                run(&mut d, cold, &mut out);
                black_box((d, out))
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
