//! Peer to peer: one `WebSocket` that listens for peers and connects to one.
//!
//!     cargo run --example peer2peer -- [--once] [--name NAME] LISTEN [PEER_URL]
//!     cargo run --example peer2peer -- --self-test
//!
//! For example, in two terminals:
//!
//!     cargo run --example peer2peer -- 127.0.0.1:3012
//!     cargo run --example peer2peer -- 127.0.0.1:3013 ws://127.0.0.1:3012
//!
//! Peers greet each other when they meet, and every line typed goes to every
//! peer connected, whichever side opened the connection. The same factory
//! makes the handlers of both kinds of connection. With `--once` a peer
//! leaves after the first message it gets; `--self-test` has two peers, in
//! one process, meet and leave that way.

use std::io::BufRead;
use std::thread;

use ws::{CloseCode, Error, Factory, Handler, Handshake, Message, Result, Sender, WebSocket};

struct Peer {
    out: Sender,
    name: String,
    once: bool,
}

impl Handler for Peer {
    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        if let Some(addr) = shake.peer_addr {
            println!("{}: met a peer at {addr}", self.name);
        }
        self.out.send(format!("hello from {}", self.name))
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        println!("{}: got \"{msg}\"", self.name);
        if self.once {
            return self.out.shutdown();
        }
        Ok(())
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        println!("{}: a peer left ({code:?})", self.name);
    }

    fn on_error(&mut self, err: Error) {
        eprintln!("{}: {err}", self.name);
    }
}

/// A peer listening on `listen` and, if given, connecting to `peer`.
fn peer(
    name: &str,
    listen: &str,
    peer: Option<&str>,
    once: bool,
) -> Result<WebSocket<impl Factory<Handler = Peer> + Send>> {
    let name = name.to_owned();
    let mut ws = WebSocket::new(move |out: Sender| Peer {
        out,
        name: name.clone(),
        once,
    })?
    .bind(listen)?;
    if let Some(url) = peer {
        let url = url
            .parse()
            .map_err(|e| Error::new(ws::ErrorKind::Internal, format!("{url}: {e}")))?;
        // Made when the event loop starts, alongside the listener.
        ws.connect(url)?;
    }
    Ok(ws)
}

fn main() -> Result<()> {
    let mut once = false;
    let mut name = None;
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--self-test" => return self_test(),
            "--once" => once = true,
            "--name" => name = args.next(),
            _ => positional.push(arg),
        }
    }
    let Some(listen) = positional.first() else {
        eprintln!("usage: peer2peer [--once] [--name NAME] LISTEN [PEER_URL]");
        std::process::exit(2);
    };
    let name = name.unwrap_or_else(|| listen.clone());

    let ws = peer(&name, listen, positional.get(1).map(String::as_str), once)?;
    println!("{name}: listening on ws://{}", ws.local_addr()?);
    // Lines typed go to every peer, through the WebSocket's broadcaster.
    let everyone = ws.broadcaster();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(|line| line.ok()) {
            if everyone.send(line).is_err() {
                break;
            }
        }
    });
    ws.run()?;
    Ok(())
}

// ---------------------------------------------------------------- self-test

fn self_test() -> Result<()> {
    // Alice listens; Bob listens too, and connects to Alice. Each leaves
    // after the other's greeting, so both event loops must stop by themselves.
    let alice = peer("alice", "127.0.0.1:0", None, true)?;
    let url = format!("ws://{}", alice.local_addr()?);
    let alice = thread::spawn(move || alice.run().map(drop));
    let bob = peer("bob", "127.0.0.1:0", Some(&url), true)?;
    bob.run()?;
    alice.join().expect("alice panicked")?;
    println!("self-test passed");
    Ok(())
}
