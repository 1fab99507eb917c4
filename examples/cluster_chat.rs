//! A chat served by several processes, joined by Redis: each process keeps
//! its own connections and topics (ws-tokio's `topics::Topics`), and a
//! `ws_redis::Bridge` carries every message to the other processes, so a
//! client of one server talks with the clients of all of them. The URL's
//! path names the room.
//!
//!     redis-server --port 6379 --save '' --appendonly no
//!     cargo run --example cluster_chat -- 127.0.0.1:3012 redis://127.0.0.1:6379/
//!     cargo run --example cluster_chat -- 127.0.0.1:3013 redis://127.0.0.1:6379/
//!     cargo run --example cli -- --url ws://127.0.0.1:3012/lobby
//!     cargo run --example cli -- --url ws://127.0.0.1:3013/lobby
//!
//! What one client types reaches every client in its room, on either
//! server, once. A room's messages are framed once per process, whatever
//! the number of its clients there; a client too slow to keep up misses
//! messages (and the server logs it) rather than holding the others back.

use std::net::SocketAddr;
use std::sync::Arc;

use ws_redis::{Bridge, RedisBackplane, RedisConfig};
use ws_tokio::topics::{Delivery, Policy, Topics};
use ws_tokio::{Message, WebSocketStream};

type Node = Arc<Bridge<RedisBackplane, Topics>>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3012".into());
    let redis = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/".into());
    let topics = Topics::new();
    topics.on_skip(|id, topic| eprintln!("subscriber {} missed a message of {topic}", id.0));
    let node: Node = Arc::new(Bridge::redis(&redis, RedisConfig::default(), topics)?);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "chat on ws://{}/ROOM, joined through {redis}",
        listener.local_addr()?
    );
    loop {
        let (tcp, peer) = listener.accept().await?;
        let node = node.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(tcp, peer, node).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

async fn serve(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    node: Node,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut ws: WebSocketStream<_> = ws_tokio::accept(tcp).await?;
    let room = ws
        .request()
        .map(|r| r.path.trim_matches('/').to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "lobby".to_owned());
    let topic = format!("room:{room}");
    // Idempotent: the first client of a room makes this node follow it.
    node.follow(&topic);
    let mut sub = node.local().subscriber();
    sub.subscribe(&topic, Policy::Skip);
    println!("{peer} joined {room}");
    loop {
        tokio::select! {
            incoming = ws.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let line = ws_proto::Message::Text(format!("{peer}: {text}"));
                    if let Err(e) = node.publish(&topic, line).await {
                        eprintln!("{e}");
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            delivery = sub.recv() => match delivery {
                Some(Delivery::Message { message, .. }) => ws.send_prepared(&message).await?,
                _ => break,
            },
        }
    }
    println!("{peer} left {room}");
    Ok(())
}
