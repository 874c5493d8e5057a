//! Threat intel end to end: the fixture feeds, the manager over files and a local HTTP(S)
//! server (schedule, conditional GET, failures keeping the last good set, certificate
//! verification, known-indicator state across restarts), events parsed by the real pipeline,
//! and the retro-hunt against a real index.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use sen_analyzer::alerts::{AlertGrouper, AlertUpdate, GrouperConfig, Level};
use sen_analyzer::enrich::{EnrichConfig, Enricher};
use sen_analyzer::index::{IndexConfig, IndexStore, Position};
use sen_analyzer::intel::{
    FeedConfig, FeedFormat, FeedInfo, IntelConfig, IntelManager, Ioc, IocKind, IocSet, IocValue,
    IssueKind, ParseOptions, RefreshOutcome, parse, retro_hunt,
};
use sen_core::raw::{Body, RawRecord, Transport};
use sen_core::{Event, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel").join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn opts(feed: &str) -> ParseOptions {
    ParseOptions::new(FeedInfo::new(feed, Level::High), now())
}

fn summary(iocs: &[Ioc]) -> Vec<String> {
    iocs.iter().map(|i| format!("{} {}", i.kind(), i.value)).collect()
}

#[test]
fn stix_fixture() {
    let out = parse::parse(FeedFormat::Stix, &read("stix-bundle.json"), &opts("stix")).unwrap();
    assert_eq!(
        summary(&out.iocs),
        [
            "ip 198.51.100.7",
            "domain login-verify.example",
            "url http://login-verify.example/owa/auth.php",
            "cidr 203.0.113.0/24",
            "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "md5 d41d8cd98f00b204e9800998ecf8427e",
            "cidr 2001:db8:bad::/48",
        ]
    );
    let c2 = &out.iocs[0];
    assert_eq!(c2.source_id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    assert_eq!(c2.name.as_deref(), Some("Botnet C2 server"));
    assert_eq!(c2.confidence, Some(85));
    assert_eq!(c2.labels, ["c2", "malicious-activity"]);
    assert_eq!(out.stats.expired, 1);
    let issues: Vec<_> =
        out.issues.iter().map(|i| (i.kind, i.location.rsplit(' ').next().unwrap())).collect();
    assert_eq!(
        issues,
        [
            (IssueKind::Unsupported, "indicator--9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d44"),
            (IssueKind::Invalid, "indicator--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e55"),
        ]
    );
    assert!(
        out.issues[0].message.contains("FOLLOWEDBY") || out.issues[0].message.contains("WITHIN")
    );
    assert_eq!(
        out.issues[0].location,
        "objects[5] indicator--9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d44"
    );
}

#[test]
fn misp_fixture() {
    let out = parse::parse(FeedFormat::Misp, &read("misp-event.json"), &opts("misp")).unwrap();
    assert_eq!(
        summary(&out.iocs),
        [
            "ip 198.51.100.23",
            "domain update-service.example",
            "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "md5 0cc175b9c0f1b6a831c399e269772661",
        ]
    );
    assert_eq!(out.iocs[0].source_id, "a0000001-0000-4000-8000-000000000001");
    assert_eq!(out.iocs[0].description.as_deref(), Some("C2 over TLS"));
    assert_eq!(out.iocs[0].name.as_deref(), Some("Ransomware affiliate infrastructure"));
    assert_eq!(out.iocs[0].labels, ["tlp:amber"]);
    assert_eq!(out.iocs[3].description.as_deref(), Some("file name: locker.exe"));
    assert_eq!((out.stats.not_to_ids, out.stats.invalid), (2, 1));
    assert_eq!(out.issues[0].location, "Event.Attribute[5] a0000001-0000-4000-8000-000000000006");
    assert_eq!(out.stats.ignored.get("email-src"), Some(&1));
}

#[test]
fn csv_fixture() {
    let out = parse::parse(FeedFormat::Csv, &read("indicators.csv"), &opts("csv")).unwrap();
    assert_eq!(
        summary(&out.iocs),
        [
            "ip 192.0.2.66",
            "cidr 198.18.0.0/15",
            "domain exfil.example",
            "url https://paste.example/raw/abc123",
            "sha256 9f86d081884c7d659a2feae0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ]
    );
    assert_eq!(out.iocs[0].source_id, "line 4");
    assert_eq!(out.iocs[0].confidence, Some(70));
    let issues: Vec<_> = out.issues.iter().map(|i| (i.location.as_str(), i.kind)).collect();
    assert_eq!(issues, [("line 9", IssueKind::Invalid), ("line 10", IssueKind::Unsupported)]);
}

fn record(line: &str) -> RawRecord {
    RawRecord {
        received_ms: now().timestamp_millis(),
        transport: Transport::File,
        peer: None,
        organization: Some("agency-1".into()),
        origin: None,
        format: None,
        body: Body::Json(line.to_owned()),
    }
}

/// Sysmon events through the real parser: the matcher finds the hash, the address, the DNS
/// name (as a subdomain) and the resolved address at the fields the parser names.
#[test]
fn parsed_sysmon_events_match_and_alert() {
    let enricher = Enricher::new(&EnrichConfig::default()).unwrap();
    let events: Vec<Event> = read("sysmon-mordor.ndjson")
        .lines()
        .enumerate()
        .map(|(i, l)| {
            sen_analyzer::pipeline::build_event(
                record(l),
                0,
                i as u64,
                chrono_tz::UTC,
                &enricher,
                now(),
            )
            .0
        })
        .collect();
    let feed = FeedInfo::new("mordor", Level::Medium);
    let csv = "type,value\n\
               sha256,EAAE8536D554D0E86D8540A8B34DB2649BD884843F389495D0B6E91636C6CF54\n\
               ip,239.255.255.250\n\
               domain,githubusercontent.com\n\
               ip,151.101.248.133\n";
    let parsed = parse::parse(FeedFormat::Csv, csv, &ParseOptions::new(feed, now())).unwrap();
    assert_eq!(parsed.iocs.len(), 4);
    let set = IocSet::build(parsed.iocs.into_iter().map(Arc::new));
    let mut got = Vec::new();
    let mut grouper = AlertGrouper::new(GrouperConfig::default()).unwrap();
    let mut titles = BTreeSet::new();
    for e in &events {
        let mut hits = Vec::new();
        set.match_event(e, &mut hits);
        for h in hits {
            got.push(format!("{} {} {}", h.ioc.kind(), h.field, h.matched));
            let rule = h.rule();
            let d = h.detection(e, grouper.capture_fields(&rule));
            assert_eq!(d.event.fields["threat.feed.name"], "mordor");
            assert_eq!(d.event.fields["organization.id"], "agency-1");
            for u in grouper.observe(d, e.timestamp) {
                if let AlertUpdate::Created(a) = u {
                    titles.insert(a.rule_title.clone());
                }
            }
        }
    }
    assert_eq!(
        got,
        [
            "sha256 process.hash.sha256 eaae8536d554d0e86d8540a8b34db2649bd884843f389495d0b6e91636c6cf54",
            "ip destination.ip 239.255.255.250",
            "domain dns.question.name raw.githubusercontent.com",
            "ip dns.resolved_ip 151.101.248.133",
        ]
    );
    assert!(
        titles.contains("Threat intel match: domain githubusercontent.com (mordor)"),
        "{titles:?}"
    );
    assert_eq!(titles.len(), 4);
}

fn index(dir: &Path) -> IndexStore {
    IndexStore::open(
        dir,
        IndexConfig {
            writer_memory_bytes: 30 << 20,
            writer_threads: 1,
            max_age_days: 0,
            min_free_bytes: 0,
        },
    )
    .unwrap()
}

fn ev(id: &str, t: DateTime<Utc>, fields: &[(&str, &str)]) -> Event {
    let mut e = Event::new(id.into(), t, format!("event {id}"));
    e.organization = Some("agency-1".into());
    for (k, v) in fields {
        let value = if k.ends_with(".ip") {
            Value::Ip(v.parse().unwrap())
        } else {
            Value::Str((*v).into())
        };
        e.set(k, value);
    }
    e
}

#[test]
fn retro_hunt_finds_past_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = index(dir.path());
    let t = now() - chrono::Duration::hours(30);
    let events = vec![
        ev("exact-ip", t, &[("destination.ip", "198.51.100.7")]),
        ev("cidr-typed", t, &[("source.ip", "203.0.113.45")]),
        ev("cidr-text", t, &[("server.ip", "203.0.113.99")]),
        ev("small-block-text", t, &[("server.ip", "192.0.2.10")]),
        ev("cidr-miss", t, &[("server.ip", "203.0.114.1"), ("source.ip", "203.0.112.255")]),
        ev("subdomain", t, &[("dns.question.name", "a.Login-Verify.example")]),
        ev("not-subdomain", t, &[("dns.question.name", "notlogin-verify.example")]),
        ev("url", t, &[("url.full", "http://login-verify.example/owa/auth.php")]),
        ev("url-original", t, &[("url.original", "http://login-verify.example/owa/auth.php")]),
        ev(
            "hash",
            t,
            &[(
                "process.hash.sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            )],
        ),
        ev("related-hash", t, &[("related.hash", "d41d8cd98f00b204e9800998ecf8427e")]),
        ev("domain-attr", t, &[("destination.domain", "login-verify.example")]),
        ev("tls-subdomain", t, &[("tls.client.server_name", "x.login-verify.example")]),
        ev("v6", t, &[("source.ip", "2001:db8:bad:1::5")]),
        ev("v6-text", t, &[("server.ip", "2001:db8:bad::9")]),
        ev("v6-text-miss", t, &[("server.ip", "2001:db8:bae::9")]),
        ev("too-old", now() - chrono::Duration::days(10), &[("destination.ip", "198.51.100.7")]),
        ev(
            "unrelated",
            t,
            &[("destination.ip", "192.0.2.1"), ("dns.question.name", "example.org")],
        ),
    ];
    let batch: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.clone(), Some(Position { partition: 0, offset: i as u64 }), false))
        .collect();
    store.add_batch(&batch).unwrap();
    store.commit(Duration::from_secs(60)).unwrap();
    let parsed = parse::parse(FeedFormat::Stix, &read("stix-bundle.json"), &opts("hunt")).unwrap();
    let mut iocs: Vec<_> = parsed.iocs.into_iter().map(Arc::new).collect();
    let block = IocValue::parse(IocKind::Cidr, "192.0.2.8/30").unwrap();
    iocs.push(Arc::new(Ioc::new(block, FeedInfo::new("hunt", Level::High), "line 1")));
    let since = now() - chrono::Duration::days(7);
    let until = now() + chrono::Duration::minutes(1);
    let found = retro_hunt(&store, &iocs, since, until, 1000).unwrap();
    let mut got: Vec<String> =
        found.hits.iter().map(|(e, h)| format!("{} {} {}", e.id, h.ioc.value, h.field)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "cidr-text 203.0.113.0/24 server.ip",
            "cidr-typed 203.0.113.0/24 source.ip",
            "domain-attr login-verify.example destination.domain",
            "exact-ip 198.51.100.7 destination.ip",
            "hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 process.hash.sha256",
            "related-hash d41d8cd98f00b204e9800998ecf8427e related.hash",
            "small-block-text 192.0.2.8/30 server.ip",
            "subdomain login-verify.example dns.question.name",
            "url http://login-verify.example/owa/auth.php url.full",
            "url-original http://login-verify.example/owa/auth.php url.original",
            "v6 2001:db8:bad::/48 source.ip",
            "v6-text 2001:db8:bad::/48 server.ip",
        ]
    );
    assert!(!found.truncated);
    assert_eq!(found.events_examined, 12, "every candidate is a hit here");
    // Not found by the queries (the matcher at ingest sees them): a subdomain in a field that
    // cannot be searched by suffix. (A /24 in a field indexed as text is, by text prefix.)
    assert!(!found.not_searched.iter().any(|n| n.starts_with("server.ip: IPv4")));
    assert!(!found.not_searched.iter().any(|n| n.starts_with("server.ip: IPv6")));
    assert!(found.not_searched.iter().any(|n| n.starts_with("tls.client.server_name")));
    // The limit bounds the events examined.
    let few = retro_hunt(&store, &iocs, since, until, 3).unwrap();
    assert!(few.truncated);
    assert_eq!(few.events_examined, 3);
    // Nothing to hunt, or an empty window.
    assert!(retro_hunt(&store, &[], since, until, 10).unwrap().hits.is_empty());
    assert!(retro_hunt(&store, &iocs, until, since, 10).unwrap().hits.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The manager.

fn feed(name: &str, format: FeedFormat) -> FeedConfig {
    FeedConfig {
        name: name.into(),
        format,
        path: None,
        url: None,
        refresh: Duration::from_secs(3600),
        level: Level::High,
        enabled: true,
        to_ids_only: None,
        observables: None,
        api_key_file: None,
    }
}

fn config(feeds: Vec<FeedConfig>) -> IntelConfig {
    IntelConfig { feeds, timeout: Duration::from_secs(10), ..IntelConfig::default() }
}

fn values(set: &IocSet) -> BTreeSet<String> {
    set.iocs().iter().map(|i| format!("{}:{}", i.feed.name, i.value)).collect()
}

#[tokio::test]
async fn file_feeds_refresh_keep_last_good_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, "value\n192.0.2.1\nevil.example\n").unwrap();
    let stix = dir.path().join("bundle.json");
    let soon = (now() + chrono::Duration::seconds(2)).to_rfc3339();
    let bundle = serde_json::json!({"type": "bundle", "objects": [
        {"type": "indicator", "id": "indicator--short", "pattern_type": "stix",
         "pattern": "[ipv4-addr:value = '192.0.2.50']", "valid_until": soon},
        {"type": "indicator", "id": "indicator--long", "pattern_type": "stix",
         "pattern": "[ipv4-addr:value = '192.0.2.51']"}]});
    std::fs::write(&stix, bundle.to_string()).unwrap();
    let mut a = feed("files-csv", FeedFormat::Csv);
    a.path = Some(csv.clone());
    let mut b = feed("files-stix", FeedFormat::Stix);
    b.path = Some(stix.clone());
    let mut off = feed("files-off", FeedFormat::Csv);
    off.path = Some(dir.path().join("absent.csv"));
    off.enabled = false;
    let (m, mut rx) = IntelManager::start(config(vec![a, b, off]), None).await.unwrap();
    assert_eq!(
        values(&m.current()),
        BTreeSet::from([
            "files-csv:192.0.2.1".into(),
            "files-csv:evil.example".into(),
            "files-stix:192.0.2.50".into(),
            "files-stix:192.0.2.51".into(),
        ])
    );
    assert!(rx.try_recv().is_err(), "without state, the first load is not new");
    let st = m.status();
    assert_eq!(st.len(), 3);
    assert_eq!((st[0].loaded, st[0].last_error.as_deref()), (2, None));
    assert_eq!(st[0].counts.get(&IocKind::Domain), Some(&1));
    assert!(st[0].last_change.is_some() && st[0].next_refresh.is_some());
    assert!(!st[2].enabled && st[2].last_attempt.is_none());

    // Unchanged file: nothing reloaded.
    assert_eq!(m.refresh_now("files-csv").await.unwrap(), RefreshOutcome::Unchanged);
    // A changed file: the new indicator is sent for the retro-hunt.
    std::fs::write(&csv, "value\n192.0.2.1\nevil.example\n198.51.100.99\n").unwrap();
    assert_eq!(
        m.refresh_now("files-csv").await.unwrap(),
        RefreshOutcome::Loaded { loaded: 3, new: 1 }
    );
    let n = rx.try_recv().unwrap();
    assert_eq!(n.feed, "files-csv");
    assert_eq!(n.iocs.iter().map(|i| i.value.to_string()).collect::<Vec<_>>(), ["198.51.100.99"]);
    assert_eq!(m.current().len(), 5);

    // A document that cannot be read keeps the last good indicators.
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    let RefreshOutcome::Failed { error } = m.refresh_now("files-csv").await.unwrap() else {
        panic!("a bad document must fail the refresh")
    };
    assert!(error.contains("line 1"), "{error}");
    assert_eq!(m.current().len(), 5);
    let st = &m.status()[0];
    assert_eq!(st.consecutive_failures, 1);
    assert_eq!(st.loaded, 3);
    assert!(st.last_error.as_deref().unwrap().contains("cannot read the document"));
    let metrics = sen_core::metrics::render();
    assert!(
        metrics.contains("sen_intel_refresh_total{feed=\"files-csv\",result=\"error\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("sen_intel_iocs{feed=\"files-csv\"} 3"), "{metrics}");
    // A deleted file too.
    std::fs::remove_file(&csv).unwrap();
    assert!(matches!(m.refresh_now("files-csv").await.unwrap(), RefreshOutcome::Failed { .. }));
    assert_eq!(m.current().len(), 5);

    // Expired indicators leave the set even though the document did not change.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(m.refresh_now("files-stix").await.unwrap(), RefreshOutcome::Unchanged);
    let v = values(&m.current());
    assert!(!v.contains("files-stix:192.0.2.50") && v.contains("files-stix:192.0.2.51"), "{v:?}");

    assert!(m.refresh_now("files-off").await.is_err(), "disabled feeds are not refreshed");
    assert!(m.refresh_now("nope").await.is_err());
    m.shutdown();
}

#[tokio::test]
async fn known_indicators_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, "value\n192.0.2.1\n").unwrap();
    let mut f = feed("state-csv", FeedFormat::Csv);
    f.path = Some(csv.clone());
    let cfg = config(vec![f]);
    let (m, mut rx) = IntelManager::start(cfg.clone(), Some(state.clone())).await.unwrap();
    let first = rx.try_recv().expect("a feed never loaded before is new as a whole");
    assert_eq!(first.iocs.len(), 1);
    m.shutdown();
    drop(m);
    // Restart with the same document: nothing new.
    let (m, mut rx) = IntelManager::start(cfg.clone(), Some(state.clone())).await.unwrap();
    assert!(rx.try_recv().is_err());
    m.shutdown();
    drop(m);
    // The feed grew while Sen was down: only the addition is new.
    std::fs::write(&csv, "value\n192.0.2.1\nc2.example\n").unwrap();
    let (m, mut rx) = IntelManager::start(cfg, Some(state)).await.unwrap();
    let n = rx.try_recv().unwrap();
    assert_eq!(n.iocs.iter().map(|i| i.value.to_string()).collect::<Vec<_>>(), ["c2.example"]);
    m.shutdown();
}

#[tokio::test]
async fn bad_configuration_is_refused() {
    let mut f = feed("cfg-plain", FeedFormat::Csv);
    f.url = Some("http://feeds.example/list.csv".into());
    let err = IntelManager::start(config(vec![f]), None).await.unwrap_err();
    assert!(err.to_string().contains("plain http is refused"), "{err}");
}

/// A feed server on 127.0.0.1: serves `body` with an ETag (answering 304 to a matching
/// `If-None-Match`), or 500 when `fail` is set; counts requests.
#[derive(Clone, Default)]
struct FeedServer {
    body: Arc<Mutex<String>>,
    fail: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
}

fn etag(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:x}\"", h.finish())
}

async fn feed_handler(State(s): State<FeedServer>, headers: HeaderMap) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    if s.fail.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
    }
    let body = s.body.lock().clone();
    let tag = etag(&body);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        s.not_modified.fetch_add(1, Ordering::SeqCst);
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([(header::ETAG, tag)], body).into_response()
}

async fn redirect_handler() -> Response {
    (StatusCode::FOUND, [(header::LOCATION, "http://feeds.example.invalid/list.csv")])
        .into_response()
}

async fn start_server(state: FeedServer) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .route("/feed", get(feed_handler))
        .route("/redirect", get(redirect_handler))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

#[tokio::test]
async fn http_feed_conditional_get_failure_and_recovery() {
    let server = FeedServer::default();
    *server.body.lock() = "value\n192.0.2.7\n".into();
    let (addr, task) = start_server(server.clone()).await;
    let mut f = feed("http-csv", FeedFormat::Csv);
    f.url = Some(format!("http://{addr}/feed?key=secret"));
    let mut big = feed("http-big", FeedFormat::Csv);
    big.url = Some(format!("http://{addr}/feed"));
    let mut redirect = feed("http-redirect", FeedFormat::Csv);
    redirect.url = Some(format!("http://{addr}/redirect"));
    let mut cfg = config(vec![f, redirect]);
    cfg.max_feed_bytes = 1 << 20;
    let (m, _rx) = IntelManager::start(cfg, None).await.unwrap();
    assert_eq!(values(&m.current()), BTreeSet::from(["http-csv:192.0.2.7".to_string()]));
    let st = m.status();
    assert_eq!(st[0].source, format!("http://{addr}/feed"), "the key is not shown");
    let redirect_error = st[1].last_error.clone().unwrap();
    assert!(redirect_error.contains("redirect"), "{redirect_error}");

    // Conditional GET.
    assert_eq!(m.refresh_now("http-csv").await.unwrap(), RefreshOutcome::Unchanged);
    assert_eq!(server.not_modified.load(Ordering::SeqCst), 1);

    // The server fails: the last good set stays.
    server.fail.store(true, Ordering::SeqCst);
    let RefreshOutcome::Failed { error } = m.refresh_now("http-csv").await.unwrap() else {
        panic!("HTTP 500 must fail")
    };
    assert!(error.contains("HTTP 500"), "{error}");
    assert!(!error.contains("secret"), "errors do not show the query: {error}");
    assert_eq!(values(&m.current()), BTreeSet::from(["http-csv:192.0.2.7".to_string()]));
    assert_eq!(m.status()[0].consecutive_failures, 1);

    // An error page served as the feed (200, HTML) is not an empty feed.
    server.fail.store(false, Ordering::SeqCst);
    *server.body.lock() = "<!DOCTYPE html>\n<html><body>Service unavailable</body></html>\n".into();
    let RefreshOutcome::Failed { error } = m.refresh_now("http-csv").await.unwrap() else {
        panic!("a document without one valid indicator must fail")
    };
    assert!(error.contains("no valid indicator"), "{error}");
    assert_eq!(values(&m.current()), BTreeSet::from(["http-csv:192.0.2.7".to_string()]));
    assert_eq!(m.status()[0].consecutive_failures, 2);

    // It recovers with a new document.
    server.fail.store(false, Ordering::SeqCst);
    *server.body.lock() = "value\n192.0.2.7\n192.0.2.8\n".into();
    assert_eq!(
        m.refresh_now("http-csv").await.unwrap(),
        RefreshOutcome::Loaded { loaded: 2, new: 1 }
    );
    let st = &m.status()[0];
    assert_eq!((st.consecutive_failures, st.last_error.as_ref()), (0, None));
    m.shutdown();

    // A document over the size cap is refused.
    *server.body.lock() = format!("value\n{}", "192.0.2.9\n".repeat(200));
    let mut cfg = config(vec![big]);
    cfg.max_feed_bytes = 1000;
    let (m, _rx) = IntelManager::start(cfg, None).await.unwrap();
    assert!(m.current().is_empty());
    assert!(m.status()[0].last_error.as_deref().unwrap().contains("max_feed_bytes"));
    m.shutdown();
    task.abort();
}

#[tokio::test]
async fn feeds_refresh_on_schedule_until_shutdown() {
    let server = FeedServer::default();
    *server.body.lock() = "value\n192.0.2.10\n".into();
    let (addr, task) = start_server(server.clone()).await;
    let mut f = feed("sched-csv", FeedFormat::Csv);
    f.url = Some(format!("http://127.0.0.1:{}/feed", addr.port()));
    f.refresh = Duration::from_secs(1);
    let (m, mut rx) = IntelManager::start(config(vec![f]), None).await.unwrap();
    *server.body.lock() = "value\n192.0.2.10\n192.0.2.11\n".into();
    // The scheduled refresh picks the change up and sends the new indicator.
    let n = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
    assert_eq!(n.iocs[0].value.to_string(), "192.0.2.11");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while server.requests.load(Ordering::SeqCst) < 4 {
        assert!(tokio::time::Instant::now() < deadline, "refreshes stopped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.not_modified.load(Ordering::SeqCst) >= 1);
    m.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = server.requests.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.requests.load(Ordering::SeqCst), after, "no refresh after shutdown");
    task.abort();
}

/// HTTPS certificates are verified: a self-signed server is refused until its certificate is
/// given as `ca_file`.
#[tokio::test]
async fn https_verifies_certificates() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ck.cert.pem()).unwrap();
    let chain = vec![ck.cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else { return };
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let body = "value\n192.0.2.77\n";
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    let mut f = feed("tls-csv", FeedFormat::Csv);
    f.url = Some(format!("https://127.0.0.1:{}/feed", addr.port()));
    let (m, _rx) = IntelManager::start(config(vec![f.clone()]), None).await.unwrap();
    assert!(m.current().is_empty());
    let error = m.status()[0].last_error.clone().unwrap();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    m.shutdown();
    let mut cfg = config(vec![f]);
    cfg.ca_file = Some(ca);
    let (m, _rx) = IntelManager::start(cfg, None).await.unwrap();
    assert_eq!(values(&m.current()), BTreeSet::from(["tls-csv:192.0.2.77".to_string()]));
    m.shutdown();
    server.abort();
}
