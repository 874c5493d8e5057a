//! Back-pressure of the HTTP ingest API: a saturated intake answers 429/503 with Retry-After
//! instead of queueing without bound, and a 200 means the batch is durable.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sen_analyzer::index::{IndexConfig, IndexStore};
use sen_collector::{Publisher, PublisherConfig};
use sen_console::{AppState, ConsoleConfig};
use sen_core::bus::{Bus, BusError, Delivered, Message};
use tower::ServiceExt;

/// A bus whose publish blocks while `stuck` is set.
struct StuckBus {
    stuck: AtomicBool,
    published: parking_lot::Mutex<usize>,
}

#[async_trait::async_trait]
impl Bus for StuckBus {
    fn partitions(&self, _: &str) -> Result<u32, BusError> {
        Ok(1)
    }
    async fn publish(&self, _: &str, m: Vec<Message>) -> Result<Vec<(u32, u64)>, BusError> {
        while self.stuck.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut n = self.published.lock();
        let start = *n as u64;
        *n += m.len();
        Ok((0..m.len() as u64).map(|i| (0, start + i)).collect())
    }
    async fn fetch(
        &self,
        _: &str,
        _: u32,
        _: u64,
        _: usize,
        _: Duration,
    ) -> Result<Vec<Delivered>, BusError> {
        Ok(vec![])
    }
    async fn commit(&self, _: &str, _: &str, _: u32, _: u64) -> Result<(), BusError> {
        Ok(())
    }
    async fn committed(&self, _: &str, _: &str, _: u32) -> Result<Option<u64>, BusError> {
        Ok(None)
    }
    async fn watermarks(&self, _: &str, _: u32) -> Result<(u64, u64), BusError> {
        Ok((0, 0))
    }
}

fn body(n: usize) -> String {
    (0..n).map(|i| format!("{{\"message\":\"line {i}\"}}\n")).collect()
}

async fn post(app: &axum::Router, n: usize) -> (StatusCode, Option<String>, String) {
    let req = Request::post("/api/v1/ingest").body(Body::from(body(n))).unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (status, retry, String::from_utf8_lossy(&bytes).into_owned())
}

fn app(
    concurrency: usize,
) -> (axum::Router, Arc<StuckBus>, tempfile::TempDir, sen_collector::PublisherTask) {
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(IndexStore::open(dir.path(), IndexConfig::default()).unwrap());
    let bus = Arc::new(StuckBus { stuck: AtomicBool::new(true), published: Default::default() });
    let capacity = 20;
    let (publisher, task) = Publisher::spawn(
        bus.clone(),
        PublisherConfig { queue_capacity: capacity, batch_max_records: 4, ..Default::default() },
    );
    let cfg = ConsoleConfig { ingest_concurrency: concurrency, ..ConsoleConfig::default() };
    let state = AppState::new(index, publisher, capacity, cfg);
    let app =
        sen_console::router(state).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
    (app, bus, dir, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_503_and_200_means_durable() {
    let (app, bus, _dir, _task) = app(2);
    // Request 1 fills the queue and waits for durability (the bus is stuck).
    let a = app.clone();
    let first = tokio::spawn(async move { post(&a, 30).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!first.is_finished(), "a batch is not acknowledged before it is durable");
    // Request 2 gets a slot but the queue is full: 503 with Retry-After.
    let (status, retry, _) = post(&app, 5).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("1"));
    // Unstick: the waiting batch is published, then acknowledged.
    bus.stuck.store(false, Ordering::SeqCst);
    let (status, _, text) = first.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("\"accepted\":30"), "{text}");
    assert_eq!(*bus.published.lock(), 30);
    // With room again, a batch goes through.
    let (status, _, _) = post(&app, 5).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_concurrent_requests_answer_429() {
    let (app, bus, _dir, _task) = app(1);
    let a = app.clone();
    let first = tokio::spawn(async move { post(&a, 30).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, retry, _) = post(&app, 1).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry.as_deref(), Some("1"));
    bus.stuck.store(false, Ordering::SeqCst);
    assert_eq!(first.await.unwrap().0, StatusCode::OK);
}
