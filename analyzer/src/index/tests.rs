use super::*;
use sen_core::derive_id;

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ev(i: usize, t: DateTime<Utc>, user: &str, ip: &str, msg: &str) -> Event {
    let mut e = Event::new(derive_id(&[b"t", &i.to_le_bytes()]), t, format!("orig {msg}"));
    e.organization = Some(if i.is_multiple_of(2) { "stttt" } else { "syt" }.into());
    e.set("user.name", user);
    e.set("source.ip", ip.parse::<IpAddr>().unwrap());
    e.set("source.port", 1000 + i as i64);
    e.set("message", msg);
    e.push("event.category", "authentication");
    e.set("custom.thing", format!("v{}", i % 3));
    e.set("custom.num", i as i64);
    e
}

fn store(dir: &Path) -> IndexStore {
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

fn search(s: &IndexStore, q: &str) -> SearchResponse {
    let now = Utc::now();
    s.search(&SearchRequest {
        q: q.into(),
        from: now - chrono::Duration::days(3),
        to: now + chrono::Duration::hours(1),
        limit: 100,
        offset: 0,
    })
    .unwrap()
}

fn fill(s: &IndexStore) -> Vec<Event> {
    let now = Utc::now();
    let events: Vec<Event> = (0..40)
        .map(|i| {
            let t = now - chrono::Duration::minutes(i as i64 * 60);
            let ip = if i < 10 { format!("203.0.113.{i}") } else { format!("10.10.1.{i}") };
            let user = if i % 4 == 0 { "Root" } else { "alice" };
            let msg = if i % 5 == 0 {
                "Failed password for root"
            } else {
                "Accepted publickey for alice"
            };
            ev(i, t, user, &ip, msg)
        })
        .collect();
    let batch: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.clone(), Some(Position { partition: 0, offset: i as u64 }), false))
        .collect();
    assert_eq!(s.add_batch(&batch).unwrap(), 40);
    s.commit(std::time::Duration::from_secs(60)).unwrap();
    events
}

#[test]
fn query_language_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let events = fill(&s);
    assert_eq!(search(&s, "").total, 40);
    let by_id = search(&s, &format!("event.id:{}", events[3].id));
    assert_eq!(by_id.total, 1);
    assert_eq!(by_id.hits[0]["event.id"], events[3].id.as_str());
    assert_eq!(search(&s, "user.name:root").total, 10, "keyword match is case-insensitive");
    assert_eq!(search(&s, "user.name:ROOT OR user.name:alice").total, 40);
    assert_eq!(search(&s, "NOT user.name:root").total, 30);
    assert_eq!(search(&s, "-user.name:root").total, 30);
    assert_eq!(search(&s, "source.ip:203.0.113.0/24").total, 10);
    assert_eq!(search(&s, "source.ip:203.0.113.3").total, 1);
    assert_eq!(search(&s, "source.port:[1000 TO 1004]").total, 5);
    assert_eq!(search(&s, "source.port:>=1035").total, 5);
    assert_eq!(search(&s, "\"failed password\"").total, 8);
    assert_eq!(search(&s, "failed").total, 8);
    assert_eq!(search(&s, "message:accept*").total, 32);
    assert_eq!(search(&s, "custom.thing:v1").total, 13);
    // Prefix on an untyped (JSON) field: a term-dictionary prefix scan, not a range query
    // (which tantivy refuses on JSON fields without a fast column).
    assert_eq!(search(&s, "custom.thing:v*").total, 40);
    assert_eq!(search(&s, "custom.thing:V1*").total, 13);
    assert_eq!(search(&s, "custom.thing:x*").total, 0);
    assert_eq!(search(&s, "custom.thing:v* AND user.name:root").total, 10);
    assert_eq!(search(&s, "custom.num:7").total, 1);
    assert_eq!(search(&s, "organization.id:syt AND user.name:alice").total, 20);
    assert_eq!(search(&s, "_exists_:user.name").total, 40);
    assert_eq!(search(&s, "event.category:authentication").total, 40);
    assert_eq!(search(&s, "user.name:ali*").total, 30);
    let r = search(&s, "user.name:root");
    // Newest first, flat dotted ECS JSON.
    let times: Vec<&str> = r.hits.iter().map(|h| h["@timestamp"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    assert_eq!(r.hits[0]["user.name"], "Root");
    assert!(r.hits[0]["event.original"].as_str().unwrap().starts_with("orig "));
    assert!(matches!(
        s.search(&SearchRequest {
            q: "a AND (".into(),
            from: Utc::now() - chrono::Duration::hours(1),
            to: Utc::now(),
            limit: 1,
            offset: 0
        }),
        Err(IndexError::Query(_))
    ));
}

#[test]
fn pagination_and_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let events = fill(&s);
    let now = Utc::now();
    let all = search(&s, "");
    let page = s
        .search(&SearchRequest {
            q: "".into(),
            from: now - chrono::Duration::days(3),
            to: now + chrono::Duration::hours(1),
            limit: 7,
            offset: 7,
        })
        .unwrap();
    assert_eq!(page.hits, all.hits[7..14].to_vec());
    let r = s
        .search(&SearchRequest {
            q: "".into(),
            from: events[4].timestamp,
            to: events[0].timestamp,
            limit: 100,
            offset: 0,
        })
        .unwrap();
    assert_eq!(r.total, 4, "from inclusive, to exclusive");
}

#[test]
fn histogram_and_top_values() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    fill(&s);
    let now = Utc::now();
    let h = s
        .histogram("", now - chrono::Duration::days(3), now + chrono::Duration::hours(1), 80)
        .unwrap();
    assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 40);
    assert!(h.interval_ms >= 3_600_000);
    let top = s
        .top_values(
            "user.name",
            "",
            now - chrono::Duration::days(3),
            now + chrono::Duration::hours(1),
            5,
        )
        .unwrap();
    assert_eq!(top.values[0].value, "alice");
    assert_eq!(top.values[0].count, 30);
    assert_eq!(top.values[1].value, "Root", "top values keep the original case");
    let top = s
        .top_values(
            "source.ip",
            "user.name:root",
            now - chrono::Duration::days(3),
            now + chrono::Duration::hours(1),
            3,
        )
        .unwrap();
    assert_eq!(top.values.len(), 3);
    assert_eq!(top.other, 7);
    assert_eq!(top.total, 10);
    let top = s
        .top_values(
            "custom.thing",
            "",
            now - chrono::Duration::days(3),
            now + chrono::Duration::hours(1),
            5,
        )
        .unwrap();
    assert_eq!(top.values.iter().map(|v| v.count).sum::<u64>(), 40);
}

#[test]
fn replay_after_commit_is_skipped_and_upserts_dedupe() {
    let dir = tempfile::tempdir().unwrap();
    let events = {
        let s = store(dir.path());
        fill(&s)
    };
    // Reopen: the commit payload remembers the bus position; a replay adds nothing.
    let s = store(dir.path());
    let batch: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.clone(), Some(Position { partition: 0, offset: i as u64 }), false))
        .collect();
    assert_eq!(s.add_batch(&batch).unwrap(), 0);
    // A sender retry (same ids, new bus positions) with upsert replaces instead of duplicating.
    let retry: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.clone(), Some(Position { partition: 0, offset: 100 + i as u64 }), true))
        .collect();
    assert_eq!(s.add_batch(&retry).unwrap(), 40);
    s.commit(std::time::Duration::from_secs(60)).unwrap();
    assert_eq!(search(&s, "").total, 40);
}

#[test]
fn retention_by_age_deletes_whole_days() {
    let dir = tempfile::tempdir().unwrap();
    let s = IndexStore::open(
        dir.path(),
        IndexConfig {
            writer_memory_bytes: 30 << 20,
            writer_threads: 1,
            max_age_days: 5,
            min_free_bytes: 0,
        },
    )
    .unwrap();
    let now = Utc::now();
    let batch: Vec<_> = (0..3)
        .map(|d| (ev(d, now - chrono::Duration::days(d as i64), "u", "10.0.0.1", "m"), None, false))
        .collect();
    s.add_batch(&batch).unwrap();
    s.commit(std::time::Duration::ZERO).unwrap();
    assert_eq!(s.doc_counts().len(), 3);
    let deleted = s.enforce_retention(now + chrono::Duration::days(5)).unwrap();
    assert_eq!(deleted.len(), 2);
    assert_eq!(s.doc_counts().len(), 1);
    // Far-away timestamps are filed under the ingest day, not a day retention would drop.
    let odd = ev(9, ts("1999-01-01T00:00:00Z"), "u", "10.0.0.1", "m");
    s.add_batch(&[(odd, None, false)]).unwrap();
    s.commit(std::time::Duration::ZERO).unwrap();
    assert_eq!(s.doc_counts().len(), 1);
}

#[test]
fn positions_are_clamped_to_the_bus_end() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let events = fill(&s);
    let mut end = BTreeMap::new();
    end.insert(0u32, 30u64);
    // Each day index holding an offset at or past 30 is lowered: one or two days, by the time
    // of day (the 40 hourly events span two or three UTC days).
    let days_past: std::collections::BTreeSet<_> =
        events[30..].iter().map(|e| e.timestamp.date_naive()).collect();
    assert_eq!(s.clamp_positions(&end), days_past.len());
    assert_eq!(s.clamp_positions(&end), 0);
    // Offset 35 now belongs to a new record: it is indexed, not skipped as a replay.
    let mut e = events[0].clone();
    e.id = "new-record".into();
    assert_eq!(s.add_batch(&[(e, Some(Position { partition: 0, offset: 35 }), false)]).unwrap(), 1);
    // Offset 5 is still below the committed position of the day of events[30] (30 hours ago:
    // yesterday, committed up to ≥ 25, or the day before, clamped to 30): skipped. (events[1]
    // was used here; between 00:00 and 06:00 UTC it falls on today, committed only up to 2.)
    let e = events[30].clone();
    assert_eq!(s.add_batch(&[(e, Some(Position { partition: 0, offset: 5 }), false)]).unwrap(), 0);
}

#[test]
fn incompatible_day_index_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("2026-01-02");
    std::fs::create_dir_all(&day).unwrap();
    let mut b = tantivy::schema::Schema::builder();
    b.add_text_field("id", tantivy::schema::STRING);
    Index::create_in_dir(&day, b.build()).unwrap();
    let err = IndexStore::open(dir.path(), IndexConfig::default()).unwrap_err();
    assert!(err.to_string().contains("2026-01-02") && err.to_string().contains("schema"), "{err}");
}

#[test]
fn retention_by_disk_watermark_keeps_today() {
    let dir = tempfile::tempdir().unwrap();
    // An unreachable free-space floor: every day but today is deleted, oldest first.
    let s = IndexStore::open(
        dir.path(),
        IndexConfig {
            writer_memory_bytes: 30 << 20,
            writer_threads: 1,
            max_age_days: 0,
            min_free_bytes: u64::MAX,
        },
    )
    .unwrap();
    let now = Utc::now();
    let batch: Vec<_> = (0..4)
        .map(|d| (ev(d, now - chrono::Duration::days(d as i64), "u", "10.0.0.1", "m"), None, false))
        .collect();
    s.add_batch(&batch).unwrap();
    s.commit(std::time::Duration::ZERO).unwrap();
    let deleted = s.enforce_retention(now).unwrap();
    assert_eq!(deleted.len(), 3);
    assert!(deleted.windows(2).all(|w| w[0] < w[1]), "oldest first: {deleted:?}");
    assert_eq!(s.doc_counts().keys().copied().collect::<Vec<_>>(), vec![now.date_naive()]);
}
