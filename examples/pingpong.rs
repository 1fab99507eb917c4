//! Timers and a heartbeat: the server pings every client on a timer, times
//! each pong, and drops clients that stop answering.
//!
//!     cargo run --example pingpong [-- ADDR]      (ADDR: 127.0.0.1:3012)
//!     cargo run --example pingpong -- --self-test
//!
//! `Sender::timeout(ms, token)` asks for `on_timeout(token)` in `ms`
//! milliseconds; `on_new_timeout` hands over the `Timeout` that
//! `Sender::cancel` takes. Pongs show up in `on_frame`. Every client also
//! gets its messages echoed. `--self-test` runs the server on a free port
//! with a fast clock and a client that leaves after three pings.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use ws::util::{Timeout, Token};
use ws::{CloseCode, Frame, Handler, Handshake, Message, OpCode, Result, Sender};

/// Tokens tell our timeouts apart in `on_timeout`.
const PING: Token = Token(1);
const EXPIRE: Token = Token(2);

struct Heartbeat {
    out: Sender,
    /// Milliseconds between pings.
    every: u64,
    /// Milliseconds of silence after which the client is dropped.
    patience: u64,
    /// The pending EXPIRE timeout, replaced each time the client answers.
    expire: Option<Timeout>,
    /// The number of the last ping and when it went out.
    last_ping: Option<(u64, Instant)>,
    /// Pongs received from all clients (shared by every handler).
    pongs: Arc<AtomicUsize>,
}

impl Handler for Heartbeat {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.timeout(self.every, PING)?;
        self.out.timeout(self.patience, EXPIRE)
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.out.send(msg)
    }

    fn on_timeout(&mut self, event: Token) -> Result<()> {
        match event {
            PING => {
                // Number the pings: the pong echoes the payload back.
                let n = self.last_ping.map_or(1, |(n, _)| n + 1);
                self.last_ping = Some((n, Instant::now()));
                self.out.ping(n.to_be_bytes().to_vec())?;
                // Timeouts fire once: schedule the next ping.
                self.out.timeout(self.every, PING)
            }
            EXPIRE => {
                println!("[{}] no pong for too long", self.out.connection_id());
                self.out.close_with_reason(CloseCode::Away, "no pong")
            }
            _ => Ok(()),
        }
    }

    fn on_new_timeout(&mut self, event: Token, timeout: Timeout) -> Result<()> {
        if event == EXPIRE {
            // A new expiry replaces the pending one.
            if let Some(old) = self.expire.replace(timeout) {
                self.out.cancel(old)?;
            }
        }
        Ok(())
    }

    fn on_frame(&mut self, frame: Frame) -> Result<Option<Frame>> {
        if frame.opcode() == OpCode::Pong {
            self.pongs.fetch_add(1, Ordering::Relaxed);
            match self.last_ping {
                Some((n, at)) if frame.payload()[..] == n.to_be_bytes() => {
                    let id = self.out.connection_id();
                    println!("[{id}] pong {n} after {:?}", at.elapsed());
                }
                _ => println!("[{}] unexpected pong", self.out.connection_id()),
            }
            // The client is alive: give it more time.
            self.out.timeout(self.patience, EXPIRE)?;
        }
        // Timeouts still pending when the connection closes are cancelled
        // by the library.
        Ok(Some(frame))
    }
}

/// A factory of heartbeat handlers; `pongs` counts the pongs of all clients.
fn heartbeat(
    every: u64,
    patience: u64,
    pongs: Arc<AtomicUsize>,
) -> impl FnMut(Sender) -> Heartbeat {
    move |out| Heartbeat {
        out,
        every,
        patience,
        expire: None,
        last_ping: None,
        pongs: pongs.clone(),
    }
}

fn main() -> Result<()> {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("--self-test") {
        self_test();
        return Ok(());
    }
    let addr = arg.unwrap_or_else(|| "127.0.0.1:3012".into());
    let pongs = Arc::new(AtomicUsize::new(0));
    let ws = ws::WebSocket::new(heartbeat(1000, 3000, pongs))?.bind(addr)?;
    println!("listening on ws://{}", ws.local_addr()?);
    ws.run()?;
    Ok(())
}

// ---------------------------------------------------------------- self-test

/// A client that sees the server's pings (its side answers them by itself)
/// and leaves after three.
struct Client {
    out: Sender,
    pings: usize,
    closed: mpsc::Sender<CloseCode>,
}

impl Handler for Client {
    fn on_frame(&mut self, frame: Frame) -> Result<Option<Frame>> {
        if frame.opcode() == OpCode::Ping {
            self.pings += 1;
            if self.pings == 3 {
                self.out.close(CloseCode::Normal)?;
            }
        }
        Ok(Some(frame))
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.closed.send(code).unwrap();
    }
}

fn self_test() {
    // Pings every 200 ms, but only 500 ms of patience: the three pings take
    // longer than that, so this passes only if every pong pushes the expiry
    // back (and the replaced expiry is really cancelled).
    let pongs = Arc::new(AtomicUsize::new(0));
    let ws = ws::WebSocket::new(heartbeat(200, 500, pongs.clone()))
        .and_then(|ws| ws.bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("ws://{}", ws.local_addr().unwrap());
    let stop = ws.broadcaster();
    let server = thread::spawn(move || ws.run().map(drop));

    let (tx, closed) = mpsc::channel();
    ws::connect(url, |out: Sender| Client {
        out,
        pings: 0,
        closed: tx.clone(),
    })
    .unwrap();
    assert_eq!(closed.recv().unwrap(), CloseCode::Normal);

    stop.shutdown().unwrap();
    server.join().unwrap().unwrap();
    assert_eq!(pongs.load(Ordering::Relaxed), 3);
    println!("self-test passed");
}
