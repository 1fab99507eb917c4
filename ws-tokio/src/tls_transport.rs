//! The TLS layer under the WebSocket handshake (the `rustls` feature): the
//! crypto provider, the default client configuration, the name a
//! certificate is checked against, and the client's TLS handshake. The
//! handshake module and the public [`tls`](crate::tls) module both build on
//! it; it depends on neither.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::ServerName;
use ws_proto::HandshakeError;

use crate::error::Error;

/// The crypto provider every configuration of this crate uses: rustls's
/// `ring` provider.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The client configuration [`connect`](crate::connect) uses for `wss://`:
/// the webpki (Mozilla) root certificates, the `ring` provider, TLS 1.2 and
/// 1.3, no client certificate. Built once and shared.
pub fn default_client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
                .with_safe_default_protocol_versions()
                .expect("the ring provider supports the default protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// The name rustls checks the certificate against and sends as SNI (SNI
/// is left out for IP addresses, as RFC 6066 asks).
pub(crate) fn server_name(url: &url::Url) -> Result<ServerName<'static>, Error> {
    match url.host() {
        Some(url::Host::Domain(host)) => ServerName::try_from(host.to_owned())
            .map_err(|e| HandshakeError::Url(format!("bad host name {host:?}: {e}")).into()),
        Some(url::Host::Ipv4(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(ip).into())),
        Some(url::Host::Ipv6(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(ip).into())),
        None => Err(HandshakeError::Url("no host".into()).into()),
    }
}

/// Runs the TLS client handshake over `stream`, bounded by `limit`.
pub(crate) async fn tls_connect<S>(
    stream: S,
    name: ServerName<'static>,
    client_config: Arc<rustls::ClientConfig>,
    limit: std::time::Duration,
) -> Result<Box<tokio_rustls::client::TlsStream<S>>, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let connector = tokio_rustls::TlsConnector::from(client_config);
    match tokio::time::timeout(limit, connector.connect(name, stream)).await {
        Ok(Ok(tls)) => Ok(Box::new(tls)),
        Ok(Err(e)) => Err(Error::Tls(e)),
        Err(_) => Err(Error::Tls(timed_out())),
    }
}

pub(crate) fn timed_out() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the TLS handshake took longer than the handshake timeout",
    )
}
