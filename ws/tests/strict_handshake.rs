//! Strict opening handshakes through the facade, on every runtime: a raw
//! TCP client sends requests with a repeated single-valued header or a
//! body, and gets 400; the facade's client refuses a 101 with the same
//! faults and never opens.

#[macro_use]
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use support::{KEY, Log, RawClient, Server, read_http_head, within};
use ws::{CloseCode, Error, Handler, Handshake, Message, Result, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(60);

fn echo_server(rt: Runtime) -> Server {
    Server::start(rt, Settings::default(), || {
        |out: Sender| move |msg| out.send(msg)
    })
}

/// A valid upgrade request with `extra` header lines added.
fn request(extra: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Each request gets 400 with `Connection: close`, and the server ends the
/// connection: the bytes after the head are never read as frames. A valid
/// request on the same server still upgrades.
fn refused_requests_get_400(rt: Runtime) {
    let server = echo_server(rt);
    // A masked text frame "hi": what a smuggled body would be run as.
    let frame = b"\x81\x82\x00\x00\x00\x00hi";
    let cases = [
        (
            "a second key",
            "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n",
        ),
        ("a second version", "Sec-WebSocket-Version: 13\r\n"),
        ("a second host", "host: y\r\n"),
        ("a second upgrade", "Upgrade: websocket\r\n"),
        ("a body by length", "Content-Length: 8\r\n"),
        ("a chunked body", "Transfer-Encoding: chunked\r\n"),
    ];
    for (what, extra) in cases {
        let mut c = RawClient::connect(server.addr);
        let mut bytes = request(extra).into_bytes();
        bytes.extend_from_slice(frame);
        c.send_raw(&bytes);
        let answer = String::from_utf8_lossy(&c.read_to_end()).into_owned();
        assert!(answer.starts_with("HTTP/1.1 400 "), "{what}: {answer}");
        assert!(
            answer.contains("\r\nConnection: close\r\n"),
            "{what}: {answer}"
        );
        assert!(!answer.contains("101"), "{what}: {answer}");
    }
    // Content-Length: 0 is no body.
    let mut c = RawClient::connect(server.addr);
    c.send_raw(request("Content-Length: 0\r\n").as_bytes());
    let head = c.read_head();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    c.send_frame(0x81, b"hi", true);
    assert_eq!(c.read_frame().expect("an echo").payload, b"hi");
    drop(c);
    server.stop().unwrap();
}

/// A one-shot raw server: reads the request, answers with
/// `answer(accept)` and a frame, then holds the connection until the client ends it.
fn raw_server(answer: impl FnOnce(&str) -> String + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let Some(head) = read_http_head(&mut s) else {
            return;
        };
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key")
            .to_owned();
        let accept = ws_proto::accept_key(key.as_bytes());
        let mut bytes = answer(&accept).into_bytes();
        // A text frame "hi" right after the head: never a message.
        bytes.extend_from_slice(b"\x81\x02hi");
        let _ = s.write_all(&bytes);
        let mut sink = [0u8; 4096];
        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
    });
    addr
}

/// The header lines a faulty 101 adds, given the right accept value.
type Extra = fn(&str) -> String;

struct Client {
    log: Log,
}

impl Handler for Client {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.log.push("open");
        Ok(())
    }

    fn on_message(&mut self, _: Message) -> Result<()> {
        self.log.push("message");
        Ok(())
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error {err}"));
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.push(format!("close {}", u16::from(code)));
    }
}

/// The client holds a 101 to the same rules: a repeated
/// `Sec-WebSocket-Accept` or `Upgrade`, or a body, is an error and the
/// connection never opens.
fn the_client_refuses_a_faulty_101(rt: Runtime) {
    let cases: [(&str, Extra); 4] = [
        ("a second accept", |a| {
            format!("Sec-WebSocket-Accept: {a}\r\nSec-WebSocket-Accept: {a}\r\n")
        }),
        ("a second upgrade", |a| {
            format!("Sec-WebSocket-Accept: {a}\r\nUpgrade: websocket\r\n")
        }),
        ("a body by length", |a| {
            format!("Sec-WebSocket-Accept: {a}\r\nContent-Length: 4\r\n")
        }),
        ("a chunked body", |a| {
            format!("Sec-WebSocket-Accept: {a}\r\nTransfer-Encoding: chunked\r\n")
        }),
    ];
    for (what, extra) in cases {
        let addr = raw_server(move |accept| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\n{}\r\n",
                extra(accept)
            )
        });
        let log = Log::default();
        let client_log = log.clone();
        let url = format!("ws://{addr}/");
        let result = within(Duration::from_secs(30), move || {
            support::run_client(rt, Settings::default(), &url, move |_out: Sender| Client {
                log: client_log.clone(),
            })
        });
        let entries = log.entries();
        assert!(result.is_ok(), "{what}: {result:?}");
        assert!(
            entries.iter().any(|e| e.starts_with("error ")),
            "{what}: {entries:?}"
        );
        assert!(
            !entries.iter().any(|e| e == "open" || e == "message"),
            "{what}: {entries:?}"
        );
    }
}

runtimes!(refused_requests_get_400, the_client_refuses_a_faulty_101);
