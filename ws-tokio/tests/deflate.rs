//! permessage-deflate through the native async API: it is the core's
//! `Config::deflate`, so `accept_with_config` and `connect_with_config` are
//! all it takes.

mod common;

use std::sync::Arc;

use common::{bounded, listener, round_trip};
use futures_util::StreamExt;
use ws_tokio::{CloseCode, Config, DeflateConfig, Message};

fn deflate() -> Arc<Config> {
    Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_echo_both_ways() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept_with_config(tcp, deflate()).await.unwrap();
            let agreed = ws.connection().deflate().copied();
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_data() {
                    ws.send(msg).await.unwrap();
                }
            }
            agreed
        });
        let mut ws = ws_tokio::connect_with_config(&format!("ws://{addr}/"), deflate())
            .await
            .unwrap();
        let response = &ws.handshake().unwrap().response;
        assert_eq!(
            response.header_str("Sec-WebSocket-Extensions"),
            Some("permessage-deflate")
        );
        assert!(ws.connection().deflate().is_some());
        round_trip(&mut ws, Message::text("{\"k\": \"v\"} ".repeat(10_000))).await;
        round_trip(&mut ws, Message::binary(vec![7; 1 << 20])).await;
        round_trip(&mut ws, Message::text("short")).await;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(server.await.unwrap().is_some());
    })
    .await;
}
