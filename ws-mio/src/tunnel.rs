//! A client connection's first phase through a proxy: the core's
//! negotiation ([`ProxyHandshake`]) over the socket (or TLS with an
//! `https://` proxy), before TLS with the server and the WebSocket
//! handshake run inside the tunnel.
//!
//! Only bytes move here: the core builds and parses every message.

use std::io::{self, Read, Write};

use ws_proto::proxy::{Proxy, ProxyError, ProxyHandshake, Status};

/// The negotiation in progress, and what of it waits for the socket.
pub(crate) struct Tunnel {
    handshake: ProxyHandshake,
    /// The proxy as `scheme://host:port`, for errors.
    proxy: String,
    out: Vec<u8>,
    /// An `https://` proxy: TLS with it runs under the negotiation.
    https: bool,
}

impl Tunnel {
    pub(crate) fn new(proxy: &Proxy, handshake: ProxyHandshake) -> Self {
        Self {
            handshake,
            proxy: proxy.to_string(),
            out: Vec::new(),
            https: proxy.kind() == ws_proto::proxy::ProxyKind::Https,
        }
    }

    /// Whether TLS with the proxy must run under the negotiation.
    pub(crate) fn is_https(&self) -> bool {
        self.https
    }

    /// An `https://` proxy but no TLS connection to reach it with.
    pub(crate) fn no_tls(&self) -> io::Error {
        io::Error::other(ProxyError::Tls {
            proxy: self.proxy.clone(),
            error: "no TLS configuration was given for it".into(),
        })
    }

    /// A TLS failure with the proxy (a certificate for another name, say),
    /// when the negotiation had not finished: an error naming the proxy.
    pub(crate) fn tls_failed(&self, error: &io::Error) -> io::Error {
        io::Error::other(ProxyError::Tls {
            proxy: self.proxy.clone(),
            error: error.to_string(),
        })
    }

    /// The TCP connect to the proxy failed: an error naming it.
    pub(crate) fn unreachable(&self, error: &io::Error) -> io::Error {
        io::Error::other(ProxyError::Unreachable {
            proxy: self.proxy.clone(),
            error: error.to_string(),
        })
    }

    /// Writes the negotiation's output as far as the socket takes it.
    pub(crate) fn write(&mut self, stream: &mut impl Write) -> io::Result<()> {
        while let Some(more) = self.handshake.poll_transmit() {
            self.out.extend_from_slice(&more);
        }
        while !self.out.is_empty() {
            match stream.write(&self.out) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads the proxy's answers until the socket is drained; `Ok(true)`
    /// once the tunnel is open. A refusal is an error wrapping the core's
    /// [`ProxyError`].
    pub(crate) fn read(
        &mut self,
        stream: &mut (impl Read + Write),
        buf: &mut [u8],
    ) -> io::Result<bool> {
        loop {
            match stream.read(buf) {
                Ok(0) => return Err(io::Error::other(self.handshake.handle_eof())),
                Ok(n) => match self.handshake.handle_input(&buf[..n]) {
                    Ok(Status::Done) => return Ok(true),
                    Ok(Status::Pending) => self.write(stream)?,
                    Err(e) => return Err(io::Error::other(e)),
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The negotiation for a tunnel to `host:port` through `proxy`. For
/// `socks5://` the name is resolved here (blocking, as the loop's direct
/// connects do). `https://` proxies need the `rustls` feature.
pub(crate) fn start(proxy: &Proxy, host: &str, port: u16) -> io::Result<Tunnel> {
    use std::net::ToSocketAddrs;
    use ws_proto::proxy::Target;
    #[cfg(not(feature = "rustls"))]
    if proxy.kind() == ws_proto::proxy::ProxyKind::Https {
        return Err(io::Error::other(ProxyError::HttpsNotSupported));
    }
    let target = if proxy.resolves_locally() {
        match (host, port).to_socket_addrs()?.next() {
            Some(addr) => Target::Addr(addr),
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "no address for host",
                ));
            }
        }
    } else {
        Target::domain(host, port)
    };
    let handshake = ProxyHandshake::new(proxy, target).map_err(io::Error::other)?;
    Ok(Tunnel::new(proxy, handshake))
}
