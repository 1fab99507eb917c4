//! The server side: one TLS listener for HTTP/1.1 and HTTP/2, and the
//! WebSocket opening of either version.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, Version};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use ws_proto::{Config, ConnectRequest, ConnectResponse, HandshakeError, Request, Role};

use crate::engine::{Engine, now};
use crate::error::Error;
use crate::stream::WebSocketStream;

/// The body of the responses [`upgrade`] makes, and of the handler's
/// responses under [`serve_tls`] and [`serve_connection`].
pub type Body = Full<Bytes>;

/// The ALPN protocol names [`serve_tls`] offers, in its order of
/// preference: `h2`, then `http/1.1`.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Which HTTP a WebSocket was opened over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpVersion {
    /// An HTTP/1.1 `Upgrade: websocket` (RFC 6455): the WebSocket has the
    /// TCP (or TLS) connection to itself.
    Http11,
    /// An HTTP/2 extended CONNECT (RFC 8441): the WebSocket is one stream
    /// of an HTTP/2 connection, beside others.
    Http2,
}

pub use crate::upgraded::Upgraded;

/// The stream a [`PendingWebSocket`] gives.
pub type WebSocket = WebSocketStream<Upgraded>;

/// Whether `request` opens a WebSocket: an HTTP/1.1 request with
/// `Upgrade: websocket`, or an HTTP/2 CONNECT with `:protocol websocket`.
/// Route such requests to [`upgrade`], the others to your pages.
pub fn is_websocket<B>(request: &http::Request<B>) -> bool {
    match request.version() {
        Version::HTTP_2 => request
            .extensions()
            .get::<hyper::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case(ws_proto::CONNECT_PROTOCOL)),
        _ => request
            .headers()
            .get_all(http::header::UPGRADE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(ws_proto::header_list_items)
            .any(|t| t.eq_ignore_ascii_case("websocket")),
    }
}

/// A WebSocket opening that [`upgrade`] refused: the error, and the HTTP
/// answer for it ([`response`](Self::response)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    error: HandshakeError,
    version: Version,
}

impl Refusal {
    /// What was wrong with the request.
    pub fn error(&self) -> &HandshakeError {
        &self.error
    }

    /// The HTTP status to answer with: 400 for a malformed opening, 405
    /// for a wrong method (not GET in HTTP/1.1, not CONNECT in HTTP/2), 403
    /// for a refused origin, 426 for a WebSocket version other than 13,
    /// 505 for HTTP/1.0.
    pub fn status(&self) -> u16 {
        self.error.status()
    }

    /// The answer: the status, the reason as a `text/plain` body, and
    /// `sec-websocket-version: 13` with a 426.
    pub fn response(&self) -> http::Response<Body> {
        let answer = ConnectResponse::for_error(&self.error);
        let mut response = to_response(answer.status, &answer.headers, answer.body);
        if self.version != Version::HTTP_2 {
            response
                .headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebSocket opening refused: {}", self.error)
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The WebSocket of an accepted opening, once hyper hands over the
/// connection (HTTP/1.1) or the stream (HTTP/2); a future.
///
/// Await it after the response went to hyper, in a task of its own (as
/// hyper sends the response only when the service's future has returned
/// it). It fails when the client went away before.
pub struct PendingWebSocket {
    version: HttpVersion,
    protocol: Option<String>,
    future: Pin<Box<dyn Future<Output = Result<WebSocket, Error>> + Send>>,
}

impl fmt::Debug for PendingWebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingWebSocket")
            .field("version", &self.version)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl PendingWebSocket {
    /// The HTTP the WebSocket was opened over.
    pub fn version(&self) -> HttpVersion {
        self.version
    }

    /// The subprotocol chosen, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }
}

impl Future for PendingWebSocket {
    type Output = Result<WebSocket, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.future.as_mut().poll(cx)
    }
}

fn to_response(status: u16, headers: &ws_proto::Headers, body: Vec<u8>) -> http::Response<Body> {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    for (name, value) in headers {
        // Names and values the core made: always valid.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn headers_of<B>(request: &http::Request<B>) -> ws_proto::Headers {
    request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect()
}

fn path_of<B>(request: &http::Request<B>) -> String {
    request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned()
}

/// Answers a WebSocket opening of either HTTP version with the same
/// checks and negotiation as [`accept_with_config`](crate::accept_with_config)
/// (limits, [`Config::origins`], permessage-deflate from
/// [`Config::deflate`]) and the first of `protocols` (in this server's
/// order of preference) that the client offered:
///
/// - HTTP/1.1: [`negotiate`](crate::upgrade::negotiate), answered with `101`;
/// - HTTP/2: [`ConnectRequest::accept`] (RFC 8441), answered with `200`;
///   the connection must be served with extended CONNECT enabled (as
///   [`serve_tls`] and [`serve_connection`] do).
///
/// Returns the response for hyper and the [`PendingWebSocket`], or a
/// [`Refusal`] whose [`response`](Refusal::response) is the HTTP error to
/// send. Every WebSocket has its own [`Connection`](ws_proto::Connection),
/// so limits, timeouts and back-pressure apply per WebSocket, even among
/// the streams of one HTTP/2 connection.
///
/// ```
/// use std::sync::Arc;
/// use ws_tokio::http2::{upgrade, HttpVersion};
///
/// let mut request = http::Request::builder()
///     .method("CONNECT")
///     .version(http::Version::HTTP_2)
///     .uri("https://example.com/chat")
///     .header("sec-websocket-version", "13")
///     .header("sec-websocket-protocol", "chat")
///     .extension(hyper::ext::Protocol::from_static("websocket"))
///     .body(())
///     .unwrap();
/// let (response, pending) = upgrade(&mut request, Arc::default(), &["chat"]).unwrap();
/// assert_eq!(response.status(), 200);
/// assert_eq!(pending.version(), HttpVersion::Http2);
/// assert_eq!(pending.protocol(), Some("chat"));
///
/// request.headers_mut().insert("sec-websocket-version", "8".parse().unwrap());
/// let refusal = upgrade(&mut request, Arc::default(), &[]).unwrap_err();
/// assert_eq!(refusal.status(), 426);
/// assert_eq!(refusal.response().headers()["sec-websocket-version"], "13");
/// ```
pub fn upgrade<B>(
    request: &mut http::Request<B>,
    config: Arc<Config>,
    protocols: &[&str],
) -> Result<(http::Response<Body>, PendingWebSocket), Refusal> {
    let version = request.version();
    let refuse = |error: HandshakeError| Refusal { error, version };
    match version {
        Version::HTTP_2 => {
            let connect = ConnectRequest {
                method: request.method().as_str().to_owned(),
                protocol: request
                    .extensions()
                    .get::<hyper::ext::Protocol>()
                    .map(|p| p.as_str().to_owned()),
                scheme: request.uri().scheme_str().unwrap_or_default().to_owned(),
                authority: request
                    .uri()
                    .authority()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                path: request
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
                headers: headers_of(request),
            };
            let (answer, agreement) = connect.accept(&config, protocols).map_err(refuse)?;
            let response = to_response(answer.status, &answer.headers, Vec::new());
            let on_upgrade = hyper::upgrade::on(&mut *request);
            let opened = answer.opened(connect);
            let protocol = agreement.protocol.clone();
            let future = async move {
                let upgraded = on_upgrade.await.map_err(upgrade_failed)?;
                let seed = ws_proto::os_seed().map_err(|e| Error::Io(io::Error::other(e)))?;
                let conn = agreement.connection(config, Role::Server, now(), seed);
                let io = Upgraded::new(upgraded);
                Ok(WebSocketStream::from_engine(
                    Engine::new(io, conn),
                    Some(opened),
                ))
            };
            let pending = PendingWebSocket {
                version: HttpVersion::Http2,
                protocol,
                future: Box::pin(future),
            };
            Ok((response, pending))
        }
        Version::HTTP_11 => {
            let head = Request {
                method: request.method().as_str().to_owned(),
                path: path_of(request),
                headers: headers_of(request),
            };
            let negotiated = crate::upgrade::negotiate(&head, &config, protocols)
                .map_err(|e| refuse(e.error().clone()))?;
            let response = to_response(101, &negotiated.response().headers, Vec::new());
            let protocol = negotiated.protocol().map(str::to_owned);
            let on_upgrade = hyper::upgrade::on(&mut *request);
            let future = async move {
                let upgraded = on_upgrade.await.map_err(upgrade_failed)?;
                let io = Upgraded::new(upgraded);
                Ok(WebSocketStream::from_upgrade(io, negotiated, config))
            };
            let pending = PendingWebSocket {
                version: HttpVersion::Http11,
                protocol,
                future: Box::pin(future),
            };
            Ok((response, pending))
        }
        _ => Err(refuse(HandshakeError::HttpVersion)),
    }
}

fn upgrade_failed(e: hyper::Error) -> Error {
    Error::Io(io::Error::other(format!(
        "the connection went away before the WebSocket opened: {e}"
    )))
}

/// Serves one connection with `handler`: HTTP/2 with extended CONNECT
/// enabled (RFC 8441 `SETTINGS_ENABLE_CONNECT_PROTOCOL`) when `http2` (the
/// TLS handshake chose ALPN `h2`), HTTP/1.1 with upgrades otherwise.
/// Resolves when the connection ends. HTTP/2 runs with the windows
/// [`STREAM_WINDOW`](super::STREAM_WINDOW) and
/// [`CONNECTION_WINDOW`](super::CONNECTION_WINDOW) and at most
/// [`MAX_STREAMS`](super::MAX_STREAMS) streams, so that a stream that
/// stops reading holds back no other.
///
/// `handler` answers each request; for a WebSocket ([`is_websocket`]) it
/// calls [`upgrade`], spawns a task that awaits the [`PendingWebSocket`],
/// and returns the response.
pub async fn serve_connection<IO, F, Fut>(io: IO, http2: bool, handler: F) -> Result<(), Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(http::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = http::Response<Body>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let response = handler(request);
        async move { Ok::<_, std::convert::Infallible>(response.await) }
    });
    let io = TokioIo::new(io);
    let served = if http2 {
        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .enable_connect_protocol()
            .initial_stream_window_size(super::STREAM_WINDOW)
            .initial_connection_window_size(super::CONNECTION_WINDOW)
            .max_concurrent_streams(super::MAX_STREAMS)
            .serve_connection(io, service)
            .await
    } else {
        hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .with_upgrades()
            .await
    };
    served.map_err(|e| Error::Io(io::Error::other(format!("HTTP: {e}"))))
}

/// Serves `listener` over TLS until accepting fails: each connection's TLS
/// handshake offers ALPN `h2` and `http/1.1` ([`ALPN`], set on a copy of
/// `tls`), and the connection is served by [`serve_connection`] with the
/// protocol chosen, in a task of its own. So one listener takes HTTP/1.1
/// upgrades and HTTP/2 extended CONNECTs alike, and browsers open their
/// WebSockets over HTTP/2 where they can. A failed TLS handshake (or one
/// slower than 10 s) ends only that connection.
///
/// ```
/// use std::sync::Arc;
/// use ws_tokio::http2::{self, Body};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
/// # let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())?;
/// let tls = rustls::ServerConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
///     .with_safe_default_protocol_versions()?
///     .with_no_client_auth()
///     .with_single_cert(vec![cert.cert.der().clone()], key)?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// tokio::spawn(http2::serve_tls(listener, Arc::new(tls), |mut request| async move {
///     if !http2::is_websocket(&request) {
///         return http::Response::new(Body::from("a page"));
///     }
///     match http2::upgrade(&mut request, Arc::default(), &[]) {
///         Ok((response, pending)) => {
///             tokio::spawn(async move {
///                 let Ok(mut ws) = pending.await else { return };
///                 while let Some(Ok(message)) = ws.recv().await {
///                     if ws.send(message).await.is_err() {
///                         break;
///                     }
///                 }
///             });
///             response
///         }
///         Err(refusal) => refusal.response(),
///     }
/// }));
/// # Ok(())
/// # }
/// ```
pub async fn serve_tls<F, Fut>(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    handler: F,
) -> Result<(), Error>
where
    F: Fn(http::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = http::Response<Body>> + Send + 'static,
{
    let mut tls = (*tls).clone();
    tls.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let handler = handler.clone();
        tokio::spawn(async move {
            let limit = std::time::Duration::from_secs(10);
            let tls = match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return log::debug!("ws-tokio: TLS handshake with {peer}: {e}"),
                Err(_) => return log::debug!("ws-tokio: TLS handshake with {peer} timed out"),
            };
            let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            if let Err(e) = serve_connection(tls, http2, handler).await {
                log::debug!("ws-tokio: connection with {peer}: {e}");
            }
        });
    }
}
