//! A chat room in the browser. The server serves its own web page over plain
//! HTTP and relays every message to everyone in the room.
//!
//!     cargo run --example chat [-- ADDR]      (ADDR: 127.0.0.1:3012)
//!     cargo run --example chat -- --self-test
//!
//! Open http://127.0.0.1:3012/ in a few browser tabs and chat. `/` is the
//! page, `/chat` the WebSocket, anything else gets a 404. `--self-test` runs
//! the server on a free port, fetches the page, then has two clients chat.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::thread;

use ws::{CloseCode, Handler, Handshake, Message, Request, Response, Result, Sender};

/// The whole client: a log, an input box, and a few lines of script.
const PAGE: &str = r#"<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>ws chat</title></head>
<body>
  <pre id="log"></pre>
  <form id="form"><input id="text" autofocus> <button>Send</button></form>
  <script>
    const log = document.getElementById("log");
    const text = document.getElementById("text");
    const show = line => { log.textContent += line + "\n"; };
    const socket = new WebSocket("ws://" + location.host + "/chat");
    socket.onopen = () => show("* joined");
    socket.onmessage = event => show(event.data);
    socket.onclose = event => show("* left (" + event.code + ")");
    document.getElementById("form").onsubmit = event => {
      event.preventDefault();
      socket.send(text.value);
      text.value = "";
    };
  </script>
</body>
</html>
"#;

struct Member {
    out: Sender,
}

impl Handler for Member {
    /// Every connection starts as an HTTP request. Only `/chat` is upgraded
    /// to a WebSocket; any other response is sent as is and the connection
    /// closes, which makes plain HTTP pages possible.
    fn on_request(&mut self, req: &Request) -> Result<Response> {
        match req.resource() {
            "/" => {
                let mut page = Response::new(200, "OK", PAGE.as_bytes().to_vec());
                page.headers_mut()
                    .push(("Content-Type".into(), b"text/html; charset=utf-8".to_vec()));
                Ok(page)
            }
            "/chat" => Response::from_request(req),
            _ => Ok(Response::new(404, "Not Found", b"no such page\n".to_vec())),
        }
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        // To every open WebSocket of this server, the sender included.
        self.out.broadcast(msg)
    }
}

fn main() -> Result<()> {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("--self-test") {
        self_test();
        return Ok(());
    }
    let addr = arg.unwrap_or_else(|| "127.0.0.1:3012".into());
    // The page is served here, so a browser's upgrade must come from it: 403 otherwise.
    let settings = ws::Settings {
        same_origin: true,
        ..ws::Settings::default()
    };
    let ws = ws::Builder::new()
        .with_settings(settings)
        .build(|out: Sender| Member { out })?
        .bind(addr)?;
    println!("open http://{}/ in your browser", ws.local_addr()?);
    ws.run()?;
    Ok(())
}

// ---------------------------------------------------------------- self-test

fn self_test() {
    // The server runs on a thread of its own; its broadcaster's `shutdown`
    // stops it at the end.
    let ws = ws::WebSocket::new(|out: Sender| Member { out })
        .and_then(|ws| ws.bind("127.0.0.1:0"))
        .unwrap();
    let addr = ws.local_addr().unwrap();
    let stop = ws.broadcaster();
    let server = thread::spawn(move || ws.run().map(drop));

    let page = http_get(addr, "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("new WebSocket"), "{page}");
    let missing = http_get(addr, "/nowhere");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    println!("page served, 404 elsewhere");

    // Two members on one client WebSocket: the second to join says hello,
    // and both must hear it.
    let joined = Rc::new(Cell::new(0));
    let heard = Rc::new(RefCell::new(Vec::new()));
    let mut clients = ws::WebSocket::new(|out: Sender| Listener {
        out,
        joined: joined.clone(),
        heard: heard.clone(),
    })
    .unwrap();
    let url = url::Url::parse(&format!("ws://{addr}/chat")).unwrap();
    clients.connect(url.clone()).unwrap();
    clients.connect(url).unwrap();
    clients.run().unwrap(); // returns when both have left
    assert_eq!(*heard.borrow(), ["hello, room", "hello, room"]);
    println!("both members heard the broadcast");

    stop.shutdown().unwrap();
    server.join().unwrap().unwrap();
    println!("self-test passed");
}

struct Listener {
    out: Sender,
    joined: Rc<Cell<usize>>,
    heard: Rc<RefCell<Vec<String>>>,
}

impl Handler for Listener {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.joined.set(self.joined.get() + 1);
        if self.joined.get() == 2 {
            self.out.send("hello, room")?;
        }
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.heard.borrow_mut().push(msg.into_text()?);
        self.out.close(CloseCode::Normal)
    }
}

/// A bare HTTP/1.1 GET; the server closes the connection after answering.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}
