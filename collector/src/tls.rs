//! TLS server configuration for syslog over TLS (RFC 5425): certificate chain and private key
//! from PEM files, optionally a client CA bundle for mutual TLS. TLS 1.2 and 1.3 only, with the
//! `ring` crypto provider.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// Errors building a TLS server configuration. Each names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid PEM.
    #[error("invalid PEM in {}: {source}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A certificate file holds no certificate.
    #[error("no certificate found in {} (expected PEM `BEGIN CERTIFICATE` blocks)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key.
    #[error(
        "no private key found in {} (expected a PEM PKCS#8, PKCS#1 or SEC1 private key)",
        path.display()
    )]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// A client CA certificate was rejected.
    #[error("invalid client CA certificate in {}: {source}", path.display())]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: rustls::Error,
    },
    /// The client CA bundle could not be turned into a verifier.
    #[error("cannot use the client CAs of {}: {source}", path.display())]
    ClientVerifier {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: rustls::server::VerifierBuilderError,
    },
    /// The certificate chain and key were rejected (for instance, the key does not match the
    /// certificate or uses an unsupported algorithm).
    #[error("cannot use certificate {} with key {}: {source}", cert.display(), key.display())]
    CertKey {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// The cause.
        source: rustls::Error,
    },
    /// Other rustls configuration error.
    #[error("TLS configuration error: {0}")]
    Config(rustls::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_path_buf(), source })
}

fn certs(pem: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem { path: path.to_path_buf(), source })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_path_buf() });
    }
    Ok(certs)
}

fn key(pem: &[u8], path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|source| TlsError::Pem { path: path.to_path_buf(), source })?
        .ok_or_else(|| TlsError::NoPrivateKey { path: path.to_path_buf() })
}

/// Load a server configuration from a PEM certificate chain (leaf first) and a PEM private key;
/// with `client_ca`, clients must present a certificate signed by one of the CAs in that PEM
/// file (mutual TLS).
pub fn load_server_config(
    cert_chain: &Path,
    key_file: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_pem = read(cert_chain)?;
    let key_pem = read(key_file)?;
    let ca_pem = match client_ca {
        Some(p) => Some((read(p)?, p)),
        None => None,
    };
    build(
        (&cert_pem, cert_chain),
        (&key_pem, key_file),
        ca_pem.as_ref().map(|(pem, p)| (&pem[..], *p)),
    )
}

/// Like [`load_server_config`], from PEM bytes already in memory (the names appear in errors).
pub fn server_config_from_pem(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: Option<&[u8]>,
) -> Result<Arc<ServerConfig>, TlsError> {
    build(
        (cert_chain_pem, Path::new("<certificate>")),
        (key_pem, Path::new("<key>")),
        client_ca_pem.map(|pem| (pem, Path::new("<client CA>"))),
    )
}

fn build(
    (cert_pem, cert_path): (&[u8], &Path),
    (key_pem, key_path): (&[u8], &Path),
    client_ca: Option<(&[u8], &Path)>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = certs(cert_pem, cert_path)?;
    let key = key(key_pem, key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some((pem, path)) => {
            let mut roots = RootCertStore::empty();
            for cert in certs(pem, path)? {
                roots
                    .add(cert)
                    .map_err(|source| TlsError::ClientCa { path: path.to_path_buf(), source })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|source| TlsError::ClientVerifier { path: path.to_path_buf(), source })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|source| TlsError::CertKey {
        cert: cert_path.to_path_buf(),
        key: key_path.to_path_buf(),
        source,
    })?;
    // No TLS 1.3 session tickets: syslog senders do not resume sessions, and a ticket the
    // server writes after the handshake fails against a sender that sends and closes at once —
    // that write error ended the read before the sender's last records were taken.
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (String, String) {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        (ck.cert.pem(), ck.key_pair.serialize_pem())
    }

    #[test]
    fn loads_files_and_names_them_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let cert_path = dir.path().join("server.crt");
        let key_path = dir.path().join("server.key");
        std::fs::write(&cert_path, &cert).unwrap();
        std::fs::write(&key_path, &key).unwrap();
        let cfg = load_server_config(&cert_path, &key_path, None).unwrap();
        assert!(cfg.alpn_protocols.is_empty());
        // Mutual TLS with the (self-signed) cert as CA.
        load_server_config(&cert_path, &key_path, Some(&cert_path)).unwrap();

        let missing = dir.path().join("missing.pem");
        let e = load_server_config(&missing, &key_path, None).unwrap_err();
        assert!(matches!(e, TlsError::Read { .. }));
        assert!(e.to_string().contains("missing.pem"), "{e}");

        // Key and cert swapped.
        let e = load_server_config(&key_path, &cert_path, None).unwrap_err();
        assert!(matches!(e, TlsError::NoCertificate { .. }), "{e}");
        assert!(e.to_string().contains("server.key"), "{e}");
        let e = load_server_config(&cert_path, &cert_path, None).unwrap_err();
        assert!(matches!(e, TlsError::NoPrivateKey { .. }), "{e}");

        // A key that does not belong to the certificate.
        let (_, other_key) = self_signed();
        let other = dir.path().join("other.key");
        std::fs::write(&other, other_key).unwrap();
        let e = load_server_config(&cert_path, &other, None).unwrap_err();
        assert!(matches!(e, TlsError::CertKey { .. }), "{e}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not pem at all").unwrap();
        let e = load_server_config(&cert_path, &key_path, Some(&garbage)).unwrap_err();
        assert!(e.to_string().contains("garbage.pem"), "{e}");
    }
}
