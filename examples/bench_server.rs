//! The server half of the benchmark: a plain echo server, tuned for many
//! connections. Measure it with the `bench_client` example.
//!
//!     cargo run --release --example bench_server [-- [--once] [ADDR]]
//!
//! ADDR defaults to 127.0.0.1:3012 (port 0 picks a free port; the first line
//! printed tells which). With `--once` the server shuts down when its last
//! client has left, so one benchmark run ends it.

use std::cell::Cell;
use std::rc::Rc;

use ws::{Builder, CloseCode, Handler, Handshake, Message, Result, Sender, Settings};

struct Echo {
    out: Sender,
    live: Rc<Cell<usize>>,
    once: bool,
}

impl Handler for Echo {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.live.set(self.live.get() + 1);
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.out.send(msg)
    }

    fn on_close(&mut self, _: CloseCode, _: &str) {
        self.live.set(self.live.get() - 1);
        if self.once && self.live.get() == 0 {
            let _ = self.out.shutdown();
        }
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

    let settings = Settings {
        max_connections: 10_000,
        // Small messages go out at once instead of waiting for more.
        tcp_nodelay: true,
        // The handler has no on_frame / on_send_frame: skip those calls.
        frame_hooks: false,
        ..Settings::default()
    };
    let live = Rc::new(Cell::new(0));
    let ws = Builder::new()
        .with_settings(settings)
        .build(|out: Sender| Echo {
            out,
            live: live.clone(),
            once,
        })?
        .bind(addr)?;
    println!("listening on ws://{}", ws.local_addr()?);
    ws.run()?;
    Ok(())
}
