//! Hostile input through the facade, on every runtime (`runtimes!` at the
//! bottom): hostile clients against our server, and a hostile server
//! against our client. Each case checks the exact HTTP status or close
//! code, that nothing panics, that the heap never grows by more than the
//! configured limit plus a fixed slack while the input is handled, and that
//! another connection keeps working meanwhile.
//!
//! The frame-level classes on the server side (masking, opcodes, RSV bits,
//! control frames, UTF-8, close payloads, lengths) are in `facade.rs`
//! (`hostile_input_gets_its_close_code`).

// The counting global allocator below is the only unsafe code: it forwards
// to the system allocator and counts live bytes.
#![allow(unsafe_code)]

#[macro_use]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use support::{Log, RawClient, Server, within};
use ws::util::Token;
use ws::{
    Builder, CloseCode, Error, Handler, Handshake, Message, Request, Result, Runtime, Sender,
    Settings,
};

const LIMIT: Duration = Duration::from_secs(30);

// ------------------------------------------------------------- memory

/// Counts the heap bytes the whole process holds, and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` with the caller's arguments,
// whose contract is the same; the counting does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `GlobalAlloc::alloc`, which the caller upholds.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `GlobalAlloc::alloc_zeroed`, which the caller upholds.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `GlobalAlloc::dealloc`, which the caller upholds.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `GlobalAlloc::realloc`, which the caller upholds.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests of this binary run one at a time: the heap is the process's.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` and returns how far the heap grew above where it was at the
/// start, at its highest.
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let value = f();
    let peak = PEAK.load(Ordering::SeqCst);
    (value, peak.saturating_sub(base))
}

/// What a server may allocate for one more connection beside the
/// handshake limit: its state and buffers (the tokio driver's 64 KiB read
/// buffer among them), the handler, the test client's own buffers. When
/// this was written, a connection with a 16 KiB head took 17 KiB on mio and
/// 92 KiB on tokio; buffering the 100 KB of 10,000 headers would not fit.
const SERVER_SLACK: usize = 96 << 10;

// -------------------------------------------------------- server side

/// The handshake limit of the servers below.
const MAX_HANDSHAKE: usize = 16 << 10;

/// An echo server with the default limits (16 KiB of handshake, 64 headers).
fn echo_server(rt: Runtime, settings: Settings) -> Server {
    Server::start(rt, settings, || |out: Sender| move |msg| out.send(msg))
}

/// The healthy connection still echoes.
fn alive(healthy: &mut RawClient, what: &str) {
    healthy.send_frame(0x81, what.as_bytes(), true);
    let frame = healthy.read_frame().expect("the healthy connection ended");
    assert_eq!(frame.payload, what.as_bytes(), "{what}");
}

fn request(headers: &str) -> String {
    format!("GET / HTTP/1.1\r\nHost: x\r\n{headers}\r\n")
}

const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

/// Handshakes no server may accept: each gets its exact status, the
/// connection closed, the heap bounded by the handshake limit, and a
/// healthy connection keeps being served before, during and after.
fn bad_requests_get_their_status(rt: Runtime) {
    let _serial = serial();
    let settings = Settings {
        max_handshake_bytes: MAX_HANDSHAKE,
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let mut healthy = RawClient::open(server.addr);
    let version = "Sec-WebSocket-Version: 13\r\n";
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let many: String = (0..10_000).map(|i| format!("X-{i}: y\r\n")).collect();
    let long = format!("X-Long: {}\r\n", "a".repeat(1 << 20));
    let cases: Vec<(&str, String, &str, &[&str])> = vec![
        (
            "wrong version",
            request(&format!("{UPGRADE}{key}Sec-WebSocket-Version: 8\r\n")),
            "HTTP/1.1 426 ",
            &["\r\nSec-WebSocket-Version: 13\r\n"],
        ),
        (
            "missing key",
            request(&format!("{UPGRADE}{version}")),
            "HTTP/1.1 400 ",
            &["Sec-WebSocket-Key"],
        ),
        (
            "malformed key",
            request(&format!("{UPGRADE}Sec-WebSocket-Key: short\r\n{version}")),
            "HTTP/1.1 400 ",
            &["Sec-WebSocket-Key"],
        ),
        (
            "not HTTP",
            "\x16\x03\x01 hello\r\n\r\n".into(),
            "HTTP/1.1 400 ",
            &[],
        ),
        (
            "10,000 headers",
            request(&format!("{UPGRADE}{key}{version}{many}")),
            "HTTP/1.1 431 ",
            &[],
        ),
        (
            "a 1 MiB header line",
            request(&format!("{UPGRADE}{key}{version}{long}")),
            "HTTP/1.1 431 ",
            &[],
        ),
    ];
    for (what, request, status, contains) in cases {
        let request = request.into_bytes();
        let (answer, growth) = peak_growth(|| {
            let mut c = RawClient::connect(server.addr);
            // Half, then the healthy connection, then the rest: the server
            // may have answered and stopped reading by then, so a failed
            // write is no failure.
            let half = request.len() / 2;
            let _ = c.stream.write_all(&request[..half]);
            alive(&mut healthy, what);
            let _ = c.stream.write_all(&request[half..]);
            String::from_utf8_lossy(&c.read_to_end()).into_owned()
        });
        assert!(answer.starts_with(status), "{what}: {answer}");
        assert!(
            answer.contains("\r\nConnection: close\r\n"),
            "{what}: {answer}"
        );
        for part in contains {
            assert!(answer.contains(part), "{what}: {answer}");
        }
        assert!(
            growth <= MAX_HANDSHAKE + SERVER_SLACK,
            "{what}: the heap grew by {growth} bytes"
        );
        alive(&mut healthy, what);
    }
    drop(healthy);
    server.stop().unwrap();
}

/// A request trickled one byte a second gets 408 when the handshake
/// deadline passes, counted from the connection: the trickle does not
/// extend it.
fn a_slowloris_gets_408_at_the_deadline(rt: Runtime) {
    let _serial = serial();
    const DEADLINE: Duration = Duration::from_secs(2);
    let settings = Settings {
        handshake_timeout: DEADLINE,
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let mut healthy = RawClient::open(server.addr);
    let ((answer, elapsed), growth) = peak_growth(|| {
        let mut c = RawClient::connect(server.addr);
        let started = Instant::now();
        // The trickle would go on past the deadline plus its own length.
        c.stream
            .set_read_timeout(Some(Duration::from_millis(4500)))
            .unwrap();
        let mut writer = c.stream.try_clone().unwrap();
        let trickle = thread::spawn(move || {
            for &b in b"GET / HTTP/1.1\r\n" {
                if writer.write_all(&[b]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_secs(1));
            }
        });
        thread::sleep(Duration::from_millis(1500));
        alive(&mut healthy, "during the trickle");
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            match c.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("no answer within 4.5 s: {e}"),
            }
        }
        let elapsed = started.elapsed();
        // Ends the trickle: its next write fails.
        let _ = c.stream.shutdown(std::net::Shutdown::Both);
        trickle.join().unwrap();
        (String::from_utf8_lossy(&answer).into_owned(), elapsed)
    });
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        elapsed >= DEADLINE - Duration::from_millis(100),
        "{elapsed:?}"
    );
    assert!(
        growth <= MAX_HANDSHAKE + SERVER_SLACK,
        "the heap grew by {growth} bytes"
    );
    alive(&mut healthy, "after the trickle");
    drop(healthy);
    server.stop().unwrap();
}

// -------------------------------------------------------- client side

/// The frame limits of the clients below.
const MAX_MESSAGE: usize = 64 << 10;

/// What a client may allocate beside its frame limit: its runtime (the
/// tokio runtime, the mio loop and its 64 KiB read buffer), two
/// connections with their buffers and handlers, the hostile server's
/// thread and buffers. When this was written, the cases took at most
/// 115 KiB on mio and 260 KiB on tokio.
const CLIENT_SLACK: usize = 320 << 10;

/// A raw server for one client: reads the request, answers with
/// `response(key)`, writes `frames`, then reads what the client sends
/// until it closes, and returns the code of the first close frame (`None`
/// for none, `Some(None)` inside for a close frame without a code).
fn hostile_server(
    response: impl FnOnce(&str) -> String + Send + 'static,
    frames: Vec<u8>,
) -> (SocketAddr, thread::JoinHandle<Option<Option<u16>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "the client went away during its request");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("no key")
            .to_owned();
        s.write_all(response(&key).as_bytes()).unwrap();
        let _ = s.write_all(&frames);
        read_close(&mut s, buf)
    });
    (addr, handle)
}

/// Reads (masked) client frames until a close frame or the end of the
/// stream; `Some(code)` for a close frame.
fn read_close(s: &mut TcpStream, mut buf: Vec<u8>) -> Option<Option<u16>> {
    loop {
        if buf.len() >= 2 {
            assert_ne!(buf[1] & 0x80, 0, "client frames are masked");
            let (len, start) = match buf[1] & 0x7f {
                126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
                127 if buf.len() >= 10 => (
                    u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                126 | 127 => (usize::MAX, 0),
                n => (usize::from(n), 2),
            };
            if len != usize::MAX && buf.len() >= start + 4 + len {
                let key: [u8; 4] = buf[start..start + 4].try_into().unwrap();
                let payload: Vec<u8> = buf[start + 4..start + 4 + len]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key[i % 4])
                    .collect();
                if buf[0] & 0x0f == 8 {
                    return Some(
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])),
                    );
                }
                buf.drain(..start + 4 + len);
                continue;
            }
        }
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn switching(accept: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// The right 101 for `key`.
fn good_101(key: &str) -> String {
    switching(&ws_proto::accept_key(key.as_bytes()))
}

/// A client connection: to the hostile server, recording what happens; or
/// to a healthy echo server, checking that it still answers once the
/// hostile connection has failed.
struct Client {
    out: Sender,
    log: Log,
    hostile_port: u16,
    hostile: bool,
}

impl Handler for Client {
    fn build_request(&mut self, url: &url::Url) -> Result<Request> {
        self.hostile = url.port() == Some(self.hostile_port);
        Request::from_url(url)
    }

    fn on_open(&mut self, _: Handshake) -> Result<()> {
        if self.hostile {
            self.log.push("hostile open");
            Ok(())
        } else {
            self.out.timeout(5, Token(0))
        }
    }

    fn on_timeout(&mut self, _: Token) -> Result<()> {
        if self.log.count("hostile error") > 0 {
            self.out.send("after")
        } else {
            self.out.timeout(5, Token(0))
        }
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        if !self.hostile && msg.as_text()? == "after" {
            self.log.push("healthy ok");
            return self.out.close(CloseCode::Normal);
        }
        Ok(())
    }

    fn on_error(&mut self, err: Error) {
        let who = if self.hostile { "hostile" } else { "healthy" };
        self.log.push(format!("{who} error {:?}", err.kind));
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        if self.hostile {
            self.log.push(format!("hostile close {}", u16::from(code)));
        }
    }
}

/// Runs a client with a connection to the hostile server at `hostile` and
/// one to `healthy`, to their end; returns the log and the heap's growth.
fn run_client(rt: Runtime, hostile: SocketAddr, healthy: &Server) -> (Log, usize) {
    let log = Log::default();
    let client_log = log.clone();
    let settings = Settings {
        max_message_size: MAX_MESSAGE,
        max_frame_size: MAX_MESSAGE,
        ..Settings::default()
    };
    let ((), growth) = peak_growth(|| {
        let mut ws = Builder::new()
            .with_settings(settings)
            .with_runtime(rt)
            .build(move |out| Client {
                out,
                log: client_log.clone(),
                hostile_port: hostile.port(),
                hostile: false,
            })
            .unwrap();
        ws.connect(url::Url::parse(&format!("ws://{hostile}/")).unwrap())
            .unwrap();
        ws.connect(url::Url::parse(&healthy.url()).unwrap())
            .unwrap();
        ws.run().unwrap();
    });
    (log, growth)
}

/// A 101 whose Sec-WebSocket-Accept does not match the key: the handshake
/// fails with a Protocol error, the connection never opens, and the
/// client drops it without a close frame.
fn the_client_refuses_a_wrong_accept(rt: Runtime) {
    let _serial = serial();
    let healthy = echo_server(rt, Settings::default());
    let (addr, server) = hostile_server(|_| switching("dGhlIHNhbXBsZSBub25jZQ=="), Vec::new());
    let (log, growth) = run_client(rt, addr, &healthy);
    assert_eq!(server.join().unwrap(), None, "{:?}", log.entries());
    let entries = log.entries();
    assert!(
        entries.contains(&"hostile error Protocol".to_owned()),
        "{entries:?}"
    );
    assert!(!entries.iter().any(|e| e == "hostile open"), "{entries:?}");
    assert!(entries.contains(&"healthy ok".to_owned()), "{entries:?}");
    assert!(
        growth <= MAX_MESSAGE + CLIENT_SLACK,
        "the heap grew by {growth} bytes"
    );
    healthy.stop().unwrap();
}

/// Frames no server may send: the client fails the connection with the
/// RFC's code (sent in its close frame and given to `on_close`) and the
/// matching error kind, within its frame limit, and its other connection
/// keeps working.
fn the_client_fails_hostile_frames_with_their_code(rt: Runtime) {
    let _serial = serial();
    let healthy = echo_server(rt, Settings::default());
    let mut big_ping = vec![0x89, 0x7e, 0, 126];
    big_ping.extend_from_slice(&[0; 126]);
    let mut huge = vec![0x82, 0x7f];
    huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
    let mut too_big = vec![0x82, 0x7f];
    too_big.extend_from_slice(&(1u64 << 30).to_be_bytes());
    too_big.extend_from_slice(&[0; 1024]);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "masked frame",
            vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2],
            1002,
            "Protocol",
        ),
        ("reserved opcode", vec![0x83, 0x00], 1002, "Protocol"),
        (
            "RSV bits without extension",
            vec![0xf1, 0x01, b'x'],
            1002,
            "Protocol",
        ),
        ("ping of 126 bytes", big_ping, 1002, "Protocol"),
        ("fragmented ping", vec![0x09, 0x01, b'x'], 1002, "Protocol"),
        (
            "invalid UTF-8",
            vec![0x81, 0x03, 0xce, 0xba, 0xff],
            1007,
            "Encoding",
        ),
        ("declared length 2^63", huge, 1002, "Protocol"),
        ("declared length 1 GiB", too_big, 1009, "Capacity"),
        (
            "close code 999",
            vec![0x88, 0x02, 0x03, 0xe7],
            1002,
            "Protocol",
        ),
        (
            "1-byte close payload",
            vec![0x88, 0x01, 0x03],
            1002,
            "Protocol",
        ),
        (
            "close reason not UTF-8",
            vec![0x88, 0x03, 0x03, 0xe8, 0xff],
            1007,
            "Encoding",
        ),
        (
            "continuation without start",
            vec![0x80, 0x01, b'x'],
            1002,
            "Protocol",
        ),
        (
            "data frame inside a fragmented message",
            vec![0x01, 0x01, b'a', 0x81, 0x01, b'b'],
            1002,
            "Protocol",
        ),
        (
            "invalid UTF-8 split across fragments",
            vec![0x01, 0x02, 0xe2, 0x82, 0x80, 0x01, 0x28],
            1007,
            "Encoding",
        ),
    ];
    for (what, frames, code, kind) in cases {
        let (addr, server) = hostile_server(good_101, frames);
        let (log, growth) = run_client(rt, addr, &healthy);
        let entries = log.entries();
        assert_eq!(
            server.join().unwrap(),
            Some(Some(code)),
            "{what}: {entries:?}"
        );
        let error = format!("hostile error {kind}");
        assert_eq!(entries[0], "hostile open", "{what}: {entries:?}");
        assert!(entries[1].starts_with(&error), "{what}: {entries:?}");
        assert!(
            entries.contains(&format!("hostile close {code}")),
            "{what}: {entries:?}"
        );
        assert!(
            entries.contains(&"healthy ok".to_owned()),
            "{what}: {entries:?}"
        );
        assert!(
            !entries.iter().any(|e| e.starts_with("healthy error")),
            "{what}: {entries:?}"
        );
        assert!(
            growth <= MAX_MESSAGE + CLIENT_SLACK,
            "{what}: the heap grew by {growth} bytes"
        );
    }
    healthy.stop().unwrap();
}

/// Frames the server must refuse, beyond those of `facade.rs`: each gets
/// its exact close code, the heap stays within the message limit, and a
/// healthy connection keeps being served between them.
fn hostile_frames_to_the_server(rt: Runtime) {
    let _serial = serial();
    let settings = Settings {
        max_message_size: MAX_MESSAGE,
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let mut healthy = RawClient::open(server.addr);
    // A masked frame, as a client sends them.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        let key = [9, 8, 7, 6];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }
    // Default limit 100,000 fragments: one more than that, all empty.
    let mut fragments = frame(0x02, b"");
    for _ in 0..100_000 {
        fragments.extend_from_slice(&frame(0x00, b""));
    }
    let mut top_bit = vec![0x82, 0xff];
    top_bit.extend_from_slice(&(0x8000_0000_0000_0400u64).to_be_bytes());
    top_bit.extend_from_slice(&[1, 2, 3, 4]);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked frame", vec![0x81, 0x02, b'h', b'i'], 1002),
        ("reserved opcode", frame(0x83, b""), 1002),
        ("RSV bits without extension", frame(0xc1, b"x"), 1002),
        ("continuation without start", frame(0x80, b"x"), 1002),
        ("invalid UTF-8", frame(0x81, &[0xce, 0xba, 0xff]), 1007),
        ("1-byte close payload", frame(0x88, &[3]), 1002),
        ("close code 999", frame(0x88, &[3, 231]), 1002),
        ("close reason not UTF-8", frame(0x88, &[3, 232, 0xff]), 1007),
        ("oversized ping (126 bytes)", frame(0x89, &[0; 126]), 1002),
        ("fragmented ping", frame(0x09, b"x"), 1002),
        ("oversized close (126 bytes)", frame(0x88, &[3; 126]), 1002),
        (
            "data frame inside a fragmented message",
            [frame(0x01, b"a"), frame(0x81, b"b")].concat(),
            1002,
        ),
        ("100,001 empty fragments", fragments, 1008),
        ("length with the top bit set", top_bit, 1002),
        (
            "invalid UTF-8 split across fragments",
            [frame(0x01, &[0xe2, 0x82]), frame(0x80, &[0x28])].concat(),
            1007,
        ),
        (
            "message over the limit in fragments",
            [frame(0x02, &[0; 60_000]), frame(0x80, &[0; 10_000])].concat(),
            1009,
        ),
    ];
    for (what, bytes, code) in cases {
        let (got, growth) = peak_growth(|| {
            let mut c = RawClient::open(server.addr);
            c.send_raw(&bytes);
            c.expect_close()
        });
        assert_eq!(got, Some(code), "{what}");
        assert!(
            growth <= MAX_MESSAGE + SERVER_SLACK,
            "{what}: the heap grew by {growth} bytes"
        );
        alive(&mut healthy, what);
    }
    drop(healthy);
    server.stop().unwrap();
}

/// Peers that send and never read (slow readers) cost the server a bounded
/// amount each: once the output waiting for a peer passes the loop's
/// high-water mark, the server stops reading from it, so echoes cannot pile
/// up, and a healthy connection on the same server keeps its echoes.
fn slow_readers_cost_a_bounded_amount(rt: Runtime) {
    let _serial = serial();
    const READERS: usize = 8;
    const MESSAGE: usize = 1 << 20;
    const MESSAGES: usize = 24;
    // Per slow reader: the loop's output below its high-water mark (4 MiB
    // at most), the echo being queued when reading stopped, the message
    // being read, and buffers.
    const PER_READER: usize = 8 << 20;
    let server = echo_server(rt, Settings::default());
    let mut healthy = RawClient::open(server.addr);
    let ((), growth) = peak_growth(|| {
        let payload = vec![0x5a; MESSAGE];
        let writers: Vec<_> = (0..READERS)
            .map(|_| {
                let mut c = RawClient::open(server.addr);
                let payload = payload.clone();
                thread::spawn(move || {
                    c.stream
                        .set_write_timeout(Some(Duration::from_secs(2)))
                        .unwrap();
                    let frame = support::frame_bytes(0x82, &payload, true);
                    for _ in 0..MESSAGES {
                        if c.stream.write_all(&frame).is_err() {
                            break;
                        }
                    }
                    // Keep the socket, unread, until the check is done.
                    c
                })
            })
            .collect();
        let clients: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        alive(&mut healthy, "beside the slow readers");
        drop(clients);
    });
    eprintln!(
        "{rt:?}: {READERS} slow readers: heap grew by {} KiB at most ({} KiB each)",
        growth >> 10,
        (growth / READERS) >> 10
    );
    assert!(
        growth <= READERS * PER_READER,
        "{READERS} slow readers took {} MiB",
        growth >> 20
    );
    server.stop().unwrap();
}

/// A peer that stops reading is dropped once our output has made no
/// progress for `write_timeout`: its buffers go, and the handler hears of it
/// (a Timeout error, then `on_close` with 1006).
fn a_peer_that_never_reads_is_dropped_at_the_write_timeout(rt: Runtime) {
    let _serial = serial();
    struct Pusher {
        out: Sender,
        log: Log,
    }
    impl Handler for Pusher {
        fn on_open(&mut self, _: Handshake) -> Result<()> {
            // Far more than the socket buffers hold.
            self.out.send(vec![0u8; 16 << 20])
        }
        fn on_error(&mut self, err: Error) {
            self.log.push(format!("error {:?}", err.kind));
        }
        fn on_close(&mut self, code: CloseCode, _: &str) {
            self.log.push(format!("close {}", u16::from(code)));
        }
    }
    let settings = Settings {
        write_timeout: Some(Duration::from_secs(1)),
        ..Settings::default()
    };
    let log = Log::default();
    let record = log.clone();
    let server = Server::start(rt, settings, move || {
        let log = record.clone();
        move |out| Pusher {
            out,
            log: log.clone(),
        }
    });
    let started = Instant::now();
    let c = RawClient::open(server.addr);
    log.wait_for("the write timeout", |e| {
        e.iter().any(|e| e.starts_with("close"))
    });
    let took = started.elapsed();
    let entries = log.entries();
    assert!(
        entries.iter().any(|e| e.starts_with("error Timeout")),
        "{entries:?}"
    );
    assert!(entries.contains(&"close 1006".to_string()), "{entries:?}");
    assert!(took >= Duration::from_secs(1), "cut before the deadline");
    drop(c);
    server.stop().unwrap();
}

runtimes!(
    a_peer_that_never_reads_is_dropped_at_the_write_timeout,
    slow_readers_cost_a_bounded_amount,
    bad_requests_get_their_status,
    hostile_frames_to_the_server,
    a_slowloris_gets_408_at_the_deadline,
    the_client_refuses_a_wrong_accept,
    the_client_fails_hostile_frames_with_their_code,
);
