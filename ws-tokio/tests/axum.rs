//! The axum extractor (feature `axum`): an axum server on a loopback port
//! upgrades requests to `WebSocketStream`s, with and without
//! permessage-deflate, and refuses bad upgrades with a 4xx.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::{any, get};
use common::{bounded, listener, read_head, round_trip};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use ws_tokio::axum::WebSocketUpgrade;
use ws_tokio::{CloseCode, Config, DeflateConfig, Message, Request};

fn config(deflate: bool) -> Arc<Config> {
    Arc::new(Config {
        deflate: deflate.then(DeflateConfig::default),
        ..Config::default()
    })
}

/// What the server saw of one connection.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    deflate: bool,
    protocol: Option<String>,
}

/// An upgrading echo handler with `config` (when given) that reports each
/// connection it ran.
async fn echo(
    ws: WebSocketUpgrade,
    config: Option<Arc<Config>>,
    seen: mpsc::Sender<Seen>,
) -> Response {
    let ws = ws.protocols(["chat.v2", "chat.v1"]);
    let ws = match config {
        Some(config) => ws.config(config),
        None => ws,
    };
    ws.on_upgrade(move |mut socket| async move {
        let _ = seen
            .send(Seen {
                deflate: socket.connection().deflate().is_some(),
                protocol: socket.protocol().map(str::to_owned),
            })
            .await;
        while let Some(Ok(msg)) = socket.recv().await {
            if msg.is_data() && socket.send(msg).await.is_err() {
                break;
            }
        }
    })
}

/// An axum server: `/deflate` compresses for clients that offer it,
/// `/plain` keeps the default config, `/any` takes every method.
async fn server() -> (SocketAddr, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel(16);
    let (deflate_tx, plain_tx, any_tx) = (tx.clone(), tx.clone(), tx);
    let app = Router::new()
        .route(
            "/deflate",
            get(move |ws: WebSocketUpgrade| echo(ws, Some(config(true)), deflate_tx.clone())),
        )
        .route(
            "/plain",
            get(move |ws: WebSocketUpgrade| echo(ws, None, plain_tx.clone())),
        )
        .route(
            "/any",
            any(move |ws: WebSocketUpgrade| echo(ws, Some(config(true)), any_tx.clone())),
        );
    let (listener, addr) = listener().await;
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}

/// Large compressible messages and a short one, both ways.
async fn exchange(addr: SocketAddr, path: &str, offer: bool) -> (Option<String>, bool) {
    let mut ws = ws_tokio::connect_with_config(&format!("ws://{addr}{path}"), config(offer))
        .await
        .unwrap();
    let extensions = ws
        .handshake()
        .unwrap()
        .response
        .header_str("Sec-WebSocket-Extensions")
        .map(str::to_owned);
    let deflate = ws.connection().deflate().is_some();
    round_trip(&mut ws, Message::text("{\"k\": \"v\"} ".repeat(100_000))).await;
    round_trip(&mut ws, Message::binary(vec![7; 1 << 20])).await;
    round_trip(&mut ws, Message::text("short")).await;
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    (extensions, deflate)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_upgrade_with_compression() {
    bounded(async {
        let (addr, mut seen) = server().await;
        let (extensions, deflate) = exchange(addr, "/deflate", true).await;
        assert_eq!(extensions.as_deref(), Some("permessage-deflate"));
        assert!(deflate);
        let seen = seen.recv().await.unwrap();
        assert_eq!(
            seen,
            Seen {
                deflate: true,
                protocol: None
            }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_upgrade_without_compression() {
    bounded(async {
        let (addr, mut seen) = server().await;
        // The server would compress; the client offers nothing.
        let (extensions, deflate) = exchange(addr, "/deflate", false).await;
        assert_eq!(extensions, None);
        assert!(!deflate);
        assert!(!seen.recv().await.unwrap().deflate);
        // The client offers; the server's default config declines.
        let (extensions, deflate) = exchange(addr, "/plain", true).await;
        assert_eq!(extensions, None);
        assert!(!deflate);
        assert!(!seen.recv().await.unwrap().deflate);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_upgrade_chooses_a_protocol() {
    bounded(async {
        let (addr, mut seen) = server().await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut request = Request::client(&format!("ws://{addr}/deflate")).unwrap();
        request.headers.push((
            "Sec-WebSocket-Protocol".into(),
            b"chat.v1, chat.v2".to_vec(),
        ));
        let mut ws = ws_tokio::client_with_config(tcp, request, config(true))
            .await
            .unwrap();
        assert_eq!(ws.protocol(), Some("chat.v2"));
        assert!(ws.connection().deflate().is_some());
        round_trip(&mut ws, Message::text("hi")).await;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(
            seen.recv().await.unwrap(),
            Seen {
                deflate: true,
                protocol: Some("chat.v2".into())
            }
        );
    })
    .await;
}

/// The head of the server's answer to `request`.
async fn answer(addr: SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    read_head(&mut tcp).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_refuses_bad_upgrades_with_4xx() {
    bounded(async {
        let (addr, _seen) = server().await;
        let upgrade = |method: &str, version: &str, upgrade: &str| {
            format!(
                "{method} /any HTTP/1.1\r\nHost: x\r\n{upgrade}Connection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Sec-WebSocket-Version: {version}\r\n\r\n"
            )
        };
        // Not an upgrade: the extractor refuses it.
        let head = answer(addr, &upgrade("GET", "13", "")).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        // Another WebSocket version: 426, with the one supported.
        let head = answer(addr, &upgrade("GET", "8", "Upgrade: websocket\r\n")).await;
        assert!(head.starts_with("HTTP/1.1 426"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("sec-websocket-version: 13\r\n"),
            "{head}"
        );
        // Not GET: on_upgrade's negotiation under the config refuses it.
        let head = answer(addr, &upgrade("PUT", "13", "Upgrade: websocket\r\n")).await;
        assert!(head.starts_with("HTTP/1.1 405"), "{head}");
        // A valid one on the same route is upgraded.
        let head = answer(addr, &upgrade("GET", "13", "Upgrade: websocket\r\n")).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    })
    .await;
}
