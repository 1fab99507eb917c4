//! # ws-mio: a mio runtime for the ws-proto core
//!
//! One [`EventLoop`] per thread: a `mio::Poll`, a slab of connections, a
//! timer heap and a command queue with a `mio::Waker`. It moves bytes between
//! sockets and [`ws_proto::Connection`]s and sleeps until the earliest
//! deadline; it never parses or builds a frame. What to do with each event is
//! up to the caller's [`Endpoint`] (one per loop) and [`Session`]s (one per
//! connection); the `ws` crate implements them with the ws-rs API.
//!
//! ## How a connection is driven
//!
//! - Readable: read into one buffer shared by the whole loop until the
//!   socket is drained, feeding each chunk to the core and handing its
//!   events to the session (so a handler's replies are queued before the
//!   next chunk is read).
//! - After every batch of input and commands: drain the core's output into
//!   the connection's write buffer and write it with as few system calls as
//!   the socket allows. `WRITABLE` interest is registered only while output
//!   is pending. While more than [`LoopConfig::write_high_water`] bytes wait,
//!   the loop stops reading from that peer, so a peer that sends without
//!   reading cannot make us buffer without bound, and stops taking the
//!   core's output, which then refuses sends beyond its `max_write_buffer`:
//!   a peer that stops reading costs at most the two bounds.
//! - When the core asks for the transport to be closed, the loop shuts down
//!   the write side, then reads and discards until the peer's end of stream
//!   (bounded by the close timeout), so the last frames are not lost to a reset.
//!
//! ## TLS
//!
//! With the `rustls` feature, a session may hand the loop a rustls
//! connection (`Session::take_tls`). The loop then drives rustls's own
//! sans-IO state machine between the socket and the core: socket bytes
//! into `read_tls` and `process_new_packets`, plaintext out of its
//! `reader` into the core; the core's output into its `writer`, records
//! out with `write_tls`; a `close_notify` before shutting down the write
//! side. Nothing blocks, and TLS stays a transport concern: the loop still
//! never looks at a frame.

#![deny(missing_docs)]

mod event_loop;
mod handle;
mod transport;

pub use event_loop::{
    ACCEPT_RETRY, ConnInfo, Control, Endpoint, EventLoop, LoopConfig, READ_BUDGET, Session,
};
pub use handle::{Handle, SendFailed, Target};
pub use ws_proto;
