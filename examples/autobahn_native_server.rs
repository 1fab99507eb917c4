//! Autobahn|Testsuite testee for ws-tokio's native async API: an echo server.
//!
//!     autobahn_native_server [--runtime IGNORED] [ADDR]   (ADDR defaults to 127.0.0.1:9001)
//!
//! Every text and binary message is sent back unchanged, one task per
//! connection on a multi-threaded runtime. The `--runtime` option is taken
//! (and ignored) so that `autobahn/run.sh` can start it in place of
//! `autobahn_server`:
//!
//!     AUTOBAHN_SERVER_BIN=target/release/examples/autobahn_native_server \
//!     AUTOBAHN_BUILD_CMD='cargo build --release -p ws-examples --example autobahn_native_server' \
//!     autobahn/run.sh server-tokio

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::net::TcpListener;
use ws_tokio::{Config, DeflateConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--runtime") {
        args.nth(1);
    }
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("autobahn_native_server: listening on {addr}");
    // The default limits (64 MiB frames and messages) fit the suite's
    // largest cases (9.x); permessage-deflate, off by default, is on for
    // 12.* and 13.*.
    let config = Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    });
    loop {
        let (tcp, _) = listener.accept().await?;
        let config = config.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(mut ws) = ws_tokio::accept_with_config(tcp, config).await else {
                return;
            };
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_data() && ws.send(msg).await.is_err() {
                    break;
                }
            }
            // Finish the close handshake, or see the connection fail.
            while ws.next().await.is_some() {}
        });
    }
}
