//! The anomaly detector allocates nothing for an event that raises nothing about a known
//! entity and value (a global allocator that counts this thread's allocations).

use std::net::IpAddr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use sen_analyzer::anomaly::{AnomalyConfig, AnomalyDetector};
use sen_core::Event;

#[path = "support/thread_alloc.rs"]
mod thread_alloc;

#[global_allocator]
static GLOBAL: thread_alloc::ThreadCounting = thread_alloc::ThreadCounting;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).single().expect("valid time")
}

/// The four usual events of a small estate at `at`: a login, a process start, a web hit and a
/// Windows logon, as the parsers and the enricher write them.
fn usual(at: DateTime<Utc>, n: usize) -> [Event; 4] {
    let mut login = Event::new(format!("l{n}"), at, "Accepted password for alice");
    login.organization = Some("so-tttt".into());
    login.set("host.name", "bastion-01");
    login.set("user.name", "alice");
    login.set("source.ip", "1.53.7.9".parse::<IpAddr>().expect("ip"));
    login.set("source.geo.country_iso_code", "VN");
    login.set("source.as.number", 18403i64);
    login.set("source.as.organization.name", "FPT Telecom");
    login.set("event.action", "ssh_login");
    login.set("event.outcome", "success");
    login.set("event.dataset", "system.auth");
    login.push("event.category", "authentication");
    login.push("event.category", "session");
    login.push("event.type", "start");

    let mut process = Event::new(format!("p{n}"), at, "{}");
    process.organization = Some("so-tttt".into());
    process.set("host.name", "ws-07");
    process.set("process.name", "chrome.exe");
    process.set("process.parent.name", "explorer.exe");
    process.set("winlog.event_id", 1i64);
    process.set("event.dataset", "windows.sysmon_operational");
    process.push("event.category", "process");
    process.push("event.type", "start");

    let mut web = Event::new(format!("w{n}"), at, "GET / HTTP/1.1");
    web.organization = Some("so-tttt".into());
    web.set("host.name", "web-01");
    web.set("event.dataset", "apache.access");
    web.set("http.response.status_code", 200i64);
    web.push("event.category", "web");

    let mut logon = Event::new(format!("w{n}"), at, "{}");
    logon.organization = Some("so-tttt".into());
    logon.set("host.name", "dc-01");
    logon.set("user.name", "Alice");
    logon.set("event.action", "logged-in");
    logon.set("event.outcome", "success");
    logon.set("winlog.event_id", 4624i64);
    logon.set("event.dataset", "windows.security");
    logon.push("event.category", "authentication");
    logon.push("event.type", "start");
    [login, process, web, logon]
}

#[test]
fn known_entities_and_values_allocate_nothing() {
    let mut cfg = AnomalyConfig::default();
    cfg.rare.min_events = 10;
    let mut d = AnomalyDetector::new(cfg).expect("valid");
    let mut out = Vec::with_capacity(16);
    // Eight days of the same routine, every ten minutes.
    let mut n = 0;
    for i in 0..8 * 24 * 6 {
        let at = start() + Duration::minutes(10 * i);
        n += 1;
        for e in usual(at, n) {
            d.observe(&e, at, &mut out);
        }
    }
    assert!(out.is_empty(), "{out:#?}");
    // Day 9, built before measuring.
    let day9: Vec<Event> = (0..250)
        .flat_map(|i| {
            usual(start() + Duration::days(8) + Duration::minutes(10 * i), 10_000 + i as usize)
        })
        .collect();

    let ((), change) = thread_alloc::count(|| {
        for e in &day9 {
            d.observe(e, e.timestamp, &mut out);
        }
    });
    assert!(out.is_empty(), "{out:#?}");
    assert_eq!(change, (0, 0), "allocations while observing 1,000 usual events");
    assert_eq!(d.stats().events, (8 * 24 * 6 + 250) * 4);

    // A new value does allocate (the finding): the counter works.
    let mut odd = day9[0].clone();
    odd.set("source.geo.country_iso_code", "KP");
    odd.timestamp += Duration::days(3);
    let ((), found) = thread_alloc::count(|| d.observe(&odd, odd.timestamp, &mut out));
    assert_eq!(out.len(), 1, "{out:#?}");
    assert!(found.0 > 0);
}
