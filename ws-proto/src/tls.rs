//! The TLS defaults every runtime shares (feature `rustls`): one crypto
//! provider, one default client configuration, one rule for the name a
//! `wss://` URL's certificate must carry. Nothing here does I/O; the
//! runtimes drive rustls themselves.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::ServerName;

/// The crypto provider of every configuration the crates build: rustls's
/// `ring` provider, chosen explicitly so that no process-wide default has
/// to be installed.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The default client configuration for `wss://`: the webpki (Mozilla)
/// root certificates, the `ring` provider, TLS 1.2 and 1.3, no client
/// certificate. Built once and shared.
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

/// The name rustls checks a `wss://` URL's certificate against and sends
/// as SNI (left out for IP addresses, as RFC 6066 asks); the error says
/// what is wrong with the URL's host.
///
/// ```
/// let url = url::Url::parse("wss://example.com/chat").unwrap();
/// assert_eq!(ws_proto::tls::server_name(&url).unwrap().to_str(), "example.com");
/// let ip = url::Url::parse("wss://127.0.0.1:9443/").unwrap();
/// assert!(ws_proto::tls::server_name(&ip).is_ok());
/// ```
pub fn server_name(url: &url::Url) -> Result<ServerName<'static>, String> {
    match url.host() {
        Some(url::Host::Domain(host)) => ServerName::try_from(host.to_owned())
            .map_err(|e| format!("bad host name {host:?}: {e}")),
        Some(url::Host::Ipv4(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(ip).into())),
        Some(url::Host::Ipv6(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(ip).into())),
        None => Err("the URL has no host".to_owned()),
    }
}
