//! The intake [`Publisher`]: a bounded queue of [`RawRecord`]s drained by one task that
//! publishes them to the bus's `raw` topic in batches.
//!
//! # Flow and acknowledgement
//! Listeners hand records to a [`Publisher`] (cheap to clone, one per listener or connection):
//! - [`Publisher::send`] waits while the queue is full. Stream listeners (TCP, TLS) use it, so
//!   when the bus falls behind they stop reading and the kernel's flow control pushes back on
//!   the sender.
//! - [`Publisher::try_send`] never waits; when the queue is full the record is dropped and
//!   counted in `sen_intake_dropped_total{transport=…}`. UDP uses it: a datagram sender cannot
//!   be slowed down, and blocking the socket would only move the loss into the kernel, where it
//!   is invisible.
//! - [`Publisher::send_all_acked`] enqueues records and waits until all of them are durable on
//!   the bus: for senders that get an application-level acknowledgement (the HTTP ingest API).
//!
//! The drain task groups records into batches of up to [`PublisherConfig::batch_max_records`]
//! records, waiting at most [`PublisherConfig::batch_max_delay`] after the first record of a
//! batch, and calls [`Bus::publish`] with [`RAW_TOPIC`]. Each message's key is the sender's
//! host (the IP of [`RawRecord::peer`] without the port, or the organization when there is no
//! peer), so one sender's records land in one partition and keep their order.
//!
//! A record is **durable once the `publish` call carrying it returns `Ok`**. Until then it lives
//! only in this process's memory (the queue, or the batch being published): a crash or kill
//! loses those records — at most the queue capacity plus one batch — and nobody is told. For
//! syslog that is inherent to the protocol (TCP syslog has no application-level ack: the sender
//! considers a message delivered once its kernel accepted the bytes); HTTP senders are only
//! acknowledged after durability, so they retry.
//!
//! # Failures
//! A failed publish is retried with exponential backoff (from
//! [`PublisherConfig::retry_initial`] to [`PublisherConfig::retry_max`]) for as long as the
//! process runs: records are never dropped silently, every failure is logged, and meanwhile the
//! queue fills and back-pressure reaches the listeners. The one exception is
//! [`BusError::TooLarge`]: the batch is then published record by record and a record the bus
//! refuses on its own is dropped, logged and counted (retrying it could never succeed).
//!
//! # Shutdown
//! [`PublisherTask::shutdown`] closes the queue (further sends fail), publishes everything
//! still queued, and returns. Stop the listeners first so nothing is cut off mid-connection. If
//! the bus keeps failing during shutdown, retries stop after
//! [`PublisherConfig::shutdown_grace`]; the records still unpublished are then logged as lost
//! and counted as dropped.
//!
//! # Metrics
//! `sen_intake_queue_depth` (gauge, records waiting), `sen_intake_records_total{transport}`
//! and `sen_intake_bytes_total` (records and body bytes *published*, i.e. durable),
//! `sen_intake_dropped_total{transport}` (records lost: queue full, refused by the bus, or
//! unpublished at shutdown), `sen_intake_publish_errors_total` (failed publish attempts).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sen_core::bus::{Bus, BusError, Message};
use sen_core::metrics::{self, Counter, Gauge};
use sen_core::raw::{RAW_TOPIC, RawRecord, Transport};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Tuning of a [`Publisher`].
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    /// Queue capacity, in records (at least 1).
    pub queue_capacity: usize,
    /// Most records in one publish call (at least 1).
    pub batch_max_records: usize,
    /// Longest wait after the first record of a batch before publishing it.
    pub batch_max_delay: Duration,
    /// First delay before retrying a failed publish.
    pub retry_initial: Duration,
    /// Longest delay between retries.
    pub retry_max: Duration,
    /// How long shutdown keeps retrying a failing bus before giving up on the queued records.
    pub shutdown_grace: Duration,
}

impl Default for PublisherConfig {
    fn default() -> Self {
        PublisherConfig {
            queue_capacity: 65_536,
            batch_max_records: 1024,
            batch_max_delay: Duration::from_millis(20),
            retry_initial: Duration::from_millis(50),
            retry_max: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The publisher is shut down; the record was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("intake publisher is shut down")]
pub struct Closed;

/// Why [`Publisher::try_send`] did not accept a record (it was counted as dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrySendError {
    /// The queue is full.
    #[error("intake queue is full")]
    Full,
    /// The publisher is shut down.
    #[error("intake publisher is shut down")]
    Closed,
}

/// Why [`Publisher::send_all_acked`] could not confirm durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The publisher shut down before the records were durable; they may or may not have
    /// been published (the sender should retry; ids derived from `origin` make that safe).
    #[error("intake publisher shut down before the records were durable")]
    Closed,
    /// Some of the records were refused by the bus (too large) and dropped.
    #[error("{0} record(s) were refused by the bus")]
    Refused(u64),
}

/// Counters of one publisher instance (the process-wide metrics add up all instances).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublisherStats {
    /// Records accepted into the queue.
    pub enqueued: u64,
    /// Records dropped (queue full, refused by the bus, or lost at shutdown).
    pub dropped: u64,
    /// Records durably published.
    pub published: u64,
    /// Body bytes durably published.
    pub published_bytes: u64,
    /// Successful publish calls (batches).
    pub batches: u64,
    /// Failed publish attempts.
    pub publish_errors: u64,
}

#[derive(Default)]
struct LocalStats {
    enqueued: AtomicU64,
    dropped: AtomicU64,
    published: AtomicU64,
    published_bytes: AtomicU64,
    batches: AtomicU64,
    publish_errors: AtomicU64,
}

const TRANSPORTS: [Transport; 6] = [
    Transport::SyslogUdp,
    Transport::SyslogTcp,
    Transport::SyslogTls,
    Transport::Http,
    Transport::Demo,
    Transport::File,
];

fn transport_index(t: Transport) -> usize {
    match t {
        Transport::SyslogUdp => 0,
        Transport::SyslogTcp => 1,
        Transport::SyslogTls => 2,
        Transport::Http => 3,
        Transport::Demo => 4,
        Transport::File => 5,
    }
}

struct Metrics {
    depth: Arc<Gauge>,
    records: Vec<Arc<Counter>>,
    dropped: Vec<Arc<Counter>>,
    bytes: Arc<Counter>,
    errors: Arc<Counter>,
}

impl Metrics {
    fn new() -> Metrics {
        let per = |name: &str, help: &str| {
            TRANSPORTS
                .iter()
                .map(|t| metrics::counter(name, &[("transport", t.as_str())], help))
                .collect::<Vec<_>>()
        };
        Metrics {
            depth: metrics::gauge(
                "sen_intake_queue_depth",
                &[],
                "Records waiting in the intake queue",
            ),
            records: per("sen_intake_records_total", "Records published durably to the raw topic"),
            dropped: per(
                "sen_intake_dropped_total",
                "Records lost by intake (queue full, refused, or lost at shutdown)",
            ),
            bytes: metrics::counter(
                "sen_intake_bytes_total",
                &[],
                "Body bytes published durably to the raw topic",
            ),
            errors: metrics::counter(
                "sen_intake_publish_errors_total",
                &[],
                "Failed publish attempts to the raw topic",
            ),
        }
    }
}

/// Shared state of a publisher's senders and its drain task.
struct Shared {
    metrics: Metrics,
    stats: LocalStats,
}

impl Shared {
    fn dropped(&self, transport: Transport, n: u64) {
        self.metrics.dropped[transport_index(transport)].add(n);
        self.stats.dropped.fetch_add(n, Ordering::Relaxed);
    }
}

/// Count of the refused records of one [`Publisher::send_all_acked`] call.
type AckGroup = Arc<AtomicU64>;

enum Item {
    /// A record, with the acknowledgement group it belongs to (if any).
    Record(RawRecord, Option<AckGroup>),
    /// Signal once every record queued before this marker is published (or refused); the
    /// group tells how many of its records were refused.
    Ack(oneshot::Sender<u64>, AckGroup),
}

/// The sending side of the intake queue. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    tx: mpsc::Sender<Item>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("queued", &self.queued())
            .field("capacity", &self.tx.max_capacity())
            .finish()
    }
}

/// The drain task of a [`Publisher`]; shut it down with [`PublisherTask::shutdown`].
#[derive(Debug)]
pub struct PublisherTask {
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

impl PublisherTask {
    /// Close the queue, publish everything still in it, and wait for the task to end.
    /// Senders blocked in [`Publisher::send`] or later calls get [`Closed`].
    pub async fn shutdown(self) {
        self.stop.cancel();
        if let Err(e) = self.handle.await {
            tracing::error!(error = %e, "intake publisher task failed");
        }
    }

    /// Whether the drain task has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl Publisher {
    /// Start a publisher on `bus` (spawns the drain task on the current Tokio runtime).
    pub fn spawn(bus: Arc<dyn Bus>, config: PublisherConfig) -> (Publisher, PublisherTask) {
        let config = PublisherConfig {
            queue_capacity: config.queue_capacity.max(1),
            batch_max_records: config.batch_max_records.max(1),
            ..config
        };
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let shared = Arc::new(Shared { metrics: Metrics::new(), stats: LocalStats::default() });
        let stop = CancellationToken::new();
        let drain =
            Drain { bus, config, rx, shared: shared.clone(), stop: stop.clone(), give_up_at: None };
        let handle = tokio::spawn(drain.run());
        (Publisher { tx, shared }, PublisherTask { stop, handle })
    }

    /// Enqueue a record, waiting while the queue is full (back-pressure).
    pub async fn send(&self, record: RawRecord) -> Result<(), Closed> {
        self.send_item(record, None).await
    }

    async fn send_item(&self, record: RawRecord, group: Option<AckGroup>) -> Result<(), Closed> {
        self.tx.send(Item::Record(record, group)).await.map_err(|_| Closed)?;
        self.enqueued(1);
        Ok(())
    }

    /// Enqueue a record without waiting; when the queue is full (or closed) the record is
    /// dropped and counted in `sen_intake_dropped_total{transport}`.
    pub fn try_send(&self, record: RawRecord) -> Result<(), TrySendError> {
        let transport = record.transport;
        match self.tx.try_send(Item::Record(record, None)) {
            Ok(()) => {
                self.enqueued(1);
                Ok(())
            }
            Err(e) => {
                self.shared.dropped(transport, 1);
                Err(match e {
                    mpsc::error::TrySendError::Full(_) => TrySendError::Full,
                    mpsc::error::TrySendError::Closed(_) => TrySendError::Closed,
                })
            }
        }
    }

    /// Enqueue records (waiting for room) and return once all of them are durable on the bus.
    ///
    /// Meant for senders that get an acknowledgement (the HTTP ingest API). When this returns
    /// an error, some of the records may nevertheless have been published.
    pub async fn send_all_acked(&self, records: Vec<RawRecord>) -> Result<(), AckError> {
        if records.is_empty() {
            return Ok(());
        }
        let group = AckGroup::default();
        for record in records {
            self.send_item(record, Some(group.clone())).await.map_err(|_| AckError::Closed)?;
        }
        let (tx, rx) = oneshot::channel();
        self.tx.send(Item::Ack(tx, group)).await.map_err(|_| AckError::Closed)?;
        match rx.await {
            Ok(0) => Ok(()),
            Ok(n) => Err(AckError::Refused(n)),
            Err(_) => Err(AckError::Closed),
        }
    }

    /// Count `n` records of `transport` that a listener lost without offering them to the
    /// queue (for instance at shutdown), in `sen_intake_dropped_total` and [`Self::stats`].
    pub fn record_dropped(&self, transport: Transport, n: u64) {
        self.shared.dropped(transport, n);
    }

    /// Records (and acknowledgement markers) currently queued.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// This publisher's counters.
    pub fn stats(&self) -> PublisherStats {
        let s = &self.shared.stats;
        PublisherStats {
            enqueued: s.enqueued.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            published: s.published.load(Ordering::Relaxed),
            published_bytes: s.published_bytes.load(Ordering::Relaxed),
            batches: s.batches.load(Ordering::Relaxed),
            publish_errors: s.publish_errors.load(Ordering::Relaxed),
        }
    }

    /// Whether the publisher is shut down (sends fail).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    fn enqueued(&self, n: u64) {
        self.shared.stats.enqueued.fetch_add(n, Ordering::Relaxed);
        self.shared.metrics.depth.set(self.queued() as i64);
    }
}

/// The partitioning key of a record: the sender's host (IP without port; IPv4-mapped IPv6
/// as IPv4), else the organization, else empty.
pub fn record_key(record: &RawRecord) -> Vec<u8> {
    if let Some(peer) = &record.peer {
        if let Ok(addr) = peer.parse::<SocketAddr>() {
            // IPv4-mapped IPv6 (dual-stack sockets) keys like plain IPv4.
            return addr.ip().to_canonical().to_string().into_bytes();
        }
        return peer.as_bytes().to_vec();
    }
    record.organization.as_deref().unwrap_or("").as_bytes().to_vec()
}

struct Drain {
    bus: Arc<dyn Bus>,
    config: PublisherConfig,
    rx: mpsc::Receiver<Item>,
    shared: Arc<Shared>,
    stop: CancellationToken,
    /// Once shutdown has started with the bus failing: when to stop retrying.
    give_up_at: Option<Instant>,
}

/// A batch being assembled.
#[derive(Default)]
struct Batch {
    records: Vec<RawRecord>,
    groups: Vec<Option<AckGroup>>,
    acks: Vec<(oneshot::Sender<u64>, AckGroup)>,
}

impl Drain {
    async fn run(mut self) {
        let mut closing = false;
        let mut items = Vec::with_capacity(self.config.batch_max_records);
        loop {
            // Wait for the first item of a batch.
            items.clear();
            let n = tokio::select! {
                biased;
                n = self.rx.recv_many(&mut items, self.config.batch_max_records) => n,
                _ = self.stop.cancelled(), if !closing => {
                    closing = true;
                    self.rx.close();
                    continue;
                }
            };
            if n == 0 {
                break; // Closed and drained.
            }
            let mut batch = Batch::default();
            let deadline = after(self.config.batch_max_delay);
            self.absorb(&mut batch, &mut items);
            // Fill the batch until it is full or the delay has passed.
            while batch.records.len() < self.config.batch_max_records {
                let room = self.config.batch_max_records - batch.records.len();
                let got = tokio::select! {
                    biased;
                    r = tokio::time::timeout_at(deadline, self.rx.recv_many(&mut items, room)) => match r {
                        Ok(n) => n,
                        Err(_) => break,
                    },
                    _ = self.stop.cancelled(), if !closing => {
                        closing = true;
                        self.rx.close();
                        continue;
                    }
                };
                if got == 0 {
                    break;
                }
                self.absorb(&mut batch, &mut items);
            }
            self.shared.metrics.depth.set(self.rx.len() as i64);
            self.publish(batch).await;
        }
        self.shared.metrics.depth.set(0);
        tracing::debug!("intake publisher drained and stopped");
    }

    fn absorb(&self, batch: &mut Batch, items: &mut Vec<Item>) {
        for item in items.drain(..) {
            match item {
                Item::Record(r, g) => {
                    batch.records.push(r);
                    batch.groups.push(g);
                }
                Item::Ack(tx, g) => batch.acks.push((tx, g)),
            }
        }
    }

    /// Publish a batch, retrying until it is durable (or shutdown gives up), then acknowledge.
    async fn publish(&mut self, batch: Batch) {
        let Batch { records, groups, acks } = batch;
        if !records.is_empty() {
            match self.publish_retrying(&records).await {
                Outcome::Published => self.count_published(&records),
                Outcome::TooLarge => self.publish_one_by_one(records, groups).await,
                Outcome::GaveUp => {
                    self.give_up(&records);
                    // The acks' senders are dropped: their waiters see `Closed`.
                    return;
                }
            }
        }
        for (ack, group) in acks {
            let _ = ack.send(group.load(Ordering::Relaxed));
        }
    }

    /// Publish records singly after the bus refused their batch as too large.
    async fn publish_one_by_one(&mut self, records: Vec<RawRecord>, groups: Vec<Option<AckGroup>>) {
        for (record, group) in records.into_iter().zip(groups) {
            let one = std::slice::from_ref(&record);
            match self.publish_retrying(one).await {
                Outcome::Published => self.count_published(one),
                Outcome::TooLarge => {
                    if let Some(g) = &group {
                        g.fetch_add(1, Ordering::Relaxed);
                    }
                    self.shared.dropped(record.transport, 1);
                    tracing::error!(
                        peer = record.peer.as_deref().unwrap_or("-"),
                        transport = record.transport.as_str(),
                        bytes = record.text().len(),
                        "bus refused an intake record as too large; record dropped"
                    );
                }
                Outcome::GaveUp => {
                    self.give_up(one);
                    if let Some(g) = &group {
                        g.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    fn give_up(&self, records: &[RawRecord]) {
        for r in records {
            self.shared.dropped(r.transport, 1);
        }
        tracing::error!(
            records = records.len(),
            "intake publisher shutting down with the bus still failing: records lost"
        );
    }

    fn count_published(&self, records: &[RawRecord]) {
        let mut bytes = 0u64;
        let mut per = [0u64; TRANSPORTS.len()];
        for r in records {
            bytes += r.text().len() as u64;
            per[transport_index(r.transport)] += 1;
        }
        for (i, n) in per.iter().enumerate() {
            if *n > 0 {
                self.shared.metrics.records[i].add(*n);
            }
        }
        self.shared.metrics.bytes.add(bytes);
        let s = &self.shared.stats;
        s.published.fetch_add(records.len() as u64, Ordering::Relaxed);
        s.published_bytes.fetch_add(bytes, Ordering::Relaxed);
        s.batches.fetch_add(1, Ordering::Relaxed);
    }

    async fn publish_retrying(&mut self, records: &[RawRecord]) -> Outcome {
        let mut delay = self.config.retry_initial;
        let mut attempt: u64 = 0;
        loop {
            let messages = records
                .iter()
                .map(|r| Message {
                    key: record_key(r),
                    payload: r.encode(),
                    timestamp_ms: r.received_ms,
                })
                .collect();
            let err = match self.bus.publish(RAW_TOPIC, messages).await {
                Ok(_) => {
                    if attempt > 0 {
                        tracing::info!(
                            attempts = attempt + 1,
                            "intake publish succeeded after retrying"
                        );
                    }
                    return Outcome::Published;
                }
                Err(e) => e,
            };
            attempt += 1;
            self.shared.metrics.errors.inc();
            self.shared.stats.publish_errors.fetch_add(1, Ordering::Relaxed);
            if matches!(err, BusError::TooLarge(_)) {
                tracing::warn!(records = records.len(), error = %err, "bus refused an intake batch as too large");
                return Outcome::TooLarge;
            }
            tracing::warn!(
                records = records.len(),
                attempt,
                retry_in_ms = delay.as_millis() as u64,
                error = %err,
                "intake publish failed; retrying"
            );
            if self.stop.is_cancelled() {
                let grace = self.config.shutdown_grace;
                let at = *self.give_up_at.get_or_insert_with(|| after(grace));
                if Instant::now() >= at {
                    return Outcome::GaveUp;
                }
                tokio::time::sleep_until(after(delay).min(at)).await;
            } else {
                // Wake up early when shutdown starts, so the grace period is honoured.
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = self.stop.cancelled() => {}
                }
            }
            delay =
                delay.saturating_mul(2).min(self.config.retry_max.max(self.config.retry_initial));
        }
    }
}

/// `d` from now, saturating far in the future for absurd durations (no overflow panic).
fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

enum Outcome {
    Published,
    TooLarge,
    GaveUp,
}
