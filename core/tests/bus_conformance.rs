//! The bus conformance suite against the embedded log, under each fsync policy.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sen_core::bus::conformance::{self, Fixture};
use sen_core::bus::embedded::{EmbeddedLog, FsyncPolicy, LogConfig, TopicConfig};
use sen_core::bus::{Bus, BusError};

struct EmbeddedFixture {
    dir: tempfile::TempDir,
    config: LogConfig,
    bus: Option<Arc<EmbeddedLog>>,
}

impl EmbeddedFixture {
    fn new(fsync: FsyncPolicy, segment_bytes: u64) -> EmbeddedFixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let topics = conformance::TOPICS
            .iter()
            .map(|&(name, partitions)| (name.to_owned(), TopicConfig { partitions }))
            .collect();
        let config = LogConfig { topics, fsync, segment_bytes, ..LogConfig::default() };
        let bus = EmbeddedLog::open(dir.path(), config.clone()).expect("open");
        EmbeddedFixture { dir, config, bus: Some(Arc::new(bus)) }
    }
}

#[async_trait]
impl Fixture for EmbeddedFixture {
    fn bus(&self) -> Arc<dyn Bus> {
        self.bus.clone().expect("bus is open")
    }

    async fn reopen(&mut self) -> Result<bool, BusError> {
        let bus = self.bus.take().ok_or(BusError::Closed)?;
        let bus = Arc::try_unwrap(bus)
            .map_err(|_| BusError::Other("the bus is still shared; cannot reopen".into()))?;
        drop(bus);
        // A cancelled blocking task may hold the directory for a moment.
        let mut tries = 0;
        loop {
            match EmbeddedLog::open(self.dir.path(), self.config.clone()) {
                Ok(bus) => {
                    self.bus = Some(Arc::new(bus));
                    return Ok(true);
                }
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("reopen: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn fixture(fsync: FsyncPolicy, segment_bytes: u64) -> Box<dyn Fixture> {
    Box::new(EmbeddedFixture::new(fsync, segment_bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_fsync_always() {
    conformance::run_all(|| async { fixture(FsyncPolicy::Always, 128 << 20) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_fsync_interval() {
    conformance::run_all(|| async { fixture(FsyncPolicy::IntervalMs(20), 128 << 20) }).await;
}

/// Tiny segments: every case crosses many segment rolls.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_small_segments() {
    conformance::run_all(|| async { fixture(FsyncPolicy::Never, 512) }).await;
}

/// A current-thread runtime (I/O goes through `spawn_blocking`).
#[tokio::test(flavor = "current_thread")]
async fn conformance_current_thread() {
    conformance::run_all(|| async { fixture(FsyncPolicy::Never, 128 << 20) }).await;
}
