//! [`Endpoint`], the per-loop half of an application, and [`ConnInfo`],
//! what the loop knows of each connection.

use std::net::SocketAddr;
use std::time::Duration;

use ws_proto::Role;

use ws_proto::session::Session;

use crate::control::Control;
use crate::refusal::Refusal;
use crate::start::Start;

/// What the loop knows of a connection: given to [`Endpoint::accept`], to
/// the `make` of [`Control::connect`] and to [`Endpoint::on_session_end`].
/// `token` and `id` together address the connection in a [`Route::Conn`](crate::Route::Conn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnInfo {
    /// The connection's slot, reused after it ends.
    pub token: usize,
    /// The connection's id, never reused by this loop.
    pub id: u64,
    /// Client (we connected) or server (we accepted).
    pub role: Role,
    /// The peer's address (for a client, the address being connected to).
    pub peer_addr: SocketAddr,
    /// Our address, when the OS reports it.
    pub local_addr: Option<SocketAddr>,
}

/// The per-loop half of the application: creates sessions and takes
/// commands addressed to the loop as a whole.
pub trait Endpoint {
    /// The per-connection half: one value per connection, made by
    /// [`accept`](Self::accept) or by [`Control::connect`]'s `make`, called
    /// by the loop as the [`Session`] contract of `ws_proto::session` says,
    /// and handed back to [`on_session_end`](Self::on_session_end) when the
    /// connection is gone. Its callbacks run on the loop's thread and must
    /// not block: while one runs, no other connection moves.
    type Session: Session<Command: Clone + Send + 'static>;

    /// Called for each socket the listener accepts, before
    /// [`accept`](Endpoint::accept): return a [`Refusal`] (an HTTP `503`,
    /// say, from `ws_proto::Response::service_unavailable`) to refuse the
    /// client with it, or `None` to go on. No session is made for a refused
    /// socket. A [`Refusal::Plain`] socket gets what it sent read and
    /// dropped (a bounded amount), the answer written and its write side
    /// shut down, and is closed. A `Refusal::Tls` socket (feature `rustls`) gets its TLS
    /// handshake first and the answer inside it, within
    /// [`TLS_REFUSAL_TIMEOUT`](ws_proto::admission::TLS_REFUSAL_TIMEOUT), and at most
    /// [`MAX_TLS_REFUSALS`](ws_proto::admission::MAX_TLS_REFUSALS) at once (past that, the
    /// socket is only closed). [`Control::connection_count`] tells how full
    /// the loop is. The default refuses nobody (the loop itself still
    /// refuses past [`LoopConfig::max_connections`](crate::LoopConfig::max_connections), with a plain 503).
    fn refuse(
        &mut self,
        ctl: &mut Control<'_, Self::Session>,
        peer: SocketAddr,
    ) -> Option<Refusal> {
        let _ = (ctl, peer);
        None
    }

    /// Called before the loop accepts from its backlog: `Some(wait)` leaves
    /// the backlog alone (the clients wait in the kernel's queue) and looks
    /// again after `wait`, without needing a new readiness event. For
    /// holding off a moment while connections in progress finish their
    /// handshakes. The default never holds off.
    fn hold_off(&mut self, ctl: &mut Control<'_, Self::Session>) -> Option<Duration> {
        let _ = ctl;
        None
    }

    /// A connection was accepted; return its session (with how its
    /// transport starts: TLS, its own configuration; a session alone
    /// converts with `.into()`), or `None` to drop it.
    fn accept(
        &mut self,
        ctl: &mut Control<'_, Self::Session>,
        info: &ConnInfo,
    ) -> Option<Start<Self::Session>>;

    /// A command sent to [`Route::Endpoint`](crate::Route::Endpoint).
    fn on_command(
        &mut self,
        ctl: &mut Control<'_, Self::Session>,
        command: <Self::Session as Session>::Command,
    );

    /// A connection is gone; its session comes back for the last time.
    fn on_session_end(
        &mut self,
        ctl: &mut Control<'_, Self::Session>,
        info: &ConnInfo,
        session: Self::Session,
    ) {
        let _ = (ctl, info, session);
    }

    /// The loop is about to return from [`EventLoop::run`](crate::EventLoop::run).
    fn on_loop_end(&mut self) {}
}
