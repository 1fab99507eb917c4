//! A chat room in the browser. The server serves its own web page over plain
//! HTTP and relays every message to everyone in the room.
//!
//!     cargo run --example chat [-- ADDR]      (ADDR: 127.0.0.1:3012)
//!     cargo run --example chat -- --self-test
//!
//! Open http://127.0.0.1:3012/ in a few browser tabs and chat. `/` is the
//! page, `/chat` the WebSocket, `/favicon.ico` an empty 204, anything else
//! a 404. The server prints a line when a member joins or leaves, never what
//! they say. `--self-test` runs the server on a free port, fetches the page,
//! then has two clients chat.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::thread;

use ws::{CloseCode, Handler, Handshake, Message, Request, Response, Result, Sender};

/// The whole client: a header with the room's connection state, the
/// conversation, and a form with the user's name and a line to send. Every
/// chat line travels as JSON, `{"name": ..., "text": ...}`; the server relays
/// it untouched, and the page shows anything else as a line from "?". Text
/// from the network only ever goes into `textContent`, never into HTML.
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ws chat</title>
<style>
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body {
    display: flex; flex-direction: column; max-width: 46rem; margin: 0 auto;
    font: 16px/1.4 system-ui, sans-serif; color: #1d232a; background: #f4f5f7;
  }
  header {
    display: flex; align-items: center; justify-content: space-between; gap: .5rem;
    padding: .75rem 1rem; background: #24516e; color: #fff;
  }
  h1 { margin: 0; font-size: 1.15rem; font-weight: 600; }
  #state { padding: .15rem .6rem; border-radius: 1rem; font-size: .85rem; background: #8a6d1f; }
  #state.online { background: #2e7d4f; }
  #state.offline { background: #a83232; }
  #log { flex: 1; overflow-y: auto; margin: 0; padding: .75rem 1rem; list-style: none; }
  #log li { margin: .35rem 0; padding: .4rem .7rem; border-radius: .5rem; background: #fff;
            box-shadow: 0 1px 2px rgba(0,0,0,.08); overflow-wrap: anywhere; }
  #log li.mine { background: #dcebf7; }
  #log li.note { background: none; box-shadow: none; color: #5c6670; font-style: italic; padding: .1rem .7rem; }
  #log .who { display: block; font-size: .8rem; font-weight: 600; color: #24516e; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; padding: .75rem 1rem; background: #e3e6ea; }
  input { font: inherit; padding: .5rem .6rem; border: 1px solid #b8c0c8; border-radius: .4rem; min-width: 0; }
  #name { flex: 0 1 9rem; }
  #text { flex: 1 1 12rem; }
  button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: .4rem; background: #24516e; color: #fff; }
  button:disabled { background: #8c99a6; }
  @media (max-width: 30rem) { #name { flex-basis: 100%; } }
</style>
</head>
<body>
  <header><h1>ws chat</h1><span id="state">connecting</span></header>
  <ul id="log" aria-live="polite"></ul>
  <form id="form">
    <input id="name" placeholder="your name" maxlength="32" aria-label="your name">
    <input id="text" placeholder="say something" autocomplete="off" aria-label="message" autofocus>
    <button id="send" disabled>Send</button>
  </form>
  <script>
    const log = document.getElementById("log");
    const state = document.getElementById("state");
    const name = document.getElementById("name");
    const text = document.getElementById("text");
    const send = document.getElementById("send");
    name.value = localStorage.getItem("ws-chat-name") || "guest" + Math.floor(Math.random() * 1000);
    name.onchange = () => localStorage.setItem("ws-chat-name", name.value);
    const show = (who, line, kind) => {
      const item = document.createElement("li");
      if (kind) item.className = kind;
      if (who !== null) {
        const tag = document.createElement("span");
        tag.className = "who";
        tag.textContent = who;
        item.appendChild(tag);
      }
      item.appendChild(document.createTextNode(line));
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
    };
    const setState = (label, kind) => {
      state.textContent = label;
      state.className = kind;
      send.disabled = kind !== "online";
    };
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat");
    socket.onopen = () => { setState("online", "online"); show(null, "You joined the room.", "note"); };
    socket.onmessage = event => {
      let line;
      try { line = JSON.parse(event.data); } catch (_) { line = null; }
      if (line && typeof line.name === "string" && typeof line.text === "string") {
        show(line.name, line.text, line.name === name.value.trim() ? "mine" : "");
      } else {
        show("?", String(event.data), "");
      }
    };
    socket.onclose = event => {
      setState("offline", "offline");
      show(null, "Disconnected (code " + event.code + "). Reload the page to join again.", "note");
    };
    document.getElementById("form").onsubmit = event => {
      event.preventDefault();
      const line = text.value.trim();
      if (!line || socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ name: name.value.trim() || "guest", text: line }));
      text.value = "";
      text.focus();
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
            // Browsers ask for it with every page; "nothing here" without
            // a 404 in their console.
            "/favicon.ico" => {
                let mut empty = Response::new(204, "No Content", Vec::new());
                // A 204 has no body, and says nothing about its length.
                empty
                    .headers_mut()
                    .retain(|(name, _)| !name.eq_ignore_ascii_case("Content-Length"));
                Ok(empty)
            }
            _ => Ok(Response::new(404, "Not Found", b"no such page\n".to_vec())),
        }
    }

    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        let peer = shake.peer_addr.map(|addr| addr.to_string());
        println!(
            "[{}] joined from {}",
            self.out.connection_id(),
            peer.as_deref().unwrap_or("an unknown address")
        );
        Ok(())
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        println!("[{}] left: {code:?}", self.out.connection_id());
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
    let icon = http_get(addr, "/favicon.ico");
    assert!(icon.starts_with("HTTP/1.1 204"), "{icon}");
    let missing = http_get(addr, "/nowhere");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    println!("page served, 204 for the icon, 404 elsewhere");

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
