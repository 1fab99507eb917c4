//! # 2. Factories and handlers
//!
//! An application gives a [`WebSocket`] two things:
//!
//! - a [`Factory`], one per `WebSocket`, called each time a connection
//!   starts (a TCP connection accepted by the listener, or one this end
//!   opens), which returns
//! - a [`Handler`] for that connection, whose methods the event loop calls
//!   as things happen on it: the handshake, each message, the close.
//!
//! State that concerns all connections (a room of chat users, a count)
//! belongs to the factory; state of one connection (a user name, a
//! subscription) to its handler. Each handler gets the connection's
//! [`Sender`] from the factory, and acts on the connection only through
//! it.
//!
//! ## The Sender
//!
//! Every method of [`Sender`] queues a command for the event loop and
//! returns at once; `Ok` means that the command was queued, not that it was
//! carried out. The main ones:
//!
//! | method | what it does |
//! | --- | --- |
//! | [`send`](Sender::send) | sends a text (`&str`, `String`) or binary (`Vec<u8>`, `&[u8]`) message, or a [`Message`] |
//! | [`close`](Sender::close), [`close_with_reason`](Sender::close_with_reason) | starts the closing handshake |
//! | [`ping`](Sender::ping) | sends a ping (the peer's pong comes back through [`Handler::on_frame`]) |
//! | [`broadcast`](Sender::broadcast) | sends to every connection of the `WebSocket` |
//! | [`timeout`](Sender::timeout), [`cancel`](Sender::cancel) | timers (chapter [5](super::timers)) |
//! | [`connect`](Sender::connect) | opens another client connection, served by the same factory |
//! | [`shutdown`](Sender::shutdown) | closes every connection with 1001 and stops the `WebSocket` |
//! | [`buffered_amount`](Sender::buffered_amount) | what waits to be written (chapter [7](super::backpressure)) |
//!
//! A `Sender` is `Clone + Send + Sync`: clone it into another thread to send
//! from there without blocking the event loop. Two senders are equal, and
//! hash the same, when they reach the same connection, so a set of senders
//! is a set of connections. Commands from one thread are carried out in
//! order. A send may fail: with a Queue error when the event loop's command
//! queue is full ([`Settings::queue_size`](crate::Settings::queue_size)), or
//! with a Capacity error when the connection's outgoing buffer is at its
//! cap (chapter [7](super::backpressure)).
//!
//! ## Closures
//!
//! A closure `FnMut(Sender) -> H` is a factory, and a closure
//! `FnMut(Message) -> Result<()>` is a handler whose
//! [`on_message`](Handler::on_message) it is: that is all chapter
//! [1](super::getting_started) used. Since the factory is called once per
//! connection, the handler closure it returns must own what it uses
//! (hence the `move`); a clone of shared state per connection, an `Rc`
//! for instance, is the usual way to share. Handlers run on the event
//! loop's thread and need not be `Send`.
//!
//! ## A handler of your own
//!
//! The client of chapter 1 sent its message from the factory, before the
//! connection was open. Should the handshake fail, that message is wasted,
//! and the `unwrap` in the factory would panic. A struct that implements
//! [`Handler`] can wait for [`on_open`](Handler::on_open) instead, and
//! return the error of the send rather than unwrap it:
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use ws::{CloseCode, Handler, Handshake, Message, Result, Sender};
//!
//! struct Client {
//!     out: Sender,
//!     // Shared with `main`, which reads it once `connect` has returned.
//!     replies: Rc<RefCell<Vec<String>>>,
//! }
//!
//! impl Handler for Client {
//!     // Called once the opening handshake has succeeded: the connection is open.
//!     // `Handshake` holds the request and the response, should the handler
//!     // want to look at headers, the subprotocol or the peer's address.
//!     fn on_open(&mut self, _: Handshake) -> Result<()> {
//!         // An error here closes only this connection.
//!         self.out.send("Hello WebSocket")
//!     }
//!
//!     fn on_message(&mut self, msg: Message) -> Result<()> {
//!         self.replies.borrow_mut().push(msg.into_text()?);
//!         self.out.close(CloseCode::Normal)
//!     }
//! }
//! # use std::{sync::mpsc, thread, time::Duration};
//! # let (tx, rx) = mpsc::channel();
//! # let server = thread::spawn(move || -> ws::Result<()> {
//! #     let ws = ws::WebSocket::new(|out: Sender| move |msg| out.send(msg))?.bind("127.0.0.1:0")?;
//! #     tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//! #     ws.run().map(drop)
//! # });
//! # let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! let replies = Rc::default();
//! ws::connect(format!("ws://{addr}/"), |out| Client { out, replies: Rc::clone(&replies) })?;
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! assert_eq!(replies.take(), ["Hello WebSocket"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! (The hidden lines run the echo server of chapter 1 on a free port,
//! as in every example from here on.)
//!
//! ## A factory of your own
//!
//! A struct that implements [`Factory`] holds the state of the whole
//! `WebSocket` and sees each connection begin and end:
//! [`connection_made`](Factory::connection_made) makes handlers (the
//! default of [`server_connected`](Factory::server_connected), for
//! connections the listener accepted, and of
//! [`client_connected`](Factory::client_connected), for connections this end
//! opened), and [`connection_lost`](Factory::connection_lost) gets each
//! handler back when its connection is gone.
//!
//! One `WebSocket` may listen and connect at once. Here it connects to
//! itself: the accepted side echoes, the side it opened says hello, and the
//! factory stops everything once the client's connection is gone.
//!
//! ```
//! use ws::{CloseCode, Factory, Handler, Handshake, Message, Result, Sender, WebSocket};
//!
//! enum Peer {
//!     Server(Sender),
//!     Client(Sender),
//! }
//!
//! impl Handler for Peer {
//!     fn on_open(&mut self, _: Handshake) -> Result<()> {
//!         match self {
//!             Peer::Client(out) => out.send("hello"),
//!             Peer::Server(_) => Ok(()),
//!         }
//!     }
//!
//!     fn on_message(&mut self, msg: Message) -> Result<()> {
//!         match self {
//!             Peer::Server(out) => out.send(msg),
//!             Peer::Client(out) => out.close(CloseCode::Normal),
//!         }
//!     }
//! }
//!
//! /// The state of the whole `WebSocket`: the connections that ended.
//! struct Hub {
//!     ended: std::rc::Rc<std::cell::RefCell<Vec<&'static str>>>,
//! }
//!
//! impl Factory for Hub {
//!     type Handler = Peer;
//!
//!     fn connection_made(&mut self, out: Sender) -> Peer {
//!         Peer::Server(out)
//!     }
//!
//!     fn client_connected(&mut self, out: Sender) -> Peer {
//!         Peer::Client(out)
//!     }
//!
//!     fn connection_lost(&mut self, peer: Peer) {
//!         match peer {
//!             Peer::Server(_) => self.ended.borrow_mut().push("server"),
//!             Peer::Client(out) => {
//!                 self.ended.borrow_mut().push("client");
//!                 // Nothing left to do: stop the listener too, so `run` returns.
//!                 out.shutdown().unwrap();
//!             }
//!         }
//!     }
//! }
//!
//! let ended = std::rc::Rc::default();
//! let mut ws = WebSocket::new(Hub { ended: std::rc::Rc::clone(&ended) })?.bind("127.0.0.1:0")?;
//! let url = format!("ws://{}/", ws.local_addr()?).parse()?;
//! ws.connect(url)?;
//! ws.run()?;
//! let mut ended = ended.take();
//! ended.sort();
//! assert_eq!(ended, ["client", "server"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Next: [the lifecycle of a connection](super::lifecycle).

#[allow(unused_imports)] // for the intra-doc links above
use crate::{Factory, Handler, Message, Sender, WebSocket};
