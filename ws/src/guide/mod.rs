//! # The guide
//!
//! A walk through the library, from the first echo server to limits,
//! timers, back-pressure, TLS and compression. It follows the guide of
//! ws-rs, whose API this crate keeps, and says where this crate differs.
//!
//! 1. [Getting started](getting_started): [`listen`](crate::listen) and
//!    [`connect`](crate::connect), and how the guide's examples run both
//!    ends in one program.
//! 2. [Factories and handlers](factory_and_handler): the two traits an
//!    application implements, and the [`Sender`](crate::Sender) through
//!    which it acts.
//! 3. [The lifecycle of a connection](lifecycle): `on_open`, `on_message`,
//!    `on_close` and `on_error`, in which order and with which guarantees;
//!    errors and close codes.
//! 4. [Settings and limits](settings): every limit is finite by default;
//!    what each one bounds and what a peer that exceeds it gets.
//! 5. [Timers](timers): `Sender::timeout`, `on_timeout`, `on_new_timeout`,
//!    and the keepalive and idle deadlines the library keeps itself.
//! 6. [TLS](tls): `wss://` clients and servers with rustls.
//! 7. [Back-pressure](backpressure): what happens when a peer reads slower
//!    than the application writes, and how to stream without buffering
//!    without bound.
//! 8. [Compression](compression): permessage-deflate, its settings and
//!    its costs.
//!
//! This module holds no code, only these chapters. Every program in them is
//! compiled by `cargo test`, and run there wherever it can: on loopback,
//! with a server on a port the system picks, ending by itself. The few
//! that must bind a fixed port or serve forever are only compiled.

pub mod backpressure;
pub mod compression;
pub mod factory_and_handler;
pub mod getting_started;
pub mod lifecycle;
pub mod settings;
pub mod timers;
pub mod tls;
