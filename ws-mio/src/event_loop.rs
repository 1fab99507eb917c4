//! The event loop.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use ws_proto::{Config, Connection};

use ws_proto::session::{Route, Session};

use crate::conn_io::Io;
use crate::control::{Control, Inner, SessionClock};
use crate::endpoint::Endpoint;
use crate::handle::Handle;
use crate::loop_config::LoopConfig;

pub(crate) const LISTENER: Token = Token(usize::MAX - 1);
pub(crate) const WAKER: Token = Token(usize::MAX);
/// Tokens from here up (below [`LISTENER`]) are TLS refusals, by their key
/// in [`TlsRefusals`](crate::refusal::TlsRefusals); connections' tokens are
/// their slab keys, far below.
#[cfg(feature = "rustls")]
pub(crate) const REFUSALS: usize = usize::MAX / 2;

pub(crate) struct Entry<S> {
    pub(crate) io: Io,
    pub(crate) conn: Connection,
    pub(crate) session: S,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKey {
    /// The core's or the transport's deadline for a connection.
    Conn { token: usize, id: u64 },
    /// A timer a session set: its connection and the session's id for it.
    User { token: usize, conn: u64, id: u64 },
    /// Accepting again after the listener failed for want of descriptors
    /// or memory (see [`ACCEPT_RETRY`]).
    AcceptRetry,
    /// The deadline of a TLS refusal.
    #[cfg(feature = "rustls")]
    Refusal { key: usize, id: u64 },
}

/// How long the loop waits before accepting again when `accept` failed for
/// want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM). With edge-triggered
/// readiness the listener is not reported again for the clients already in
/// the backlog, so the loop must come back by itself; waiting a little
/// gives closing connections time to free descriptors instead of spinning.
pub const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// See [`ws_proto::backpressure::MIO_TAKE_AHEAD`].
pub(crate) const TAKE_AHEAD: usize = ws_proto::backpressure::MIO_TAKE_AHEAD;

/// Most bytes read from one connection per wake-up (at least one read
/// happens). A peer that floods faster than the loop parses would
/// otherwise keep the loop on its socket, and every other connection of the
/// loop waiting; past the budget the connection is read again on the next
/// turn, after the others had theirs.
pub const READ_BUDGET: usize = 1 << 20;

/// The most sockets the loop accepts per wake-up; it accepts the rest of
/// the backlog on the next turn, which starts without sleeping. In between
/// it reads what the new ones sent, so a burst of honest clients moves
/// through its opening handshakes batch by batch instead of all of them
/// waiting at once (and meeting a cap on handshakes in progress, such as
/// the facade's `max_pending_handshakes`).
pub const ACCEPT_BATCH: usize = 64;

/// An event loop serving one [`Endpoint`], on the thread that calls
/// [`run`](EventLoop::run).
///
/// Make it with [`new`](EventLoop::new), optionally [`listen`](EventLoop::listen)
/// and open connections with [`with_control`](EventLoop::with_control),
/// then `run` it: it returns the endpoint once shutdown completes, or once
/// it has no listener and no connection left. The crate's front page has
/// a complete example.
pub struct EventLoop<E: Endpoint> {
    pub(crate) poll: Poll,
    pub(crate) events: Events,
    pub(crate) listener: Option<TcpListener>,
    pub(crate) inner: Inner<E::Session>,
    pub(crate) endpoint: E,
    pub(crate) rbuf: Vec<u8>,
    pub(crate) commands: VecDeque<(Route, <E::Session as Session>::Command)>,
    pub(crate) shutdown_started: bool,
    /// An [`TimerKey::AcceptRetry`] is in the heap.
    pub(crate) accept_retry_armed: bool,
    /// The last accept stopped at [`ACCEPT_BATCH`]: the backlog may hold
    /// more, and no new readiness event would say so.
    pub(crate) accept_again: bool,
    /// Clients being refused inside TLS.
    #[cfg(feature = "rustls")]
    pub(crate) refusals: crate::refusal::TlsRefusals,
}

impl<E: Endpoint> EventLoop<E> {
    /// A loop with no listener and no connection yet.
    pub fn new(endpoint: E, config: Arc<Config>, loop_config: LoopConfig) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER)?;
        let registry = poll.registry().try_clone()?;
        let handle = Handle::new(waker, loop_config.queue_capacity);
        Ok(Self {
            events: Events::with_capacity(loop_config.events_capacity.max(16)),
            rbuf: vec![0; loop_config.read_buffer.max(1024)],
            poll,
            listener: None,
            inner: Inner {
                registry,
                entries: Slab::new(),
                timers: BinaryHeap::new(),
                user_timers: HashMap::new(),
                handle,
                config,
                loop_config,
                next_id: 0,
                now: Instant::now(),
                shutdown: false,
                dirty: Vec::new(),
                read_again: Vec::new(),
                ending: None,
                reuse: None,
            },
            endpoint,
            commands: VecDeque::new(),
            shutdown_started: false,
            accept_retry_armed: false,
            accept_again: false,
            #[cfg(feature = "rustls")]
            refusals: Default::default(),
        })
    }

    /// Binds a listener; accepted connections go to [`Endpoint::accept`].
    pub fn listen(&mut self, addr: SocketAddr) -> io::Result<SocketAddr> {
        self.serve(TcpListener::bind(addr)?)
    }

    /// Serves a listener bound elsewhere (one of several `SO_REUSEPORT`
    /// listeners, say, or a clone of one another loop serves too), as
    /// [`listen`](Self::listen) does; it is made non-blocking here.
    pub fn listen_on(&mut self, listener: std::net::TcpListener) -> io::Result<SocketAddr> {
        listener.set_nonblocking(true)?;
        self.serve(TcpListener::from_std(listener))
    }

    pub(crate) fn serve(&mut self, mut listener: TcpListener) -> io::Result<SocketAddr> {
        self.poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let local = listener.local_addr()?;
        self.listener = Some(listener);
        Ok(local)
    }

    /// The listener's address, once bound (with port 0, the port the system
    /// chose); `None` before [`listen`](Self::listen).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// A handle for sending commands to this loop from any thread.
    pub fn handle(&self) -> Handle<<E::Session as Session>::Command> {
        self.inner.handle.clone()
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &E {
        &self.endpoint
    }

    /// The endpoint, to change its state before [`run`](Self::run) (which
    /// gives it back at the end).
    pub fn endpoint_mut(&mut self) -> &mut E {
        &mut self.endpoint
    }

    /// Runs `f` with the endpoint and a [`Control`], outside of `run` (to
    /// open connections before the loop starts, for example).
    pub fn with_control<R>(
        &mut self,
        f: impl FnOnce(&mut E, &mut Control<'_, E::Session>) -> R,
    ) -> R {
        self.inner.now = Instant::now();
        f(
            &mut self.endpoint,
            &mut Control {
                inner: &mut self.inner,
            },
        )
    }

    /// Runs until shutdown completes, or until there is no listener and no
    /// connection left.
    pub fn run(mut self) -> io::Result<E> {
        let result = self.run_inner();
        self.inner.handle.close();
        // Whatever is left goes now, without ceremony.
        let tokens: Vec<usize> = self.inner.entries.iter().map(|(t, _)| t).collect();
        for token in tokens {
            self.remove(token);
        }
        self.endpoint.on_loop_end();
        result.map(|()| self.endpoint)
    }

    pub(crate) fn run_inner(&mut self) -> io::Result<()> {
        loop {
            self.inner.now = Instant::now();
            self.run_commands();
            self.fire_timers();
            self.run_commands();
            if self.inner.shutdown && !self.shutdown_started {
                self.start_shutdown();
            }
            self.flush_dirty();
            if self.listener.is_none() && self.inner.entries.is_empty() {
                return Ok(());
            }
            let timeout = self
                .inner
                .timers
                .peek()
                .map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()));
            let sleep = self.commands.is_empty()
                && self.inner.read_again.is_empty()
                && !self.accept_again
                && self.inner.handle.prepare_sleep();
            let timeout = if sleep { timeout } else { Some(Duration::ZERO) };
            match self.poll.poll(&mut self.events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            self.inner.handle.woke();
            self.inner.now = Instant::now();
            let ready: Vec<(Token, bool, bool, bool)> = self
                .events
                .iter()
                .map(|e| {
                    let hup = e.is_read_closed() || e.is_error();
                    (e.token(), e.is_readable() || hup, hup, e.is_writable())
                })
                .collect();
            for (token, readable, hup, writable) in ready {
                // A busy turn can be long: a connection accepted, or input
                // read, late in it must not be dated from its start (a
                // handshake deadline already passed at accept).
                self.inner.now = Instant::now();
                match token {
                    LISTENER => self.accept_all(),
                    WAKER => {}
                    #[cfg(feature = "rustls")]
                    Token(t) if t >= REFUSALS => {
                        self.refusals
                            .on_ready(&self.inner.registry, t - REFUSALS, &mut self.rbuf);
                    }
                    Token(t) => {
                        if writable {
                            self.on_writable(t);
                        }
                        if readable {
                            self.on_readable(t, hup);
                        }
                    }
                }
                // Commands wait for the next turn, which starts at once:
                // taking them after every event let a steady stream of
                // them (broadcasts) delay the other events of a turn by
                // seconds.
                self.flush_dirty();
            }
            // Input left on the budget last turn, after this turn's events.
            for token in std::mem::take(&mut self.inner.read_again) {
                if let Some(Some(entry)) = self.inner.entries.get_mut(token) {
                    entry.io.read_again = false;
                }
                self.inner.now = Instant::now();
                self.on_readable(token, true);
                self.flush_dirty();
            }
            // The rest of a backlog, after the new connections' input.
            if std::mem::take(&mut self.accept_again) {
                self.inner.now = Instant::now();
                self.accept_all();
                self.flush_dirty();
            }
        }
    }

    /// Takes a connection out of the slab for a callback.
    pub(crate) fn take(&mut self, token: usize) -> Option<Entry<E::Session>> {
        self.inner.entries.get_mut(token).and_then(Option::take)
    }

    pub(crate) fn put(&mut self, token: usize, entry: Entry<E::Session>) {
        if let Some(slot) = self.inner.entries.get_mut(token) {
            *slot = Some(entry);
        }
    }

    /// Hands every pending core event to the session.
    pub(crate) fn dispatch(&mut self, entry: &mut Entry<E::Session>) {
        while let Some(event) = entry.conn.poll_event() {
            let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
            entry.session.on_event(&mut clock, &mut entry.conn, event);
        }
    }

    /// Runs queued commands that target `entry` itself (it is out of the
    /// slab), keeping the others for `run_commands`.
    pub(crate) fn run_commands_for(&mut self, entry: &mut Entry<E::Session>) {
        self.inner.handle.drain(&mut self.commands);
        if self.commands.is_empty() {
            return;
        }
        let me = (entry.io.info.token, entry.io.info.id);
        let mut others = VecDeque::new();
        while let Some((target, command)) = self.commands.pop_front() {
            match target {
                Route::Conn { token, id } if (token, id) == me => {
                    let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
                    entry
                        .session
                        .on_command(&mut clock, &mut entry.conn, command);
                    self.dispatch(entry);
                    self.inner.handle.drain(&mut self.commands);
                }
                other => others.push_back((other, command)),
            }
        }
        self.commands = others;
    }

    pub(crate) fn run_commands(&mut self) {
        self.inner.handle.drain(&mut self.commands);
        // Only the commands queued by now: a steady stream of them (say a
        // broadcast to thousands of connections every few milliseconds)
        // must not keep the loop from its sockets and timers. Later ones
        // wait for the next call; the loop does not sleep meanwhile.
        for _ in 0..self.commands.len() {
            let Some((target, command)) = self.commands.pop_front() else {
                return;
            };
            match target {
                Route::Conn { token, id } => self.command_to(token, id, command),
                Route::All => {
                    let targets: Vec<(usize, u64)> = self
                        .inner
                        .entries
                        .iter()
                        .filter_map(|(t, e)| e.as_ref().map(|e| (t, e.io.info.id)))
                        .collect();
                    for (token, id) in targets {
                        self.command_to(token, id, command.clone());
                    }
                }
                Route::Endpoint => {
                    let mut ctl = Control {
                        inner: &mut self.inner,
                    };
                    self.endpoint.on_command(&mut ctl, command);
                }
            }
        }
    }

    pub(crate) fn command_to(
        &mut self,
        token: usize,
        id: u64,
        command: <E::Session as Session>::Command,
    ) {
        let Some(mut entry) = self.take(token) else {
            return;
        };
        if entry.io.info.id == id {
            let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
            entry
                .session
                .on_command(&mut clock, &mut entry.conn, command);
            self.dispatch(&mut entry);
            self.inner.dirty.push(token);
        }
        self.put(token, entry);
    }

    pub(crate) fn fire_timers(&mut self) {
        let now = self.inner.now;
        while let Some(&Reverse((at, key))) = self.inner.timers.peek() {
            if at > now {
                break;
            }
            self.inner.timers.pop();
            match key {
                TimerKey::User { token, conn, id } => {
                    if self.inner.user_timers.get(&(token, conn, id)) != Some(&at) {
                        continue;
                    }
                    self.inner.user_timers.remove(&(token, conn, id));
                    let Some(mut entry) = self.take(token) else {
                        continue;
                    };
                    if entry.io.info.id == conn {
                        let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
                        entry.session.on_timer(&mut clock, &mut entry.conn, id);
                        self.dispatch(&mut entry);
                        self.inner.dirty.push(token);
                    }
                    self.put(token, entry);
                }
                TimerKey::AcceptRetry => {
                    self.accept_retry_armed = false;
                    self.accept_all();
                }
                #[cfg(feature = "rustls")]
                TimerKey::Refusal { key, id } => {
                    self.refusals.expire(&self.inner.registry, key, id);
                }
                TimerKey::Conn { token, id } => {
                    let Some(mut entry) = self.take(token) else {
                        continue;
                    };
                    if entry.io.info.id == id && entry.io.registered == Some(at) {
                        entry.io.registered = None;
                        entry.conn.handle_timeout(now);
                        self.dispatch(&mut entry);
                        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
                        if due(entry.io.linger_until) || due(entry.io.finish_by) {
                            entry.io.eof = true;
                        }
                        self.inner.dirty.push(token);
                    }
                    self.put(token, entry);
                }
            }
        }
    }

    pub(crate) fn start_shutdown(&mut self) {
        self.shutdown_started = true;
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let tokens: Vec<usize> = self.inner.entries.iter().map(|(t, _)| t).collect();
        for token in tokens {
            let Some(mut entry) = self.take(token) else {
                continue;
            };
            let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
            entry.session.on_shutdown(&mut clock, &mut entry.conn);
            self.dispatch(&mut entry);
            self.put(token, entry);
            self.inner.dirty.push(token);
        }
    }

    pub(crate) fn remove(&mut self, token: usize) {
        let Some(slot) = self.inner.entries.get_mut(token) else {
            return;
        };
        let Some(mut entry) = slot.take() else {
            self.inner.entries.remove(token);
            return;
        };
        let _ = self
            .inner
            .registry
            .deregister(&mut entry.io.transport.stream);
        let info = entry.io.info;
        drop(entry.io);
        // The slot stays held (empty) while the session ends, so that
        // `Control::reconnect` can put a new connection in it.
        self.inner.ending = Some(info);
        let mut ctl = Control {
            inner: &mut self.inner,
        };
        self.endpoint.on_session_end(&mut ctl, &info, entry.session);
        self.inner.ending = None;
        if matches!(self.inner.entries.get(token), Some(None)) {
            self.inner.entries.remove(token);
        }
    }
}
