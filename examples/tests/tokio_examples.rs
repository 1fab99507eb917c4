//! The tokio examples, driven over loopback: `tokio_echo`'s connection
//! task, and `hyper_upgrade`'s hyper 1.x server handing upgraded
//! connections to `WebSocketStream::from_upgrade`, compressed when the
//! client offers permessage-deflate.

#[allow(dead_code)]
#[path = "../hyper_upgrade.rs"]
mod hyper_upgrade;

#[allow(dead_code)]
#[path = "../tokio_echo.rs"]
mod tokio_echo;

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ws_tokio::{CloseCode, Message};

async fn start() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(hyper_upgrade::serve(listener));
    addr
}

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("the test took longer than 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_echo_echoes() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio_echo::echo(tcp, Default::default()).await
        });
        let mut ws = ws_tokio::connect(&format!("ws://{addr}/")).await.unwrap();
        ws.send("echo?").await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("echo?"));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_hands_the_upgraded_connection_over() {
    bounded(async {
        let addr = start().await;
        let mut ws = ws_tokio::connect(&format!("ws://{addr}/ws")).await.unwrap();
        let response = &ws.handshake().unwrap().response;
        assert_eq!(response.status, 101);
        for msg in [
            Message::text("through hyper"),
            Message::binary(vec![42; 200_000]),
        ] {
            ws.send(msg.clone()).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), msg);
        }
        ws.ping(b"p").await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Pong(b"p".to_vec())
        );
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        assert_eq!(ws.closed().unwrap().code, CloseCode::NORMAL);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_upgrade_compresses_for_a_client_that_offers() {
    bounded(async {
        let addr = start().await;
        let config = std::sync::Arc::new(ws_tokio::Config {
            deflate: Some(ws_tokio::DeflateConfig::default()),
            ..Default::default()
        });
        let mut ws = ws_tokio::connect_with_config(&format!("ws://{addr}/ws"), config)
            .await
            .unwrap();
        let response = &ws.handshake().unwrap().response;
        assert_eq!(
            response.header_str("Sec-WebSocket-Extensions"),
            Some("permessage-deflate")
        );
        assert!(ws.connection().deflate().is_some());
        let msg = Message::text("compressible ".repeat(50_000));
        ws.send(msg.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), msg);
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_at_once() {
    bounded(async {
        let addr = start().await;
        let clients = (0..20).map(|i| {
            tokio::spawn(async move {
                let mut ws = ws_tokio::connect(&format!("ws://{addr}/ws")).await.unwrap();
                for j in 0..20 {
                    let text = format!("client {i} message {j}");
                    ws.send(text.as_str()).await.unwrap();
                    assert_eq!(ws.next().await.unwrap().unwrap().as_text(), Some(&*text));
                }
                ws.close(CloseCode::NORMAL, "").await.unwrap();
            })
        });
        for client in clients.collect::<Vec<_>>() {
            client.await.unwrap();
        }
    })
    .await;
}

async fn http_get(addr: std::net::SocketAddr, path: &str, extra: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut res = String::new();
    tcp.read_to_string(&mut res).await.unwrap();
    res
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_and_bad_upgrades_are_refused() {
    bounded(async {
        let addr = start().await;
        let res = http_get(addr, "/", "").await;
        assert!(res.starts_with("HTTP/1.1 404"), "{res}");
        // Not an upgrade at all.
        let res = http_get(addr, "/ws", "").await;
        assert!(res.starts_with("HTTP/1.1 400"), "{res}");
        // An upgrade for an unsupported version: the core says 426.
        let res = http_get(
            addr,
            "/ws",
            "Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n",
        )
        .await;
        assert!(res.starts_with("HTTP/1.1 426"), "{res}");
    })
    .await;
}
