//! Test support: servers and clients of the facade on a chosen runtime, a
//! raw socket client for hostile input, and a watchdog.
//!
//! Everything runs on 127.0.0.1 with ephemeral ports, and every wait is
//! bounded.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ws::{Builder, Factory, Runtime, Sender, Settings};

/// Runs `f` on a thread and fails if it takes longer than `limit`.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => {
            worker.join().unwrap();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked: show its panic.
            match worker.join() {
                Err(p) => std::panic::resume_unwind(p),
                Ok(()) => unreachable!(),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test took longer than {limit:?}"),
    }
}

/// A shared, ordered record of what happened.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.entries()
            .iter()
            .filter(|e| e.starts_with(prefix))
            .count()
    }

    /// Waits until `pred` holds for the entries (at most 10 s).
    pub fn wait_for(&self, what: &str, pred: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if pred(&self.entries()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; log: {:?}",
                self.entries()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A server running on its own thread.
pub struct Server {
    pub addr: SocketAddr,
    pub broadcaster: Sender,
    thread: Option<thread::JoinHandle<ws::Result<()>>>,
}

impl Server {
    /// Starts a server on 127.0.0.1:0. The factory is made on the server's
    /// thread, so it need not be `Send`.
    pub fn start<F, M>(runtime: Runtime, settings: Settings, make: M) -> Server
    where
        F: Factory + 'static,
        M: FnOnce() -> F + Send + 'static,
    {
        Server::start_with(runtime, settings, |ws| ws, make)
    }

    /// [`Server::start`], with `prepare` applied to the `WebSocket` before
    /// it binds (to give it a TLS configuration ...).
    pub fn start_with<F, M, P>(runtime: Runtime, settings: Settings, prepare: P, make: M) -> Server
    where
        F: Factory + 'static,
        M: FnOnce() -> F + Send + 'static,
        P: FnOnce(ws::WebSocket<F>) -> ws::WebSocket<F> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let ws = Builder::new()
                .with_settings(settings)
                .with_runtime(runtime)
                .build(make())?;
            let ws = prepare(ws).bind("127.0.0.1:0")?;
            tx.send((ws.local_addr().unwrap(), ws.broadcaster()))
                .unwrap();
            ws.run().map(|_| ())
        });
        let (addr, broadcaster) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server did not start");
        Server {
            addr,
            broadcaster,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Shuts the server down (unless it stopped already) and waits for its
    /// loop to return.
    pub fn stop(mut self) -> ws::Result<()> {
        let _ = self.broadcaster.shutdown();
        self.join()
    }

    /// Waits for the loop to return.
    pub fn join(&mut self) -> ws::Result<()> {
        self.thread
            .take()
            .map(|t| t.join().expect("server thread panicked"))
            .unwrap_or(Ok(()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.broadcaster.shutdown();
            let _ = self.join();
        }
    }
}

/// Runs a client `WebSocket` connected to `url` until its loop returns.
pub fn run_client<F: Factory>(
    runtime: Runtime,
    settings: Settings,
    url: &str,
    factory: F,
) -> ws::Result<()> {
    let mut ws = Builder::new()
        .with_settings(settings)
        .with_runtime(runtime)
        .build(factory)?;
    ws.connect(url::Url::parse(url).unwrap())?;
    ws.run().map(|_| ())
}

/// The bytes of one frame (first byte `first`), masked with a fixed key
/// when `masked`.
pub fn frame_bytes(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n < 65536 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x12, 0x34, 0x56, 0x78];
    if masked {
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Reads an HTTP head from `s`, one byte at a time so that nothing after
/// it is consumed: what a raw server uses to read a client's request.
/// `None` if the stream ends or fails first.
pub fn read_http_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).ok()?;
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A frame read by [`RawClient`].
#[derive(Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, 8, "not a close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// A WebSocket client on a plain socket, for sending what a well-behaved
/// client never would.
pub struct RawClient {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A valid upgrade request for `host`, with [`KEY`].
pub fn upgrade_request(host: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A handler that echoes every message and logs "close CODE" and
/// "error ERROR".
pub struct LoggingEcho {
    pub out: Sender,
    pub log: Log,
}

impl ws::Handler for LoggingEcho {
    fn on_message(&mut self, msg: ws::Message) -> ws::Result<()> {
        self.out.send(msg)
    }

    fn on_close(&mut self, code: ws::CloseCode, _: &str) {
        self.log.push(format!("close {}", u16::from(code)));
    }

    fn on_error(&mut self, err: ws::Error) {
        self.log.push(format!("error {err}"));
    }
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        RawClient {
            stream,
            buf: Vec::new(),
        }
    }

    /// Connects and completes the opening handshake.
    pub fn open(addr: SocketAddr) -> RawClient {
        let mut c = RawClient::connect(addr);
        c.send_raw(upgrade_request(&addr.to_string()).as_bytes());
        let head = c.read_head();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        c
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends one frame, masked with a fixed key when `masked`.
    pub fn send_frame(&mut self, first: u8, payload: &[u8], masked: bool) {
        self.send_raw(&frame_bytes(first, payload, masked));
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => false,
            Err(e) => panic!("read failed: {e}"),
        }
    }

    /// Reads an HTTP head (and the body it announces with Content-Length).
    pub fn read_head(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                self.buf.drain(..end + 4);
                return head;
            }
            assert!(self.fill(), "connection closed before the head ended");
        }
    }

    /// Reads everything until the peer closes.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }

    /// The next frame, or `None` at the end of the stream.
    pub fn read_frame(&mut self) -> Option<RawFrame> {
        loop {
            if self.buf.len() >= 2 {
                let len7 = usize::from(self.buf[1] & 0x7f);
                let (len, start) = match len7 {
                    126 if self.buf.len() >= 4 => (
                        usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
                        4,
                    ),
                    127 if self.buf.len() >= 10 => {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&self.buf[2..10]);
                        (u64::from_be_bytes(b) as usize, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (n, 2),
                };
                assert_eq!(self.buf[1] & 0x80, 0, "server frames are not masked");
                if len != usize::MAX && self.buf.len() >= start + len {
                    let frame = RawFrame {
                        fin: self.buf[0] & 0x80 != 0,
                        opcode: self.buf[0] & 0x0f,
                        payload: self.buf[start..start + len].to_vec(),
                    };
                    self.buf.drain(..start + len);
                    return Some(frame);
                }
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Reads frames until a close frame and returns its code; then checks
    /// that the server ends the connection.
    pub fn expect_close(&mut self) -> Option<u16> {
        loop {
            let frame = self
                .read_frame()
                .expect("connection ended without a close frame");
            if frame.opcode == 8 {
                let code = frame.close_code();
                // Answer, as a client does (the server may be gone already).
                let _ = self.stream.write_all(&[0x88, 0x80, 0, 0, 0, 0]);
                assert!(self.read_frame().is_none(), "data after the close frame");
                return code;
            }
        }
    }
}

/// Makes each listed test function (one that takes a `ws::Runtime`) a test
/// per runtime the features enable, in modules `mio` and `tokio`, each run
/// with the calling file's `LIMIT` on its time.
macro_rules! runtimes {
    ($($name:ident),* $(,)?) => {
        #[cfg(feature = "mio")]
        mod mio {
            $(
                #[test]
                fn $name() {
                    super::within(super::LIMIT, || super::$name(ws::Runtime::Mio));
                }
            )*
        }

        #[cfg(feature = "tokio")]
        mod tokio {
            $(
                #[test]
                fn $name() {
                    super::within(super::LIMIT, || super::$name(ws::Runtime::Tokio));
                }
            )*
        }
    };
}
