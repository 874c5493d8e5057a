//! Syslog over TLS with rcgen certificates and a tokio-rustls client, on 127.0.0.1.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{MemBus, texts};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use sen_collector::{Publisher, PublisherConfig, SyslogConfig, load_server_config, serve_tls};
use sen_core::raw::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);

struct Pki {
    _dir: tempfile::TempDir,
    server_cert: std::path::PathBuf,
    server_key: std::path::PathBuf,
    client_ca: std::path::PathBuf,
    server_der: CertificateDer<'static>,
    client_cert: CertificateDer<'static>,
    client_key: PrivatePkcs8KeyDer<'static>,
}

/// A self-signed server certificate for `localhost`, and a client CA with one client
/// certificate.
fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let server_cert = dir.path().join("server.crt");
    let server_key = dir.path().join("server.key");
    std::fs::write(&server_cert, server.cert.pem()).unwrap();
    std::fs::write(&server_key, server.key_pair.serialize_pem()).unwrap();

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let client_ca = dir.path().join("clients-ca.crt");
    std::fs::write(&client_ca, ca.pem()).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["sender.example".to_string()]).unwrap();
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params.signed_by(&client_key, &ca, &ca_key).unwrap();

    Pki {
        server_der: server.cert.der().clone(),
        server_cert,
        server_key,
        client_ca,
        client_cert: client.der().clone(),
        client_key: PrivatePkcs8KeyDer::from(client_key.serialize_der()),
        _dir: dir,
    }
}

fn connector(pki: &Pki, with_client_cert: bool) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.server_der.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = if with_client_cert {
        builder
            .with_client_auth_cert(
                vec![pki.client_cert.clone()],
                PrivateKeyDer::Pkcs8(pki.client_key.clone_key()),
            )
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    TlsConnector::from(Arc::new(config))
}

async fn start(
    pki: &Pki,
    mutual: bool,
) -> (
    Arc<MemBus>,
    SocketAddr,
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
    sen_collector::PublisherTask,
) {
    let config = load_server_config(
        &pki.server_cert,
        &pki.server_key,
        mutual.then_some(pki.client_ca.as_path()),
    )
    .unwrap();
    let bus = MemBus::new(2);
    let (publisher, task) = Publisher::spawn(
        bus.clone(),
        PublisherConfig { batch_max_delay: Duration::from_millis(5), ..Default::default() },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let cfg = SyslogConfig { handshake_timeout: Duration::from_secs(5), ..Default::default() };
    let server = tokio::spawn(serve_tls(
        listener,
        TlsAcceptor::from(config),
        publisher,
        cfg,
        shutdown.clone(),
    ));
    (bus, addr, shutdown, server, task)
}

#[tokio::test]
async fn tls_round_trip() {
    let pki = pki();
    let (bus, addr, shutdown, server, task) = start(&pki, false).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let me = tcp.local_addr().unwrap();
    let mut tls = connector(&pki, false)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let octet = "<34>1 2024-01-01T00:00:00Z host app - - - over tls";
    tls.write_all(format!("{} {octet}<13>line one\n<13>line", octet.len()).as_bytes())
        .await
        .unwrap();
    tls.write_all(b" two\r\n<13>tail").await.unwrap();
    tls.shutdown().await.unwrap();
    let got = bus.wait_for(4, WAIT).await;
    assert_eq!(texts(&got), vec![octet, "<13>line one", "<13>line two", "<13>tail"]);
    for r in &got {
        assert_eq!(r.transport, Transport::SyslogTls);
        assert_eq!(r.peer.as_deref(), Some(me.to_string().as_str()));
    }
    shutdown.cancel();
    tokio::time::timeout(WAIT, server).await.unwrap().unwrap().unwrap();
    task.shutdown().await;
}

#[tokio::test]
async fn plaintext_on_a_tls_listener_is_rejected_without_records() {
    let pki = pki();
    let (bus, addr, shutdown, server, task) = start(&pki, false).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"<13>plaintext\n").await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await.unwrap();
    // The server answers with a TLS alert or closes; in any case it does not hang.
    let _ = n;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(bus.len(), 0);
    shutdown.cancel();
    tokio::time::timeout(WAIT, server).await.unwrap().unwrap().unwrap();
    task.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate() {
    let pki = pki();
    let (bus, addr, shutdown, server, task) = start(&pki, true).await;

    // Without a client certificate: the handshake (or the first read after it) fails.
    let tcp = TcpStream::connect(addr).await.unwrap();
    match connector(&pki, false).connect(ServerName::try_from("localhost").unwrap(), tcp).await {
        Err(_) => {}
        Ok(mut tls) => {
            let _ = tls.write_all(b"<13>anonymous\n").await;
            let _ = tls.flush().await;
            let mut buf = [0u8; 16];
            let r = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf)).await.unwrap();
            assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
        }
    }

    // With one: accepted.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = connector(&pki, true)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(b"<13>authenticated\n").await.unwrap();
    tls.shutdown().await.unwrap();
    let got = bus.wait_for(1, WAIT).await;
    assert_eq!(texts(&got), vec!["<13>authenticated"]);
    shutdown.cancel();
    tokio::time::timeout(WAIT, server).await.unwrap().unwrap().unwrap();
    task.shutdown().await;
    assert_eq!(texts(&bus.records()), vec!["<13>authenticated"]);
}
