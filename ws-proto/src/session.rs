//! The contract between a runtime and whatever drives one connection.
//!
//! A runtime (an event loop such as `ws-mio`'s, or a task per connection
//! such as `ws-tokio`'s `driver`) owns the socket and the [`Connection`];
//! something above it decides what the connection does: answer the
//! handshake, echo, call a user's handler. That something is a
//! [`Session`], and this module is the one place its contract is written,
//! so that every runtime drives it alike and a session written once (the
//! `ws` crate's handler dispatch, for one) runs on each of them.
//!
//! It lives in the protocol core because it is as free of I/O as the rest:
//! a session sees the [`Connection`] and a [`Clock`] (the time and its own
//! timers), never a socket, a poller or a task. Both runtimes depend on
//! this crate already, so neither needs a crate more for it.
//!
//! The runtime's side of the contract:
//! - each method gets the connection to act on (`send`, `close`,
//!   `accept` ...); what it queued is written once the method returns;
//! - the methods are never called concurrently, and never after the
//!   connection ended (after [`Event::Closed`] was handed over and the
//!   transport closed);
//! - after each batch of input, commands or writes, the runtime calls
//!   [`Session::on_flushed`] with what it still holds for the socket;
//! - while more output waits than the runtime's high-water mark, it stops
//!   reading from the peer (so a peer that does not read cannot make it
//!   buffer without bound);
//! - on shutdown, [`Session::on_shutdown`] runs once per connection; the
//!   connection then ends by itself, bounded by the core's close timeout.
//!
//! ```
//! use ws_proto::session::{Clock, Session};
//! use ws_proto::{Connection, Event};
//!
//! /// Accepts any upgrade and echoes every message.
//! struct Echo;
//!
//! impl Session for Echo {
//!     type Command = ();
//!
//!     fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event) {
//!         match event {
//!             Event::Request(_) => drop(conn.accept(clock.now(), Default::default())),
//!             Event::Message(msg) => drop(conn.send(clock.now(), msg)),
//!             _ => {}
//!         }
//!     }
//!
//!     fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, (): ()) {}
//! }
//! # let _ = Echo;
//! ```

use std::io;
use std::time::Instant;

use crate::{CloseCode, Connection, Event};

/// The time, and a session's own timers, as its runtime keeps them.
pub trait Clock {
    /// The time of the input being handled (read once per turn of the
    /// runtime, so every call of one turn agrees).
    fn now(&self) -> Instant;

    /// Calls [`Session::on_timer`] with `id` at `at` (on the next turn if
    /// it passed already). Setting an `id` again moves its timer. Ids are
    /// the session's to choose; they need only be unique within it.
    fn set_timer(&mut self, id: u64, at: Instant);

    /// Cancels the timer `id`; `false` when none was pending.
    fn cancel_timer(&mut self, id: u64) -> bool;
}

/// A clock stopped at one instant, with no timers: for a session called
/// outside any runtime (a connection that never got a transport, a test).
#[derive(Clone, Copy, Debug)]
pub struct StoppedClock(pub Instant);

impl Clock for StoppedClock {
    fn now(&self) -> Instant {
        self.0
    }

    fn set_timer(&mut self, _: u64, _: Instant) {}

    fn cancel_timer(&mut self, _: u64) -> bool {
        false
    }
}

/// What drives one connection, called by its runtime with every input.
///
/// See the [module docs](self) for what a runtime promises. Every method
/// but [`on_event`](Self::on_event) and [`on_command`](Self::on_command)
/// has a default.
pub trait Session {
    /// The commands sent to this connection from outside (a `Sender`, a
    /// handle, a channel).
    type Command;

    /// An event of the core: the request (server), `Open`, a message, a
    /// ping or pong, and last `Closed`.
    fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event);

    /// A command addressed to this connection (or to every connection).
    fn on_command(&mut self, clock: &mut dyn Clock, conn: &mut Connection, command: Self::Command);

    /// A timer set with [`Clock::set_timer`] is due.
    fn on_timer(&mut self, clock: &mut dyn Clock, conn: &mut Connection, id: u64) {
        let _ = (clock, conn, id);
    }

    /// The transport failed (connect refused, reset, broken pipe ...). The
    /// core is told the transport is gone right after, so `Event::Closed`
    /// follows unless it came already.
    fn on_io_error(&mut self, clock: &mut dyn Clock, conn: &mut Connection, error: &io::Error) {
        let _ = (clock, conn, error);
    }

    /// The runtime wrote what the socket took of the output, after a batch
    /// of input, commands or writability; `pending` bytes still wait in the
    /// runtime's own buffer (the core may hold more, see
    /// [`Connection::buffered_amount`]). For tracking how much is buffered.
    /// Return true after giving the connection more to do, and the runtime
    /// writes it (it may do so anyway). The default does nothing.
    fn on_flushed(&mut self, clock: &mut dyn Clock, conn: &mut Connection, pending: usize) -> bool {
        let _ = (clock, conn, pending);
        false
    }

    /// The runtime is shutting down. The default closes with 1001 (going
    /// away); the core's close timeout bounds how long that takes.
    fn on_shutdown(&mut self, clock: &mut dyn Clock, conn: &mut Connection) {
        let _ = conn.close(clock.now(), CloseCode::AWAY, "shutting down");
    }
}

/// Where a command for a runtime goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// One connection, by token and connection id (a token is reused after
    /// its connection ends; the id never is, so a stale command is dropped).
    Conn {
        /// The connection's slot.
        token: usize,
        /// The connection's unique id.
        id: u64,
    },
    /// Every connection.
    All,
    /// The endpoint itself (connect, shutdown ...).
    Endpoint,
}
