//! An echo server that logs the life of every connection.
//!
//!     cargo run --example server [-- [--once] [ADDR]]     (ADDR: 127.0.0.1:3012)
//!
//! Every message goes back to the client that sent it. `on_open`, `on_close`
//! and `on_error` print what happens, tagged with the connection's id: one
//! line when a connection opens and one when it closes (with how many
//! messages and bytes it echoed), never the payloads themselves. Talk
//! to it with the `cli` example. With `--once` the server shuts itself down
//! when its last client has left; `ADDR` may use port 0 to pick a free port
//! (the first line printed tells which).

use std::cell::Cell;
use std::rc::Rc;

use ws::{CloseCode, Error, Handler, Handshake, Message, Result, Sender};
use ws_examples::ConnectionLog;

struct Echo {
    out: Sender,
    /// Connections open right now, shared by all handlers of the server
    /// (they all run on the server's thread, so `Rc<Cell>` is enough).
    live: Rc<Cell<usize>>,
    once: bool,
    /// Its open and close lines, with what it echoed.
    log: ConnectionLog,
}

impl Handler for Echo {
    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        self.live.set(self.live.get() + 1);
        self.log.opened(self.out.connection_id(), &shake);
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.log.echoed(&msg);
        self.out.send(msg)
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        // `on_close` runs exactly once for every connection whose `on_open`
        // returned Ok, so the count stays right.
        self.live.set(self.live.get() - 1);
        self.log.closed(self.out.connection_id(), code, reason);
        if self.once && self.live.get() == 0 {
            println!("last client gone, shutting down");
            // Any Sender can stop the whole WebSocket: `run` then returns.
            let _ = self.out.shutdown();
        }
    }

    fn on_error(&mut self, err: Error) {
        eprintln!("[{}] error: {err}", self.out.connection_id());
    }
}

fn main() -> Result<()> {
    let mut once = false;
    let mut addr = String::from("127.0.0.1:3012");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--once" => once = true,
            _ => addr = arg,
        }
    }

    let live = Rc::new(Cell::new(0));
    let ws = ws::WebSocket::new(|out: Sender| Echo {
        out,
        live: live.clone(),
        once,
        log: ConnectionLog::default(),
    })?
    .bind(addr)?;
    println!("listening on ws://{}", ws.local_addr()?);
    ws.run()?;
    Ok(())
}
