//! Memory per connection, with and without permessage-deflate, measured
//! with a counting allocator. Run with `--nocapture` to see the table the
//! `deflate` module docs quote:
//!
//!     cargo test -p ws-proto --release --test memory -- --nocapture
//!
//! The allocator wrapper is the only unsafe code in the workspace's tests;
//! the crates themselves forbid it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use ws_proto::{
    Accept, Config, Connection, DeflateConfig, Deflater, Event, Inflater, Message, Request,
    Transmit,
};

thread_local! {
    /// Bytes allocated and not yet freed by this thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

struct Counting;

fn count(delta: isize) {
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

// SAFETY: every call is forwarded to `System` unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Live bytes that `make` leaves allocated in the value it returns.
fn measure<T>(make: impl FnOnce() -> T) -> (T, isize) {
    let before = live();
    let value = make();
    (value, live() - before)
}

fn drain(conn: &mut Connection, now: Instant) -> Vec<u8> {
    let mut wire = Vec::new();
    while let Some(t) = conn.poll_transmit(now, &mut wire) {
        if t == Transmit::Close {
            break;
        }
    }
    wire
}

fn drain_events(conn: &mut Connection) {
    while conn.poll_event().is_some() {}
}

fn message() -> Message {
    Message::Text("{\"event\": \"tick\", \"seq\": 12345, \"payload\": \"hello world\"} ".repeat(20))
}

/// A server connection after its handshake with a client of the same
/// configuration, optionally after one message each way; the client is
/// dropped before the measurement ends, so only the server is counted.
fn server_connection(deflate: Option<DeflateConfig>, exchange: bool) -> (Connection, isize) {
    server_connection_with(deflate, deflate, exchange)
}

fn server_connection_with(
    client: Option<DeflateConfig>,
    server: Option<DeflateConfig>,
    exchange: bool,
) -> (Connection, isize) {
    let config = |deflate| {
        Arc::new(Config {
            deflate,
            ..Config::default()
        })
    };
    let now = Instant::now();
    let before = live();
    let server = {
        let request = Request::client("ws://example.com/").unwrap();
        let mut c = Connection::client(config(client), request, now, [1; 32]);
        let mut s = Connection::server(config(server), now, [2; 32]);
        s.handle_input(now, &drain(&mut c, now));
        let Some(Event::Request(_)) = s.poll_event() else {
            panic!("no request")
        };
        s.accept(now, Accept::default()).unwrap();
        drain_events(&mut s);
        c.handle_input(now, &drain(&mut s, now));
        drain_events(&mut c);
        if exchange {
            c.send(now, message()).unwrap();
            s.handle_input(now, &drain(&mut c, now));
            drain_events(&mut s);
            s.send(now, message()).unwrap();
            c.handle_input(now, &drain(&mut s, now));
            drain_events(&mut c);
        }
        s
    };
    (server, live() - before)
}

fn kib(bytes: isize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[test]
fn memory_per_connection() {
    let mut table = Vec::new();

    let (_plain, plain) = server_connection(None, true);
    table.push((
        "server connection, no deflate, after a message each way",
        plain,
    ));
    let (_idle, idle) = server_connection(Some(DeflateConfig::default()), false);
    table.push(("server connection, deflate negotiated, idle", idle));
    let (_used, used) = server_connection(Some(DeflateConfig::default()), true);
    table.push((
        "server connection, deflate (15 bits), after a message each way",
        used,
    ));
    let small = DeflateConfig {
        max_window_bits: 12,
        peer_max_window_bits: 12,
        ..DeflateConfig::default()
    };
    let (_small, small_used) = server_connection(Some(small), true);
    table.push((
        "server connection, deflate (12 bits), after a message each way",
        small_used,
    ));
    let read_only = DeflateConfig {
        threshold: usize::MAX,
        ..DeflateConfig::default()
    };
    let (_read_only, read_only_used) =
        server_connection_with(Some(DeflateConfig::default()), Some(read_only), true);
    table.push((
        "server connection, deflate, threshold usize::MAX (inflate only)",
        read_only_used,
    ));

    let payload = message().into_bytes();
    let mut parts = Vec::new();
    for bits in [15u8, 12, 9] {
        let (deflater, d) = measure(|| {
            let mut d = Deflater::new(6, bits, false);
            let mut out = Vec::new();
            assert!(d.compress(&payload, &mut out));
            d
        });
        let mut wire = Vec::new();
        Deflater::new(6, bits, false).compress(&payload, &mut wire);
        let (inflater, i) = measure(|| {
            let mut i = Inflater::new(bits);
            let mut out = Vec::new();
            i.inflate(&wire, &mut out, 1 << 20).unwrap();
            i.finish(&mut out, 1 << 20).unwrap();
            assert_eq!(out, payload);
            i
        });
        parts.push((bits, d, i));
        drop((deflater, inflater));
    }

    eprintln!("memory per connection (live heap bytes):");
    for (what, bytes) in &table {
        eprintln!("  {what:<66} {:>10}", kib(*bytes));
    }
    eprintln!(
        "  {:<12} {:>12} {:>14}",
        "window bits", "compressor", "decompressor"
    );
    for (bits, d, i) in &parts {
        eprintln!("  {bits:<12} {:>12} {:>14}", kib(*d), kib(*i));
    }

    // What the module docs state, with some slack.
    assert!(plain < 2048, "{plain}");
    assert!(idle - plain < 512, "idle deflate costs {}", idle - plain);
    let full = parts[0].1 + parts[0].2;
    assert!(
        used - plain > full * 9 / 10 && used - plain < full + 16 * 1024,
        "{used}"
    );
    assert!(
        parts[0].1 < 400 * 1024 && parts[0].2 < 50 * 1024,
        "{parts:?}"
    );
    assert!(
        parts[1].1 < 280 * 1024 && parts[1].2 < 50 * 1024,
        "{parts:?}"
    );
    assert!(small_used < used, "{small_used} {used}");
    assert!(read_only_used < plain + 50 * 1024, "{read_only_used}");
    assert!(read_only_used > plain + 40 * 1024, "{read_only_used}");
}
