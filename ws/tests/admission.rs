//! A full server answers and keeps serving: stalled handshakes have their
//! own cap (`max_pending_handshakes`) and cannot take the slots of open
//! connections; past either cap a new client reads `503 Service
//! Unavailable` with `Retry-After`, and the factory's handler for it hears
//! why in `on_error`. On every runtime, with raw TCP clients on loopback.

#[macro_use]
mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use support::{Log, LoggingEcho, RawClient, Server, upgrade_request, within};
use ws::{Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(60);

/// An echo server whose factory logs "made" for every handler and whose
/// handlers log their errors.
fn echo_server(rt: Runtime, settings: Settings, log: &Log) -> Server {
    let log = log.clone();
    Server::start(rt, settings, move || {
        move |out: Sender| {
            log.push("made");
            LoggingEcho {
                out,
                log: log.clone(),
            }
        }
    })
}

fn echoes(client: &mut RawClient, text: &str) {
    client.send_frame(0x81, text.as_bytes(), true);
    let frame = client.read_frame().expect("the connection ended");
    assert_eq!(frame.payload, text.as_bytes());
}

/// Sockets that connect and then send nothing, or half a request.
fn stalled(addr: std::net::SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|i| {
            let mut s = TcpStream::connect(addr).unwrap();
            if i % 2 == 1 {
                s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpg").unwrap();
            }
            s
        })
        .collect()
}

/// Sends a valid upgrade request and expects a 503 with Retry-After, then
/// the end of the connection.
fn expect_503(addr: std::net::SocketAddr) {
    let mut c = RawClient::connect(addr);
    c.send_raw(upgrade_request(&addr.to_string()).as_bytes());
    let head = c.read_head();
    assert!(
        head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nRetry-After: 10\r\n"), "{head}");
    let rest = String::from_utf8(c.read_to_end()).unwrap();
    assert!(rest.starts_with("server full"), "{rest:?}");
}

/// 200 stalled sockets, twice the default `max_connections`, and a new
/// client still gets its echo (before the fix it was accepted and dropped).
fn stalled_handshakes_do_not_lock_out_a_client(rt: Runtime) {
    let log = Log::default();
    let server = echo_server(rt, Settings::default(), &log);
    let stalled = stalled(server.addr, 200);
    log.wait_for("200 handshakes started", |e| {
        e.iter().filter(|e| *e == "made").count() >= 200
    });
    let mut client = RawClient::open(server.addr);
    echoes(&mut client, "through the crowd");
    // Gone before the server stops: it need not wait out their deadlines.
    drop((client, stalled));
    server.stop().unwrap();
}

/// Past `max_connections` open connections a new client reads a 503; the
/// open one keeps being served, and the refusal reaches `on_error`.
fn a_full_server_answers_503(rt: Runtime) {
    let log = Log::default();
    let settings = Settings {
        max_connections: 1,
        ..Settings::default()
    };
    let server = echo_server(rt, settings, &log);
    let mut open = RawClient::open(server.addr);
    echoes(&mut open, "first");
    for _ in 0..3 {
        expect_503(server.addr);
    }
    echoes(&mut open, "still served");
    log.wait_for("three refusals reported", |e| {
        e.iter()
            .filter(|e| e.contains("max_connections") && e.contains("503"))
            .count()
            == 3
    });
    assert!(
        log.entries()
            .iter()
            .all(|e| e == "made" || e.contains("WebSocket at Capacity")),
        "{:?}",
        log.entries()
    );
    // Once the open connection is gone its slot is free again.
    drop(open);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut next = loop {
        let mut c = RawClient::connect(server.addr);
        c.send_raw(upgrade_request("x").as_bytes());
        if c.read_head().starts_with("HTTP/1.1 101") {
            break c;
        }
        assert!(std::time::Instant::now() < deadline, "the slot never freed");
        std::thread::sleep(Duration::from_millis(50));
    };
    echoes(&mut next, "after");
    drop(next);
    server.stop().unwrap();
}

/// Past `max_pending_handshakes` stalled handshakes a new client reads a
/// 503 too, while open connections are far from their cap; the stalled
/// sockets free their slots at the handshake timeout.
fn too_many_handshakes_answer_503(rt: Runtime) {
    let log = Log::default();
    let settings = Settings {
        max_pending_handshakes: 5,
        handshake_timeout: Duration::from_secs(1),
        ..Settings::default()
    };
    let server = echo_server(rt, settings, &log);
    let mut open = RawClient::open(server.addr);
    let stalled = stalled(server.addr, 5);
    log.wait_for("six handlers", |e| {
        e.iter().filter(|e| *e == "made").count() >= 6
    });
    let mut c = RawClient::connect(server.addr);
    c.send_raw(b"GET / HTTP/1.1\r\n\r\n");
    let head = c.read_head();
    assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
    assert!(head.contains("\r\nRetry-After: 1\r\n"), "{head}");
    log.wait_for("the refusal reported", |e| {
        e.iter().any(|e| e.contains("max_pending_handshakes"))
    });
    echoes(&mut open, "open connections are served");
    // At the handshake timeout the stalled ones are cut and a new client
    // gets in.
    log.wait_for("the stalled handshakes cut", |e| {
        e.iter().filter(|e| e.contains("Timeout")).count() >= 5
    });
    let mut late = RawClient::open(server.addr);
    echoes(&mut late, "late");
    drop((late, open, stalled));
    server.stop().unwrap();
}

/// A burst of honest clients larger than `max_pending_handshakes`, whose
/// requests come a little after their TCP connects (as from ws-rs's
/// `bench.rs`, which opens 10,000 at once): the server holds off
/// accepting while the cap is full, and every client is served; none
/// reads a 503.
fn a_burst_of_slow_clients_is_served(rt: Runtime) {
    let log = Log::default();
    let settings = Settings {
        max_pending_handshakes: 4,
        ..Settings::default()
    };
    let server = echo_server(rt, settings, &log);
    let mut sockets: Vec<TcpStream> = (0..24)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for s in &mut sockets {
        s.write_all(upgrade_request(&server.addr.to_string()).as_bytes())
            .unwrap();
    }
    for s in &mut sockets {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = support::read_http_head(s).expect("an answer");
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    }
    assert!(
        !log.entries().iter().any(|e| e.contains("503")),
        "{:?}",
        log.entries()
    );
    drop(sockets);
    server.stop().unwrap();
}

runtimes!(
    a_burst_of_slow_clients_is_served,
    stalled_handshakes_do_not_lock_out_a_client,
    a_full_server_answers_503,
    too_many_handshakes_answer_503,
);
