//! # ws-proto: the WebSocket protocol without the I/O
//!
//! A complete RFC 6455 implementation as pure state machines: bytes in,
//! events and bytes out. No sockets, no clock, no threads, no async, no OS
//! randomness: the time (`Instant`) and a random seed are arguments. The same
//! core runs under mio, tokio, a blocking `std::net` loop, or a test harness
//! in virtual time.
//!
//! ## Layers, each usable alone
//!
//! - [`FrameHeader`]: parse (borrowing, `Status::Partial` when short) and encode.
//! - [`apply_mask`] / [`mask_into`]: masking by words, fused with the copy.
//! - [`Utf8Validator`]: incremental UTF-8, failing at the first bad byte.
//! - [`Decoder`]: frames to messages, with limits checked before allocating.
//! - [`Request`] / [`Response`] / [`HeadReader`]: the opening handshake.
//! - [`ConnectRequest`] / [`ConnectResponse`] / [`Agreement`]: the opening
//!   handshake of a WebSocket over HTTP/2 (RFC 8441's extended CONNECT),
//!   as plain values for any HTTP/2 library.
//! - [`DeflateConfig`] / [`Deflater`] / [`Inflater`]: permessage-deflate
//!   (RFC 7692), its negotiation and its bounded decompression.
//! - [`Connection`]: all of it, with the close handshake and timers.
//! - [`PreparedMessage`]: a message framed (and compressed) once for many
//!   server connections, queued on each without a copy.
//! - [`backpressure`]: every threshold that bounds what a connection
//!   holds for a slow peer, with the table of how each is derived.
//! - [`session`]: the contract between a runtime and what drives one
//!   connection (the `Session` every runtime calls alike).
//! - [`proxy`]: the tunnel through an HTTP CONNECT or SOCKS5 proxy, and
//!   the choice of proxy for a URL (explicit or from the environment).
//!
//! ## Driving a [`Connection`]
//!
//! 1. Feed inputs: [`Connection::handle_input`] with what the transport read,
//!    [`Connection::handle_eof`] at end of stream, and
//!    [`Connection::handle_timeout`] when [`Connection::poll_timeout`]'s
//!    deadline passes.
//! 2. Give commands: [`Connection::send`], [`Connection::ping`],
//!    [`Connection::close`], and on a server [`Connection::accept`] or
//!    [`Connection::reject`] after [`Event::Request`].
//! 3. After every input or command, drain the outputs until each is empty:
//!    [`Connection::poll_event`], then [`Connection::poll_transmit`] (write
//!    the bytes; on [`Transmit::Close`] close the transport once written),
//!    then read [`Connection::poll_timeout`] for the next wake-up.
//!
//! A violation by the peer is an input like any other, not a failed call: the
//! core queues the right close frame (1002, 1007, 1009, ...) and reports
//! [`Event::Closed`] with the error. Replies nobody asked for (pongs, the
//! close echo) are queued by the core itself. [`Event::Closed`] comes exactly
//! once, last.
//!
//! ## What this crate does not do
//!
//! It opens no sockets, resolves no names, does no TLS, keeps no time and
//! spawns nothing. See the `ws`, `ws-mio` and `ws-tokio` crates for that.
//! The one helper that asks the OS for anything, `os_seed` (a connection's
//! seed, behind the `os-seed` feature), is never called by the core itself.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod backpressure;
mod chunk;
mod close;
mod config;
mod connection;
mod decoder;
mod deflate;
mod error;
mod extended_connect;
mod frame;
mod handshake;
mod mask;
mod message;
mod origin;
mod output;
mod prepared;
pub mod proxy;
pub mod redirect;
mod rng;
#[cfg(feature = "os-seed")]
mod seed;
pub mod session;
#[cfg(feature = "rustls")]
pub mod tls;
mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use connection::{Closed, Connection, Event, Opened, Role, Transmit, TransportClose};
pub use decoder::{Decoded, Decoder, DecoderConfig};
pub use deflate::budget as deflate_budget;
pub use deflate::{
    DeflateConfig, DeflateParams, Deflater, EXTENSION_NAME as DEFLATE_EXTENSION, INFLATE_CHUNK,
    InflateError, Inflater, MAX_WINDOW_BITS, MIN_WINDOW_BITS, max_compressed_len,
};
pub use error::{Error, HandshakeError, ProtocolError, SendError, StateError, TimeoutKind};
pub use extended_connect::{Agreement, CONNECT_PROTOCOL, ConnectRequest, ConnectResponse};
pub use frame::{
    FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, RSV1, RSV2, RSV3, Status,
};
pub use handshake::{
    Accept, HeadReader, Headers, Request, RequestChecks, Response, accept_key, extension_name,
    header_list_items, reason_phrase,
};
pub use mask::{apply_mask, apply_mask_bytewise, mask_into};
pub use message::Message;
pub use origin::OriginPolicy;
pub use output::OutputQueue;
pub use prepared::PreparedMessage;
#[cfg(feature = "os-seed")]
pub use seed::{SeedError, os_seed};
pub use utf8::{Utf8Error, Utf8Validator, string_from_utf8};
