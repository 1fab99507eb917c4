//! The TLS configuration a `WebSocket` carries (feature `rustls`), shared
//! by both runtimes.
//!
//! Clients trust the Mozilla root certificates of the `webpki-roots` crate
//! by default: the same roots on every machine, no platform code, nothing
//! to find at run time. `WebSocket::with_tls_client` replaces them (a
//! private CA, the platform's roots ...). Servers have no default: a
//! certificate and key are always the caller's.

#[cfg(feature = "rustls")]
use std::sync::Arc;

/// The TLS configurations of a `WebSocket`.
#[derive(Clone, Default)]
pub(crate) struct Tls {
    /// Serve `wss://` on the listener with this configuration.
    #[cfg(feature = "rustls")]
    pub(crate) server: Option<Arc<rustls::ServerConfig>>,
    /// Connect to `wss://` URLs with this configuration instead of the default.
    #[cfg(feature = "rustls")]
    pub(crate) client: Option<Arc<rustls::ClientConfig>>,
}

impl Tls {
    /// Listening with `encrypt_server` needs a server configuration:
    /// `hint` names the call that gives one.
    pub(crate) fn check_server(&self, encrypt_server: bool, hint: &str) -> crate::Result<()> {
        #[cfg(feature = "rustls")]
        let missing = encrypt_server && self.server.is_none();
        // Without the feature, building the WebSocket failed already.
        #[cfg(not(feature = "rustls"))]
        let missing = encrypt_server;
        if missing {
            return Err(crate::Error::new(
                crate::ErrorKind::Internal,
                format!(
                    "encrypt_server is set but no TLS server configuration was given: call {hint}"
                ),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Tls");
        #[cfg(feature = "rustls")]
        d.field("server", &self.server.is_some())
            .field("client", &self.client.is_some());
        d.finish()
    }
}

#[cfg(feature = "rustls")]
impl Tls {
    /// The client configuration for `wss://` connections.
    pub(crate) fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.client.clone().unwrap_or_else(default_client_config)
    }
}

#[cfg(feature = "rustls")]
pub use ws_proto::tls::{crypto_provider, default_client_config};

/// A server configuration from PEM files: `cert` holds the certificate
/// chain (the server's own certificate first, then the intermediates),
/// `key` its private key (PKCS#8, PKCS#1 or SEC1). TLS 1.2 and 1.3, the
/// `ring` provider, no client certificates. For anything else (client
/// authentication, ALPN, session tickets ...), build a
/// `rustls::ServerConfig` yourself.
///
/// ```no_run
/// # fn run() -> ws::Result<()> {
/// let tls = ws::tls::server_config_from_pem_files("cert.pem", "key.pem")?;
/// ws::WebSocket::new(|out: ws::Sender| move |msg| out.send(msg))?
///     .with_tls_server(tls)
///     .listen("127.0.0.1:3443")?;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "rustls")]
pub fn server_config_from_pem_files(
    cert: impl AsRef<std::path::Path>,
    key: impl AsRef<std::path::Path>,
) -> crate::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = (cert.as_ref(), key.as_ref());
    let bad = |what: String| crate::Error::new(crate::ErrorKind::Internal, what);
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            bad(format!(
                "cannot read certificates from {}: {e}",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(bad(format!("no certificate in {}", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        bad(format!(
            "cannot read a private key from {}: {e}",
            key.display()
        ))
    })?;
    let config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| bad(format!("unusable certificate or key: {e}")))?;
    Ok(Arc::new(config))
}

/// The name a `wss://` URL's certificate must carry (and the SNI sent).
#[cfg(feature = "rustls")]
pub(crate) fn server_name(url: &url::Url) -> crate::Result<rustls::pki_types::ServerName<'static>> {
    ws_proto::tls::server_name(url).map_err(|e| crate::Error::new(crate::ErrorKind::Internal, e))
}
