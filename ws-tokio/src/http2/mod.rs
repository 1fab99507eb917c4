//! WebSockets over HTTP/2 (RFC 8441), both roles, on hyper and h2 (the
//! `http2` feature, which implies `rustls`).
//!
//! A browser that reaches a server over HTTP/2 opens its WebSockets as
//! streams of that connection when the server advertises
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL`: an *extended CONNECT* with
//! `:protocol websocket`, answered with `200`, after which the stream's
//! DATA carries ordinary WebSocket frames (masked by the client, as
//! always). The handshake itself is the core's
//! ([`ws_proto::ConnectRequest`], [`ws_proto::ConnectResponse`]); this
//! module moves it over hyper (server) and h2 (client).
//!
//! - Server: [`serve_tls`] is one TLS listener with ALPN `h2` and
//!   `http/1.1` that hands every request to your handler; for a WebSocket
//!   ([`is_websocket`]) the handler calls [`upgrade`], which answers an
//!   HTTP/1.1 upgrade (101) and an HTTP/2 extended CONNECT (200) with the
//!   same checks and the same permessage-deflate negotiation, and yields a
//!   [`WebSocketStream`](crate::WebSocketStream) either way.
//!   [`serve_connection`] serves one connection you accepted yourself.
//! - Client: [`Http2Client`] opens many WebSockets on one HTTP/2
//!   connection, and falls back to HTTP/1.1 (a connection per WebSocket)
//!   when the server does not advertise extended CONNECT.
//!
//! Every WebSocket runs its own [`Connection`](ws_proto::Connection), so
//! its limits ([`Config`](crate::Config)), timeouts and back-pressure are
//! per stream: one stream's oversized message, stalled reader, close or
//! reset does not touch its siblings. HTTP/2 flow control is per stream
//! too: a WebSocket that stops reading stops its stream's window only.
//!
//! The server's example is at [`serve_tls`], the client's at
//! [`Http2Client`]; `examples/http2_echo.rs` runs both.

mod client;
mod server;

/// The flow-control window of each HTTP/2 stream this crate receives on
/// (RFC 9113 section 6.9.2): what a peer may send a WebSocket that does not
/// read, before the stream stalls. 64 KiB, about the protocol's default.
pub const STREAM_WINDOW: u32 = 64 * 1024;

/// The most WebSocket streams a server made by [`serve_connection`] lets
/// one HTTP/2 connection have open at once
/// (`SETTINGS_MAX_CONCURRENT_STREAMS`).
pub const MAX_STREAMS: u32 = 256;

/// The connection's flow-control window, for the data of all its streams
/// together: [`MAX_STREAMS`] times [`STREAM_WINDOW`] (16 MiB). HTTP/2 counts
/// unread data against both windows, so with a smaller one a few
/// WebSockets that stop reading would exhaust it and stall their siblings
/// (the protocol defaults, 64 KiB each, let a single one do it). With this
/// one, up to [`MAX_STREAMS`] stalled streams hold back only themselves;
/// the memory bound per stream stays [`STREAM_WINDOW`].
pub const CONNECTION_WINDOW: u32 = MAX_STREAMS * STREAM_WINDOW;

pub use client::{ClientStream, Http2Client, Http2Stream};
/// The `http` and `hyper` crates of the types in this module's API.
pub use {http, hyper};

pub use server::{
    ALPN, Body, HttpVersion, PendingWebSocket, Refusal, Upgraded, WebSocket, is_websocket,
    serve_connection, serve_tls, upgrade,
};
