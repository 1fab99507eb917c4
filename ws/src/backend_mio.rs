//! The facade on the mio runtime (`ws-mio`).

use std::sync::Arc;

use ws_mio::{ConnInfo, Control, Endpoint, EventLoop, Handle, LoopConfig, Refusal, Start};
use ws_proto::Role;

use crate::backend::Backend;
use crate::connect_url::Destination;
use crate::dispatch::Conn;
use crate::handler::Factory;
use crate::hub::Hub;
use crate::proxy::ProxySetting;
use crate::result::{Error, ErrorKind, QueueError, Result};
use crate::sender::{Command, CommandQueue, Nowhere, Route, Sender, WriteLimits};
use crate::settings::Settings;
use crate::tls_config::Tls;
use crate::util::Token;

impl CommandQueue for Handle<Command> {
    fn push(&self, route: Route, command: Command) -> std::result::Result<(), QueueError> {
        self.send(route, command).map_err(|e| match e {
            ws_mio::SendFailed::Full => QueueError::Full,
            ws_mio::SendFailed::Stopped => QueueError::Disconnected,
        })
    }
}

/// How a connection of the facade starts on mio: its handler's dispatch,
/// which is its session, and the configuration the handler chose.
fn start<H: crate::Handler>(conn: Conn<H>) -> Start<Conn<H>> {
    match conn.core_config() {
        Some(config) => Start::new(conn).with_config(config),
        None => Start::new(conn),
    }
}

/// The `WebSocket`'s endpoint on mio.
pub(crate) struct MioHub<F: Factory> {
    hub: Hub<F>,
    queue: Arc<dyn CommandQueue>,
    limits: WriteLimits,
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    tls: Tls,
    proxy: ProxySetting,
}

impl<F: Factory> MioHub<F> {
    fn sender(&self, info: &ConnInfo) -> Sender {
        Sender::with_limits(Token(info.token), info.id, self.queue.clone(), self.limits)
    }

    fn connect(&mut self, ctl: &mut Control<'_, Conn<F::Handler>>, url: url::Url) {
        if self.hub.may_connect(ctl.connection_count()) {
            self.dial(ctl, url, None);
        }
    }

    /// Opens a client connection to `url`: a new one, or with `hop` the
    /// next of a redirected one, in its place and with its handler.
    fn dial(
        &mut self,
        ctl: &mut Control<'_, Conn<F::Handler>>,
        url: url::Url,
        hop: Option<(ConnInfo, Conn<F::Handler>)>,
    ) {
        let (ended, mut existing) = hop.unzip();
        let dest = match Destination::of(&url, &self.proxy) {
            Ok(dest) => dest,
            Err(e) => return self.hub.dial_failed(existing, e),
        };
        #[cfg(feature = "rustls")]
        let client_config = self.tls.client_config();
        // An https:// proxy's certificate is checked for its name, with the
        // roots the servers' are checked against.
        #[cfg(feature = "rustls")]
        let proxy_name = match &dest.proxy {
            Some(p) if p.kind() == ws_proto::proxy::ProxyKind::Https => {
                match rustls::pki_types::ServerName::try_from(p.host().to_owned()) {
                    Ok(name) => Some(name),
                    Err(e) => {
                        let e = Error::new(ErrorKind::Internal, format!("proxy {p}: {e}"));
                        return self.hub.dial_failed(existing, e);
                    }
                }
            }
            _ => None,
        };
        let mut failed = None;
        let queue = self.queue.clone();
        let limits = self.limits;
        let hub = &mut self.hub;
        let reuse = &mut existing;
        let make = |info: &ConnInfo| {
            let mut conn = match reuse.take() {
                Some(conn) => conn,
                None => {
                    let sender = Sender::with_limits(Token(info.token), info.id, queue, limits);
                    hub.make(Role::Client, sender)?
                }
            };
            conn.set_addrs(Some(info.peer_addr), info.local_addr);
            #[cfg(feature = "rustls")]
            let tls = match dest.tls_name {
                Some(name) => {
                    let made = conn.tls_client(&url, &client_config).and_then(|config| {
                        rustls::ClientConnection::new(config, name)
                            .map_err(|e| {
                                conn.report(Error::new(ErrorKind::Internal, e.to_string()))
                            })
                            .ok()
                    });
                    match made {
                        Some(tls) => Some(rustls::Connection::Client(tls)),
                        None => {
                            failed = Some(conn);
                            return None;
                        }
                    }
                }
                None => None,
            };
            #[cfg(feature = "rustls")]
            let proxy_tls = match proxy_name {
                Some(name) => match rustls::ClientConnection::new(client_config.clone(), name) {
                    Ok(tls) => Some(rustls::Connection::Client(tls)),
                    Err(e) => {
                        conn.report(Error::new(ErrorKind::Internal, e.to_string()));
                        failed = Some(conn);
                        return None;
                    }
                },
                None => None,
            };
            match conn.request_for(&url) {
                Some(request) => {
                    let start = start(conn);
                    #[cfg(feature = "rustls")]
                    let start = match tls {
                        Some(tls) => start.with_tls(tls),
                        None => start,
                    };
                    #[cfg(feature = "rustls")]
                    let start = match proxy_tls {
                        Some(tls) => start.with_proxy_tls(tls),
                        None => start,
                    };
                    Some((start, request))
                }
                None => {
                    failed = Some(conn);
                    None
                }
            }
        };
        let (host, port) = (&dest.host, dest.port);
        let result = match (&ended, &dest.proxy) {
            (Some(ended), proxy) => ctl.reconnect(ended, proxy.as_ref(), host, port, make),
            (None, Some(proxy)) => ctl.connect_through(proxy, host, port, make),
            (None, None) => ctl.connect(host, port, make),
        };
        if let Some(conn) = failed {
            self.hub.connection_lost(conn);
        }
        match result {
            // The redirected connection was not dialled: its handler hears why.
            Err(e) => self.hub.dial_failed(existing, Error::from(e)),
            Ok(_) => {
                if let Some(conn) = existing {
                    self.hub.connection_lost(conn);
                }
            }
        }
    }
}

impl<F: Factory> Endpoint for MioHub<F> {
    type Session = Conn<F::Handler>;

    fn hold_off(&mut self, ctl: &mut Control<'_, Self::Session>) -> Option<std::time::Duration> {
        self.hub.admission.hold_off(ctl.now())
    }

    fn refuse(
        &mut self,
        ctl: &mut Control<'_, Self::Session>,
        peer: std::net::SocketAddr,
    ) -> Option<Refusal> {
        let answer = self.hub.refuse(ctl.connection_count(), Some(peer))?;
        // A TLS client reads the 503 inside TLS.
        #[cfg(feature = "rustls")]
        if let Some(config) = &self.tls.server {
            return match rustls::ServerConnection::new(Arc::clone(config)) {
                Ok(tls) => Some(Refusal::Tls {
                    tls: Box::new(tls),
                    answer,
                }),
                Err(e) => {
                    log::error!("refused {peer} unanswered: {e}");
                    Some(Refusal::Plain(Vec::new()))
                }
            };
        }
        Some(Refusal::Plain(answer))
    }

    fn accept(
        &mut self,
        _ctl: &mut Control<'_, Self::Session>,
        info: &ConnInfo,
    ) -> Option<Start<Self::Session>> {
        let mut conn = self.hub.make(Role::Server, self.sender(info))?;
        conn.set_addrs(Some(info.peer_addr), info.local_addr);
        #[cfg(feature = "rustls")]
        if let Some(server) = &self.tls.server {
            let made = conn.tls_server(server).and_then(|config| {
                rustls::ServerConnection::new(config)
                    .map_err(|e| conn.report(Error::new(ErrorKind::Internal, e.to_string())))
                    .ok()
            });
            return match made {
                Some(tls) => Some(start(conn).with_tls(rustls::Connection::Server(tls))),
                None => {
                    self.hub.connection_lost(conn);
                    None
                }
            };
        }
        Some(start(conn))
    }

    fn on_command(&mut self, ctl: &mut Control<'_, Self::Session>, command: Command) {
        match command {
            Command::Connect(url) => self.connect(ctl, url),
            Command::Shutdown if !ctl.is_shutting_down() => {
                self.hub.on_shutdown();
                ctl.shutdown();
            }
            // Connection commands sent to the endpoint have no connection.
            _ => {}
        }
    }

    fn on_session_end(
        &mut self,
        ctl: &mut Control<'_, Self::Session>,
        info: &ConnInfo,
        mut conn: Self::Session,
    ) {
        match conn.take_redirect() {
            Some(url) if !ctl.is_shutting_down() => self.dial(ctl, url, Some((*info, conn))),
            _ => self.hub.connection_lost(conn),
        }
    }
}

/// A `WebSocket`'s loop on mio.
pub(crate) struct MioBackend<F: Factory> {
    event_loop: EventLoop<MioHub<F>>,
    /// Connections asked for before the loop runs, dialled when it starts
    /// (as ws-rs did): a `connect` before `listen` must find the listener.
    queued: Vec<url::Url>,
}

impl<F: Factory> MioBackend<F> {
    pub(crate) fn new(factory: F, settings: Settings, tls: Tls) -> Result<Self> {
        let loop_config = LoopConfig {
            // One buffer for the whole loop: ws-rs's small per-connection default
            // would only cost system calls.
            read_buffer: settings.in_buffer_capacity.clamp(64 * 1024, 4 << 20),
            // Reading from a peer stops while this much output waits for
            // it (the loop's and the core's), as on tokio, so a peer that
            // does not read costs about this plus one message; never more
            // than the cap the application chose.
            write_high_water: settings.write_cap().min(ws_proto::backpressure::READ_PAUSE),
            queue_capacity: settings
                .queue_size
                .saturating_mul(settings.max_connections)
                .max(16),
            max_connections: 0,
            nodelay: settings.tcp_nodelay,
            ..LoopConfig::default()
        };
        let config = Arc::new(settings.core_config());
        // The queue needs the loop's waker, and the endpoint needs the queue:
        // start with a placeholder and give the real handle once the loop exists.
        let placeholder: Arc<dyn CommandQueue> = Arc::new(Nowhere);
        let hub = MioHub {
            limits: WriteLimits::new(&settings),
            hub: Hub::new(factory, settings),
            queue: placeholder,
            tls,
            proxy: ProxySetting::default(),
        };
        let mut loop_config = loop_config;
        // The facade admits (`Endpoint::refuse`); the loop's own cap only
        // backs it up.
        loop_config.max_connections = hub.hub.admission.capacity();
        let mut event_loop = EventLoop::new(hub, config, loop_config)?;
        let handle: Arc<dyn CommandQueue> = Arc::new(event_loop.handle());
        event_loop.endpoint_mut().queue = handle;
        Ok(Self {
            event_loop,
            queued: Vec::new(),
        })
    }
}

impl<F: Factory> Backend<F> for MioBackend<F> {
    fn queue(&self) -> Arc<dyn CommandQueue> {
        self.event_loop.endpoint().queue.clone()
    }

    fn set_queue(&mut self, queue: Arc<dyn CommandQueue>) {
        self.event_loop.endpoint_mut().queue = queue;
    }

    fn set_tls(&mut self, tls: Tls) {
        self.event_loop.endpoint_mut().tls = tls;
    }

    fn set_proxy(&mut self, proxy: ProxySetting) {
        self.event_loop.endpoint_mut().proxy = proxy;
    }

    fn adopt(&mut self, listener: std::net::TcpListener) -> Result<std::net::SocketAddr> {
        Ok(self.event_loop.listen_on(listener)?)
    }

    fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.event_loop.local_addr()
    }

    fn connect(&mut self, url: url::Url) {
        self.queued.push(url);
    }

    fn run(mut self) -> Result<F> {
        for url in std::mem::take(&mut self.queued) {
            self.event_loop
                .with_control(|hub, ctl| hub.connect(ctl, url));
        }
        let hub = self.event_loop.run()?;
        Ok(hub.hub.factory)
    }
}

impl From<ws_mio::SendFailed> for Error {
    fn from(e: ws_mio::SendFailed) -> Error {
        let kind = match e {
            ws_mio::SendFailed::Full => QueueError::Full,
            ws_mio::SendFailed::Stopped => QueueError::Disconnected,
        };
        Error::new(ErrorKind::Queue(kind), e.to_string())
    }
}
