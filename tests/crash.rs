//! Crash test: kill -9 `sen serve` while a client ingests 200k events over HTTP; restart; every
//! acknowledged event is searchable exactly once.
//!
//! The client sends batches of 1,000 events, each batch with an `X-Sen-Batch-Id`, and retries a
//! batch until it is acknowledged (as a real shipper does). Every event carries its batch and
//! sequence number, so the check is exact: each batch's 1,000 events are found exactly once and
//! the total is 200,000.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, client};

const BATCHES: usize = 200;
const PER_BATCH: usize = 1000;

fn batch_body(b: usize) -> String {
    let mut body = String::with_capacity(PER_BATCH * 200);
    let now = chrono::Utc::now();
    for i in 0..PER_BATCH {
        let seq = b * PER_BATCH + i;
        let line = format!(
            "{{\"@timestamp\":\"{}\",\"message\":\"crash test event {seq}\",\"labels\":{{\"batch\":\"b{b}\",\"seq\":{seq}}},\"host\":{{\"name\":\"crash{}\"}}}}\n",
            now.to_rfc3339(),
            seq % 13
        );
        body.push_str(&line);
    }
    body
}

#[test]
fn kill9_during_http_ingest_loses_nothing_acknowledged_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Arc::new(Mutex::new(Server::start(dir.path(), &[])));
    let url = srv.lock().unwrap().url("/api/v1/ingest");
    let acked = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));

    let sender = {
        let (acked, done) = (acked.clone(), done.clone());
        std::thread::spawn(move || {
            let http = client();
            let mut failures = 0;
            for b in 0..BATCHES {
                let body = batch_body(b);
                loop {
                    match http
                        .post(&url)
                        .header("x-sen-batch-id", format!("crash-{b}"))
                        .body(body.clone())
                        .send()
                    {
                        Ok(r) if r.status().is_success() => break,
                        Ok(r) if r.status().as_u16() == 429 || r.status().as_u16() == 503 => {}
                        Ok(r) => panic!("ingest answered {}", r.status()),
                        Err(_) => failures += 1,
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                acked.fetch_add(1, Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
            failures
        })
    };

    // Let a good share through, then kill -9 in the middle of the stream.
    let deadline = Instant::now() + Duration::from_secs(300);
    while acked.load(Ordering::SeqCst) < 60 {
        assert!(Instant::now() < deadline, "ingest too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    let acked_before_kill = acked.load(Ordering::SeqCst);
    srv.lock().unwrap().kill9();
    std::thread::sleep(Duration::from_millis(500));
    srv.lock().unwrap().spawn();
    let failures = sender.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    eprintln!("acked before kill: {acked_before_kill}, client request failures: {failures}");
    assert!(acked_before_kill < BATCHES, "the kill must land mid-stream");

    let srv = srv.lock().unwrap();
    srv.wait_count("", (BATCHES * PER_BATCH) as u64, 300);
    for b in 0..BATCHES {
        assert_eq!(
            srv.count(&format!("labels.batch:b{b}")),
            PER_BATCH as u64,
            "batch {b} not exactly once"
        );
    }
    assert_eq!(srv.count(""), (BATCHES * PER_BATCH) as u64);
}
