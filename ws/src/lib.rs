//! Lightweight, event-driven WebSockets for Rust, with the API of ws-rs.
//!
//! This crate keeps the names, methods and behaviour of the data types of `ws` 0.9
//! ([`Message`], [`CloseCode`], [`OpCode`], [`Frame`], [`Error`] and [`ErrorKind`],
//! [`Settings`], [`Request`], [`Response`] and [`Handshake`], [`util::Token`] and
//! [`util::Timeout`]) on top of `ws-proto`, a sans-IO
//! WebSocket core that does all the protocol work.
//!
//! ```
//! use ws::{CloseCode, Message};
//!
//! let msg = Message::from("Hello WebSocket");
//! assert_eq!(msg.as_text().unwrap(), "Hello WebSocket");
//!
//! let code = CloseCode::from(1000);
//! assert_eq!(code, CloseCode::Normal);
//! assert!(code.is_allowed());
//! ```
//!
//! # Differences from ws-rs
//!
//! The types keep ws-rs's API; where their behaviour differs it is documented on the item.
//! The main differences: finite size limits and deadlines by default and strict masking and
//! key checks (see [`Settings`]); input from a peer never makes the library panic; no mio
//! type appears in the API ([`util`]); there is no TLS support.
#![deny(missing_docs)]

mod frame;
mod handshake;
mod message;
mod protocol;
mod random;
mod result;
mod settings;

pub mod util;

pub use frame::Frame;
pub use handshake::{Handshake, Request, Response};
pub use message::Message;
pub use protocol::{CloseCode, OpCode};
pub use result::{Error, ErrorKind, QueueError, Result};
pub use settings::Settings;
