//! An axum extractor for WebSocket upgrades that yields this crate's
//! [`WebSocketStream`], with permessage-deflate when the [`Config`] has it
//! (feature `axum`, for axum 0.8).
//!
//! [`WebSocketUpgrade`] works like axum's own `axum::extract::ws::WebSocketUpgrade`:
//! take it as a handler argument, set the subprotocols and the config, and
//! return [`on_upgrade`](WebSocketUpgrade::on_upgrade)'s response. The
//! callback runs in a task of its own once the 101 has gone out.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use axum::Router;
//! use axum::response::Response;
//! use axum::routing::get;
//! use ws_tokio::axum::WebSocketUpgrade;
//! use ws_tokio::{Config, DeflateConfig};
//!
//! async fn echo(ws: WebSocketUpgrade) -> Response {
//!     let config = Arc::new(Config {
//!         // Compresses for the clients that offer permessage-deflate.
//!         deflate: Some(DeflateConfig::default()),
//!         ..Config::default()
//!     });
//!     ws.protocols(["echo.v1"])
//!         .config(config)
//!         .on_upgrade(|mut socket| async move {
//!             while let Some(Ok(msg)) = socket.recv().await {
//!                 if msg.is_data() && socket.send(msg).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         })
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new().route("/ws", get(echo));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! (`axum::serve` needs axum's `tokio` and `http1` features, which are
//! axum's defaults; this crate's `axum` feature turns on none of axum's
//! features itself.)
//!
//! The request is checked twice. The extractor refuses what is no
//! WebSocket upgrade at all (no `Upgrade: websocket`, `Connection: upgrade`,
//! a key or version 13, a request that did not come over HTTP/1.1 with
//! upgrades): the handler does not run, and the client gets a
//! [`WebSocketUpgradeRejection`], 400, 426 or 505 with a text body.
//! [`on_upgrade`](WebSocketUpgrade::on_upgrade) then runs
//! [`upgrade::negotiate`] with the config (its
//! [`request_checks`](Config::request_checks) and
//! [`origins`](Config::origins) too) and answers a refusal with its status
//! (405 for a method other than `GET`, 403 for a refused origin ...)
//! instead of the 101.
//!
//! Only HTTP/1.1 upgrades: a WebSocket over HTTP/2 (RFC 8441) is refused.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use ::axum::body::Body;
use ::axum::extract::FromRequestParts;
use ::axum::http::header::{HeaderName, HeaderValue};
use ::axum::http::request::Parts;
use ::axum::http::{StatusCode, Version};
use ::axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use ws_proto::{Config, HandshakeError, Request, RequestChecks};

use crate::stream::WebSocketStream;
use crate::upgrade::{self, UpgradeError};

pub use crate::upgraded::Upgraded;

/// The stream [`WebSocketUpgrade::on_upgrade`] hands to its callback.
pub type WebSocket = WebSocketStream<Upgraded>;

/// An extractor for a WebSocket upgrade request; see the [module](self).
pub struct WebSocketUpgrade {
    /// The request head, as the core checks it.
    request: Request,
    on_upgrade: OnUpgrade,
    config: Arc<Config>,
    protocols: Vec<Cow<'static, str>>,
}

impl fmt::Debug for WebSocketUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("request", &self.request)
            .field("config", &self.config)
            .field("protocols", &self.protocols)
            .finish_non_exhaustive()
    }
}

impl WebSocketUpgrade {
    /// The subprotocols this server speaks, in its order of preference: the
    /// first that the client offered is chosen and sent back in
    /// `Sec-WebSocket-Protocol`. When the client offered none of them, the
    /// upgrade goes on without a subprotocol (RFC 6455 lets the client
    /// decide whether that will do).
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Cow<'static, str>>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The connection's [`Config`]: limits, deadlines, request checks and
    /// origins and, with [`Config::deflate`], permessage-deflate for the
    /// clients that offer it. Without this call, [`Config::default`] (no
    /// compression), as for [`accept`](crate::accept).
    pub fn config(mut self, config: Arc<Config>) -> Self {
        self.config = config;
        self
    }

    /// The subprotocol [`on_upgrade`](Self::on_upgrade) will choose with
    /// the [`protocols`](Self::protocols) set so far, if any.
    pub fn selected_protocol(&self) -> Option<&str> {
        let offered: Vec<&str> = self.request.protocols().collect();
        self.protocols
            .iter()
            .map(|p| p.as_ref())
            .find(|p| offered.contains(p))
    }

    /// The request head (method, target and headers), to look at its
    /// `Origin`, cookies or query before upgrading.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Accepts the upgrade: returns the 101 response, with
    /// `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` as agreed,
    /// and once hyper has sent it, runs `callback` with the connection in a
    /// task of its own (so this must be called inside a tokio runtime, as
    /// axum's handlers are).
    ///
    /// When [`upgrade::negotiate`] refuses the
    /// request under the config, the response is that refusal (a 4xx)
    /// instead, and `callback` never runs; nor does it when the connection
    /// fails before the upgrade completes (the client went away).
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let protocols: Vec<&str> = self.protocols.iter().map(|p| p.as_ref()).collect();
        let negotiated = match upgrade::negotiate(&self.request, &self.config, &protocols) {
            Ok(negotiated) => negotiated,
            Err(e) => return WebSocketUpgradeRejection(e).into_response(),
        };
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        for (name, value) in negotiated.headers() {
            // Names and values the core made: always valid.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        let config = self.config;
        let on_upgrade = self.on_upgrade;
        let task = async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let io = Upgraded::new(upgraded);
                    callback(WebSocketStream::from_upgrade(io, negotiated, config)).await;
                }
                Err(e) => log::debug!("ws-tokio: the axum upgrade did not complete: {e}"),
            }
        };
        // The connection's span is a child of the handler's (a request
        // span with the client's address, say), which the task would
        // otherwise lose.
        #[cfg(feature = "tracing")]
        let task = tracing::Instrument::instrument(task, tracing::Span::current());
        tokio::spawn(task);
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = WebSocketUpgradeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if parts.version != Version::HTTP_11 {
            return Err(HandshakeError::HttpVersion.into());
        }
        let request = Request {
            method: parts.method.as_str().to_owned(),
            path: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect(),
        };
        // Is it an upgrade at all? The checks that depend on the config
        // (method, key format, origins) wait for `on_upgrade`.
        let lenient = RequestChecks {
            method: false,
            key: false,
        };
        request
            .validate_upgrade(lenient)
            .map_err(WebSocketUpgradeRejection::from)?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(WebSocketUpgradeRejection::not_upgradable())?;
        Ok(Self {
            request,
            on_upgrade,
            config: Arc::default(),
            protocols: Vec::new(),
        })
    }
}

/// Why a request could not be upgraded: answered with its
/// [`status`](Self::status) and the reason as a `text/plain` body (and
/// `Sec-WebSocket-Version: 13` with a 426).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSocketUpgradeRejection(UpgradeError);

impl WebSocketUpgradeRejection {
    /// The server gave no way to take the connection over (it was not
    /// served by hyper with upgrades, or the extractor ran twice).
    fn not_upgradable() -> Self {
        Self(HandshakeError::Malformed("the connection cannot be upgraded").into())
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    /// What was wrong with the request.
    pub fn error(&self) -> &UpgradeError {
        &self.0
    }
}

impl From<HandshakeError> for WebSocketUpgradeRejection {
    fn from(e: HandshakeError) -> Self {
        Self(e.into())
    }
}

impl From<UpgradeError> for WebSocketUpgradeRejection {
    fn from(e: UpgradeError) -> Self {
        Self(e)
    }
}

impl fmt::Display for WebSocketUpgradeRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebSocket upgrade refused: {}", self.0)
    }
}

impl std::error::Error for WebSocketUpgradeRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl IntoResponse for WebSocketUpgradeRejection {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(format!("{self}\n")));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            ::axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        for (name, value) in self.0.headers() {
            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
        response
    }
}
