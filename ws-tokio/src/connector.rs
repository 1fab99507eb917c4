//! A client's connect settings gathered in one builder: the core's
//! [`Config`], the proxy and (with `rustls`) the TLS configuration.

use std::sync::Arc;

use ws_proto::Config;
use ws_proto::proxy::{Proxy, ProxySetting};

use crate::error::Error;
use crate::handshake::{ClientTls, Route, connect_via};
use crate::maybe_tls::MaybeTlsStream;
use crate::stream::WebSocketStream;

/// Connects to `ws://` and `wss://` URLs with settings: a [`Config`], a
/// proxy, a TLS client configuration.
///
/// The proxy is read from the environment by default
/// ([`ProxySetting::Environment`]: `HTTPS_PROXY` for `wss://`, `HTTP_PROXY`
/// for `ws://`, `ALL_PROXY`, `NO_PROXY`, as curl and Python's
/// `websockets` read them); [`proxy`](Self::proxy) or
/// [`direct`](Self::direct) turn the environment off. Through a proxy,
/// `wss://` still runs TLS with the server (SNI and certificate checks for
/// the server's name, not the proxy's), inside the tunnel.
///
/// ```no_run
/// use ws_tokio::{Connector, Proxy};
///
/// # async fn run() -> Result<(), ws_tokio::Error> {
/// let proxy = Proxy::parse("socks5h://127.0.0.1:1080")?;
/// let ws = Connector::new().proxy(proxy).connect("ws://example.com/chat").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Connector {
    config: Arc<Config>,
    proxy: ProxySetting,
    max_redirects: usize,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for Connector {
    fn default() -> Self {
        Self {
            config: Arc::default(),
            proxy: ProxySetting::default(),
            max_redirects: ws_proto::redirect::DEFAULT_MAX_REDIRECTS,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }
}

impl Connector {
    /// The defaults: [`Config::default`], the proxy from the environment,
    /// the webpki roots for `wss://`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Limits and deadlines of the connection (the handshake timeout also
    /// bounds the connect to the proxy and its negotiation).
    pub fn config(mut self, config: Arc<Config>) -> Self {
        self.config = config;
        self
    }

    /// Connects through `proxy` for every URL (the environment is not read).
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = ProxySetting::Proxy(proxy);
        self
    }

    /// Connects directly, whatever the environment says.
    pub fn direct(mut self) -> Self {
        self.proxy = ProxySetting::Direct;
        self
    }

    /// The redirects (301, 302, 303, 307, 308) followed before giving up:
    /// [`DEFAULT_MAX_REDIRECTS`](ws_proto::redirect::DEFAULT_MAX_REDIRECTS)
    /// (10, as Python's `websockets`) by default; 0 fails on the first one,
    /// as browsers do. The rules (relative locations, no `wss://` to `ws://`
    /// downgrade, no loop) are in [`ws_proto::redirect`].
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Any [`ProxySetting`], including back to the environment.
    pub fn proxy_setting(mut self, setting: ProxySetting) -> Self {
        self.proxy = setting;
        self
    }

    /// The TLS client configuration for `wss://` (roots to trust, client
    /// certificates ...), instead of `tls::default_client_config`; also
    /// the one an `https://` proxy is reached with (its certificate
    /// checked for the proxy's host name).
    #[cfg(feature = "rustls")]
    pub fn tls(mut self, tls: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Connects to `url` and runs the client handshake, as
    /// [`connect`](crate::connect) does, with these settings.
    pub async fn connect(&self, url: &str) -> Result<WebSocketStream<MaybeTlsStream>, Error> {
        #[cfg(feature = "rustls")]
        let tls: ClientTls = self.tls.clone();
        #[cfg(not(feature = "rustls"))]
        let tls: ClientTls = None;
        let route = Route {
            proxy: &self.proxy,
            max_redirects: self.max_redirects,
        };
        connect_via(url, self.config.clone(), tls, route).await
    }
}
