//! Cross-site WebSocket hijacking: a server with `same_origin` or
//! `allowed_origins` answers a foreign `Origin` with 403 and reports it,
//! and upgrades its own origin, a listed one, and requests without
//! `Origin`. On every runtime, with a raw TCP client.

#[macro_use]
mod support;

use std::time::Duration;

use support::{KEY, Log, RawClient, Server, within};
use ws::{Error, Handler, Message, Result, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(60);

struct Echo {
    out: Sender,
    log: Log,
}

impl Handler for Echo {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.out.send(msg)
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error {err}"));
    }
}

fn request(host: &str, origin: Option<&str>) -> String {
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n"
    )
}

fn foreign_origins_get_403(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let settings = Settings {
        same_origin: true,
        allowed_origins: &["https://app.example.com"],
        ..Settings::default()
    };
    let server = Server::start(rt, settings, move || {
        move |out: Sender| Echo {
            out,
            log: server_log.clone(),
        }
    });
    let host = server.addr.to_string();
    let own = format!("http://{host}");
    let cases: [(Option<&str>, bool); 5] = [
        (Some("http://evil.example"), false),
        (Some("null"), false),
        (Some(&own), true),
        (Some("https://app.example.com"), true),
        (None, true),
    ];
    for (origin, ok) in cases {
        let mut c = RawClient::connect(server.addr);
        c.send_raw(request(&host, origin).as_bytes());
        if ok {
            let head = c.read_head();
            assert!(head.starts_with("HTTP/1.1 101 "), "{origin:?}: {head}");
            c.send_frame(0x81, b"hi", true);
            assert_eq!(c.read_frame().expect("an echo").payload, b"hi");
        } else {
            let answer = String::from_utf8_lossy(&c.read_to_end()).into_owned();
            assert!(answer.starts_with("HTTP/1.1 403 "), "{origin:?}: {answer}");
        }
    }
    log.wait_for("two origin errors", |entries| {
        entries.iter().filter(|e| e.contains("origin")).count() == 2
    });
    server.stop().unwrap();
}

/// The default accepts every origin, as ws-rs did.
fn the_default_accepts_any_origin(rt: Runtime) {
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| move |msg| out.send(msg)
    });
    let mut c = RawClient::connect(server.addr);
    c.send_raw(request("x", Some("http://evil.example")).as_bytes());
    let head = c.read_head();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    drop(c);
    server.stop().unwrap();
}

runtimes!(foreign_origins_get_403, the_default_accepts_any_origin);
