//! End-to-end: syslog over TLS configured in the config file of `sen serve`.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;

use common::{Server, free_port};

#[test]
fn syslog_over_tls_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.path().join("server.crt");
    let key = dir.path().join("server.key");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let tls_port = free_port();
    let config = dir.path().join("sen.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[syslog.tls]\nlisten = \"127.0.0.1:{tls_port}\"\ncert = \"{}\"\nkey = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let srv = Server::start(&data, &["--config", config.to_str().unwrap()]);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(client), "localhost".try_into().unwrap()).unwrap();
    let sock = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    // Finish the handshake first: data written during it sits in the client until the
    // handshake completes, and an early close would never send it.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    for i in 0..50 {
        let msg = format!(
            "<38>Nov 26 10:00:00 web01 sshd[7]: Accepted publickey for admin{i} from 10.10.9.5 port 50000 ssh2"
        );
        write!(tls, "{} {msg}", msg.len()).unwrap();
    }
    tls.flush().unwrap();
    tls.conn.send_close_notify();
    while tls.conn.wants_write() {
        tls.conn.write_tls(&mut tls.sock).unwrap();
    }
    drop(tls);
    srv.wait_count("input.type:syslog-tls", 50, 60);
    assert_eq!(
        srv.count("input.type:syslog-tls AND event.outcome:success AND process.name:sshd"),
        50
    );

    // A plaintext client on the TLS port gets nothing indexed.
    let mut plain = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
    let _ = plain.write_all(b"<38>Nov 26 10:00:00 web01 sshd[7]: plaintext\n");
    drop(plain);
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(srv.count("plaintext"), 0);
}
