//! What an idle open connection costs the server, in resident memory: the
//! figure behind the default of `Settings::max_connections`. Ignored (it
//! measures, it asserts only that the connections stayed open); run with
//!
//! ```text
//! cargo test --release -p ws --all-features --test memory_per_connection -- --ignored --nocapture --test-threads 1
//! ```
//!
//! The clients are plain sockets in this process: they hold no user-space
//! buffers, so the growth of the process's RSS is the server's. Kernel
//! socket buffers are not in RSS (an idle loopback socket holds none).

// Only the support's server and raw client: the tests are ignored ones,
// not `runtimes!`'s.
#[allow(unused_macros)]
mod support;

use std::time::Duration;

use support::{RawClient, Server, within};
use ws::{Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(300);

/// Connections opened per measurement.
const CONNECTIONS: usize = 2_000;

/// Resident set size of this process, in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn idle_connection_rss(rt: Runtime) {
    let settings = Settings {
        max_connections: CONNECTIONS + 100,
        ..Settings::default()
    };
    let server = Server::start(rt, settings, || |out: Sender| move |msg| out.send(msg));
    // Warm up: the first connections allocate what every later one reuses.
    let warm: Vec<RawClient> = (0..50).map(|_| RawClient::open(server.addr)).collect();
    let before = rss();
    let mut clients: Vec<RawClient> = (0..CONNECTIONS)
        .map(|_| RawClient::open(server.addr))
        .collect();
    // One small echo each, so every connection has been through a message.
    for c in &mut clients {
        c.send_frame(0x81, b"hello", true);
    }
    for c in &mut clients {
        let frame = c.read_frame().expect("connection ended");
        assert_eq!(frame.payload, b"hello");
    }
    std::thread::sleep(Duration::from_millis(200));
    let after = rss();
    let per = after.saturating_sub(before) / CONNECTIONS;
    println!(
        "{rt:?}: {CONNECTIONS} idle connections: RSS {} -> {} KiB, {:.1} KiB per connection",
        before >> 10,
        after >> 10,
        per as f64 / 1024.0
    );
    drop((clients, warm));
    server.stop().unwrap();
}

#[cfg(feature = "mio")]
#[test]
#[ignore = "measures; run with --ignored --nocapture"]
fn mio_idle_connection_rss() {
    within(LIMIT, || idle_connection_rss(Runtime::Mio));
}

#[cfg(feature = "tokio")]
#[test]
#[ignore = "measures; run with --ignored --nocapture"]
fn tokio_idle_connection_rss() {
    within(LIMIT, || idle_connection_rss(Runtime::Tokio));
}
