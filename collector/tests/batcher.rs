//! The intake publisher against an in-memory bus.

mod common;

use std::time::Duration;

use common::{MemBus, texts, wait_until};
use sen_collector::batcher::record_key;
use sen_collector::{AckError, Publisher, PublisherConfig, TrySendError};
use sen_core::bus::partition_for;
use sen_core::raw::{Body, RawRecord, Transport};

const WAIT: Duration = Duration::from_secs(10);

fn rec(peer: &str, text: &str) -> RawRecord {
    RawRecord {
        received_ms: 1,
        transport: Transport::SyslogTcp,
        peer: Some(peer.to_string()),
        organization: None,
        origin: None,
        format: None,
        body: Body::Line(text.to_string()),
    }
}

fn config(queue: usize, batch: usize, delay_ms: u64) -> PublisherConfig {
    PublisherConfig {
        queue_capacity: queue,
        batch_max_records: batch,
        batch_max_delay: Duration::from_millis(delay_ms),
        retry_initial: Duration::from_millis(5),
        retry_max: Duration::from_millis(40),
        shutdown_grace: Duration::from_millis(300),
    }
}

#[tokio::test]
async fn batches_by_count_and_keeps_per_sender_order_in_one_partition() {
    let bus = MemBus::new(4);
    let (p, task) = Publisher::spawn(bus.clone(), config(1000, 10, 200));
    for i in 0..95 {
        p.send(rec("10.0.0.1:5000", &format!("a{i}"))).await.unwrap();
        p.send(rec(&format!("10.0.0.2:{}", 6000 + i), &format!("b{i}"))).await.unwrap();
    }
    bus.wait_for(190, WAIT).await;
    let sizes = bus.batch_sizes.lock().unwrap().clone();
    assert!(sizes.iter().all(|&n| n <= 10), "{sizes:?}");
    for (host, prefix) in [("10.0.0.1", "a"), ("10.0.0.2", "b")] {
        let part = partition_for(host.as_bytes(), 4);
        let got: Vec<String> = bus
            .partition(part)
            .iter()
            .filter(|m| m.key == host.as_bytes())
            .map(|m| RawRecord::decode(&m.payload).unwrap().text().to_string())
            .collect();
        let want: Vec<String> = (0..95).map(|i| format!("{prefix}{i}")).collect();
        assert_eq!(got, want, "{host}: one partition, in order (port ignored)");
    }
    let s = p.stats();
    assert_eq!((s.enqueued, s.published, s.dropped), (190, 190, 0));
    let records =
        sen_core::metrics::counter("sen_intake_records_total", &[("transport", "syslog-tcp")], "");
    assert!(records.get() >= 190);
    let bytes = sen_core::metrics::counter("sen_intake_bytes_total", &[], "");
    assert!(bytes.get() >= s.published_bytes && s.published_bytes > 0);
    task.shutdown().await;
}

#[tokio::test]
async fn a_partial_batch_is_published_after_the_delay() {
    let bus = MemBus::new(1);
    let (p, task) = Publisher::spawn(bus.clone(), config(100, 1000, 50));
    p.send(rec("10.0.0.1:1", "one")).await.unwrap();
    let t = std::time::Instant::now();
    bus.wait_for(1, WAIT).await;
    assert!(t.elapsed() >= Duration::from_millis(40), "{:?}", t.elapsed());
    task.shutdown().await;
}

#[test]
fn keys_are_the_sender_host() {
    assert_eq!(record_key(&rec("192.0.2.1:514", "x")), b"192.0.2.1");
    assert_eq!(record_key(&rec("[2001:db8::1]:514", "x")), b"2001:db8::1");
    assert_eq!(record_key(&rec("weird", "x")), b"weird");
    assert_eq!(record_key(&rec("[::ffff:192.0.2.1]:514", "x")), b"192.0.2.1");
    let mut r = rec("x", "x");
    r.peer = None;
    assert_eq!(record_key(&r), b"");
    r.organization = Some("acme".into());
    assert_eq!(record_key(&r), b"acme");
}

#[tokio::test]
async fn publish_failures_are_retried_not_dropped() {
    let bus = MemBus::new(2);
    bus.fail_next(5);
    let (p, task) = Publisher::spawn(bus.clone(), config(100, 4, 5));
    for i in 0..10 {
        p.send(rec("10.0.0.1:1", &format!("m{i}"))).await.unwrap();
    }
    let got = bus.wait_for(10, WAIT).await;
    assert_eq!(texts(&got), (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>());
    let s = p.stats();
    assert_eq!((s.published, s.dropped, s.publish_errors), (10, 0, 5));
    task.shutdown().await;
}

#[tokio::test]
async fn shutdown_flushes_the_queue() {
    let bus = MemBus::new(1);
    bus.block();
    let (p, task) = Publisher::spawn(bus.clone(), config(1000, 7, 1));
    for i in 0..500 {
        p.send(rec("10.0.0.1:1", &format!("m{i}"))).await.unwrap();
    }
    let bus2 = bus.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        bus2.unblock();
    });
    tokio::time::timeout(WAIT, task.shutdown()).await.unwrap();
    assert_eq!(bus.len(), 500);
    assert_eq!(texts(&bus.records()), (0..500).map(|i| format!("m{i}")).collect::<Vec<_>>());
    assert!(p.is_closed());
    assert!(p.send(rec("10.0.0.1:1", "late")).await.is_err());
    assert_eq!(p.try_send(rec("10.0.0.1:1", "late")), Err(TrySendError::Closed));
}

#[tokio::test]
async fn shutdown_gives_up_on_a_dead_bus_after_the_grace_period_and_counts_the_loss() {
    let bus = MemBus::new(1);
    bus.fail_next(usize::MAX);
    let (p, task) = Publisher::spawn(bus.clone(), config(100, 10, 1));
    for i in 0..25 {
        p.send(rec("10.0.0.1:1", &format!("m{i}"))).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = std::time::Instant::now();
    tokio::time::timeout(WAIT, task.shutdown()).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let s = p.stats();
    assert_eq!((s.published, s.dropped), (0, 25));
    assert_eq!(bus.len(), 0);
}

#[tokio::test]
async fn try_send_counts_drops_when_full() {
    let bus = MemBus::new(1);
    bus.block();
    let (p, task) = Publisher::spawn(bus.clone(), config(4, 2, 1));
    let mut full = 0;
    for i in 0..50 {
        let mut r = rec("10.0.0.9:1", &format!("u{i}"));
        r.transport = Transport::SyslogUdp;
        if p.try_send(r) == Err(TrySendError::Full) {
            full += 1;
        }
        tokio::task::yield_now().await;
    }
    let s = p.stats();
    assert!(full > 0);
    assert_eq!(s.dropped, full);
    assert_eq!(s.enqueued + s.dropped, 50);
    assert!(s.enqueued <= 4 + 2, "{s:?}");
    let global =
        sen_core::metrics::counter("sen_intake_dropped_total", &[("transport", "syslog-udp")], "");
    assert!(global.get() >= full);
    assert!(
        sen_core::metrics::render().contains("sen_intake_dropped_total{transport=\"syslog-udp\"}")
    );
    bus.unblock();
    bus.wait_for(s.enqueued as usize, WAIT).await;
    task.shutdown().await;
    assert_eq!(bus.len() as u64, s.enqueued);
}

#[tokio::test]
async fn send_all_acked_returns_only_once_durable() {
    let bus = MemBus::new(2);
    bus.block();
    let (p, task) = Publisher::spawn(bus.clone(), config(100, 3, 5));
    let batch: Vec<RawRecord> = (0..10).map(|i| rec("10.0.0.1:1", &format!("h{i}"))).collect();
    let p2 = p.clone();
    let acked = tokio::spawn(async move { p2.send_all_acked(batch).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!acked.is_finished(), "acknowledged before the bus stored anything");
    bus.unblock();
    tokio::time::timeout(WAIT, acked).await.unwrap().unwrap().unwrap();
    assert_eq!(bus.len(), 10, "everything durable when the ack arrives");
    assert_eq!(p.send_all_acked(Vec::new()).await, Ok(()));
    task.shutdown().await;
}

#[tokio::test]
async fn oversized_records_are_refused_alone_and_reported() {
    let bus = MemBus::new(1);
    bus.set_max_payload(200);
    let (p, task) = Publisher::spawn(bus.clone(), config(100, 50, 20));
    let mut batch: Vec<RawRecord> = (0..5).map(|i| rec("10.0.0.1:1", &format!("ok{i}"))).collect();
    batch.insert(2, rec("10.0.0.1:1", &"x".repeat(1000)));
    let r = tokio::time::timeout(WAIT, p.send_all_acked(batch)).await.unwrap();
    assert_eq!(r, Err(AckError::Refused(1)));
    assert_eq!(texts(&bus.records()), vec!["ok0", "ok1", "ok2", "ok3", "ok4"]);
    // Another sender's acknowledgement is not affected.
    let r = p.send_all_acked(vec![rec("10.0.0.2:1", "fine")]).await;
    assert_eq!(r, Ok(()));
    assert_eq!(p.stats().dropped, 1);
    task.shutdown().await;
}

#[tokio::test]
async fn queue_depth_gauge_tracks_the_queue() {
    let bus = MemBus::new(1);
    bus.block();
    let (p, task) = Publisher::spawn(bus.clone(), config(100, 1, 1));
    for i in 0..20 {
        p.send(rec("10.0.0.1:1", &format!("m{i}"))).await.unwrap();
    }
    assert!(wait_until(WAIT, || p.queued() >= 19).await);
    // The gauge is process-wide (shared with the other tests of this binary): check it exists.
    assert!(sen_core::metrics::render().contains("# TYPE sen_intake_queue_depth gauge"));
    bus.unblock();
    bus.wait_for(20, WAIT).await;
    task.shutdown().await;
    assert_eq!(p.queued(), 0);
}
