//! A command-line client: every line read from stdin is sent as a text
//! message, every message received is printed.
//!
//!     cargo run --example cli [-- --url ws://127.0.0.1:3012]
//!
//! At the end of the input (Ctrl-D, or the end of a pipe) the client closes
//! the connection and exits once the server has answered the close. Try it
//! against the `server` example:
//!
//!     printf 'hello\nworld\n' | cargo run --example cli

use std::io::BufRead;
use std::thread;

use ws::{CloseCode, Error, Handler, Handshake, Message, Result, Sender};

/// Prints what the server says; a thread of its own sends what the user types.
struct Cli {
    out: Sender,
}

impl Handler for Cli {
    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        if let Some(addr) = shake.peer_addr {
            eprintln!("connected to {addr}; type lines to send, Ctrl-D to quit");
        }
        // Read only once connected: if the server is not there, nothing is
        // typed in vain.
        let out = self.out.clone();
        thread::spawn(move || send_lines(out));
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        println!("< {msg}");
        Ok(())
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        eprintln!("connection closed: {code:?} {reason}");
    }

    fn on_error(&mut self, err: Error) {
        eprintln!("error: {err}");
    }
}

/// Runs on its own thread: blocking reads must not stall the event loop.
fn send_lines(out: Sender) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if out.send(line).is_err() {
            return; // the event loop is gone
        }
    }
    // Replies still in flight arrive before the server's close frame.
    let _ = out.close(CloseCode::Normal);
}

fn main() -> Result<()> {
    let mut url = String::from("ws://127.0.0.1:3012");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--url", Some(value)) => url = value,
            _ => {
                eprintln!("usage: cli [--url ws://HOST:PORT/PATH]");
                std::process::exit(2);
            }
        }
    }

    // `connect` returns when the connection is over.
    ws::connect(url, |out: Sender| Cli { out })
}
