//! The bus: topics of partitioned, ordered, durable records with consumer offsets.
//!
//! One trait, two implementations: [`embedded::EmbeddedLog`] (segmented append-only files on
//! local disk; the one-machine default) and, later, Kafka. Both must pass the same
//! [`conformance`] suite.
//!
//! # Delivery semantics
//! - [`Bus::publish`] returns `Ok` only when every message of the batch is durable according to
//!   the configured policy (for the embedded log: written, and fsynced when the policy says so).
//!   Intake acks its sender only after that.
//! - Records in one partition keep their order; the partition is chosen from the message key, so
//!   one host's records stay in order.
//! - Consumers read from an offset and [`Bus::commit`] the *next* offset to read only after the
//!   effect of the records is durable (e.g. after the index commit). A crash replays from the
//!   last committed offset: at-least-once delivery; sinks are idempotent.

use std::time::Duration;

use async_trait::async_trait;

pub mod conformance;
pub mod embedded;

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Partitioning key (e.g. the sender host); empty means partition 0.
    pub key: Vec<u8>,
    /// The payload.
    pub payload: Vec<u8>,
    /// Producer timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
}

/// One record read back from a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The partition it was read from.
    pub partition: u32,
    /// Its offset in the partition.
    pub offset: u64,
    /// Producer timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Partitioning key.
    pub key: Vec<u8>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Bus errors.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// I/O failure on the underlying storage.
    #[error("bus i/o error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The topic is not configured.
    #[error("unknown topic `{0}`")]
    UnknownTopic(String),
    /// The partition does not exist.
    #[error("topic `{topic}` has no partition {partition}")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: u32,
    },
    /// The requested offset was deleted by retention; the earliest available is given.
    #[error("offset {requested} is below the earliest retained offset {earliest}")]
    OffsetOutOfRange {
        /// What was asked for.
        requested: u64,
        /// The first offset still stored.
        earliest: u64,
    },
    /// A record is too large for the log.
    #[error("record of {0} bytes exceeds the maximum record size")]
    TooLarge(usize),
    /// The bus is shut down.
    #[error("bus is closed")]
    Closed,
    /// Anything else (backend specific).
    #[error("{0}")]
    Other(String),
}

/// The bus trait. See the module docs for delivery semantics.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Number of partitions of a topic.
    fn partitions(&self, topic: &str) -> Result<u32, BusError>;

    /// Append a batch; returns once the batch is durable. Messages are spread over partitions
    /// by key. Returns the (partition, offset) of each message, in order.
    async fn publish(
        &self,
        topic: &str,
        messages: Vec<Message>,
    ) -> Result<Vec<(u32, u64)>, BusError>;

    /// Read up to `max` records of one partition starting at `offset`. When none is available,
    /// waits up to `wait` for new ones and returns an empty batch on time-out.
    async fn fetch(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivered>, BusError>;

    /// Store a consumer group's next offset to read for a partition, durably.
    async fn commit(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), BusError>;

    /// A consumer group's committed next offset for a partition, if any.
    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, BusError>;

    /// The first retained offset and the next offset to be written (log end) of a partition.
    async fn watermarks(&self, topic: &str, partition: u32) -> Result<(u64, u64), BusError>;
}

/// Choose a partition for a key (stable across runs and implementations).
pub fn partition_for(key: &[u8], partitions: u32) -> u32 {
    if key.is_empty() || partitions <= 1 {
        return 0;
    }
    (xxhash_rust::xxh3::xxh3_64(key) % u64::from(partitions)) as u32
}
