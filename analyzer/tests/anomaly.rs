//! The anomaly detector's default rules on real parser output: sshd syslog lines, Windows
//! Security 4624 logons and Sysmon process creations go through `pipeline::build_event`, so a
//! field the parsers name differently from what the rules read fails here.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sen_analyzer::alerts::Detection;
use sen_analyzer::anomaly::{AnomalyConfig, AnomalyDetector, paths};
use sen_analyzer::enrich::{EnrichConfig, Enricher};
use sen_analyzer::pipeline::build_event;
use sen_core::Event;
use sen_core::raw::{Body, RawRecord, Transport};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).single().expect("valid time")
}

fn parse(body: Body, at: DateTime<Utc>, offset: u64) -> Event {
    let enricher = Enricher::new(&EnrichConfig::default()).expect("empty enricher");
    let rec = RawRecord {
        received_ms: at.timestamp_millis(),
        transport: Transport::File,
        peer: None,
        organization: None,
        origin: None,
        format: None,
        body,
    };
    let (mut e, _) = build_event(rec, 0, offset, chrono_tz::UTC, &enricher, at);
    e.organization = Some("so-tttt".into());
    e
}

/// An accepted sshd password login, with the fields the GeoIP enricher adds.
fn ssh_login(user: &str, country: &str, asn: i64, at: DateTime<Utc>, offset: u64) -> Event {
    let ts = at.to_rfc3339();
    let line = format!(
        "<38>1 {ts} bastion-01 sshd 4242 - - Accepted password for {user} from 1.53.7.9 port \
         50022 ssh2"
    );
    let mut e = parse(Body::Line(line), at, offset);
    e.set("source.geo.country_iso_code", country);
    e.set("source.as.number", asn);
    e
}

fn windows(obj: serde_json::Value, at: DateTime<Utc>, offset: u64) -> Event {
    parse(Body::Json(obj.to_string()), at, offset)
}

fn logon(user: &str, at: DateTime<Utc>, offset: u64) -> Event {
    windows(
        serde_json::json!({
            "EventID": 4624,
            "Channel": "Security",
            "SourceName": "Microsoft-Windows-Security-Auditing",
            "Hostname": "DC-01.corp.local",
            "TimeCreated": at.to_rfc3339(),
            "Keywords": "0x8020000000000000",
            "TargetUserName": user,
            "TargetDomainName": "CORP",
            "LogonType": "3",
            "IpAddress": "10.0.0.15",
            "IpPort": "0",
        }),
        at,
        offset,
    )
}

fn sysmon_process(parent: &str, child: &str, at: DateTime<Utc>, offset: u64) -> Event {
    windows(
        serde_json::json!({
            "EventID": 1,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "SourceName": "Microsoft-Windows-Sysmon",
            "Hostname": "WS-07.corp.local",
            "TimeCreated": at.to_rfc3339(),
            "Image": format!("C:\\Program Files\\App\\{child}"),
            "ParentImage": format!("C:\\Windows\\{parent}"),
            "CommandLine": child,
            "User": "CORP\\alice",
            "ProcessId": "4242",
        }),
        at,
        offset,
    )
}

fn feed(d: &mut AnomalyDetector, e: &Event) -> Vec<Detection> {
    let mut out = Vec::new();
    d.observe(e, e.timestamp, &mut out);
    out
}

#[test]
fn parsed_events_carry_the_fields_the_default_rules_read() {
    let at = start();
    let e = ssh_login("alice", "VN", 18403, at, 1);
    assert_eq!(e.get_str("event.outcome"), Some("success"), "{e}");
    assert_eq!(e.get_str("user.name"), Some("alice"));
    assert_eq!(e.get_str("host.name"), Some("bastion-01"));
    assert_eq!(e.timestamp, at);
    let e = logon("bob", at, 2);
    assert_eq!(e.get_str("event.outcome"), Some("success"), "{e}");
    assert_eq!(e.get_str("user.name"), Some("bob"));
    assert!(e.get_str("host.name").is_some_and(|h| h.starts_with("DC-01")), "{e}");
    let e = sysmon_process("explorer.exe", "app.exe", at, 3);
    assert_eq!(e.get_str("process.name"), Some("app.exe"), "{e}");
    assert_eq!(e.get_str("process.parent.name"), Some("explorer.exe"));
}

#[test]
fn default_rules_fire_on_parsed_events() {
    let mut d = AnomalyDetector::new(AnomalyConfig::default()).expect("valid");
    let mut offset = 0;
    let mut next = || {
        offset += 1;
        offset
    };
    for day in 0..10 {
        let at = start() + Duration::days(day);
        for h in 0..3 {
            let t = at + Duration::hours(h);
            assert!(feed(&mut d, &ssh_login("alice", "VN", 18403, t, next())).is_empty());
            assert!(feed(&mut d, &logon("alice", t, next())).is_empty());
            assert!(feed(&mut d, &logon("bob", t + Duration::minutes(1), next())).is_empty());
            let p = sysmon_process("explorer.exe", "app.exe", t + Duration::minutes(2), next());
            assert!(feed(&mut d, &p).is_empty());
        }
    }
    let at = start() + Duration::days(10);
    let found = feed(&mut d, &ssh_login("alice", "KP", 131279, at, next()));
    let mut ids: Vec<&str> = found.iter().map(|f| f.rule.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["anomaly:first_seen:login-asn", "anomaly:first_seen:login-country"]);

    let found = feed(&mut d, &logon("mallory", at + Duration::minutes(1), next()));
    let ids: Vec<&str> = found.iter().map(|f| f.rule.id.as_str()).collect();
    assert_eq!(ids, ["anomaly:first_seen:host-user"], "{found:#?}");

    let found = feed(&mut d, &sysmon_process("winword.exe", "app.exe", at, next()));
    let ids: Vec<&str> = found.iter().map(|f| f.rule.id.as_str()).collect();
    assert_eq!(ids, ["anomaly:first_seen:process-parent"], "{found:#?}");
    assert_eq!(
        found[0].event.fields.get(paths::VALUE).map(String::as_str),
        Some("winword.exe → app.exe")
    );
    assert!(
        found[0].event.reason.as_deref().is_some_and(|r| r.contains("explorer.exe → app.exe (30)"))
    );
}
