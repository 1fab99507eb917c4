//! # ws-tokio: WebSockets on tokio over the ws-proto core
//!
//! A thin runtime around [`ws_proto::Connection`], the sans-IO protocol
//! core: this crate moves bytes between a tokio byte stream and the core,
//! and sleeps until the core's next deadline. It never parses or builds a
//! frame, masks, validates UTF-8 or checks a handshake: the core does all of
//! that, the same way under every runtime.
//!
//! It offers two ways in:
//!
//! - A native async API: [`accept`] / [`connect`] (and their `_with_*`
//!   variants) give a [`WebSocketStream`], which is a
//!   [`Stream`](futures_core::Stream) of [`Message`]s and a
//!   [`Sink`](futures_sink::Sink) of them, and [splits](WebSocketStream::split)
//!   into halves for two tasks. [`WebSocketStream::from_upgrade`] wraps a
//!   stream whose handshake was done elsewhere (a hyper or axum upgrade),
//!   after [`upgrade::negotiate`] decided the 101 response, compression
//!   included; [`WebSocketStream::from_raw`] wraps one without compression.
//!   With the `axum` feature, the extractor `axum::WebSocketUpgrade` does
//!   both for axum 0.8 handlers, in the style of axum's own.
//! - With the `http2` feature, WebSockets over HTTP/2 (RFC 8441), module
//!   `http2`: one TLS listener (ALPN `h2` and `http/1.1`) that serves
//!   HTTP/1.1 upgrades and HTTP/2 extended CONNECTs alike, compressed on
//!   both, and a client that opens many WebSockets on one HTTP/2
//!   connection, falling back to HTTP/1.1 when the server does not
//!   advertise extended CONNECT.
//! - [`topics`]: a registry of topics shared across tasks and threads;
//!   a published message is framed once ([`PreparedMessage`]) and sent to
//!   every subscribed connection with [`WebSocketStream::send_prepared`].
//! - [`driver::drive`]: one task per connection calling a
//!   [`Session`](ws_proto::session::Session) (the workspace's one
//!   per-connection contract, which ws-mio's loop drives too) with the core's events, a command channel's commands and the
//!   session's own timers, for frameworks built on callbacks (the `ws`
//!   crate's tokio backend).
//!
//! ## An echo server
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (tcp, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let mut ws = ws_tokio::accept(tcp).await?;
//!         while let Some(msg) = ws.next().await {
//!             let msg = msg?;
//!             if msg.is_data() {
//!                 ws.send(msg).await?;
//!             }
//!         }
//!         Ok::<_, ws_tokio::Error>(())
//!     });
//! }
//! # }
//! ```
//!
//! ## A client
//!
//! ```no_run
//! use ws_tokio::{CloseCode, Message};
//!
//! # async fn run() -> Result<(), ws_tokio::Error> {
//! let mut ws = ws_tokio::connect("ws://127.0.0.1:9001/chat").await?;
//! ws.send("hello").await?;
//! if let Some(Ok(Message::Text(reply))) = ws.recv().await {
//!     println!("{reply}");
//! }
//! ws.close(CloseCode::NORMAL, "done").await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Both ends in one program
//!
//! A server on a free loopback port, echoing in a task of its own, and a
//! client that sends one message, reads the echo and closes. Everything
//! runs on one current-thread runtime; the `timeout` bounds the whole
//! exchange, so the program ends by itself even if a peer stops answering.
//!
//! ```
//! use std::time::Duration;
//! use ws_tokio::{CloseCode, Message};
//!
//! async fn exchange() -> Result<String, ws_tokio::Error> {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let url = format!("ws://{}/echo", listener.local_addr()?);
//!
//!     let server = tokio::spawn(async move {
//!         let (tcp, _) = listener.accept().await?;
//!         let mut ws = ws_tokio::accept(tcp).await?;
//!         // `recv` gives pings, pongs and the close frame too; echo only data.
//!         // The core has already answered the pings and will answer the close.
//!         while let Some(msg) = ws.recv().await {
//!             let msg = msg?;
//!             if msg.is_data() {
//!                 ws.send(msg).await?;
//!             }
//!         }
//!         Ok::<_, ws_tokio::Error>(())
//!     });
//!
//!     let mut ws = ws_tokio::connect(&url).await?;
//!     ws.send("hello").await?;
//!     let reply = match ws.recv().await {
//!         Some(Ok(Message::Text(text))) => text,
//!         other => panic!("expected the echo, got {other:?}"),
//!     };
//!     // The close handshake: resolves once the server has answered.
//!     ws.close(CloseCode::NORMAL, "done").await?;
//!     server.await.expect("the server task panicked")?;
//!     Ok(reply)
//! }
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let reply = runtime.block_on(async {
//!     tokio::time::timeout(Duration::from_secs(10), exchange()).await
//! })??;
//! assert_eq!(reply, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Deadlines
//!
//! The core keeps the deadlines of [`Config`]: `handshake_timeout`,
//! `close_timeout`, `keepalive_interval` / `keepalive_timeout` and
//! `idle_timeout`. They run on tokio's clock while the connection is being
//! polled (reading a [`WebSocketStream`], or the driver's task), so a paused
//! test clock pauses them too.
//!
//! ## What this crate does not do
//!
//! TLS only with the `rustls` feature (module `tls`: `wss://` in [`connect`],
//! `connect_with_tls`, `accept_tls`); without it [`connect`] refuses
//! `wss://` URLs with [`Error::TlsNotSupported`], which names the feature
//! (or connect a TLS stream yourself and run the handshake over it with
//! [`client`]).
//!
//! permessage-deflate (RFC 7692) is the core's: set [`Config::deflate`] to a
//! [`DeflateConfig`] and [`accept_with_config`], [`connect_with_config`] and
//! the other handshakes offer or accept it. For a handshake done elsewhere
//! (hyper, axum), [`upgrade::negotiate`] accepts the client's offer with the
//! same config and [`WebSocketStream::from_upgrade`] runs the connection
//! with it; [`WebSocketStream::from_raw`] starts without it.
//!
//! ## Tracing
//!
//! With the `tracing` feature, the native API reports through
//! [`tracing`](https://docs.rs/tracing) as well as through `log` (whose
//! lines stay as they are; tracing's own `log` bridge is not turned on).
//! Without the feature there is no `tracing` dependency and no cost. Nothing
//! is emitted unless a subscriber enables it, and nothing at all at `info`,
//! per message or per connection, so `info` stays quiet under any load:
//!
//! | what | level | fields |
//! | --- | --- | --- |
//! | span `ws_connection`, one per connection ([`accept`], [`connect`], [`Listener`], [`WebSocketStream::from_upgrade`] / [`from_raw`](WebSocketStream::from_raw), the [`driver`]) | `debug` | `role` (`server` or `client`); `peer`, the peer's address when known: a [`Listener`]'s client, the server (or proxy) [`connect`] reached |
//! | `connection established` | `debug` | `deflate` (bool), `protocol` (the subprotocol, or empty) |
//! | `connection closed` | `debug` | `code`, `reason_len`, `initiator` (`local`: this end sent the first close frame or failed the connection; `peer`: the peer's close came first, or the peer went away), `clean` (a complete close handshake), `error` (what ended it otherwise) |
//! | `protocol error`, before its `connection closed` | `debug` | `error` (the violation), `code` (the close code sent, 1002, 1007 ...) |
//! | `handshake failed` | `debug` | `error` |
//! | `refused a connection with 503` ([`Listener::accept`]) | `debug` | `peer`, `cap` (`max_connections` or `max_pending_handshakes`) |
//! | `server full, refusing connections with 503` | `warn`, at most once every 10 s per listener | `cap`, `refused` (the refusals since the last such warning) |
//!
//! The messages start with `ws-tokio: ` (`ws-tokio: connection closed`),
//! and the targets with `ws_tokio`, so `ws_tokio=debug` selects them all.
//!
//! The connection's events are emitted in its span, and the span is
//! entered around each poll of the connection's work, so events of the
//! application's own code run from those polls nest there too. The span's
//! parent is the span current where the connection was made: to give a
//! plain [`accept`] the peer's address, which it does not know, run it in
//! a span of your own that has it. The axum extractor makes the span a
//! child of the handler's (a request span, say).
//!
//! Protocol errors are at `debug`, not `warn`: any peer can commit one at
//! will, as often as it connects, and a log that a hostile client can fill
//! is a problem of its own; a violation is the peer's fault, not something
//! for this server's operator to fix. The refusals' rate-limited `warn` is
//! the one thing an operator should see, as it means the server is at its
//! caps.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admission;
#[cfg(feature = "axum")]
pub mod axum;
mod connector;
pub mod driver;
mod engine;
mod error;
mod handshake;
#[cfg(feature = "http2")]
pub mod http2;
mod maybe_tls;
mod message;
pub mod proxy;
mod split;
mod stream;
#[cfg(feature = "rustls")]
pub mod tls;
#[cfg(feature = "rustls")]
mod tls_transport;
pub mod topics;
mod trace;
pub mod upgrade;
#[cfg(any(feature = "axum", feature = "http2"))]
mod upgraded;

#[cfg(feature = "rustls")]
pub use admission::refuse_tls;
pub use admission::{Admitted, Limits, Listener, Permit, refuse};
pub use connector::Connector;
pub use error::Error;
pub use handshake::{
    accept, accept_with, accept_with_config, client, client_with_config, connect,
    connect_with_config,
};
pub use maybe_tls::MaybeTlsStream;
pub use message::Message;
pub use split::{ReadHalf, ReuniteError, WriteHalf};
pub use stream::WebSocketStream;
#[cfg(feature = "rustls")]
pub use tls::{accept_tls, accept_tls_with, connect_with_tls};
pub use ws_proto;
pub use ws_proto::proxy::{Proxy, ProxyError, ProxySetting};
pub use ws_proto::{
    Accept, CloseCode, CloseFrame, Closed, Config, DeflateConfig, Opened, PreparedMessage, Request,
    Response, Role,
};
#[cfg(feature = "rustls")]
pub use {rustls, tokio_rustls};
