//! Upgrades that hyper answers: `upgrade::negotiate` decides the 101 from
//! the request hyper parsed, `WebSocketStream::from_upgrade` runs the
//! connection with the permessage-deflate it agreed on.

mod common;

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use common::{bounded, listener, read_head, round_trip};
use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use ws_tokio::{CloseCode, Config, DeflateConfig, MaybeTlsStream, Message, WebSocketStream};

fn config(deflate: bool) -> Arc<Config> {
    Arc::new(Config {
        deflate: deflate.then(DeflateConfig::default),
        ..Config::default()
    })
}

/// What the server saw of its one connection.
#[derive(Debug)]
struct Seen {
    deflate: bool,
    protocol: Option<String>,
    /// Bytes read from the upgraded stream.
    read: usize,
}

/// Counts the bytes read through it.
struct Counting<S> {
    io: S,
    read: Arc<AtomicUsize>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        self.read
            .fetch_add(buf.filled().len() - before, Ordering::Relaxed);
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The request head as the core sees it.
fn head<B>(req: &hyper::Request<B>) -> ws_tokio::Request {
    ws_tokio::Request {
        method: req.method().to_string(),
        path: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect(),
    }
}

/// A hyper server for one connection that upgrades it with `config` and
/// echoes; reports what it saw when the connection ends.
async fn hyper_server(listener: TcpListener, config: Arc<Config>) -> oneshot::Receiver<Seen> {
    let (report, seen) = oneshot::channel();
    let report = Arc::new(std::sync::Mutex::new(Some(report)));
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let service = service_fn(move |mut req: hyper::Request<Incoming>| {
            let config = config.clone();
            let report = report.clone();
            async move {
                let negotiated = match ws_tokio::upgrade::negotiate(
                    &head(&req),
                    &config,
                    &["echo.v2", "echo.v1"],
                ) {
                    Ok(n) => n,
                    Err(e) => {
                        let mut res = Response::new(Full::new(Bytes::from(e.to_string())));
                        *res.status_mut() = StatusCode::from_u16(e.status()).unwrap();
                        return Ok::<_, Infallible>(res);
                    }
                };
                let mut res = Response::new(Full::default());
                *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                for (name, value) in negotiated.headers() {
                    res.headers_mut().insert(
                        hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                        hyper::header::HeaderValue::from_str(value).unwrap(),
                    );
                }
                let upgrade = hyper::upgrade::on(&mut req);
                tokio::spawn(async move {
                    let read = Arc::new(AtomicUsize::new(0));
                    let io = Counting {
                        io: TokioIo::new(upgrade.await.unwrap()),
                        read: read.clone(),
                    };
                    let mut ws = WebSocketStream::from_upgrade(io, negotiated, config);
                    let deflate = ws.connection().deflate().is_some();
                    let protocol = ws.protocol().map(str::to_owned);
                    while let Some(Ok(msg)) = ws.next().await {
                        if msg.is_data() {
                            ws.send(msg).await.unwrap();
                        }
                    }
                    let seen = Seen {
                        deflate,
                        protocol,
                        read: read.load(Ordering::Relaxed),
                    };
                    if let Some(report) = report.lock().unwrap().take() {
                        let _ = report.send(seen);
                    }
                });
                Ok(res)
            }
        });
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades()
            .await;
    });
    seen
}

/// Large compressible messages and a short one, both ways, through a
/// server with the `server` config and a client with the `client` one.
async fn exchange(
    server: Arc<Config>,
    client: Arc<Config>,
) -> (WebSocketStream<MaybeTlsStream>, Seen) {
    let (listener, addr) = listener().await;
    let seen = hyper_server(listener, server).await;
    let mut ws = ws_tokio::connect_with_config(&format!("ws://{addr}/ws"), client)
        .await
        .unwrap();
    round_trip(&mut ws, Message::text("{\"k\": \"v\"} ".repeat(100_000))).await;
    round_trip(&mut ws, Message::binary(vec![7; 1 << 20])).await;
    round_trip(&mut ws, Message::text("short")).await;
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    (ws, seen.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_upgrade_negotiates_deflate() {
    bounded(async {
        let (ws, seen) = exchange(config(true), config(true)).await;
        let response = &ws.handshake().unwrap().response;
        assert_eq!(
            response.header_str("Sec-WebSocket-Extensions"),
            Some("permessage-deflate")
        );
        assert!(ws.connection().deflate().is_some());
        assert!(seen.deflate, "{seen:?}");
        assert_eq!(seen.protocol, None);
        // 2.1 MB of messages, compressed to a small fraction.
        assert!(seen.read < 200_000, "{seen:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_upgrade_without_an_offer_is_uncompressed() {
    bounded(async {
        // The server would compress, but the client offers nothing.
        let (ws, seen) = exchange(config(true), config(false)).await;
        let response = &ws.handshake().unwrap().response;
        assert_eq!(response.header_str("Sec-WebSocket-Extensions"), None);
        assert!(ws.connection().deflate().is_none());
        assert!(!seen.deflate, "{seen:?}");
        assert!(seen.read > 2_000_000, "{seen:?}");
        // The client offers, but the server is not configured for it.
        let (ws, seen) = exchange(config(false), config(true)).await;
        let response = &ws.handshake().unwrap().response;
        assert_eq!(response.header_str("Sec-WebSocket-Extensions"), None);
        assert!(!seen.deflate, "{seen:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_upgrade_chooses_a_protocol() {
    bounded(async {
        let (listener, addr) = listener().await;
        let seen = hyper_server(listener, config(true)).await;
        let mut request = ws_tokio::Request::client(&format!("ws://{addr}/ws")).unwrap();
        request.headers.push((
            "Sec-WebSocket-Protocol".into(),
            b"echo.v1, echo.v2".to_vec(),
        ));
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut ws = ws_tokio::client(tcp, request).await.unwrap();
        assert_eq!(ws.protocol(), Some("echo.v2"));
        round_trip(&mut ws, Message::text("hi")).await;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(seen.await.unwrap().protocol.as_deref(), Some("echo.v2"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_refuses_a_bad_upgrade_with_its_status() {
    bounded(async {
        let (listener, addr) = listener().await;
        let _seen = hyper_server(listener, config(true)).await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        )
        .await
        .unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 426"), "{head}");
    })
    .await;
}
