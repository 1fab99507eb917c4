//! The TLS layer under the WebSocket handshake (the `rustls` feature): the
//! crypto provider, the default client configuration, the name a
//! certificate is checked against, and the client's TLS handshake. The
//! handshake module and the public [`tls`](crate::tls) module both build on
//! it; it depends on neither.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use ws_proto::HandshakeError;

use crate::error::Error;

pub use ws_proto::tls::{crypto_provider, default_client_config};

/// The name rustls checks the certificate against and sends as SNI (see
/// [`ws_proto::tls::server_name`]).
pub(crate) fn server_name(url: &url::Url) -> Result<ServerName<'static>, Error> {
    ws_proto::tls::server_name(url).map_err(|e| HandshakeError::Url(e).into())
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
