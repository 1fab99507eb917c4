//! A chat server on axum: each WebSocket joins the room named in its path,
//! and every text message it sends goes to everyone in that room, itself
//! included, as `NAME: TEXT`.
//!
//!     cargo run -p ws-examples --example axum_chat --features axum [ADDR]
//!
//! (ADDR defaults to 127.0.0.1:9004.) Connect to
//! `ws://127.0.0.1:9004/chat/ROOM?name=NAME`. The upgrade goes through
//! ws-tokio's axum extractor, `ws_tokio::axum::WebSocketUpgrade`, with
//! permessage-deflate for the clients that offer it.
//!
//! A room is a tokio broadcast channel, made when its first member comes
//! and dropped when its last one goes. A member that falls more than
//! [`BACKLOG`] messages behind misses the oldest ones and is told so.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use ws_tokio::axum::{WebSocket, WebSocketUpgrade};
use ws_tokio::{Config, DeflateConfig, Message};

/// How many messages a room keeps for a member that reads slowly.
pub(crate) const BACKLOG: usize = 256;

/// The rooms by name, and the config of every connection.
#[derive(Clone)]
pub(crate) struct Chat {
    rooms: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<str>>>>>,
    config: Arc<Config>,
}

impl Chat {
    pub(crate) fn new() -> Self {
        Self {
            rooms: Arc::default(),
            config: Arc::new(Config {
                deflate: Some(DeflateConfig::default()),
                ..Config::default()
            }),
        }
    }

    /// The room's sender and a receiver of its own, subscribed under the
    /// lock so that a member leaving at the same time cannot drop the room
    /// in between.
    fn join(&self, room: &str) -> (broadcast::Sender<Arc<str>>, broadcast::Receiver<Arc<str>>) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let tx = rooms
            .entry(room.to_owned())
            .or_insert_with(|| broadcast::channel(BACKLOG).0);
        (tx.clone(), tx.subscribe())
    }

    /// Drops the room when nobody is left in it (call it after dropping
    /// the member's receiver).
    fn leave(&self, room: &str) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if rooms.get(room).is_some_and(|r| r.receiver_count() == 0) {
            rooms.remove(room);
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".into());
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "chat on ws://{}/chat/ROOM?name=NAME",
        listener.local_addr()?
    );
    serve(listener).await
}

/// Serves the chat on every connection `listener` accepts.
pub(crate) async fn serve(listener: TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app(Chat::new())).await
}

pub(crate) fn app(chat: Chat) -> Router {
    Router::new()
        .route("/chat/{room}", get(upgrade))
        .with_state(chat)
}

async fn upgrade(
    ws: WebSocketUpgrade,
    Path(room): Path<String>,
    State(chat): State<Chat>,
) -> Response {
    let name = ws
        .request()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("name="))
        .filter(|name| !name.is_empty())
        .unwrap_or("anonymous")
        .to_owned();
    let config = chat.config.clone();
    ws.config(config)
        .on_upgrade(move |socket| member(socket, chat, room, name))
}

/// One member's connection: what it sends goes to the room, what the room
/// says goes to it, until either side ends.
async fn member(mut socket: WebSocket, chat: Chat, room: String, name: String) {
    let (room_tx, mut room_rx) = chat.join(&room);
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // Fails only when nobody listens, and this member does.
                    let _ = room_tx.send(format!("{name}: {text}").into());
                }
                // Binary, pings and pongs: nothing to say to the room.
                Some(Ok(_)) => {}
                // A close or an error; the stream ends after it.
                Some(Err(_)) | None => break,
            },
            said = room_rx.recv() => {
                let text = match said {
                    Ok(text) => text.to_string(),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        format!("({missed} messages missed)")
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if socket.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(room_rx);
    chat.leave(&room);
}
