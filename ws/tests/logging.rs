//! The library logs through the `log` crate where ws-rs did: a connection
//! opened and closed, a handshake refused, a protocol error, and the default
//! `on_error`. A test logger records what comes out, on every runtime.

#[macro_use]
mod support;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use log::{Level, LevelFilter, Log as _, Metadata, Record};
use support::{RawClient, Server, run_client, within};
use ws::{CloseCode, Handler, Message, Request, Response, Result, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(30);

/// Every record the library logged, as (level, target, text).
static RECORDS: Mutex<Vec<(Level, String, String)>> = Mutex::new(Vec::new());
/// The tests share one logger: they take turns.
static TURN: Mutex<()> = Mutex::new(());

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        if record.target().starts_with("ws") {
            RECORDS.lock().unwrap().push((
                record.level(),
                record.target().to_owned(),
                record.args().to_string(),
            ));
        }
    }
    fn flush(&self) {}
}

static RECORDER: Recorder = Recorder;

/// Installs the logger (once) and clears what earlier tests recorded.
fn turn() -> MutexGuard<'static, ()> {
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if log::set_logger(&RECORDER).is_ok() {
        log::set_max_level(LevelFilter::Trace);
    }
    assert!(RECORDER.enabled(&Metadata::builder().build()));
    RECORDS.lock().unwrap().clear();
    turn
}

/// Waits (at most 10 s) for a record of `level` whose text contains `text`.
fn wait_for_record(level: Level, text: &str) {
    for _ in 0..1000 {
        if RECORDS
            .lock()
            .unwrap()
            .iter()
            .any(|(l, _, t)| *l == level && t.contains(text))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!(
        "no {level} record containing {text:?}; recorded: {:#?}",
        RECORDS.lock().unwrap()
    );
}

/// A client that sends one message and closes on the echo.
struct OneShot(Sender);

impl Handler for OneShot {
    fn on_open(&mut self, _: ws::Handshake) -> Result<()> {
        self.0.send("hello")
    }
    fn on_message(&mut self, _: Message) -> Result<()> {
        self.0.close(CloseCode::Normal)
    }
}

fn open_and_close_are_logged(rt: Runtime) {
    let _turn = turn();
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| move |msg| out.send(msg)
    });
    run_client(rt, Settings::default(), &server.url(), OneShot).unwrap();
    wait_for_record(Level::Info, "open (Server, peer 127.0.0.1:");
    wait_for_record(Level::Info, "open (Client, peer 127.0.0.1:");
    wait_for_record(Level::Debug, "closed with 1000");
    server.stop().unwrap();
}

fn a_protocol_error_reaches_the_default_on_error(rt: Runtime) {
    let _turn = turn();
    // A handler that keeps the default `on_error`.
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| move |msg| out.send(msg)
    });
    let mut raw = RawClient::open(server.addr);
    // An unmasked frame from a client: a protocol error (RFC 6455 section 5.1).
    raw.send_frame(0x81, b"unmasked", false);
    assert_eq!(raw.expect_close(), Some(1002));
    // The core's reason, then the default `on_error` at the error level.
    wait_for_record(Level::Debug, "ended:");
    wait_for_record(Level::Error, "mask");
    drop(raw);
    server.stop().unwrap();
}

fn a_refused_handshake_is_logged(rt: Runtime) {
    let _turn = turn();
    struct Refuse;
    impl Handler for Refuse {
        fn on_request(&mut self, _: &Request) -> Result<Response> {
            Ok(Response::new(403, "Forbidden", b"no".to_vec()))
        }
    }
    let server = Server::start(rt, Settings::default(), || |_: Sender| Refuse);
    let mut raw = RawClient::connect(server.addr);
    raw.send_raw(
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
            support::KEY
        )
        .as_bytes(),
    );
    let answer = String::from_utf8_lossy(&raw.read_to_end()).into_owned();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    wait_for_record(
        Level::Debug,
        "handshake refused by the handler with HTTP 403",
    );
    drop(raw);
    server.stop().unwrap();
}

fn nothing_is_logged_below_the_level_asked_for(rt: Runtime) {
    let _turn = turn();
    log::set_max_level(LevelFilter::Off);
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| move |msg| out.send(msg)
    });
    run_client(rt, Settings::default(), &server.url(), OneShot).unwrap();
    server.stop().unwrap();
    log::set_max_level(LevelFilter::Trace);
    let records = RECORDS.lock().unwrap();
    assert!(records.is_empty(), "{records:#?}");
}

runtimes!(
    open_and_close_are_logged,
    a_protocol_error_reaches_the_default_on_error,
    a_refused_handshake_is_logged,
    nothing_is_logged_below_the_level_asked_for,
);
