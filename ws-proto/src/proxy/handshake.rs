//! One interface over both proxy protocols.

use std::net::SocketAddr;

use super::{HttpConnect, Proxy, ProxyError, ProxyKind, Socks5};

/// Where the tunnel should lead: the WebSocket server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A host name (or an IP address in text) and a port, resolved by the
    /// proxy.
    Domain(String, u16),
    /// An address the client resolved itself (`socks5://`).
    Addr(SocketAddr),
}

impl Target {
    /// A [`Target::Domain`].
    pub fn domain(host: impl Into<String>, port: u16) -> Self {
        Self::Domain(host.into(), port)
    }
}

/// Whether the tunnel is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// More bytes from the proxy are needed (after writing
    /// [`ProxyHandshake::poll_transmit`]'s output).
    Pending,
    /// The tunnel is open: the socket now leads to the target, and every
    /// byte the proxy sent has been consumed.
    Done,
}

/// The negotiation with a proxy, of the kind its URL names.
///
/// Drive it like a [`Connection`](crate::Connection): write what
/// [`poll_transmit`](Self::poll_transmit) gives, feed what the proxy sends
/// to [`handle_input`](Self::handle_input) (any split of the bytes gives the
/// same result), and call [`handle_eof`](Self::handle_eof) if the proxy
/// closes, until `Done` or an error. It has no timer: the runtime bounds it
/// with the handshake deadline.
#[derive(Debug)]
pub enum ProxyHandshake {
    /// `http://` and `https://` proxies (for `https://` the runtime runs TLS
    /// to the proxy first).
    Http(HttpConnect),
    /// `socks5://` and `socks5h://` proxies.
    Socks5(Socks5),
}

impl ProxyHandshake {
    /// Starts the negotiation with `proxy` for a tunnel to `target`.
    pub fn new(proxy: &Proxy, target: Target) -> Result<Self, ProxyError> {
        Ok(match proxy.kind() {
            ProxyKind::Http | ProxyKind::Https => Self::Http(HttpConnect::new(proxy, &target)),
            ProxyKind::Socks5 | ProxyKind::Socks5h => Self::Socks5(Socks5::new(proxy, &target)?),
        })
    }

    /// The bytes to write to the proxy next, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        match self {
            Self::Http(h) => h.poll_transmit(),
            Self::Socks5(s) => s.poll_transmit(),
        }
    }

    /// Takes bytes the proxy sent.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Status, ProxyError> {
        match self {
            Self::Http(h) => h.handle_input(data),
            Self::Socks5(s) => s.handle_input(data),
        }
    }

    /// The proxy closed the connection: the error to report.
    pub fn handle_eof(&self) -> ProxyError {
        match self {
            Self::Http(h) => h.handle_eof(),
            Self::Socks5(s) => s.handle_eof(),
        }
    }
}
