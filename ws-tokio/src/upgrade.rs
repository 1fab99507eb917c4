//! Upgrades negotiated by another HTTP server (hyper, axum ...): the checks
//! of the request and the contents of the 101 response, permessage-deflate
//! included, without any I/O.
//!
//! [`negotiate`] looks at the request head the HTTP server parsed, with the
//! same [`Config`] that [`accept_with_config`](crate::accept_with_config)
//! would use, and returns a [`Negotiated`]: the headers the 101 response
//! must carry and what [`WebSocketStream::from_upgrade`](crate::WebSocketStream::from_upgrade) needs to run the
//! connection as agreed. A request that is not a valid upgrade is an
//! [`UpgradeError`] with the HTTP status to answer it with.
//!
//! ```
//! use ws_tokio::upgrade::negotiate;
//! use ws_tokio::{Config, DeflateConfig, Request};
//!
//! let request = Request {
//!     method: "GET".into(),
//!     path: "/chat".into(),
//!     headers: [
//!         ("Host", "example.com"),
//!         ("Upgrade", "websocket"),
//!         ("Connection", "Upgrade"),
//!         ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
//!         ("Sec-WebSocket-Version", "13"),
//!         ("Sec-WebSocket-Protocol", "v1.chat, v2.chat"),
//!         ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
//!     ]
//!     .map(|(n, v)| (n.to_owned(), v.as_bytes().to_vec()))
//!     .into(),
//! };
//! let config = Config { deflate: Some(DeflateConfig::default()), ..Config::default() };
//! let negotiated = negotiate(&request, &config, &["v2.chat"]).unwrap();
//! assert_eq!(negotiated.accept_key(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! assert_eq!(negotiated.protocol(), Some("v2.chat"));
//! assert_eq!(negotiated.extensions(), Some("permessage-deflate"));
//!
//! let mut bad = request.clone();
//! bad.method = "POST".into();
//! assert_eq!(negotiate(&bad, &config, &[]).unwrap_err().status(), 405);
//! ```

use std::fmt;

use ws_proto::{Config, DeflateParams, HandshakeError, Request, Response, accept_key};

/// What an accepted upgrade agreed on: the contents of the 101 response and
/// the permessage-deflate parameters, for
/// [`WebSocketStream::from_upgrade`](crate::WebSocketStream::from_upgrade).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The 101 response, with `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept` and, when agreed, `Sec-WebSocket-Protocol`
    /// and `Sec-WebSocket-Extensions`.
    response: Response,
    deflate: Option<DeflateParams>,
}

impl Negotiated {
    /// The value of `Sec-WebSocket-Accept`.
    pub fn accept_key(&self) -> &str {
        self.header("Sec-WebSocket-Accept").unwrap_or_default()
    }

    /// The subprotocol chosen, the value of `Sec-WebSocket-Protocol`, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.header("Sec-WebSocket-Protocol")
    }

    /// The value of `Sec-WebSocket-Extensions` when permessage-deflate was
    /// agreed on (such as `permessage-deflate` or
    /// `permessage-deflate; client_max_window_bits=10`); `None` otherwise,
    /// and then the response must not carry that header.
    pub fn extensions(&self) -> Option<&str> {
        self.header("Sec-WebSocket-Extensions")
    }

    /// The permessage-deflate parameters agreed on, if any.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_ref()
    }

    /// Every header the 101 response must carry, as name and value, in
    /// order: copy them into the HTTP server's response.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.response.headers.iter().filter_map(|(name, value)| {
            // Every value was built here from text.
            Some((name.as_str(), std::str::from_utf8(value).ok()?))
        })
    }

    /// The whole 101 response head.
    pub fn response(&self) -> &Response {
        &self.response
    }

    pub(crate) fn into_parts(self) -> (Response, Option<DeflateParams>) {
        (self.response, self.deflate)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.response.header_str(name)
    }
}

/// A request that cannot be upgraded, and the HTTP status to answer it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeError(HandshakeError);

impl UpgradeError {
    /// The HTTP status for the answer: 400 for a malformed upgrade, 405 for
    /// a method other than `GET`, 403 for an origin the config refuses,
    /// 426 for a WebSocket version other than 13.
    pub fn status(&self) -> u16 {
        self.0.status()
    }

    /// What was wrong with the request.
    pub fn error(&self) -> &HandshakeError {
        &self.0
    }

    /// Headers that belong in the error response: `Sec-WebSocket-Version:
    /// 13` with a 426 (RFC 6455 section 4.4).
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        (self.status() == 426)
            .then_some(("Sec-WebSocket-Version", "13"))
            .into_iter()
    }
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for UpgradeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<HandshakeError> for UpgradeError {
    fn from(e: HandshakeError) -> Self {
        Self(e)
    }
}

/// Checks the upgrade `request` as [`accept`](crate::accept_with_config)
/// would with `config` (the method, the upgrade headers, the key, the
/// version, [`Config::request_checks`] and [`Config::origins`]), and
/// decides what the 101 response says:
///
/// - the subprotocol: the first of `protocols` (this server's, in its
///   order of preference) that the client offered; none when the client
///   offered none of them, which RFC 6455 allows (the client decides
///   whether to go on without one);
/// - permessage-deflate: when [`Config::deflate`] is set, the first of the
///   client's offers that it can accept
///   ([`DeflateConfig::negotiate`](ws_proto::DeflateConfig::negotiate)).
///
/// Pure: it reads nothing, writes nothing and keeps no state.
pub fn negotiate(
    request: &Request,
    config: &Config,
    protocols: &[&str],
) -> Result<Negotiated, UpgradeError> {
    let key = request.validate_upgrade(config.request_checks)?;
    config.origins.check(request)?;
    let mut response = Response::new(101);
    let mut push = |name: &str, value: String| {
        response.headers.push((name.to_owned(), value.into_bytes()));
    };
    push("Upgrade", "websocket".into());
    push("Connection", "Upgrade".into());
    push("Sec-WebSocket-Accept", accept_key(key));
    let offered: Vec<&str> = request.protocols().collect();
    if let Some(chosen) = protocols.iter().find(|p| offered.contains(p)) {
        push("Sec-WebSocket-Protocol", (*chosen).to_owned());
    }
    let deflate = config
        .deflate
        .and_then(|c| c.negotiate(request.extensions()));
    if let Some(params) = &deflate {
        push("Sec-WebSocket-Extensions", params.to_string());
    }
    Ok(Negotiated { response, deflate })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ws_proto::DeflateConfig;

    /// A valid upgrade request; `extra` replaces the headers of its names,
    /// and an empty value removes one.
    fn request(extra: &[(&str, &str)]) -> Request {
        let defaults = [
            ("Host", "localhost"),
            ("Upgrade", "websocket"),
            ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ];
        let headers = defaults
            .iter()
            .filter(|(n, _)| !extra.iter().any(|(e, _)| e == n))
            .chain(extra.iter().filter(|(_, v)| !v.is_empty()))
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect();
        Request {
            method: "GET".into(),
            path: "/".into(),
            headers,
        }
    }

    fn deflate() -> Config {
        Config {
            deflate: Some(DeflateConfig::default()),
            ..Config::default()
        }
    }

    #[test]
    fn no_offer_no_extension() {
        let n = negotiate(&request(&[]), &deflate(), &[]).unwrap();
        assert_eq!(n.extensions(), None);
        assert_eq!(n.deflate(), None);
        assert_eq!(n.protocol(), None);
        let names: Vec<&str> = n.headers().map(|(name, _)| name).collect();
        assert_eq!(names, ["Upgrade", "Connection", "Sec-WebSocket-Accept"]);
    }

    #[test]
    fn offer_without_config_is_declined() {
        let offer = [("Sec-WebSocket-Extensions", "permessage-deflate")];
        let n = negotiate(&request(&offer), &Config::default(), &[]).unwrap();
        assert_eq!(n.extensions(), None);
        let n = negotiate(&request(&offer), &deflate(), &[]).unwrap();
        assert_eq!(n.extensions(), Some("permessage-deflate"));
        assert!(n.deflate().is_some());
    }

    #[test]
    fn invalid_offers_are_skipped() {
        let offer = [(
            "Sec-WebSocket-Extensions",
            "x-foo, permessage-deflate; bogus, permessage-deflate; server_no_context_takeover",
        )];
        let n = negotiate(&request(&offer), &deflate(), &[]).unwrap();
        assert_eq!(
            n.extensions(),
            Some("permessage-deflate; server_no_context_takeover")
        );
    }

    #[test]
    fn protocol_by_server_preference() {
        let offer = [("Sec-WebSocket-Protocol", "a, b")];
        let n = negotiate(&request(&offer), &Config::default(), &["c", "b", "a"]).unwrap();
        assert_eq!(n.protocol(), Some("b"));
        let n = negotiate(&request(&offer), &Config::default(), &["c"]).unwrap();
        assert_eq!(n.protocol(), None);
    }

    #[test]
    fn bad_requests_have_a_status() {
        let mut post = request(&[]);
        post.method = "POST".into();
        assert_eq!(negotiate(&post, &deflate(), &[]).unwrap_err().status(), 405);
        let plain = request(&[("Upgrade", "")]);
        assert_eq!(
            negotiate(&plain, &deflate(), &[]).unwrap_err().status(),
            400
        );
        let no_key = request(&[("Sec-WebSocket-Key", "")]);
        assert_eq!(
            negotiate(&no_key, &deflate(), &[]).unwrap_err().status(),
            400
        );
        let e =
            negotiate(&request(&[("Sec-WebSocket-Version", "8")]), &deflate(), &[]).unwrap_err();
        assert_eq!(e.status(), 426);
        assert_eq!(
            e.headers().collect::<Vec<_>>(),
            [("Sec-WebSocket-Version", "13")]
        );
        assert_eq!(
            negotiate(&post, &deflate(), &[])
                .unwrap_err()
                .headers()
                .count(),
            0
        );
    }
}
