//! The event loop.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};
use slab::Slab;
use ws_proto::proxy::Proxy;
use ws_proto::{
    Config, Connection, OutputQueue, Request, Response, Role, Transmit, TransportClose,
};

use ws_proto::session::{Clock, Route, Session};

use crate::handle::Handle;
use crate::refusal::{Refusal, refuse_plain};
use crate::start::Start;
use crate::transport::Transport;
use crate::tunnel::Tunnel;

const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX);
/// Tokens from here up (below [`LISTENER`]) are TLS refusals, by their key
/// in [`TlsRefusals`](crate::refusal::TlsRefusals); connections' tokens are
/// their slab keys, far below.
#[cfg(feature = "rustls")]
const REFUSALS: usize = usize::MAX / 2;

/// Settings of the loop itself (the protocol's are in [`Config`]).
#[derive(Clone, Debug)]
pub struct LoopConfig {
    /// Size of the read buffer shared by all connections. Default 64 KiB.
    pub read_buffer: usize,
    /// Stop reading from a peer while this many bytes wait to be written
    /// to it (the loop's and the core's), and read again once at most half
    /// as many do. Default [`READ_PAUSE`](ws_proto::backpressure::READ_PAUSE),
    /// 128 KiB, as on ws-tokio.
    pub write_high_water: usize,
    /// Most commands waiting in the queue. Default 65,536.
    pub queue_capacity: usize,
    /// Most connections at once; further clients are answered `503 Service
    /// Unavailable` and closed, further `connect`s fail. Default 10,000.
    pub max_connections: usize,
    /// Set `TCP_NODELAY` on every connection. Default true.
    pub nodelay: bool,
    /// Capacity of the `mio::Events` buffer. Default 1,024.
    pub events_capacity: usize,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            read_buffer: 64 * 1024,
            write_high_water: ws_proto::backpressure::READ_PAUSE,
            queue_capacity: 65_536,
            max_connections: 10_000,
            nodelay: true,
            events_capacity: 1024,
        }
    }
}

/// What the loop knows of a connection: given to [`Endpoint::accept`], to
/// the `make` of [`Control::connect`] and to [`Endpoint::on_session_end`].
/// `token` and `id` together address the connection in a [`Route::Conn`].
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
    /// refuses past [`LoopConfig::max_connections`], with a plain 503).
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

    /// A command sent to [`Route::Endpoint`].
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

    /// The loop is about to return from [`EventLoop::run`].
    fn on_loop_end(&mut self) {}
}

/// A connection's transport state.
struct Io {
    transport: Transport,
    info: ConnInfo,
    /// Output on its way to the socket.
    wq: OutputQueue,
    /// Interest currently registered includes WRITABLE.
    writable: bool,
    /// Addresses left to try while connecting; `Some` until connected.
    /// Boxed so that a connected socket's state stays small.
    #[allow(clippy::box_collection)]
    connecting: Option<Box<Vec<SocketAddr>>>,
    /// The negotiation with a proxy; `Some` until the tunnel is open.
    tunnel: Option<Box<Tunnel>>,
    /// The core asked for the transport to be closed after the write buffer.
    close_requested: bool,
    /// Our write side is shut down; reading until EOF or `linger_until`.
    linger_until: Option<Instant>,
    /// Set with `close_requested`: if what is left cannot be written by
    /// then (the peer stopped reading), it is dropped with the transport.
    finish_by: Option<Instant>,
    eof: bool,
    /// Reading stopped for back-pressure: the output (the loop's and the
    /// core's) is over `write_high_water`.
    read_paused: bool,
    /// Reading stopped on the per-wake-up budget ([`READ_BUDGET`]) with
    /// input left: the connection is in `Inner::read_again`.
    read_again: bool,
    /// The earliest deadline with an entry in the timer heap.
    registered: Option<Instant>,
}

struct Entry<S> {
    io: Io,
    conn: Connection,
    session: S,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKey {
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
const TAKE_AHEAD: usize = ws_proto::backpressure::MIO_TAKE_AHEAD;

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

/// The loop's state that callbacks may touch.
///
/// Given to [`Endpoint`] and [`Session`] callbacks, for the things that
/// reach beyond one connection: timers, new connections, shutdown.
pub struct Control<'a, S: Session> {
    inner: &'a mut Inner<S>,
}

/// A session's [`Clock`]: the loop's time, and timers kept for its
/// connection.
struct SessionClock<'a, S: Session> {
    inner: &'a mut Inner<S>,
    token: usize,
    id: u64,
}

impl<S: Session> SessionClock<'_, S> {
    fn of<'a>(inner: &'a mut Inner<S>, info: &ConnInfo) -> SessionClock<'a, S> {
        SessionClock {
            inner,
            token: info.token,
            id: info.id,
        }
    }
}

impl<S: Session> Clock for SessionClock<'_, S> {
    fn now(&self) -> Instant {
        self.inner.now
    }

    fn set_timer(&mut self, id: u64, at: Instant) {
        self.inner.set_timer(self.token, self.id, id, at);
    }

    fn cancel_timer(&mut self, id: u64) -> bool {
        self.inner.cancel_timer(self.token, self.id, id)
    }
}

struct Inner<S: Session> {
    registry: Registry,
    entries: Slab<Option<Entry<S>>>,
    timers: BinaryHeap<Reverse<(Instant, TimerKey)>>,
    /// Sessions' timers, by connection and id: when each is due.
    user_timers: HashMap<(usize, u64, u64), Instant>,
    handle: Handle<S::Command>,
    config: Arc<Config>,
    loop_config: LoopConfig,
    next_id: u64,
    now: Instant,
    shutdown: bool,
    /// Connections with output or state changes to flush.
    dirty: Vec<usize>,
    /// Connections whose input was left unread on the per-wake-up budget:
    /// read again on the next turn, which starts without sleeping.
    read_again: Vec<usize>,
    /// The connection whose session is in [`Endpoint::on_session_end`]:
    /// its slot is held for [`Control::reconnect`] until the call returns.
    ending: Option<ConnInfo>,
    /// Set by [`Control::reconnect`] for the connect it makes: the new
    /// connection takes this one's slot and id.
    reuse: Option<ConnInfo>,
}

/// Stale heap entries tolerated before the heap is compacted, beyond twice
/// the live ones: a rebuild costs O(n), so doing it only when the heap has
/// doubled keeps `set_timer`/`cancel_timer` amortised O(log n).
const TIMER_SLACK: usize = 64;

impl<S: Session> Inner<S> {
    fn set_timer(&mut self, token: usize, conn: u64, id: u64, at: Instant) {
        self.user_timers.insert((token, conn, id), at);
        let key = TimerKey::User { token, conn, id };
        self.timers.push(Reverse((at, key)));
        self.compact_timers();
    }

    fn cancel_timer(&mut self, token: usize, conn: u64, id: u64) -> bool {
        let pending = self.user_timers.remove(&(token, conn, id)).is_some();
        self.compact_timers();
        pending
    }

    /// Drops the heap entries that can no longer fire (a user timer moved
    /// or cancelled, a connection deadline superseded or of a connection
    /// gone) once they outnumber the live ones, so that a handler that
    /// re-arms a timer per message keeps the heap bounded.
    fn compact_timers(&mut self) {
        let live = self.user_timers.len() + self.entries.len();
        if self.timers.len() <= TIMER_SLACK + 2 * live {
            return;
        }
        let user_timers = &self.user_timers;
        let entries = &self.entries;
        self.timers.retain(|Reverse((at, key))| match *key {
            TimerKey::User { token, conn, id } => user_timers.get(&(token, conn, id)) == Some(at),
            TimerKey::AcceptRetry => true,
            // At most MAX_TLS_REFUSALS, each gone within seconds.
            #[cfg(feature = "rustls")]
            TimerKey::Refusal { .. } => true,
            TimerKey::Conn { token, id } => match entries.get(token) {
                None => false,
                // Taken out for a callback: keep, it is checked when it fires.
                Some(None) => true,
                Some(Some(e)) => e.io.info.id == id && e.io.registered == Some(*at),
            },
        });
    }
}

impl<S: Session> Control<'_, S> {
    /// The loop's idea of now (read once per turn).
    pub fn now(&self) -> Instant {
        self.inner.now
    }

    /// A handle for sending commands to this loop.
    pub fn handle(&self) -> &Handle<S::Command> {
        &self.inner.handle
    }

    /// The protocol configuration every connection of this loop was made
    /// with (limits, deadlines, deflate), as given to [`EventLoop::new`].
    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// The number of connections the loop holds now: connecting,
    /// handshaking, open or closing. At most [`LoopConfig::max_connections`].
    pub fn connection_count(&self) -> usize {
        self.inner.entries.len()
    }

    /// Sets timer `id` of the connection `token`/`conn_id` at `at`, as its
    /// session's [`Clock::set_timer`] does: [`Session::on_timer`] runs
    /// then. Setting an id again moves it.
    pub fn set_timer(&mut self, token: usize, conn_id: u64, id: u64, at: Instant) {
        self.inner.set_timer(token, conn_id, id, at);
    }

    /// Cancels timer `id` of the connection `token`/`conn_id`; returns
    /// whether it was pending.
    pub fn cancel_timer(&mut self, token: usize, conn_id: u64, id: u64) -> bool {
        self.inner.cancel_timer(token, conn_id, id)
    }

    /// Number of entries in the loop's timer heap, stale ones included
    /// (for diagnostics and tests: it stays within a small multiple of
    /// the live timers and connections, however often timers are moved
    /// or cancelled).
    pub fn timer_heap_len(&self) -> usize {
        self.inner.timers.len()
    }

    /// Starts shutting down: the listener closes, every session's
    /// [`Session::on_shutdown`] runs, and [`EventLoop::run`] returns once
    /// every connection is gone.
    pub fn shutdown(&mut self) {
        self.inner.shutdown = true;
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown
    }

    /// Opens a client connection to `host:port` (name resolution blocks,
    /// as in ws-rs). `make` is called at once with the new connection's
    /// info, and returns its session and the upgrade request to send, or
    /// `None` to give up (then `Ok(None)` is returned).
    pub fn connect<F>(&mut self, host: &str, port: u16, make: F) -> io::Result<Option<ConnInfo>>
    where
        F: FnOnce(&ConnInfo) -> Option<(Start<S>, Request)>,
    {
        let (first, rest) = resolve(host, port, "no address for host")?;
        self.connect_addrs(first, rest, None, make)
    }

    /// [`connect`](Self::connect) through `proxy`: the socket connects to
    /// the proxy, the core's negotiation opens a tunnel to `host:port`,
    /// then TLS (if the session has it) and the upgrade run inside it. A
    /// proxy that refuses or cannot be reached is reported to the session
    /// as an I/O error wrapping a [`ProxyError`](ws_proto::proxy::ProxyError),
    /// which names the proxy without its credentials. The negotiation
    /// counts in the core's handshake timeout.
    pub fn connect_through<F>(
        &mut self,
        proxy: &Proxy,
        host: &str,
        port: u16,
        make: F,
    ) -> io::Result<Option<ConnInfo>>
    where
        F: FnOnce(&ConnInfo) -> Option<(Start<S>, Request)>,
    {
        let tunnel = crate::tunnel::start(proxy, host, port)?;
        let (first, rest) = resolve(proxy.host(), proxy.port(), "no address for the proxy")
            .map_err(|e| tunnel.unreachable(&e))?;
        self.connect_addrs(first, rest, Some(Box::new(tunnel)), make)
    }

    /// Opens a client connection in the place of one that just ended, as
    /// [`connect`](Self::connect) does (or [`connect_through`](Self::connect_through)
    /// with a `proxy`): only from [`Endpoint::on_session_end`], with the
    /// `ended` info it was given. The new connection keeps the old one's
    /// token and id, so that handles addressed to the old one
    /// ([`Route::Conn`]) reach it: a client following a redirect keeps
    /// the handles it gave out. Anywhere else this is an error of kind
    /// `InvalidInput`, and nothing is opened.
    pub fn reconnect<F>(
        &mut self,
        ended: &ConnInfo,
        proxy: Option<&Proxy>,
        host: &str,
        port: u16,
        make: F,
    ) -> io::Result<Option<ConnInfo>>
    where
        F: FnOnce(&ConnInfo) -> Option<(Start<S>, Request)>,
    {
        if self.inner.ending.as_ref() != Some(ended) || ended.role != Role::Client {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "reconnect is for a client connection, from on_session_end",
            ));
        }
        self.inner.reuse = Some(*ended);
        let result = match proxy {
            Some(proxy) => self.connect_through(proxy, host, port, make),
            None => self.connect(host, port, make),
        };
        // A connect that failed before taking the slot leaves it free.
        self.inner.reuse = None;
        if result.as_ref().is_ok_and(Option::is_some) {
            // The slot is taken: on_session_end may not reconnect twice.
            self.inner.ending = None;
        }
        result
    }

    fn connect_addrs<F>(
        &mut self,
        addr: SocketAddr,
        rest: Vec<SocketAddr>,
        tunnel: Option<Box<Tunnel>>,
        make: F,
    ) -> io::Result<Option<ConnInfo>>
    where
        F: FnOnce(&ConnInfo) -> Option<(Start<S>, Request)>,
    {
        let inner = &mut *self.inner;
        // A reconnect takes the slot its connection held: no new place.
        let reuse = inner.reuse.take();
        if reuse.is_none() && inner.entries.len() >= inner.loop_config.max_connections {
            return Err(io::Error::other("too many connections"));
        }
        let seed = ws_proto::os_seed()?;
        let mut stream = TcpStream::connect(addr)?;
        let (token, id) = match reuse {
            Some(info) => (info.token, info.id),
            None => (inner.entries.vacant_key(), inner.next_id + 1),
        };
        inner.registry.register(
            &mut stream,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let info = ConnInfo {
            token,
            id,
            role: Role::Client,
            peer_addr: addr,
            local_addr: stream.local_addr().ok(),
        };
        let Some((mut start, request)) = make(&info) else {
            let _ = inner.registry.deregister(&mut stream);
            return Ok(None);
        };
        let config = start.config.take().unwrap_or_else(|| inner.config.clone());
        let conn = Connection::client(config, request, inner.now, seed);
        let mut io = Io::new(stream, info);
        if let Some(tunnel) = tunnel {
            if tunnel.is_https() {
                #[cfg(feature = "rustls")]
                let to_proxy = start.proxy_tls.take();
                #[cfg(not(feature = "rustls"))]
                let to_proxy: Option<std::convert::Infallible> = None;
                let Some(to_proxy) = to_proxy else {
                    let _ = inner.registry.deregister(&mut io.transport.stream);
                    return Err(tunnel.no_tls());
                };
                #[cfg(feature = "rustls")]
                io.transport.set_proxy_tls(to_proxy);
                #[cfg(not(feature = "rustls"))]
                match to_proxy {}
            }
            io.tunnel = Some(tunnel);
        }
        let session = io.start(start);
        io.writable = true;
        io.connecting = Some(Box::new(rest));
        let entry = Some(Entry { io, conn, session });
        if reuse.is_some() {
            inner.entries[token] = entry;
        } else {
            inner.next_id = id;
            let key = inner.entries.insert(entry);
            debug_assert_eq!(key, token);
        }
        inner.dirty.push(token);
        Ok(Some(info))
    }
}

/// The addresses of `host:port` (resolving blocks, as in ws-rs): the first
/// to try, and the rest in the order to try them after it (last first).
/// None at all is a `NotFound` error saying `none`.
fn resolve(host: &str, port: u16, none: &str) -> io::Result<(SocketAddr, Vec<SocketAddr>)> {
    let mut addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    addrs.reverse();
    let first = addrs
        .pop()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, none))?;
    Ok((first, addrs))
}

impl Io {
    fn new(stream: TcpStream, info: ConnInfo) -> Self {
        Self {
            transport: Transport::new(stream),
            info,
            wq: OutputQueue::default(),
            writable: false,
            connecting: None,
            tunnel: None,
            close_requested: false,
            linger_until: None,
            finish_by: None,
            eof: false,
            read_paused: false,
            read_again: false,
            registered: None,
        }
    }

    fn pending_write(&self) -> usize {
        self.wq.pending()
    }

    /// Gives the TLS connection of `start`, if any, to the transport; the
    /// session.
    fn start<S>(&mut self, start: Start<S>) -> S {
        #[cfg(feature = "rustls")]
        if let Some(tls) = start.tls {
            self.transport.set_tls(tls);
        }
        start.session
    }
}

/// An event loop serving one [`Endpoint`], on the thread that calls
/// [`run`](EventLoop::run).
///
/// Make it with [`new`](EventLoop::new), optionally [`listen`](EventLoop::listen)
/// and open connections with [`with_control`](EventLoop::with_control),
/// then `run` it: it returns the endpoint once shutdown completes, or once
/// it has no listener and no connection left. The crate's front page has
/// a complete example.
pub struct EventLoop<E: Endpoint> {
    poll: Poll,
    events: Events,
    listener: Option<TcpListener>,
    inner: Inner<E::Session>,
    endpoint: E,
    rbuf: Vec<u8>,
    commands: VecDeque<(Route, <E::Session as Session>::Command)>,
    shutdown_started: bool,
    /// An [`TimerKey::AcceptRetry`] is in the heap.
    accept_retry_armed: bool,
    /// The last accept stopped at [`ACCEPT_BATCH`]: the backlog may hold
    /// more, and no new readiness event would say so.
    accept_again: bool,
    /// Clients being refused inside TLS.
    #[cfg(feature = "rustls")]
    refusals: crate::refusal::TlsRefusals,
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

    fn serve(&mut self, mut listener: TcpListener) -> io::Result<SocketAddr> {
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

    fn run_inner(&mut self) -> io::Result<()> {
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

    fn accept_all(&mut self) {
        for _ in 0..ACCEPT_BATCH {
            if self.listener.is_none() {
                return;
            }
            let wait = self.endpoint.hold_off(&mut Control {
                inner: &mut self.inner,
            });
            if let Some(wait) = wait {
                self.accept_later(wait);
                return;
            }
            let Some(listener) = &self.listener else {
                return;
            };
            let (mut stream, peer) = match listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The client gave up while in the backlog: the next one may
                // be fine.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue;
                }
                // Out of descriptors or memory: the backlog stays where it
                // is, and no new readiness event would come for it, so come
                // back on a timer.
                Err(e) => {
                    if !self.accept_retry_armed {
                        log::warn!(
                            "accept failed ({e}); accepting again in {} ms",
                            ACCEPT_RETRY.as_millis()
                        );
                    }
                    self.accept_later(ACCEPT_RETRY);
                    return;
                }
            };
            if self.inner.shutdown {
                continue;
            }
            // The endpoint first: it knows the form of its answer (TLS or
            // not); the loop's own cap is the backstop.
            let refusal = self
                .endpoint
                .refuse(
                    &mut Control {
                        inner: &mut self.inner,
                    },
                    peer,
                )
                .or_else(|| {
                    let max = self.inner.loop_config.max_connections;
                    (self.inner.entries.len() >= max).then(|| {
                        log::warn!(
                            "refused a connection from {peer} with 503: {max} connections (max_connections)"
                        );
                        let mut out = Vec::new();
                        Response::service_unavailable(self.inner.config.handshake_timeout)
                            .write_to(&mut out);
                        Refusal::Plain(out)
                    })
                });
            match refusal {
                None => {}
                Some(Refusal::Plain(answer)) => {
                    refuse_plain(&mut stream, &answer, &mut self.rbuf);
                    continue;
                }
                #[cfg(feature = "rustls")]
                Some(Refusal::Tls { tls, answer }) => {
                    self.refuse_tls(stream, tls, &answer);
                    continue;
                }
            }
            let Ok(seed) = ws_proto::os_seed().inspect_err(|e| log::error!("refused {peer}: {e}"))
            else {
                continue; // Its keys would be predictable: refused, the socket closes.
            };
            let inner = &mut self.inner;
            if inner.loop_config.nodelay {
                let _ = stream.set_nodelay(true);
            }
            let token = inner.entries.vacant_key();
            if inner
                .registry
                .register(&mut stream, Token(token), Interest::READABLE)
                .is_err()
            {
                continue;
            }
            inner.next_id += 1;
            let info = ConnInfo {
                token,
                id: inner.next_id,
                role: Role::Server,
                peer_addr: peer,
                local_addr: stream.local_addr().ok(),
            };
            let start = self.endpoint.accept(
                &mut Control {
                    inner: &mut self.inner,
                },
                &info,
            );
            let inner = &mut self.inner;
            match start {
                Some(mut start) => {
                    let config = start.config.take().unwrap_or_else(|| inner.config.clone());
                    let conn = Connection::server(config, inner.now, seed);
                    let mut io = Io::new(stream, info);
                    let session = io.start(start);
                    let key = inner.entries.insert(Some(Entry { io, conn, session }));
                    debug_assert_eq!(key, token);
                    inner.dirty.push(token);
                }
                None => {
                    let _ = inner.registry.deregister(&mut stream);
                }
            }
        }
        // The batch is spent and the backlog may hold more.
        self.accept_again = true;
    }

    /// Accepts again after `wait` (the backlog raises no new readiness
    /// event for what it already holds).
    /// Starts refusing `stream` inside TLS, or closes it when too many
    /// refusals are under way already.
    #[cfg(feature = "rustls")]
    fn refuse_tls(&mut self, stream: TcpStream, tls: Box<rustls::ServerConnection>, answer: &[u8]) {
        if self.refusals.len() >= ws_proto::admission::MAX_TLS_REFUSALS {
            log::debug!(
                "{} TLS refusals under way (MAX_TLS_REFUSALS): a client is closed unanswered",
                ws_proto::admission::MAX_TLS_REFUSALS
            );
            return;
        }
        let started = self.refusals.start(
            &self.inner.registry,
            |key| Token(REFUSALS + key),
            stream,
            tls,
            answer,
            self.inner.now,
        );
        if let Some((key, id, at)) = started {
            self.inner
                .timers
                .push(Reverse((at, TimerKey::Refusal { key, id })));
        }
    }

    fn accept_later(&mut self, wait: Duration) {
        if !self.accept_retry_armed {
            self.accept_retry_armed = true;
            let at = self.inner.now + wait;
            self.inner.timers.push(Reverse((at, TimerKey::AcceptRetry)));
        }
    }

    /// Takes a connection out of the slab for a callback.
    fn take(&mut self, token: usize) -> Option<Entry<E::Session>> {
        self.inner.entries.get_mut(token).and_then(Option::take)
    }

    fn put(&mut self, token: usize, entry: Entry<E::Session>) {
        if let Some(slot) = self.inner.entries.get_mut(token) {
            *slot = Some(entry);
        }
    }

    /// Hands every pending core event to the session.
    fn dispatch(&mut self, entry: &mut Entry<E::Session>) {
        while let Some(event) = entry.conn.poll_event() {
            let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
            entry.session.on_event(&mut clock, &mut entry.conn, event);
        }
    }

    fn on_readable(&mut self, token: usize, hup: bool) {
        let Some(mut entry) = self.take(token) else {
            return;
        };
        self.read(&mut entry, hup);
        self.put(token, entry);
        self.inner.dirty.push(token);
    }

    /// Reads until the socket is drained. `hup`: the peer's end of stream
    /// (or an error) was signalled, so read until it shows.
    fn read(&mut self, entry: &mut Entry<E::Session>, hup: bool) {
        if entry.io.connecting.is_some() {
            return;
        }
        if let Some(tunnel) = entry.io.tunnel.as_mut() {
            match tunnel.read(&mut entry.io.transport.wire(), &mut self.rbuf) {
                Ok(true) => entry.io.tunnel = None,
                Ok(false) => return,
                // TLS with an https:// proxy failed.
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    let e = tunnel.tls_failed(&e);
                    return self.connect_failed(entry, e);
                }
                Err(e) => return self.connect_failed(entry, e),
            }
        }
        let high_water = self.inner.loop_config.write_high_water;
        let mut budget = READ_BUDGET;
        while !entry.io.eof {
            // The output waiting for this peer, wherever it waits: an echo
            // of what is read next would only add to it.
            if entry.io.pending_write() + entry.conn.buffered_amount() > high_water {
                entry.io.read_paused = true;
                return;
            }
            if budget == 0 {
                if !entry.io.read_again {
                    entry.io.read_again = true;
                    self.inner.read_again.push(entry.io.info.token);
                }
                return;
            }
            match entry.io.transport.read(&mut self.rbuf) {
                Ok(0) => {
                    entry.io.eof = true;
                    entry.conn.handle_eof(self.inner.now);
                    self.dispatch(entry);
                }
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    if entry.io.linger_until.is_none() {
                        entry.conn.handle_input(self.inner.now, &self.rbuf[..n]);
                        self.dispatch(entry);
                        // Replies the session queued through its handle go
                        // out with this batch.
                        self.run_commands_for(entry);
                    }
                    if n < self.rbuf.len() && !hup && entry.io.transport.short_read_drains() {
                        // A short read drained the socket: a TCP socket
                        // returns all it holds, and later data raises a new
                        // edge. This saves a read that would block. Not so
                        // when end of stream was signalled: no new edge
                        // would come for it.
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.io_failed(entry, &e),
            }
        }
    }

    /// A write failed. A peer that sent its Close and closed its socket at
    /// once (browsers and Node do) makes the write fail while its Close
    /// still waits in the receive buffer, and the loop handles writability
    /// before readability: what is readable now (up to [`READ_BUDGET`])
    /// goes to the core first, so that the close is seen as the clean one
    /// it was (see [`io_failed`](Self::io_failed)).
    fn write_failed(&mut self, entry: &mut Entry<E::Session>, error: &io::Error) {
        let mut left = READ_BUDGET;
        while left > 0 && !entry.io.eof && entry.io.linger_until.is_none() {
            match entry.io.transport.read(&mut self.rbuf) {
                Ok(0) => break,
                Ok(n) => {
                    left = left.saturating_sub(n);
                    entry.conn.handle_input(self.inner.now, &self.rbuf[..n]);
                    self.dispatch(entry);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.io_failed(entry, error);
    }

    /// The transport failed: the core is told end of stream. The session
    /// hears of the error unless the peer's Close had come: a peer that
    /// closes its socket right after its Close (with our output unread, so
    /// that its system answers with a reset) ended the connection cleanly.
    fn io_failed(&mut self, entry: &mut Entry<E::Session>, error: &io::Error) {
        entry.io.eof = true;
        entry.io.wq.clear();
        if entry.conn.close_received() {
            log::debug!("transport failed after the peer's close: {error}");
            entry.conn.handle_eof(self.inner.now);
            self.dispatch(entry);
            return;
        }
        let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
        entry
            .session
            .on_io_error(&mut clock, &mut entry.conn, error);
        entry.conn.handle_eof(self.inner.now);
        self.dispatch(entry);
    }

    fn on_writable(&mut self, token: usize) {
        let Some(mut entry) = self.take(token) else {
            return;
        };
        if let Some(rest) = entry.io.connecting.as_mut() {
            match entry.io.transport.stream.take_error() {
                Ok(None) => match entry.io.transport.stream.peer_addr() {
                    Ok(peer) => {
                        entry.io.connecting = None;
                        entry.io.info.peer_addr = peer;
                        entry.io.info.local_addr = entry.io.transport.stream.local_addr().ok();
                        if self.inner.loop_config.nodelay {
                            let _ = entry.io.transport.stream.set_nodelay(true);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                    Err(e) => self.connect_failed(&mut entry, e),
                },
                Ok(Some(e)) | Err(e) => {
                    if let Some(next) = rest.pop() {
                        // Try the next address with a fresh socket.
                        if let Ok(mut stream) = TcpStream::connect(next) {
                            let _ = self
                                .inner
                                .registry
                                .deregister(&mut entry.io.transport.stream);
                            let ok = self
                                .inner
                                .registry
                                .register(
                                    &mut stream,
                                    Token(token),
                                    Interest::READABLE | Interest::WRITABLE,
                                )
                                .is_ok();
                            if ok {
                                entry.io.transport.stream = stream;
                                entry.io.info.peer_addr = next;
                                self.put(token, entry);
                                return;
                            }
                        }
                    }
                    self.connect_failed(&mut entry, e);
                }
            }
        }
        self.put(token, entry);
        self.inner.dirty.push(token);
    }

    fn connect_failed(&mut self, entry: &mut Entry<E::Session>, error: io::Error) {
        let error = match entry.io.tunnel.take() {
            // The TCP connect to the proxy failed.
            Some(tunnel) if entry.io.connecting.is_some() => tunnel.unreachable(&error),
            _ => error,
        };
        entry.io.connecting = None;
        self.io_failed(entry, &error);
        entry.io.close_requested = true;
    }

    /// Runs queued commands that target `entry` itself (it is out of the
    /// slab), keeping the others for `run_commands`.
    fn run_commands_for(&mut self, entry: &mut Entry<E::Session>) {
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

    fn run_commands(&mut self) {
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

    fn command_to(&mut self, token: usize, id: u64, command: <E::Session as Session>::Command) {
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

    fn fire_timers(&mut self) {
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

    fn start_shutdown(&mut self) {
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

    fn flush_dirty(&mut self) {
        while let Some(token) = self.inner.dirty.pop() {
            let Some(mut entry) = self.take(token) else {
                continue;
            };
            let resume_reading = self.flush(&mut entry);
            if resume_reading {
                self.read(&mut entry, true);
                // Reading may have queued more output.
                self.flush(&mut entry);
            }
            let pending = entry.io.pending_write();
            let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
            if entry
                .session
                .on_flushed(&mut clock, &mut entry.conn, pending)
            {
                self.dispatch(&mut entry);
                self.inner.dirty.push(token);
            }
            if self.finished(&entry) {
                self.put(token, entry);
                self.remove(token);
                continue;
            }
            self.schedule(&mut entry);
            self.put(token, entry);
        }
    }

    /// Moves the core's output to the socket. Returns true when reading was
    /// paused for back-pressure and can resume.
    fn flush(&mut self, entry: &mut Entry<E::Session>) -> bool {
        let now = self.inner.now;
        let high_water = self.inner.loop_config.write_high_water.min(TAKE_AHEAD);
        loop {
            let io = &mut entry.io;
            // Take the core's output only while the socket keeps up: past
            // `TAKE_AHEAD` it stays in the core, which refuses sends beyond
            // its `max_write_buffer`, and reading stops once the whole
            // backlog passes `write_high_water`, so memory plateaus when a
            // peer stops reading.
            // Once the transport is gone (`eof`: nothing is written after
            // it), the core's output is taken and dropped, all of it, so
            // that its request to close the transport is seen.
            while io.eof || io.pending_write() <= high_water {
                match io.wq.take_from(&mut entry.conn, now) {
                    Some(Transmit::Close) => {
                        io.close_requested = true;
                        let limit = self.inner.config.close_timeout;
                        io.finish_by.get_or_insert(now + limit);
                        if entry.conn.transport_close() == TransportClose::Abort {
                            io.eof = true;
                        }
                    }
                    Some(Transmit::Data(_)) => {}
                    None => break,
                }
                if io.eof {
                    io.wq.clear();
                }
            }
            let held_back = io.pending_write() > high_water;
            if io.connecting.is_some() {
                return false;
            }
            if let Some(tunnel) = io.tunnel.as_mut() {
                if io.close_requested {
                    // The handshake timed out while the proxy negotiated.
                    io.tunnel = None;
                    io.eof = true;
                    io.wq.clear();
                } else if let Err(e) = tunnel.write(&mut io.transport.wire()) {
                    self.connect_failed(entry, e);
                }
                return false;
            }
            // What was just taken waits for the socket (the writes below
            // report what it takes).
            entry.conn.handle_written(now, 0, io.pending_write());
            while !io.wq.is_empty() && !io.eof {
                match write_queue(&mut io.wq, &mut io.transport) {
                    Ok(0) => break,
                    Ok(n) => entry.conn.handle_written(now, n, io.pending_write()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.write_failed(entry, &e);
                        entry.io.close_requested = true;
                        return false;
                    }
                }
            }
            if !entry.io.eof {
                if let Err(e) = entry.io.transport.flush() {
                    self.write_failed(entry, &e);
                    entry.io.close_requested = true;
                    return false;
                }
            }
            let io = &mut entry.io;
            if !(held_back && io.wq.is_empty()) || io.eof {
                break;
            }
            // Everything written and the core may hold more: go again.
        }
        let lingers = entry.conn.transport_close() == TransportClose::Linger;
        let io = &mut entry.io;
        let mut drained = io.wq.is_empty() && !io.transport.pending();
        if drained && io.close_requested && io.linger_until.is_none() {
            if !lingers {
                // Nothing to wait for from this peer: the transport is done.
                io.eof = true;
            } else if io.eof || io.transport.shutdown_write() {
                io.linger_until =
                    Some(now + self.inner.config.close_timeout.min(Duration::from_secs(5)));
            } else {
                // TLS: the close_notify waits for the socket.
                drained = false;
            }
        }
        let want_writable = !drained;
        if want_writable != io.writable {
            let interest = if want_writable {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if self
                .inner
                .registry
                .reregister(&mut io.transport.stream, Token(io.info.token), interest)
                .is_ok()
            {
                io.writable = want_writable;
            }
        }
        let backlog = io.pending_write() + entry.conn.buffered_amount();
        if io.read_paused && backlog <= self.inner.loop_config.write_high_water / 2 {
            io.read_paused = false;
            return true;
        }
        false
    }

    fn finished(&self, entry: &Entry<E::Session>) -> bool {
        let io = &entry.io;
        let transport_done =
            io.eof && (io.linger_until.is_some() || io.close_requested || io.pending_write() == 0);
        transport_done && entry.conn.is_finished() || io.eof && io.linger_until.is_some()
    }

    /// Puts the connection's next deadline in the timer heap.
    fn schedule(&mut self, entry: &mut Entry<E::Session>) {
        let mut next = entry.conn.poll_timeout();
        for t in [entry.io.linger_until, entry.io.finish_by]
            .into_iter()
            .flatten()
        {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        let Some(at) = next else { return };
        // Keep only the earliest entry per connection: a later deadline is
        // picked up when the earlier one fires (spurious calls are harmless).
        if entry.io.registered.is_none_or(|r| at < r) {
            entry.io.registered = Some(at);
            let key = TimerKey::Conn {
                token: entry.io.info.token,
                id: entry.io.info.id,
            };
            self.inner.timers.push(Reverse((at, key)));
            self.inner.compact_timers();
        }
    }

    fn remove(&mut self, token: usize) {
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

/// One write of as much of `queue` as the transport takes (one vectored
/// write when it holds several buffers); the bytes written.
fn write_queue(queue: &mut OutputQueue, transport: &mut Transport) -> io::Result<usize> {
    let n = if queue.buffers() == 1 {
        transport.write(queue.front())?
    } else {
        let mut slices = [io::IoSlice::new(&[]); 16];
        let count = queue.io_slices(&mut slices);
        transport.write_vectored(&slices[..count])?
    };
    queue.advance(n);
    Ok(n)
}
