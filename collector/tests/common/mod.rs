//! Test helpers: an in-memory [`Bus`] double with switches to block, delay, fail or refuse
//! publishes, and small polling helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sen_core::bus::{Bus, BusError, Delivered, Message, partition_for};
use sen_core::raw::{RAW_TOPIC, RawRecord};
use tokio::sync::watch;

/// An in-memory bus: one `Vec` per partition behind a mutex.
pub struct MemBus {
    partitions: u32,
    data: Mutex<Vec<Vec<Message>>>,
    /// While `true`, `publish` waits (the batch is not stored until unblocked).
    blocked: watch::Sender<bool>,
    /// Artificial delay of every publish.
    delay: Mutex<Duration>,
    /// Number of upcoming publishes that fail.
    fail_next: AtomicUsize,
    /// Payloads larger than this are refused with `TooLarge`.
    max_payload: AtomicUsize,
    /// Publish calls that stored a batch.
    pub batches: AtomicUsize,
    /// Sizes of the stored batches.
    pub batch_sizes: Mutex<Vec<usize>>,
}

impl MemBus {
    /// A bus with `partitions` partitions for every topic.
    pub fn new(partitions: u32) -> Arc<MemBus> {
        Arc::new(MemBus {
            partitions,
            data: Mutex::new(vec![Vec::new(); partitions as usize]),
            blocked: watch::channel(false).0,
            delay: Mutex::new(Duration::ZERO),
            fail_next: AtomicUsize::new(0),
            max_payload: AtomicUsize::new(usize::MAX),
            batches: AtomicUsize::new(0),
            batch_sizes: Mutex::new(Vec::new()),
        })
    }

    /// Make publishes wait until [`MemBus::unblock`].
    pub fn block(&self) {
        self.blocked.send_replace(true);
    }

    /// Let waiting and future publishes through.
    pub fn unblock(&self) {
        self.blocked.send_replace(false);
    }

    /// Delay every publish.
    pub fn set_delay(&self, d: Duration) {
        *self.delay.lock().unwrap() = d;
    }

    /// Fail the next `n` publishes.
    pub fn fail_next(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Refuse payloads larger than `n` bytes.
    pub fn set_max_payload(&self, n: usize) {
        self.max_payload.store(n, Ordering::SeqCst);
    }

    /// Messages stored in one partition.
    pub fn partition(&self, p: u32) -> Vec<Message> {
        self.data.lock().unwrap()[p as usize].clone()
    }

    /// Number of stored messages.
    pub fn len(&self) -> usize {
        self.data.lock().unwrap().iter().map(Vec::len).sum()
    }

    /// Every stored record, partition by partition.
    pub fn records(&self) -> Vec<RawRecord> {
        self.data
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .map(|m| RawRecord::decode(&m.payload).expect("valid raw record"))
            .collect()
    }

    /// Wait until at least `n` messages are stored (panics after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<RawRecord> {
        let ok = wait_until(timeout, || self.len() >= n).await;
        assert!(ok, "timed out waiting for {n} records; have {}", self.len());
        self.records()
    }
}

#[async_trait]
impl Bus for MemBus {
    fn partitions(&self, _topic: &str) -> Result<u32, BusError> {
        Ok(self.partitions)
    }

    async fn publish(
        &self,
        topic: &str,
        messages: Vec<Message>,
    ) -> Result<Vec<(u32, u64)>, BusError> {
        assert_eq!(topic, RAW_TOPIC);
        let mut rx = self.blocked.subscribe();
        let _ = rx.wait_for(|b| !*b).await;
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(BusError::Other("injected failure".into()));
        }
        let max = self.max_payload.load(Ordering::SeqCst);
        if let Some(m) = messages.iter().find(|m| m.payload.len() > max) {
            return Err(BusError::TooLarge(m.payload.len()));
        }
        let mut data = self.data.lock().unwrap();
        let mut out = Vec::with_capacity(messages.len());
        let n = messages.len();
        for m in messages {
            let p = partition_for(&m.key, self.partitions);
            let part = &mut data[p as usize];
            out.push((p, part.len() as u64));
            part.push(m);
        }
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.batch_sizes.lock().unwrap().push(n);
        Ok(out)
    }

    async fn fetch(
        &self,
        _topic: &str,
        partition: u32,
        offset: u64,
        max: usize,
        _wait: Duration,
    ) -> Result<Vec<Delivered>, BusError> {
        let data = self.data.lock().unwrap();
        let part = data
            .get(partition as usize)
            .ok_or_else(|| BusError::UnknownPartition { topic: RAW_TOPIC.into(), partition })?;
        Ok(part
            .iter()
            .enumerate()
            .skip(offset as usize)
            .take(max)
            .map(|(i, m)| Delivered {
                partition,
                offset: i as u64,
                timestamp_ms: m.timestamp_ms,
                key: m.key.clone(),
                payload: m.payload.clone(),
            })
            .collect())
    }

    async fn commit(&self, _g: &str, _t: &str, _p: u32, _o: u64) -> Result<(), BusError> {
        Ok(())
    }

    async fn committed(&self, _g: &str, _t: &str, _p: u32) -> Result<Option<u64>, BusError> {
        Ok(None)
    }

    async fn watermarks(&self, _topic: &str, partition: u32) -> Result<(u64, u64), BusError> {
        let data = self.data.lock().unwrap();
        Ok((0, data.get(partition as usize).map_or(0, |p| p.len() as u64)))
    }
}

/// Poll `cond` every 10 ms until it holds (`true`) or `timeout` passes (`false`).
pub async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The body text of each record.
pub fn texts(records: &[RawRecord]) -> Vec<String> {
    records.iter().map(|r| r.text().to_string()).collect()
}
