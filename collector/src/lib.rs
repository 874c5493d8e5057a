//! `sen-collector`: Sen's intake. It receives records and writes them, unparsed, as
//! [`sen_core::raw::RawRecord`]s to the bus's `raw` topic; the analyzer parses them later.
//!
//! - [`batcher`]: the [`Publisher`], a bounded queue drained into batched, retried
//!   [`sen_core::bus::Bus::publish`] calls (one partition key per sender host).
//! - [`syslog`]: syslog listeners over UDP, TCP and TLS ([`serve_udp`], [`serve_tcp`],
//!   [`serve_tls`]), with RFC 6587 framing from [`framing`].
//! - [`tls`]: the TLS server configuration from PEM files, optionally with mutual TLS.
//! - [`ingest`]: the body decoder of the HTTP ingest API (`POST /api/v1/ingest`).
//! - [`demo`]: the built-in demo source.
//! - [`files`]: reading files for `sen ingest` (EVTX, Zeek TSV through [`zeek_tsv`], NDJSON,
//!   lines).
//!
//! # What is acknowledged when, and what a crash loses
//! A record is durable once the [`Publisher`]'s `publish` call carrying it has returned `Ok`
//! (for the embedded bus: written, and fsynced per policy). Before that it lives only in
//! process memory.
//! - **Syslog over TCP/TLS** has no application-level acknowledgement: the sender forgets a
//!   message once its kernel accepted the bytes. A crash loses what is in the socket buffers,
//!   in a connection's partial-message buffer, in the publisher queue and in the batch being
//!   published. Back-pressure (reads pause while the queue is full) bounds that loss to the
//!   queue capacity plus one batch per publisher, plus socket buffers; nothing is dropped while
//!   the process runs.
//! - **Syslog over UDP** is fire-and-forget: beyond the above, datagrams are dropped (and
//!   counted in `sen_intake_dropped_total{transport="syslog-udp"}`) when the queue is full, and
//!   the kernel drops datagrams when the socket buffer overflows (not visible to Sen).
//! - **HTTP ingest** acknowledges a batch only after it is durable
//!   ([`Publisher::send_all_acked`]); a sender that gets no answer retries, and with a batch id
//!   the retried records get the same ids.
//!
//! A graceful shutdown stops the listeners (complete messages already received are handed
//! over), then [`PublisherTask::shutdown`] publishes what is queued.
//!
//! # Wiring
//! ```no_run
//! # async fn wire(bus: std::sync::Arc<dyn sen_core::bus::Bus>) -> Result<(), Box<dyn std::error::Error>> {
//! use sen_collector::{Publisher, PublisherConfig, SyslogConfig};
//! use tokio_util::sync::CancellationToken;
//!
//! let (publisher, task) = Publisher::spawn(bus, PublisherConfig::default());
//! let shutdown = CancellationToken::new();
//! let udp = tokio::net::UdpSocket::bind("0.0.0.0:514").await?;
//! let tcp = tokio::net::TcpListener::bind("0.0.0.0:514").await?;
//! let udp = tokio::spawn(sen_collector::serve_udp(udp, publisher.clone(), SyslogConfig::default(), shutdown.clone()));
//! let tcp = tokio::spawn(sen_collector::serve_tcp(tcp, publisher.clone(), SyslogConfig::default(), shutdown.clone()));
//! // … on a signal:
//! shutdown.cancel();
//! udp.await??;
//! tcp.await??;
//! drop(publisher);
//! task.shutdown().await;
//! # Ok(()) }
//! ```

pub mod batcher;
pub mod demo;
pub mod files;
pub mod framing;
pub mod ingest;
pub mod syslog;
pub mod tls;
pub mod zeek_tsv;

pub use batcher::{
    AckError, Closed, Publisher, PublisherConfig, PublisherStats, PublisherTask, TrySendError,
};
pub use ingest::{BatchMeta, DecodedBatch, IngestError, IngestLimits, LineError, decode_batch};
pub use syslog::{SyslogConfig, serve_tcp, serve_tls, serve_udp};
pub use tls::{TlsError, load_server_config};
