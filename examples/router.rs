//! Routing by resource: one server, a different handler for each path.
//!
//!     cargo run --example router [-- ADDR]      (ADDR: 127.0.0.1:3012)
//!     cargo run --example router -- --self-test
//!
//! `ws://ADDR/echo` echoes messages, `ws://ADDR/shout` echoes them in
//! capitals, any other path is refused with a 404. The factory makes a
//! `Router` for every connection; once the request shows the path, the
//! router picks the real handler and passes every later callback on to it.
//! `--self-test` runs the server on a free port and tries all three.

use std::sync::mpsc;
use std::thread;

use ws::{CloseCode, Error, Handler, Handshake, Message, Request, Response, Result, Sender};

struct Router {
    out: Sender,
    inner: Box<dyn Handler>,
}

/// The handler of a connection that has not been routed (yet).
struct Unrouted;

impl Handler for Unrouted {}

struct Echo {
    out: Sender,
}

impl Handler for Echo {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.out.send(msg)
    }
}

struct Shout {
    out: Sender,
}

impl Handler for Shout {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.out.send(msg.as_text()?.to_uppercase())
    }
}

impl Handler for Router {
    fn on_request(&mut self, req: &Request) -> Result<Response> {
        let out = self.out.clone();
        // The resource may carry a query string: route on the path alone.
        let path = req.resource().split('?').next().unwrap_or_default();
        self.inner = match path {
            "/echo" => Box::new(Echo { out }),
            "/shout" => Box::new(Shout { out }),
            _ => {
                let body = b"try /echo or /shout\n".to_vec();
                return Ok(Response::new(404, "Not Found", body));
            }
        };
        // The chosen handler answers the handshake (here: the default 101).
        self.inner.on_request(req)
    }

    // Everything else goes to the chosen handler.

    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        self.inner.on_open(shake)
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.inner.on_message(msg)
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        self.inner.on_close(code, reason)
    }

    fn on_error(&mut self, err: Error) {
        self.inner.on_error(err)
    }
}

fn router(out: Sender) -> Router {
    Router {
        out,
        inner: Box::new(Unrouted),
    }
}

fn main() -> Result<()> {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("--self-test") {
        self_test();
        return Ok(());
    }
    let addr = arg.unwrap_or_else(|| "127.0.0.1:3012".into());
    let ws = ws::WebSocket::new(router)?.bind(addr)?;
    println!("listening on ws://{}/echo and /shout", ws.local_addr()?);
    ws.run()?;
    Ok(())
}

// ---------------------------------------------------------------- self-test

fn self_test() {
    let ws = ws::WebSocket::new(router)
        .and_then(|ws| ws.bind("127.0.0.1:0"))
        .unwrap();
    let addr = ws.local_addr().unwrap();
    let stop = ws.broadcaster();

    // The handlers need not be `Send`, so the server keeps this thread and
    // the clients get another: one client WebSocket, three connections,
    // each reporting what it got. Then they stop the server.
    let clients = thread::spawn(move || {
        let (tx, results) = mpsc::channel();
        let mut clients = ws::WebSocket::new(|out: Sender| Probe {
            out,
            path: String::new(),
            results: tx.clone(),
        })
        .unwrap();
        for path in ["/echo", "/shout?loud=yes", "/elsewhere"] {
            let url = format!("ws://{addr}{path}").parse().unwrap();
            clients.connect(url).unwrap();
        }
        clients.run().unwrap();
        stop.shutdown().unwrap();
        results.try_iter().collect::<Vec<(String, String)>>()
    });
    ws.run().unwrap();

    let mut results = clients.join().unwrap();
    results.sort();
    println!("{results:#?}");
    assert_eq!(results[0], ("/echo".into(), "hello".into()));
    assert!(results[1].0 == "/elsewhere" && results[1].1.contains("404"));
    assert_eq!(results[2], ("/shout".into(), "HELLO".into()));
    println!("self-test passed");
}

/// Sends "hello" and reports the answer, or the error, with its path.
struct Probe {
    out: Sender,
    path: String,
    results: mpsc::Sender<(String, String)>,
}

impl Handler for Probe {
    fn build_request(&mut self, url: &url::Url) -> Result<Request> {
        self.path = url.path().to_owned();
        Request::from_url(url)
    }

    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.send("hello")
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        let answer = (self.path.clone(), msg.into_text()?);
        self.results.send(answer).unwrap();
        self.out.close(CloseCode::Normal)
    }

    fn on_error(&mut self, err: Error) {
        let report = (self.path.clone(), format!("error: {err}"));
        self.results.send(report).unwrap();
    }
}
