//! [`Backend`]: what a runtime does for a `WebSocket`, the one seam
//! between the facade's public types and a runtime (`backend_mio.rs`,
//! `backend_tokio.rs`). `WebSocket` holds a [`Runtimes`] and reaches the
//! runtime's backend through it; nothing else in the facade names a
//! runtime.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::handler::Factory;
use crate::proxy::ProxySetting;
use crate::result::Result;
use crate::sender::CommandQueue;
use crate::tls_config::Tls;

/// A `WebSocket`'s event loop on one runtime, before and until `run`.
pub(crate) trait Backend<F: Factory> {
    /// The loop's command queue, for `Sender`s.
    fn queue(&self) -> Arc<dyn CommandQueue>;

    /// Has every `Sender` made from now on push through `queue`, which
    /// forwards to this loop's own (see `threads.rs`).
    fn set_queue(&mut self, queue: Arc<dyn CommandQueue>);

    fn set_tls(&mut self, tls: Tls);

    fn set_proxy(&mut self, proxy: ProxySetting);

    /// Serves `listener` (non-blocking from here on).
    fn adopt(&mut self, listener: std::net::TcpListener) -> Result<SocketAddr>;

    /// Binds a listener on `addr` and serves it: the same socket options
    /// and backlog on every runtime ([`bind_listener`]).
    fn bind(&mut self, addr: SocketAddr) -> Result<SocketAddr> {
        self.adopt(bind_listener(addr, false)?)
    }

    fn local_addr(&self) -> Option<SocketAddr>;

    /// Queues a client connection, dialled when the loop runs.
    fn connect(&mut self, url: url::Url);

    /// Runs the loop until shutdown, or until it has no listener and no
    /// connection left; gives the factory back.
    fn run(self) -> Result<F>
    where
        Self: Sized;
}

/// The backend of the runtime a `WebSocket` was built for. (Not a
/// `Box<dyn Backend>`: that would ask factories to be `'static`, which
/// ws-rs never did.) One per `WebSocket`: boxing the larger variant would
/// buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Runtimes<F: Factory> {
    #[cfg(feature = "mio")]
    Mio(crate::backend_mio::MioBackend<F>),
    #[cfg(feature = "tokio")]
    Tokio(crate::backend_tokio::TokioBackend<F>),
}

impl<F: Factory> Runtimes<F> {
    pub(crate) fn get(&self) -> &dyn Backend<F> {
        match self {
            #[cfg(feature = "mio")]
            Runtimes::Mio(b) => b,
            #[cfg(feature = "tokio")]
            Runtimes::Tokio(b) => b,
        }
    }

    pub(crate) fn get_mut(&mut self) -> &mut dyn Backend<F> {
        match self {
            #[cfg(feature = "mio")]
            Runtimes::Mio(b) => b,
            #[cfg(feature = "tokio")]
            Runtimes::Tokio(b) => b,
        }
    }

    pub(crate) fn run(self) -> Result<F> {
        match self {
            #[cfg(feature = "mio")]
            Runtimes::Mio(b) => b.run(),
            #[cfg(feature = "tokio")]
            Runtimes::Tokio(b) => b.run(),
        }
    }
}

/// The listen backlog: the kernel's queue of connections not yet accepted
/// (mio's and tokio's default; std's is 128, which a burst of clients
/// overflows into SYN retries of a second or more).
const BACKLOG: i32 = 1024;

/// A listening socket on `addr`, non-blocking, with `SO_REUSEADDR` (as
/// std sets it on Unix) and, when `reuse_port`, `SO_REUSEPORT`, so that
/// several loops can each listen on the address (see `threads.rs`).
/// Outside Unix, `reuse_port` is not available: std's listener.
pub(crate) fn bind_listener(
    addr: SocketAddr,
    reuse_port: bool,
) -> std::io::Result<std::net::TcpListener> {
    #[cfg(unix)]
    {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        if reuse_port {
            socket.set_reuse_port(true)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        socket.set_nonblocking(true)?;
        Ok(socket.into())
    }
    #[cfg(not(unix))]
    {
        let _ = (reuse_port, BACKLOG);
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(listener)
    }
}
