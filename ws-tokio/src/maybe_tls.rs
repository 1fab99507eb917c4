//! [`MaybeTlsStream`]: the transport [`connect`](crate::connect) opens,
//! plain TCP for `ws://` or TLS over TCP for `wss://`.

use tokio::net::TcpStream;

/// The byte stream under a WebSocket that [`connect`](crate::connect)
/// opened: TCP for a `ws://` URL, TLS over TCP for a `wss://` URL (with
/// the `rustls` feature); through an `https://` proxy, the same inside TLS
/// with the proxy.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// A `ws://` connection.
    Plain(TcpStream),
    /// A `wss://` connection: rustls over TCP, through tokio-rustls.
    #[cfg(feature = "rustls")]
    Rustls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// A `ws://` connection through an `https://` proxy: the tunnel inside
    /// TLS with the proxy.
    #[cfg(feature = "rustls")]
    ProxyTls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// A `wss://` connection through an `https://` proxy: TLS with the
    /// server inside TLS with the proxy.
    #[cfg(feature = "rustls")]
    RustlsInProxyTls(
        Box<tokio_rustls::client::TlsStream<tokio_rustls::client::TlsStream<TcpStream>>>,
    ),
}

impl MaybeTlsStream {
    /// The TCP stream underneath (for its addresses or socket options).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) | Self::ProxyTls(tls) => tls.get_ref().0,
            #[cfg(feature = "rustls")]
            Self::RustlsInProxyTls(tls) => tls.get_ref().0.get_ref().0,
        }
    }
}

/// Implements `AsyncRead` and `AsyncWrite` for an enum of streams by
/// forwarding each call to the variant's stream: `Enum { Variant(s) =>
/// expression giving a `&mut` stream, ... }`.
macro_rules! forward_io {
    ($ty:ident { $($(#[$attr:meta])* $variant:ident($s:ident) => $inner:expr),* $(,)? }) => {
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match self.get_mut() {
                    $($(#[$attr])* Self::$variant($s) => std::pin::Pin::new($inner).poll_read(cx, buf),)*
                }
            }
        }

        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match self.get_mut() {
                    $($(#[$attr])* Self::$variant($s) => std::pin::Pin::new($inner).poll_write(cx, buf),)*
                }
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match self.get_mut() {
                    $($(#[$attr])* Self::$variant($s) => {
                        std::pin::Pin::new($inner).poll_write_vectored(cx, bufs)
                    })*
                }
            }

            fn is_write_vectored(&self) -> bool {
                match self {
                    $($(#[$attr])* Self::$variant(s) => s.is_write_vectored(),)*
                }
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match self.get_mut() {
                    $($(#[$attr])* Self::$variant($s) => std::pin::Pin::new($inner).poll_flush(cx),)*
                }
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match self.get_mut() {
                    $($(#[$attr])* Self::$variant($s) => std::pin::Pin::new($inner).poll_shutdown(cx),)*
                }
            }
        }
    };
}
pub(crate) use forward_io;

forward_io!(MaybeTlsStream {
    Plain(s) => s,
    #[cfg(feature = "rustls")]
    Rustls(s) => s.as_mut(),
    #[cfg(feature = "rustls")]
    ProxyTls(s) => s.as_mut(),
    #[cfg(feature = "rustls")]
    RustlsInProxyTls(s) => s.as_mut(),
});
