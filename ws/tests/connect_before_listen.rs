//! A `connect` queued before `listen` is dialled once the loop runs, with the
//! listener in place, as in ws-rs (its `examples/shared.rs` has this shape:
//! one `WebSocket` that is both the client and the server). A queued
//! connection that fails is reported to its handler's `on_error`.

#[macro_use]
mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::{Log, within};
use ws::{Builder, Error, Handler, Message, Runtime, Sender};

const LIMIT: Duration = Duration::from_secs(30);

/// A loopback port nothing listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// shared.rs's program: the first connection the factory makes is the
/// client (it sends a greeting), the second the server (it answers); the
/// client shuts the `WebSocket` down on the answer.
fn client_and_server_in_one_websocket(runtime: Runtime) {
    let log = Log::default();
    let record = log.clone();
    let mut name = "Client";
    let mut ws = Builder::new()
        .with_runtime(runtime)
        .build(move |out: Sender| {
            if name == "Client" {
                out.send("Hello Websocket").unwrap();
            }
            let me = name;
            let record = record.clone();
            name = "Server";
            move |msg: Message| {
                record.push(format!("{me} got {msg}"));
                if me == "Server" {
                    out.send("How are you?")
                } else {
                    out.shutdown()
                }
            }
        })
        .unwrap();
    let port = free_port();
    let url = url::Url::parse(&format!("ws://127.0.0.1:{port}")).unwrap();
    ws.connect(url).unwrap();
    ws.listen(("127.0.0.1", port)).unwrap();
    assert_eq!(
        log.entries(),
        ["Server got Hello Websocket", "Client got How are you?"]
    );
}

/// Records the error a failed connection reports, then shuts down.
struct Reporter {
    out: Sender,
    log: Log,
}

impl Handler for Reporter {
    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error: {err}"));
        let _ = self.out.shutdown();
    }
}

/// A queued connection to a port nothing listens on: the loop (which has a
/// listener, so would otherwise run on) reports it to `on_error`.
fn failed_queued_connection_is_reported(runtime: Runtime) {
    let log = Log::default();
    let record = log.clone();
    let mut ws = Builder::new()
        .with_runtime(runtime)
        .build(move |out: Sender| Reporter {
            out,
            log: record.clone(),
        })
        .unwrap();
    let dead = free_port();
    ws.connect(url::Url::parse(&format!("ws://127.0.0.1:{dead}")).unwrap())
        .unwrap();
    ws.listen("127.0.0.1:0").unwrap();
    assert_eq!(log.count("error: "), 1, "{:?}", log.entries());
}

runtimes!(
    client_and_server_in_one_websocket,
    failed_queued_connection_is_reported
);
