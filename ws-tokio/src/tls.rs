//! TLS with rustls (the `rustls` feature): `wss://` clients and servers.
//!
//! Clients verify the server's certificate chain and host name and send
//! SNI; all of that is rustls's work, through tokio-rustls. The default
//! client configuration trusts the Mozilla root certificates compiled in
//! by the `webpki-roots` crate rather than the operating system's store:
//! the same roots on every machine and in every container, no platform
//! code and no files to find at run time. To trust something else (a
//! private CA, the platform's roots through `rustls-native-certs`), build a
//! [`rustls::ClientConfig`] and pass it to [`connect_with_tls`].
//!
//! The crypto provider is rustls's `ring` provider, chosen explicitly, so
//! no process-wide default provider has to be installed and nothing needs
//! a C toolchain beyond what `ring` builds with.
//!
//! Servers: [`accept_tls`] runs the TLS handshake and then the WebSocket
//! one on any accepted stream. (The plain [`accept`](crate::accept) also
//! works on a TLS stream you accepted yourself.)

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use ws_proto::{Accept, Config, Request};

use crate::error::Error;
use crate::maybe_tls::MaybeTlsStream;
use crate::stream::WebSocketStream;
use crate::tls_transport::timed_out;
pub use crate::tls_transport::{crypto_provider, default_client_config};

/// Connects to a `ws://` or `wss://` URL with a client configuration of
/// your own for `wss://` (your root certificates, a client certificate,
/// ALPN ...). [`connect`](crate::connect) is this with
/// [`default_client_config`].
///
/// ```no_run
/// use std::sync::Arc;
///
/// # async fn run(my_ca: rustls::pki_types::CertificateDer<'static>) -> Result<(), ws_tokio::Error> {
/// let mut roots = rustls::RootCertStore::empty();
/// roots.add(my_ca).expect("a valid CA certificate");
/// let tls = rustls::ClientConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
///     .with_safe_default_protocol_versions()
///     .expect("TLS 1.2 and 1.3")
///     .with_root_certificates(roots)
///     .with_no_client_auth();
/// let ws = ws_tokio::connect_with_tls("wss://localhost:9443/", Arc::default(), Arc::new(tls)).await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect_with_tls(
    url: &str,
    config: Arc<Config>,
    client_config: Arc<rustls::ClientConfig>,
) -> Result<WebSocketStream<MaybeTlsStream>, Error> {
    crate::handshake::connect_inner(url, config, Some(client_config)).await
}

/// Accepts a WebSocket connection over TLS on `stream` (an accepted
/// `TcpStream`): the TLS handshake with `server_config`, then the WebSocket
/// handshake as [`accept_with_config`](crate::accept_with_config) does.
/// Both are bounded by `config.handshake_timeout`.
///
/// A client that does not speak TLS (a plain `ws://` client) fails the TLS
/// handshake: this returns [`Error::Tls`] and the client sees the
/// connection end.
///
/// ```no_run
/// use std::sync::Arc;
///
/// # async fn run(tls: Arc<rustls::ServerConfig>) -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
/// let (tcp, _) = listener.accept().await?;
/// let ws = ws_tokio::accept_tls(tcp, Arc::default(), tls).await?;
/// # Ok(())
/// # }
/// ```
pub async fn accept_tls<S>(
    stream: S,
    config: Arc<Config>,
    server_config: Arc<rustls::ServerConfig>,
) -> Result<WebSocketStream<tokio_rustls::server::TlsStream<S>>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_tls_with(stream, config, server_config, |_: &Request| {
        Ok(Accept::default())
    })
    .await
}

/// [`accept_tls`] with a callback that answers the upgrade request, as in
/// [`accept_with`](crate::accept_with).
pub async fn accept_tls_with<S, F>(
    stream: S,
    config: Arc<Config>,
    server_config: Arc<rustls::ServerConfig>,
    callback: F,
) -> Result<WebSocketStream<tokio_rustls::server::TlsStream<S>>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, ws_proto::Response>,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config);
    let tls = match tokio::time::timeout(config.handshake_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return Err(Error::Tls(e)),
        Err(_) => return Err(Error::Tls(timed_out())),
    };
    crate::accept_with(tls, config, callback).await
}
