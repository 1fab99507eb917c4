//! TLS for "localhost" in the proxy tests: a certificate made at test time
//! with rcgen and trusted as its own root, a server configuration that
//! presents it and a client configuration that trusts only it (so a check
//! against any other name, such as the proxy's 127.0.0.1, fails).
//!
//! Included with `#[path]` in a module where `rustls` names the crate
//! (`ws_tokio::rustls` or `ws::tls::rustls`).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use super::rustls;

/// The server's and the client's configuration, with `provider`.
pub fn localhost_tls(
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let (server, client, _) = localhost_tls_with_pem(provider);
    (server, client)
}

/// [`localhost_tls`], and the certificate and its key in PEM (for a
/// program that presents the same certificate, such as stunnel).
pub fn localhost_tls_with_pem(
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> (
    Arc<rustls::ServerConfig>,
    Arc<rustls::ClientConfig>,
    (String, String),
) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = (cert.cert.pem(), cert.signing_key.serialize_pem());
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key.into())
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client), pem)
}
