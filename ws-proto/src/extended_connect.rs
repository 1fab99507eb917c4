//! WebSockets over HTTP/2 (RFC 8441): the extended CONNECT handshake as
//! plain values, with no HTTP/2 library in sight.
//!
//! Over HTTP/2 a WebSocket is one stream of a shared connection. The client
//! opens it with an *extended CONNECT* (`:method CONNECT`, `:protocol
//! websocket`, `:scheme`, `:path`, `:authority`), once the server has
//! advertised `SETTINGS_ENABLE_CONNECT_PROTOCOL`; the server answers `200`.
//! There is no `Upgrade`, `Connection`, `Sec-WebSocket-Key` nor
//! `Sec-WebSocket-Accept` (RFC 8441 section 5); `Sec-WebSocket-Version`,
//! `-Protocol` and `-Extensions` mean what they mean in HTTP/1.1, and once
//! the stream is open its DATA carries ordinary RFC 6455 frames, the
//! client's masked as always.
//!
//! The pieces, in the order they are used:
//!
//! 1. client: [`ConnectRequest::client`] (and [`ConnectRequest::offer`] for
//!    subprotocols and permessage-deflate) gives the pseudo-headers and
//!    headers to send;
//! 2. server: [`ConnectRequest::accept`] checks what arrived and returns
//!    the [`ConnectResponse`] to send and the [`Agreement`], or a
//!    [`HandshakeError`] whose [`status`](HandshakeError::status) and
//!    [`ConnectResponse::for_error`] answer it;
//! 3. client: [`ConnectResponse::check`] checks the answer and returns the
//!    [`Agreement`];
//! 4. both: [`Agreement::connection`] is the established [`Connection`],
//!    fed with the stream's DATA.
//!
//! The HTTP/2 layer (framing, HPACK, flow control, the SETTINGS) is the
//! caller's: `ws-tokio`'s `http2` feature uses hyper and h2.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use ws_proto::{Config, ConnectRequest, DeflateConfig, Role};
//!
//! let config = Arc::new(Config { deflate: Some(DeflateConfig::default()), ..Config::default() });
//! // The client's request.
//! let mut request = ConnectRequest::client("wss://example.com/chat").unwrap();
//! request.offer(&config, &["v2.chat"]);
//! assert_eq!((request.method.as_str(), request.scheme.as_str()), ("CONNECT", "https"));
//! assert_eq!(request.protocol.as_deref(), Some("websocket"));
//!
//! // The server: checks, chooses, answers 200.
//! let (response, agreed) = request.accept(&config, &["v2.chat"]).unwrap();
//! assert_eq!(response.status, 200);
//! assert_eq!(response.protocol(), Some("v2.chat"));
//! let server = agreed.connection(config.clone(), Role::Server, Instant::now(), [1; 32]);
//!
//! // The client: checks the answer.
//! let agreed = response.check(&request, &config).unwrap();
//! assert!(agreed.deflate.is_some());
//! let client = agreed.connection(config, Role::Client, Instant::now(), [2; 32]);
//! assert!(server.is_open() && client.is_open());
//! ```

use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::connection::{Connection, Opened, Role, check_extensions};
use crate::deflate::{DeflateParams, EXTENSION_NAME};
use crate::error::HandshakeError;
use crate::handshake::{self, Headers, extension_name, header_list_items};

/// The `:protocol` of a WebSocket's extended CONNECT (RFC 8441 section 5).
pub const CONNECT_PROTOCOL: &str = "websocket";

/// Request headers that must appear at most once.
const SINGLE_CONNECT_HEADERS: &[&str] = &["sec-websocket-version"];

/// An RFC 8441 extended CONNECT request: the pseudo-headers as fields, the
/// other headers as name and value (HTTP/2 names are lower case; lookups
/// here ignore case).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectRequest {
    /// `:method`; `CONNECT`.
    pub method: String,
    /// `:protocol`; `websocket`. `None` for a request without it (a plain
    /// CONNECT, which is not a WebSocket).
    pub protocol: Option<String>,
    /// `:scheme`: `https` for a `wss://` WebSocket, `http` for `ws://`.
    pub scheme: String,
    /// `:authority`: host and port, like HTTP/1.1's `Host`.
    pub authority: String,
    /// `:path`: path and query, such as `/chat?room=1`.
    pub path: String,
    /// The regular headers, in order.
    pub headers: Headers,
}

impl ConnectRequest {
    /// The client's request for a `ws://` or `wss://` URL: `CONNECT`,
    /// `:protocol websocket`, `:scheme` `http` or `https`, `:authority`
    /// (with the port when it is not the scheme's default), `:path` with the
    /// query, and `sec-websocket-version: 13`. Add the subprotocols and the
    /// deflate offer with [`offer`](Self::offer).
    ///
    /// ```
    /// let req = ws_proto::ConnectRequest::client("ws://example.com:8080/chat?x=1").unwrap();
    /// assert_eq!(req.scheme, "http");
    /// assert_eq!(req.authority, "example.com:8080");
    /// assert_eq!(req.path, "/chat?x=1");
    /// assert_eq!(req.header_str("sec-websocket-version"), Some("13"));
    /// ```
    pub fn client(url: &str) -> Result<Self, HandshakeError> {
        let url = url::Url::parse(url).map_err(|e| HandshakeError::Url(e.to_string()))?;
        Self::client_for_url(&url)
    }

    /// [`ConnectRequest::client`] for a URL already parsed. User
    /// information in the URL becomes `authorization: Basic`, as in
    /// [`Request::client`](crate::Request::client).
    pub fn client_for_url(url: &url::Url) -> Result<Self, HandshakeError> {
        let http = crate::Request::client_for_url(url)?;
        let scheme = if url.scheme() == "wss" {
            "https"
        } else {
            "http"
        };
        let mut headers: Headers = vec![("sec-websocket-version".into(), b"13".to_vec())];
        if let Some(auth) = http.header("Authorization") {
            headers.push(("authorization".into(), auth.to_vec()));
        }
        Ok(Self {
            method: "CONNECT".into(),
            protocol: Some(CONNECT_PROTOCOL.into()),
            scheme: scheme.into(),
            authority: http.header_str("Host").unwrap_or_default().to_owned(),
            path: http.path,
            headers,
        })
    }

    /// Adds the client's offers: `sec-websocket-protocol` with `protocols`
    /// (when not empty) and, with [`Config::deflate`] set, the
    /// permessage-deflate offer unless the request offers it already.
    pub fn offer(&mut self, config: &Config, protocols: &[&str]) -> &mut Self {
        if !protocols.is_empty() {
            self.headers.push((
                "sec-websocket-protocol".into(),
                protocols.join(", ").into_bytes(),
            ));
        }
        if let Some(deflate) = &config.deflate {
            let offered = self
                .extensions()
                .any(|e| extension_name(e).eq_ignore_ascii_case(EXTENSION_NAME));
            if !offered {
                self.headers.push((
                    "sec-websocket-extensions".into(),
                    deflate.offer().into_bytes(),
                ));
            }
        }
        self
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        handshake::find(&self.headers, name)
    }

    /// The first value of a header as text, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The subprotocols offered in `sec-websocket-protocol`, in order.
    pub fn protocols(&self) -> impl Iterator<Item = &str> {
        handshake::tokens(&self.headers, "sec-websocket-protocol")
    }

    /// The extension offers in `sec-websocket-extensions`, one per offer.
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        handshake::tokens(&self.headers, "sec-websocket-extensions")
    }

    /// The `origin` header, if any (browsers send it over HTTP/2 too).
    pub fn origin(&self) -> Option<&str> {
        self.header_str("origin")
    }

    /// Server: checks that this is a WebSocket's extended CONNECT (RFC 8441
    /// sections 4 and 5): method `CONNECT` (else 405), `:protocol
    /// websocket`, `:scheme` `http` or `https`, a `:path` and an
    /// `:authority`, `sec-websocket-version: 13` once (else 426), and no
    /// announced body.
    pub fn validate(&self) -> Result<(), HandshakeError> {
        if self.method != "CONNECT" {
            return Err(HandshakeError::NotConnect(self.method.clone()));
        }
        match self.protocol.as_deref() {
            None => return Err(HandshakeError::NotUpgrade),
            Some(p) if !p.eq_ignore_ascii_case(CONNECT_PROTOCOL) => {
                return Err(HandshakeError::ConnectProtocol(p.to_owned()));
            }
            Some(_) => {}
        }
        // Section 4: ":scheme and :path pseudo-headers MUST be included."
        match self.scheme.as_str() {
            "" => return Err(HandshakeError::MissingHeader(":scheme")),
            "http" | "https" => {}
            _ => return Err(HandshakeError::InvalidHeader(":scheme")),
        }
        if self.path.is_empty() {
            return Err(HandshakeError::MissingHeader(":path"));
        }
        if self.authority.is_empty() {
            return Err(HandshakeError::MissingHeader(":authority"));
        }
        handshake::check_single(&self.headers, SINGLE_CONNECT_HEADERS)?;
        handshake::check_no_body(&self.headers)?;
        match self.header("sec-websocket-version") {
            None => Err(HandshakeError::MissingHeader("sec-websocket-version")),
            Some(v) if v.trim_ascii() != b"13" => Err(HandshakeError::UnsupportedVersion(
                String::from_utf8_lossy(v).into_owned(),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Server: [`validate`](Self::validate)s the request, checks its
    /// `origin` against [`Config::origins`] (with `:authority` as the host),
    /// and decides the answer as an HTTP/1.1 accept does with the same
    /// `config`: the first of `protocols` (this server's, in its order of
    /// preference) that the client offered, and permessage-deflate from the
    /// client's offers when [`Config::deflate`] is set
    /// ([`DeflateConfig::negotiate`](crate::DeflateConfig::negotiate)).
    ///
    /// Returns the `200` to send and what was agreed. On an error, answer
    /// with [`ConnectResponse::for_error`] (its status is the error's
    /// [`status`](HandshakeError::status)).
    pub fn accept(
        &self,
        config: &Config,
        protocols: &[&str],
    ) -> Result<(ConnectResponse, Agreement), HandshakeError> {
        self.validate()?;
        config
            .origins
            .check_parts(self.header("origin"), Some(&self.authority))?;
        let mut response = ConnectResponse::new(200);
        let protocol = protocols
            .iter()
            .find(|p| self.protocols().any(|o| o == **p))
            .map(|p| (*p).to_owned());
        if let Some(p) = &protocol {
            response
                .headers
                .push(("sec-websocket-protocol".into(), p.clone().into_bytes()));
        }
        let deflate = config.deflate.and_then(|c| c.negotiate(self.extensions()));
        if let Some(params) = &deflate {
            response.headers.push((
                "sec-websocket-extensions".into(),
                params.to_string().into_bytes(),
            ));
        }
        Ok((response, Agreement { protocol, deflate }))
    }
}

/// The server's answer to an extended CONNECT: `:status` and headers (and,
/// for a refusal, a body).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectResponse {
    /// `:status`: 200 when accepted.
    pub status: u16,
    /// The headers, in order.
    pub headers: Headers,
    /// The body of a refusal (plain text); empty for a 200, whose stream
    /// carries the WebSocket.
    pub body: Vec<u8>,
}

impl ConnectResponse {
    /// The handshake as [`Opened`] says it for HTTP/1.1: the request
    /// (method, path, headers) and this answer, with its reason phrase.
    /// For the `Opened` a runtime hands out with a WebSocket established
    /// over HTTP/2, on either side.
    pub fn opened(self, request: ConnectRequest) -> Opened {
        Opened {
            request: Some(crate::Request {
                method: request.method,
                path: request.path,
                headers: request.headers,
            }),
            response: crate::Response {
                status: self.status,
                reason: crate::reason_phrase(self.status).to_owned(),
                headers: self.headers,
                body: self.body,
            },
        }
    }
    /// A response with a status, no headers and no body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The refusal for a handshake error: its status, the message as a
    /// `text/plain` body, and `sec-websocket-version: 13` with a 426
    /// (RFC 6455 section 4.4).
    pub fn for_error(error: &HandshakeError) -> Self {
        let mut res = Self::new(error.status());
        res.headers
            .push(("content-type".into(), b"text/plain; charset=utf-8".to_vec()));
        if matches!(error, HandshakeError::UnsupportedVersion(_)) {
            res.headers
                .push(("sec-websocket-version".into(), b"13".to_vec()));
        }
        res.body = format!("{error}\n").into_bytes();
        res
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        handshake::find(&self.headers, name)
    }

    /// The first value of a header as text, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The subprotocol chosen in `sec-websocket-protocol`, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.header_str("sec-websocket-protocol").map(str::trim)
    }

    /// The extensions accepted in `sec-websocket-extensions`.
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        handshake::tokens(&self.headers, "sec-websocket-extensions")
    }

    /// Client: checks the server's answer to `request`: a 2xx status
    /// (RFC 9113 section 8.5; anything else is
    /// [`HandshakeError::ConnectStatus`]), a subprotocol among those
    /// offered, and extensions as the HTTP/1.1 client checks them (only
    /// permessage-deflate, only when configured, once, and accepting one of
    /// the offers). Returns what was agreed.
    pub fn check(
        &self,
        request: &ConnectRequest,
        config: &Config,
    ) -> Result<Agreement, HandshakeError> {
        if !(200..300).contains(&self.status) {
            return Err(HandshakeError::ConnectStatus(self.status));
        }
        let protocol = match self.header_str("sec-websocket-protocol") {
            None => None,
            Some(p) => {
                let p = p.trim();
                let mut items = header_list_items(p);
                if items.next() != Some(p) || !request.protocols().any(|o| o == p) {
                    return Err(HandshakeError::UnofferedProtocol(p.to_owned()));
                }
                Some(p.to_owned())
            }
        };
        let deflate = check_extensions(config, request.extensions(), self.extensions())?;
        Ok(Agreement { protocol, deflate })
    }
}

/// What both ends agreed on in an extended CONNECT: the subprotocol and the
/// permessage-deflate parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Agreement {
    /// The subprotocol chosen, if any.
    pub protocol: Option<String>,
    /// The permessage-deflate parameters, as the server's answer states
    /// them, if agreed.
    pub deflate: Option<DeflateParams>,
}

impl Agreement {
    /// The established connection over the stream, for `role`: open at
    /// once, compressing as agreed, masking as RFC 6455 says (the client
    /// masks, the server does not). Feed it the stream's DATA with
    /// [`Connection::handle_input`] and write what
    /// [`Connection::poll_transmit`] gives as DATA.
    pub fn connection(
        &self,
        config: Arc<Config>,
        role: Role,
        now: Instant,
        seed: [u8; 32],
    ) -> Connection {
        match self.deflate {
            Some(params) => Connection::established_with_deflate(config, role, now, seed, params),
            None => Connection::established(config, role, now, seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeflateConfig, Event, Message, OriginPolicy, Transmit};

    fn deflate() -> Config {
        Config {
            deflate: Some(DeflateConfig::default()),
            ..Config::default()
        }
    }

    fn request() -> ConnectRequest {
        ConnectRequest::client("wss://example.com/chat").unwrap()
    }

    #[test]
    fn client_request_has_the_rfc_8441_fields() {
        let mut req = ConnectRequest::client("wss://u:p@example.com:443/a?b=c").unwrap();
        req.offer(&deflate(), &["chat", "superchat"]);
        assert_eq!(req.method, "CONNECT");
        assert_eq!(req.protocol.as_deref(), Some("websocket"));
        assert_eq!(req.scheme, "https");
        assert_eq!(req.authority, "example.com");
        assert_eq!(req.path, "/a?b=c");
        assert_eq!(req.header_str("authorization"), Some("Basic dTpw"));
        assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
        assert_eq!(
            req.extensions().collect::<Vec<_>>(),
            ["permessage-deflate; client_max_window_bits"]
        );
        // No HTTP/1.1 upgrade headers (RFC 8441 section 5; RFC 9113 section
        // 8.2.2 forbids connection-specific ones).
        for name in ["upgrade", "connection", "sec-websocket-key", "host"] {
            assert_eq!(req.header(name), None, "{name}");
        }
        // A second offer does not repeat the deflate offer.
        req.offer(&deflate(), &[]);
        assert_eq!(req.extensions().count(), 1);
        assert!(ConnectRequest::client("http://example.com/").is_err());
    }

    #[test]
    fn bad_requests_have_a_status_and_a_message() {
        let config = Config::default();
        type Change = Box<dyn Fn(&mut ConnectRequest)>;
        let cases: Vec<(Change, u16, &str)> = vec![
            (Box::new(|r| r.method = "GET".into()), 405, "not CONNECT"),
            (Box::new(|r| r.protocol = None), 400, "not a WebSocket"),
            (
                Box::new(|r| r.protocol = Some("webtransport".into())),
                400,
                "not websocket",
            ),
            (Box::new(|r| r.scheme.clear()), 400, ":scheme"),
            (Box::new(|r| r.scheme = "ftp".into()), 400, ":scheme"),
            (Box::new(|r| r.path.clear()), 400, ":path"),
            (Box::new(|r| r.authority.clear()), 400, ":authority"),
            (
                Box::new(|r| r.headers.clear()),
                400,
                "sec-websocket-version",
            ),
            (
                Box::new(|r| r.headers[0].1 = b"8".to_vec()),
                426,
                "unsupported WebSocket version",
            ),
            (
                Box::new(|r| {
                    r.headers
                        .push(("sec-websocket-version".into(), b"13".to_vec()))
                }),
                400,
                "more than once",
            ),
            (
                Box::new(|r| r.headers.push(("content-length".into(), b"5".to_vec()))),
                400,
                "no body",
            ),
        ];
        for (change, status, text) in cases {
            let mut req = request();
            change(&mut req);
            let err = req.accept(&config, &[]).unwrap_err();
            assert_eq!(err.status(), status, "{err}");
            assert!(err.to_string().contains(text), "{err}");
            let res = ConnectResponse::for_error(&err);
            assert_eq!(res.status, status);
            assert_eq!(
                res.header_str("sec-websocket-version").is_some(),
                status == 426
            );
            assert!(String::from_utf8(res.body).unwrap().contains(text));
        }
    }

    #[test]
    fn origin_policy_uses_the_authority() {
        let config = Config {
            origins: OriginPolicy {
                same_host: true,
                allowed: Vec::new(),
            },
            ..Config::default()
        };
        let mut req = request();
        req.headers
            .push(("origin".into(), b"https://example.com".to_vec()));
        assert!(req.accept(&config, &[]).is_ok());
        req.headers[1].1 = b"https://evil.example".to_vec();
        assert_eq!(req.accept(&config, &[]).unwrap_err().status(), 403);
    }

    #[test]
    fn negotiation_matches_http1() {
        let mut req = request();
        req.offer(&deflate(), &["a", "b"]);
        let (res, agreed) = req.accept(&deflate(), &["c", "b", "a"]).unwrap();
        assert_eq!(res.status, 200);
        assert_eq!(res.protocol(), Some("b"));
        assert_eq!(agreed.protocol.as_deref(), Some("b"));
        // The same answer as the HTTP/1.1 negotiation of the same offer.
        let expected = DeflateConfig::default()
            .negotiate(["permessage-deflate; client_max_window_bits"])
            .unwrap();
        assert_eq!(agreed.deflate, Some(expected));
        assert_eq!(
            res.extensions().collect::<Vec<_>>(),
            [expected.to_string().as_str()]
        );
        assert_eq!(res.check(&req, &deflate()).unwrap(), agreed);
        // Without a deflate config the server declines the offer.
        let (res, agreed) = req.accept(&Config::default(), &[]).unwrap();
        assert_eq!(agreed, Agreement::default());
        assert_eq!(res.headers, Headers::new());
    }

    #[test]
    fn client_checks_the_answer() {
        let mut req = request();
        req.offer(&Config::default(), &["a"]);
        let ok = ConnectResponse::new(200);
        assert_eq!(
            ok.check(&req, &Config::default()).unwrap(),
            Agreement::default()
        );
        assert_eq!(
            ConnectResponse::new(404)
                .check(&req, &Config::default())
                .unwrap_err(),
            HandshakeError::ConnectStatus(404)
        );
        let mut other = ok.clone();
        other
            .headers
            .push(("sec-websocket-protocol".into(), b"b".to_vec()));
        assert_eq!(
            other.check(&req, &Config::default()).unwrap_err(),
            HandshakeError::UnofferedProtocol("b".into())
        );
        let mut two = ok.clone();
        two.headers
            .push(("sec-websocket-protocol".into(), b"a, a".to_vec()));
        assert!(two.check(&req, &Config::default()).is_err());
        let mut ext = ok.clone();
        ext.headers.push((
            "sec-websocket-extensions".into(),
            b"permessage-deflate".to_vec(),
        ));
        // Not offered (no deflate config on the client).
        assert_eq!(
            ext.check(&req, &Config::default()).unwrap_err(),
            HandshakeError::UnofferedExtension("permessage-deflate".into())
        );
    }

    /// Two connections made from the agreement talk: the client masks, the
    /// server does not, both compress.
    #[test]
    fn agreed_connections_exchange_compressed_masked_frames() {
        let config = Arc::new(deflate());
        let mut req = request();
        req.offer(&config, &[]);
        let (res, server_side) = req.accept(&config, &[]).unwrap();
        let client_side = res.check(&req, &config).unwrap();
        let now = Instant::now();
        let mut server = server_side.connection(config.clone(), Role::Server, now, [1; 32]);
        let mut client = client_side.connection(config, Role::Client, now, [2; 32]);
        assert!(client.deflate().is_some() && server.deflate().is_some());
        let text = "hello ".repeat(100);
        client.send(now, Message::Text(text.clone())).unwrap();
        let mut wire = Vec::new();
        let mut buf = Vec::new();
        while let Some(t) = client.poll_transmit(now, &mut buf) {
            assert!(matches!(t, Transmit::Data(_)));
            wire.append(&mut buf);
        }
        assert_eq!(wire[0] & 0x40, 0x40, "RSV1: compressed");
        assert_eq!(wire[1] & 0x80, 0x80, "the client masks");
        assert!(wire.len() < text.len());
        server.handle_input(now, &wire);
        match server.poll_event() {
            Some(Event::Message(Message::Text(t))) => assert_eq!(t, text),
            other => panic!("{other:?}"),
        }
        server.send(now, Message::Text("back".into())).unwrap();
        let mut wire = Vec::new();
        while let Some(_t) = server.poll_transmit(now, &mut buf) {
            wire.append(&mut buf);
        }
        assert_eq!(wire[1] & 0x80, 0, "the server does not mask");
        client.handle_input(now, &wire);
        assert!(matches!(
            client.poll_event(),
            Some(Event::Message(Message::Text(t))) if t == "back"
        ));
    }
}
