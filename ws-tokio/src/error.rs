//! The crate's error type.

use std::io;

use ws_proto::{HandshakeError, ProtocolError, SendError, StateError, TimeoutKind};

/// Everything that can go wrong with a WebSocket connection on tokio.
///
/// The variants that come from the protocol core carry the core's own types
/// ([`ProtocolError`], [`HandshakeError`], [`TimeoutKind`], ...), so the
/// close code the core sent for a peer's violation is at hand:
/// [`ProtocolError::close_code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading from or writing to the transport failed (including a TCP
    /// connect that failed or took longer than the handshake timeout).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The peer violated RFC 6455. The core has already sent the matching
    /// close frame ([`ProtocolError::close_code`]: 1002, 1007, 1009 ...)
    /// and the connection is over.
    #[error("protocol error: {0}")]
    Protocol(ProtocolError),
    /// The opening handshake failed: a malformed or refused request on a
    /// server (the core answered it with the matching HTTP error), a bad or
    /// non-101 response on a client ([`HandshakeError::Status`]), or a URL
    /// that cannot be used ([`HandshakeError::Url`]).
    #[error("handshake failed: {0}")]
    Handshake(HandshakeError),
    /// Server: the accept callback rejected the request with this HTTP
    /// status (the response was sent).
    #[error("handshake rejected with status {0}")]
    Rejected(u16),
    /// Server: the accept callback's answer could not be used (a subprotocol
    /// the client did not offer, or a header that is not valid HTTP). The
    /// client was answered with 500.
    #[error("invalid answer to the handshake: {0}")]
    InvalidAccept(StateError),
    /// A deadline of the core expired: the opening handshake, the close
    /// handshake, the keepalive pong or the idle timeout (see [`Config`](crate::Config)).
    #[error("timeout: {0}")]
    Timeout(TimeoutKind),
    /// The peer closed the transport without a close handshake.
    #[error("connection closed without a close handshake")]
    UnexpectedEof,
    /// The connection is closing or closed: nothing more can be sent.
    #[error("the connection is closing or closed")]
    Closed,
    /// A message, ping or close could not be queued for another reason than
    /// the connection being closed: a control payload over 125 bytes, a
    /// close code that may not be sent, or a full outgoing buffer
    /// (`Config::max_write_buffer`).
    #[error("cannot send: {0}")]
    Send(SendError),
    /// A `wss://` URL was given to [`connect`](crate::connect) but ws-tokio
    /// was built without its `rustls` feature. Enable it, or connect a TLS
    /// stream yourself and run the handshake over it with
    /// [`client`](crate::client).
    #[error(
        "wss:// URLs need TLS: enable the `rustls` feature of ws-tokio \
         (or connect a TLS stream yourself and use ws_tokio::client)"
    )]
    TlsNotSupported,
    /// The TLS handshake failed: the peer's certificate is not trusted or
    /// is not valid for the host name, the peer does not speak TLS, or it
    /// took longer than the handshake timeout. The inner error is the one
    /// rustls gave (through tokio-rustls), or a `TimedOut` one.
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    /// The proxy could not be used: unreachable, it refused the tunnel
    /// (an HTTP 407 or other status, a SOCKS5 failure reply, refused
    /// credentials), it answered garbage, closed, or took longer than the
    /// handshake timeout. The error names the proxy without its credentials.
    /// Boxed: it is rare and larger than the other variants.
    #[error("{0}")]
    Proxy(Box<ws_proto::proxy::ProxyError>),
    /// A connection error of the core that this version of ws-tokio does
    /// not list separately (the core's error enum is non-exhaustive).
    #[error("{0}")]
    Other(ws_proto::Error),
}

impl From<ws_proto::Error> for Error {
    fn from(e: ws_proto::Error) -> Self {
        match e {
            ws_proto::Error::Protocol(p) => Self::Protocol(p),
            ws_proto::Error::Handshake(h) => Self::Handshake(h),
            ws_proto::Error::Rejected(status) => Self::Rejected(status),
            ws_proto::Error::Timeout(kind) => Self::Timeout(kind),
            ws_proto::Error::UnexpectedEof => Self::UnexpectedEof,
            other => Self::Other(other),
        }
    }
}

impl From<ws_proto::proxy::ProxyError> for Error {
    fn from(e: ws_proto::proxy::ProxyError) -> Self {
        Self::Proxy(Box::new(e))
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Closed => Self::Closed,
            other => Self::Send(other),
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

/// A copy of an I/O error for a second reader of it (`io::Error` is not `Clone`).
pub(crate) fn copy_io(e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_their_variants() {
        let e: Error = ws_proto::Error::Protocol(ProtocolError::UnmaskedFrame).into();
        assert!(matches!(e, Error::Protocol(ProtocolError::UnmaskedFrame)));
        let e: Error = ws_proto::Error::Timeout(TimeoutKind::Close).into();
        assert!(matches!(e, Error::Timeout(TimeoutKind::Close)));
        let e: Error = ws_proto::Error::UnexpectedEof.into();
        assert!(matches!(e, Error::UnexpectedEof));
        let e: Error = SendError::Closed.into();
        assert!(matches!(e, Error::Closed));
        let e: Error = SendError::ControlTooLong(200).into();
        assert!(matches!(e, Error::Send(SendError::ControlTooLong(200))));
    }

    #[test]
    fn tls_error_says_what_to_do() {
        let text = Error::TlsNotSupported.to_string();
        assert!(
            text.contains("TLS") && text.contains("`rustls` feature"),
            "{text}"
        );
    }
}
