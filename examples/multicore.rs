//! An echo server on every core: `Builder::build_threaded` runs one event
//! loop per thread, each with its own factory (made on its thread, so its
//! handlers may hold `Rc`s), all behind one address.
//!
//!     cargo run --release --example multicore [-- ADDR [THREADS]]
//!         (ADDR: 127.0.0.1:3012; THREADS: 0, one per core)
//!     cargo run --example multicore -- --self-test
//!
//! Each thread counts its own open connections in an `Rc<Cell>`, with no
//! lock, and greets a client with its thread's name and count. A message
//! starting with "all:" is broadcast to the clients of every loop.
//! `--self-test` runs two loops on a free port, connects clients until
//! both loops have some, and checks that a broadcast reaches all of them.

use std::cell::Cell;
use std::rc::Rc;

use ws::{CloseCode, Handler, Handshake, Message, Result, Sender};

struct Echo {
    out: Sender,
    open: Rc<Cell<usize>>,
}

impl Handler for Echo {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.open.set(self.open.get() + 1);
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("main");
        self.out
            .send(format!("{name}: {} open here", self.open.get()))
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        match msg.as_text().ok().and_then(|t| t.strip_prefix("all:")) {
            Some(rest) => self.out.broadcast(rest.to_owned()),
            None => self.out.send(msg),
        }
    }

    fn on_close(&mut self, _: CloseCode, _: &str) {
        self.open.set(self.open.get() - 1);
    }
}

/// What each thread runs once, on that thread: its factory.
fn factory() -> impl FnMut(Sender) -> Echo {
    let open = Rc::new(Cell::new(0));
    move |out| Echo {
        out,
        open: open.clone(),
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3012".into());
    if addr == "--self-test" {
        self_test();
        return Ok(());
    }
    let threads = args
        .next()
        .map_or(0, |n| n.parse().expect("THREADS: a number"));
    let server = ws::Builder::new()
        .build_threaded(threads, factory)?
        .bind(addr)?;
    println!(
        "listening on ws://{} with {} threads",
        server.local_addr()?,
        server.threads()
    );
    server.run()
}

// ---------------------------------------------------------------- self-test

fn self_test() {
    use std::collections::HashSet;
    use std::sync::mpsc;

    let server = ws::Builder::new()
        .build_threaded(2, factory)
        .and_then(|s| s.bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("ws://{}", server.local_addr().unwrap());
    let everyone = server.broadcaster();
    let running = std::thread::spawn(move || server.run());

    // Clients on one client `WebSocket`, until both loops greeted some.
    let (tx, rx) = mpsc::channel::<String>();
    let mut clients = ws::WebSocket::new(move |_: Sender| {
        let tx = tx.clone();
        move |msg: Message| {
            tx.send(msg.into_text()?).unwrap();
            Ok(())
        }
    })
    .unwrap();
    const CLIENTS: usize = 16;
    for _ in 0..CLIENTS {
        clients.connect(url::Url::parse(&url).unwrap()).unwrap();
    }
    let stop_clients = clients.broadcaster();
    let client_loop = std::thread::spawn(move || clients.run().map(drop));

    let wait = std::time::Duration::from_secs(10);
    let greetings: Vec<String> = (0..CLIENTS)
        .map(|_| rx.recv_timeout(wait).unwrap())
        .collect();
    let loops: HashSet<&str> = greetings
        .iter()
        .filter_map(|g| g.split(':').next())
        .collect();
    println!("greeted by {loops:?}");
    assert_eq!(loops.len(), 2, "{greetings:?}");

    everyone.broadcast("to every loop").unwrap();
    for _ in 0..CLIENTS {
        assert_eq!(rx.recv_timeout(wait).unwrap(), "to every loop");
    }
    stop_clients.shutdown().unwrap();
    client_loop.join().unwrap().unwrap();
    everyone.shutdown().unwrap();
    running.join().unwrap().unwrap();
    println!("self-test passed");
}
