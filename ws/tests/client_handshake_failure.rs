//! A client whose opening handshake fails ends at once: the error reaches
//! `on_error` and `run` returns, without waiting out a close or linger
//! timeout on a connection that never opened. The server here is a raw
//! socket that answers wrongly and then keeps its end open, as a hostile or
//! broken server would.

#[macro_use]
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use support::*;
use ws::{Error, Handler, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(30);

/// How long `run` may take once the server has answered.
const PROMPT: Duration = Duration::from_secs(1);

/// Serves one client with `answer` after its request head, then holds the
/// socket open for 10 s whatever the client does: it never closes first.
fn bad_server(answer: impl FnOnce(&mut std::net::TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        if read_http_head(&mut s).is_none() {
            return;
        }
        answer(&mut s);
        let mut sink = [0u8; 4096];
        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        thread::sleep(Duration::from_secs(10));
        drop(s);
    });
    addr
}

struct Reporter {
    log: Log,
}

impl Handler for Reporter {
    fn on_open(&mut self, _: ws::Handshake) -> ws::Result<()> {
        self.log.push("open");
        Ok(())
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error: {err}"));
    }
}

/// Runs a client against `addr`; returns how long `run` took and the log.
fn client(runtime: Runtime, addr: SocketAddr) -> (Duration, Vec<String>) {
    let log = Log::default();
    let record = log.clone();
    let started = Instant::now();
    let result = run_client(
        runtime,
        Settings::default(),
        &format!("ws://{addr}/"),
        move |_: Sender| Reporter {
            log: record.clone(),
        },
    );
    let took = started.elapsed();
    assert!(result.is_ok(), "{result:?}");
    (took, log.entries())
}

fn wrong_accept_key(runtime: Runtime) {
    let addr = bad_server(|s| {
        let _ = s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n",
        );
    });
    let (took, log) = client(runtime, addr);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].starts_with("error: "), "{log:?}");
    assert!(took < PROMPT, "run returned after {took:?}");
}

fn endless_headers(runtime: Runtime) {
    let addr = bad_server(|s| {
        let _ = s.write_all(b"HTTP/1.1 101 Switching Protocols\r\n");
        let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
        // 10 MB of headers, or until the client hangs up.
        for _ in 0..10_000 {
            if s.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let (took, log) = client(runtime, addr);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].starts_with("error: "), "{log:?}");
    assert!(took < PROMPT, "run returned after {took:?}");
}

runtimes!(wrong_accept_key, endless_headers);
