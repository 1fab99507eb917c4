//! A server and its clients on one `WebSocket`: a listener and outgoing
//! connections served by the same event loop, thread and factory.
//!
//!     cargo run --example shared [-- CLIENTS]      (CLIENTS: 3)
//!
//! The program binds a listener to a free port of 127.0.0.1, queues CLIENTS
//! connections to it with `WebSocket::connect`, and runs. The factory tells
//! the two sides apart (`server_connected` / `client_connected`): the server
//! side echoes, each client sends one message and leaves on the echo. The
//! factory shuts everything down when the last client is gone, so the
//! program ends by itself.

use std::cell::Cell;
use std::rc::Rc;

use ws::{CloseCode, Factory, Handler, Handshake, Message, Result, Sender, WebSocket};

/// One handler type for both sides of a connection.
struct Conn {
    out: Sender,
    /// `None` on the server side; the client's number on the client side.
    client: Option<usize>,
    echoes: Rc<Cell<usize>>,
}

impl Handler for Conn {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        match self.client {
            Some(n) => self.out.send(format!("hello from client {n}")),
            None => Ok(()),
        }
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        match self.client {
            None => self.out.send(msg),
            Some(n) => {
                println!("client {n} got its echo: {msg}");
                self.echoes.set(self.echoes.get() + 1);
                self.out.close(CloseCode::Normal)
            }
        }
    }
}

/// Makes the handlers of both sides and watches the clients.
struct Shared {
    started: usize,
    running: usize,
    echoes: Rc<Cell<usize>>,
}

impl Factory for Shared {
    type Handler = Conn;

    /// Incoming connections (`server_connected` defaults to this).
    fn connection_made(&mut self, out: Sender) -> Conn {
        Conn {
            out,
            client: None,
            echoes: self.echoes.clone(),
        }
    }

    fn client_connected(&mut self, out: Sender) -> Conn {
        self.started += 1;
        self.running += 1;
        Conn {
            out,
            client: Some(self.started),
            echoes: self.echoes.clone(),
        }
    }

    /// Every handler comes back here when its connection is gone.
    fn connection_lost(&mut self, conn: Conn) {
        if conn.client.is_some() {
            self.running -= 1;
            if self.running == 0 {
                println!("all clients are done: shutting down");
                let _ = conn.out.shutdown();
            }
        }
    }
}

fn main() -> Result<()> {
    let clients: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().expect("CLIENTS must be a number"),
        None => 3,
    };
    assert!(clients > 0, "with no client, nothing would stop the server");
    let echoes = Rc::new(Cell::new(0));
    let factory = Shared {
        started: 0,
        running: 0,
        echoes: echoes.clone(),
    };

    let mut ws = WebSocket::new(factory)?.bind("127.0.0.1:0")?;
    let url: url::Url = format!("ws://{}", ws.local_addr()?).parse().unwrap();
    println!("listening on {url}");
    for _ in 0..clients {
        ws.connect(url.clone())?;
    }
    ws.run()?; // until the factory shuts it down

    println!("{} of {clients} clients got their echo", echoes.get());
    assert_eq!(echoes.get(), clients);
    Ok(())
}
