//! Tests specific to the embedded log: layout, recovery from damaged tails, segment rolls,
//! retention, limits.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sen_core::bus::embedded::{EmbeddedLog, FsyncPolicy, LogConfig, TopicConfig};
use sen_core::bus::{Bus, BusError, Delivered, Message};

const T: &str = "t";

fn config(partitions: u32) -> LogConfig {
    LogConfig {
        topics: [(T.to_owned(), TopicConfig { partitions })].into_iter().collect(),
        ..LogConfig::default()
    }
}

fn small_segments(segment_bytes: u64) -> LogConfig {
    LogConfig { segment_bytes, fsync: FsyncPolicy::Never, ..config(1) }
}

fn msg(key: &str, payload: &[u8], ts: i64) -> Message {
    Message { key: key.as_bytes().to_vec(), payload: payload.to_vec(), timestamp_ms: ts }
}

fn payload(i: u64) -> Vec<u8> {
    format!("record number {i} ").repeat(1 + (i % 5) as usize).into_bytes()
}

/// Size of a record on disk: 8 bytes of header, 20 of fixed body, key, payload.
fn framed(m: &Message) -> u64 {
    (28 + m.key.len() + m.payload.len()) as u64
}

/// Publish records `from..from + n` (key "k") to `T` in batches of 10; returns them.
async fn fill(log: &EmbeddedLog, from: u64, n: u64) -> Vec<Message> {
    fill_at(log, from, n, |i| i as i64).await
}

async fn fill_at(log: &EmbeddedLog, from: u64, n: u64, ts: impl Fn(u64) -> i64) -> Vec<Message> {
    let msgs: Vec<Message> = (from..from + n).map(|i| msg("k", &payload(i), ts(i))).collect();
    for chunk in msgs.chunks(10) {
        log.publish(T, chunk.to_vec()).await.expect("publish");
    }
    msgs
}

async fn read_all(log: &EmbeddedLog, partition: u32) -> Vec<Delivered> {
    let (low, high) = log.watermarks(T, partition).await.expect("watermarks");
    let mut out = Vec::new();
    let mut next = low;
    while next < high {
        let batch = log.fetch(T, partition, next, 1000, Duration::ZERO).await.expect("fetch");
        assert!(!batch.is_empty(), "no record at {next} below the high watermark {high}");
        for d in batch {
            assert_eq!(d.offset, next, "offsets are contiguous");
            next += 1;
            out.push(d);
        }
    }
    out
}

fn assert_same(got: &[Delivered], sent: &[Message]) {
    assert_eq!(got.len(), sent.len(), "record count");
    for (d, m) in got.iter().zip(sent) {
        assert_eq!((&d.key, &d.payload, d.timestamp_ms), (&m.key, &m.payload, m.timestamp_ms));
    }
}

fn tail_segment(log: &EmbeddedLog, partition: u32) -> PathBuf {
    log.segments(T, partition).expect("segments").last().expect("a segment").path.clone()
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(path).expect("open segment");
    f.write_all(bytes).expect("append");
}

fn set_len(path: &Path, len: u64) {
    OpenOptions::new().write(true).open(path).expect("open").set_len(len).expect("truncate");
}

fn flip_byte(path: &Path, pos: u64) {
    let mut bytes = fs::read(path).expect("read");
    bytes[pos as usize] ^= 0x10;
    fs::write(path, bytes).expect("write");
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).expect("metadata").len()
}

/// Write 40 records, damage the tail segment with `damage` (given the file and the framed size
/// of each record; it returns the number of bytes recovery must cut), reopen, check that the
/// first `survivors` records are intact and that appends continue at the right offset.
async fn damaged_tail_case(damage: impl FnOnce(&Path, &[u64]) -> u64, survivors: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), config(1)).expect("open");
    let sent = fill(&log, 0, 40).await;
    let tail = tail_segment(&log, 0);
    drop(log);
    let sizes: Vec<u64> = sent.iter().map(framed).collect();
    assert_eq!(file_len(&tail), sizes.iter().sum::<u64>(), "framing size");
    let cut = damage(&tail, &sizes);

    let log = EmbeddedLog::open(dir.path(), config(1)).expect("reopen after damage");
    assert_eq!(log.recovery().len(), 1, "one truncation: {:?}", log.recovery());
    assert_eq!(log.recovery()[0].cut_bytes, cut, "bytes cut: {:?}", log.recovery());
    assert_eq!(log.recovery()[0].path, tail);
    assert_eq!(log.watermarks(T, 0).await.expect("watermarks"), (0, survivors));
    assert_same(&read_all(&log, 0).await, &sent[..survivors as usize]);
    let more = fill(&log, 1000, 5).await;
    assert_eq!(log.watermarks(T, 0).await.expect("watermarks"), (0, survivors + 5));
    drop(log);

    let log = EmbeddedLog::open(dir.path(), config(1)).expect("clean reopen");
    assert!(log.recovery().is_empty(), "nothing to recover after a clean shutdown");
    let mut expected = sent[..survivors as usize].to_vec();
    expected.extend(more);
    assert_same(&read_all(&log, 0).await, &expected);
}

#[tokio::test]
async fn torn_tail_truncated_mid_record() {
    damaged_tail_case(
        |path, sizes| {
            let keep = sizes[39] / 2;
            set_len(path, file_len(path) - sizes[39] + keep);
            keep
        },
        39,
    )
    .await;
}

#[tokio::test]
async fn torn_tail_mid_header() {
    damaged_tail_case(
        |path, sizes| {
            set_len(path, file_len(path) - sizes[39] + 5);
            5
        },
        39,
    )
    .await;
}

#[tokio::test]
async fn torn_tail_garbage_appended() {
    damaged_tail_case(
        |path, _| {
            append_bytes(path, &[0xab; 37]);
            37
        },
        40,
    )
    .await;
}

#[tokio::test]
async fn torn_tail_zeros_appended() {
    // What some file systems leave after a power loss: a zero-filled tail.
    damaged_tail_case(
        |path, _| {
            append_bytes(path, &[0; 4096]);
            4096
        },
        40,
    )
    .await;
}

#[tokio::test]
async fn flipped_byte_in_last_record() {
    damaged_tail_case(
        |path, sizes| {
            flip_byte(path, file_len(path) - 3);
            sizes[39]
        },
        39,
    )
    .await;
}

#[tokio::test]
async fn flipped_length_field_of_a_middle_record() {
    damaged_tail_case(
        |path, sizes| {
            // Record 30 starts after the first 30; its length's high byte becomes huge.
            let start: u64 = sizes[..30].iter().sum();
            flip_byte(path, start + 3);
            sizes[30..].iter().sum()
        },
        30,
    )
    .await;
}

#[tokio::test]
async fn flipped_offset_field_is_caught() {
    damaged_tail_case(
        |path, sizes| {
            let start: u64 = sizes[..35].iter().sum();
            flip_byte(path, start + 8);
            sizes[35..].iter().sum()
        },
        35,
    )
    .await;
}

#[tokio::test]
async fn layout_and_offsets_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), config(2)).expect("open");
    log.publish(T, vec![msg("a", b"x", 1)]).await.expect("publish");
    log.commit("analyzer", T, 1, 1).await.expect("commit");
    log.commit("odd/group name", T, 0, 0).await.expect("commit");
    for p in 0..2 {
        assert!(dir.path().join(format!("t/{p}/00000000000000000000.log")).is_file());
    }
    let offsets = dir.path().join("_offsets");
    let stored = fs::read_to_string(offsets.join("analyzer.json")).expect("group file");
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("json");
    assert_eq!(stored["group"], "analyzer");
    assert_eq!(stored["offsets"]["t"]["1"], 1);
    assert!(offsets.join("odd%2Fgroup%20name.json").is_file());
    let leftovers: Vec<_> = fs::read_dir(&offsets)
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left");
    drop(log);

    // A crash mid-commit leaves a temporary file: ignored and removed.
    fs::write(offsets.join("analyzer.json.tmp"), b"{\"group\": \"analyz").expect("write");
    let log = EmbeddedLog::open(dir.path(), config(2)).expect("reopen");
    assert_eq!(log.committed("analyzer", T, 1).await.expect("committed"), Some(1));
    assert_eq!(log.committed("odd/group name", T, 0).await.expect("committed"), Some(0));
    assert!(!offsets.join("analyzer.json.tmp").exists());
}

#[tokio::test]
async fn a_directory_is_opened_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), config(1)).expect("open");
    assert!(EmbeddedLog::open(dir.path(), config(1)).is_err(), "second open must fail");
    drop(log);
    EmbeddedLog::open(dir.path(), config(1)).expect("open after drop");
}

#[tokio::test]
async fn committed_offset_past_a_lost_tail_is_lowered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = LogConfig { fsync: FsyncPolicy::Never, ..config(1) };
    let log = EmbeddedLog::open(dir.path(), cfg.clone()).expect("open");
    let sent = fill(&log, 0, 10).await;
    log.commit("g", T, 0, 10).await.expect("commit");
    let tail = tail_segment(&log, 0);
    drop(log);
    set_len(&tail, file_len(&tail) - framed(&sent[9]) - 1);
    let log = EmbeddedLog::open(dir.path(), cfg).expect("reopen");
    assert_eq!(log.watermarks(T, 0).await.expect("watermarks"), (0, 8));
    assert_eq!(log.committed("g", T, 0).await.expect("committed"), Some(8));
}

#[tokio::test]
async fn segments_roll_and_reads_cross_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = small_segments(1000);
    let log = EmbeddedLog::open(dir.path(), cfg.clone()).expect("open");
    let sent = fill(&log, 0, 200).await;
    // One record bigger than a segment gets a segment of its own.
    let big = msg("k", &vec![7; 3000], 5);
    log.publish(T, vec![big.clone()]).await.expect("publish big");
    let after = fill(&log, 200, 3).await;
    let mut all = sent.clone();
    all.push(big);
    all.extend(after);

    let segs = log.segments(T, 0).expect("segments");
    assert!(segs.len() > 10, "expected many segments, got {}", segs.len());
    for w in segs.windows(2) {
        assert_eq!(w[0].end_offset, w[1].base_offset, "segments are contiguous");
        assert!(!w[0].active);
        assert!(w[0].size_bytes <= 1000 || w[0].end_offset - w[0].base_offset == 1);
        let index = w[0].path.with_extension("index");
        assert!(index.is_file(), "closed segment {} has an index", w[0].path.display());
    }
    assert!(segs.last().expect("last").active);
    assert!(segs.iter().any(|s| s.size_bytes > 3000), "the big record has its own segment");
    assert_same(&read_all(&log, 0).await, &all);
    // Fetch at every offset starts exactly there.
    for off in (0..all.len() as u64).step_by(7) {
        let got = log.fetch(T, 0, off, 3, Duration::ZERO).await.expect("fetch");
        assert_eq!(got[0].offset, off);
        assert_eq!(got[0].payload, all[off as usize].payload);
    }
    drop(log);

    // Reopen trusts the index files; a damaged or missing index means a scan, same result.
    let closed: Vec<PathBuf> = segs[..segs.len() - 1].iter().map(|s| s.path.clone()).collect();
    let log = EmbeddedLog::open(dir.path(), cfg.clone()).expect("reopen");
    assert!(log.recovery().is_empty());
    assert_eq!(log.segments(T, 0).expect("segments"), segs);
    drop(log);
    flip_byte(&closed[2].with_extension("index"), 20);
    fs::remove_file(closed[3].with_extension("index")).expect("rm index");
    let log = EmbeddedLog::open(dir.path(), cfg.clone()).expect("reopen");
    assert_eq!(log.segments(T, 0).expect("segments"), segs);
    assert_same(&read_all(&log, 0).await, &all);
    assert!(closed[3].with_extension("index").is_file(), "the index is written again");
}

#[tokio::test]
async fn damaged_closed_segment_is_cut_and_the_rest_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = small_segments(1000);
    let log = EmbeddedLog::open(dir.path(), cfg.clone()).expect("open");
    let sent = fill(&log, 0, 100).await;
    let segs = log.segments(T, 0).expect("segments");
    drop(log);
    let victim = &segs[1];
    fs::remove_file(victim.path.with_extension("index")).expect("rm index");
    flip_byte(&victim.path, victim.size_bytes - 1);
    let log = EmbeddedLog::open(dir.path(), cfg).expect("reopen");
    assert_eq!(log.recovery().len(), 1);
    // The last record of segment 1 is lost; everything else is still served.
    let lost = victim.end_offset - 1;
    let got = log.fetch(T, 0, 0, 10_000, Duration::ZERO).await.expect("fetch");
    let mut offsets: Vec<u64> = got.iter().map(|d| d.offset).collect();
    let mut next = offsets.last().map_or(0, |o| o + 1);
    while next < 100 {
        let more = log.fetch(T, 0, next, 10_000, Duration::ZERO).await.expect("fetch");
        offsets.extend(more.iter().map(|d| d.offset));
        next = offsets.last().map_or(next, |o| o + 1);
    }
    let expected: Vec<u64> = (0..100).filter(|&o| o != lost).collect();
    assert_eq!(offsets, expected);
    let got = log.fetch(T, 0, lost, 1, Duration::ZERO).await.expect("fetch at the gap");
    assert_eq!(got[0].offset, lost + 1, "a fetch in the gap skips to the next record");
    assert_eq!(got[0].payload, sent[lost as usize + 1].payload);
}

#[tokio::test]
async fn retention_by_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = LogConfig { retention_bytes: Some(3000), ..small_segments(1000) };
    let log = EmbeddedLog::open(dir.path(), cfg).expect("open");
    let sent = fill(&log, 0, 300).await;
    let segs = log.segments(T, 0).expect("segments");
    let total: u64 = segs.iter().map(|s| s.size_bytes).sum();
    assert!(total <= 3000 + 1000, "partition holds {total} bytes");
    let (low, high) = log.watermarks(T, 0).await.expect("watermarks");
    assert_eq!(high, 300);
    assert!(low > 0 && low == segs[0].base_offset, "old segments were deleted (low {low})");
    match log.fetch(T, 0, 0, 10, Duration::ZERO).await {
        Err(BusError::OffsetOutOfRange { requested: 0, earliest }) => assert_eq!(earliest, low),
        other => panic!("expected OffsetOutOfRange, got {other:?}"),
    }
    assert_same(&read_all(&log, 0).await, &sent[low as usize..]);
    let files = fs::read_dir(dir.path().join("t/0")).expect("read_dir").count();
    assert_eq!(files, segs.len() * 2 - 1, "deleted segments left no file behind");
}

#[tokio::test]
async fn retention_by_age() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hour: i64 = 3_600_000;
    let now: i64 = 1_800_000_000_000;
    let cfg = LogConfig { retention_age: Some(hour as u64), ..small_segments(1000) };
    let log = EmbeddedLog::open(dir.path(), cfg).expect("open");
    // Old records, then recent ones.
    fill_at(&log, 0, 60, |i| now - 3 * hour + i as i64).await;
    let recent = fill_at(&log, 60, 60, |i| now - 1000 + i as i64).await;
    let before = log.segments(T, 0).expect("segments");
    let deleted = log.enforce_retention_at(now).expect("retention");
    let after = log.segments(T, 0).expect("segments");
    assert_eq!(after.len() + deleted, before.len());
    assert!(deleted > 0);
    // Every remaining segment holds a recent record; all old-only segments are gone.
    for s in &after {
        assert!(s.newest_timestamp_ms.is_some_and(|t| t >= now - hour), "{s:?}");
    }
    let low = after[0].base_offset;
    assert!(low <= 60, "no recent record was deleted (low {low})");
    assert_same(&read_all(&log, 0).await[(60 - low) as usize..], &recent);

    // Much later, everything is old, but the active segment stays.
    let deleted = log.enforce_retention_at(now + 10 * hour).expect("retention");
    let last = log.segments(T, 0).expect("segments");
    assert_eq!(deleted, after.len() - 1);
    assert_eq!(last.len(), 1);
    assert!(last[0].active);
    assert_eq!(log.watermarks(T, 0).await.expect("watermarks"), (last[0].base_offset, 120));
}

#[tokio::test]
async fn topics_are_created_on_first_publish_and_persist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = LogConfig { default_partitions: 3, ..LogConfig::default() };
    let log = EmbeddedLog::open(dir.path(), cfg.clone()).expect("open");
    assert!(matches!(log.partitions("new"), Err(BusError::UnknownTopic(_))));
    assert!(matches!(
        log.fetch("new", 0, 0, 1, Duration::ZERO).await,
        Err(BusError::UnknownTopic(_))
    ));
    let pos = log.publish("new", vec![msg("h", b"x", 0)]).await.expect("publish");
    assert_eq!(log.partitions("new").expect("partitions"), 3);
    for bad in ["", "../escape", "_offsets", "a/b", ".hidden"] {
        assert!(log.publish(bad, vec![msg("h", b"x", 0)]).await.is_err(), "topic {bad:?}");
    }
    drop(log);
    let log = EmbeddedLog::open(dir.path(), cfg).expect("reopen");
    assert_eq!(log.partitions("new").expect("partitions"), 3);
    let got = log.fetch("new", pos[0].0, 0, 10, Duration::ZERO).await.expect("fetch");
    assert_eq!(got[0].payload, b"x");
}

#[tokio::test]
async fn oversized_records_are_refused_whole_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = LogConfig { max_record_bytes: 100, ..config(1) };
    let log = EmbeddedLog::open(dir.path(), cfg).expect("open");
    let ok = msg("k", &[1; 50], 0);
    let too_big = msg("kk", &[1; 99], 0);
    match log.publish(T, vec![ok.clone(), too_big]).await {
        Err(BusError::TooLarge(101)) => {}
        other => panic!("expected TooLarge(101), got {other:?}"),
    }
    assert_eq!(log.watermarks(T, 0).await.expect("watermarks"), (0, 0), "nothing written");
    log.publish(T, vec![ok, msg("", &[2; 100], 0)]).await.expect("at the limit is fine");
}

#[test]
fn invalid_configs_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for cfg in [
        LogConfig { default_partitions: 0, ..LogConfig::default() },
        LogConfig { segment_bytes: 0, ..LogConfig::default() },
        LogConfig { max_record_bytes: 0, ..LogConfig::default() },
        LogConfig { fsync: FsyncPolicy::IntervalMs(0), ..LogConfig::default() },
        config(0),
    ] {
        assert!(EmbeddedLog::open(dir.path(), cfg.clone()).is_err(), "{cfg:?}");
    }
}

#[tokio::test]
async fn more_configured_partitions_extend_a_topic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), config(2)).expect("open");
    log.publish(T, vec![msg("a", b"1", 0), msg("b", b"2", 0)]).await.expect("publish");
    drop(log);
    let log = EmbeddedLog::open(dir.path(), config(4)).expect("open with 4");
    assert_eq!(log.partitions(T).expect("partitions"), 4);
    drop(log);
    // Fewer configured partitions never hide data already on disk.
    let log = EmbeddedLog::open(dir.path(), config(1)).expect("open with 1");
    assert_eq!(log.partitions(T).expect("partitions"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_fsync_and_parallel_partitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = LogConfig { fsync: FsyncPolicy::IntervalMs(5), segment_bytes: 4096, ..config(4) };
    let log = std::sync::Arc::new(EmbeddedLog::open(dir.path(), cfg.clone()).expect("open"));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                let m = msg(&format!("host{t}"), format!("{t}:{i}").as_bytes(), 0);
                log.publish(T, vec![m]).await.expect("publish");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    log.flush().expect("flush");
    drop(log);
    let log = EmbeddedLog::open(dir.path(), cfg).expect("reopen");
    let mut total = 0;
    for p in 0..4 {
        total += log.watermarks(T, p).await.expect("watermarks").1;
    }
    assert_eq!(total, 200);
}
