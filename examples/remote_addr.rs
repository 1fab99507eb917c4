//! Who is on the other end? `Handshake::remote_addr` names the client,
//! trusting proxy headers (`X-Forwarded-For`, `Forwarded`) when there are
//! some; `Handshake::peer_addr` is the socket's peer, which may be a proxy.
//!
//!     cargo run --example remote_addr [-- ADDR]      (ADDR: 127.0.0.1:3012)
//!     cargo run --example remote_addr -- --self-test
//!
//! The server tells every client what it knows about it, then closes.
//! `--self-test` connects twice, once directly and once posing as a proxy
//! (an `X-Forwarded-For` header added in `build_request`).

use std::sync::mpsc;
use std::thread;

use ws::{CloseCode, Handler, Handshake, Message, Request, Result, Sender};

struct Greeter {
    out: Sender,
}

impl Handler for Greeter {
    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        // Errs only when a proxy header is not UTF-8.
        let remote = shake.remote_addr()?.unwrap_or_else(|| "unknown".into());
        let peer = shake.peer_addr.map(|addr| addr.to_string());
        let local = shake.local_addr.map(|addr| addr.to_string());
        println!(
            "client {remote}: socket from {} to {}",
            peer.as_deref().unwrap_or("?"),
            local.as_deref().unwrap_or("?"),
        );
        self.out.send(format!("you are {remote}"))?;
        self.out.close(CloseCode::Normal)
    }
}

fn main() -> Result<()> {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("--self-test") {
        self_test();
        return Ok(());
    }
    let addr = arg.unwrap_or_else(|| "127.0.0.1:3012".into());
    let ws = ws::WebSocket::new(|out: Sender| Greeter { out })?.bind(addr)?;
    println!("listening on ws://{}", ws.local_addr()?);
    ws.run()?;
    Ok(())
}

// ---------------------------------------------------------------- self-test

/// A client that may claim, like a proxy would, to speak for someone else.
struct Client {
    forwarded_for: Option<&'static str>,
    told: mpsc::Sender<String>,
}

impl Handler for Client {
    fn build_request(&mut self, url: &url::Url) -> Result<Request> {
        let mut req = Request::from_url(url)?;
        if let Some(addr) = self.forwarded_for {
            let header = ("X-Forwarded-For".to_string(), addr.as_bytes().to_vec());
            req.headers_mut().push(header);
        }
        Ok(req)
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.told.send(msg.into_text()?).unwrap();
        Ok(())
    }
}

fn self_test() {
    let ws = ws::WebSocket::new(|out: Sender| Greeter { out })
        .and_then(|ws| ws.bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("ws://{}", ws.local_addr().unwrap());
    let stop = ws.broadcaster();
    let server = thread::spawn(move || ws.run().map(drop));

    let (tx, told) = mpsc::channel();
    for forwarded_for in [None, Some("203.0.113.7")] {
        let told = tx.clone();
        ws::connect(url.as_str(), move |_: Sender| Client {
            forwarded_for,
            told: told.clone(),
        })
        .unwrap();
    }
    let told: Vec<String> = told.try_iter().collect();
    assert_eq!(told, ["you are 127.0.0.1", "you are 203.0.113.7"]);

    stop.shutdown().unwrap();
    server.join().unwrap().unwrap();
    println!("self-test passed");
}
