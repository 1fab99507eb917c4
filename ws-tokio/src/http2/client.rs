//! The client side: many WebSockets on one HTTP/2 connection, or HTTP/1.1
//! when the server does not take extended CONNECTs.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Version};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use ws_proto::{Config, ConnectRequest, ConnectResponse, HandshakeError, Request, Role};

use crate::engine::{Engine, now};
use crate::error::Error;
use crate::maybe_tls::MaybeTlsStream;
use crate::stream::WebSocketStream;
use crate::tls_transport::{server_name, tls_connect};

/// One HTTP/2 stream as a tokio byte stream: DATA frames in and out, with
/// HTTP/2 flow control (a received frame's window is given back as soon
/// as it is read, so a WebSocket that stops reading stops its own stream
/// only). Shutting down the writing half ends the stream (END_STREAM);
/// dropping it unfinished resets it (RST_STREAM CANCEL), which no other
/// stream of the connection notices.
pub struct Http2Stream {
    send: h2::SendStream<Bytes>,
    recv: h2::RecvStream,
    /// Received and not yet read.
    pending: Bytes,
}

impl fmt::Debug for Http2Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http2Stream")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

fn h2_io(e: h2::Error) -> io::Error {
    if e.is_io() {
        e.into_io()
            .unwrap_or_else(|| io::Error::other("HTTP/2 I/O error"))
    } else {
        io::Error::new(io::ErrorKind::ConnectionReset, format!("HTTP/2: {e}"))
    }
}

impl Http2Stream {
    /// Resets the stream with `CANCEL` at once (RFC 9113 section 8.7): the
    /// peer sees its WebSocket's transport fail; the other streams of the
    /// connection go on.
    pub fn reset(&mut self) {
        self.send.send_reset(h2::Reason::CANCEL);
    }
}

impl AsyncRead for Http2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.pending.is_empty() {
                let n = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // The window back at once: what waits unread is
                    // bounded by one frame here and by the connection's
                    // own read limits above.
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    this.pending = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(h2_io(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl AsyncWrite for Http2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let send = &mut self.send;
        send.reserve_capacity(buf.len());
        let capacity = match send.capacity() {
            0 => match ready!(send.poll_capacity(cx)) {
                Some(Ok(n)) => n,
                Some(Err(e)) => return Poll::Ready(Err(h2_io(e))),
                None => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the HTTP/2 stream is closed or was reset",
                    )));
                }
            },
            n => n,
        };
        let n = capacity.min(buf.len());
        send.send_data(Bytes::copy_from_slice(&buf[..n]), false)
            .map_err(h2_io)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The h2 connection task writes what was sent as fast as it can.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Ending an already ended or reset stream is not an error here.
        let _ = self.send.send_data(Bytes::new(), true);
        Poll::Ready(Ok(()))
    }
}

/// The transport under a WebSocket that [`Http2Client::open`] opened: a
/// stream of the shared HTTP/2 connection, or a connection of its own after
/// the fallback to HTTP/1.1.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// One stream of the HTTP/2 connection (RFC 8441).
    Http2(Http2Stream),
    /// An HTTP/1.1 connection of its own (RFC 6455), TLS for `wss://`.
    Http11(MaybeTlsStream),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut *$self {
            ClientStream::Http2($s) => {
                let $s = Pin::new($s);
                $e
            }
            ClientStream::Http11($s) => {
                let $s = Pin::new($s);
                $e
            }
        }
    };
}

impl AsyncRead for ClientStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Http2(_) => false,
            Self::Http11(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_shutdown(cx))
    }
}

#[derive(Clone)]
enum Mode {
    /// The server took extended CONNECTs: each WebSocket is a stream.
    Http2(h2::client::SendRequest<Bytes>),
    /// It did not (or spoke no HTTP/2): each WebSocket dials a connection
    /// of its own and upgrades it; TLS offers only `http/1.1` then.
    Http11,
}

/// A client for many WebSockets to one server (the scheme, host and port
/// of a `wss://` URL) over one HTTP/2 connection (RFC 8441), falling back
/// to HTTP/1.1 when the server does not advertise extended CONNECT.
///
/// [`connect`](Self::connect) dials the server with ALPN `h2` and
/// `http/1.1`. When the server chooses `h2` and its SETTINGS enable the
/// CONNECT protocol, every [`open`](Self::open) is a new stream on that
/// connection; otherwise every `open` is an HTTP/1.1 upgrade on a
/// connection of its own. `ws://` URLs always take HTTP/1.1 (there is no
/// ALPN without TLS).
///
/// Each WebSocket has its own [`Connection`](ws_proto::Connection): its
/// limits, timeouts and back-pressure are its own, and closing or resetting
/// one stream leaves its siblings alone. The HTTP/2 windows are
/// [`STREAM_WINDOW`](super::STREAM_WINDOW) and
/// [`CONNECTION_WINDOW`](super::CONNECTION_WINDOW), so up to
/// [`MAX_STREAMS`](super::MAX_STREAMS) WebSockets that stop reading hold
/// back no sibling. The HTTP/2 connection lives as
/// long as this client (or a clone) or one of its WebSockets does.
///
/// ```
/// # use std::sync::Arc;
/// # use ws_tokio::http2::{self, Body, Http2Client};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
/// # let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())?;
/// # let tls = rustls::ServerConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
/// #     .with_safe_default_protocol_versions()?
/// #     .with_no_client_auth()
/// #     .with_single_cert(vec![cert.cert.der().clone()], key)?;
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let port = listener.local_addr()?.port();
/// # tokio::spawn(http2::serve_tls(listener, Arc::new(tls), |mut request| async move {
/// #     match http2::upgrade(&mut request, Arc::default(), &[]) {
/// #         Ok((response, pending)) => {
/// #             tokio::spawn(async move {
/// #                 let Ok(mut ws) = pending.await else { return };
/// #                 while let Some(Ok(m)) = ws.recv().await { let _ = ws.send(m).await; }
/// #             });
/// #             response
/// #         }
/// #         Err(refusal) => refusal.response(),
/// #     }
/// # }));
/// # let mut roots = rustls::RootCertStore::empty();
/// # roots.add(cert.cert.der().clone())?;
/// // A client configuration that trusts the server (here a test certificate).
/// let tls = rustls::ClientConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
///     .with_safe_default_protocol_versions()?
///     .with_root_certificates(roots)
///     .with_no_client_auth();
/// let url = format!("wss://localhost:{port}/");
/// let client = Http2Client::connect(&url, Some(Arc::new(tls)), Arc::default()).await?;
/// assert!(client.is_http2());
/// // Two WebSockets, one HTTP/2 connection.
/// let mut a = client.open("/a", &[]).await?;
/// let mut b = client.open("/b", &[]).await?;
/// a.send("to a").await?;
/// b.send("to b").await?;
/// assert_eq!(b.recv().await.unwrap()?.as_text(), Some("to b"));
/// assert_eq!(a.recv().await.unwrap()?.as_text(), Some("to a"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Http2Client {
    mode: Mode,
    origin: url::Url,
    tls: Option<Arc<rustls::ClientConfig>>,
    config: Arc<Config>,
}

impl fmt::Debug for Http2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http2Client")
            .field("origin", &self.origin.as_str())
            .field("http2", &self.is_http2())
            .finish_non_exhaustive()
    }
}

/// The client's TLS configuration with these ALPN names.
fn with_alpn(tls: &Option<Arc<rustls::ClientConfig>>, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut tls = match tls {
        Some(tls) => (**tls).clone(),
        None => (*crate::tls_transport::default_client_config()).clone(),
    };
    tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(tls)
}

fn h2_error(e: h2::Error) -> Error {
    Error::Io(h2_io(e))
}

impl Http2Client {
    /// Dials the server of `url` (`wss://`, or `ws://` for HTTP/1.1 only)
    /// and finds out whether it takes WebSockets over HTTP/2: TLS with
    /// ALPN `h2` and `http/1.1` (with `tls`, or the default roots when
    /// `None`), and when the server chose `h2`, the HTTP/2 handshake and a
    /// PING, whose answer comes after the server's SETTINGS (RFC 9113
    /// section 3.4: they are its first frame), so that
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` is known. All of it within
    /// [`Config::handshake_timeout`]. Only the scheme, host and port of
    /// `url` are used.
    pub async fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        config: Arc<Config>,
    ) -> Result<Self, Error> {
        let origin = url::Url::parse(url).map_err(|e| HandshakeError::Url(e.to_string()))?;
        // The URL's checks (scheme, host) once, here.
        ConnectRequest::client_for_url(&origin)?;
        let mode = if origin.scheme() == "wss" {
            let limit = config.handshake_timeout;
            let probe = Self::probe(&origin, with_alpn(&tls, &crate::http2::ALPN), limit);
            tokio::time::timeout(limit, probe)
                .await
                .map_err(|_| Error::Timeout(ws_proto::TimeoutKind::Handshake))??
        } else {
            Mode::Http11
        };
        Ok(Self {
            mode,
            origin,
            tls,
            config,
        })
    }

    async fn probe(
        origin: &url::Url,
        tls: Arc<rustls::ClientConfig>,
        limit: std::time::Duration,
    ) -> Result<Mode, Error> {
        let stream = Self::tls(origin, tls, limit).await?;
        if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
            log::debug!("ws-tokio: {origin} chose no HTTP/2: WebSockets over HTTP/1.1");
            return Ok(Mode::Http11);
        }
        // The windows of the server side (see CONNECTION_WINDOW): one
        // WebSocket that stops reading stalls its own stream only.
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(super::STREAM_WINDOW)
            .initial_connection_window_size(super::CONNECTION_WINDOW)
            .handshake(stream)
            .await
            .map_err(h2_error)?;
        let mut ping = connection
            .ping_pong()
            .ok_or_else(|| Error::Io(io::Error::other("HTTP/2 PING already taken")))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                log::debug!("ws-tokio: HTTP/2 connection ended: {e}");
            }
        });
        ping.ping(h2::Ping::opaque()).await.map_err(h2_error)?;
        if send.is_extended_connect_protocol_enabled() {
            Ok(Mode::Http2(send))
        } else {
            log::debug!(
                "ws-tokio: {origin} speaks HTTP/2 without extended CONNECT: WebSockets over HTTP/1.1"
            );
            Ok(Mode::Http11)
        }
    }

    async fn tls(
        origin: &url::Url,
        tls: Arc<rustls::ClientConfig>,
        limit: std::time::Duration,
    ) -> Result<Box<tokio_rustls::client::TlsStream<TcpStream>>, Error> {
        let tcp = Self::tcp(origin).await?;
        tls_connect(tcp, server_name(origin)?, tls, limit).await
    }

    async fn tcp(origin: &url::Url) -> Result<TcpStream, Error> {
        let host = match origin.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Err(HandshakeError::Url("no host".into()).into()),
        };
        let port = origin.port_or_known_default().unwrap_or(443);
        let tcp = TcpStream::connect((host.as_str(), port)).await?;
        let _ = tcp.set_nodelay(true);
        Ok(tcp)
    }

    /// Whether WebSockets go over the HTTP/2 connection (`false`: each
    /// over HTTP/1.1 on a connection of its own).
    pub fn is_http2(&self) -> bool {
        matches!(self.mode, Mode::Http2(_))
    }

    /// Opens one more WebSocket to `path` (path and query, such as
    /// `/chat?room=1`), offering `protocols` and, with [`Config::deflate`],
    /// permessage-deflate: an extended CONNECT on the HTTP/2 connection,
    /// or an HTTP/1.1 upgrade on a new connection after the fallback.
    /// Within [`Config::handshake_timeout`]. A refusal is
    /// [`Error::Handshake`] with [`HandshakeError::ConnectStatus`] (HTTP/2)
    /// or [`HandshakeError::Status`] (HTTP/1.1).
    pub async fn open(
        &self,
        path: &str,
        protocols: &[&str],
    ) -> Result<WebSocketStream<ClientStream>, Error> {
        let url = self
            .origin
            .join(path)
            .map_err(|e| HandshakeError::Url(e.to_string()))?;
        let limit = self.config.handshake_timeout;
        let open = async {
            match &self.mode {
                Mode::Http2(send) => self.open_http2(send.clone(), &url, protocols).await,
                Mode::Http11 => self.open_http11(&url, protocols).await,
            }
        };
        let mut ws = tokio::time::timeout(limit, open)
            .await
            .map_err(|_| Error::Timeout(ws_proto::TimeoutKind::Handshake))??;
        ws.set_url(url);
        Ok(ws)
    }

    async fn open_http2(
        &self,
        send: h2::client::SendRequest<Bytes>,
        url: &url::Url,
        protocols: &[&str],
    ) -> Result<WebSocketStream<ClientStream>, Error> {
        let mut connect = ConnectRequest::client_for_url(url)?;
        connect.offer(&self.config, protocols);
        let uri = format!("{}://{}{}", connect.scheme, connect.authority, connect.path);
        let mut request = http::Request::builder()
            .method(Method::CONNECT)
            .version(Version::HTTP_2)
            .uri(uri)
            .extension(h2::ext::Protocol::from(ws_proto::CONNECT_PROTOCOL))
            .body(())
            .map_err(|e| HandshakeError::Url(e.to_string()))?;
        for (name, value) in &connect.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HandshakeError::InvalidHeader("a request header name"))?;
            let value = HeaderValue::from_bytes(value)
                .map_err(|_| HandshakeError::InvalidHeader("a request header value"))?;
            request.headers_mut().append(name, value);
        }
        let mut send = send.ready().await.map_err(h2_error)?;
        let (response, stream) = send.send_request(request, false).map_err(h2_error)?;
        let response = response.await.map_err(h2_error)?;
        let answer = ConnectResponse {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect(),
            body: Vec::new(),
        };
        let agreement = answer.check(&connect, &self.config)?;
        let seed = ws_proto::os_seed().map_err(|e| Error::Io(io::Error::other(e)))?;
        let conn = agreement.connection(self.config.clone(), Role::Client, now(), seed);
        let io = ClientStream::Http2(Http2Stream {
            send: stream,
            recv: response.into_body(),
            pending: Bytes::new(),
        });
        let opened = answer.opened(connect);
        Ok(WebSocketStream::from_engine(
            Engine::new(io, conn),
            Some(opened),
        ))
    }

    async fn open_http11(
        &self,
        url: &url::Url,
        protocols: &[&str],
    ) -> Result<WebSocketStream<ClientStream>, Error> {
        let mut request = Request::client_for_url(url)?;
        if !protocols.is_empty() {
            request.headers.push((
                "Sec-WebSocket-Protocol".into(),
                protocols.join(", ").into_bytes(),
            ));
        }
        let stream = if url.scheme() == "wss" {
            let tls = with_alpn(&self.tls, &[b"http/1.1"]);
            MaybeTlsStream::Rustls(Self::tls(url, tls, self.config.handshake_timeout).await?)
        } else {
            MaybeTlsStream::Plain(Self::tcp(url).await?)
        };
        let ws = crate::handshake::client_with_config(
            ClientStream::Http11(stream),
            request,
            self.config.clone(),
        )
        .await?;
        Ok(ws)
    }
}
