//! An async echo server on ws-tokio's native API: one task per connection.
//!
//!     cargo run -p ws-examples --example tokio_echo [ADDR]     (ADDR defaults to 127.0.0.1:9002)
//!
//! Every text and binary message is sent back; pings are answered by the
//! protocol core on its own. Try it with any WebSocket client, for example
//! `websocat ws://127.0.0.1:9002/`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};
use ws_tokio::{Config, Message};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("echoing on ws://{}/", listener.local_addr()?);
    let config = Arc::new(Config {
        // Drop peers that vanish without closing.
        keepalive_interval: Some(Duration::from_secs(30)),
        ..Config::default()
    });
    loop {
        let (tcp, peer) = listener.accept().await?;
        let config = config.clone();
        tokio::spawn(async move {
            if let Err(e) = echo(tcp, config).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

pub(crate) async fn echo(tcp: TcpStream, config: Arc<Config>) -> Result<(), ws_tokio::Error> {
    tcp.set_nodelay(true)?;
    let mut ws = ws_tokio::accept_with_config(tcp, config).await?;
    while let Some(msg) = ws.next().await {
        match msg? {
            msg @ (Message::Text(_) | Message::Binary(_)) => ws.send(msg).await?,
            Message::Close(frame) => println!("closed by the peer: {frame:?}"),
            // Pings were answered already; pongs need nothing.
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    Ok(())
}
