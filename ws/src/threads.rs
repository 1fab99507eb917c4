//! [`Threaded`]: one `WebSocket` served by several event loops, one per
//! thread, each with its own factory.
//!
//! Each loop is a whole `WebSocket` of its own, on the runtime the
//! [`Builder`](crate::Builder) names: its factory is made on its thread,
//! so handlers need not be `Send`, as in ws-rs. Three things join the loops
//! into one server:
//!
//! - **One address.** On Unix every loop has its own listening socket on
//!   the address, with `SO_REUSEPORT`: the kernel spreads new connections
//!   over the sockets by a hash of their addresses, and no loop hands
//!   sockets to another. Elsewhere the loops share one listener, and a
//!   connection goes to the loop that accepts it first.
//! - **One command space.** A `Sender`'s commands for its own connection
//!   go to its loop's queue. `broadcast`, a broadcaster's messages and
//!   `shutdown` go to every loop's queue (a broadcast message is copied
//!   once per loop, not per connection).
//! - **One set of limits.** `max_connections` and `max_pending_handshakes`
//!   are for the whole server: each loop takes its share, rounded up.
//!
//! A connection stays on the loop that accepted it for its whole life; a
//! loop busy with one heavy connection does not slow the others' loops.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::backend::bind_listener;
use crate::handler::Factory;
use crate::proxy::ProxySetting;
use crate::result::{Error, ErrorKind, QueueError, Result};
use crate::sender::{ALL, Command, CommandQueue, Route, Sender};
use crate::settings::Settings;
use crate::tls_config::Tls;
use crate::websocket::{Runtime, WebSocket};

/// The queues of every loop of a [`Threaded`] server.
struct Group {
    queues: Vec<Arc<dyn CommandQueue>>,
}

impl Group {
    /// Pushes `command` to every loop. Every loop is tried; the first
    /// failure is returned.
    fn push_all(&self, route: Route, command: Command) -> std::result::Result<(), QueueError> {
        let mut result = Ok(());
        for queue in &self.queues {
            if let Err(e) = queue.push(route, command.clone()) {
                result = result.and(Err(e));
            }
        }
        result
    }
}

/// The queue the `Sender`s of one loop push through: their own
/// connection's commands to the loop, the server-wide ones to every loop.
struct Member {
    group: Arc<Group>,
    index: usize,
}

impl CommandQueue for Member {
    fn push(&self, route: Route, command: Command) -> std::result::Result<(), QueueError> {
        let server_wide = match (&route, &command) {
            (Route::Conn { .. }, _) => false,
            (Route::Endpoint, Command::Shutdown) => true,
            // A new client connection belongs to the loop that opens it.
            (Route::Endpoint, _) => false,
            (Route::All, _) => true,
        };
        if server_wide {
            self.group.push_all(route, command)
        } else {
            self.group.queues[self.index].push(route, command)
        }
    }
}

/// The queue of a [`Threaded`] server's own broadcaster.
struct Everyone(Arc<Group>);

impl CommandQueue for Everyone {
    fn push(&self, route: Route, command: Command) -> std::result::Result<(), QueueError> {
        self.0.push_all(route, command)
    }
}

/// What a loop's thread is given to start serving.
struct Start {
    group: Arc<Group>,
    listener: Option<std::net::TcpListener>,
    connects: Vec<url::Url>,
    tls: Tls,
    proxy: ProxySetting,
}

struct LoopThread {
    start: mpsc::Sender<Start>,
    thread: JoinHandle<Result<()>>,
}

/// A `WebSocket` on several threads: one event loop per thread, each with
/// its own factory, all behind one address. Made by
/// [`Builder::build_threaded`](crate::Builder::build_threaded).
///
/// ```no_run
/// # fn run() -> ws::Result<()> {
/// // One loop per core; each thread makes its own factory.
/// ws::Builder::new()
///     .build_threaded(0, || |out: ws::Sender| move |msg| out.send(msg))?
///     .bind("127.0.0.1:3012")?
///     .run()?;
/// # Ok(())
/// # }
/// ```
///
/// `Sender`s work as on one loop: a connection's own commands go to its
/// loop, and [`Sender::broadcast`] and [`Sender::shutdown`] reach every
/// loop. [`Sender::connection_id`] is unique within a loop; two `Sender`s
/// are equal only when they reach the same connection of the same loop.
pub struct Threaded {
    loops: Vec<LoopThread>,
    /// `Settings::encrypt_server`: binding needs a TLS server configuration.
    encrypt_server: bool,
    group: Arc<Group>,
    runtime: Runtime,
    listeners: Vec<std::net::TcpListener>,
    connects: Vec<url::Url>,
    tls: Tls,
    proxy: ProxySetting,
}

impl std::fmt::Debug for Threaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Threaded")
            .field("threads", &self.loops.len())
            .field("runtime", &self.runtime)
            .field("local_addr", &self.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Threaded {
    /// Starts `threads` threads (0: one per core the system reports), each
    /// making its factory with `make` and a `WebSocket` with `settings`
    /// (the server-wide limits divided among them); they wait for
    /// [`run`](Self::run).
    pub(crate) fn new<M, F>(
        threads: usize,
        settings: Settings,
        runtime: Runtime,
        make: M,
    ) -> Result<Threaded>
    where
        M: Fn() -> F + Send + Sync + 'static,
        F: Factory + 'static,
    {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let settings = Settings {
            max_connections: settings.max_connections.div_ceil(threads),
            max_pending_handshakes: settings.max_pending_handshakes.div_ceil(threads),
            ..settings
        };
        let make = Arc::new(make);
        let (made_tx, made_rx) = mpsc::channel();
        let mut starts = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let (start_tx, start_rx) = mpsc::channel::<Start>();
            let (make, made_tx) = (Arc::clone(&make), made_tx.clone());
            let thread = std::thread::Builder::new()
                .name(format!("ws-loop-{index}"))
                .spawn(move || serve(index, settings, runtime, &*make, made_tx, &start_rx))?;
            starts.push(start_tx);
            handles.push(thread);
        }
        drop(made_tx);
        // Each thread sends its loop's queue, or why it has none.
        let mut queues: Vec<Option<Arc<dyn CommandQueue>>> = vec![None; threads];
        let mut failure = None;
        for _ in 0..threads {
            match made_rx.recv() {
                Ok((index, Ok(queue))) => queues[index] = Some(queue),
                Ok((_, Err(e))) => failure = failure.or(Some(e)),
                Err(_) => {
                    failure = failure.or_else(|| {
                        Some(Error::new(
                            ErrorKind::Internal,
                            "an event loop thread panicked",
                        ))
                    });
                    break;
                }
            }
        }
        if let Some(e) = failure {
            // The threads that were made see their start channel close.
            drop(starts);
            for thread in handles {
                let _ = thread.join();
            }
            return Err(e);
        }
        let group = Arc::new(Group {
            queues: queues.into_iter().flatten().collect(),
        });
        let loops = starts
            .into_iter()
            .zip(handles)
            .map(|(start, thread)| LoopThread { start, thread })
            .collect();
        Ok(Threaded {
            loops,
            encrypt_server: settings.encrypt_server,
            group,
            runtime,
            listeners: Vec::new(),
            connects: Vec::new(),
            tls: Tls::default(),
            proxy: ProxySetting::default(),
        })
    }

    /// How many loops (threads) serve.
    pub fn threads(&self) -> usize {
        self.loops.len()
    }

    /// Binds the address (the first of `addr_spec` that works) for every
    /// loop: with `SO_REUSEPORT` one listening socket per loop on Unix,
    /// one shared listener elsewhere. With port 0 the system picks one
    /// port, shared by all (see [`local_addr`](Self::local_addr)).
    pub fn bind<A: ToSocketAddrs>(mut self, addr_spec: A) -> Result<Threaded> {
        self.tls
            .check_server(self.encrypt_server, "Threaded::with_tls_server")?;
        let mut last = None;
        for addr in addr_spec.to_socket_addrs()? {
            match listeners(addr, self.loops.len()) {
                Ok(listeners) => {
                    self.listeners = listeners;
                    return Ok(self);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.map_or_else(
            || Error::new(ErrorKind::Internal, "no address to bind to"),
            Error::from,
        ))
    }

    /// Binds and runs until shutdown: [`bind`](Self::bind), then
    /// [`run`](Self::run).
    pub fn listen<A: ToSocketAddrs>(self, addr_spec: A) -> Result<()> {
        self.bind(addr_spec)?.run()
    }

    /// The address served, once bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self.listeners.first() {
            Some(listener) => listener.local_addr(),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "not bound",
            )),
        }
    }

    /// Queues a client connection to `url`, opened when the loops run;
    /// connections are dealt out to the loops in turn.
    pub fn connect(&mut self, url: url::Url) -> Result<&mut Threaded> {
        self.connects.push(url);
        Ok(self)
    }

    /// As [`WebSocket::with_tls_server`](crate::WebSocket::with_tls_server),
    /// for every loop.
    #[cfg(feature = "rustls")]
    pub fn with_tls_server(mut self, config: Arc<rustls::ServerConfig>) -> Threaded {
        self.tls.server = Some(config);
        self
    }

    /// As [`WebSocket::with_tls_client`](crate::WebSocket::with_tls_client),
    /// for every loop.
    #[cfg(feature = "rustls")]
    pub fn with_tls_client(mut self, config: Arc<rustls::ClientConfig>) -> Threaded {
        self.tls.client = Some(config);
        self
    }

    /// As [`WebSocket::with_proxy`](crate::WebSocket::with_proxy), for
    /// every loop.
    pub fn with_proxy(mut self, setting: ProxySetting) -> Threaded {
        self.proxy = setting;
        self
    }

    /// A `Sender` whose messages go to every connection on every loop, and
    /// whose [`shutdown`](Sender::shutdown) stops them all. Usable from
    /// any thread, before and during [`run`](Self::run).
    pub fn broadcaster(&self) -> Sender {
        Sender::new(ALL, 0, Arc::new(Everyone(Arc::clone(&self.group))))
    }

    /// Runs every loop until they have all ended: after a shutdown (from
    /// any `Sender`), or when no loop has a listener or a connection left.
    /// A loop that fails shuts the others down; its error is returned.
    pub fn run(self) -> Result<()> {
        let Threaded {
            loops,
            encrypt_server: _,
            group,
            runtime: _,
            listeners,
            connects,
            tls,
            proxy,
        } = self;
        let count = loops.len();
        let mut listeners = share_listeners(listeners, count)?.into_iter();
        let mut connects_for: Vec<Vec<url::Url>> = vec![Vec::new(); count];
        for (i, url) in connects.into_iter().enumerate() {
            connects_for[i % count].push(url);
        }
        let mut threads = Vec::with_capacity(count);
        for (lp, connects) in loops.into_iter().zip(connects_for) {
            let start = Start {
                group: Arc::clone(&group),
                listener: listeners.next().flatten(),
                connects,
                tls: tls.clone(),
                proxy: proxy.clone(),
            };
            // A thread that is gone already reports why when joined.
            let _ = lp.start.send(start);
            threads.push(lp.thread);
        }
        let mut failure = None;
        for thread in threads {
            let result = thread.join().unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::Internal,
                    "an event loop thread panicked",
                ))
            });
            if let Err(e) = result {
                log::error!("an event loop ended with an error: {e}; shutting the others down");
                let _ = group.push_all(Route::Endpoint, Command::Shutdown);
                failure = failure.or(Some(e));
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// What a loop's thread does: make the factory and the `WebSocket`, report
/// its queue, wait for [`Start`], and run.
fn serve<M, F>(
    index: usize,
    settings: Settings,
    runtime: Runtime,
    make: &M,
    made: mpsc::Sender<(usize, Result<Arc<dyn CommandQueue>>)>,
    start: &mpsc::Receiver<Start>,
) -> Result<()>
where
    M: Fn() -> F,
    F: Factory,
{
    let mut ws = match WebSocket::with(make(), settings, runtime, Tls::default()) {
        Ok(ws) => ws,
        Err(e) => {
            let _ = made.send((index, Err(e)));
            return Ok(());
        }
    };
    let _ = made.send((index, Ok(ws.queue())));
    // Dropped now, so that if another thread's `make` panics, `new` sees
    // every sender gone instead of waiting for it.
    drop(made);
    // Without a start, the `Threaded` was dropped or failed to start.
    let Ok(Start {
        group,
        listener,
        connects,
        tls,
        proxy,
    }) = start.recv()
    else {
        return Ok(());
    };
    // Before any `Sender` is made.
    ws.set_queue(Arc::new(Member { group, index }));
    ws.set_tls_config(tls);
    let mut ws = ws.with_proxy(proxy);
    if let Some(listener) = listener {
        ws.adopt(listener)?;
    }
    for url in connects {
        ws.connect(url)?;
    }
    ws.run().map(drop)
}

/// `count` listeners on `addr`: on Unix, each its own socket with
/// `SO_REUSEPORT` (the first picks the port when `addr` has port 0);
/// elsewhere, one listener, shared (cloned) later.
fn listeners(addr: SocketAddr, count: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    let first = bind_listener(addr, cfg!(unix))?;
    if !cfg!(unix) {
        return Ok(vec![first]);
    }
    let addr = first.local_addr()?;
    let mut all = vec![first];
    for _ in 1..count {
        all.push(bind_listener(addr, true)?);
    }
    Ok(all)
}

/// One listener per loop: the ones bound (one per loop with
/// `SO_REUSEPORT`), or clones of the one shared listener; none when the
/// server was not bound.
fn share_listeners(
    mut listeners: Vec<std::net::TcpListener>,
    count: usize,
) -> std::io::Result<Vec<Option<std::net::TcpListener>>> {
    if listeners.len() == 1 && count > 1 {
        let first = listeners.remove(0);
        for _ in 1..count {
            listeners.push(first.try_clone()?);
        }
        listeners.insert(0, first);
    }
    Ok(listeners.into_iter().map(Some).collect())
}
