//! Syslog over UDP and TCP with real sockets on 127.0.0.1.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{MemBus, texts, wait_until};
use sen_collector::{
    Publisher, PublisherConfig, PublisherTask, SyslogConfig, serve_tcp, serve_udp,
};
use sen_core::bus::partition_for;
use sen_core::raw::{Body, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);

fn pconfig(queue: usize, batch: usize) -> PublisherConfig {
    PublisherConfig {
        queue_capacity: queue,
        batch_max_records: batch,
        batch_max_delay: Duration::from_millis(5),
        ..PublisherConfig::default()
    }
}

struct Harness {
    bus: Arc<MemBus>,
    addr: SocketAddr,
    publisher: Publisher,
    task: PublisherTask,
    shutdown: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl Harness {
    async fn tcp(config: SyslogConfig, pconfig: PublisherConfig) -> Harness {
        let bus = MemBus::new(4);
        let (publisher, task) = Publisher::spawn(bus.clone(), pconfig);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve_tcp(listener, publisher.clone(), config, shutdown.clone()));
        Harness { bus, addr, publisher, task, shutdown, server }
    }

    async fn udp(config: SyslogConfig, pconfig: PublisherConfig) -> Harness {
        let bus = MemBus::new(4);
        let (publisher, task) = Publisher::spawn(bus.clone(), pconfig);
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve_udp(socket, publisher.clone(), config, shutdown.clone()));
        Harness { bus, addr, publisher, task, shutdown, server }
    }

    async fn stop(self) -> Arc<MemBus> {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.server).await.unwrap().unwrap().unwrap();
        drop(self.publisher);
        tokio::time::timeout(WAIT, self.task.shutdown()).await.unwrap();
        self.bus
    }
}

#[tokio::test]
async fn udp_round_trip() {
    let h = Harness::udp(
        SyslogConfig { max_message_bytes: 64, ..Default::default() },
        pconfig(100, 10),
    )
    .await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = client.local_addr().unwrap();
    client.send_to(b"<13>Oct 11 22:14:15 host app: one\n", h.addr).await.unwrap();
    client.send_to(b"<13>two\r\n\0", h.addr).await.unwrap();
    client.send_to(b"\n", h.addr).await.unwrap(); // empty: ignored
    client.send_to(b"<13>bad \xff utf8", h.addr).await.unwrap();
    client.send_to(&[b'x'; 100], h.addr).await.unwrap(); // truncated to 64
    let got = h.bus.wait_for(4, WAIT).await;
    let bus = h.stop().await;
    assert_eq!(bus.len(), 4);
    assert_eq!(
        texts(&got),
        vec![
            "<13>Oct 11 22:14:15 host app: one".to_string(),
            "<13>two".into(),
            "<13>bad \u{fffd} utf8".into(),
            "x".repeat(64),
        ]
    );
    for r in &got {
        assert_eq!(r.transport, Transport::SyslogUdp);
        assert_eq!(r.peer.as_deref(), Some(me.to_string().as_str()));
        assert_eq!((&r.organization, &r.origin, &r.format), (&None, &None, &None));
        assert!(matches!(r.body, Body::Line(_)));
        assert!(r.received_ms > 1_600_000_000_000);
    }
}

#[tokio::test]
async fn udp_drops_are_counted_when_the_queue_is_full() {
    let h = Harness::udp(SyslogConfig::default(), pconfig(8, 4)).await;
    h.bus.block();
    let before =
        sen_core::metrics::counter("sen_intake_dropped_total", &[("transport", "syslog-udp")], "")
            .get();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for i in 0..100 {
        client.send_to(format!("<13>msg {i}").as_bytes(), h.addr).await.unwrap();
        if i % 10 == 9 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let p = h.publisher.clone();
    assert!(
        wait_until(WAIT, || {
            let s = p.stats();
            s.enqueued + s.dropped == 100
        })
        .await,
        "{:?}",
        p.stats()
    );
    let s = p.stats();
    assert!(s.enqueued <= 8 + 4, "{s:?}");
    assert_eq!(s.dropped, 100 - s.enqueued);
    let after =
        sen_core::metrics::counter("sen_intake_dropped_total", &[("transport", "syslog-udp")], "")
            .get();
    assert!(after - before >= s.dropped, "{before} -> {after}, {s:?}");
    h.bus.unblock();
    let bus = h.stop().await;
    assert_eq!(bus.len() as u64, s.enqueued, "everything accepted was published");
    // The accepted datagrams keep their order.
    let seq: Vec<u64> = texts(&bus.records())
        .iter()
        .map(|t| t.strip_prefix("<13>msg ").unwrap().parse().unwrap())
        .collect();
    assert!(seq.windows(2).all(|w| w[0] < w[1]), "{seq:?}");
}

#[tokio::test]
async fn tcp_round_trip_with_mixed_framing_split_across_segments() {
    let h = Harness::tcp(SyslogConfig::default(), pconfig(1000, 16)).await;
    let mut stream: Vec<u8> = Vec::new();
    let mut want = Vec::new();
    for i in 0..200 {
        let msg = format!("<34>1 2024-01-01T00:00:00Z host app - - - message {i} ünïcode");
        match i % 4 {
            0 => stream.extend(format!("{} {msg}", msg.len()).as_bytes()),
            1 => stream.extend(format!("{msg}\n").as_bytes()),
            2 => stream.extend(format!("{msg}\r\n").as_bytes()),
            _ => stream.extend(format!("{msg}\0").as_bytes()),
        }
        want.push(msg);
    }
    // A multi-line message is only possible with octet counting.
    let multi = "<34>1 - host app - - - line one\nline two";
    stream.extend(format!("{} {multi}", multi.len()).as_bytes());
    want.push(multi.to_string());
    // Final message without terminator: delivered at end of stream.
    stream.extend(b"<34>last");
    want.push("<34>last".into());

    let mut client = TcpStream::connect(h.addr).await.unwrap();
    client.set_nodelay(true).unwrap();
    let me = client.local_addr().unwrap();
    // Cut the stream at awkward places: inside length prefixes, multi-byte characters, CRLFs.
    let mut at = 0;
    let mut step = 1;
    while at < stream.len() {
        let end = (at + step).min(stream.len());
        client.write_all(&stream[at..end]).await.unwrap();
        client.flush().await.unwrap();
        if step % 3 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        at = end;
        step = step % 37 + 1;
    }
    client.shutdown().await.unwrap();
    let got = h.bus.wait_for(want.len(), WAIT).await;
    assert_eq!(texts(&got), want);
    let part = partition_for(b"127.0.0.1", 4);
    assert_eq!(h.bus.partition(part).len(), want.len(), "one sender, one partition");
    for r in &got {
        assert_eq!(r.transport, Transport::SyslogTcp);
        assert_eq!(r.peer.as_deref(), Some(me.to_string().as_str()));
    }
    h.stop().await;
}

#[tokio::test]
async fn tcp_oversized_frames_are_truncated_and_the_connection_survives() {
    let h =
        Harness::tcp(SyslogConfig { max_message_bytes: 32, ..Default::default() }, pconfig(100, 8))
            .await;
    let big_octet = format!("<1>{}", "o".repeat(5000));
    let big_line = format!("<2>{}", "l".repeat(100_000));
    let mut data = format!("{} {big_octet}", big_octet.len()).into_bytes();
    data.extend(b"<3>after octet\n");
    data.extend(big_line.as_bytes());
    data.extend(b"\n<4>after line\n");
    data.extend(b"99999 not-a-syslog-length\n"); // garbage prefix: newline framing
    let mut client = TcpStream::connect(h.addr).await.unwrap();
    client.write_all(&data).await.unwrap();
    client.shutdown().await.unwrap();
    let got = h.bus.wait_for(5, WAIT).await;
    assert_eq!(
        texts(&got),
        vec![
            big_octet[..32].to_string(),
            "<3>after octet".into(),
            big_line[..32].to_string(),
            "<4>after line".into(),
            "99999 not-a-syslog-length".into(),
        ]
    );
    let truncated = sen_core::metrics::counter(
        "sen_intake_truncated_total",
        &[("transport", "syslog-tcp")],
        "",
    );
    assert!(truncated.get() >= 2);
    h.stop().await;
}

#[tokio::test]
async fn tcp_back_pressure_stalls_the_sender_and_loses_nothing() {
    let h = Harness::tcp(SyslogConfig::default(), pconfig(16, 8)).await;
    h.bus.block();
    const N: usize = 30_000;
    let pad = "p".repeat(1000);
    let mut data = Vec::with_capacity(N * 1024);
    for i in 0..N {
        data.extend(format!("<13>msg {i:06} {pad}\n").as_bytes());
    }
    let total = data.len();
    let written = Arc::new(AtomicUsize::new(0));
    let w = written.clone();
    let addr = h.addr;
    let writer = tokio::spawn(async move {
        let mut client = TcpStream::connect(addr).await.unwrap();
        for chunk in data.chunks(64 * 1024) {
            client.write_all(chunk).await.unwrap();
            w.fetch_add(chunk.len(), Ordering::SeqCst);
        }
        client.shutdown().await.unwrap();
    });
    // Let the socket buffers fill, then check the writer is stuck.
    let mut last = 0;
    let mut stable = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = written.load(Ordering::SeqCst);
        if now == last {
            stable += 1;
            if stable >= 5 {
                break;
            }
        } else {
            stable = 0;
            last = now;
        }
    }
    let stalled_at = written.load(Ordering::SeqCst);
    eprintln!("writer stalled after {stalled_at} of {total} bytes");
    assert!(stable >= 5, "the writer kept making progress: {stalled_at} of {total} bytes");
    assert!(stalled_at < total, "all {total} bytes were written despite the blocked bus");
    assert!(!writer.is_finished());
    assert_eq!(h.bus.len(), 0);
    let s = h.publisher.stats();
    assert!(s.enqueued <= 16 + 8 + 1, "the queue is bounded: {s:?}");
    assert_eq!(s.dropped, 0);

    h.bus.unblock();
    tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    let got = h.bus.wait_for(N, Duration::from_secs(120)).await;
    assert_eq!(got.len(), N);
    for (i, r) in got.iter().enumerate() {
        assert!(
            r.text().starts_with(&format!("<13>msg {i:06} ")),
            "record {i}: {}",
            &r.text()[..20]
        );
    }
    assert_eq!(h.publisher.stats().dropped, 0);
    h.stop().await;
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let cfg = SyslogConfig { idle_timeout: Duration::from_millis(200), ..Default::default() };
    let h = Harness::tcp(cfg, pconfig(100, 8)).await;
    let mut client = TcpStream::connect(h.addr).await.unwrap();
    client.write_all(b"<13>hello\n").await.unwrap();
    h.bus.wait_for(1, WAIT).await;
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "server closed the idle connection: {n:?}");
    h.stop().await;
}

#[tokio::test]
async fn connection_limit_rejects_extra_connections() {
    let cfg = SyslogConfig { max_connections: 1, ..Default::default() };
    let h = Harness::tcp(cfg, pconfig(100, 8)).await;
    let mut first = TcpStream::connect(h.addr).await.unwrap();
    first.write_all(b"<13>first\n").await.unwrap();
    h.bus.wait_for(1, WAIT).await;

    let mut second = TcpStream::connect(h.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), second.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "second connection was closed: {n:?}");
    let _ = second.write_all(b"<13>second\n").await;

    first.write_all(b"<13>first again\n").await.unwrap();
    drop(first);
    h.bus.wait_for(2, WAIT).await;
    // The slot is free again once the first connection is gone.
    let mut third = None;
    assert!(
        wait_until(WAIT, || {
            if third.is_none() {
                third = Some(std::net::TcpStream::connect(h.addr).unwrap());
            }
            let t = third.as_mut().unwrap();
            use std::io::Write;
            if t.write_all(b"<13>third\n").is_err() {
                third = None;
                return false;
            }
            h.bus.len() >= 3
        })
        .await
    );
    let bus = h.stop().await;
    let t = texts(&bus.records());
    assert_eq!(&t[..2], &["<13>first".to_string(), "<13>first again".to_string()]);
    assert!(t[2..].iter().all(|m| m == "<13>third"), "{t:?}");
    assert!(!t.contains(&"<13>second".to_string()));
}

#[tokio::test]
async fn shutdown_hands_over_received_messages_and_returns_with_open_connections() {
    let h = Harness::tcp(SyslogConfig::default(), pconfig(100, 8)).await;
    let mut client = TcpStream::connect(h.addr).await.unwrap();
    client.write_all(b"<13>complete one\n<13>complete two\n<13>partial").await.unwrap();
    h.bus.wait_for(2, WAIT).await;
    let bus = h.stop().await;
    assert_eq!(texts(&bus.records()), vec!["<13>complete one", "<13>complete two"]);
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "connection closed at shutdown: {n:?}");
}

#[tokio::test]
async fn shutdown_with_a_stuck_bus_gives_up_after_the_grace_and_counts_the_loss() {
    let cfg = SyslogConfig { shutdown_grace: Duration::from_millis(200), ..Default::default() };
    let h = Harness::tcp(cfg, pconfig(2, 1)).await;
    h.bus.block();
    let mut client = TcpStream::connect(h.addr).await.unwrap();
    let mut data = Vec::new();
    for i in 0..20 {
        data.extend(format!("<13>m{i}\n").as_bytes());
    }
    client.write_all(&data).await.unwrap();
    // 1 in the blocked batch + 2 queued; the connection waits for room with the rest buffered.
    let p = h.publisher.clone();
    assert!(wait_until(WAIT, || p.stats().enqueued == 3).await, "{:?}", p.stats());
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.shutdown.cancel();
    let t = std::time::Instant::now();
    tokio::time::timeout(WAIT, h.server).await.unwrap().unwrap().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let s = p.stats();
    assert_eq!((s.enqueued, s.dropped), (3, 17), "{s:?}");
    // The publisher still publishes what was queued once the bus recovers.
    h.bus.unblock();
    drop(h.publisher);
    tokio::time::timeout(WAIT, h.task.shutdown()).await.unwrap();
    assert_eq!(texts(&h.bus.records()), vec!["<13>m0", "<13>m1", "<13>m2"]);
}
