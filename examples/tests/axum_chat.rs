//! `axum_chat`: members of one room hear each other, another room hears
//! nothing of it, and the upgrade is compressed for clients that offer it.

#[allow(dead_code)]
#[path = "../axum_chat.rs"]
mod axum_chat;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use ws_tokio::{CloseCode, Config, DeflateConfig, MaybeTlsStream, Message, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream>;

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("the test took longer than 20 s")
}

/// Joins `room` as `name` (offering permessage-deflate), and waits for its
/// own greeting to come back: from then on it is in the room.
async fn join(addr: std::net::SocketAddr, room: &str, name: &str) -> Client {
    let config = Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    });
    let url = format!("ws://{addr}/chat/{room}?name={name}");
    let mut ws = ws_tokio::connect_with_config(&url, config).await.unwrap();
    ws.send("joined").await.unwrap();
    assert_eq!(next_text(&mut ws).await, format!("{name}: joined"));
    ws
}

async fn next_text(ws: &mut Client) -> String {
    loop {
        match ws.recv().await.unwrap().unwrap() {
            Message::Text(text) => return text,
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_are_separate() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum_chat::serve(listener));

        let mut alice = join(addr, "a", "alice").await;
        assert!(alice.connection().deflate().is_some());
        let mut bob = join(addr, "a", "bob").await;
        assert_eq!(next_text(&mut alice).await, "bob: joined");
        let big = "la ".repeat(100_000);
        alice.send(big.as_str()).await.unwrap();
        assert_eq!(next_text(&mut bob).await, format!("alice: {big}"));
        assert_eq!(next_text(&mut alice).await, format!("alice: {big}"));

        // Room b heard none of it: its first message is its own.
        let mut carol = join(addr, "b", "carol").await;
        carol.send("anyone?").await.unwrap();
        assert_eq!(next_text(&mut carol).await, "carol: anyone?");

        for ws in [&mut alice, &mut bob, &mut carol] {
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
    })
    .await;
}
