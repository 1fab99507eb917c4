//! Interop check: a client with permessage-deflate against an echo server
//! someone else wrote (see `autobahn/interop.sh`).
//!
//!     interop_client [--runtime mio|tokio] URL
//!
//! Connects to URL offering permessage-deflate, sends a fixed series of text
//! and binary messages one at a time (small, large, compressible and not),
//! checks that each comes back unchanged, and closes. Prints the extension
//! the server accepted and one line per message; exits with 0 only when the
//! server accepted permessage-deflate and every echo matched.

use std::cell::RefCell;
use std::process::exit;
use std::rc::Rc;

use ws::{CloseCode, Handler, Handshake, Message, Response, Sender};

fn usage(msg: &str) -> ! {
    eprintln!("interop_client: {msg}");
    eprintln!("usage: interop_client [--runtime mio|tokio] URL");
    exit(2);
}

/// Text that compresses the way chat or JSON traffic does.
fn text(len: usize, seed: u64) -> String {
    let words = [
        "{\"user\": ",
        "\"ana\", ",
        "\"text\": ",
        "\"hello ",
        "world\", ",
        "\"n\": 17} ",
        "κόσμε ",
        "\n",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(words[(x % words.len() as u64) as usize]);
    }
    while s.len() > len {
        s.pop();
    }
    s
}

/// Bytes that do not compress.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn messages() -> Vec<Message> {
    let mut out = Vec::new();
    for (i, len) in [0, 1, 63, 64, 100, 1000, 20_000, 300_000]
        .into_iter()
        .enumerate()
    {
        out.push(Message::Text(text(len, i as u64)));
    }
    // The same message again: with context takeover it costs almost nothing.
    out.push(Message::Text(text(20_000, 6)));
    out.push(Message::Binary(noise(5000, 7)));
    out.push(Message::Binary(vec![0; 1 << 20]));
    out.push(Message::Binary(text(70_000, 8).into_bytes()));
    out
}

#[derive(Default)]
struct Outcome {
    extensions: Option<String>,
    matched: usize,
    failed: usize,
    closed: Option<u16>,
}

struct Client {
    out: Sender,
    todo: Vec<Message>,
    next: usize,
    outcome: Rc<RefCell<Outcome>>,
}

impl Client {
    fn send_next(&mut self) -> ws::Result<()> {
        match self.todo.get(self.next) {
            Some(msg) => self.out.send(msg.clone()),
            None => self.out.close(CloseCode::Normal),
        }
    }
}

impl Handler for Client {
    fn on_response(&mut self, res: &Response) -> ws::Result<()> {
        let ext = res.extensions()?.join(", ");
        println!("interop_client: server accepted extensions: {ext:?}");
        self.outcome.borrow_mut().extensions = Some(ext);
        Ok(())
    }

    fn on_open(&mut self, _: Handshake) -> ws::Result<()> {
        self.send_next()
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        let expected = &self.todo[self.next];
        let ok = msg == *expected;
        let kind = if expected.is_text() { "text" } else { "binary" };
        println!(
            "interop_client: {kind} message of {} bytes: {}",
            expected.len(),
            if ok { "echo matches" } else { "ECHO DIFFERS" }
        );
        let mut outcome = self.outcome.borrow_mut();
        if ok {
            outcome.matched += 1;
        } else {
            outcome.failed += 1;
        }
        drop(outcome);
        self.next += 1;
        self.send_next()
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        println!("interop_client: closed with {} {reason}", u16::from(code));
        self.outcome.borrow_mut().closed = Some(u16::from(code));
    }

    fn on_error(&mut self, err: ws::Error) {
        eprintln!("interop_client: error: {err}");
    }
}

fn main() {
    let mut runtime = String::from("mio");
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime" => {
                runtime = args
                    .next()
                    .unwrap_or_else(|| usage("--runtime needs a value"))
            }
            "-h" | "--help" => usage("permessage-deflate interop client"),
            s if s.starts_with('-') => usage(&format!("unknown option {s}")),
            _ if url.is_none() => url = Some(arg),
            _ => usage("too many arguments"),
        }
    }
    let runtime: ws::Runtime = runtime
        .parse()
        .unwrap_or_else(|e: ws::Error| usage(&e.to_string()));
    let url = url.unwrap_or_else(|| usage("expected URL"));
    let url = url::Url::parse(&url).unwrap_or_else(|e| usage(&e.to_string()));

    let todo = messages();
    let total = todo.len();
    let outcome = Rc::new(RefCell::new(Outcome::default()));
    let shared = Rc::clone(&outcome);
    let settings = ws::Settings {
        permessage_deflate: true,
        ..ws::Settings::default()
    };
    let ran = ws::Builder::new()
        .with_settings(settings)
        .with_runtime(runtime)
        .build(move |out| Client {
            out,
            todo: todo.clone(),
            next: 0,
            outcome: Rc::clone(&shared),
        })
        .and_then(|mut ws| {
            ws.connect(url)?;
            ws.run()
        });
    if let Err(err) = ran {
        eprintln!("interop_client: {err}");
        exit(1);
    }
    let outcome = outcome.borrow();
    let deflate = outcome
        .extensions
        .as_deref()
        .is_some_and(|e| e.starts_with("permessage-deflate"));
    let ok = deflate && outcome.matched == total && outcome.closed == Some(1000);
    println!(
        "interop_client: {}: permessage-deflate {}, {} of {total} echoes matched, close {:?}",
        if ok { "PASS" } else { "FAIL" },
        if deflate {
            "negotiated"
        } else {
            "NOT negotiated"
        },
        outcome.matched,
        outcome.closed,
    );
    exit(if ok { 0 } else { 1 });
}
