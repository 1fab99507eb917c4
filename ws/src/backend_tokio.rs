//! The facade on tokio (`ws-tokio`).
//!
//! `run` builds a current-thread runtime on the calling thread and runs one
//! future for the `WebSocket` (the endpoint: listener, command routing,
//! factory) and one per connection (`ws_tokio::driver::drive`, calling the
//! shared dispatch). Everything runs on that one thread, so handlers need
//! not be `Send`; and since the connection futures are polled by the
//! endpoint's future (a `FuturesUnordered`) rather than spawned, they need
//! not be `'static` either, just as on mio.
//!
//! `Sender`s push into one bounded channel (any thread); the endpoint routes
//! each command to its connection's inbox, to all of them, or to itself.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::future::{FutureExt, LocalBoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use slab::Slab;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use ws_proto::session::{Session, StoppedClock};
use ws_proto::{Config, Connection, Role};
use ws_tokio::driver::{self, Input};
use ws_tokio::proxy::ProxyStream;

use crate::backend::Backend;
use crate::connect_url::Destination;
use crate::dispatch::Conn;
use crate::handler::{Factory, Handler};
use crate::hub::Hub;
use crate::proxy::ProxySetting;
use crate::result::{Error, QueueError, Result};
use crate::sender::{Command, CommandQueue, Route, Sender, WriteLimits};
use crate::settings::Settings;
use crate::tls_config::Tls;
use crate::util::Token;

type Routed = (Route, Command);

/// The `Sender`s' way into the endpoint.
struct Queue {
    tx: mpsc::Sender<Routed>,
}

impl CommandQueue for Queue {
    fn push(&self, route: Route, command: Command) -> std::result::Result<(), QueueError> {
        self.tx.try_send((route, command)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => QueueError::Full,
            mpsc::error::TrySendError::Closed(_) => QueueError::Disconnected,
        })
    }
}

/// The transport could not be had (a connect failed, TLS did not start):
/// as on mio, where such a connection fails inside the loop, the handler
/// hears of the I/O error, then of the connection's end.
fn never_connected<H: Handler>(conn: &mut Conn<H>, mut core: Connection, error: io::Error) {
    let now = now();
    let mut clock = StoppedClock(now);
    conn.on_io_error(&mut clock, &mut core, &error);
    core.handle_eof(now);
    while let Some(event) = core.poll_event() {
        conn.on_event(&mut clock, &mut core, event);
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A connection the endpoint routes commands to.
struct Slot {
    id: u64,
    inbox: Rc<Inbox>,
}

impl Drop for Slot {
    /// No more commands: the connection's driver learns it.
    fn drop(&mut self) {
        let waker = {
            let mut inbox = self.inbox.0.borrow_mut();
            inbox.closed = true;
            inbox.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A connection's commands, from the endpoint to its driver (both on the
/// runtime's one thread). Empty, it holds no buffer: a tokio channel
/// would allocate a block of 32 commands for every connection up front.
#[derive(Default)]
struct Inbox(RefCell<InboxState>);

#[derive(Default)]
struct InboxState {
    commands: VecDeque<Input<Command>>,
    waker: Option<Waker>,
    closed: bool,
}

impl Inbox {
    fn send(&self, command: Input<Command>) {
        let waker = {
            let mut inbox = self.0.borrow_mut();
            inbox.commands.push_back(command);
            inbox.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The driver's end of an [`Inbox`].
struct InboxRx(Rc<Inbox>);

impl driver::Commands for InboxRx {
    type Item = Command;

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Input<Command>>> {
        let mut inbox = self.0.0.borrow_mut();
        if let Some(command) = inbox.commands.pop_front() {
            if inbox.commands.is_empty() {
                inbox.commands = VecDeque::new();
            }
            return Poll::Ready(Some(command));
        }
        if inbox.closed {
            return Poll::Ready(None);
        }
        if !inbox
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            inbox.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Memory is bounded by the `Sender`s' cap and by the cap each
    /// connection applies to broadcasts, not by leaving commands in the
    /// inbox; and a close or a shutdown must get through to a peer that
    /// stopped reading.
    fn while_backed_up(&self) -> bool {
        true
    }
}

/// A connection's inbox and the driver's end of it.
fn inbox() -> (Rc<Inbox>, InboxRx) {
    let inbox = Rc::new(Inbox::default());
    (inbox.clone(), InboxRx(inbox))
}

/// The most sockets accepted in a row before the handshakes in progress
/// get a turn: as `ws_mio::ACCEPT_BATCH`, so that a burst of clients moves
/// through its handshakes in batches rather than meeting
/// `max_pending_handshakes` all at once.
const ACCEPT_BATCH: usize = 64;

/// A connection's future: its slot and its handler's dispatch at the end.
type Running<'a, H> = LocalBoxFuture<'a, (usize, Conn<H>)>;

/// The `WebSocket` while it runs.
struct Endpoint<'a, F: Factory>
where
    F::Handler: 'a,
{
    hub: Hub<F>,
    queue: Arc<dyn CommandQueue>,
    config: Arc<Config>,
    listener: Option<TcpListener>,
    slots: Slab<Slot>,
    next_id: u64,
    running: FuturesUnordered<Running<'a, F::Handler>>,
    shutting_down: bool,
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    tls: Tls,
    proxy: ProxySetting,
}

impl<'a, F: Factory> Endpoint<'a, F>
where
    F::Handler: 'a,
{
    async fn run(&mut self, rx: &mut mpsc::Receiver<Routed>) {
        // After a failed accept (out of descriptors ...), wait a little.
        let mut accept_paused_until = None;
        let mut in_a_row = 0;
        loop {
            if in_a_row >= ACCEPT_BATCH {
                // A burst: let the I/O driver see what the new connections
                // sent and their handshakes move, before accepting more.
                in_a_row = 0;
                tokio::task::yield_now().await;
                while let Some(Some((token, conn))) = self.running.next().now_or_never() {
                    self.ended(token, conn);
                }
            }
            // Commands queued before `run` or since the last turn (a
            // `connect` may start the only connection there will be).
            while let Ok((route, command)) = rx.try_recv() {
                self.route(route, command);
            }
            if self.listener.is_none() && self.running.is_empty() {
                return;
            }
            if accept_paused_until.is_none() && self.listener.is_some() {
                // A full handshake cap: the backlog waits a moment (see
                // `Admission::hold_off`).
                if let Some(wait) = self.hub.admission.hold_off(Instant::now()) {
                    accept_paused_until = Some(tokio::time::Instant::now() + wait);
                }
            }
            let listener = self.listener.as_ref();
            let pause = accept_paused_until;
            tokio::select! {
                Some((token, conn)) = self.running.next(), if !self.running.is_empty() => {
                    self.ended(token, conn);
                }
                Some((route, command)) = rx.recv() => self.route(route, command),
                accepted = async { listener.unwrap().accept().await },
                    if listener.is_some() && pause.is_none() =>
                {
                    match accepted {
                        Ok((tcp, peer)) => {
                            self.accept(tcp, peer);
                            in_a_row += 1;
                        }
                        Err(_) => {
                            accept_paused_until =
                                Some(tokio::time::Instant::now() + Duration::from_millis(10));
                        }
                    }
                }
                () = async { tokio::time::sleep_until(pause.unwrap()).await }, if pause.is_some() => {
                    accept_paused_until = None;
                }
            }
        }
    }

    fn sender(&self, token: usize, id: u64) -> Sender {
        let limits = WriteLimits::new(&self.hub.settings);
        Sender::with_limits(Token(token), id, self.queue.clone(), limits)
    }

    fn accept(&mut self, tcp: TcpStream, peer: SocketAddr) {
        if self.shutting_down {
            return;
        }
        if let Some(answer) = self.hub.refuse(self.slots.len(), Some(peer)) {
            // A TLS client reads the 503 inside TLS.
            #[cfg(feature = "rustls")]
            if let Some(config) = &self.tls.server {
                return ws_tokio::refuse_tls(tcp, Arc::clone(config), answer);
            }
            return ws_tokio::refuse(tcp, &answer);
        }
        let Ok(seed) = ws_proto::os_seed().inspect_err(|e| log::error!("refused {peer}: {e}"))
        else {
            return; // Its keys would be predictable: refused, the socket closes.
        };
        if self.hub.settings.tcp_nodelay {
            let _ = tcp.set_nodelay(true);
        }
        let token = self.slots.vacant_key();
        self.next_id += 1;
        let id = self.next_id;
        let Some(mut conn) = self.hub.make(Role::Server, self.sender(token, id)) else {
            return;
        };
        conn.set_addrs(Some(peer), tcp.local_addr().ok());
        #[cfg(feature = "rustls")]
        let tls = match &self.tls.server {
            Some(server) => match conn.tls_server(server) {
                Some(config) => Some(ws_tokio::tokio_rustls::TlsAcceptor::from(config)),
                None => return self.hub.connection_lost(conn),
            },
            None => None,
        };
        let (inbox, rx) = inbox();
        self.slots.insert(Slot { id, inbox });
        let config = conn.core_config().unwrap_or_else(|| self.config.clone());
        let core = Connection::server(config, now(), seed);
        #[cfg(feature = "rustls")]
        let limit = self.config.handshake_timeout;
        self.running.push(Box::pin(async move {
            #[cfg(feature = "rustls")]
            if let Some(acceptor) = tls {
                match bounded(limit, acceptor.accept(tcp)).await {
                    Ok(tls) => {
                        driver::drive(tls, core, &mut conn, rx).await;
                    }
                    Err(e) => never_connected(&mut conn, core, e),
                }
                return (token, conn);
            }
            driver::drive(tcp, core, &mut conn, rx).await;
            (token, conn)
        }));
    }

    fn connect(&mut self, url: url::Url) {
        if self.shutting_down {
            return;
        }
        if self.hub.may_connect(self.slots.len()) {
            self.dial(url, None);
        }
    }

    /// Opens a client connection to `url`: a new one, or with `hop` the
    /// next of a redirected one (its slot, still held, and its handler),
    /// in its place, so that the handler's `Sender`s reach it.
    fn dial(&mut self, url: url::Url, hop: Option<(usize, Conn<F::Handler>)>) {
        let (ended, existing) = hop.unzip();
        let fail = |this: &mut Self, existing: Option<Conn<F::Handler>>, e| {
            if let (Some(token), Some(_)) = (ended, &existing) {
                this.slots.try_remove(token);
            }
            this.hub.dial_failed(existing, e);
        };
        let dest = match Destination::of(&url, &self.proxy) {
            Ok(dest) => dest,
            Err(e) => return fail(self, existing, e),
        };
        let seed = match ws_proto::os_seed() {
            Ok(seed) => seed,
            Err(e) => return fail(self, existing, Error::from(io::Error::from(e))),
        };
        let (token, id, mut conn) = match (ended, existing) {
            (Some(token), Some(conn)) => (token, self.slots[token].id, conn),
            _ => {
                let token = self.slots.vacant_key();
                self.next_id += 1;
                let id = self.next_id;
                let Some(conn) = self.hub.make(Role::Client, self.sender(token, id)) else {
                    return;
                };
                (token, id, conn)
            }
        };
        let lost = |this: &mut Self, conn| {
            if ended.is_some() {
                this.slots.try_remove(token);
            }
            this.hub.connection_lost(conn);
        };
        #[cfg(feature = "rustls")]
        let tls = match dest.tls_name {
            Some(name) => match conn.tls_client(&url, &self.tls.client_config()) {
                Some(config) => Some((ws_tokio::tokio_rustls::TlsConnector::from(config), name)),
                None => return lost(self, conn),
            },
            None => None,
        };
        let Some(request) = conn.request_for(&url) else {
            return lost(self, conn);
        };
        let (inbox, rx) = inbox();
        match ended {
            // The old inbox is dropped: its driver is gone.
            Some(_) => self.slots[token] = Slot { id, inbox },
            None => {
                self.slots.insert(Slot { id, inbox });
            }
        }
        let config = conn.core_config().unwrap_or_else(|| self.config.clone());
        let core = Connection::client(config, request, now(), seed);
        let limit = self.config.handshake_timeout;
        let nodelay = self.hub.settings.tcp_nodelay;
        #[cfg(feature = "rustls")]
        let proxy_tls = self.tls.client_config();
        #[cfg(not(feature = "rustls"))]
        let tls: Option<std::convert::Infallible> = None;
        let Destination {
            host, port, proxy, ..
        } = dest;
        self.running.push(Box::pin(async move {
            // Through a proxy, the tunnel leads to the server: TLS and the
            // upgrade run inside it as over a direct connection.
            let connected = match &proxy {
                #[cfg(feature = "rustls")]
                Some(proxy) => {
                    ws_tokio::proxy::open_tunnel_with_tls(proxy, &host, port, limit, proxy_tls)
                        .await
                        .map_err(io::Error::other)
                }
                #[cfg(not(feature = "rustls"))]
                Some(proxy) => ws_tokio::proxy::open_tunnel(proxy, &host, port, limit)
                    .await
                    .map_err(io::Error::other),
                None => tcp_connect(&host, port, limit).await.map(ProxyStream::Tcp),
            };
            let stream = match connected {
                Ok(stream) => stream,
                Err(e) => {
                    never_connected(&mut conn, core, e);
                    return (token, conn);
                }
            };
            let tcp = stream.tcp();
            if nodelay {
                let _ = tcp.set_nodelay(true);
            }
            conn.set_addrs(tcp.peer_addr().ok(), tcp.local_addr().ok());
            match stream {
                ProxyStream::Tcp(tcp) => run_over(tcp, tls, limit, core, &mut conn, rx).await,
                #[cfg(feature = "rustls")]
                ProxyStream::Tls(to_proxy) => {
                    run_over(to_proxy, tls, limit, core, &mut conn, rx).await;
                }
                #[allow(unreachable_patterns)]
                _ => never_connected(
                    &mut conn,
                    core,
                    io::Error::other("unknown kind of proxy stream"),
                ),
            }
            (token, conn)
        }));
    }

    fn ended(&mut self, token: usize, mut conn: Conn<F::Handler>) {
        match conn.take_redirect() {
            // The slot stays: the next hop takes it.
            Some(url) if !self.shutting_down => self.dial(url, Some((token, conn))),
            _ => {
                self.slots.try_remove(token);
                self.hub.connection_lost(conn);
            }
        }
    }

    fn route(&mut self, route: Route, command: Command) {
        match route {
            Route::Conn { token, id } => {
                if let Some(slot) = self.slots.get(token).filter(|s| s.id == id) {
                    slot.inbox.send(Input::Command(command));
                }
            }
            Route::All => {
                for (_, slot) in &self.slots {
                    slot.inbox.send(Input::Command(command.clone()));
                }
            }
            Route::Endpoint => match command {
                Command::Connect(url) => self.connect(url),
                Command::Shutdown if !self.shutting_down => self.shutdown(),
                // Connection commands sent to the endpoint have no connection.
                _ => {}
            },
        }
    }

    fn shutdown(&mut self) {
        self.shutting_down = true;
        self.hub.on_shutdown();
        self.listener = None;
        for (_, slot) in &self.slots {
            slot.inbox.send(Input::Shutdown);
        }
    }
}

/// A TLS handshake, within `limit`.
#[cfg(feature = "rustls")]
/// TLS with the server, when the URL is `wss://`: the connector and the
/// server's name.
#[cfg(feature = "rustls")]
type ServerTls = Option<(
    ws_tokio::tokio_rustls::TlsConnector,
    ws_tokio::rustls::pki_types::ServerName<'static>,
)>;
#[cfg(not(feature = "rustls"))]
type ServerTls = Option<std::convert::Infallible>;

/// Runs a client connection over `stream` (to the server, or a tunnel to
/// it): TLS with the server first when `tls` says so.
async fn run_over<S, H>(
    stream: S,
    tls: ServerTls,
    limit: Duration,
    core: Connection,
    session: &mut Conn<H>,
    rx: InboxRx,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    H: Handler,
{
    #[cfg(feature = "rustls")]
    if let Some((connector, name)) = tls {
        match bounded(limit, connector.connect(name, stream)).await {
            Ok(tls) => {
                driver::drive(tls, core, session, rx).await;
            }
            Err(e) => never_connected(session, core, e),
        }
        return;
    }
    #[cfg(not(feature = "rustls"))]
    let _ = (tls, limit);
    driver::drive(stream, core, session, rx).await;
}

#[cfg(feature = "rustls")]
async fn bounded<T>(
    limit: Duration,
    handshake: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match tokio::time::timeout(limit, handshake).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the TLS handshake took longer than the handshake timeout",
        )),
    }
}

/// Connects to the first address of `host` that answers, within `limit`.
async fn tcp_connect(host: &str, port: u16, limit: Duration) -> io::Result<TcpStream> {
    let attempt = async {
        let mut last = None;
        for addr in tokio::net::lookup_host((host, port)).await? {
            match TcpStream::connect(addr).await {
                Ok(tcp) => return Ok(tcp),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address for host")))
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "connecting took longer than the handshake timeout",
        )),
    }
}

/// A `WebSocket` on tokio, before `run`.
pub(crate) struct TokioBackend<F: Factory> {
    hub: Hub<F>,
    queue: Arc<dyn CommandQueue>,
    rx: mpsc::Receiver<Routed>,
    listener: Option<std::net::TcpListener>,
    connects: Vec<url::Url>,
    tls: Tls,
    proxy: ProxySetting,
}

impl<F: Factory> TokioBackend<F> {
    pub(crate) fn new(factory: F, settings: Settings, tls: Tls) -> Result<Self> {
        // As on mio: room for every connection's queue.
        let capacity = settings
            .queue_size
            .saturating_mul(settings.max_connections)
            .clamp(16, 1 << 20);
        let (tx, rx) = mpsc::channel(capacity);
        Ok(Self {
            hub: Hub::new(factory, settings),
            queue: Arc::new(Queue { tx }),
            rx,
            listener: None,
            connects: Vec::new(),
            tls,
            proxy: ProxySetting::default(),
        })
    }
}

impl<F: Factory> Backend<F> for TokioBackend<F> {
    fn queue(&self) -> Arc<dyn CommandQueue> {
        self.queue.clone()
    }

    fn set_queue(&mut self, queue: Arc<dyn CommandQueue>) {
        self.queue = queue;
    }

    fn set_tls(&mut self, tls: Tls) {
        self.tls = tls;
    }

    fn set_proxy(&mut self, proxy: ProxySetting) {
        self.proxy = proxy;
    }

    fn adopt(&mut self, listener: std::net::TcpListener) -> Result<SocketAddr> {
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        self.listener = Some(listener);
        Ok(local)
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref()?.local_addr().ok()
    }

    fn connect(&mut self, url: url::Url) {
        self.connects.push(url);
    }

    /// Runs until shutdown, or until no listener and no connection is left.
    fn run(self) -> Result<F> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let TokioBackend {
            hub,
            queue,
            mut rx,
            listener,
            connects,
            tls,
            proxy,
        } = self;
        let config = Arc::new(hub.settings.core_config());
        let hub = runtime.block_on(async move {
            let listener = listener.map(TcpListener::from_std).transpose()?;
            let mut endpoint = Endpoint {
                hub,
                queue,
                config,
                listener,
                slots: Slab::new(),
                next_id: 0,
                running: FuturesUnordered::new(),
                shutting_down: false,
                tls,
                proxy,
            };
            for url in connects {
                endpoint.connect(url);
            }
            endpoint.run(&mut rx).await;
            Ok::<_, Error>(endpoint.hub)
        })?;
        Ok(hub.factory)
    }
}
