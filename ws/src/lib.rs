//! # ws: lightweight, event-driven WebSockets for Rust
//!
//! The API of ws-rs (`ws` 0.9): [`listen`] and [`connect`], a [`Factory`]
//! that makes a [`Handler`] per connection, and a [`Sender`] to act on it,
//! on top of `ws-proto`, a sans-IO protocol core that does all the protocol
//! work. The runtime is chosen with cargo features: `mio` (the default) and
//! `tokio`; with both, mio is the default and `Runtime::Tokio` is chosen
//! with [`Builder::with_runtime`].
//!
//! **New here? Read the [guide]:** it teaches the library step by step,
//! from the first echo server to factories and handlers, the lifecycle of
//! a connection, settings and limits, timers, TLS, back-pressure and
//! compression, every program in it a tested example.
//!
//! ```no_run
//! // A WebSocket echo server.
//! ws::listen("127.0.0.1:3012", |out: ws::Sender| {
//!     move |msg| out.send(msg)
//! }).unwrap();
//! ```
//!
//! ```no_run
//! use ws::{connect, CloseCode};
//! // A client that sends one message, prints the answer and closes.
//! connect("ws://127.0.0.1:3012", |out: ws::Sender| {
//!     out.send("Hello WebSocket").unwrap();
//!     move |msg| {
//!         println!("Got message: {}", msg);
//!         out.close(CloseCode::Normal)
//!     }
//! }).unwrap();
//! ```
//!
//! Both run until stopped. The same two, in one program that ends by
//! itself: the server listens on a free loopback port on a thread of its
//! own, the client runs on this one, and when the client is done the
//! server's [broadcaster](WebSocket::broadcaster) shuts it down.
//!
//! ```
//! use std::sync::mpsc;
//! use std::thread;
//! use std::time::Duration;
//! use ws::{CloseCode, Sender, Settings, WebSocket};
//!
//! let (tx, rx) = mpsc::channel();
//! let server = thread::spawn(move || -> ws::Result<()> {
//!     let server = WebSocket::new(|out: Sender| move |msg| out.send(msg))?.bind("127.0.0.1:0")?;
//!     tx.send((server.local_addr()?, server.broadcaster())).unwrap();
//!     server.run()?;
//!     Ok(())
//! });
//! let (addr, stop) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! // A client that gives up after 10 s of silence, so the example cannot hang.
//! let settings = Settings { idle_timeout: Some(Duration::from_secs(10)), ..Settings::default() };
//! let (got, replies) = mpsc::channel();
//! let mut client = ws::Builder::new().with_settings(settings).build(|out: Sender| {
//!     out.send("Hello WebSocket").unwrap();
//!     let got = got.clone();
//!     move |msg: ws::Message| {
//!         got.send(msg.to_string()).unwrap();
//!         out.close(CloseCode::Normal)
//!     }
//! })?;
//! client.connect(url::Url::parse(&format!("ws://{addr}"))?)?;
//! client.run()?; // returns once its only connection is closed
//!
//! stop.shutdown()?;
//! server.join().unwrap()?;
//! assert_eq!(replies.try_recv()?, "Hello WebSocket");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Differences from ws-rs
//!
//! The names and behaviour are those of ws-rs; where they differ it is on
//! purpose and documented on the item. The main differences:
//!
//! - **Safe defaults.** Every limit is finite and every wait has a deadline
//!   by default; masking and key checks are strict (see [`Settings`]).
//! - **Peer input never panics** and never takes more memory than the limits
//!   allow: a violation closes that connection with the RFC's close code
//!   (1002, 1007, 1009 ...) or an HTTP error status, and is reported to
//!   [`Handler::on_error`].
//! - **Back-pressure.** Each connection's outgoing buffer has a cap
//!   ([`Settings::out_buffer_capacity`] with `out_buffer_grow: false`, else
//!   64 MiB): [`Sender::send`] fails with a Capacity error rather than pass
//!   it (and with [`Settings::close_on_write_cap`] the connection is also
//!   closed with 1008), [`Sender::buffered_amount`] says how much waits,
//!   and [`Handler::on_drain`] says when to go on. A peer that stops
//!   reading costs at most the cap; ws-rs buffered without bound.
//! - **A panicking handler takes down only its own connection** (closed with
//!   1011); ws-rs took down every connection of the `WebSocket`.
//! - No mio type appears in the API ([`util::Token`], [`util::Timeout`] are
//!   this crate's own).
//! - `Request::remove_protocol` and `remove_extension` remove the item they
//!   name (ws-rs's kept only that item).
//! - TLS with rustls, behind the `rustls` feature: `wss://` clients
//!   (webpki roots by default, `WebSocket::with_tls_client` for others)
//!   and servers (`WebSocket::with_tls_server`). The ws-rs hooks
//!   `upgrade_ssl_client` / `upgrade_ssl_server` choose a rustls
//!   configuration rather than wrapping a stream. Without the feature,
//!   `wss://` URLs and `Settings::encrypt_server` fail with an error that
//!   names it.
//! - permessage-deflate (RFC 7692) is done by the core for clients and
//!   servers alike: for every connection with
//!   [`Settings::permessage_deflate`] (off by default), or for chosen ones
//!   with ws-rs's [`deflate::DeflateHandler`] wrapper, which no longer
//!   needs a cargo feature. Inflated messages are bounded by
//!   [`Settings::max_message_size`].
//!
//! # How it is built
//!
//! Three layers, each of which can be used alone:
//!
//! ```text
//!   ws (this crate): Factory, Handler, Sender           ws/src/dispatch.rs, sender.rs
//!      |  Conn<H>: a Handler behind the Session contract
//!      v
//!   ws_proto::session::Session  (one contract, two drivers)
//!      |                                  |
//!   ws-mio: EventLoop                  ws-tokio: driver::drive
//!   ws-mio/src/event_loop.rs           ws-tokio/src/driver.rs, engine.rs
//!      |  bytes in, bytes out; never a frame
//!      v
//!   ws-proto: Connection (framing, masking, UTF-8, handshakes, deflate)
//!   ws-proto/src/connection/, decoder.rs, output.rs, deflate/
//! ```
//!
//! One message's path, on either runtime:
//!
//! 1. The runtime reads the socket (`ws-mio/src/event_loop.rs` `read`, or
//!    `ws-tokio/src/engine.rs`) and hands the bytes to the core:
//!    `Connection::handle_input`.
//! 2. The core unmasks, checks and assembles them
//!    (`ws-proto/src/decoder.rs`, `utf8.rs`) and queues an `Event::Message`.
//! 3. The runtime passes each event to the connection's session,
//!    `Session::on_event`; here that is `Conn<H>` in `ws/src/dispatch.rs`,
//!    which calls `Handler::on_message`.
//! 4. The handler answers with `Sender::send` (`ws/src/sender.rs`). The
//!    connection's own `Sender` is carried out at once, before the next
//!    input: `Conn` runs its commands when the handler returns
//!    (`DirectScope`), so replies leave in order. A `Sender` on another
//!    thread queues a command with a [`Route`](ws_proto::session::Route),
//!    which the runtime delivers through `Session::on_command`.
//! 5. The core frames the reply into its output queue
//!    (`ws-proto/src/output.rs`); the runtime writes it out and calls
//!    `Session::on_flushed`, where `Conn` brings the back-pressure count up
//!    to date and calls `Handler::on_drain` when it is owed. While too much
//!    waits for a peer, the runtime stops reading from it (the thresholds
//!    are in `ws_proto::backpressure`).
#![deny(missing_docs)]

#[cfg(not(any(feature = "mio", feature = "tokio")))]
compile_error!(
    "the `ws` crate needs a runtime: enable its `mio` feature (the default) or its `tokio` feature"
);

mod admission;
mod backend;
#[cfg(feature = "mio")]
mod backend_mio;
#[cfg(feature = "tokio")]
mod backend_tokio;
mod connect_url;
pub mod deflate;
mod dispatch;
mod frame;
mod handler;
mod handler_panics;
mod handshake;
mod hub;
mod message;
mod protocol;
mod proxy;
mod random;
mod result;
mod sender;
mod settings;
mod threads;
mod tls_config;
mod websocket;

pub mod guide;
pub mod util;

/// The README's example programs, compiled as doctests so that they cannot
/// drift from the API (its shell commands are marked `sh` and not compiled).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub use frame::Frame;
pub use handler::{Factory, Handler};
pub use handshake::{Handshake, Request, Response};
pub use message::Message;
pub use protocol::{CloseCode, OpCode};
pub use proxy::{Proxy, ProxyError, ProxySetting};
pub use result::{Error, ErrorKind, QueueError, Result};
pub use sender::Sender;
pub use settings::Settings;
pub use threads::Threaded;
pub use websocket::{Builder, Runtime, WebSocket, connect, listen};

/// TLS helpers (feature `rustls`): the crypto provider and the default
/// client configuration, and rustls itself for building configurations.
#[cfg(feature = "rustls")]
pub mod tls {
    pub use crate::tls_config::{
        crypto_provider, default_client_config, server_config_from_pem_files,
    };
    pub use rustls;
}
