use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sen_core::event::{Event, derive_id};

use super::*;
use crate::alerts::{AlertGrouper, AlertUpdate, GrouperConfig};

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// 2026-11-02T00:00:00Z plus `secs`.
fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_793_577_600 + secs, 0).single().expect("valid time")
}

fn id(parts: &[&str]) -> String {
    let bytes: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    derive_id(&bytes)
}

/// A successful sshd login as `sen-parse` and the enricher write it.
fn login(org: &str, user: &str, country: &str, asn: i64, secs: i64) -> Event {
    let mut e = Event::new(
        id(&["login", org, user, country, &secs.to_string()]),
        t(secs),
        format!("Accepted password for {user} from 198.51.100.7 port 50022 ssh2"),
    );
    e.organization = Some(org.into());
    e.set("host.name", "bastion-01");
    e.set("process.name", "sshd");
    e.set("user.name", user);
    e.set("source.ip", "198.51.100.7".parse::<IpAddr>().expect("ip"));
    e.set("source.geo.country_iso_code", country);
    e.set("source.as.number", asn);
    e.set("source.as.organization.name", format!("AS {asn} net"));
    e.set("event.module", "sshd");
    e.set("event.dataset", "system.auth");
    e.set("event.action", "ssh_login");
    e.set("event.outcome", "success");
    e.push("event.category", "authentication");
    e.push("event.category", "session");
    e.push("event.type", "start");
    e
}

/// A Sysmon process creation (event 1) as the Windows normalizer writes it.
fn process(org: &str, host: &str, parent: &str, child: &str, secs: i64) -> Event {
    let mut e = Event::new(
        id(&["proc", org, host, parent, child, &secs.to_string()]),
        t(secs),
        "{\"EventID\":1}",
    );
    e.organization = Some(org.into());
    e.set("host.name", host);
    e.set("process.name", child);
    e.set("process.executable", format!("C:\\Windows\\System32\\{child}"));
    e.set("process.parent.name", parent);
    e.set("winlog.event_id", 1i64);
    e.set("event.code", "1");
    e.set("event.module", "sysmon");
    e.set("event.dataset", "windows.sysmon_operational");
    e.push("event.category", "process");
    e.push("event.type", "start");
    e
}

/// A web access log line.
fn web(org: &str, host: &str, secs: i64, n: usize) -> Event {
    let mut e = Event::new(
        id(&["web", org, host, &secs.to_string(), &n.to_string()]),
        t(secs),
        "GET / HTTP/1.1",
    );
    e.organization = Some(org.into());
    e.set("host.name", host);
    e.set("event.module", "apache");
    e.set("event.dataset", "apache.access");
    e.set("http.request.method", "GET");
    e.set("http.response.status_code", 200i64);
    e.push("event.category", "web");
    e
}

/// An event with an `event.action` on a host.
fn action(org: &str, host: &str, act: &str, secs: i64, n: usize) -> Event {
    let mut e = Event::new(
        id(&["act", org, host, act, &secs.to_string(), &n.to_string()]),
        t(secs),
        act.to_owned(),
    );
    e.organization = Some(org.into());
    e.set("host.name", host);
    e.set("event.action", act);
    e.set("event.dataset", "windows.security");
    e.push("event.category", "iam");
    e
}

fn only_first_seen() -> AnomalyConfig {
    let mut c = AnomalyConfig::default();
    c.rare.enabled = false;
    c.volume.enabled = false;
    c
}

fn only_rare() -> AnomalyConfig {
    let mut c = AnomalyConfig::default();
    c.first_seen.enabled = false;
    c.volume.enabled = false;
    c
}

fn only_volume() -> AnomalyConfig {
    let mut c = AnomalyConfig::default();
    c.first_seen.enabled = false;
    c.rare.enabled = false;
    c
}

/// Observe with `now` = the event time.
fn feed(d: &mut AnomalyDetector, e: &Event) -> Vec<Detection> {
    let mut out = Vec::new();
    d.observe(e, e.timestamp, &mut out);
    out
}

fn with_rule<'a>(found: &'a [Detection], rule: &str) -> Vec<&'a Detection> {
    found.iter().filter(|d| d.rule.id == rule).collect()
}

/// Alice logs in from VN daily for `days` days (twice a day) and from SG three times.
fn alice_baseline(d: &mut AnomalyDetector, org: &str, days: i64) {
    for day in 0..days {
        for h in [9, 14] {
            assert!(feed(d, &login(org, "alice", "VN", 18403, day * DAY + h * HOUR)).is_empty());
        }
    }
    for day in [3, 5, 6] {
        assert!(feed(d, &login(org, "alice", "SG", 4773, day * DAY + 20 * HOUR)).is_empty());
    }
}

#[test]
fn new_country_after_learning_raises_one_explained_finding() {
    let mut d = AnomalyDetector::new(only_first_seen()).expect("valid");
    alice_baseline(&mut d, "org-a", 14);

    let found = feed(&mut d, &login("org-a", "alice", "RU", 12389, 14 * DAY + 10 * HOUR));
    let country = with_rule(&found, "anomaly:first_seen:login-country");
    assert_eq!(country.len(), 1, "{found:#?}");
    let f = country[0];
    assert_eq!(f.rule.kind, DetectionKind::Anomaly);
    assert_eq!(f.rule.level, Level::Low);
    assert_eq!(f.rule.title, "Login from a new country");
    assert_eq!(f.rule.group_by, Some(vec!["user.name".to_owned()]));
    assert!(f.rule.tags.iter().any(|t| t == "anomaly"));
    assert!(f.rule.tags.iter().any(|t| t == "anomaly.first_seen"));
    assert!(f.rule.tags.iter().any(|t| t == "attack.t1078"));
    let ent = f.entity();
    assert_eq!(ent.get("user.name"), Some("alice"));
    assert_eq!(ent.organization(), Some("org-a"));
    let field = |k: &str| f.event.fields.get(k).map(String::as_str);
    assert_eq!(field("source.geo.country_iso_code"), Some("RU"));
    assert_eq!(field(paths::DETECTOR), Some("first_seen"));
    assert_eq!(field(paths::RULE), Some("login-country"));
    assert_eq!(field(paths::VALUE), Some("RU"));
    assert_eq!(field(paths::BASELINE_EVENTS), Some("31"));
    assert_eq!(field(paths::BASELINE_VALUES), Some("VN (28), SG (3)"));
    assert_eq!(field(paths::BASELINE_DISTINCT), Some("2"));
    let reason = f.event.reason.as_deref().expect("explained");
    assert_eq!(
        reason,
        "user.name=alice: new source.geo.country_iso_code RU, not seen in 14 days of baseline \
         (31 events); seen before: VN (28), SG (3)"
    );
    // The network is new too, explained with its organization name.
    let asn = with_rule(&found, "anomaly:first_seen:login-asn");
    assert_eq!(asn.len(), 1);
    assert_eq!(
        asn[0].event.fields.get(paths::VALUE).map(String::as_str),
        Some("12389 (AS 12389 net)")
    );
    assert!(
        asn[0].event.reason.as_deref().is_some_and(
            |r| r.contains("seen before: 18403 (AS 18403 net) (28), 4773 (AS 4773 net) (3)")
        ),
        "{:?}",
        asn[0].event.reason
    );
    assert_eq!(found.len(), 2, "{found:#?}");

    // Known countries raise nothing, and RU is known now.
    assert!(feed(&mut d, &login("org-a", "alice", "VN", 18403, 14 * DAY + 11 * HOUR)).is_empty());
    assert!(feed(&mut d, &login("org-a", "alice", "RU", 12389, 14 * DAY + 12 * HOUR)).is_empty());
    let s = d.stats();
    assert_eq!(s.first_seen.findings, 2);
    assert_eq!(s.events, 31 + 1 + 2);
}

#[test]
fn nothing_fires_while_learning() {
    let mut d = AnomalyDetector::new(only_first_seen()).expect("valid");
    alice_baseline(&mut d, "org-a", 5);
    // Day 5: alice is five days old, the learning period is seven.
    assert!(feed(&mut d, &login("org-a", "alice", "RU", 12389, 5 * DAY + 10 * HOUR)).is_empty());
    assert!(d.stats().first_seen.learning >= 2);

    // Old enough but too few events: bob logged in twice in ten days.
    feed(&mut d, &login("org-a", "bob", "VN", 18403, 0));
    feed(&mut d, &login("org-a", "bob", "VN", 18403, DAY));
    assert!(feed(&mut d, &login("org-a", "bob", "FR", 3215, 10 * DAY)).is_empty());
    // One more known login (third event), then a new country fires.
    feed(&mut d, &login("org-a", "bob", "VN", 18403, 10 * DAY + HOUR));
    let found = feed(&mut d, &login("org-a", "bob", "US", 7018, 10 * DAY + 2 * HOUR));
    assert_eq!(with_rule(&found, "anomaly:first_seen:login-country").len(), 1, "{found:#?}");
}

#[test]
fn new_parent_child_pair_and_new_user_on_host() {
    let mut d = AnomalyDetector::new(only_first_seen()).expect("valid");
    for day in 0..8 {
        let s = day * DAY;
        feed(&mut d, &process("org-a", "ws-01", "explorer.exe", "chrome.exe", s + HOUR));
        feed(&mut d, &process("org-a", "ws-01", "explorer.exe", "winword.exe", s + 2 * HOUR));
        feed(&mut d, &process("org-a", "ws-01", "services.exe", "svchost.exe", s + 3 * HOUR));
    }
    // Same child under a known parent: nothing. Word spawning PowerShell: one finding.
    assert!(
        feed(&mut d, &process("org-a", "ws-01", "explorer.exe", "chrome.exe", 8 * DAY)).is_empty()
    );
    let found =
        feed(&mut d, &process("org-a", "ws-01", "winword.exe", "powershell.exe", 8 * DAY + 1));
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.rule.id, "anomaly:first_seen:process-parent");
    assert_eq!(f.rule.group_by, Some(vec!["host.name".to_owned()]));
    assert_eq!(
        f.event.fields.get(paths::VALUE).map(String::as_str),
        Some("winword.exe → powershell.exe")
    );
    assert_eq!(f.event.fields.get("process.parent.name").map(String::as_str), Some("winword.exe"));
    let reason = f.event.reason.as_deref().expect("explained");
    assert!(
        reason.starts_with(
            "host.name=ws-01: new process.parent.name → process.name winword.exe → powershell.exe"
        ),
        "{reason}"
    );
    // Names compare without regard to ASCII case (Windows).
    assert!(
        feed(&mut d, &process("org-a", "WS-01", "WinWord.exe", "POWERSHELL.EXE", 8 * DAY + 2))
            .is_empty()
    );

    // Host → user logins: Windows service sessions are excluded, a new person is not.
    let mut win_login = |user: &str, secs: i64| {
        let mut e = login("org-a", user, "VN", 18403, secs);
        e.set("host.name", "dc-01");
        e.fields.remove("source.geo.country_iso_code");
        e.fields.remove("source.as.number");
        feed(&mut d, &e)
    };
    for day in 0..8 {
        assert!(win_login("alice", day * DAY).is_empty());
        assert!(win_login("bob", day * DAY + 1).is_empty());
    }
    assert!(win_login("DWM-3", 8 * DAY).is_empty());
    assert!(win_login("WS01$", 8 * DAY).is_empty());
    let found = win_login("mallory", 8 * DAY + 5);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].rule.id, "anomaly:first_seen:host-user");
    assert!(
        found[0].event.reason.as_deref().is_some_and(|r| r.contains("seen before: ")
            && r.contains("alice (8)")
            && r.contains("bob (8)")),
        "{:?}",
        found[0].event.reason
    );
}

#[test]
fn forgotten_values_are_new_again_and_caps_evict() {
    let mut cfg = only_first_seen();
    cfg.first_seen.forget_after = Duration::from_secs(30 * DAY as u64);
    cfg.first_seen.max_values = 2;
    cfg.first_seen.max_entities = 3;
    cfg.first_seen.rules.retain(|r| r.name == "login-country");
    let mut d = AnomalyDetector::new(cfg).expect("valid");
    for day in 0..10 {
        feed(&mut d, &login("org-a", "alice", "VN", 1, day * DAY));
    }
    feed(&mut d, &login("org-a", "alice", "SG", 1, 9 * DAY + 1));
    // Day 50: VN was last seen 41 days ago, more than `forget_after`.
    let found = feed(&mut d, &login("org-a", "alice", "VN", 1, 50 * DAY));
    assert_eq!(found.len(), 1);
    assert!(found[0].event.reason.as_deref().is_some_and(|r| r.ends_with("seen before: none")));
    // A third value at the cap of two evicts the least used one.
    assert_eq!(feed(&mut d, &login("org-a", "alice", "FR", 1, 50 * DAY + 1)).len(), 1);
    assert_eq!(feed(&mut d, &login("org-a", "alice", "DE", 1, 50 * DAY + 2)).len(), 1);
    assert_eq!(d.stats().first_seen.values_evicted, 1);

    // Entity cap of three: a fourth user evicts the stalest (bob), who learns again.
    feed(&mut d, &login("org-a", "bob", "VN", 1, 50 * DAY));
    feed(&mut d, &login("org-a", "carol", "VN", 1, 50 * DAY + 10));
    assert_eq!(d.stats().first_seen.entries, 3);
    feed(&mut d, &login("org-a", "dave", "VN", 1, 50 * DAY + 20));
    let s = d.stats();
    assert_eq!((s.first_seen.entries, s.first_seen.evicted), (3, 1));
}

#[test]
fn tenants_never_share_a_baseline() {
    let mut d = AnomalyDetector::new(only_first_seen()).expect("valid");
    alice_baseline(&mut d, "org-a", 14);
    // org-b's alice is another person: she is new, so she learns and raises nothing.
    assert!(feed(&mut d, &login("org-b", "alice", "RU", 12389, 14 * DAY)).is_empty());
    for day in 15..23 {
        feed(&mut d, &login("org-b", "alice", "RU", 12389, day * DAY));
    }
    // RU is usual for org-b's alice, and still new for org-a's.
    assert!(feed(&mut d, &login("org-b", "alice", "RU", 12389, 23 * DAY)).is_empty());
    let found = feed(&mut d, &login("org-a", "alice", "RU", 12389, 23 * DAY + 1));
    let country = with_rule(&found, "anomaly:first_seen:login-country");
    assert_eq!(country.len(), 1);
    assert_eq!(country[0].entity().organization(), Some("org-a"));
    // And org-a's countries do not leak into org-b's explanation.
    let found = feed(&mut d, &login("org-b", "alice", "VN", 18403, 23 * DAY + 2));
    let country = with_rule(&found, "anomaly:first_seen:login-country");
    assert_eq!(country.len(), 1);
    assert!(
        country[0].event.reason.as_deref().is_some_and(|r| r.ends_with("seen before: RU (10)"))
    );
}

#[test]
fn rare_action_on_a_host() {
    let mut d = AnomalyDetector::new(only_rare()).expect("valid");
    // Eight days of routine: 300 events a day, two actions, on two hosts.
    let mut n = 0;
    for day in 0..8 {
        for i in 0..150 {
            for host in ["dc-01", "dc-02"] {
                let s = day * DAY + i * 5 * MIN;
                n += 1;
                assert!(feed(&mut d, &action("org-a", host, "logged-in", s, n)).is_empty());
                n += 1;
                assert!(feed(&mut d, &action("org-a", host, "logged-out", s + 1, n)).is_empty());
            }
        }
    }
    // A rare action during learning would have been counted, not raised.
    assert_eq!(d.stats().rare.findings, 0);
    assert!(d.stats().rare.learning > 0);

    let found = feed(&mut d, &action("org-a", "dc-01", "cleared-log", 8 * DAY + HOUR, 0));
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.rule.id, "anomaly:rare:host-action");
    assert_eq!(f.rule.group_by, Some(vec!["host.name".to_owned()]));
    let field = |k: &str| f.event.fields.get(k).map(String::as_str);
    assert_eq!(field("event.action"), Some("cleared-log"));
    assert_eq!(field(paths::VALUE), Some("cleared-log"));
    assert_eq!(field(paths::COUNT), Some("0.000"));
    assert_eq!(field(paths::BASELINE_EVENTS), Some("2400"));
    let reason = f.event.reason.as_deref().expect("explained");
    assert!(
        reason
            .starts_with("host.name=dc-01: rare event.action cleared-log: weighted count 0.0 of "),
        "{reason}"
    );
    assert!(reason.contains("most common: logged-"), "{reason}");
    // Common actions raise nothing. The rare one stays rare while its count is below 3 and
    // its share below 0.1 %: the second time (1 of ~1,900) but not the third (2 of ~1,900).
    assert!(feed(&mut d, &action("org-a", "dc-01", "logged-in", 8 * DAY + HOUR + 1, 1)).is_empty());
    assert_eq!(
        feed(&mut d, &action("org-a", "dc-01", "cleared-log", 8 * DAY + HOUR + 2, 2)).len(),
        1
    );
    assert!(
        feed(&mut d, &action("org-a", "dc-01", "cleared-log", 8 * DAY + HOUR + 3, 3)).is_empty()
    );
    // The other host's baseline is its own: there it is still rare.
    assert_eq!(
        feed(&mut d, &action("org-a", "dc-02", "cleared-log", 8 * DAY + HOUR + 5, 5)).len(),
        1
    );
    assert_eq!(d.stats().rare.findings, 3);
}

#[test]
fn rare_values_at_the_cap_are_judged_on_an_upper_bound() {
    let mut cfg = only_rare();
    cfg.rare.max_values = 10;
    cfg.rare.min_events = 10;
    cfg.rare.rules.retain(|r| r.name == "host-action");
    let mut d = AnomalyDetector::new(cfg.clone()).expect("valid");
    // Twenty actions, each common (50 events each over eight days): twice the cap. Values
    // churn through the map, but each inherits the count of the one it replaces, so none
    // looks rare once learned.
    let mut n = 0;
    for round in 0..50 {
        for a in 0..20 {
            n += 1;
            let s = round * 4 * HOUR + a;
            assert!(
                feed(&mut d, &action("org-a", "app-01", &format!("action-{a}"), s, n)).is_empty()
            );
        }
    }
    let s = d.stats();
    assert!(s.rare.values_evicted > 0 && s.rare.learning > 0, "{s:?}");
    assert_eq!(s.rare.findings, 0);
    // The price: a new value in such a scope is not called rare either.
    assert!(feed(&mut d, &action("org-a", "app-01", "brand-new", 8 * DAY + 1, 0)).is_empty());

    // With few common values and a rare one at the cap, a new value inherits a small count
    // and is still rare; the explanation says the count is a bound.
    cfg.rare.max_values = 3;
    cfg.rare.max_share = 0.01;
    let mut d = AnomalyDetector::new(cfg).expect("valid");
    for i in 0..400 {
        let act = if i % 2 == 0 { "logged-in" } else { "logged-out" };
        feed(&mut d, &action("org-a", "app-01", act, i * 30 * MIN, i as usize));
    }
    feed(&mut d, &action("org-a", "app-01", "once", 400 * 30 * MIN + 1, 0));
    let found = feed(&mut d, &action("org-a", "app-01", "cleared-log", 400 * 30 * MIN + 2, 0));
    assert_eq!(found.len(), 1, "{found:#?}");
    let reason = found[0].event.reason.as_deref().expect("explained");
    assert!(
        reason.contains("weighted count at most 1.0 (more values than the 3 tracked)"),
        "{reason}"
    );
}

/// Ten events a minute on `web-01` for `minutes` minutes from `start`.
fn quiet_web(d: &mut AnomalyDetector, start: i64, minutes: i64) -> usize {
    let mut fired = 0;
    for m in 0..minutes {
        for i in 0..10 {
            fired += feed(d, &web("org-a", "web-01", start + m * MIN + i * 5, i as usize)).len();
        }
    }
    fired
}

#[test]
fn volume_spike_after_a_quiet_baseline() {
    let mut d = AnomalyDetector::new(only_volume()).expect("valid");
    assert_eq!(quiet_web(&mut d, 0, 2 * 24 * 60), 0);

    // 500 events in one minute: one finding, when the count crosses the line.
    let start = 2 * DAY;
    let mut found = Vec::new();
    for i in 0..500 {
        found.extend(feed(&mut d, &web("org-a", "web-01", start + i % 60, 1000 + i as usize)));
    }
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.rule.id, "anomaly:volume:host-category");
    assert_eq!(
        f.rule.group_by,
        Some(vec!["host.name".to_owned(), "event.category".to_owned(), "event.dataset".to_owned()])
    );
    let field = |k: &str| f.event.fields.get(k).map(String::as_str).unwrap_or_default();
    assert_eq!(field(paths::DETECTOR), "volume");
    assert_eq!(field(paths::VALUE), "web");
    assert_eq!(field("event.category"), "web");
    let observed: u64 = field(paths::OBSERVED).parse().expect("number");
    let threshold: u64 = field(paths::THRESHOLD).parse().expect("number");
    let expected: f64 = field(paths::EXPECTED).parse().expect("number");
    assert_eq!(observed, threshold, "raised as the count crossed");
    assert_eq!(threshold, 100, "the absolute minimum is the binding line here");
    assert!((expected - 10.0).abs() < 0.5, "{expected}");
    assert_eq!(field(paths::BUCKET_START), t(2 * DAY).to_rfc3339());
    assert_eq!(field(paths::BUCKET_SECONDS), "60");
    let reason = f.event.reason.as_deref().expect("explained");
    assert!(
        reason.starts_with(
            "host.name=web-01 event.category=web: 100 events in the 1m bucket from \
             2026-11-04 00:00:00 UTC (so far), expected 10.0 ± 3.2 (z = 28.5, line at 100)"
        ),
        "{reason}"
    );

    // Back to normal: nothing more.
    assert_eq!(quiet_web(&mut d, 2 * DAY + MIN, 30), 0);
    let s = d.stats();
    assert_eq!((s.volume.findings, s.volume.entries), (1, 1));
}

#[test]
fn volume_needs_learning_minimum_count_and_beats_the_recent_peak() {
    let mut d = AnomalyDetector::new(only_volume()).expect("valid");
    // During the first day a burst is only counted.
    quiet_web(&mut d, 0, 60);
    for i in 0..500 {
        assert!(feed(&mut d, &web("org-a", "web-01", HOUR + i % 60, i as usize)).is_empty());
    }
    assert_eq!(d.stats().volume.learning, 1);
    quiet_web(&mut d, HOUR + MIN, 24 * 60);

    // 60 events in a minute: far above 10 ± 3, but below the absolute minimum of 100.
    let s = DAY + 2 * HOUR;
    for i in 0..60 {
        assert!(feed(&mut d, &web("org-a", "web-01", s + i, i as usize)).is_empty());
    }
    // A burst no larger than the recent peak (the 500 of the first hour) raises nothing …
    quiet_web(&mut d, s + MIN, 10);
    let s = s + 11 * MIN;
    for i in 0..400 {
        assert!(feed(&mut d, &web("org-a", "web-01", s + i % 60, i as usize)).is_empty());
    }
    // … a larger one does, and says what the peak was.
    quiet_web(&mut d, s + MIN, 10);
    let s = s + 11 * MIN;
    let mut found = Vec::new();
    for i in 0..1000 {
        found.extend(feed(&mut d, &web("org-a", "web-01", s + i % 60, i as usize)));
    }
    assert_eq!(found.len(), 1);
    let peak: f64 = found[0].event.fields[paths::PEAK].parse().expect("number");
    assert!((400.0..=500.0).contains(&peak), "{peak}");
    let threshold: u64 = found[0].event.fields[paths::THRESHOLD].parse().expect("number");
    assert_eq!(threshold, peak.floor() as u64 + 1);
}

#[test]
fn volume_late_and_future_events() {
    let mut d = AnomalyDetector::new(only_volume()).expect("valid");
    quiet_web(&mut d, 0, 10);
    let now = t(10 * MIN);
    let mut out = Vec::new();
    // Two minutes late: counted in the current bucket. Ten minutes late: dropped.
    d.observe(&web("org-a", "web-01", 8 * MIN, 1), now, &mut out);
    d.observe(&web("org-a", "web-01", 0, 2), now, &mut out);
    // An hour in the future: counted at `now`.
    d.observe(&web("org-a", "web-01", 11 * MIN + HOUR, 3), now, &mut out);
    let s = d.stats();
    assert_eq!((s.volume_late_dropped, s.volume_future_clamped), (1, 1));
    assert!(out.is_empty());
}

#[test]
fn alert_documents_and_disabled_detectors_are_ignored() {
    let mut d = AnomalyDetector::new(AnomalyConfig::default()).expect("valid");
    let mut e = login("org-a", "alice", "VN", 1, 0);
    e.set("event.kind", "alert");
    assert!(feed(&mut d, &e).is_empty());
    assert_eq!((d.stats().events, d.stats().skipped_alerts), (0, 1));

    let cfg = AnomalyConfig { enabled: false, ..AnomalyConfig::default() };
    let mut d = AnomalyDetector::new(cfg).expect("valid");
    assert!(d.rule_ids().is_empty());
    alice_baseline(&mut d, "org-a", 14);
    assert!(feed(&mut d, &login("org-a", "alice", "RU", 2, 15 * DAY)).is_empty());
    assert_eq!(d.stats(), AnomalyStats::default());

    let d = AnomalyDetector::new(AnomalyConfig::default()).expect("valid");
    assert_eq!(
        d.rule_ids(),
        vec![
            "anomaly:first_seen:login-country",
            "anomaly:first_seen:login-asn",
            "anomaly:first_seen:host-user",
            "anomaly:first_seen:process-parent",
            "anomaly:rare:host-action",
            "anomaly:rare:host-process",
            "anomaly:volume:host-category",
        ]
    );
}

/// A mixed stream: logins, process starts, routine and rare actions, a volume burst.
fn mixed_stream() -> Vec<Event> {
    let mut out = Vec::new();
    let mut n = 0;
    for day in 0..10 {
        for h in 0..24 {
            let s = day * DAY + h * HOUR;
            out.push(login("org-a", "alice", if h % 7 == 0 { "SG" } else { "VN" }, 18403, s));
            out.push(process("org-a", "ws-01", "explorer.exe", "chrome.exe", s + 60));
            for m in 0..6 {
                n += 1;
                out.push(action("org-a", "dc-01", "logged-in", s + m * 10 * MIN, n));
                out.push(web("org-a", "web-01", s + m * 10 * MIN, n));
            }
        }
    }
    let s = 10 * DAY;
    out.push(login("org-a", "alice", "RU", 12389, s));
    out.push(process("org-a", "ws-01", "winword.exe", "powershell.exe", s + 1));
    out.push(action("org-a", "dc-01", "cleared-log", s + 2, 0));
    for i in 0..300 {
        out.push(web("org-a", "web-01", s + 60 + i % 60, 100_000 + i as usize));
    }
    out.push(login("org-a", "alice", "FR", 3215, s + 200));
    out
}

fn summary(found: &[Detection]) -> Vec<(String, String, Option<String>)> {
    found.iter().map(|d| (d.rule.id.clone(), d.event.id.clone(), d.event.reason.clone())).collect()
}

fn test_config() -> AnomalyConfig {
    let mut c = AnomalyConfig::default();
    c.rare.min_events = 100;
    c.volume.min_count = 20;
    c
}

#[test]
fn snapshot_restore_gives_the_same_findings() {
    let events = mixed_stream();
    let split = events.len() - 400;

    let mut a = AnomalyDetector::new(test_config()).expect("valid");
    for e in &events[..split] {
        feed(&mut a, e);
    }
    let state = a.snapshot();
    assert!(state.entries() > 0);
    assert_eq!(state, a.snapshot(), "snapshots are deterministic");

    // Through the file format and through JSON.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("anomaly.state");
    let bytes = a.save(&path).expect("saved");
    assert!(bytes > 0);
    let mut b = AnomalyDetector::new(test_config()).expect("valid");
    let outcome = b.load(&path).expect("loaded");
    let LoadOutcome::Restored(sum) = outcome else { panic!("not restored: {outcome:?}") };
    assert_eq!(sum.rules_restored, 7);
    assert!(sum.rules_dropped.is_empty());
    assert_eq!(sum.entries as usize, state.entries());
    assert_eq!(b.snapshot(), state);

    let json = serde_json::to_string(&state).expect("json");
    let mut c = AnomalyDetector::new(test_config()).expect("valid");
    c.restore(serde_json::from_str(&json).expect("parses")).expect("restored");

    let mut fa = Vec::new();
    let mut fb = Vec::new();
    let mut fc = Vec::new();
    for e in &events[split..] {
        fa.extend(feed(&mut a, e));
        fb.extend(feed(&mut b, e));
        fc.extend(feed(&mut c, e));
    }
    let ids: Vec<&str> = fa.iter().map(|d| d.rule.id.as_str()).collect();
    for want in [
        "anomaly:first_seen:login-country",
        "anomaly:first_seen:login-asn",
        "anomaly:first_seen:process-parent",
        "anomaly:rare:host-action",
        "anomaly:rare:host-process",
        "anomaly:volume:host-category",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    assert_eq!(summary(&fa), summary(&fb));
    assert_eq!(summary(&fa), summary(&fc));
    assert_eq!(fa, fb);
    assert_eq!(a.snapshot(), b.snapshot());

    // A fresh detector fed only the tail finds other things (it is learning).
    let mut fresh = AnomalyDetector::new(test_config()).expect("valid");
    let mut ff = Vec::new();
    for e in &events[split..] {
        ff.extend(feed(&mut fresh, e));
    }
    assert!(ff.is_empty());
}

#[test]
fn restore_keeps_only_matching_rules_and_fits_caps() {
    let mut a = AnomalyDetector::new(test_config()).expect("valid");
    for e in &mixed_stream() {
        feed(&mut a, e);
    }
    let state = a.snapshot();

    let mut cfg = test_config();
    // Other key fields: that rule's state means something else now.
    cfg.first_seen.rules[0].values = vec!["source.geo.city_name".into()];
    // Another bucket length: the volume series are dropped too.
    cfg.volume.bucket = Duration::from_secs(300);
    cfg.volume.half_life = Duration::from_secs(3600);
    // A smaller cap.
    cfg.rare.max_scopes = 1;
    let mut b = AnomalyDetector::new(cfg).expect("valid");
    let sum = b.restore(state.clone()).expect("restored");
    assert_eq!(
        sum.rules_dropped,
        vec!["first_seen:login-country".to_owned(), "volume:host-category".to_owned()]
    );
    assert_eq!(sum.rules_restored, 5);
    assert_eq!(b.stats().restore_dropped_rules, 2);
    assert!(b.stats().rare.entries <= 2);

    let mut bad = state;
    bad.version = 99;
    assert_eq!(
        b.restore(bad),
        Err(AnomalyError::StateVersion { found: 99, expected: STATE_VERSION })
    );
}

#[test]
fn bad_state_files_are_reported_moved_aside_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("anomaly.state");
    let mut d = AnomalyDetector::new(test_config()).expect("valid");
    assert_eq!(d.load(&path).expect("no file is fine"), LoadOutcome::NoFile);

    for e in &mixed_stream()[..2000] {
        feed(&mut d, e);
    }
    d.save(&path).expect("saved");
    let good = std::fs::read(&path).expect("read");

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"definitely not a state file".to_vec()),
        ("empty", Vec::new()),
        ("truncated", good[..good.len() - 10].to_vec()),
        ("flipped", {
            let mut b = good.clone();
            let last = b.len() - 1;
            b[last] ^= 0x55;
            b
        }),
    ];
    for (i, (name, bytes)) in cases.into_iter().enumerate() {
        std::fs::write(&path, &bytes).expect("write");
        let mut fresh = AnomalyDetector::new(test_config()).expect("valid");
        for e in &mixed_stream()[..50] {
            feed(&mut fresh, e);
        }
        let err = fresh.load(&path).expect_err(name);
        let msg = err.to_string();
        assert!(matches!(err, StateFileError::Corrupt { .. }), "{name}: {msg}");
        assert!(msg.contains("anomaly.state") && msg.contains("corrupt"), "{name}: {msg}");
        assert!(msg.contains("starting with empty baselines"), "{msg}");
        assert_eq!(fresh.stats().state_file_errors, 1, "{name}");
        assert_eq!(fresh.stats().first_seen.entries, 0, "{name}: starts fresh");
        assert!(!path.exists() && dir.path().join("anomaly.state.corrupt").exists(), "{name}");
        let _ = i;
    }

    // Another version.
    let mut other = good.clone();
    other[8..12].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(&path, &other).expect("write");
    let err = d.load(&path).expect_err("other version");
    assert!(
        matches!(err, StateFileError::UnsupportedVersion { found: 7, expected: STATE_VERSION, .. }),
        "{err}"
    );

    // A good file still loads, and a save leaves no temporary file behind.
    std::fs::write(&path, &good).expect("write");
    assert!(matches!(d.load(&path), Ok(LoadOutcome::Restored(_))));
    d.save(&path).expect("saved");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp.")), "{names:?}");

    // An unwritable place is an I/O error naming the file.
    let err = d.save(&dir.path().join("missing-dir").join("x.state")).expect_err("no dir");
    assert!(
        matches!(err, StateFileError::Io { .. }) && err.to_string().contains("x.state"),
        "{err}"
    );
}

#[test]
fn config_defaults_parse_and_validation_lists_every_problem() {
    let cfg = AnomalyConfig::default();
    cfg.validate().expect("defaults are valid");
    // The defaults survive TOML both ways.
    let text = toml::to_string(&cfg).expect("serializes");
    let back: AnomalyConfig = toml::from_str(&text).expect("parses");
    assert_eq!(back, cfg);

    let cfg: AnomalyConfig = toml::from_str(
        r#"
        [first_seen]
        learning_period = "14d"
        level = "medium"

        [[first_seen.rules]]
        name = "vpn-country"
        title = "VPN login from a new country"
        entity = ["user.name"]
        values = ["source.geo.country_iso_code"]
        when = { "event.dataset" = "cisco.asa", "event.outcome" = "success" }
        unless = { "user.name" = ["svc-*", "*$"] }

        [volume]
        bucket = "5m"
        half_life = "2h"
        "#,
    )
    .expect("parses");
    cfg.validate().expect("valid");
    assert_eq!(cfg.first_seen.learning_period, Duration::from_secs(14 * DAY as u64));
    assert_eq!(cfg.first_seen.rules.len(), 1);
    assert_eq!(cfg.volume.bucket, Duration::from_secs(300));
    assert_eq!(cfg.rare.rules.len(), 2, "untouched detectors keep their default rules");
    let d = AnomalyDetector::new(cfg).expect("valid");
    assert!(d.rule_ids().contains(&"anomaly:first_seen:vpn-country"));

    // Unknown fields and bad durations are parse errors.
    let err = toml::from_str::<AnomalyConfig>("[rare]\nwindw = \"14d\"\n").expect_err("unknown");
    assert!(err.to_string().contains("windw"), "{err}");
    assert!(toml::from_str::<AnomalyConfig>("[rare]\nwindow = \"fortnight\"\n").is_err());

    let mut cfg = AnomalyConfig::default();
    cfg.first_seen.max_values = 0;
    cfg.first_seen.rules[1].name = "login-country".into();
    cfg.first_seen.rules[2].values.clear();
    cfg.first_seen.rules[3].when.insert("process.name".into(), OneOrMany::One("a*b".into()));
    cfg.rare.max_share = 1.5;
    cfg.rare.rules[0].key = vec!["host.name".into()];
    cfg.volume.bucket = Duration::from_secs(7);
    cfg.volume.z = f64::NAN;
    cfg.volume.rules[0].name = "Bad Name".into();
    cfg.volume.rules[0].entity = vec!["host..name".into()];
    let err = cfg.validate().expect_err("invalid");
    let AnomalyError::InvalidConfig(problems) = &err else { panic!("{err}") };
    let expect = [
        "first_seen.max_values: must be between 1 and 4096, not 0",
        "first_seen.rules: rule name `login-country` is used twice",
        "first_seen.rules[2] (host-user).values: must name at least one field",
        "first_seen.rules[3] (process-parent).when.process.name: `a*b`: `*` is allowed only at the start and the end of a pattern",
        "rare.max_share: must be greater than 0 and at most 1, not 1.5",
        "rare.rules[0] (host-action).key: `host.name` is also a scope field",
        "volume.bucket: must be a whole number of seconds that divides a day",
        "volume.z: must be greater than 0 and at most 1000000, not NaN",
        "volume.rules[0] (Bad Name): name `Bad Name`: use 1 to 64 of a-z, 0-9, `-` and `_`",
        "volume.rules[0] (Bad Name).entity: `host..name` is not a dotted field path like `host.name`",
    ];
    for e in expect {
        assert!(problems.iter().any(|p| p == e), "missing {e:?} in {problems:#?}");
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    assert!(err.to_string().starts_with("invalid anomaly configuration: "));
    assert!(matches!(AnomalyDetector::new(cfg), Err(AnomalyError::InvalidConfig(_))));
}

#[test]
fn findings_group_into_alerts() {
    let mut d = AnomalyDetector::new(only_first_seen()).expect("valid");
    alice_baseline(&mut d, "org-a", 14);
    let found = feed(&mut d, &login("org-a", "alice", "RU", 12389, 14 * DAY));
    let mut g = AlertGrouper::new(GrouperConfig::default()).expect("valid");
    let mut alerts = Vec::new();
    for f in found {
        alerts.extend(g.observe(f, t(14 * DAY)));
    }
    assert_eq!(alerts.len(), 2);
    let AlertUpdate::Created(a) = &alerts[0] else { panic!("{alerts:?}") };
    assert_eq!(a.kind, DetectionKind::Anomaly);
    assert_eq!(a.entity.to_string(), "user.name=alice");
    assert_eq!(a.entity.organization(), Some("org-a"));
    assert_eq!(a.severity.label, Level::Low);
}

#[test]
fn levels_and_tags_are_configurable() {
    let mut cfg = only_first_seen();
    cfg.first_seen.level = Level::Medium;
    cfg.first_seen.rules[1].level = Some(Level::High);
    cfg.first_seen.rules[0].tags = vec!["attack.t1078.004".into(), "anomaly".into()];
    let d = AnomalyDetector::new(cfg).expect("valid");
    assert_eq!(d.first_seen[0].common.meta.level, Level::Medium);
    assert_eq!(d.first_seen[1].common.meta.level, Level::High);
    assert_eq!(
        d.first_seen[0].common.meta.tags,
        vec!["anomaly", "anomaly.first_seen", "attack.t1078.004"]
    );
}

#[test]
fn odd_events_never_panic_and_count_sensibly() {
    let mut cfg = AnomalyConfig::default();
    cfg.first_seen.learning_period = Duration::ZERO;
    cfg.first_seen.min_events = 0;
    cfg.rare.learning_period = Duration::ZERO;
    cfg.rare.min_events = 0;
    let mut d = AnomalyDetector::new(cfg).expect("valid");
    let mut out = Vec::new();

    // No fields at all, no tenant.
    let bare = Event::new("bare".into(), t(0), "");
    d.observe(&bare, t(0), &mut out);

    // Lists, numbers and JSON where text is expected, a 64 KiB value, odd times.
    let mut e = login("org-a", "alice", "VN", 1, 0);
    e.set(
        "user.name",
        sen_core::event::Value::List(vec!["a".into(), sen_core::event::Value::Int(7)]),
    );
    e.set("host.name", 42i64);
    e.set("event.action", sen_core::event::Value::json(serde_json::json!([{"x": 1}])));
    e.set("source.geo.country_iso_code", "Z".repeat(65_536));
    for (ts, now) in [
        (t(0), t(0)),
        (Utc.timestamp_opt(0, 0).single().expect("epoch"), t(0)),
        (Utc.timestamp_opt(-86_400 * 365, 0).single().expect("1969"), t(0)),
        (t(400 * DAY), t(0)),
        (t(0), t(-400 * DAY)),
        (DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MAX_UTC),
        (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MIN_UTC),
    ] {
        let mut e = e.clone();
        e.timestamp = ts;
        d.observe(&e, now, &mut out);
    }
    // Values and sentences stay bounded.
    assert!(!out.is_empty());
    for f in &out {
        for v in f.event.fields.values() {
            assert!(v.len() <= crate::alerts::MAX_FIELD_VALUE_BYTES, "{} bytes", v.len());
        }
        let reason = f.event.reason.as_deref().unwrap_or_default();
        assert!(reason.len() < 4_096, "{} bytes", reason.len());
    }
    let s = d.stats();
    assert_eq!(s.events, 8);
    assert!(s.volume_future_clamped >= 1, "{s:?}");

    // A reason survives the serde form of a matched event.
    if let Some(f) = out.first() {
        let json = serde_json::to_string(&f.event).expect("serializes");
        let back: crate::alerts::MatchedEvent = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, f.event);
    }
    // A matched event without a reason serializes as before (no `reason` key).
    let plain = crate::alerts::MatchedEvent::capture(&bare, []);
    let json = serde_json::to_string(&plain).expect("serializes");
    assert!(!json.contains("reason"), "{json}");
}

#[test]
fn the_detector_can_move_to_another_thread() {
    fn send<T: Send + 'static>() {}
    send::<AnomalyDetector>();
    send::<AnomalyState>();
}
