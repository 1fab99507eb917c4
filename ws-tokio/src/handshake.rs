//! The opening handshake on either side, run to completion before a
//! [`WebSocketStream`] exists.
//!
//! The core builds, parses and checks both heads; this module only moves
//! bytes, hands the request to the caller's callback and passes its answer
//! back to the core.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use ws_proto::proxy::{ProxySetting, proxy_for_url};
use ws_proto::{
    Accept, Config, Connection, Event, HandshakeError, Opened, Request, Response, StateError,
};

use crate::engine::{Engine, now};
use crate::error::Error;
use crate::maybe_tls::MaybeTlsStream;
use crate::proxy::ProxyStream;
use crate::stream::WebSocketStream;

/// Accepts a WebSocket connection on `stream` with the default [`Config`]:
/// reads the client's upgrade request, answers 101 and returns the open
/// connection.
///
/// A request that is not a valid upgrade is answered by the core with the
/// matching HTTP error (400, 405, 426 ...) and fails with
/// [`Error::Handshake`]. The whole handshake is bounded by
/// `Config::handshake_timeout` (10 s by default; the client then gets a 408).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let (tcp, _) = listener.accept().await?;
/// let ws = ws_tokio::accept(tcp).await?;
/// # Ok(())
/// # }
/// ```
pub async fn accept<S>(stream: S) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with_config(stream, Arc::default()).await
}

/// [`accept`] with a [`Config`] (limits and deadlines).
///
/// ```no_run
/// use std::{sync::Arc, time::Duration};
/// use ws_tokio::Config;
///
/// # async fn run(tcp: tokio::net::TcpStream) -> Result<(), ws_tokio::Error> {
/// let config = Arc::new(Config {
///     max_message_size: 1 << 20,
///     keepalive_interval: Some(Duration::from_secs(30)),
///     ..Config::default()
/// });
/// let ws = ws_tokio::accept_with_config(tcp, config).await?;
/// # Ok(())
/// # }
/// ```
pub async fn accept_with_config<S>(
    stream: S,
    config: Arc<Config>,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, config, |_: &Request| Ok(Accept::default())).await
}

/// [`accept_with_config`], letting `callback` look at the request first and
/// answer it: `Ok(Accept)` to accept (choosing a subprotocol the client
/// offered, adding headers to the 101), or `Err(Response)` to refuse with
/// any status, headers and body.
///
/// The callback sees every request, including ones that are not WebSocket
/// upgrades at all ([`Request::validate_upgrade`] tells), so a server can
/// answer a plain HTTP page with `Err(Response)`. If it accepts a request
/// that is not a valid upgrade, the core answers with the matching error
/// instead.
///
/// Fails with [`Error::Rejected`] when the callback refused (after sending
/// its response), and with [`Error::InvalidAccept`] when its answer could
/// not be used (a subprotocol that was not offered, an invalid header): the
/// client then gets a 500.
///
/// ```no_run
/// use ws_tokio::{Accept, Request, Response};
///
/// # async fn run(tcp: tokio::net::TcpStream) -> Result<(), ws_tokio::Error> {
/// let ws = ws_tokio::accept_with(tcp, Default::default(), |req: &Request| {
///     if req.path_only() != "/chat" {
///         return Err(Response::new(404));
///     }
///     let protocol = req.protocols().find(|p| *p == "chat.v1").map(str::to_owned);
///     Ok(Accept { protocol, ..Accept::default() })
/// })
/// .await?;
/// assert_eq!(ws.request().map(|r| r.path_only()), Some("/chat"));
/// # Ok(())
/// # }
/// ```
pub async fn accept_with<S, F>(
    stream: S,
    config: Arc<Config>,
    callback: F,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Response>,
{
    accept_from(stream, None, config, callback).await
}

/// [`accept_with`] for a client whose address is known (for the
/// connection's `tracing` span).
pub(crate) async fn accept_from<S, F>(
    stream: S,
    peer: Option<SocketAddr>,
    config: Arc<Config>,
    callback: F,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Response>,
{
    // The handshake's state is large and needed only until the connection
    // opens: boxed, it is freed then, and the caller's future (held for
    // the connection's whole life) stays small.
    Box::pin(serve_handshake(stream, peer, config, callback)).await
}

async fn serve_handshake<S, F>(
    stream: S,
    peer: Option<SocketAddr>,
    config: Arc<Config>,
    callback: F,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Response>,
{
    let seed = ws_proto::os_seed().map_err(std::io::Error::from)?;
    let conn = Connection::server(config, now(), seed);
    let mut engine = Engine::new(stream, conn);
    engine.trace.set_peer(peer);
    let scope = engine.trace.scope();
    let mut callback = Some(callback);
    let mut request = None;
    let mut invalid = None;
    loop {
        while let Some(event) = engine.conn.poll_event() {
            match event {
                Event::Request(req) => {
                    // The core hands out exactly one request.
                    let Some(callback) = callback.take() else {
                        continue;
                    };
                    let now = now();
                    let answered = match callback(&req) {
                        Ok(accept) => engine.conn.accept(now, accept),
                        Err(response) => engine.conn.reject(now, response),
                    };
                    if let Err(e) = answered {
                        invalid = Some(e);
                        // A plain 500 has no header that could be refused.
                        let _ = engine.conn.reject(now, Response::new(500));
                    }
                    request = Some(req);
                }
                Event::Open(opened) => {
                    let opened = Opened {
                        request: request.take(),
                        response: opened.response,
                    };
                    return opened_stream(engine, opened).await;
                }
                Event::Closed(closed) => {
                    let io_error = engine.io_error.take();
                    finish(&mut engine).await;
                    let error = failure(invalid, io_error, closed.error);
                    engine.trace.handshake_failed(&error);
                    return Err(error);
                }
                // Nothing else comes before the connection opens.
                _ => {}
            }
        }
        poll_fn(|cx| scope.run(|| engine.poll_progress(cx, usize::MAX, None))).await;
    }
}

/// Runs the client handshake over `stream`, which is already connected to
/// the server (a `TcpStream`, a TLS stream, an in-memory duplex ...), with
/// the default [`Config`].
///
/// `request` is usually [`Request::client`]`(url)`, to which headers can
/// be added (`Origin`, `Sec-WebSocket-Protocol`, cookies ...); the core adds
/// `Sec-WebSocket-Key` and the other upgrade headers that are missing.
///
/// Fails with [`Error::Handshake`] when the server's response is not a
/// valid 101 for this request ([`HandshakeError::Status`] carries the
/// status of a refusal).
///
/// ```no_run
/// use ws_tokio::Request;
///
/// # async fn run() -> Result<(), ws_tokio::Error> {
/// let tcp = tokio::net::TcpStream::connect("127.0.0.1:9001").await?;
/// let mut request = Request::client("ws://127.0.0.1:9001/chat")?;
/// request.headers.push(("Sec-WebSocket-Protocol".into(), b"chat.v1".to_vec()));
/// let ws = ws_tokio::client(tcp, request).await?;
/// assert_eq!(ws.protocol(), Some("chat.v1"));
/// # Ok(())
/// # }
/// ```
pub async fn client<S>(stream: S, request: Request) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    client_with_config(stream, request, Arc::default()).await
}

/// [`client`] with a [`Config`] (limits and deadlines).
pub async fn client_with_config<S>(
    stream: S,
    request: Request,
    config: Arc<Config>,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    client_to(stream, None, request, config).await
}

/// [`client_with_config`] to a server whose address is known (for the
/// connection's `tracing` span).
async fn client_to<S>(
    stream: S,
    peer: Option<SocketAddr>,
    request: Request,
    config: Arc<Config>,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Boxed for the reason given in `accept_from`.
    Box::pin(client_handshake(stream, peer, request, config)).await
}

async fn client_handshake<S>(
    stream: S,
    peer: Option<SocketAddr>,
    request: Request,
    config: Arc<Config>,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let seed = ws_proto::os_seed().map_err(std::io::Error::from)?;
    let conn = Connection::client(config, request, now(), seed);
    let mut engine = Engine::new(stream, conn);
    engine.trace.set_peer(peer);
    let scope = engine.trace.scope();
    loop {
        while let Some(event) = engine.conn.poll_event() {
            match event {
                Event::Open(opened) => return opened_stream(engine, opened).await,
                Event::Closed(closed) => {
                    let io_error = engine.io_error.take();
                    finish(&mut engine).await;
                    let error = failure(None, io_error, closed.error);
                    engine.trace.handshake_failed(&error);
                    return Err(error);
                }
                _ => {}
            }
        }
        poll_fn(|cx| scope.run(|| engine.poll_progress(cx, usize::MAX, None))).await;
    }
}

/// Connects to a `ws://` or `wss://` URL and runs the client handshake,
/// with the default [`Config`].
///
/// For `wss://` (with the `rustls` feature), a TLS handshake runs between
/// the TCP connect and the WebSocket handshake: rustls sends the host name
/// as SNI and checks the server's certificate against the webpki root
/// certificates and the host name (`tls::default_client_config`);
/// a failure is [`Error::Tls`]. Without the feature, `wss://` URLs fail
/// with [`Error::TlsNotSupported`], whose message names the feature. To
/// trust other roots, use `connect_with_tls`.
///
/// The TCP connect is bounded by `Config::handshake_timeout`, and so are
/// the TLS handshake and the WebSocket handshake after it. To add headers
/// to the request, connect the stream yourself and use [`client`].
///
/// The proxy comes from the environment, as curl reads it (`HTTPS_PROXY`
/// for `wss://`, `HTTP_PROXY` for `ws://`, `ALL_PROXY`, `NO_PROXY`; see
/// [`ws_proto::proxy::proxy_for_url`]); without those variables the
/// connection is direct. [`Connector`](crate::Connector) sets a proxy
/// explicitly or turns the environment off. A proxy that cannot be used is
/// [`Error::Proxy`].
///
/// Redirects (301, 302, 303, 307, 308 with a `Location`) are followed, up to
/// [`DEFAULT_MAX_REDIRECTS`](ws_proto::redirect::DEFAULT_MAX_REDIRECTS)
/// (10, as Python's `websockets`; browsers follow none), each hop with its
/// own handshake timeout; never from `wss://` to `ws://`, never in a loop
/// (see [`ws_proto::redirect`]). [`Connector::max_redirects`](crate::Connector::max_redirects)
/// changes the limit.
///
/// ```no_run
/// # async fn run() -> Result<(), ws_tokio::Error> {
/// let mut ws = ws_tokio::connect("ws://127.0.0.1:9001/").await?;
/// ws.send("hello").await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<WebSocketStream<MaybeTlsStream>, Error> {
    connect_with_config(url, Arc::default()).await
}

/// [`connect`] with a [`Config`] (limits and deadlines).
pub async fn connect_with_config(
    url: &str,
    config: Arc<Config>,
) -> Result<WebSocketStream<MaybeTlsStream>, Error> {
    connect_inner(url, config, None).await
}

/// The client TLS configuration given by the caller, if any. Without the
/// `rustls` feature nobody can give one.
#[cfg(feature = "rustls")]
pub(crate) type ClientTls = Option<Arc<rustls::ClientConfig>>;
#[cfg(not(feature = "rustls"))]
pub(crate) type ClientTls = Option<std::convert::Infallible>;

pub(crate) async fn connect_inner(
    url: &str,
    config: Arc<Config>,
    client_tls: ClientTls,
) -> Result<WebSocketStream<MaybeTlsStream>, Error> {
    let route = Route {
        proxy: &ProxySetting::Environment,
        max_redirects: ws_proto::redirect::DEFAULT_MAX_REDIRECTS,
    };
    connect_via(url, config, client_tls, route).await
}

/// How a client reaches its server: the proxy setting and the redirects
/// it follows.
#[derive(Clone, Copy)]
pub(crate) struct Route<'a> {
    pub(crate) proxy: &'a ProxySetting,
    pub(crate) max_redirects: usize,
}

/// [`connect_inner`] with the proxy setting (direct, through an explicit
/// proxy, or through the one the environment names for each URL) and the
/// redirects followed (each hop has its own handshake timeout).
pub(crate) async fn connect_via(
    url: &str,
    config: Arc<Config>,
    client_tls: ClientTls,
    route: Route<'_>,
) -> Result<WebSocketStream<MaybeTlsStream>, Error> {
    let mut url = url::Url::parse(url).map_err(|e| HandshakeError::Url(e.to_string()))?;
    let mut visited = Vec::new();
    loop {
        // (Without `rustls`, `ClientTls` is `Copy`: the clone is for the feature.)
        #[allow(clippy::clone_on_copy)]
        let attempt = connect_once(&url, config.clone(), client_tls.clone(), route.proxy);
        match Box::pin(attempt).await {
            Err(Error::Handshake(HandshakeError::Redirect { location, .. })) => {
                visited.push(url.clone());
                url = ws_proto::redirect::next_url(&url, &location, &visited, route.max_redirects)?;
            }
            Ok(mut ws) => {
                ws.set_url(url);
                return Ok(ws);
            }
            failed => return failed,
        }
    }
}

/// One connect, without following a redirect.
async fn connect_once(
    url: &url::Url,
    config: Arc<Config>,
    client_tls: ClientTls,
    proxy: &ProxySetting,
) -> Result<WebSocketStream<MaybeTlsStream>, Error> {
    let secure = match url.scheme() {
        "ws" => false,
        "wss" => true,
        other => {
            return Err(HandshakeError::Url(format!("scheme {other:?} is not ws or wss")).into());
        }
    };
    #[cfg(not(feature = "rustls"))]
    if secure {
        return Err(Error::TlsNotSupported);
    }
    let request = Request::client_for_url(url)?;
    #[cfg(feature = "rustls")]
    let name = if secure {
        Some(crate::tls_transport::server_name(url)?)
    } else {
        None
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let host = match url.host() {
        Some(url::Host::Domain(host)) => host.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(HandshakeError::Url("no host".into()).into()),
    };
    let proxy = proxy_for_url(secure, &host, proxy, |name| std::env::var(name).ok())
        .map_err(|e| Error::Proxy(Box::new(e)))?;
    let limit = config.handshake_timeout;
    let stream = match &proxy {
        // The tunnel leads to the server: TLS and the upgrade run inside it
        // as over a direct connection, for the server's name.
        #[cfg(feature = "rustls")]
        Some(proxy) => {
            let tls = client_tls
                .clone()
                .unwrap_or_else(crate::tls_transport::default_client_config);
            crate::proxy::open_tunnel_with_tls(proxy, &host, port, limit, tls).await?
        }
        #[cfg(not(feature = "rustls"))]
        Some(proxy) => crate::proxy::open_tunnel(proxy, &host, port, limit).await?,
        None => ProxyStream::Tcp(connect_direct(url, port, limit).await?),
    };
    // Small frames (pongs, close echoes) should not wait for Nagle.
    stream.tcp().set_nodelay(true)?;
    // The server's address, or the proxy's when tunneling.
    let peer = stream.tcp().peer_addr().ok();
    #[cfg(feature = "rustls")]
    let stream = {
        use crate::tls_transport::{default_client_config, tls_connect};
        let tls = || client_tls.unwrap_or_else(default_client_config);
        match (stream, name) {
            (ProxyStream::Tcp(tcp), None) => MaybeTlsStream::Plain(tcp),
            (ProxyStream::Tcp(tcp), Some(name)) => {
                MaybeTlsStream::Rustls(tls_connect(tcp, name, tls(), limit).await?)
            }
            (ProxyStream::Tls(to_proxy), None) => MaybeTlsStream::ProxyTls(to_proxy),
            (ProxyStream::Tls(to_proxy), Some(name)) => {
                MaybeTlsStream::RustlsInProxyTls(tls_connect(*to_proxy, name, tls(), limit).await?)
            }
        }
    };
    #[cfg(not(feature = "rustls"))]
    let stream = {
        let _ = (secure, client_tls);
        match stream {
            ProxyStream::Tcp(tcp) => MaybeTlsStream::Plain(tcp),
        }
    };
    client_to(stream, peer, request, config).await
}

/// The TCP connect straight to the server of `url`.
async fn connect_direct(url: &url::Url, port: u16, limit: Duration) -> Result<TcpStream, Error> {
    match url.host() {
        Some(url::Host::Domain(host)) => connect_tcp(TcpStream::connect((host, port)), limit).await,
        Some(url::Host::Ipv4(ip)) => connect_tcp(TcpStream::connect((ip, port)), limit).await,
        Some(url::Host::Ipv6(ip)) => connect_tcp(TcpStream::connect((ip, port)), limit).await,
        None => Err(HandshakeError::Url("no host".into()).into()),
    }
}

async fn connect_tcp(
    connecting: impl Future<Output = std::io::Result<TcpStream>>,
    limit: Duration,
) -> Result<TcpStream, Error> {
    match tokio::time::timeout(limit, connecting).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "TCP connect took longer than the handshake timeout",
        ))),
    }
}

/// The handshake succeeded: write whatever the core queued (the server's
/// 101, messages sent before opening) and hand the engine to a stream. The
/// events after `Open` (early frames) stay in the core for the stream.
async fn opened_stream<S>(
    mut engine: Engine<S>,
    opened: Opened,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Err(e) = poll_fn(|cx| engine.poll_write_out(cx)).await {
        return Err(Error::Io(e));
    }
    Ok(WebSocketStream::from_engine(engine, Some(opened)))
}

/// After a failed handshake: write the core's answer (an HTTP error on a
/// server) and shut the transport down, within the close timeout.
async fn finish<S>(engine: &mut Engine<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limit = engine.conn.config().close_timeout;
    let _ = tokio::time::timeout(limit, poll_fn(|cx| engine.poll_write_out(cx))).await;
}

/// The error for a handshake that ended without opening.
fn failure(
    invalid: Option<StateError>,
    io_error: Option<std::io::Error>,
    core: Option<ws_proto::Error>,
) -> Error {
    if let Some(e) = invalid {
        return Error::InvalidAccept(e);
    }
    if let Some(e) = io_error {
        return Error::Io(e);
    }
    match core {
        Some(e) => e.into(),
        // The core always says why a connection that never opened ended.
        None => Error::UnexpectedEof,
    }
}
