//! The tunnel through a proxy: connect to the proxy, then move the bytes of
//! the core's negotiation ([`ProxyHandshake`]) until it is done.
//!
//! [`Connector`](crate::Connector) and [`connect`](crate::connect) use it;
//! it is public for clients that run their own handshake over the tunnel
//! ([`client`](crate::client)), such as the `ws` facade.

use std::time::Duration;

use std::future::Future;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
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
/// An `https://` proxy is reached over TLS first, its certificate checked
/// for the proxy's host name against the Mozilla roots of `webpki-roots`
/// (see `open_tunnel_with_tls` for other roots); without the `rustls`
/// feature it fails with [`ProxyError::HttpsNotSupported`].
pub async fn open_tunnel(
    proxy: &Proxy,
    host: &str,
    port: u16,
    limit: Duration,
) -> Result<ProxyStream, ProxyError> {
    bounded(proxy, limit, negotiate(proxy, host, port, None)).await
}

/// [`open_tunnel`] with the TLS configuration for an `https://` proxy (the
/// roots its certificate is checked against). Other proxies ignore it.
#[cfg(feature = "rustls")]
pub async fn open_tunnel_with_tls(
    proxy: &Proxy,
    host: &str,
    port: u16,
    limit: Duration,
    tls: std::sync::Arc<rustls::ClientConfig>,
) -> Result<ProxyStream, ProxyError> {
    bounded(proxy, limit, negotiate(proxy, host, port, Some(tls))).await
}

async fn bounded(
    proxy: &Proxy,
    limit: Duration,
    negotiation: impl Future<Output = Result<ProxyStream, ProxyError>>,
) -> Result<ProxyStream, ProxyError> {
    match tokio::time::timeout(limit, negotiation).await {
        Ok(result) => result,
        Err(_) => Err(ProxyError::Timeout {
            proxy: proxy.to_string(),
        }),
    }
}

/// The stream to a proxy, through which a tunnel leads to the server: TCP,
/// or TLS over TCP for an `https://` proxy.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProxyStream {
    /// An `http://` or SOCKS5 proxy.
    Tcp(TcpStream),
    /// An `https://` proxy: TLS with the proxy, the tunnel inside it.
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl ProxyStream {
    /// The TCP stream to the proxy (for its addresses or socket options).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Tcp(tcp) => tcp,
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => tls.get_ref().0,
        }
    }
}

crate::maybe_tls::forward_io!(ProxyStream {
    Tcp(s) => s,
    #[cfg(feature = "rustls")]
    Tls(s) => s.as_mut(),
});

/// The TLS configuration for an `https://` proxy, when one was given.
#[cfg(feature = "rustls")]
type ProxyTls = Option<std::sync::Arc<rustls::ClientConfig>>;
#[cfg(not(feature = "rustls"))]
type ProxyTls = Option<std::convert::Infallible>;

async fn negotiate(
    proxy: &Proxy,
    host: &str,
    port: u16,
    tls: ProxyTls,
) -> Result<ProxyStream, ProxyError> {
    #[cfg(not(feature = "rustls"))]
    if proxy.kind() == ProxyKind::Https {
        let _ = tls;
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
    let handshake = ProxyHandshake::new(proxy, target)?;
    let tcp = TcpStream::connect((proxy.host(), proxy.port()))
        .await
        .map_err(unreachable)?;
    tcp.set_nodelay(true).map_err(unreachable)?;
    #[cfg(feature = "rustls")]
    if proxy.kind() == ProxyKind::Https {
        let config = tls.unwrap_or_else(crate::tls_transport::default_client_config);
        let tls_failed = |error: String| ProxyError::Tls {
            proxy: proxy.to_string(),
            error,
        };
        let name = rustls::pki_types::ServerName::try_from(proxy.host().to_owned())
            .map_err(|e| tls_failed(e.to_string()))?;
        let mut tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| tls_failed(e.to_string()))?;
        run(proxy, handshake, &mut tls).await?;
        return Ok(ProxyStream::Tls(Box::new(tls)));
    }
    let mut tcp = tcp;
    run(proxy, handshake, &mut tcp).await?;
    Ok(ProxyStream::Tcp(tcp))
}

/// Moves the negotiation's bytes over `stream` until the tunnel is open.
async fn run<S>(
    proxy: &Proxy,
    mut handshake: ProxyHandshake,
    stream: &mut S,
) -> Result<(), ProxyError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let lost = |e: std::io::Error| ProxyError::Unreachable {
        proxy: proxy.to_string(),
        error: format!("connection lost during the negotiation: {e}"),
    };
    let mut buf = [0u8; READ_CHUNK];
    loop {
        while let Some(out) = handshake.poll_transmit() {
            stream.write_all(&out).await.map_err(lost)?;
        }
        stream.flush().await.map_err(lost)?;
        let n = stream.read(&mut buf).await.map_err(lost)?;
        if n == 0 {
            return Err(handshake.handle_eof());
        }
        if handshake.handle_input(&buf[..n])? == Status::Done {
            return Ok(());
        }
    }
}
