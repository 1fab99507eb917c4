//! The tunnel through a proxy: connect to the proxy, then move the bytes of
//! the core's negotiation ([`ProxyHandshake`]) until it is done.
//!
//! [`Connector`](crate::Connector) and [`connect`](crate::connect) use it;
//! it is public for clients that run their own handshake over the tunnel
//! ([`client`](crate::client)), such as the `ws` facade.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_proto::proxy::{Proxy, ProxyError, ProxyHandshake, ProxyKind, Status, Target};

/// The largest read while negotiating: SOCKS5 replies are at most 262
/// bytes and a `CONNECT` response head is a few hundred; the core bounds
/// what it buffers.
const READ_CHUNK: usize = 1024;

/// Connects to `proxy` and opens a tunnel to `host:port` (a host name, or
/// an IP address without brackets), all within `limit`. The stream it
/// returns leads to `host:port`: run TLS (for `wss://`, with `host` as the
/// server name) and the WebSocket handshake over it.
///
/// `https://` proxies fail with [`ProxyError::HttpsNotSupported`].
pub async fn open_tunnel(
    proxy: &Proxy,
    host: &str,
    port: u16,
    limit: Duration,
) -> Result<TcpStream, ProxyError> {
    match tokio::time::timeout(limit, negotiate(proxy, host, port)).await {
        Ok(result) => result,
        Err(_) => Err(ProxyError::Timeout {
            proxy: proxy.to_string(),
        }),
    }
}

async fn negotiate(proxy: &Proxy, host: &str, port: u16) -> Result<TcpStream, ProxyError> {
    if proxy.kind() == ProxyKind::Https {
        return Err(ProxyError::HttpsNotSupported);
    }
    let unreachable = |e: std::io::Error| ProxyError::Unreachable {
        proxy: proxy.to_string(),
        error: e.to_string(),
    };
    let target = if proxy.resolves_locally() {
        // socks5://: the client resolves the name and sends an address.
        let mut addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| ProxyError::InvalidUrl(format!("cannot resolve {host}: {e}")))?;
        match addrs.next() {
            Some(addr) => Target::Addr(addr),
            None => return Err(ProxyError::InvalidUrl(format!("{host} has no address"))),
        }
    } else {
        Target::domain(host, port)
    };
    let mut tcp = TcpStream::connect((proxy.host(), proxy.port()))
        .await
        .map_err(unreachable)?;
    tcp.set_nodelay(true).map_err(unreachable)?;
    let mut handshake = ProxyHandshake::new(proxy, target)?;
    let lost = |e: std::io::Error| ProxyError::Unreachable {
        proxy: proxy.to_string(),
        error: format!("connection lost during the negotiation: {e}"),
    };
    let mut buf = [0u8; READ_CHUNK];
    loop {
        while let Some(out) = handshake.poll_transmit() {
            tcp.write_all(&out).await.map_err(lost)?;
        }
        let n = tcp.read(&mut buf).await.map_err(lost)?;
        if n == 0 {
            return Err(handshake.handle_eof());
        }
        if handshake.handle_input(&buf[..n])? == Status::Done {
            return Ok(tcp);
        }
    }
}
