//! Sending from another thread: a `Sender` is `Clone + Send + Sync`, so a
//! handler can give a copy to a thread of its own, which sends whenever it
//! likes without blocking the event loop.
//!
//!     cargo run --example threaded [-- ADDR]      (ADDR: 127.0.0.1:3012)
//!     cargo run --example threaded -- --self-test
//!
//! Every client gets a "tick N" message every second from a thread started
//! for it in `on_open` and stopped in `on_close`. `--self-test` runs the
//! server on a free port with a faster clock and checks that a client gets
//! its ticks in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use ws::{CloseCode, Handler, Handshake, Message, Result, Sender};

struct Ticker {
    out: Sender,
    period: Duration,
    /// Tells the thread to stop once the connection is gone.
    running: Arc<AtomicBool>,
}

impl Handler for Ticker {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        let out = self.out.clone();
        let (period, running) = (self.period, self.running.clone());
        thread::spawn(move || {
            for n in 1.. {
                thread::sleep(period);
                if !running.load(Ordering::Relaxed) {
                    break;
                }
                // Queued for the event loop, which writes it to the socket.
                if out.send(format!("tick {n}")).is_err() {
                    break; // the event loop has stopped
                }
            }
        });
        Ok(())
    }

    fn on_close(&mut self, _: CloseCode, _: &str) {
        self.running.store(false, Ordering::Relaxed);
    }
}

fn server(period: Duration) -> impl FnMut(Sender) -> Ticker {
    move |out| Ticker {
        out,
        period,
        running: Arc::new(AtomicBool::new(true)),
    }
}

fn main() -> Result<()> {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("--self-test") {
        self_test();
        return Ok(());
    }
    let addr = arg.unwrap_or_else(|| "127.0.0.1:3012".into());
    let ws = ws::WebSocket::new(server(Duration::from_secs(1)))?.bind(addr)?;
    println!("listening on ws://{}", ws.local_addr()?);
    ws.run()?;
    Ok(())
}

// ---------------------------------------------------------------- self-test

fn self_test() {
    let ws = ws::WebSocket::new(server(Duration::from_millis(50)))
        .and_then(|ws| ws.bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("ws://{}", ws.local_addr().unwrap());
    let stop = ws.broadcaster();
    let server = thread::spawn(move || ws.run().map(drop));

    // A client that listens to three ticks and leaves.
    let (tx, rx) = std::sync::mpsc::channel();
    ws::connect(url, |out: Sender| {
        let (tx, mut count) = (tx.clone(), 0);
        move |msg: Message| {
            println!("client got {msg}");
            tx.send(msg.into_text()?).unwrap();
            count += 1;
            if count == 3 {
                out.close(CloseCode::Normal)?;
            }
            Ok(())
        }
    })
    .unwrap();
    // (A fourth tick may have crossed our close frame.)
    let ticks: Vec<String> = rx.try_iter().take(3).collect();
    assert_eq!(ticks, ["tick 1", "tick 2", "tick 3"]);

    stop.shutdown().unwrap();
    server.join().unwrap().unwrap();
    println!("self-test passed");
}
