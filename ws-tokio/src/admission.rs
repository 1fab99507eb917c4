//! Admission limits for servers on the native API: a [`Listener`] that caps
//! open connections and opening handshakes separately, and answers a client
//! past either cap with `503 Service Unavailable` and `Retry-After` instead
//! of serving it. At a full handshake cap it first holds off accepting for
//! a short grace, so that a burst of honest clients waits in the backlog
//! rather than reading 503s (see [`ws_proto::admission`]).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use ws_proto::{Config, Response};

use crate::trace::Refusals;
use crate::{Error, WebSocketStream};

/// The caps of a [`Listener`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most connections open at once (their handshake done, their
    /// [`Permit`] alive). Default 100, as the `ws` facade's
    /// `Settings::max_connections`.
    pub max_connections: usize,
    /// Most connections in their opening handshake at once (accepted, not
    /// yet upgraded): a separate cap, so that sockets that never finish
    /// their request cannot take the slots of open connections; each frees
    /// its slot at the config's `handshake_timeout` at the latest. Default
    /// 1,024, as the facade's `Settings::max_pending_handshakes`.
    pub max_pending_handshakes: usize,
    /// The `Retry-After` of the 503. Default 10 s, the core's default
    /// `handshake_timeout`: by then every stalled handshake has been cut.
    pub retry_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 100,
            max_pending_handshakes: 1024,
            retry_after: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// The default limits with `max_connections` open connections.
    pub fn new(max_connections: usize) -> Self {
        Self {
            max_connections,
            ..Self::default()
        }
    }

    /// These limits with `max_pending_handshakes` instead.
    pub fn with_max_pending_handshakes(mut self, max_pending_handshakes: usize) -> Self {
        self.max_pending_handshakes = max_pending_handshakes;
        self
    }

    /// These limits with `retry_after` instead.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }
}

/// Counts held by live guards.
#[derive(Debug, Default)]
struct Counts {
    open: AtomicUsize,
    pending: AtomicUsize,
}

/// A TCP listener with admission limits.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use std::sync::Arc;
///
/// # async fn run() -> std::io::Result<()> {
/// let limits = ws_tokio::Limits::new(1_000).with_max_pending_handshakes(256);
/// let listener = ws_tokio::Listener::bind("127.0.0.1:9001", limits).await?;
/// let config = Arc::new(ws_tokio::Config::default());
/// loop {
///     // Clients past the caps were answered 503 inside `accept`.
///     let (admitted, _peer) = listener.accept().await?;
///     let config = config.clone();
///     tokio::spawn(async move {
///         // The permit holds the connection's slot until it is dropped.
///         let Ok((mut ws, _permit)) = admitted.handshake(config).await else { return };
///         while let Some(Ok(msg)) = ws.next().await {
///             if msg.is_data() && ws.send(msg).await.is_err() {
///                 break;
///             }
///         }
///     });
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Listener {
    tcp: TcpListener,
    limits: Limits,
    counts: Arc<Counts>,
    /// Since when the handshake cap has been full.
    full_since: Mutex<Option<Instant>>,
    /// The refusals' `tracing` events (nothing without the feature).
    refusals: Refusals,
}

/// A client the [`Listener`] admitted: its socket, holding a handshake slot
/// until [`handshake`](Admitted::handshake) ends or it is dropped.
#[derive(Debug)]
pub struct Admitted {
    tcp: TcpStream,
    pending: PendingSlot,
}

/// A slot under [`Limits::max_pending_handshakes`], freed when dropped.
#[derive(Debug)]
struct PendingSlot(Arc<Counts>);

/// A connection's slot under [`Limits::max_connections`]: keep it as long
/// as the connection; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    counts: Arc<Counts>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.counts.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Listener {
    /// Binds a listener with `limits`.
    pub async fn bind(addr: impl ToSocketAddrs, limits: Limits) -> io::Result<Self> {
        Ok(Self::from_tcp(TcpListener::bind(addr).await?, limits))
    }

    /// Puts `limits` on a bound listener.
    pub fn from_tcp(tcp: TcpListener, limits: Limits) -> Self {
        Self {
            tcp,
            limits,
            counts: Arc::default(),
            full_since: Mutex::new(None),
            refusals: Refusals::default(),
        }
    }

    /// The listener's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// Connections open now (their [`Permit`]s alive).
    pub fn open(&self) -> usize {
        self.counts.open.load(Ordering::Relaxed)
    }

    /// Connections in their opening handshake now.
    pub fn pending(&self) -> usize {
        self.counts.pending.load(Ordering::Relaxed)
    }

    /// The next client within the limits. A client past either is answered
    /// `503 Service Unavailable` with `Retry-After` and closed here (a
    /// `log::warn!` line says so) and the wait goes on. Errors are the
    /// listener's (out of descriptors ...): wait a little before calling
    /// again.
    ///
    /// When `max_pending_handshakes` handshakes are in progress it first
    /// waits, for up to a quarter of `retry_after` (at most 1 s), for one
    /// of them to finish: clients wait in the kernel's backlog meanwhile,
    /// and only a cap still full after that gets them a 503.
    pub async fn accept(&self) -> io::Result<(Admitted, SocketAddr)> {
        let grace = ws_proto::admission::hold_off_grace(self.limits.retry_after);
        loop {
            while let Some(wait) = self.hold_off(grace) {
                tokio::time::sleep(wait).await;
            }
            let (tcp, peer) = self.tcp.accept().await?;
            let why = if self.pending() >= self.limits.max_pending_handshakes {
                "max_pending_handshakes"
            } else if self.open() >= self.limits.max_connections {
                "max_connections"
            } else {
                self.counts.pending.fetch_add(1, Ordering::Relaxed);
                let pending = PendingSlot(Arc::clone(&self.counts));
                return Ok((Admitted { tcp, pending }, peer));
            };
            log::warn!("refused a connection from {peer} with 503: server full ({why})");
            self.refusals.refused(peer, why);
            let mut answer = Vec::new();
            Response::service_unavailable(self.limits.retry_after).write_to(&mut answer);
            refuse(tcp, &answer);
        }
    }
}

impl Listener {
    fn hold_off(&self, grace: Duration) -> Option<Duration> {
        let mut since = self
            .full_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let max = self.limits.max_pending_handshakes;
        ws_proto::admission::hold_off(self.pending(), max, &mut since, grace, Instant::now())
    }
}

impl Admitted {
    /// The client's socket.
    pub fn stream(&self) -> &TcpStream {
        &self.tcp
    }

    /// Runs the opening handshake ([`accept_with_config`](crate::accept_with_config),
    /// bounded by the config's `handshake_timeout`); once it succeeds the
    /// handshake slot becomes a [`Permit`] for an open connection, to be
    /// kept as long as the stream.
    pub async fn handshake(
        self,
        config: Arc<Config>,
    ) -> Result<(WebSocketStream<TcpStream>, Permit), Error> {
        let Admitted { tcp, pending } = self;
        let peer = tcp.peer_addr().ok();
        let accept_all = |_: &ws_proto::Request| Ok(ws_proto::Accept::default());
        let ws = crate::handshake::accept_from(tcp, peer, config, accept_all).await?;
        pending.0.open.fetch_add(1, Ordering::Relaxed);
        let counts = Arc::clone(&pending.0);
        drop(pending);
        Ok((ws, Permit { counts }))
    }
}

/// Most reads of what a refused client sent before it is answered: reading
/// its request lets the close be a FIN rather than a reset, which could
/// discard the answer at the client.
const REFUSE_READS: usize = 4;

/// Answers a client that is not served with `answer` (a few hundred bytes,
/// which a fresh socket takes in one write), shuts down the write side and
/// closes the socket, without waiting: what the client sent already is read
/// and dropped first (a bounded amount). The `ws` facade's tokio runtime
/// uses it for its own refusals.
pub fn refuse(tcp: TcpStream, answer: &[u8]) {
    let mut scratch = [0u8; 4096];
    for _ in 0..REFUSE_READS {
        match tcp.try_read(&mut scratch) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let mut written = 0;
    while written < answer.len() {
        match tcp.try_write(&answer[written..]) {
            Ok(n) if n > 0 => written += n,
            _ => break,
        }
    }
    if written < answer.len() {
        log::debug!(
            "refusal not written whole ({written} of {} bytes)",
            answer.len()
        );
    }
    if let Ok(std) = tcp.into_std() {
        let _ = std.shutdown(std::net::Shutdown::Write);
    }
}
