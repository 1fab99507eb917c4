//! # 3. The lifecycle of a connection
//!
//! Every [`Handler`] method has a default, so a handler implements only
//! what it needs. Most need four: [`on_open`](Handler::on_open),
//! [`on_message`](Handler::on_message), [`on_close`](Handler::on_close) and
//! [`on_error`](Handler::on_error). The event loop calls them in this
//! order:
//!
//! 1. The opening handshake. A server's handler gets the client's request
//!    in [`on_request`](Handler::on_request), and returns the response (the
//!    default accepts the upgrade). A client's handler builds its request
//!    in [`build_request`](Handler::build_request) and sees the server's
//!    answer in [`on_response`](Handler::on_response).
//! 2. [`on_open`](Handler::on_open), once the handshake has succeeded: from
//!    here on messages flow. State that lives as long as the connection is
//!    best set up here rather than when the handler is made, since a
//!    connection may fail before it opens.
//! 3. [`on_message`](Handler::on_message) for each message, in the order
//!    they arrived; also [`on_timeout`](Handler::on_timeout) and
//!    [`on_drain`](Handler::on_drain) as they come.
//! 4. [`on_close`](Handler::on_close), exactly once, if `on_open` returned
//!    `Ok`: with the peer's close code and reason when it closed (or
//!    answered our close), ours when this end failed the connection, and
//!    [`CloseCode::Abnormal`](crate::CloseCode::Abnormal) (1006) when no
//!    close frame was exchanged (the TCP connection just ended, or the peer
//!    never answered within
//!    [`Settings::close_timeout`](crate::Settings::close_timeout)). No
//!    method is called after it.
//!
//! [`on_error`](Handler::on_error) may come at any point: a failed
//! handshake, a protocol violation by the peer, an I/O error, a missed
//! deadline, or an error returned by another method of this handler.
//! Whether the connection goes down depends on the error; when it does,
//! `on_close` follows (if the connection had opened), and the peer gets the
//! close code that fits. The default `on_error` logs the error through the
//! `log` crate; without a logger installed it prints nothing, so override
//! it, or install a logger, while developing.
//!
//! ## A server that counts
//!
//! The ws-rs guide's counting server, with a client that leaves with a
//! reason. The handlers share the count through an `Rc<Cell<u32>>` (they
//! all run on the event loop's thread) and report what they see on a
//! channel.
//!
//! ```
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use std::sync::mpsc;
//! use ws::{CloseCode, Error, Handler, Handshake, Message, Result, Sender};
//!
//! struct Server {
//!     out: Sender,
//!     count: Rc<Cell<u32>>,
//!     report: mpsc::Sender<String>,
//! }
//!
//! impl Handler for Server {
//!     fn on_open(&mut self, _: Handshake) -> Result<()> {
//!         self.count.set(self.count.get() + 1);
//!         Ok(())
//!     }
//!
//!     fn on_message(&mut self, msg: Message) -> Result<()> {
//!         let live = self.count.get();
//!         self.report.send(format!("{msg} ({live} live)")).unwrap();
//!         self.out.send(msg)
//!     }
//!
//!     fn on_close(&mut self, code: CloseCode, reason: &str) {
//!         // `reason` is often empty; it is only shown to people when the
//!         // application knows it to be readable.
//!         let why = match code {
//!             CloseCode::Normal => "done".to_string(),
//!             CloseCode::Away => format!("leaving: {reason}"),
//!             CloseCode::Abnormal => "gone without a closing handshake".to_string(),
//!             _ => format!("error: {reason}"),
//!         };
//!         self.report.send(why).unwrap();
//!         // The connection is going down: it no longer counts.
//!         self.count.set(self.count.get() - 1);
//!     }
//!
//!     fn on_error(&mut self, err: Error) {
//!         self.report.send(format!("error: {err}")).unwrap();
//!     }
//! }
//!
//! # use std::{thread, time::Duration};
//! let (report, reports) = mpsc::channel();
//! let (tx, rx) = mpsc::channel();
//! let server = thread::spawn(move || -> ws::Result<()> {
//!     // Cell gives the handlers a count they can change; Rc lets each own a
//!     // handle to it.
//!     let count = Rc::new(Cell::new(0));
//!     let ws = ws::WebSocket::new(|out| Server {
//!         out,
//!         count: count.clone(),
//!         report: report.clone(),
//!     })?
//!     .bind("127.0.0.1:0")?;
//!     tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//!     ws.run().map(drop)
//! });
//! let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! ws::connect(format!("ws://{addr}/"), |out: Sender| {
//!     out.send("hi").unwrap();
//!     move |_| out.close_with_reason(CloseCode::Away, "see you")
//! })?;
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! let seen: Vec<String> = reports.try_iter().collect();
//! assert_eq!(seen, ["hi (1 live)", "leaving: see you"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Errors and close codes
//!
//! A handler method that returns `Err` does not stop the event loop: the
//! error goes to that handler's `on_error`, and the connection is closed
//! with the code that fits the error's [`ErrorKind`](crate::ErrorKind):
//!
//! | kind | close code |
//! | --- | --- |
//! | `Internal`, `Custom` | 1011 ([`CloseCode::Error`](crate::CloseCode::Error)) |
//! | `Capacity` | 1009 ([`CloseCode::Size`](crate::CloseCode::Size)) |
//! | `Protocol` | 1002 ([`CloseCode::Protocol`](crate::CloseCode::Protocol)) |
//! | `Encoding` | 1007 ([`CloseCode::Invalid`](crate::CloseCode::Invalid)) |
//!
//! `?` on a fallible call inside a handler is therefore the usual way to
//! give up on a connection. [`Error::new`](crate::Error::new) makes an
//! error of any kind with a message; I/O, UTF-8 and URL errors convert
//! into errors of the matching kind, and a boxed `std::error::Error`
//! (`Send + Sync`) into a `Custom` one.
//!
//! What a peer sends never panics and never stops the loop: a violation of
//! RFC 6455 closes that connection with the code the RFC gives (1002 for a
//! protocol error, 1007 for invalid UTF-8 in a text message, 1009 for a
//! message over the limits of chapter [4](super::settings)), and a bad
//! handshake request is answered with an HTTP error status (400, 405, 431
//! ...). Either is reported to `on_error`.
//!
//! A handler that panics takes down only its own connection: the panic is
//! caught, the connection is closed with 1011, and that handler is not
//! called again (`on_close` included). In ws-rs it took down every
//! connection of the `WebSocket`. The `panic_on_*` settings, kept from
//! ws-rs, turn errors the application itself returns into panics, as a
//! debugging aid; `panic_on_internal` is on by default, as in ws-rs.
//!
//! ## Refusing a connection, serving a page
//!
//! A server's [`on_request`](Handler::on_request) may answer with any
//! [`Response`](crate::Response): a status other than 101 is sent with its
//! body and the connection is closed. That is how a server refuses
//! upgrades it does not want, or serves a page to a browser on the same
//! port (the `chat` example does both). The client sees the refusal as an
//! error; its `on_close` is not called, since it never opened.
//!
//! ```
//! use std::sync::mpsc;
//! use ws::{Error, Handler, Request, Response, Result};
//!
//! struct Gate;
//!
//! impl Handler for Gate {
//!     fn on_request(&mut self, req: &Request) -> Result<Response> {
//!         match req.resource() {
//!             "/chat" => Response::from_request(req),
//!             _ => Ok(Response::new(404, "Not Found", b"no such room".to_vec())),
//!         }
//!     }
//! }
//!
//! struct Visitor {
//!     report: mpsc::Sender<Error>,
//! }
//!
//! impl Handler for Visitor {
//!     fn on_error(&mut self, err: Error) {
//!         self.report.send(err).unwrap();
//!     }
//! }
//!
//! # use std::{thread, time::Duration};
//! # let (tx, rx) = mpsc::channel();
//! # let server = thread::spawn(move || -> ws::Result<()> {
//! #     let ws = ws::WebSocket::new(|_| Gate)?.bind("127.0.0.1:0")?;
//! #     tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//! #     ws.run().map(drop)
//! # });
//! # let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//! let (report, errors) = mpsc::channel();
//! ws::connect(format!("ws://{addr}/lobby"), |_| Visitor { report: report.clone() })?;
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! let refused = errors.try_recv()?;
//! assert!(matches!(refused.kind, ws::ErrorKind::Protocol), "{refused}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Next: [settings and limits](super::settings).

#[allow(unused_imports)] // for the intra-doc links above
use crate::Handler;
