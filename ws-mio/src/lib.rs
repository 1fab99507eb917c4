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
//! ## An echo, both ends in one loop
//!
//! The loop below listens on a free loopback port and connects to itself:
//! the server session accepts the upgrade and echoes, the client session
//! sends one message on open and closes when the echo comes back; once the
//! client's connection is gone the endpoint shuts the loop down, so
//! [`EventLoop::run`] returns. The core's deadlines (10 s for the opening
//! handshake, 10 s for the closing one, by default) bound how long it can
//! take even if something goes wrong. The sessions implement the one
//! per-connection contract of the workspace, [`Session`] (from
//! `ws_proto::session`), which ws-tokio's driver runs too.
//!
//! ```
//! use std::sync::Arc;
//! use ws_mio::ws_proto::{Accept, CloseCode, Config, Connection, Event, Message, Request, Role};
//! use ws_mio::{Clock, ConnInfo, Control, Endpoint, EventLoop, LoopConfig, Session, Start};
//!
//! /// One connection, either end.
//! struct Echo {
//!     role: Role,
//!     echoed: Option<Message>,
//! }
//!
//! impl Session for Echo {
//!     /// What a `Handle` may send this session from another thread: nothing here.
//!     type Command = ();
//!
//!     fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event) {
//!         let now = clock.now();
//!         match (self.role, event) {
//!             // A server answers the upgrade request (or could reject it).
//!             (Role::Server, Event::Request(_)) => conn.accept(now, Accept::default()).unwrap(),
//!             (Role::Server, Event::Message(msg)) => conn.send(now, msg).unwrap(),
//!             (Role::Client, Event::Open(_)) => conn.send(now, "hello".into()).unwrap(),
//!             (Role::Client, Event::Message(msg)) => {
//!                 self.echoed = Some(msg);
//!                 conn.close(now, CloseCode::NORMAL, "").unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//!
//!     fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, (): ()) {}
//! }
//!
//! /// The loop's half: makes a session per accepted connection and keeps
//! /// what the client saw.
//! #[derive(Default)]
//! struct Server {
//!     echoed: Option<Message>,
//! }
//!
//! impl Endpoint for Server {
//!     type Session = Echo;
//!
//!     fn accept(&mut self, _: &mut Control<'_, Echo>, _: &ConnInfo) -> Option<Start<Echo>> {
//!         Some(Echo { role: Role::Server, echoed: None }.into())
//!     }
//!
//!     fn on_command(&mut self, _: &mut Control<'_, Echo>, (): ()) {}
//!
//!     fn on_session_end(&mut self, ctl: &mut Control<'_, Echo>, info: &ConnInfo, session: Echo) {
//!         if info.role == Role::Client {
//!             self.echoed = session.echoed;
//!             // Every session's `on_shutdown` runs (by default a close with
//!             // 1001); `run` returns once all are gone.
//!             ctl.shutdown();
//!         }
//!     }
//! }
//!
//! # fn main() -> std::io::Result<()> {
//! let mut event_loop = EventLoop::new(
//!     Server::default(),
//!     Arc::new(Config::default()),
//!     LoopConfig::default(),
//! )?;
//! let addr = event_loop.listen("127.0.0.1:0".parse().unwrap())?;
//! let url = format!("ws://127.0.0.1:{}/", addr.port());
//! event_loop.with_control(|_, ctl| {
//!     ctl.connect("127.0.0.1", addr.port(), |_| {
//!         let request = Request::client(&url).ok()?;
//!         Some((Echo { role: Role::Client, echoed: None }.into(), request))
//!     })
//! })?;
//! let server = event_loop.run()?;
//! assert_eq!(server.echoed, Some(Message::Text("hello".into())));
//! # Ok(())
//! # }
//! ```
//!
//! ## TLS
//!
//! With the `rustls` feature, a session may hand the loop a rustls
//! connection (`Start::with_tls`). The loop then drives rustls's own
//! sans-IO state machine between the socket and the core: socket bytes
//! into `read_tls` and `process_new_packets`, plaintext out of its
//! `reader` into the core; the core's output into its `writer`, records
//! out with `write_tls`; a `close_notify` before shutting down the write
//! side. Nothing blocks, and TLS stays a transport concern: the loop still
//! never looks at a frame.

#![deny(missing_docs)]

mod accept;
mod conn_io;
mod control;
mod endpoint;
mod event_loop;
mod handle;
mod loop_config;
mod refusal;
mod start;
mod transport;
mod tunnel;

pub use control::Control;
pub use endpoint::{ConnInfo, Endpoint};
pub use event_loop::{ACCEPT_BATCH, ACCEPT_RETRY, EventLoop, READ_BUDGET};
pub use handle::{Handle, SendFailed};
pub use loop_config::LoopConfig;
pub use refusal::Refusal;
pub use start::Start;
pub use ws_proto;
pub use ws_proto::session::{Clock, Route, Session};
