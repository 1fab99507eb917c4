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
    /// TLS for every client: the refusals go inside it too.
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The refusals' `tracing` events (nothing without the feature).
    refusals: Refusals,
}

/// A client the [`Listener`] admitted: its socket, holding a handshake slot
/// until [`handshake`](Admitted::handshake) ends or it is dropped.
#[derive(Debug)]
pub struct Admitted {
    tcp: TcpStream,
    pending: PendingSlot,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ServerConfig>>,
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
            #[cfg(feature = "rustls")]
            tls: None,
            refusals: Refusals::default(),
        }
    }

    /// A listener whose clients speak TLS with `server_config` (feature
    /// `rustls`): a client past the caps reads its 503 inside TLS (see
    /// [`refuse_tls`]), and an admitted one is upgraded with
    /// [`Admitted::handshake_tls`].
    #[cfg(feature = "rustls")]
    pub fn with_tls(mut self, server_config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(server_config);
        self
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
                let admitted = Admitted {
                    tcp,
                    pending,
                    #[cfg(feature = "rustls")]
                    tls: self.tls.clone(),
                };
                return Ok((admitted, peer));
            };
            log::warn!("refused a connection from {peer} with 503: server full ({why})");
            self.refusals.refused(peer, why);
            let mut answer = Vec::new();
            Response::service_unavailable(self.limits.retry_after).write_to(&mut answer);
            #[cfg(feature = "rustls")]
            if let Some(server_config) = &self.tls {
                refuse_tls(tcp, Arc::clone(server_config), answer);
                continue;
            }
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
        let peer = self.tcp.peer_addr().ok();
        let accept_all = |_: &ws_proto::Request| Ok(ws_proto::Accept::default());
        let ws = crate::handshake::accept_from(self.tcp, peer, config, accept_all).await?;
        Ok((ws, self.pending.open()))
    }

    /// Runs the TLS handshake with the [`Listener::with_tls`] configuration
    /// and then the opening handshake ([`accept_tls`](crate::accept_tls),
    /// both bounded by the config's `handshake_timeout`), as
    /// [`handshake`](Self::handshake) does over plain TCP. A listener
    /// without TLS gives an [`Error::Tls`] here.
    #[cfg(feature = "rustls")]
    pub async fn handshake_tls(
        self,
        config: Arc<Config>,
    ) -> Result<
        (
            WebSocketStream<tokio_rustls::server::TlsStream<TcpStream>>,
            Permit,
        ),
        Error,
    > {
        let Some(server_config) = self.tls else {
            return Err(Error::Tls(io::Error::other(
                "handshake_tls on a Listener without with_tls",
            )));
        };
        let ws = crate::accept_tls(self.tcp, config, server_config).await?;
        Ok((ws, self.pending.open()))
    }
}

impl PendingSlot {
    /// The handshake is done: this slot becomes one under `max_connections`.
    fn open(self) -> Permit {
        self.0.open.fetch_add(1, Ordering::Relaxed);
        Permit {
            counts: Arc::clone(&self.0),
        }
    }
}

/// Answers a client that is not served with `answer` (a few hundred bytes,
/// which a fresh socket takes in one write), shuts down the write side and
/// closes the socket, without waiting: what the client sent already is read
/// and dropped first (a bounded amount). The `ws` facade's tokio runtime
/// uses it for its own refusals.
pub fn refuse(tcp: TcpStream, answer: &[u8]) {
    let mut scratch = [0u8; 4096];
    for _ in 0..ws_proto::admission::REFUSE_READS {
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

/// Refusals inside TLS under way in this process (see [`refuse_tls`]).
#[cfg(feature = "rustls")]
static TLS_REFUSALS: AtomicUsize = AtomicUsize::new(0);

/// Answers a TLS client that is not served: a task on the current tokio
/// runtime runs the TLS handshake with `config`, sends `answer` (a `503`)
/// inside it, then `close_notify`, and reads and drops what the client
/// sends until it closes. The whole of it is bounded by
/// [`TLS_REFUSAL_TIMEOUT`](ws_proto::admission::TLS_REFUSAL_TIMEOUT), and
/// at most [`MAX_TLS_REFUSALS`](ws_proto::admission::MAX_TLS_REFUSALS) run
/// at once in the process: past that, the socket is closed unanswered.
/// The `ws` facade's tokio runtime uses it for its TLS listeners.
#[cfg(feature = "rustls")]
pub fn refuse_tls(tcp: TcpStream, config: Arc<rustls::ServerConfig>, answer: Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use ws_proto::admission::{MAX_TLS_REFUSALS, TLS_REFUSAL_READ_LIMIT, TLS_REFUSAL_TIMEOUT};

    struct Place;
    impl Drop for Place {
        fn drop(&mut self) {
            TLS_REFUSALS.fetch_sub(1, Ordering::Relaxed);
        }
    }

    if TLS_REFUSALS.fetch_add(1, Ordering::Relaxed) >= MAX_TLS_REFUSALS {
        TLS_REFUSALS.fetch_sub(1, Ordering::Relaxed);
        log::debug!(
            "{MAX_TLS_REFUSALS} TLS refusals under way (MAX_TLS_REFUSALS): a client is closed unanswered"
        );
        return;
    }
    let place = Place;
    tokio::spawn(async move {
        let _place = place;
        let refusal = async {
            let mut tls = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await?;
            tls.write_all(&answer).await?;
            tls.shutdown().await?;
            // Wait for the client to close (it does once it has read the
            // answer), so that the close is clean.
            let mut scratch = [0u8; 4096];
            let mut read = 0;
            loop {
                match tls.read(&mut scratch).await? {
                    0 => return Ok::<_, io::Error>(()),
                    n if read + n > TLS_REFUSAL_READ_LIMIT => return Ok(()),
                    n => read += n,
                }
            }
        };
        match tokio::time::timeout(TLS_REFUSAL_TIMEOUT, refusal).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::debug!("a TLS refusal failed: {e}"),
            Err(_) => log::debug!("a TLS refusal timed out"),
        }
    });
}
