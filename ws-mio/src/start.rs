//! A new connection's session, and how its transport starts.

use std::sync::Arc;

use ws_proto::Config;

/// What [`Endpoint::accept`](crate::Endpoint::accept) and the `make` of
/// [`Control::connect`](crate::Control::connect) return for a new
/// connection: its session, and what the loop needs before the first byte
/// (TLS, a configuration of its own). A session alone converts into one
/// with `.into()`: plain TCP, the loop's configuration.
///
/// ```
/// # struct Echo;
/// use ws_mio::Start;
///
/// let start: Start<Echo> = Echo.into();
/// # let _ = start;
/// ```
#[derive(Debug)]
pub struct Start<S> {
    pub(crate) session: S,
    pub(crate) config: Option<Arc<Config>>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Box<rustls::Connection>>,
    #[cfg(feature = "rustls")]
    pub(crate) proxy_tls: Option<Box<rustls::Connection>>,
}

impl<S> Start<S> {
    /// `session` over plain TCP, with the loop's configuration.
    pub fn new(session: S) -> Self {
        Self {
            session,
            config: None,
            #[cfg(feature = "rustls")]
            tls: None,
            #[cfg(feature = "rustls")]
            proxy_tls: None,
        }
    }

    /// The protocol configuration of this connection, instead of the
    /// loop's (given to [`EventLoop::new`](crate::EventLoop::new)): so that
    /// one connection can differ from the others (its permessage-deflate
    /// parameters, say).
    pub fn with_config(mut self, config: Arc<Config>) -> Self {
        self.config = Some(config);
        self
    }

    /// TLS under the WebSocket (feature `rustls`): a `ServerConnection`
    /// for an accepted connection, a `ClientConnection` built with the
    /// server's name for one we open. Socket bytes then go through
    /// rustls's sans-IO connection without ever blocking.
    #[cfg(feature = "rustls")]
    pub fn with_tls(mut self, tls: rustls::Connection) -> Self {
        self.tls = Some(Box::new(tls));
        self
    }

    /// TLS with an `https://` proxy (feature `rustls`), for a connection
    /// made by [`Control::connect_through`](crate::Control::connect_through)
    /// with such a proxy: a `ClientConnection` built with the proxy's host
    /// name. The loop runs it right over the socket, the proxy's
    /// negotiation and then the server's TLS ([`with_tls`](Self::with_tls))
    /// inside it. Without it such a connect fails with a
    /// [`ProxyError::Tls`](ws_proto::proxy::ProxyError::Tls).
    #[cfg(feature = "rustls")]
    pub fn with_proxy_tls(mut self, tls: rustls::Connection) -> Self {
        self.proxy_tls = Some(Box::new(tls));
        self
    }
}

impl<S> From<S> for Start<S> {
    fn from(session: S) -> Self {
        Self::new(session)
    }
}
