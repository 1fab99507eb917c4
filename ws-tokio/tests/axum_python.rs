//! The axum extractor against another implementation: Python's
//! `websockets` (its sync client) upgrades through an axum server, with
//! and without permessage-deflate, and checks the echoes of large
//! messages.
//!
//! Python is `WS_PYTHON`, else the venv that `autobahn/interop.sh` makes
//! (`${TMPDIR:-/tmp}/ws-interop-venv`), else `python3`. Without
//! `websockets` there the test says so and passes, unless
//! `WS_REQUIRE_PEERS=1`, when it fails. (To get it:
//! `python3 -m venv /tmp/ws-interop-venv && /tmp/ws-interop-venv/bin/pip install websockets`.)

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::{bounded, listener};
use tokio::process::Command;
use tokio::sync::mpsc;
use ws_tokio::axum::WebSocketUpgrade;
use ws_tokio::{Config, DeflateConfig};

/// The client: connects to argv[1], offering permessage-deflate when
/// argv[2] is `deflate`, echoes four messages through the server and
/// prints the response's `Sec-WebSocket-Extensions` (or `none`).
const CLIENT: &str = r#"
import sys
from websockets.sync.client import connect

url, mode = sys.argv[1], sys.argv[2]
compression = "deflate" if mode == "deflate" else None
with connect(url, compression=compression, open_timeout=10, close_timeout=5, max_size=None) as ws:
    extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
    for msg in ['{"k": "v"} ' * 100000, b"\x07" * (1 << 20), "short", ""]:
        ws.send(msg)
        back = ws.recv(timeout=10)
        if back != msg:
            sys.exit(f"echo of a {len(msg)}-long {type(msg).__name__} differs")
    print(extensions or "none")
"#;

fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("WS_PYTHON") {
        return python.into();
    }
    let tmp = std::env::var_os("TMPDIR").unwrap_or_else(|| "/tmp".into());
    let venv = PathBuf::from(tmp).join("ws-interop-venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// Whether `python` has `websockets`; says why not when it has not, and
/// fails then with `WS_REQUIRE_PEERS=1`.
async fn has_websockets(python: &PathBuf) -> bool {
    let probe = Command::new(python)
        .args(["-c", "import websockets.sync.client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let found = matches!(
        tokio::time::timeout(Duration::from_secs(10), probe).await,
        Ok(Ok(status)) if status.success()
    );
    if !found {
        let why = format!(
            "{} has no `websockets` (>= 12, its sync client)",
            python.display()
        );
        if std::env::var("WS_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
            panic!("WS_REQUIRE_PEERS=1: {why}");
        }
        eprintln!("skipped: {why}");
    }
    found
}

/// An axum echo server: `/deflate` with permessage-deflate configured,
/// `/plain` without. Reports, per connection, whether deflate is on.
async fn server() -> (SocketAddr, mpsc::Receiver<bool>) {
    let (tx, rx) = mpsc::channel(8);
    let deflate = Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    });
    let handler = move |ws: WebSocketUpgrade, config: Arc<Config>, tx: mpsc::Sender<bool>| {
        ws.config(config).on_upgrade(move |mut socket| async move {
            let _ = tx.send(socket.connection().deflate().is_some()).await;
            while let Some(Ok(msg)) = socket.recv().await {
                if msg.is_data() && socket.send(msg).await.is_err() {
                    break;
                }
            }
        })
    };
    let (tx1, tx2) = (tx.clone(), tx);
    let app = Router::new()
        .route(
            "/deflate",
            get(move |ws: WebSocketUpgrade| async move { handler(ws, deflate.clone(), tx1.clone()) }),
        )
        .route(
            "/plain",
            get(move |ws: WebSocketUpgrade| async move { handler(ws, Arc::default(), tx2.clone()) }),
        );
    let (listener, addr) = listener().await;
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}

/// Runs the Python client; returns the extensions line it printed.
async fn run_client(python: &PathBuf, url: &str, mode: &str) -> String {
    let child = Command::new(python)
        .args(["-c", CLIENT, url, mode])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(15), child)
        .await
        .expect("the Python client took longer than 15 s")
        .expect("the Python client did not start");
    assert!(
        out.status.success(),
        "the Python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websockets_through_axum() {
    let python = python();
    if !has_websockets(&python).await {
        return;
    }
    bounded(async {
        let (addr, mut seen) = server().await;
        let url = |path: &str| format!("ws://{addr}{path}");
        // Offered and configured: agreed on.
        let extensions = run_client(&python, &url("/deflate"), "deflate").await;
        assert!(extensions.starts_with("permessage-deflate"), "{extensions}");
        assert!(seen.recv().await.unwrap());
        // Not offered.
        let extensions = run_client(&python, &url("/deflate"), "none").await;
        assert_eq!(extensions, "none");
        assert!(!seen.recv().await.unwrap());
        // Offered, but not configured.
        let extensions = run_client(&python, &url("/plain"), "deflate").await;
        assert_eq!(extensions, "none");
        assert!(!seen.recv().await.unwrap());
    })
    .await;
}
