//! Autobahn|Testsuite testee for ws-tokio's axum extractor: an echo server
//! on axum (feature `axum`).
//!
//!     autobahn_axum_server [--runtime IGNORED] [ADDR]   (ADDR defaults to 127.0.0.1:9001)
//!
//! One route, `/`, takes the upgrade with `ws_tokio::axum::WebSocketUpgrade`,
//! so the request goes through axum's router and hyper's HTTP/1.1 server
//! before the connection becomes a `WebSocketStream`; every text and binary
//! message is then sent back unchanged. permessage-deflate is on (the 12.*
//! and 13.* cases), the other settings are the defaults. The `--runtime`
//! option is taken (and ignored) so that `autobahn/run.sh` can start it the
//! way it starts the other server testees (configuration `server-axum`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use ws_tokio::axum::WebSocketUpgrade;
use ws_tokio::{Config, DeflateConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--runtime") {
        args.nth(1);
    }
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    // Small echoes go out at once, as the other testees send them.
    let listener = TcpListener::bind(&addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    eprintln!("autobahn_axum_server: listening on {addr}");
    // The default limits (64 MiB frames and messages) fit the suite's
    // largest cases (9.x); permessage-deflate, off by default, is on for
    // 12.* and 13.*.
    let config = Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    });
    let app = Router::new().route("/", get(echo)).with_state(config);
    axum::serve(listener, app).await
}

async fn echo(ws: WebSocketUpgrade, State(config): State<Arc<Config>>) -> Response {
    ws.config(config).on_upgrade(|mut socket| async move {
        while let Some(Ok(msg)) = socket.recv().await {
            if msg.is_data() && socket.send(msg).await.is_err() {
                break;
            }
        }
        // Finish the close handshake, or see the connection fail.
        while socket.recv().await.is_some() {}
    })
}
