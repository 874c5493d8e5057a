//! Syslog listeners: UDP, TCP and TLS.
//!
//! The caller binds the socket (so tests can bind port 0 and learn the address) and passes it to
//! [`serve_udp`], [`serve_tcp`] or [`serve_tls`] with a [`Publisher`], a [`SyslogConfig`] and a
//! [`CancellationToken`]. Each function runs until the token is cancelled, then stops accepting,
//! lets every connection hand over the messages it has already fully received, and returns.
//!
//! Every message becomes one [`RawRecord`] with `body: Body::Line(text)`, `peer: Some("ip:port")`
//! and no organization, origin or format. Invalid UTF-8 is converted lossily (U+FFFD), never
//! dropped.
//!
//! # Framing
//! - UDP: one datagram is one message; trailing LF, CR and NUL bytes are stripped.
//! - TCP and TLS: RFC 6587 octet counting and newline framing, auto-detected per frame (see
//!   [`crate::framing`]).
//!
//! Messages longer than [`SyslogConfig::max_message_bytes`] are truncated to that size, logged
//! (once per connection) and counted in `sen_intake_truncated_total{transport}`; the connection
//! carries on. ([`RawRecord`] has no field to flag truncation on the record itself.)
//!
//! # Back-pressure and acknowledgement
//! TCP and TLS connections wait for room in the publisher's queue before reading more, so when
//! the bus falls behind the kernel's receive window fills and the sender's writes block: nothing
//! is dropped. UDP cannot push back: when the queue is full the datagram is dropped and counted
//! in `sen_intake_dropped_total{transport="syslog-udp"}`.
//!
//! Syslog has no application-level acknowledgement. A TCP/TLS sender considers a message
//! delivered once its kernel accepted the bytes; Sen holds it durably only after the
//! publisher's `publish` returns (see [`crate::batcher`]). Bytes in socket buffers, a partially
//! received message at shutdown, and the publisher's queue are lost if the process dies.
//!
//! # Limits
//! Each TCP/TLS connection is closed after [`SyslogConfig::idle_timeout`] without data (time
//! spent waiting for queue room does not count as idle). At most
//! [`SyslogConfig::max_connections`] connections are served per listener; further connections
//! are accepted and closed at once, logged and counted in
//! `sen_intake_rejected_connections_total{transport}`. A TLS handshake must complete within
//! [`SyslogConfig::handshake_timeout`].
//!
//! # Shutdown
//! On cancellation the listeners stop accepting and reading. Each connection still hands over
//! the complete messages it has buffered, waiting up to [`SyslogConfig::shutdown_grace`] for
//! queue room; what cannot be queued by then, and any partially received message, is lost (counted in
//! `sen_intake_dropped_total` where it was a complete message). Stop the listeners before
//! shutting the publisher down.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sen_core::metrics::{self, Counter};
use sen_core::raw::{Body, RawRecord, Transport};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::batcher::Publisher;
use crate::framing::{Frame, FrameDecoder};

/// Settings shared by the syslog listeners.
#[derive(Debug, Clone)]
pub struct SyslogConfig {
    /// Longest message kept, in bytes; longer ones are truncated (at least 1).
    pub max_message_bytes: usize,
    /// A TCP/TLS connection without data for this long is closed.
    pub idle_timeout: Duration,
    /// Most simultaneous TCP/TLS connections per listener.
    pub max_connections: usize,
    /// Longest time a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// Once shutdown has started, how long a TCP/TLS connection may still wait for queue room
    /// to hand over the complete messages it has received.
    pub shutdown_grace: Duration,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            max_message_bytes: 64 * 1024,
            idle_timeout: Duration::from_secs(300),
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Build the record for one received message.
fn record(transport: Transport, peer: &str, data: &[u8]) -> RawRecord {
    RawRecord {
        received_ms: now_ms(),
        transport,
        peer: Some(peer.to_string()),
        organization: None,
        origin: None,
        format: None,
        body: Body::Line(String::from_utf8_lossy(data).into_owned()),
    }
}

fn truncated_counter(transport: Transport) -> Arc<Counter> {
    metrics::counter(
        "sen_intake_truncated_total",
        &[("transport", transport.as_str())],
        "Messages truncated to the maximum message size",
    )
}

fn rejected_counter(transport: Transport) -> Arc<Counter> {
    metrics::counter(
        "sen_intake_rejected_connections_total",
        &[("transport", transport.as_str())],
        "Connections closed at once because the listener was at its connection limit",
    )
}

/// Serve syslog over UDP on a bound socket until `shutdown` is cancelled.
///
/// Never waits for the publisher: when its queue is full, datagrams are dropped and counted.
/// Returns an error only if receiving fails in a way that is not specific to one datagram.
pub async fn serve_udp(
    socket: UdpSocket,
    publisher: Publisher,
    config: SyslogConfig,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let transport = Transport::SyslogUdp;
    let truncated = truncated_counter(transport);
    let max = config.max_message_bytes.max(1);
    let local = socket.local_addr()?;
    tracing::info!(%local, "syslog UDP listener started");
    // Larger than any UDP payload, so the kernel never cuts a datagram short.
    let mut buf = vec![0u8; 65_536];
    let mut full_logged = false;
    loop {
        let (n, peer) = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok(v) => v,
                Err(e) if transient_recv_error(&e) => {
                    tracing::debug!(error = %e, "syslog UDP receive error (ignored)");
                    continue;
                }
                Err(e) => {
                    tracing::error!(%local, error = %e, "syslog UDP listener failed");
                    return Err(e);
                }
            },
        };
        let mut data = &buf[..n];
        while let [rest @ .., b'\n' | b'\r' | 0] = data {
            data = rest;
        }
        if data.is_empty() {
            continue;
        }
        if data.len() > max {
            truncated.inc();
            tracing::debug!(%peer, bytes = data.len(), max, "syslog UDP message truncated");
            data = &data[..max];
        }
        match publisher.try_send(record(transport, &peer.to_string(), data)) {
            Ok(()) => full_logged = false,
            Err(crate::batcher::TrySendError::Full) => {
                if !full_logged {
                    tracing::warn!(%local, "intake queue full: dropping syslog UDP messages");
                    full_logged = true;
                }
            }
            Err(crate::batcher::TrySendError::Closed) => {
                tracing::info!(%local, "intake publisher closed; syslog UDP listener stopping");
                break;
            }
        }
    }
    tracing::info!(%local, "syslog UDP listener stopped");
    Ok(())
}

/// Errors of `recv_from` that concern one datagram or a past send (ICMP errors reported on the
/// socket), not the socket itself.
fn transient_recv_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// Serve syslog over plain TCP on a bound listener until `shutdown` is cancelled.
pub async fn serve_tcp(
    listener: TcpListener,
    publisher: Publisher,
    config: SyslogConfig,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve_stream(listener, None, publisher, config, shutdown).await
}

/// Serve syslog over TLS on a bound listener until `shutdown` is cancelled.
///
/// `acceptor` holds the server configuration (see [`crate::tls::load_server_config`]; build the
/// acceptor with `TlsAcceptor::from(config)`). When it requires client certificates, clients
/// without a valid one fail the handshake and are closed.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    publisher: Publisher,
    config: SyslogConfig,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve_stream(listener, Some(acceptor), publisher, config, shutdown).await
}

async fn serve_stream(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    publisher: Publisher,
    config: SyslogConfig,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let transport = if tls.is_some() { Transport::SyslogTls } else { Transport::SyslogTcp };
    let local = listener.local_addr()?;
    let rejected = rejected_counter(transport);
    let truncated = truncated_counter(transport);
    let limit = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut conns = JoinSet::new();
    tracing::info!(%local, transport = transport.as_str(), "syslog listener started");
    let mut accept_backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            // Reap finished connection tasks so the set does not grow.
            Some(res) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = res {
                    tracing::error!(error = %e, "syslog connection task failed");
                }
                continue;
            }
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(v) => {
                accept_backoff = Duration::from_millis(10);
                v
            }
            Err(e) => {
                // Typically out of file descriptors: wait a little rather than spin.
                tracing::warn!(%local, error = %e, "accepting a syslog connection failed");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(accept_backoff) => {}
                }
                accept_backoff = (accept_backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            let before = rejected.get();
            rejected.inc();
            // Log the first rejection and every 100th, not a line per connection of a flood.
            if before.is_multiple_of(100) {
                tracing::warn!(
                    %local,
                    %peer,
                    limit = config.max_connections,
                    rejected_total = before + 1,
                    "syslog connection limit reached; closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let conn = Connection {
            transport,
            peer,
            publisher: publisher.clone(),
            config: config.clone(),
            shutdown: shutdown.clone(),
            truncated: truncated.clone(),
        };
        let tls = tls.clone();
        conns.spawn(async move {
            let _permit = permit;
            conn.run(stream, tls).await;
        });
    }
    tracing::info!(%local, open = conns.len(), "syslog listener stopping; finishing connections");
    while let Some(res) = conns.join_next().await {
        if let Err(e) = res {
            tracing::error!(error = %e, "syslog connection task failed");
        }
    }
    tracing::info!(%local, "syslog listener stopped");
    Ok(())
}

struct Connection {
    transport: Transport,
    peer: SocketAddr,
    publisher: Publisher,
    config: SyslogConfig,
    shutdown: CancellationToken,
    truncated: Arc<Counter>,
}

/// Why a connection ended.
enum End {
    Eof,
    Idle,
    Shutdown,
    /// Records can no longer be handed over (publisher closed, or shutdown grace over).
    Stopped,
    Error(io::Error),
}

impl Connection {
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let _ = stream.set_nodelay(true);
        match tls {
            None => self.read_loop(stream).await,
            Some(acceptor) => {
                let handshake = tokio::select! {
                    _ = self.shutdown.cancelled() => return,
                    r = tokio::time::timeout(self.config.handshake_timeout, acceptor.accept(stream)) => r,
                };
                match handshake {
                    Ok(Ok(tls_stream)) => self.read_loop(tls_stream).await,
                    Ok(Err(e)) => {
                        tracing::warn!(peer = %self.peer, error = %e, "syslog TLS handshake failed")
                    }
                    Err(_) => tracing::warn!(peer = %self.peer, "syslog TLS handshake timed out"),
                }
            }
        }
    }

    async fn read_loop<S: AsyncRead + Unpin>(&self, mut stream: S) {
        let peer = self.peer.to_string();
        let mut decoder = FrameDecoder::new(self.config.max_message_bytes);
        let mut truncation_logged = false;
        tracing::debug!(%peer, transport = self.transport.as_str(), "syslog connection opened");
        let end = loop {
            // Hand over every complete frame first; `send` waits while the queue is full, and
            // meanwhile nothing more is read, so the kernel pushes back on the sender.
            let mut stopped = false;
            while let Some(frame) = decoder.next_frame() {
                if !self.deliver(&peer, frame, &mut truncation_logged).await {
                    stopped = true;
                    break;
                }
            }
            if stopped {
                break End::Stopped;
            }
            decoder.buffer_mut().reserve(16 * 1024);
            let read = tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => break End::Shutdown,
                r = tokio::time::timeout(self.config.idle_timeout, stream.read_buf(decoder.buffer_mut())) => r,
            };
            match read {
                Err(_) => break End::Idle,
                Ok(Ok(0)) => break End::Eof,
                Ok(Ok(_)) => {}
                // A TLS peer closing without close_notify: syslog senders commonly do.
                Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break End::Eof,
                Ok(Err(e)) => break End::Error(e),
            }
        };
        match end {
            End::Eof => {
                let mut lost = 0;
                while let Some(frame) = decoder.finish() {
                    if lost > 0 || !self.deliver(&peer, frame, &mut truncation_logged).await {
                        lost += 1;
                    }
                }
                if lost > 1 {
                    // The first was counted by `deliver`.
                    self.publisher.record_dropped(self.transport, lost - 1);
                }
                tracing::debug!(%peer, "syslog connection closed by peer");
            }
            End::Idle => {
                tracing::info!(%peer, timeout_s = self.config.idle_timeout.as_secs(), "closing idle syslog connection");
            }
            End::Shutdown => {
                if decoder.buffered() > 0 {
                    tracing::info!(
                        %peer,
                        bytes = decoder.buffered(),
                        "shutdown: discarding a partially received syslog message"
                    );
                }
            }
            End::Stopped => {
                let mut lost = 0;
                while decoder.next_frame().is_some() {
                    lost += 1;
                }
                self.publisher.record_dropped(self.transport, lost);
                tracing::warn!(%peer, lost, "closing syslog connection: records can no longer be queued");
            }
            End::Error(e) => {
                tracing::info!(%peer, error = %e, "syslog connection read error");
            }
        }
    }

    /// Send one frame to the publisher, waiting for room; `false` when it cannot be queued
    /// (publisher closed, or no room within [`SyslogConfig::shutdown_grace`] after shutdown:
    /// the record is then counted as dropped).
    async fn deliver(&self, peer: &str, frame: Frame, truncation_logged: &mut bool) -> bool {
        if frame.truncated {
            self.truncated.inc();
            if !*truncation_logged {
                *truncation_logged = true;
                tracing::warn!(
                    %peer,
                    max = self.config.max_message_bytes,
                    "syslog message exceeds the maximum size; truncated (further truncations on this connection are not logged)"
                );
            }
        }
        let send = self.publisher.send(record(self.transport, peer, &frame.data));
        tokio::pin!(send);
        let sent = tokio::select! {
            biased;
            r = &mut send => Some(r),
            _ = self.shutdown.cancelled() => None,
        };
        let sent = match sent {
            Some(r) => r,
            None => match tokio::time::timeout(self.config.shutdown_grace, send).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!(%peer, "shutdown: intake queue still full; dropping a syslog message");
                    Err(crate::batcher::Closed)
                }
            },
        };
        if sent.is_err() {
            self.publisher.record_dropped(self.transport, 1);
        }
        sent.is_ok()
    }
}
