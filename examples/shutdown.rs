//! Stopping a server from outside: another thread shuts the `WebSocket`
//! down after a while, and `run` returns.
//!
//!     cargo run --example shutdown [-- [SECONDS] [ADDR]]   (5, 127.0.0.1:3012)
//!     cargo run --example shutdown -- --self-test
//!
//! An echo server that lives for SECONDS. `WebSocket::broadcaster` gives a
//! `Sender` for the whole `WebSocket`; its `shutdown` (like that of any
//! connection's `Sender`) closes every connection with 1001 (going away),
//! after calling each handler's `on_shutdown`. `--self-test` connects a
//! client and checks that it is told the server is going away.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ws::{CloseCode, Factory, Handler, Message, Result, Sender, WebSocket};

struct Echo {
    out: Sender,
}

impl Handler for Echo {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.out.send(msg)
    }

    fn on_shutdown(&mut self) {
        println!("[{}] the server is shutting down", self.out.connection_id());
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        println!("[{}] closed with {code:?}", self.out.connection_id());
    }
}

/// Binds the server and starts the thread that will stop it.
fn start(addr: &str, lifetime: Duration) -> Result<WebSocket<impl Factory>> {
    let ws = WebSocket::new(|out: Sender| Echo { out })?.bind(addr)?;
    let stop = ws.broadcaster();
    thread::spawn(move || {
        thread::sleep(lifetime);
        println!("time is up");
        // Fails only if the event loop is gone already.
        let _ = stop.shutdown();
    });
    Ok(ws)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--self-test") {
        self_test();
        return Ok(());
    }
    let seconds = match args.first() {
        Some(s) => s.parse().expect("SECONDS must be a number"),
        None => 5.0,
    };
    let addr = args.get(1).map_or("127.0.0.1:3012", String::as_str);

    let ws = start(addr, Duration::from_secs_f64(seconds))?;
    println!("listening on ws://{} for {seconds} s", ws.local_addr()?);
    ws.run()?;
    println!("the event loop has returned");
    Ok(())
}

// ---------------------------------------------------------------- self-test

fn self_test() {
    let ws = start("127.0.0.1:0", Duration::from_millis(300)).unwrap();
    let url = format!("ws://{}", ws.local_addr().unwrap());

    // The client runs on its own thread and reports how it was closed.
    let (tx, closed) = mpsc::channel();
    let client = thread::spawn(move || {
        ws::connect(url, |_: Sender| Reporter(tx.clone())).unwrap();
    });

    ws.run().unwrap(); // returns on its own after 300 ms
    client.join().unwrap();
    assert_eq!(closed.recv().unwrap(), CloseCode::Away);
    println!("self-test passed");
}

struct Reporter(mpsc::Sender<CloseCode>);

impl Handler for Reporter {
    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.0.send(code).unwrap();
    }
}
