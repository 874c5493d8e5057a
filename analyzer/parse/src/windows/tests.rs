use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use super::*;

fn naive(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[test]
fn shapes_are_detected() {
    let d = |v: serde_json::Value| detect(v.as_object().unwrap());
    assert_eq!(d(json!({"Event": {"System": {}}})), Some(Shape::Evtx));
    assert_eq!(d(json!({"Event": {"System": 1}})), Some(Shape::Evtx));
    assert_eq!(d(json!({"winlog": {"event_id": 1}})), Some(Shape::Winlogbeat));
    assert_eq!(d(json!({"winlog.event_id": 1})), Some(Shape::Winlogbeat));
    assert_eq!(d(json!({"EventID": 1, "Channel": "x"})), Some(Shape::Flat));
    assert_eq!(d(json!({"EventID": 1})), None);
    assert_eq!(d(json!({"Event": {"EventData": {}}})), None);
    assert_eq!(d(json!({"winlog": "x", "message": "m"})), None);
}

#[test]
fn times() {
    assert_eq!(
        parse_time("2019-05-12T17:20:01.980574Z"),
        Some(WinTime::Zoned(utc("2019-05-12T17:20:01.980574Z")))
    );
    assert_eq!(
        parse_time("2021-08-02T13:11:39.7724491Z"),
        Some(WinTime::Zoned(utc("2021-08-02T13:11:39.7724491Z")))
    );
    assert_eq!(
        parse_time("2019-05-12 17:20:01.980574 UTC"),
        Some(WinTime::Zoned(utc("2019-05-12T17:20:01.980574Z")))
    );
    assert_eq!(
        parse_time("2020-10-12T18:32:50-04:00"),
        Some(WinTime::Zoned(utc("2020-10-12T22:32:50Z")))
    );
    assert_eq!(
        parse_time("2020-10-12 18:32:50"),
        Some(WinTime::Naive(naive("2020-10-12 18:32:50")))
    );
    assert_eq!(parse_time("2020-10-12 18:32:50 garbage"), None);
    assert_eq!(parse_time("yesterday"), None);
    assert_eq!(parse_time(""), None);
}

#[test]
fn collector_offsets() {
    let local = naive("2020-10-12 18:32:52");
    // Logstash received it 0.98 s later, in UTC: the collector was at UTC-4.
    let off = infer_offset(local, utc("2020-10-12T22:32:52.980Z"));
    assert_eq!(off, Some(Duration::hours(-4)));
    assert_eq!(infer_offset(local, utc("2020-10-12T13:02:52Z")), Some(Duration::minutes(330)));
    assert_eq!(infer_offset(local, utc("2020-10-12T18:32:50Z")), Some(Duration::zero()));
    // Too far from a quarter hour, or beyond any zone.
    assert_eq!(infer_offset(local, utc("2020-10-12T22:40:00Z")), None);
    assert_eq!(infer_offset(local, utc("2020-10-14T18:32:52Z")), None);
    let date = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    assert!(infer_offset(date.and_hms_opt(0, 0, 0).unwrap(), DateTime::<Utc>::MIN_UTC).is_none());
}

#[test]
fn integers_levels_channels() {
    assert_eq!(int_of(&json!(4624)), Some(4624));
    assert_eq!(int_of(&json!("4624")), Some(4624));
    assert_eq!(int_of(&json!("0x1f4")), Some(500));
    assert_eq!(int_of(&json!({"#text": 7036})), Some(7036));
    assert_eq!(int_of(&json!("0x8020000000000000")).map(|k| k as u64), Some(0x8020_0000_0000_0000));
    assert_eq!(
        int_of(&json!(-9214364837600034816i64)).map(|k| k as u64),
        Some(0x8020_0000_0000_0000)
    );
    assert_eq!(int_of(&json!(4.5)), None);
    assert_eq!(int_of(&json!("x")), None);
    let mut errors = Vec::new();
    assert_eq!(event_id_of(&json!(-1), &mut errors), None);
    assert_eq!(event_id_of(&json!(1u64 << 40), &mut errors), None);
    assert_eq!(errors.len(), 2);
    assert_eq!(level_name(0), Some("information"));
    assert_eq!(level_name(2), Some("error"));
    assert_eq!(level_word("WARNING"), Some("warning"));
    assert_eq!(canonical_channel("security".into()), "Security");
    assert_eq!(
        canonical_channel("microsoft-windows-sysmon/operational".into()),
        "Microsoft-Windows-Sysmon/Operational"
    );
    assert_eq!(canonical_channel("Custom/Log".into()), "Custom/Log");
    assert_eq!(audit_of_bits(0x8010_0000_0000_0000), Some(Audit::Failure));
    assert_eq!(audit_of_bits(0x8000_0000_0000_0000), None);
    assert_eq!(short(&"é".repeat(40)).len(), 64);
}
