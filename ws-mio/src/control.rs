//! [`Control`]: what callbacks may do beyond their own connection (timers,
//! new connections, shutdown), over the loop's shared state.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use slab::Slab;
use ws_proto::proxy::Proxy;
use ws_proto::{Config, Connection, Request, Role};

use ws_proto::session::{Clock, Session};

use crate::conn_io::Io;
use crate::endpoint::ConnInfo;
use crate::event_loop::{Entry, TimerKey};
use crate::handle::Handle;
use crate::loop_config::LoopConfig;
use crate::start::Start;
use crate::tunnel::Tunnel;

/// The loop's state that callbacks may touch.
///
/// Given to [`Endpoint`](crate::Endpoint) and [`Session`] callbacks, for the things that
/// reach beyond one connection: timers, new connections, shutdown.
pub struct Control<'a, S: Session> {
    pub(crate) inner: &'a mut Inner<S>,
}

/// A session's [`Clock`]: the loop's time, and timers kept for its
/// connection.
pub(crate) struct SessionClock<'a, S: Session> {
    pub(crate) inner: &'a mut Inner<S>,
    pub(crate) token: usize,
    pub(crate) id: u64,
}

impl<S: Session> SessionClock<'_, S> {
    pub(crate) fn of<'a>(inner: &'a mut Inner<S>, info: &ConnInfo) -> SessionClock<'a, S> {
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

pub(crate) struct Inner<S: Session> {
    pub(crate) registry: Registry,
    pub(crate) entries: Slab<Option<Entry<S>>>,
    pub(crate) timers: BinaryHeap<Reverse<(Instant, TimerKey)>>,
    /// Sessions' timers, by connection and id: when each is due.
    pub(crate) user_timers: HashMap<(usize, u64, u64), Instant>,
    pub(crate) handle: Handle<S::Command>,
    pub(crate) config: Arc<Config>,
    pub(crate) loop_config: LoopConfig,
    pub(crate) next_id: u64,
    pub(crate) now: Instant,
    pub(crate) shutdown: bool,
    /// Connections with output or state changes to flush.
    pub(crate) dirty: Vec<usize>,
    /// Connections whose input was left unread on the per-wake-up budget:
    /// read again on the next turn, which starts without sleeping.
    pub(crate) read_again: Vec<usize>,
    /// The connection whose session is in [`Endpoint::on_session_end`](crate::Endpoint::on_session_end):
    /// its slot is held for [`Control::reconnect`] until the call returns.
    pub(crate) ending: Option<ConnInfo>,
    /// Set by [`Control::reconnect`] for the connect it makes: the new
    /// connection takes this one's slot and id.
    pub(crate) reuse: Option<ConnInfo>,
}

/// Stale heap entries tolerated before the heap is compacted, beyond twice
/// the live ones: a rebuild costs O(n), so doing it only when the heap has
/// doubled keeps `set_timer`/`cancel_timer` amortised O(log n).
pub(crate) const TIMER_SLACK: usize = 64;

impl<S: Session> Inner<S> {
    pub(crate) fn set_timer(&mut self, token: usize, conn: u64, id: u64, at: Instant) {
        self.user_timers.insert((token, conn, id), at);
        let key = TimerKey::User { token, conn, id };
        self.timers.push(Reverse((at, key)));
        self.compact_timers();
    }

    pub(crate) fn cancel_timer(&mut self, token: usize, conn: u64, id: u64) -> bool {
        let pending = self.user_timers.remove(&(token, conn, id)).is_some();
        self.compact_timers();
        pending
    }

    /// Drops the heap entries that can no longer fire (a user timer moved
    /// or cancelled, a connection deadline superseded or of a connection
    /// gone) once they outnumber the live ones, so that a handler that
    /// re-arms a timer per message keeps the heap bounded.
    pub(crate) fn compact_timers(&mut self) {
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
    /// with (limits, deadlines, deflate), as given to [`EventLoop::new`](crate::EventLoop::new).
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
    /// [`Session::on_shutdown`] runs, and [`EventLoop::run`](crate::EventLoop::run) returns once
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
    /// with a `proxy`): only from [`Endpoint::on_session_end`](crate::Endpoint::on_session_end), with the
    /// `ended` info it was given. The new connection keeps the old one's
    /// token and id, so that handles addressed to the old one
    /// ([`Route::Conn`](crate::Route::Conn)) reach it: a client following a redirect keeps
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

    pub(crate) fn connect_addrs<F>(
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
pub(crate) fn resolve(
    host: &str,
    port: u16,
    none: &str,
) -> io::Result<(SocketAddr, Vec<SocketAddr>)> {
    let mut addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    addrs.reverse();
    let first = addrs
        .pop()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, none))?;
    Ok((first, addrs))
}
