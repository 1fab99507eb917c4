//! The client half of the benchmark: opens N connections to an echo server,
//! does M round trips on each, and reports the rate.
//!
//!     cargo run --release --example bench_client [-- OPTIONS]
//!
//!     --url URL            the echo server (ws://127.0.0.1:3012)
//!     --connections N      connections at once (50)
//!     --messages M         round trips per connection (1000)
//!     --size BYTES         bytes per message (32)
//!
//! Start `bench_server` first. All connections run on one `WebSocket`, so on
//! one thread; each sends its next message as soon as the echo of the
//! previous one is back.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use ws::{
    Builder, CloseCode, Error, ErrorKind, Handler, Handshake, Message, Result, Sender, Settings,
};

/// What all connections share (they run on one thread, hence `Rc<Cell>`).
struct Run {
    connections: usize,
    messages: usize,
    payload: Vec<u8>,
    opened: Cell<usize>,
    started: Cell<Option<Instant>>,
    round_trips: Cell<usize>,
}

struct Conn {
    out: Sender,
    run: Rc<Run>,
    /// Echoes received so far on this connection.
    echoed: usize,
}

impl Handler for Conn {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        let run = &self.run;
        run.opened.set(run.opened.get() + 1);
        if run.opened.get() == run.connections {
            // Everyone is connected: the last one starts them all at once,
            // since `broadcast` sends on every connection of this WebSocket.
            run.started.set(Some(Instant::now()));
            self.out.broadcast(run.payload.clone())?;
        }
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        if msg.as_binary() != self.run.payload.as_slice() {
            return Err(Error::new(ErrorKind::Internal, "the echo differs"));
        }
        self.echoed += 1;
        self.run.round_trips.set(self.run.round_trips.get() + 1);
        if self.echoed < self.run.messages {
            self.out.send(self.run.payload.clone())
        } else {
            self.out.close(CloseCode::Normal)
        }
    }

    fn on_error(&mut self, err: Error) {
        eprintln!("connection {}: {err}", self.out.connection_id());
    }
}

fn main() -> Result<()> {
    let mut url = String::from("ws://127.0.0.1:3012");
    let (mut connections, mut messages, mut size) = (50, 1000, 32);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = |v: &str| v.parse::<usize>().expect("expected a number");
        match flag.as_str() {
            "--url" => url = value,
            "--connections" => connections = number(&value).max(1),
            "--messages" => messages = number(&value).max(1),
            "--size" => size = number(&value),
            _ => panic!("unknown option {flag}"),
        }
    }

    let run = Rc::new(Run {
        connections,
        messages,
        payload: vec![b'x'; size],
        opened: Cell::new(0),
        started: Cell::new(None),
        round_trips: Cell::new(0),
    });
    let settings = Settings {
        max_connections: connections,
        tcp_nodelay: true,
        frame_hooks: false,
        ..Settings::default()
    };
    let mut ws = Builder::new()
        .with_settings(settings)
        .build(|out: Sender| Conn {
            out,
            run: run.clone(),
            echoed: 0,
        })?;
    let url: url::Url = url
        .parse()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("{url}: {e}")))?;
    for _ in 0..connections {
        ws.connect(url.clone())?;
    }
    ws.run()?; // until every connection is closed

    let Some(started) = run.started.get() else {
        return Err(Error::new(
            ErrorKind::Internal,
            "not every connection opened",
        ));
    };
    let elapsed = started.elapsed();
    let done = run.round_trips.get();
    println!(
        "{connections} connections x {messages} messages of {size} bytes: \
         {done} round trips in {elapsed:.2?}, {:.0} per second",
        done as f64 / elapsed.as_secs_f64()
    );
    if done != connections * messages {
        return Err(Error::new(
            ErrorKind::Internal,
            "some round trips are missing",
        ));
    }
    Ok(())
}
