//! Back-pressure through the facade: each connection's outgoing buffer has a
//! cap, `Sender::send` refuses a message that would pass it, `on_drain` says
//! when to go on, and nothing is dropped silently. Every test runs on every
//! runtime of the build (`runtimes!` at the bottom), against raw socket peers
//! that read only when the test says so.

#[macro_use]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use support::{Log, RawClient, RawFrame, Server, within};
use ws::{
    CloseCode, Error, ErrorKind, Handler, Handshake, Message, Result, Runtime, Sender, Settings,
};

const LIMIT: Duration = Duration::from_secs(30);

/// The cap of each connection's outgoing buffer.
const CAP: usize = 256 * 1024;
/// The size of each numbered message.
const SIZE: usize = 16 * 1024;
/// Room for the frame headers of the messages in the buffer.
const SLACK: usize = 1024;
/// How many messages the streaming tests send: 48 MiB, far more than the
/// kernel's socket buffers take from a peer that does not read, so the
/// sender must stall while the peer does not read.
const TOTAL: u64 = 3072;

fn capped(close: bool) -> Settings {
    Settings {
        out_buffer_grow: false,
        out_buffer_capacity: CAP,
        close_on_write_cap: close,
        tcp_nodelay: true,
        ..Settings::default()
    }
}

/// A binary message of `SIZE` bytes starting with `i`.
fn numbered(i: u64) -> Vec<u8> {
    let mut data = vec![0x5a; SIZE];
    data[..8].copy_from_slice(&i.to_be_bytes());
    data
}

/// The number of a message made by [`numbered`].
fn number(frame: &RawFrame) -> u64 {
    assert_eq!(frame.opcode, 2, "not a numbered message: {frame:?}");
    assert_eq!(frame.payload.len(), SIZE);
    u64::from_be_bytes(frame.payload[..8].try_into().unwrap())
}

/// Parses the number after `prefix` in a log entry like "refused 17 262144".
fn field(entry: &str, index: usize) -> usize {
    entry.split(' ').nth(index).unwrap().parse().unwrap()
}

// ------------------------------------------------- refusal and on_drain

/// Sends numbered messages until the cap refuses one, and again on each
/// `on_drain`, `TOTAL` in all and then "done".
struct Streamer {
    out: Sender,
    log: Log,
    next: u64,
    done: bool,
}

impl Streamer {
    fn fill(&mut self) -> Result<()> {
        while !self.done {
            let msg = if self.next < TOTAL {
                Message::Binary(numbered(self.next))
            } else {
                Message::text("done")
            };
            match self.out.send(msg) {
                Ok(()) if self.next < TOTAL => self.next += 1,
                Ok(()) => self.done = true,
                Err(e) if matches!(e.kind, ErrorKind::Capacity) => {
                    let buffered = self.out.buffered_amount();
                    self.log
                        .push(format!("refused {} {buffered} {}", self.next, e.details));
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Handler for Streamer {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.fill()
    }

    fn on_drain(&mut self) -> Result<()> {
        let buffered = self.out.buffered_amount();
        self.log.push(format!("drain {} {buffered}", self.next));
        self.fill()
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error {err}"));
    }
}

/// A peer that stops reading: `send` fails with Capacity while at most the
/// cap is buffered, the sender stalls; once the peer reads, `on_drain`
/// comes and sends succeed again, and the peer gets every accepted message,
/// in order.
fn send_fails_at_the_cap_and_on_drain_follows(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, capped(false), move || {
        move |out| Streamer {
            out,
            log: server_log.clone(),
            next: 0,
            done: false,
        }
    });
    let mut c = RawClient::open(server.addr);
    // The messages of one handler call count before any is written: the
    // first call is refused at once.
    log.wait_for("a refused send", |e| !e.is_empty());
    let first = log.entries()[0].clone();
    assert!(first.starts_with("refused "), "{first}");
    assert_eq!(field(&first, 1), CAP / SIZE, "{first}");
    assert!(first.contains("would pass its cap"), "{first}");
    // Not reading: whatever the kernel takes, the sender then stalls.
    thread::sleep(Duration::from_millis(300));
    let stalled = log.entries();
    let accepted_while_stalled = stalled.iter().map(|e| field(e, 1)).max().unwrap();
    assert!(
        (accepted_while_stalled as u64) < TOTAL,
        "{accepted_while_stalled} messages accepted from a peer that does not read"
    );
    // Now read everything.
    for i in 0..TOTAL {
        let frame = c.read_frame().expect("the stream ended early");
        assert_eq!(number(&frame), i);
    }
    let last = c.read_frame().unwrap();
    assert_eq!((last.opcode, last.payload.as_slice()), (1, &b"done"[..]));
    let entries = log.entries();
    for entry in &entries {
        assert!(!entry.starts_with("error"), "{entries:?}");
        let buffered = field(entry, 2);
        if entry.starts_with("refused") {
            assert!(buffered > 0 && buffered <= CAP + SLACK, "{entry}");
        }
    }
    // The peer's reading is what let the rest through.
    let drains_after_stall = entries[stalled.len()..]
        .iter()
        .filter(|e| e.starts_with("drain"))
        .count();
    assert!(drains_after_stall > 0, "{entries:?}");
    drop(c);
    server.stop().unwrap();
}

/// Hands its connection's `Sender` to the test, and records `on_drain`.
struct Remote {
    out: Sender,
    senders: std::sync::mpsc::Sender<Sender>,
    log: Log,
}

impl Handler for Remote {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.senders.send(self.out.clone()).unwrap();
        Ok(())
    }

    fn on_drain(&mut self) -> Result<()> {
        self.log.push("drain");
        Ok(())
    }
}

/// The same from another thread: `send` there fails at the cap at once,
/// every message it accepted arrives, and `on_drain` follows the reading.
fn a_sender_on_another_thread_is_refused_too(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = Server::start(rt, capped(false), move || {
        move |out| Remote {
            out,
            senders: tx.clone(),
            log: server_log.clone(),
        }
    });
    let mut c = RawClient::open(server.addr);
    let out = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut accepted = 0;
    let buffered = loop {
        match out.send(numbered(accepted)) {
            Ok(()) => accepted += 1,
            Err(e) if matches!(e.kind, ErrorKind::Capacity) => break out.buffered_amount(),
            Err(e) => panic!("{e}"),
        }
        assert!(
            accepted < TOTAL,
            "no refusal from a peer that does not read"
        );
    };
    assert!(buffered > 0 && buffered <= CAP + SLACK, "{buffered}");
    assert!(log.entries().is_empty(), "{:?}", log.entries());
    for i in 0..accepted {
        assert_eq!(number(&c.read_frame().expect("the stream ended early")), i);
    }
    log.wait_for("on_drain", |e| e == ["drain"]);
    out.send("after the drain").unwrap();
    let frame = c.read_frame().unwrap();
    assert_eq!(frame.payload, b"after the drain");
    drop(c);
    server.stop().unwrap();
}

// ----------------------------------------------------- the close policy

/// Sends numbered messages from `on_open` until one is refused; then
/// either goes on (`propagate` false) or returns the error.
struct Overflow {
    out: Sender,
    log: Log,
    propagate: bool,
}

impl Handler for Overflow {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        for i in 0.. {
            if let Err(e) = self.out.send(numbered(i)) {
                self.log.push(format!("refused {i} {:?}", e.kind));
                assert!(e.details.contains("closing it with 1008"), "{e}");
                // Later sends are refused too.
                assert!(self.out.send("more").is_err());
                if self.propagate {
                    return Err(e);
                }
                return Ok(());
            }
        }
        unreachable!()
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error {:?}", err.kind));
    }
}

/// With `close_on_write_cap`, the refused send also closes the connection
/// with 1008, after every message accepted before it, whether the handler
/// goes on or returns the error; the handler hears of it once.
fn the_close_policy_closes_with_1008(rt: Runtime) {
    for propagate in [false, true] {
        let log = Log::default();
        let server_log = log.clone();
        let server = Server::start(rt, capped(true), move || {
            move |out| Overflow {
                out,
                log: server_log.clone(),
                propagate,
            }
        });
        let mut c = RawClient::open(server.addr);
        log.wait_for("a refused send", |e| !e.is_empty());
        let accepted = field(&log.entries()[0], 1) as u64;
        assert_eq!(accepted as usize, CAP / SIZE);
        let mut received = 0;
        let code = loop {
            let frame = c.read_frame().expect("no close frame");
            if frame.opcode == 8 {
                break frame.close_code();
            }
            assert_eq!(number(&frame), received);
            received += 1;
        };
        c.send_raw(&[0x88, 0x80, 0, 0, 0, 0]);
        assert!(c.read_frame().is_none());
        assert_eq!(code, Some(1008), "propagate: {propagate}");
        assert_eq!(received, accepted, "propagate: {propagate}");
        log.wait_for("the error", |e| e.len() >= 2);
        let entries = log.entries();
        assert_eq!(
            entries,
            [
                format!("refused {accepted} Capacity"),
                "error Capacity".into()
            ],
            "propagate: {propagate}"
        );
        drop(c);
        server.stop().unwrap();
        assert_eq!(log.entries().len(), 2, "{:?}", log.entries());
    }
}

// ----------------------------------------------------------- broadcasts

/// Records its connection's opening and errors.
struct Member {
    out: Sender,
    log: Log,
}

impl Handler for Member {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.log.push(format!("open {}", self.out.connection_id()));
        Ok(())
    }

    fn on_error(&mut self, err: Error) {
        let id = self.out.connection_id();
        self.log.push(format!("error {id} {:?}", err.kind));
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        let id = self.out.connection_id();
        self.log.push(format!("close {id} {}", u16::from(code)));
    }
}

/// How many messages the broadcast tests send: 16 MiB, four times what the
/// kernel took from a peer that does not read when these tests were
/// written (Linux, `tcp_wmem` up to 4 MiB).
const BROADCASTS: u64 = 1024;

/// Broadcasts `BROADCASTS` numbered messages to a peer that reads and one that
/// does not: the reader gets every one; the other gets what fits under its
/// cap, and each message it could not take is reported to its handler
/// (default policy), or it is closed with 1008 (close policy).
fn a_broadcast_skips_only_the_connection_over_its_cap(rt: Runtime, close: bool) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, capped(close), move || {
        move |out| Member {
            out,
            log: server_log.clone(),
        }
    });
    let mut stalled = RawClient::open(server.addr);
    log.wait_for("the first open", |e| e.len() == 1);
    let stalled_id = field(&log.entries()[0], 1);
    let mut healthy = RawClient::open(server.addr);
    log.wait_for("the second open", |e| e.len() == 2);

    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    let reader = thread::spawn(move || {
        for i in 0..BROADCASTS {
            let frame = healthy
                .read_frame()
                .expect("the healthy peer lost its stream");
            assert_eq!(number(&frame), i);
            count.store(i + 1, Ordering::Relaxed);
        }
        healthy
    });
    for i in 0..BROADCASTS {
        // Keep well within the healthy peer's cap: only the stalled one
        // may pass it.
        while i >= received.load(Ordering::Relaxed) + 8 {
            thread::sleep(Duration::from_micros(100));
        }
        loop {
            match server.broadcaster.broadcast(numbered(i)) {
                Ok(()) => break,
                Err(e) if matches!(e.kind, ErrorKind::Queue(_)) => {
                    thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    let mut healthy = reader.join().unwrap();
    let errors = |entries: &[String]| {
        entries
            .iter()
            .filter(|e| e.starts_with(&format!("error {stalled_id} ")))
            .count()
    };
    log.wait_for("a reported drop", |e| errors(e) > 0);

    // The stalled peer reads what it was given, up to the close: the
    // server's shutdown (1001) or the close policy's 1008.
    let stalled_reader = thread::spawn(move || {
        let mut numbers = Vec::new();
        loop {
            let frame = stalled.read_frame().expect("no close frame");
            if frame.opcode == 8 {
                let _ = std::io::Write::write_all(&mut stalled.stream, &[0x88, 0x80, 0, 0, 0, 0]);
                return (numbers, frame.close_code());
            }
            numbers.push(number(&frame));
        }
    });
    server.broadcaster.shutdown().unwrap();
    let (numbers, code) = stalled_reader.join().unwrap();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(!numbers.is_empty());
    assert_eq!(healthy.expect_close(), Some(1001));
    drop(healthy);
    server.stop().unwrap();
    let entries = log.entries();
    let healthy_errors = entries
        .iter()
        .filter(|e| e.starts_with("error") && !e.starts_with(&format!("error {stalled_id} ")))
        .count();
    assert_eq!(healthy_errors, 0, "{entries:?}");
    assert!(
        entries
            .iter()
            .all(|e| !e.starts_with("error") || e.ends_with("Capacity"))
    );
    if close {
        assert_eq!(code, Some(1008));
        assert_eq!(errors(&entries), 1, "{entries:?}");
    } else {
        assert_eq!(code, Some(1001));
        // Every message was delivered or reported.
        assert_eq!(
            numbers.len() + errors(&entries),
            BROADCASTS as usize,
            "{entries:?}"
        );
    }
}

fn a_broadcast_over_the_cap_is_reported(rt: Runtime) {
    a_broadcast_skips_only_the_connection_over_its_cap(rt, false);
}

fn a_broadcast_over_the_cap_closes_with_1008(rt: Runtime) {
    a_broadcast_skips_only_the_connection_over_its_cap(rt, true);
}

runtimes!(
    send_fails_at_the_cap_and_on_drain_follows,
    a_sender_on_another_thread_is_refused_too,
    the_close_policy_closes_with_1008,
    a_broadcast_over_the_cap_is_reported,
    a_broadcast_over_the_cap_closes_with_1008,
);
