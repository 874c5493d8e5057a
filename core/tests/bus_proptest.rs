//! Property: whatever sequence of publishes and restarts, and whatever damage to a tail
//! segment, every record read back equals what was published up to the damage, offsets are
//! contiguous, appends continue right after, and nothing panics.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::time::Duration;

use proptest::prelude::*;
use sen_core::bus::embedded::{EmbeddedLog, FsyncPolicy, LogConfig, TopicConfig};
use sen_core::bus::{Bus, Message, partition_for};

const T: &str = "p";
const PARTITIONS: u32 = 2;

#[derive(Debug, Clone)]
enum Op {
    Publish(Vec<(u8, usize)>),
    Reopen,
}

#[derive(Debug, Clone)]
enum Damage {
    /// Cut the tail file at this fraction (per mille) of its length.
    Truncate(u16),
    /// Append these bytes.
    Garbage(Vec<u8>),
    /// Flip a bit of the byte at this fraction (per mille) of the length.
    Flip(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::collection::vec((0u8..5, 0usize..1500), 1..20).prop_map(Op::Publish),
        1 => Just(Op::Reopen),
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0u16..=1000).prop_map(Damage::Truncate),
        prop::collection::vec(any::<u8>(), 1..300).prop_map(Damage::Garbage),
        (0u16..1000).prop_map(Damage::Flip),
    ]
}

fn config() -> LogConfig {
    LogConfig {
        topics: [(T.to_owned(), TopicConfig { partitions: PARTITIONS })].into_iter().collect(),
        segment_bytes: 16 << 10,
        fsync: FsyncPolicy::Never,
        ..LogConfig::default()
    }
}

fn key(k: u8) -> Vec<u8> {
    if k == 0 { Vec::new() } else { format!("host-{k}").into_bytes() }
}

fn framed(m: &Message) -> u64 {
    (28 + m.key.len() + m.payload.len()) as u64
}

async fn read_partition(log: &EmbeddedLog, p: u32) -> Vec<(u64, Message)> {
    let (_, high) = log.watermarks(T, p).await.expect("watermarks");
    let mut out = Vec::new();
    let mut next = 0;
    while next < high {
        let batch = log.fetch(T, p, next, 64, Duration::ZERO).await.expect("fetch");
        assert!(!batch.is_empty(), "hole at {next}");
        for d in batch {
            assert_eq!(d.offset, next, "offsets are contiguous");
            next += 1;
            let m = Message { key: d.key, payload: d.payload, timestamp_ms: d.timestamp_ms };
            out.push((d.offset, m));
        }
    }
    out
}

fn run(ops: Vec<Op>, victim: u32, damage: Damage) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = EmbeddedLog::open(dir.path(), config()).expect("open");
        let mut model: Vec<Vec<Message>> = vec![Vec::new(); PARTITIONS as usize];
        let mut serial = 0i64;
        for op in ops {
            match op {
                Op::Reopen => {
                    drop(log);
                    log = EmbeddedLog::open(dir.path(), config()).expect("reopen");
                    assert!(log.recovery().is_empty(), "clean restart");
                }
                Op::Publish(spec) => {
                    let msgs: Vec<Message> = spec
                        .iter()
                        .map(|&(k, len)| {
                            serial += 1;
                            let payload = (0..len).map(|i| (i as i64 + serial) as u8).collect();
                            Message { key: key(k), payload, timestamp_ms: serial }
                        })
                        .collect();
                    let positions = log.publish(T, msgs.clone()).await.expect("publish");
                    for (m, (p, off)) in msgs.into_iter().zip(positions) {
                        assert_eq!(p, partition_for(&m.key, PARTITIONS));
                        let part = &mut model[p as usize];
                        assert_eq!(off, part.len() as u64, "next offset");
                        part.push(m);
                    }
                }
            }
        }
        // Damage the victim's tail segment and work out which records must survive.
        let seg = log.segments(T, victim).expect("segments").pop().expect("tail");
        drop(log);
        let path = seg.path;
        let len = fs::metadata(&path).expect("metadata").len();
        let in_tail = &model[victim as usize][seg.base_offset as usize..];
        let survivors_below = |pos: u64| {
            let mut end = 0;
            in_tail
                .iter()
                .take_while(|m| {
                    end += framed(m);
                    end <= pos
                })
                .count()
        };
        let kept_in_tail = match &damage {
            Damage::Truncate(frac) => {
                let cut = len * u64::from(*frac) / 1000;
                OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .expect("open")
                    .set_len(cut)
                    .expect("cut");
                survivors_below(cut)
            }
            Damage::Garbage(bytes) => {
                OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .expect("open")
                    .write_all(bytes)
                    .expect("append");
                in_tail.len()
            }
            Damage::Flip(frac) if len > 0 => {
                let pos = len * u64::from(*frac) / 1000;
                let mut b = fs::read(&path).expect("read");
                b[pos as usize] ^= 0x01;
                fs::write(&path, b).expect("write");
                survivors_below(pos)
            }
            Damage::Flip(_) => 0,
        };
        let victim_len = seg.base_offset as usize + kept_in_tail;
        model[victim as usize].truncate(victim_len);

        let log = EmbeddedLog::open(dir.path(), config()).expect("reopen after damage");
        for p in 0..PARTITIONS {
            let got = read_partition(&log, p).await;
            let expected = &model[p as usize];
            assert_eq!(got.len(), expected.len(), "partition {p}: survivors");
            for ((off, m), e) in got.iter().zip(expected) {
                assert_eq!(m, e, "partition {p}: record {off}");
            }
        }
        // Appends continue right after the survivors.
        let m = Message { key: key(1), payload: b"after".to_vec(), timestamp_ms: 0 };
        let pos = log.publish(T, vec![m]).await.expect("publish after recovery");
        assert_eq!(pos[0].1, model[pos[0].0 as usize].len() as u64);
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn publish_reopen_damage_recover(
        ops in prop::collection::vec(op(), 1..30),
        victim in 0..PARTITIONS,
        damage in damage(),
    ) {
        run(ops, victim, damage);
    }
}
