//! The bus conformance suite: the behaviour every [`Bus`] implementation must show.
//!
//! An implementation's test wraps each fresh bus in a [`Fixture`] and runs [`run_all`]:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn conformance() {
//!     sen_core::bus::conformance::run_all(|| async { Box::new(MyFixture::new().await) as _ }).await;
//! }
//! ```
//!
//! Each case gets its own fixture. The suite only uses the topics of [`TOPICS`] (passed
//! through [`Fixture::name`]), which the fixture must create with the partition counts given,
//! and consumer groups named through [`Fixture::name`]. It relies only on the [`Bus`] trait,
//! so a Kafka implementation runs it unchanged (a fixture on a shared cluster maps names to
//! unique ones). Failures panic with the case name; every case is also public so it can be run
//! alone.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Bus, BusError, Delivered, Message, partition_for};

/// Topics the suite uses (before [`Fixture::name`]) and their partition counts.
pub const TOPICS: &[(&str, u32)] = &[(MULTI, 4), (SINGLE, 1)];

/// A topic with 4 partitions.
pub const MULTI: &str = "conformance.multi";
/// A topic with 1 partition.
pub const SINGLE: &str = "conformance.single";

/// How long the suite waits for records it knows were published.
const PATIENCE: Duration = Duration::from_secs(10);

/// A bus under test, fresh (empty) for each case.
#[async_trait]
pub trait Fixture: Send {
    /// The bus under test.
    fn bus(&self) -> Arc<dyn Bus>;

    /// Stop the bus and start it again over the same storage, as after a clean restart. The
    /// caller has dropped every clone of [`Fixture::bus`]. Returns `Ok(false)` when the
    /// implementation cannot restart (the restart case is then skipped).
    async fn reopen(&mut self) -> Result<bool, BusError>;

    /// The real name of a suite topic or consumer group (identity by default).
    fn name(&self, base: &str) -> String {
        base.to_owned()
    }
}

/// Run every case, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(mut make: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Box<dyn Fixture>>,
{
    macro_rules! cases {
        ($($case:ident),* $(,)?) => {$(
            eprintln!("bus conformance: {}", stringify!($case));
            let mut fixture = make().await;
            $case(fixture.as_mut()).await;
        )*};
    }
    cases!(
        topics_and_partitions,
        round_trip,
        empty_batch,
        ordering_per_partition,
        key_chooses_partition,
        offsets_contiguous,
        fetch_max_and_resume,
        fetch_past_end_is_empty,
        unknown_partition_errors,
        commit_and_committed,
        long_poll_wakes_on_publish,
        long_poll_times_out_empty,
        reopen_keeps_data_and_offsets,
        concurrent_publishers_lose_nothing,
    );
}

fn msg(key: &[u8], payload: &[u8], timestamp_ms: i64) -> Message {
    Message { key: key.to_vec(), payload: payload.to_vec(), timestamp_ms }
}

/// Read a partition from `from` until `to` (exclusive), waiting for late records.
async fn read_range(
    bus: &dyn Bus,
    topic: &str,
    partition: u32,
    from: u64,
    to: u64,
) -> Vec<Delivered> {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut next = from;
    while next < to {
        assert!(
            started.elapsed() < PATIENCE,
            "reading {topic}/{partition} {from}..{to}: stuck at {next}"
        );
        let batch = bus
            .fetch(topic, partition, next, 1000, Duration::from_millis(200))
            .await
            .unwrap_or_else(|e| panic!("fetch {topic}/{partition}@{next}: {e}"));
        for d in batch {
            assert_eq!(d.partition, partition, "fetch returned a record of another partition");
            assert_eq!(d.offset, next, "offsets of {topic}/{partition} are not contiguous");
            next += 1;
            if next <= to {
                out.push(d);
            }
        }
    }
    out
}

async fn publish(bus: &dyn Bus, topic: &str, messages: Vec<Message>) -> Vec<(u32, u64)> {
    let n = messages.len();
    let positions =
        bus.publish(topic, messages).await.unwrap_or_else(|e| panic!("publish to {topic}: {e}"));
    assert_eq!(positions.len(), n, "publish must return one position per message");
    positions
}

/// Configured topics report their partition counts; watermarks of a fresh partition are 0.
pub async fn topics_and_partitions(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    for &(base, n) in TOPICS {
        let topic = fx.name(base);
        assert_eq!(bus.partitions(&topic).expect("partitions"), n, "partition count of {topic}");
        for p in 0..n {
            let (low, high) = bus.watermarks(&topic, p).await.expect("watermarks");
            assert_eq!((low, high), (0, 0), "fresh partition {topic}/{p}");
        }
    }
}

/// What is published is read back unchanged, at the returned positions.
pub async fn round_trip(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(MULTI);
    let sent = vec![
        msg(b"host-a", b"first record", 1_700_000_000_000),
        msg(b"", b"no key", -1),
        msg(b"host-b", b"", 0),
        msg(b"host-c", &[0, 255, 10, 13, 0], i64::MAX),
        msg(&[0xff, 0], &vec![b'x'; 70_000], 42),
    ];
    let positions = publish(bus.as_ref(), &topic, sent.clone()).await;
    for (m, &(p, off)) in sent.iter().zip(&positions) {
        let got = bus
            .fetch(&topic, p, off, 1, PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("round_trip: fetch: {e}"));
        let expected = Delivered {
            partition: p,
            offset: off,
            timestamp_ms: m.timestamp_ms,
            key: m.key.clone(),
            payload: m.payload.clone(),
        };
        assert_eq!(got, vec![expected], "round_trip: record at {p}@{off}");
    }
}

/// Publishing nothing succeeds and stores nothing.
pub async fn empty_batch(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(SINGLE);
    assert!(publish(bus.as_ref(), &topic, Vec::new()).await.is_empty());
    assert_eq!(bus.watermarks(&topic, 0).await.expect("watermarks"), (0, 0));
}

/// Records of one partition are read in publish order, across batches.
pub async fn ordering_per_partition(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(MULTI);
    let mut expected = Vec::new();
    for batch in 0..20 {
        let msgs: Vec<Message> = (0..10)
            .map(|i| msg(b"same-host", format!("{batch}-{i}").as_bytes(), batch * 10 + i))
            .collect();
        expected.extend(msgs.iter().map(|m| m.payload.clone()));
        publish(bus.as_ref(), &topic, msgs).await;
    }
    let p = partition_for(b"same-host", bus.partitions(&topic).expect("partitions"));
    let got = read_range(bus.as_ref(), &topic, p, 0, 200).await;
    let payloads: Vec<Vec<u8>> = got.into_iter().map(|d| d.payload).collect();
    assert_eq!(payloads, expected, "ordering_per_partition");
}

/// The partition is [`partition_for`] of the key: stable for a key; an empty key goes to 0.
pub async fn key_chooses_partition(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(MULTI);
    let n = bus.partitions(&topic).expect("partitions");
    let keys: Vec<Vec<u8>> = (0..40).map(|i| format!("host-{i}").into_bytes()).collect();
    let mut used = HashSet::new();
    for round in 0..3 {
        let msgs = keys.iter().map(|k| msg(k, b"x", round)).collect();
        let positions = publish(bus.as_ref(), &topic, msgs).await;
        for (k, &(p, _)) in keys.iter().zip(&positions) {
            assert_eq!(p, partition_for(k, n), "key_chooses_partition: key {k:?}");
            used.insert(p);
        }
    }
    assert!(used.len() > 1, "40 keys all landed in one partition");
    let positions = publish(bus.as_ref(), &topic, vec![msg(b"", b"a", 0), msg(b"", b"b", 0)]).await;
    assert!(positions.iter().all(|&(p, _)| p == 0), "empty keys go to partition 0");
}

/// Offsets of a partition start at 0 and have no gaps; the high watermark follows.
pub async fn offsets_contiguous(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(MULTI);
    let n = bus.partitions(&topic).expect("partitions");
    let mut per_partition: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for batch in 0..15u32 {
        let msgs = (0..(batch % 7 + 1))
            .map(|i| msg(format!("k{}", (batch * 7 + i) % 11).as_bytes(), b"payload", 0))
            .collect();
        for (p, off) in publish(bus.as_ref(), &topic, msgs).await {
            per_partition.entry(p).or_default().push(off);
        }
    }
    for p in 0..n {
        let offs = per_partition.remove(&p).unwrap_or_default();
        let expected: Vec<u64> = (0..offs.len() as u64).collect();
        assert_eq!(offs, expected, "offsets_contiguous: partition {p}");
        let marks = bus.watermarks(&topic, p).await.expect("watermarks");
        assert_eq!(marks, (0, offs.len() as u64), "offsets_contiguous: watermarks of {p}");
    }
}

/// `max` bounds a fetch; the next fetch resumes where it stopped.
pub async fn fetch_max_and_resume(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(SINGLE);
    let msgs = (0..10).map(|i| msg(b"k", &[i], i64::from(i))).collect();
    publish(bus.as_ref(), &topic, msgs).await;
    let first = bus.fetch(&topic, 0, 0, 3, PATIENCE).await.expect("fetch");
    assert!(!first.is_empty() && first.len() <= 3, "fetch_max_and_resume: got {}", first.len());
    let rest = read_range(bus.as_ref(), &topic, 0, first.len() as u64, 10).await;
    let payloads: Vec<u8> = first.iter().chain(&rest).map(|d| d.payload[0]).collect();
    assert_eq!(payloads, (0..10).collect::<Vec<u8>>(), "fetch_max_and_resume");
    let middle = bus.fetch(&topic, 0, 7, 100, PATIENCE).await.expect("fetch");
    assert_eq!(middle.first().map(|d| d.offset), Some(7), "fetch from the middle");
}

/// Fetching at the log end returns an empty batch (after the wait); beyond it, an empty batch
/// or [`BusError::OffsetOutOfRange`].
pub async fn fetch_past_end_is_empty(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(SINGLE);
    publish(bus.as_ref(), &topic, vec![msg(b"k", b"a", 0), msg(b"k", b"b", 0)]).await;
    read_range(bus.as_ref(), &topic, 0, 0, 2).await;
    let at_end = bus.fetch(&topic, 0, 2, 10, Duration::from_millis(50)).await.expect("fetch");
    assert!(at_end.is_empty(), "fetch at the log end");
    let at_end = bus.fetch(&topic, 0, 2, 10, Duration::ZERO).await.expect("fetch");
    assert!(at_end.is_empty(), "fetch at the log end without waiting");
    match bus.fetch(&topic, 0, 1000, 10, Duration::from_millis(50)).await {
        Ok(v) => assert!(v.is_empty(), "fetch far past the end"),
        Err(BusError::OffsetOutOfRange { .. }) => {}
        Err(e) => panic!("fetch far past the end: {e}"),
    }
}

/// Partitions a topic does not have are refused.
pub async fn unknown_partition_errors(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(SINGLE);
    let r = bus.fetch(&topic, 1, 0, 10, Duration::ZERO).await;
    assert!(
        matches!(r, Err(BusError::UnknownPartition { partition: 1, .. })),
        "fetch of a missing partition: {r:?}"
    );
    let r = bus.watermarks(&topic, 7).await;
    assert!(matches!(r, Err(BusError::UnknownPartition { .. })), "watermarks: {r:?}");
    let group = fx.name("conformance-group");
    let r = bus.commit(&group, &topic, 3, 1).await;
    assert!(matches!(r, Err(BusError::UnknownPartition { .. })), "commit: {r:?}");
}

/// Commits are per group, topic and partition; the latest commit wins.
pub async fn commit_and_committed(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let (multi, single) = (fx.name(MULTI), fx.name(SINGLE));
    let (g1, g2) = (fx.name("conformance-g1"), fx.name("conformance-g2"));
    let msgs = (0..20).map(|i| msg(format!("k{i}").as_bytes(), b"x", 0)).collect();
    publish(bus.as_ref(), &multi, msgs).await;
    publish(bus.as_ref(), &single, vec![msg(b"k", b"x", 0); 5]).await;
    assert_eq!(bus.committed(&g1, &multi, 0).await.expect("committed"), None, "nothing yet");
    bus.commit(&g1, &multi, 0, 3).await.expect("commit");
    bus.commit(&g1, &multi, 1, 1).await.expect("commit");
    bus.commit(&g1, &single, 0, 5).await.expect("commit");
    bus.commit(&g2, &multi, 0, 2).await.expect("commit");
    let c = |g: &str, t: &str, p| {
        let bus = bus.clone();
        let (g, t) = (g.to_owned(), t.to_owned());
        async move { bus.committed(&g, &t, p).await.expect("committed") }
    };
    assert_eq!(c(&g1, &multi, 0).await, Some(3));
    assert_eq!(c(&g1, &multi, 1).await, Some(1));
    assert_eq!(c(&g1, &multi, 2).await, None, "partitions are independent");
    assert_eq!(c(&g1, &single, 0).await, Some(5), "topics are independent");
    assert_eq!(c(&g2, &multi, 0).await, Some(2), "groups are independent");
    assert_eq!(c(&g2, &multi, 1).await, None, "groups are independent");
    bus.commit(&g1, &multi, 0, 2).await.expect("commit");
    assert_eq!(c(&g1, &multi, 0).await, Some(2), "the latest commit wins, even if lower");
    bus.commit(&g1, &multi, 0, 4).await.expect("commit");
    assert_eq!(c(&g1, &multi, 0).await, Some(4));
}

/// A waiting fetch returns as soon as a record is published.
pub async fn long_poll_wakes_on_publish(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(SINGLE);
    let reader = {
        let (bus, topic) = (bus.clone(), topic.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let got = bus.fetch(&topic, 0, 0, 10, Duration::from_secs(30)).await;
            (got, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    publish(bus.as_ref(), &topic, vec![msg(b"k", b"wake up", 7)]).await;
    let (got, elapsed) = reader.await.expect("reader task");
    let got = got.expect("fetch");
    assert_eq!(got.len(), 1, "long_poll_wakes_on_publish");
    assert_eq!(got[0].payload, b"wake up");
    assert!(elapsed < Duration::from_secs(10), "the fetch was not woken ({elapsed:?})");
}

/// A waiting fetch on an empty partition returns an empty batch after about `wait`.
pub async fn long_poll_times_out_empty(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(SINGLE);
    let started = Instant::now();
    let got = bus.fetch(&topic, 0, 0, 10, Duration::from_millis(300)).await.expect("fetch");
    let elapsed = started.elapsed();
    assert!(got.is_empty(), "long_poll_times_out_empty");
    assert!(elapsed >= Duration::from_millis(250), "returned too early ({elapsed:?})");
    assert!(elapsed < Duration::from_secs(5), "returned too late ({elapsed:?})");
}

/// After a restart, records and committed offsets are still there and appends continue.
pub async fn reopen_keeps_data_and_offsets(fx: &mut dyn Fixture) {
    let (multi, group) = (fx.name(MULTI), fx.name("conformance-restart"));
    let sent: Vec<Message> =
        (0..50).map(|i| msg(format!("host-{}", i % 5).as_bytes(), &[i], i64::from(i))).collect();
    let positions = {
        let bus = fx.bus();
        let positions = publish(bus.as_ref(), &multi, sent.clone()).await;
        bus.commit(&group, &multi, 1, 2).await.expect("commit");
        positions
    };
    if !fx.reopen().await.expect("reopen") {
        eprintln!("bus conformance: restart not supported by this fixture; skipped");
        return;
    }
    let bus = fx.bus();
    assert_eq!(bus.committed(&group, &multi, 1).await.expect("committed"), Some(2));
    let n = bus.partitions(&multi).expect("partitions");
    for p in 0..n {
        let expected: Vec<(u64, Vec<u8>)> = sent
            .iter()
            .zip(&positions)
            .filter(|(_, pos)| pos.0 == p)
            .map(|(m, pos)| (pos.1, m.payload.clone()))
            .collect();
        let got = read_range(bus.as_ref(), &multi, p, 0, expected.len() as u64).await;
        let got: Vec<(u64, Vec<u8>)> = got.into_iter().map(|d| (d.offset, d.payload)).collect();
        assert_eq!(got, expected, "reopen: partition {p}");
        assert_eq!(bus.watermarks(&multi, p).await.expect("watermarks").1, expected.len() as u64);
    }
    let again = publish(bus.as_ref(), &multi, vec![msg(b"host-0", b"after", 0)]).await;
    let before = positions.iter().filter(|pos| pos.0 == again[0].0).count() as u64;
    assert_eq!(again[0].1, before, "appends continue after the restart");
}

/// Many tasks publishing at once: every record is stored exactly once, offsets stay contiguous.
pub async fn concurrent_publishers_lose_nothing(fx: &mut dyn Fixture) {
    let bus = fx.bus();
    let topic = fx.name(MULTI);
    let (tasks, batches, per_batch) = (8u32, 25u32, 4u32);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (bus, topic) = (bus.clone(), topic.clone());
        handles.push(tokio::spawn(async move {
            let mut placed = Vec::new();
            for b in 0..batches {
                let msgs: Vec<Message> = (0..per_batch)
                    .map(|i| {
                        msg(
                            format!("k{}", (t + i) % 6).as_bytes(),
                            format!("{t}/{b}/{i}").as_bytes(),
                            0,
                        )
                    })
                    .collect();
                let payloads: Vec<Vec<u8>> = msgs.iter().map(|m| m.payload.clone()).collect();
                let pos = bus.publish(&topic, msgs).await.expect("concurrent publish");
                placed.extend(pos.into_iter().zip(payloads));
            }
            placed
        }));
    }
    let mut placed: BTreeMap<(u32, u64), Vec<u8>> = BTreeMap::new();
    for h in handles {
        for (pos, payload) in h.await.expect("publisher task") {
            assert!(placed.insert(pos, payload).is_none(), "position {pos:?} handed out twice");
        }
    }
    assert_eq!(placed.len() as u32, tasks * batches * per_batch);
    let n = bus.partitions(&topic).expect("partitions");
    let mut seen = HashSet::new();
    for p in 0..n {
        let count = placed.keys().filter(|k| k.0 == p).count() as u64;
        assert_eq!(bus.watermarks(&topic, p).await.expect("watermarks"), (0, count));
        for d in read_range(bus.as_ref(), &topic, p, 0, count).await {
            assert_eq!(placed.get(&(p, d.offset)), Some(&d.payload), "record at {p}@{}", d.offset);
            assert!(seen.insert(d.payload), "payload stored twice");
        }
    }
    assert_eq!(seen.len(), placed.len());
}
