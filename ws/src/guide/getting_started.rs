//! # 1. Getting started: `listen` and `connect`
//!
//! Add the crate to `Cargo.toml`. The default feature, `mio`, runs every
//! connection on one mio event loop; `tokio` runs them on a current-thread
//! tokio runtime instead; `rustls` adds `wss://` (chapter [6](super::tls)).
//!
//! ```toml
//! [dependencies]
//! ws = "0.1"                                                  # mio
//! # ws = { version = "0.1", default-features = false, features = ["tokio"] }
//! ```
//!
//! ## A server
//!
//! [`listen`] takes an address to bind and a [`Factory`]: something that
//! makes a [`Handler`] for each connection. A closure that takes the
//! connection's [`Sender`] is a factory, and a closure that takes a
//! [`Message`] is a handler, so an echo server is one line:
//!
//! ```no_run
//! use ws::listen;
//!
//! fn main() {
//!     listen("127.0.0.1:3012", |out| move |msg| out.send(msg)).unwrap()
//! }
//! ```
//!
//! The outer closure runs once per connection and hands its `out` to the
//! inner one, which runs once per message and sends it back. `listen`
//! binds the address, then runs the event loop on the calling thread: it
//! returns only when the server shuts down (see [`Sender::shutdown`]), or
//! at once with an error if the address cannot be bound.
//!
//! ## A client
//!
//! [`connect`] takes a URL, `ws://host:port/path` (or `wss://` with the
//! `rustls` feature), and a factory, and runs until its connection, and
//! any other it opened, is closed:
//!
//! ```no_run
//! use ws::{CloseCode, connect};
//!
//! fn main() {
//!     connect("ws://127.0.0.1:3012", |out| {
//!         out.send("Hello WebSocket").unwrap();
//!         move |msg| {
//!             println!("Got message: {}", msg);
//!             out.close(CloseCode::Normal)
//!         }
//!     })
//!     .unwrap()
//! }
//! ```
//!
//! The factory sends its message before the connection is even open: a
//! [`Sender`] holds what it is given until the opening handshake is done.
//! The handler closes the connection on the first reply, `connect` sees the
//! closing handshake through and returns. A URL that does not parse is an
//! error from `connect` itself; a scheme other than `ws` and `wss`, or a
//! server that cannot be reached, is reported to the handler's
//! [`on_error`](Handler::on_error) (chapter [3](super::lifecycle)), and
//! `connect` then returns as well.
//!
//! Both programs are in the repository's `examples` crate: run
//! `cargo run --example echo_server` in one terminal and
//! `cargo run --example client` in another.
//!
//! ## Both ends in one program
//!
//! `listen` waits forever, so the guide's runnable examples build the
//! server from its parts instead: [`WebSocket::new`] with the factory,
//! [`bind`](WebSocket::bind) to port 0 (the system picks a free one),
//! [`local_addr`](WebSocket::local_addr) for the URL, and
//! [`run`](WebSocket::run) on a thread of its own. The server's
//! [`broadcaster`](WebSocket::broadcaster) is a [`Sender`] for all its
//! connections at once; once the client is done, its
//! [`shutdown`](Sender::shutdown) stops the server, and `run` returns.
//!
//! ```
//! use std::cell::RefCell;
//! use std::sync::mpsc;
//! use std::thread;
//! use std::time::Duration;
//! use ws::{CloseCode, Message, Sender, WebSocket};
//!
//! let (tx, rx) = mpsc::channel();
//! let server = thread::spawn(move || -> ws::Result<()> {
//!     let ws = WebSocket::new(|out: Sender| move |msg| out.send(msg))?.bind("127.0.0.1:0")?;
//!     tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//!     ws.run()?;
//!     Ok(())
//! });
//! let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! let replies = RefCell::new(Vec::new());
//! let log = &replies;
//! ws::connect(format!("ws://{addr}/"), move |out: Sender| {
//!     out.send("Hello WebSocket").unwrap();
//!     // Handlers may borrow from `main`: they need not be `Send` or `'static`.
//!     move |msg: Message| {
//!         log.borrow_mut().push(msg.into_text()?);
//!         out.close(CloseCode::Normal)
//!     }
//! })?;
//!
//! server_out.shutdown()?;
//! server.join().unwrap()?;
//! assert_eq!(replies.into_inner(), ["Hello WebSocket"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same programs run on tokio: build with
//! `--no-default-features --features tokio`, or, with both features on,
//! choose it per `WebSocket` with
//! [`Builder::with_runtime`](crate::Builder::with_runtime) and
//! [`Runtime::Tokio`](crate::Runtime). Handlers behave the same on both.
//!
//! Next: [what a factory and a handler are](super::factory_and_handler).

#[allow(unused_imports)] // for the intra-doc links above
use crate::{Factory, Handler, Message, Sender, WebSocket, connect, listen};
