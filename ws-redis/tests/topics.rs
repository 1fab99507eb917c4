//! Two nodes, each a ws-tokio server with its own `Topics`, joined by
//! bridges on one real Redis: every WebSocket client, on either node,
//! receives every message published in the room exactly once. Without
//! `redis-server` the test says so and passes, unless `WS_REQUIRE_REDIS=1`.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{RedisServer, until};
use futures_util::StreamExt;
use ws_redis::{Bridge, RedisBackplane, RedisConfig};
use ws_tokio::topics::{Delivery, Policy, Topics};
use ws_tokio::{Message, WebSocketStream};

type Node = Arc<Bridge<RedisBackplane, Topics>>;

/// A chat node: each connection subscribes to "room"; what a client sends
/// is published to the room through the bridge.
async fn chat_node(redis: &str) -> (SocketAddr, Node) {
    let topics = Topics::new();
    let bridge: Node = Arc::new(Bridge::redis(redis, RedisConfig::default(), topics).unwrap());
    bridge.follow("room");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let node = bridge.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let bridge = node.clone();
            tokio::spawn(async move {
                let mut sub = bridge.local().subscriber();
                sub.subscribe("room", Policy::Skip);
                let mut ws = ws_tokio::accept(tcp).await.unwrap();
                loop {
                    tokio::select! {
                        incoming = ws.recv() => match incoming {
                            Some(Ok(Message::Text(text))) => {
                                bridge.publish("room", ws_proto::Message::Text(text)).await.unwrap();
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        },
                        delivery = sub.recv() => match delivery {
                            Some(Delivery::Message { message, .. }) => {
                                if ws.send_prepared(&message).await.is_err() {
                                    break;
                                }
                            }
                            _ => break,
                        },
                    }
                }
            });
        }
    });
    (addr, bridge)
}

async fn client(addr: SocketAddr) -> WebSocketStream<ws_tokio::MaybeTlsStream> {
    ws_tokio::connect(&format!("ws://{addr}/")).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_of_both_nodes_gets_every_message_once() {
    let Some(redis) = RedisServer::start(None) else {
        return;
    };
    tokio::time::timeout(Duration::from_secs(60), async {
        let (a, bridge_a) = chat_node(&redis.url()).await;
        let (b, bridge_b) = chat_node(&redis.url()).await;
        until("both nodes subscribed", || {
            bridge_a.backplane().is_subscribed() && bridge_b.backplane().is_subscribed()
        })
        .await;
        let mut clients = Vec::new();
        for addr in [a, a, a, b, b, b] {
            clients.push(client(addr).await);
        }
        until("every client subscribed", || {
            bridge_a.local().subscribers_of("room") == 3
                && bridge_b.local().subscribers_of("room") == 3
        })
        .await;
        const EACH: usize = 10;
        for i in 0..EACH {
            for (c, ws) in clients.iter_mut().enumerate() {
                ws.send(Message::text(format!("c{c}-{i}"))).await.unwrap();
            }
        }
        let total = EACH * clients.len();
        for (c, ws) in clients.iter_mut().enumerate() {
            let mut seen: HashMap<String, usize> = HashMap::new();
            while seen.values().sum::<usize>() < total {
                match ws.next().await {
                    Some(Ok(Message::Text(text))) => *seen.entry(text).or_default() += 1,
                    other => panic!("client {c}: {other:?}"),
                }
            }
            assert_eq!(seen.len(), total, "client {c}");
            assert!(seen.values().all(|&n| n == 1), "client {c}: {seen:?}");
        }
        // Nothing more comes: no duplicate was on its way.
        for ws in &mut clients {
            let more = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
            assert!(more.is_err(), "an extra message: {more:?}");
        }
    })
    .await
    .expect("bounded");
    redis.stop();
}
