//! [`WebSocket`], [`Builder`], and the [`listen`] and [`connect`] shortcuts.

use std::borrow::Borrow;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use crate::backend::Runtimes;
use crate::handler::{Factory, Handler};
use crate::proxy::ProxySetting;
use crate::result::{Error, ErrorKind, Result};
use crate::sender::{ALL, CommandQueue, Sender};
use crate::settings::Settings;
use crate::tls_config::Tls;

#[cfg(feature = "mio")]
use crate::backend_mio::MioBackend;
#[cfg(feature = "tokio")]
use crate::backend_tokio::TokioBackend;

/// The runtime a `WebSocket` runs on.
///
/// The default is mio when the `mio` feature is on, else tokio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Runtime {
    /// One mio event loop on the thread that calls `run` (feature `mio`, the default).
    #[cfg(feature = "mio")]
    #[default]
    Mio,
    /// A current-thread tokio runtime on the thread that calls `run`, one
    /// future per connection (feature `tokio`). Handlers need not be `Send`.
    /// `run` builds its own runtime, so call it from a thread that is not
    /// running one (in a tokio program: `spawn_blocking` or a plain thread).
    #[cfg(feature = "tokio")]
    #[cfg_attr(not(feature = "mio"), default)]
    Tokio,
}

impl std::str::FromStr for Runtime {
    type Err = Error;

    /// Parses a runtime's name: `mio` or `tokio`. Names of runtimes this build does not
    /// include are refused with an error that names the cargo feature to enable.
    fn from_str(name: &str) -> Result<Runtime> {
        match name {
            #[cfg(feature = "mio")]
            "mio" => Ok(Runtime::Mio),
            #[cfg(feature = "tokio")]
            "tokio" => Ok(Runtime::Tokio),
            #[allow(unreachable_patterns)]
            "mio" | "tokio" => Err(Error::new(
                ErrorKind::Internal,
                format!("runtime {name:?} needs the `ws` crate's `{name}` feature"),
            )),
            other => Err(Error::new(
                ErrorKind::Internal,
                format!("unknown runtime {other:?}"),
            )),
        }
    }
}

/// A WebSocket endpoint: a listener, client connections, or both, all
/// served by one event loop and one [`Factory`].
///
/// ```no_run
/// let ws = ws::WebSocket::new(|out: ws::Sender| move |msg| out.send(msg)).unwrap();
/// ws.listen("127.0.0.1:3012").unwrap();
/// ```
pub struct WebSocket<F: Factory> {
    backend: Runtimes<F>,
    settings: Settings,
    runtime: Runtime,
    queue: Arc<dyn CommandQueue>,
    tls: Tls,
    proxy: ProxySetting,
}

impl<F: Factory> fmt::Debug for WebSocket<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl<F: Factory> WebSocket<F> {
    /// A `WebSocket` with default settings, on the default runtime (mio
    /// when the `mio` feature is on). Nothing is bound or connected yet.
    ///
    /// Fails as [`Builder::build`] does.
    pub fn new(factory: F) -> Result<WebSocket<F>> {
        Builder::new().build(factory)
    }

    pub(crate) fn with(
        factory: F,
        settings: Settings,
        runtime: Runtime,
        tls: Tls,
    ) -> Result<WebSocket<F>> {
        if settings.encrypt_server && !cfg!(feature = "rustls") {
            return Err(Error::new(
                ErrorKind::Internal,
                "encrypt_server needs TLS: enable the `rustls` feature of the `ws` crate",
            ));
        }
        let backend = match runtime {
            #[cfg(feature = "mio")]
            Runtime::Mio => Runtimes::Mio(MioBackend::new(factory, settings, tls.clone())?),
            #[cfg(feature = "tokio")]
            Runtime::Tokio => Runtimes::Tokio(TokioBackend::new(factory, settings, tls.clone())?),
        };
        let queue = backend.get().queue();
        Ok(WebSocket {
            backend,
            settings,
            runtime,
            queue,
            tls,
            proxy: ProxySetting::default(),
        })
    }

    /// Serves TLS (`wss://`) on the listener with this rustls configuration
    /// (feature `rustls`): its certificate chain and key, its protocol
    /// versions. Call it before [`bind`](Self::bind) or
    /// [`listen`](Self::listen). Each accepted connection's handler may
    /// pick another configuration in
    /// [`Handler::upgrade_ssl_server`](crate::Handler::upgrade_ssl_server).
    ///
    /// This is what ws-rs's `Settings::encrypt_server` asked for; setting
    /// `encrypt_server` without a configuration makes `bind` fail, since
    /// there is no certificate to serve.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// # fn run(tls: Arc<rustls::ServerConfig>) -> ws::Result<()> {
    /// ws::WebSocket::new(|out: ws::Sender| move |msg| out.send(msg))?
    ///     .with_tls_server(tls)
    ///     .listen("127.0.0.1:3443")?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "rustls")]
    pub fn with_tls_server(mut self, config: Arc<rustls::ServerConfig>) -> WebSocket<F> {
        self.tls.server = Some(config);
        self.set_tls();
        self
    }

    /// Connects to `wss://` URLs with this rustls configuration (feature
    /// `rustls`) instead of the default one, which trusts the webpki
    /// (Mozilla) root certificates: to trust a private CA, send a client
    /// certificate ... Each connection's handler may still pick another in
    /// [`Handler::upgrade_ssl_client`](crate::Handler::upgrade_ssl_client).
    #[cfg(feature = "rustls")]
    pub fn with_tls_client(mut self, config: Arc<rustls::ClientConfig>) -> WebSocket<F> {
        self.tls.client = Some(config);
        self.set_tls();
        self
    }

    /// How client connections reach their servers: through the proxy the
    /// environment names (the default), directly
    /// ([`ProxySetting::Direct`]), or through one proxy
    /// ([`ProxySetting::Proxy`]), which turns the environment off.
    ///
    /// The environment is read as curl reads it: `HTTPS_PROXY` for
    /// `wss://`, `HTTP_PROXY` for `ws://`, `ALL_PROXY`, lower-case names
    /// first, and `NO_PROXY` (see [`ws_proto::proxy::proxy_for_url`]).
    /// `http://` (CONNECT) and `socks5://`/`socks5h://` proxies are
    /// supported, with credentials in the URL, and `https://` proxies
    /// (CONNECT inside TLS with the proxy, feature `rustls`; the proxy's
    /// certificate is checked for its host name against the same roots as
    /// the servers', see `with_tls_client`);
    /// `wss://` still runs TLS with the server, inside the tunnel. A proxy that cannot be used is an Io
    /// error, reported to the handler, naming the proxy but never its
    /// credentials. The connect to the proxy and its negotiation are
    /// bounded by the handshake timeout.
    ///
    /// ```no_run
    /// # fn run() -> ws::Result<()> {
    /// let proxy = ws::Proxy::parse("socks5h://127.0.0.1:1080").expect("a proxy URL");
    /// let mut ws = ws::WebSocket::new(|_| |_| Ok(()))?.with_proxy(ws::ProxySetting::Proxy(proxy));
    /// ws.connect(url::Url::parse("ws://example.com/").unwrap())?;
    /// ws.run()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_proxy(mut self, setting: ProxySetting) -> WebSocket<F> {
        self.backend.get_mut().set_proxy(setting.clone());
        self.proxy = setting;
        self
    }

    fn set_tls(&mut self) {
        self.backend.get_mut().set_tls(self.tls.clone());
    }

    /// Binds a listener to the first address of `addr_spec` that works.
    ///
    /// With `Settings::encrypt_server` set, the listener serves TLS and
    /// needs a configuration from `with_tls_server`
    /// (feature `rustls`): without one this fails.
    pub fn bind<A: ToSocketAddrs>(mut self, addr_spec: A) -> Result<WebSocket<F>> {
        self.tls
            .check_server(self.settings.encrypt_server, "WebSocket::with_tls_server")?;
        let mut last = None;
        for addr in addr_spec.to_socket_addrs()? {
            match self.backend.get_mut().bind(addr) {
                Ok(_) => return Ok(self),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Internal, "no address to bind to")))
    }

    /// Binds a listener and runs the event loop (until shutdown).
    pub fn listen<A: ToSocketAddrs>(self, addr_spec: A) -> Result<WebSocket<F>> {
        self.bind(addr_spec)?.run()
    }

    /// Queues a client connection to `url`, made when the loop runs:
    /// `ws://`, or `wss://` with the `rustls` feature (the certificate and
    /// host name are checked, SNI is sent). Without the feature a `wss://`
    /// URL fails with an error naming it, reported to the handler.
    pub fn connect(&mut self, url: url::Url) -> Result<&mut WebSocket<F>> {
        self.backend.get_mut().connect(url);
        Ok(self)
    }

    /// Runs the event loop on this thread until it shuts down, or until it
    /// has no listener and no connection left. Returns a fresh `WebSocket`
    /// with the same factory and settings.
    pub fn run(self) -> Result<WebSocket<F>> {
        let factory = self.backend.run()?;
        WebSocket::with(factory, self.settings, self.runtime, self.tls)
            .map(|ws| ws.with_proxy(self.proxy))
    }

    /// Serves a listener bound by the caller, as [`bind`](Self::bind) does
    /// with one it binds itself (for [`Threaded`](crate::Threaded)).
    pub(crate) fn adopt(&mut self, listener: std::net::TcpListener) -> Result<SocketAddr> {
        self.backend.get_mut().adopt(listener)
    }

    /// Replaces the TLS configurations (for [`Threaded`](crate::Threaded)).
    pub(crate) fn set_tls_config(&mut self, tls: Tls) {
        self.tls = tls;
        self.set_tls();
    }

    /// This loop's own command queue.
    pub(crate) fn queue(&self) -> Arc<dyn CommandQueue> {
        self.queue.clone()
    }

    /// Has the `Sender`s of this `WebSocket` push through `queue` (which
    /// forwards to the loop's own), for [`Threaded`](crate::Threaded).
    pub(crate) fn set_queue(&mut self, queue: Arc<dyn CommandQueue>) {
        self.backend.get_mut().set_queue(queue.clone());
        self.queue = queue;
    }

    /// A `Sender` whose `send`, `close`, `ping` and `pong` go to every connection.
    pub fn broadcaster(&self) -> Sender {
        Sender::new(ALL, 0, self.queue.clone())
    }

    /// The listener's address, once bound: with port 0 given to
    /// [`bind`](Self::bind), the port the system chose. Fails with
    /// `NotConnected` before `bind`.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.backend
            .get()
            .local_addr()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotConnected, "not bound"))
    }
}

/// Builds a [`WebSocket`] with settings and a runtime.
///
/// ```no_run
/// let ws = ws::Builder::new()
///     .with_settings(ws::Settings { max_connections: 10_000, ..ws::Settings::default() })
///     .build(|out: ws::Sender| move |msg| out.send(msg))
///     .unwrap();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Builder {
    settings: Settings,
    runtime: Runtime,
}

impl Builder {
    /// [`Settings::default`] and the default [`Runtime`] (mio when the `mio`
    /// feature is on, else tokio).
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Uses these settings for every connection of the `WebSocket`
    /// (replacing any given before).
    pub fn with_settings(&mut self, settings: Settings) -> &mut Builder {
        self.settings = settings;
        self
    }

    /// Runs on this runtime instead of the default. Only runtimes whose
    /// cargo feature is on can be named ([`Runtime`]'s `FromStr` names the
    /// feature to enable for the others).
    pub fn with_runtime(&mut self, runtime: Runtime) -> &mut Builder {
        self.runtime = runtime;
        self
    }

    /// Builds a server of `threads` event loops, one per thread (0: one
    /// per core), each a `WebSocket` with a factory that `make` makes on
    /// its thread, behind one address: see [`Threaded`](crate::Threaded).
    /// The settings' `max_connections` and `max_pending_handshakes` are
    /// for the whole server, shared out among the loops.
    ///
    /// ```no_run
    /// # fn run() -> ws::Result<()> {
    /// let server = ws::Builder::new()
    ///     .build_threaded(2, || |out: ws::Sender| move |msg| out.send(msg))?
    ///     .bind("127.0.0.1:3012")?;
    /// let everyone = server.broadcaster();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_secs(60));
    ///     let _ = everyone.broadcast("one minute up");
    /// });
    /// server.run()?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Fails as [`build`](Self::build) does, for any of the loops, or with
    /// an Io error when a thread cannot be started.
    pub fn build_threaded<M, F>(&self, threads: usize, make: M) -> Result<crate::Threaded>
    where
        M: Fn() -> F + Send + Sync + 'static,
        F: Factory + 'static,
    {
        crate::Threaded::new(threads, self.settings, self.runtime, make)
    }

    /// Builds the `WebSocket`, with nothing bound or connected yet.
    ///
    /// Fails with an Internal error when `encrypt_server` is set without
    /// the `rustls` feature, and on mio with an Io error when the system
    /// refuses a poller or its waker (tokio's runtime is made by
    /// [`run`](WebSocket::run), which fails the same way if it cannot be).
    pub fn build<F: Factory>(&self, factory: F) -> Result<WebSocket<F>> {
        WebSocket::with(factory, self.settings, self.runtime, Tls::default())
    }
}

/// Listens on `addr_spec` and serves every connection with a handler from
/// `factory`, on this thread, until the `WebSocket` shuts down.
///
/// ```no_run
/// ws::listen("127.0.0.1:3012", |out: ws::Sender| move |msg| out.send(msg)).unwrap();
/// ```
pub fn listen<A, F, H>(addr_spec: A, factory: F) -> Result<()>
where
    A: ToSocketAddrs + fmt::Debug,
    F: FnMut(Sender) -> H,
    H: Handler,
{
    WebSocket::new(factory)?.listen(addr_spec)?;
    Ok(())
}

/// Connects to the WebSocket URL `url` and runs the connection on this
/// thread until it (and any other connection it opens) is closed.
///
/// ```no_run
/// ws::connect("ws://127.0.0.1:3012", |out: ws::Sender| {
///     out.send("Hello WebSocket").unwrap();
///     move |msg| {
///         println!("Got message: {}", msg);
///         out.close(ws::CloseCode::Normal)
///     }
/// }).unwrap();
/// ```
pub fn connect<U, F, H>(url: U, factory: F) -> Result<()>
where
    U: Borrow<str>,
    F: FnMut(Sender) -> H,
    H: Handler,
{
    let url = url::Url::parse(url.borrow())
        .map_err(|e| Error::new(ErrorKind::Internal, format!("invalid URL: {e}")))?;
    let mut ws = WebSocket::new(factory)?;
    ws.connect(url)?;
    ws.run()?;
    Ok(())
}
