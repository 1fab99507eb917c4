//! The servers of the fan-out load (`f`): every connection is subscribed
//! to one topic as it is accepted (before its handshake is answered, so a
//! client that has its 101 is a subscriber), and every binary message a
//! connection sends is published to all of them, itself included. The
//! generator sends on one connection only and keeps at most
//! `ws_benches::fanout::WINDOW` messages outstanding (see that module).
//!
//! - `native-publish`: ws-tokio's native API with `ws_tokio::topics`: the
//!   message is framed once (`Topics::publish`), every connection's task
//!   takes its `Delivery` and writes the shared frames with
//!   `send_prepared`.
//! - `native-loop`: the same API without topics: a shared list of
//!   per-connection channels, and the receiving task loops over it sending
//!   each a copy of the message, which each connection's task frames and
//!   sends with `send`; the natural way without a publish.
//! - `tungstenite-broadcast`: tokio-tungstenite with a
//!   `tokio::sync::broadcast` channel, a task per connection forwarding what
//!   it receives with `send` (framed per connection); a `Lagged` receiver
//!   logs, counts and carries on, as that ecosystem does.
//!
//! Each connection's queue holds 64 messages at most (the topics' default
//! `Limits`, the channels' and the broadcast's capacity), four times the
//! generator's window: a correct run never fills one. A message dropped
//! for a full queue (skipped, or lagged) is counted and reported on stderr,
//! and the generator fails the run for the gap it leaves.
//!
//! Adding the facade (`facade-mio-publish`, being written on another
//! branch): a `ws::Builder` with the settings of `crate::facade`, whose
//! handler calls `out.subscribe(TOPIC)` in `on_open` and
//! `out.publish(TOPIC, msg)` in `on_message` for binary messages; one more
//! arm in [`serve`] and [`describe`], and its name in
//! `ws_benches::fanout::FANOUT_SERVERS` and the runner's `FANOUT_OURS`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};

use super::{BoxError, MAX_MESSAGE};

/// The one topic.
const TOPIC: &str = "f";
/// Messages one connection's queue holds at most (see the module docs).
const QUEUE: usize = 64;

/// Messages dropped for a full queue, over all connections.
static DROPPED: AtomicU64 = AtomicU64::new(0);

fn dropped(server: &str, n: u64) {
    let total = DROPPED.fetch_add(n, Ordering::Relaxed) + n;
    eprintln!("load_server {server}: {n} message(s) dropped for a full queue ({total} in all)");
}

/// What each fan-out server is configured with, for RESULTS.md; `None` for
/// another name.
pub(crate) fn describe(name: &str) -> Option<&'static str> {
    Some(match name {
        "native-publish" => {
            "ws_tokio::accept_with_config (Config as for `native`); one ws_tokio::topics::Topics, \
             a Subscriber per connection (Limits::default(): 64 messages, 1 MiB; Policy::Skip), \
             subscribed before the handshake; a task per connection: select! { a binary \
             message in => topics.publish(topic, msg), a Delivery => \
             ws.send_prepared(&message).await }; tokio current-thread runtime; TCP_NODELAY"
        }
        "native-loop" => {
            "ws_tokio::accept_with_config (Config as for `native`); a shared \
             Mutex<Slab<tokio::sync::mpsc::Sender<Vec<u8>>>> (64 messages each), registered \
             before the handshake; a task per connection: select! { a binary message in => \
             for each sender: try_send(msg.clone()), a message from its channel => \
             ws.send(Message::Binary(msg)).await }; tokio current-thread runtime; TCP_NODELAY"
        }
        "tungstenite-broadcast" => {
            "tokio_tungstenite::accept_async_with_config (WebSocketConfig as for \
             `tungstenite`); one tokio::sync::broadcast::channel(64), subscribed before the \
             handshake; a task per connection: select! { a binary message in => tx.send(msg), \
             rx.recv() => Ok(msg): ws.send(msg).await, Err(Lagged(n)): count, log, continue }; \
             tokio current-thread runtime; TCP_NODELAY"
        }
        _ => return None,
    })
}

/// Serves fan-out server `name` (one of `ws_benches::fanout::FANOUT_SERVERS`).
pub(crate) fn serve(addr: std::net::SocketAddr, name: &str) -> Result<(), BoxError> {
    use crate::tokio_servers::serve;
    match name {
        "native-publish" => {
            let topics = ws_tokio::topics::Topics::new();
            topics.on_skip(|_, _| dropped("native-publish", 1));
            serve(addr, move |tcp| native_publish(tcp, topics.clone()))
        }
        "native-loop" => {
            let peers = Peers::default();
            serve(addr, move |tcp| native_loop(tcp, peers.clone()))
        }
        "tungstenite-broadcast" => {
            let (tx, _) = broadcast::channel(QUEUE);
            serve(addr, move |tcp| tungstenite_broadcast(tcp, tx.clone()))
        }
        other => Err(format!("{other:?} is not a fan-out server").into()),
    }
}

fn native_config() -> Arc<ws_tokio::Config> {
    Arc::new(ws_tokio::Config {
        max_message_size: MAX_MESSAGE,
        max_frame_size: MAX_MESSAGE,
        ..ws_tokio::Config::default()
    })
}

async fn native_publish(tcp: TcpStream, topics: ws_tokio::topics::Topics) -> Result<(), BoxError> {
    use ws_tokio::topics::{Delivery, Policy};

    let mut sub = topics.subscriber();
    sub.subscribe(TOPIC, Policy::Skip);
    let mut ws = ws_tokio::accept_with_config(tcp, native_config()).await?;
    loop {
        tokio::select! {
            incoming = ws.recv() => match incoming {
                Some(Ok(ws_tokio::Message::Binary(data))) => {
                    topics.publish(TOPIC, data);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            delivery = sub.recv() => match delivery {
                Some(Delivery::Message { message, .. }) => ws.send_prepared(&message).await?,
                // Policy::Skip never overflows.
                Some(Delivery::Overflow { .. }) | None => return Ok(()),
            },
        }
    }
}

/// Every connection's channel, for `native-loop`.
type Peers = Arc<Mutex<slab::Slab<mpsc::Sender<Vec<u8>>>>>;

/// Takes a connection's channel out of the list when its task ends.
struct Registered {
    peers: Peers,
    key: usize,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(self.key);
    }
}

async fn native_loop(tcp: TcpStream, peers: Peers) -> Result<(), BoxError> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
    let key = peers.lock().unwrap_or_else(|p| p.into_inner()).insert(tx);
    let _registered = Registered {
        peers: peers.clone(),
        key,
    };
    let mut ws = ws_tokio::accept_with_config(tcp, native_config()).await?;
    loop {
        tokio::select! {
            incoming = ws.recv() => match incoming {
                Some(Ok(ws_tokio::Message::Binary(data))) => {
                    let mut full = 0;
                    for (_, peer) in peers.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                        if let Err(mpsc::error::TrySendError::Full(_)) = peer.try_send(data.clone()) {
                            full += 1;
                        }
                    }
                    if full > 0 {
                        dropped("native-loop", full);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            out = rx.recv() => match out {
                Some(data) => ws.send(ws_tokio::Message::Binary(data)).await?,
                None => return Ok(()),
            },
        }
    }
}

async fn tungstenite_broadcast(
    tcp: TcpStream,
    tx: broadcast::Sender<tokio_tungstenite::tungstenite::Message>,
) -> Result<(), BoxError> {
    let mut rx = tx.subscribe();
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let mut ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await?;
    loop {
        tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(msg)) if msg.is_binary() => {
                    // No receivers is not an error here: there is always one.
                    let _ = tx.send(msg);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            got = rx.recv() => match got {
                Ok(msg) => ws.send(msg).await?,
                Err(broadcast::error::RecvError::Lagged(n)) => dropped("tungstenite-broadcast", n),
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}
