//! The opening handshake: the HTTP [`Request`] and [`Response`] and the [`Handshake`] pair
//! handed to `Handler::on_open`.
//!
//! Parsing and formatting are done by the core (`ws_proto`); the types here wrap the core's
//! request and response and add ws-rs's accessors.

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::str::from_utf8;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use ws_proto::extension_name;

use crate::random;
use crate::result::{Error, ErrorKind, Result};

/// The most header fields [`Request::parse`] and [`Response::parse`] accept, as in ws-rs.
/// Connections use `Settings::max_headers` instead.
const MAX_HEADERS: usize = 124;

const PROTOCOL: &str = "Sec-WebSocket-Protocol";
const EXTENSIONS: &str = "Sec-WebSocket-Extensions";

/// The HTTP request of the opening handshake: what a client sends to ask for a WebSocket
/// connection (RFC 6455 section 4.1).
///
/// A server sees it in `Handler::on_request`; a client builds it with
/// [`Request::from_url`] and may edit it in `Handler::build_request`. Header names compare
/// ASCII case-insensitively; values are raw bytes.
///
/// Differences from ws-rs: [`Request::remove_protocol`] and [`Request::remove_extension`]
/// remove the given item (ws-rs's versions kept only the given item and removed the others);
/// the list accessors read every instance of their header, not just the first, and skip empty
/// items; [`Request::from_url`] adds the port to `Host` only when it is not the scheme's
/// default and sends `Authorization` for credentials in the URL; the `Display` output
/// replaces bytes that are not UTF-8 instead of failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    inner: ws_proto::Request,
    /// A client's: the URL the request went to (see [`Request::url`]).
    url: Option<Box<url::Url>>,
}

/// The HTTP response of the opening handshake: what a server answers (RFC 6455 section 4.2.2).
///
/// A server builds it with [`Response::from_request`] (`101 Switching Protocols`) or, to
/// refuse the connection, [`Response::new`] with an error status, and may edit it in
/// `Handler::on_request`; a client sees it in `Handler::on_response`. Header names compare
/// ASCII case-insensitively; values are raw bytes.
///
/// Differences from ws-rs: [`Response::header`] is public; [`Response::remove_extension`]
/// removes the given extension (ws-rs's version kept only that extension); the
/// `Display` output replaces bytes that are not UTF-8 instead of failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    inner: ws_proto::Response,
}

/// Both halves of a completed opening handshake and the addresses of the connection, handed
/// to `Handler::on_open`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The HTTP request that opened the handshake.
    pub request: Request,
    /// The HTTP response that completed it.
    pub response: Response,
    /// The socket address of the other endpoint, when known. May be an intermediary such as
    /// a proxy; see [`Handshake::remote_addr`] for the most likely client address.
    pub peer_addr: Option<SocketAddr>,
    /// The socket address of this endpoint, when known.
    pub local_addr: Option<SocketAddr>,
}

impl Handshake {
    /// The most likely IP address of the client: the one proxy headers name
    /// ([`Request::client_addr`]), else the IP of [`peer_addr`](Handshake::peer_addr).
    ///
    /// Meant for servers; a client wanting the server's address should read `peer_addr`.
    /// The address is not checked to be a valid IP address.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`] when a proxy header is not valid UTF-8.
    pub fn remote_addr(&self) -> Result<Option<String>> {
        if let Some(addr) = self.request.client_addr()? {
            return Ok(Some(addr.to_owned()));
        }
        Ok(self.peer_addr.map(|addr| addr.ip().to_string()))
    }
}

impl Request {
    /// The value of the first header field called `header` (ASCII case-insensitive).
    pub fn header(&self, header: &str) -> Option<&Vec<u8>> {
        find(&self.inner.headers, header)
    }

    /// The value of the first header field called `header` (ASCII case-insensitive), for
    /// editing.
    pub fn header_mut(&mut self, header: &str) -> Option<&mut Vec<u8>> {
        find_mut(&mut self.inner.headers, header)
    }

    /// All header fields as `(name, value)` pairs, in order.
    pub fn headers(&self) -> &Vec<(String, Vec<u8>)> {
        &self.inner.headers
    }

    /// All header fields as `(name, value)` pairs, for editing.
    pub fn headers_mut(&mut self) -> &mut Vec<(String, Vec<u8>)> {
        &mut self.inner.headers
    }

    /// The `Origin` header, which browsers send.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`] when it is not valid UTF-8.
    pub fn origin(&self) -> Result<Option<&str>> {
        self.header("origin")
            .map(|origin| Ok(from_utf8(origin)?))
            .transpose()
    }

    /// The client's `Sec-WebSocket-Key`, as sent (base64 text).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the header is missing.
    pub fn key(&self) -> Result<&Vec<u8>> {
        self.header("sec-websocket-key").ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                "the Sec-WebSocket-Key header is missing",
            )
        })
    }

    /// The `Sec-WebSocket-Accept` value a server must answer with: base64 of the SHA-1 of the
    /// key followed by the RFC 6455 GUID (section 4.2.2).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the `Sec-WebSocket-Key` header is missing.
    pub fn hashed_key(&self) -> Result<String> {
        Ok(ws_proto::accept_key(self.key()?))
    }

    /// The `Sec-WebSocket-Version` header (`"13"` for RFC 6455).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the header is missing, [`ErrorKind::Encoding`] when it is
    /// not valid UTF-8.
    pub fn version(&self) -> Result<&str> {
        match self.header("sec-websocket-version") {
            Some(version) => Ok(from_utf8(version)?),
            None => Err(Error::new(
                ErrorKind::Protocol,
                "the Sec-WebSocket-Version header is missing",
            )),
        }
    }

    /// The request method (`"GET"` for a valid handshake).
    pub fn method(&self) -> &str {
        &self.inner.method
    }

    /// The request target: path and query, such as `/chat?room=1`.
    pub fn resource(&self) -> &str {
        &self.inner.path
    }

    /// The subprotocols the client offers (`Sec-WebSocket-Protocol`), in order of
    /// preference. Reads every instance of the header; empty items are skipped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`] when the header is not valid UTF-8.
    pub fn protocols(&self) -> Result<Vec<&str>> {
        list_items(&self.inner.headers, PROTOCOL)
    }

    /// Offers one more subprotocol, appended to the first `Sec-WebSocket-Protocol` header
    /// (or a new one). Offering the same protocol twice lists it twice.
    pub fn add_protocol(&mut self, protocol: &str) {
        add_item(&mut self.inner.headers, PROTOCOL, protocol);
    }

    /// Withdraws a subprotocol: removes every item equal to `protocol` from every
    /// `Sec-WebSocket-Protocol` header, and drops a header that becomes empty.
    ///
    /// Differs from ws-rs, whose version kept only the given protocol and removed all the
    /// others.
    pub fn remove_protocol(&mut self, protocol: &str) {
        let protocol = protocol.trim();
        remove_items(&mut self.inner.headers, PROTOCOL, |item| item == protocol);
    }

    /// The extensions the client offers (`Sec-WebSocket-Extensions`), each with its
    /// parameters (such as `permessage-deflate; client_max_window_bits`), in order of
    /// preference. Reads every instance of the header; empty items are skipped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`] when the header is not valid UTF-8.
    pub fn extensions(&self) -> Result<Vec<&str>> {
        list_items(&self.inner.headers, EXTENSIONS)
    }

    /// Offers one more extension (with its parameters, if any), appended to the first
    /// `Sec-WebSocket-Extensions` header (or a new one). The order of offers is their order of
    /// preference; adding the same extension twice lists it twice.
    pub fn add_extension(&mut self, ext: &str) {
        add_item(&mut self.inner.headers, EXTENSIONS, ext);
    }

    /// Withdraws an extension: removes every offer of the extension named `ext` (whatever
    /// its parameters; parameters given in `ext` are ignored) from every
    /// `Sec-WebSocket-Extensions` header, and drops a header that becomes empty.
    ///
    /// Differs from ws-rs, whose version kept only the offers of `ext` (any offer starting
    /// with `ext`) and removed all the other extensions.
    pub fn remove_extension(&mut self, ext: &str) {
        let name = extension_name(ext);
        remove_items(&mut self.inner.headers, EXTENSIONS, |item| {
            extension_name(item).eq_ignore_ascii_case(name)
        });
    }

    /// The most likely address of the client, according to proxy headers: the first address
    /// of `X-Forwarded-For`, else the `for` parameter of the first element of `Forwarded`
    /// (RFC 7239) that has one, without quotes (IPv6 addresses keep their brackets, and a
    /// port, if given, stays attached). `None` when neither header names one.
    ///
    /// The address is not checked to be a valid IP address, and these headers are only as
    /// trustworthy as the proxies that set them.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`] when the header read is not valid UTF-8.
    pub fn client_addr(&self) -> Result<Option<&str>> {
        if let Some(forwarded_for) = self.header("x-forwarded-for") {
            return Ok(ws_proto::header_list_items(from_utf8(forwarded_for)?).next());
        }
        if let Some(forwarded) = self.header("forwarded") {
            for element in ws_proto::header_list_items(from_utf8(forwarded)?) {
                for pair in element.split(';') {
                    let Some((name, value)) = pair.split_once('=') else {
                        continue;
                    };
                    if name.trim().eq_ignore_ascii_case("for") {
                        let value = value.trim();
                        let value = value
                            .strip_prefix('"')
                            .and_then(|v| v.strip_suffix('"'))
                            .unwrap_or(value);
                        return Ok((!value.is_empty()).then_some(value));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Parses a handshake request from the start of `buf`: `Ok(None)` while the request is
    /// incomplete. At most 124 header fields are accepted, as in ws-rs.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when `buf` does not start with a valid HTTP/1.1 request,
    /// [`ErrorKind::Capacity`] when it has more than 124 header fields. (ws-rs reported
    /// malformed HTTP as [`ErrorKind::Http`]; the core parser does not expose the `httparse`
    /// error.)
    pub fn parse(buf: &[u8]) -> Result<Option<Request>> {
        Ok(ws_proto::Request::parse(buf, MAX_HEADERS)?.map(|(inner, _)| Request::from(inner)))
    }

    /// Builds the handshake request a client sends to connect to `url` (`ws://` or
    /// `wss://`):
    ///
    /// - `GET` with the URL's path and query (no fragment);
    /// - `Host`: the URL's host, with `:port` when the port is not the scheme's default
    ///   (80 for `ws`, 443 for `wss`);
    /// - `Upgrade: websocket`, `Connection: Upgrade`, `Sec-WebSocket-Version: 13`;
    /// - `Sec-WebSocket-Key`: 16 bytes from the OS random source (`ws_proto::os_seed`),
    ///   base64-encoded;
    /// - `Authorization: Basic ...` when the URL has a user name or password
    ///   (`ws://user:pass@host/`), percent-decoded.
    ///
    /// The request is built by the core (`ws_proto::Request::client_for_url`), this method
    /// adds the key. A connection started with this request keeps its key.
    ///
    /// Differences from ws-rs: ws-rs always wrote the port into `Host`, accepted any scheme
    /// and ignored credentials in the URL.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Internal`] when the scheme is not `ws` or `wss` or the URL has no host;
    /// [`ErrorKind::Io`] when the OS random source fails (a predictable key is never sent).
    pub fn from_url(url: &url::Url) -> Result<Request> {
        let mut inner = ws_proto::Request::client_for_url(url)
            .map_err(|err| Error::new(ErrorKind::Internal, err.to_string()))?;
        let mut key = [0u8; 16];
        random::fill(&mut key).map_err(|e| Error::from(std::io::Error::from(e)))?;
        inner
            .headers
            .push(("Sec-WebSocket-Key".into(), BASE64.encode(key).into_bytes()));
        Ok(Request::from(inner))
    }

    /// The URL a client connection's request went to: the one given to `connect`, or after
    /// redirects the last one, where the connection opened (`Handshake::request` in
    /// `on_open`). `None` on a server, and for a request no connection has sent yet.
    ///
    /// ```
    /// struct Client;
    ///
    /// impl ws::Handler for Client {
    ///     fn on_open(&mut self, shake: ws::Handshake) -> ws::Result<()> {
    ///         if let Some(url) = shake.request.url() {
    ///             println!("connected to {url}");
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn url(&self) -> Option<&url::Url> {
        self.url.as_deref()
    }

    pub(crate) fn set_url(&mut self, url: Option<Box<url::Url>>) {
        self.url = url;
    }

    pub(crate) fn take_url(&mut self) -> Option<Box<url::Url>> {
        self.url.take()
    }

    /// Writes the request as HTTP/1.1 text to `w`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when writing fails.
    pub fn format<W>(&self, w: &mut W) -> Result<()>
    where
        W: Write,
    {
        write_http(w, |out| self.inner.write_to(out))
    }
}

impl fmt::Display for Request {
    /// The request as HTTP text; bytes that are not UTF-8 are replaced with U+FFFD.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_http(f, |out| self.inner.write_to(out))
    }
}

impl From<ws_proto::Request> for Request {
    fn from(inner: ws_proto::Request) -> Request {
        Request { inner, url: None }
    }
}

impl From<Request> for ws_proto::Request {
    fn from(request: Request) -> ws_proto::Request {
        request.inner
    }
}

impl Response {
    /// Creates a response with the given status, reason phrase and body, and a
    /// `Content-Length` header for the body. Use it to refuse a handshake, for example
    /// `Response::new(404, "Not Found", b"no such room".to_vec())`.
    pub fn new<R>(status: u16, reason: R, body: Vec<u8>) -> Response
    where
        R: Into<String>,
    {
        Response {
            inner: ws_proto::Response {
                status,
                reason: reason.into(),
                headers: vec![("Content-Length".into(), body.len().to_string().into_bytes())],
                body,
            },
        }
    }

    /// Creates the response that accepts `req`: `101 Switching Protocols` with
    /// `Upgrade: websocket`, `Connection: Upgrade` and the `Sec-WebSocket-Accept` computed
    /// from the request's key. No subprotocol or extension is selected; use
    /// [`Response::set_protocol`] and [`Response::add_extension`] to accept some.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the request has no `Sec-WebSocket-Key`.
    pub fn from_request(req: &Request) -> Result<Response> {
        Ok(Response {
            inner: ws_proto::Response {
                status: 101,
                reason: "Switching Protocols".into(),
                headers: vec![
                    ("Upgrade".into(), b"websocket".to_vec()),
                    ("Connection".into(), b"Upgrade".to_vec()),
                    (
                        "Sec-WebSocket-Accept".into(),
                        req.hashed_key()?.into_bytes(),
                    ),
                ],
                body: Vec::new(),
            },
        })
    }

    /// The response body (empty for a `101` response; a parsed response never has one).
    pub fn body(&self) -> &[u8] {
        &self.inner.body
    }

    /// The value of the first header field called `header` (ASCII case-insensitive).
    ///
    /// Private in ws-rs; public here.
    pub fn header(&self, header: &str) -> Option<&Vec<u8>> {
        find(&self.inner.headers, header)
    }

    /// The value of the first header field called `header` (ASCII case-insensitive), for
    /// editing.
    pub fn header_mut(&mut self, header: &str) -> Option<&mut Vec<u8>> {
        find_mut(&mut self.inner.headers, header)
    }

    /// All header fields as `(name, value)` pairs, in order.
    pub fn headers(&self) -> &Vec<(String, Vec<u8>)> {
        &self.inner.headers
    }

    /// All header fields as `(name, value)` pairs, for editing.
    pub fn headers_mut(&mut self) -> &mut Vec<(String, Vec<u8>)> {
        &mut self.inner.headers
    }

    /// The HTTP status code (`101` for an accepted handshake).
    pub fn status(&self) -> u16 {
        self.inner.status
    }

    /// Replaces the HTTP status code. A server refuses the handshake with anything but
    /// `101`.
    pub fn set_status(&mut self, status: u16) {
        self.inner.status = status;
    }

    /// The HTTP reason phrase.
    pub fn reason(&self) -> &str {
        &self.inner.reason
    }

    /// Replaces the HTTP reason phrase.
    pub fn set_reason<R>(&mut self, reason: R)
    where
        R: Into<String>,
    {
        self.inner.reason = reason.into();
    }

    /// The server's `Sec-WebSocket-Accept` value (the hashed key).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the header is missing.
    pub fn key(&self) -> Result<&Vec<u8>> {
        self.header("sec-websocket-accept").ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                "the Sec-WebSocket-Accept header is missing",
            )
        })
    }

    /// The subprotocol the server selected (`Sec-WebSocket-Protocol`), if any.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`] when the header is not valid UTF-8.
    pub fn protocol(&self) -> Result<Option<&str>> {
        self.header("sec-websocket-protocol")
            .map(|protocol| Ok(from_utf8(protocol)?))
            .transpose()
    }

    /// Selects a subprotocol: replaces the value of the `Sec-WebSocket-Protocol` header, or
    /// adds the header.
    pub fn set_protocol(&mut self, protocol: &str) {
        match self.header_mut(PROTOCOL) {
            Some(value) => *value = protocol.as_bytes().to_vec(),
            None => self
                .inner
                .headers
                .push((PROTOCOL.into(), protocol.as_bytes().to_vec())),
        }
    }

    /// The extensions the server accepted (`Sec-WebSocket-Extensions`), each with its
    /// parameters. Reads every instance of the header; empty items are skipped. A client
    /// that cannot work without an extension the server left out should close with
    /// [`CloseCode::Extension`](crate::CloseCode::Extension).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`] when the header is not valid UTF-8.
    pub fn extensions(&self) -> Result<Vec<&str>> {
        list_items(&self.inner.headers, EXTENSIONS)
    }

    /// Accepts one more extension (with its parameters, if any), appended to the first
    /// `Sec-WebSocket-Extensions` header (or a new one). Adding the same extension twice lists
    /// it twice.
    pub fn add_extension(&mut self, ext: &str) {
        add_item(&mut self.inner.headers, EXTENSIONS, ext);
    }

    /// Removes every accepted configuration of the extension named `ext` (parameters given in
    /// `ext` are ignored) from every `Sec-WebSocket-Extensions` header, and drops a header
    /// that becomes empty.
    ///
    /// Differs from ws-rs, whose version kept only `ext` and removed the other extensions.
    pub fn remove_extension(&mut self, ext: &str) {
        let name = extension_name(ext);
        remove_items(&mut self.inner.headers, EXTENSIONS, |item| {
            extension_name(item).eq_ignore_ascii_case(name)
        });
    }

    /// Parses a handshake response (status line and headers; a body is not read) from the
    /// start of `buf`: `Ok(None)` while the response is incomplete. At most 124 header fields
    /// are accepted, as in ws-rs.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when `buf` does not start with a valid HTTP/1.1 response,
    /// [`ErrorKind::Capacity`] when it has more than 124 header fields. (ws-rs reported
    /// malformed HTTP as [`ErrorKind::Http`].)
    pub fn parse(buf: &[u8]) -> Result<Option<Response>> {
        Ok(ws_proto::Response::parse(buf, MAX_HEADERS)?.map(|(inner, _)| Response { inner }))
    }

    /// Writes the response as HTTP/1.1 text, followed by the body, to `w`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when writing fails.
    pub fn format<W>(&self, w: &mut W) -> Result<()>
    where
        W: Write,
    {
        write_http(w, |out| self.inner.write_to(out))
    }
}

impl fmt::Display for Response {
    /// The response as HTTP text; bytes that are not UTF-8 are replaced with U+FFFD.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_http(f, |out| self.inner.write_to(out))
    }
}

impl From<ws_proto::Response> for Response {
    fn from(inner: ws_proto::Response) -> Response {
        Response { inner }
    }
}

impl From<Response> for ws_proto::Response {
    fn from(response: Response) -> ws_proto::Response {
        response.inner
    }
}

/// The first header called `name`, ASCII case-insensitively.
fn find<'h>(headers: &'h [(String, Vec<u8>)], name: &str) -> Option<&'h Vec<u8>> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The first header called `name`, ASCII case-insensitively, for editing.
fn find_mut<'h>(headers: &'h mut [(String, Vec<u8>)], name: &str) -> Option<&'h mut Vec<u8>> {
    headers
        .iter_mut()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The comma-separated items of every header called `name`, trimmed, empty ones skipped.
fn list_items<'h>(headers: &'h [(String, Vec<u8>)], name: &str) -> Result<Vec<&'h str>> {
    let mut items = Vec::new();
    for (key, value) in headers {
        if key.eq_ignore_ascii_case(name) {
            items.extend(ws_proto::header_list_items(from_utf8(value)?));
        }
    }
    Ok(items)
}

/// Appends `item` to the first header called `name`, or adds the header.
fn add_item(headers: &mut Vec<(String, Vec<u8>)>, name: &str, item: &str) {
    match find_mut(headers, name) {
        Some(value) if !value.trim_ascii().is_empty() => {
            value.extend_from_slice(b", ");
            value.extend_from_slice(item.as_bytes());
        }
        Some(value) => *value = item.as_bytes().to_vec(),
        None => headers.push((name.into(), item.as_bytes().to_vec())),
    }
}

/// Removes the items for which `matches` is true from every header called `name` and drops
/// headers left empty. Headers that are not UTF-8 are left alone.
fn remove_items(headers: &mut Vec<(String, Vec<u8>)>, name: &str, matches: impl Fn(&str) -> bool) {
    headers.retain_mut(|(key, value)| {
        if !key.eq_ignore_ascii_case(name) {
            return true;
        }
        let Ok(text) = from_utf8(value) else {
            return true;
        };
        let kept: Vec<&str> = ws_proto::header_list_items(text)
            .filter(|item| !matches(item))
            .collect();
        if kept.is_empty() {
            return false;
        }
        *value = kept.join(", ").into_bytes();
        true
    });
}

/// Writes the HTTP text that `write_to` produces to `w`.
fn write_http<W: Write>(w: &mut W, write_to: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
    let mut out = Vec::new();
    write_to(&mut out);
    w.write_all(&out)?;
    Ok(())
}

/// Shows the HTTP text that `write_to` produces, with bytes that are not
/// UTF-8 replaced by U+FFFD.
fn display_http(f: &mut fmt::Formatter<'_>, write_to: impl FnOnce(&mut Vec<u8>)) -> fmt::Result {
    let mut out = Vec::new();
    write_to(&mut out);
    f.write_str(&String::from_utf8_lossy(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT_REQUEST: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    fn request() -> Request {
        Request::parse(CLIENT_REQUEST)
            .expect("valid request")
            .expect("complete request")
    }

    fn request_with(extra: &str) -> Request {
        let text = format!(
            "GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: q16eN37NCfVwUChPvBdk4g==\r\n{extra}\r\n"
        );
        Request::parse(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn request_accessors() {
        let req = request();
        assert_eq!(req.method(), "GET");
        assert_eq!(req.resource(), "/chat?room=1");
        assert_eq!(req.origin().unwrap(), Some("http://example.com"));
        assert_eq!(req.version().unwrap(), "13");
        assert_eq!(req.key().unwrap(), b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(req.header("HOST").unwrap(), b"server.example.com");
        assert_eq!(req.protocols().unwrap(), ["chat", "superchat"]);
        assert_eq!(
            req.extensions().unwrap(),
            ["permessage-deflate; client_max_window_bits", "x-webkit"]
        );
        assert_eq!(req.headers().len(), 8);
    }

    #[test]
    fn hashed_key_is_the_rfc_example() {
        // RFC 6455 section 1.3.
        assert_eq!(
            request().hashed_key().unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn missing_headers_are_errors_not_panics() {
        let req = Request::parse(b"GET / HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert!(matches!(
            req.key().map_err(|e| e.kind),
            Err(ErrorKind::Protocol)
        ));
        assert!(matches!(
            req.hashed_key().map_err(|e| e.kind),
            Err(ErrorKind::Protocol)
        ));
        assert!(matches!(
            req.version().map_err(|e| e.kind),
            Err(ErrorKind::Protocol)
        ));
        assert_eq!(req.origin().unwrap(), None);
        assert!(req.protocols().unwrap().is_empty());
        assert!(req.extensions().unwrap().is_empty());
        assert_eq!(req.client_addr().unwrap(), None);
        assert!(Response::from_request(&req).is_err());
    }

    #[test]
    fn partial_input_is_none_and_garbage_is_an_error() {
        for end in 0..CLIENT_REQUEST.len() {
            assert!(
                Request::parse(&CLIENT_REQUEST[..end]).unwrap().is_none(),
                "prefix of {end} bytes"
            );
        }
        assert!(matches!(
            Request::parse(b"\x00\x01 garbage\r\n\r\n").map_err(|e| e.kind),
            Err(ErrorKind::Protocol)
        ));
        assert!(matches!(
            Response::parse(b"HTTP/1.1 abc\r\n\r\n").map_err(|e| e.kind),
            Err(ErrorKind::Protocol)
        ));
        let many: String = (0..125).map(|i| format!("X-{i}: v\r\n")).collect();
        let text = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(
            Request::parse(text.as_bytes()).map_err(|e| e.kind),
            Err(ErrorKind::Capacity)
        ));
    }

    #[test]
    fn request_round_trips_through_format_and_parse() {
        let req = request();
        let mut out = Vec::new();
        req.format(&mut out).unwrap();
        let again = Request::parse(&out).unwrap().unwrap();
        assert_eq!(again, req);
        assert_eq!(req.to_string().as_bytes(), &out[..]);
        assert!(req.to_string().starts_with("GET /chat?room=1 HTTP/1.1\r\n"));
    }

    #[test]
    fn response_from_request_round_trips() {
        let res = Response::from_request(&request()).unwrap();
        assert_eq!(res.status(), 101);
        assert_eq!(res.reason(), "Switching Protocols");
        assert_eq!(res.key().unwrap(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(res.protocol().unwrap(), None);
        assert!(res.body().is_empty());

        let mut out = Vec::new();
        res.format(&mut out).unwrap();
        let again = Response::parse(&out).unwrap().unwrap();
        assert_eq!(again, res);
        assert_eq!(res.to_string().as_bytes(), &out[..]);
    }

    #[test]
    fn response_new_has_content_length_and_body() {
        let res = Response::new(404, "Not Found", b"no such room".to_vec());
        assert_eq!(res.status(), 404);
        assert_eq!(res.body(), b"no such room");
        assert_eq!(res.header("content-length").unwrap(), b"12");
        let mut out = Vec::new();
        res.format(&mut out).unwrap();
        assert!(out.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
        assert!(out.ends_with(b"\r\n\r\nno such room"));
    }

    #[test]
    fn response_setters() {
        let mut res = Response::from_request(&request()).unwrap();
        res.set_status(400);
        res.set_reason("Bad Request");
        assert_eq!((res.status(), res.reason()), (400, "Bad Request"));

        res.set_protocol("chat");
        assert_eq!(res.protocol().unwrap(), Some("chat"));
        res.set_protocol("superchat");
        assert_eq!(res.protocol().unwrap(), Some("superchat"));
        assert_eq!(
            res.headers()
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(PROTOCOL))
                .count(),
            1
        );

        res.add_extension("permessage-deflate");
        res.add_extension("x-webkit; a=1");
        assert_eq!(
            res.extensions().unwrap(),
            ["permessage-deflate", "x-webkit; a=1"]
        );
        res.remove_extension("permessage-deflate");
        assert_eq!(res.extensions().unwrap(), ["x-webkit; a=1"]);
        res.remove_extension("x-webkit");
        assert!(res.extensions().unwrap().is_empty());
        assert!(res.header(EXTENSIONS).is_none());

        res.header_mut("upgrade").unwrap().make_ascii_uppercase();
        assert_eq!(res.header("Upgrade").unwrap(), b"WEBSOCKET");
        res.headers_mut().push(("X-Extra".into(), b"1".to_vec()));
        assert_eq!(res.header("x-extra").unwrap(), b"1");
    }

    #[test]
    fn remove_protocol_removes_only_that_protocol() {
        let mut req = request();
        req.remove_protocol("chat");
        assert_eq!(req.protocols().unwrap(), ["superchat"]);
        req.remove_protocol("unknown");
        assert_eq!(req.protocols().unwrap(), ["superchat"]);
        req.remove_protocol("superchat");
        assert!(req.protocols().unwrap().is_empty());
        assert!(req.header(PROTOCOL).is_none(), "empty header is dropped");
    }

    #[test]
    fn add_protocol_appends_or_creates() {
        let mut req = request_with("");
        req.add_protocol("chat");
        assert_eq!(req.header(PROTOCOL).unwrap(), b"chat");
        req.add_protocol("superchat");
        assert_eq!(req.header(PROTOCOL).unwrap(), b"chat, superchat");
        assert_eq!(req.protocols().unwrap(), ["chat", "superchat"]);
    }

    #[test]
    fn protocol_lists_span_repeated_headers() {
        let mut req =
            request_with("Sec-WebSocket-Protocol: a, b\r\nsec-websocket-protocol: c,,b\r\n");
        assert_eq!(req.protocols().unwrap(), ["a", "b", "c", "b"]);
        req.remove_protocol("b");
        assert_eq!(req.protocols().unwrap(), ["a", "c"]);
        req.remove_protocol("c");
        assert_eq!(req.protocols().unwrap(), ["a"]);
        assert_eq!(req.headers().len(), 3);
    }

    #[test]
    fn remove_extension_removes_every_configuration() {
        let mut req = request();
        req.add_extension("permessage-deflate; server_no_context_takeover");
        req.remove_extension("permessage-deflate");
        assert_eq!(req.extensions().unwrap(), ["x-webkit"]);
        // Only the name counts, and a longer name sharing the prefix is not removed.
        req.add_extension("x-webkit-2");
        req.remove_extension("X-WEBKIT; whatever");
        assert_eq!(req.extensions().unwrap(), ["x-webkit-2"]);
    }

    #[test]
    fn non_utf8_headers_are_errors_not_panics() {
        let mut raw = b"GET / HTTP/1.1\r\nOrigin: \xff\r\nSec-WebSocket-Protocol: \xfe\r\n\
            X-Forwarded-For: \xfd\r\nSec-WebSocket-Version: \xfc\r\n\r\n"
            .to_vec();
        let mut req = Request::parse(&raw).unwrap().unwrap();
        assert!(matches!(
            req.origin().map_err(|e| e.kind),
            Err(ErrorKind::Encoding(_))
        ));
        assert!(matches!(
            req.protocols().map_err(|e| e.kind),
            Err(ErrorKind::Encoding(_))
        ));
        assert!(matches!(
            req.version().map_err(|e| e.kind),
            Err(ErrorKind::Encoding(_))
        ));
        assert!(req.client_addr().is_err());
        req.remove_protocol("x");
        req.add_protocol("y");
        assert!(req.to_string().contains('\u{FFFD}'));
        raw.clear();
        req.format(&mut raw).unwrap();
        assert_eq!(Request::parse(&raw).unwrap().unwrap(), req);
    }

    #[test]
    fn from_url_builds_a_client_request() {
        let url = url::Url::parse("ws://example.com/chat?room=1#frag").unwrap();
        let req = Request::from_url(&url).unwrap();
        assert_eq!(req.method(), "GET");
        assert_eq!(req.resource(), "/chat?room=1");
        assert_eq!(req.header("host").unwrap(), b"example.com");
        assert_eq!(req.header("upgrade").unwrap(), b"websocket");
        assert_eq!(req.header("connection").unwrap(), b"Upgrade");
        assert_eq!(req.version().unwrap(), "13");
        assert!(req.header("authorization").is_none());
        let key = BASE64.decode(req.key().unwrap()).unwrap();
        assert_eq!(key.len(), 16);
        // Keys differ between requests.
        let other = Request::from_url(&url).unwrap();
        assert_ne!(other.key().unwrap(), req.key().unwrap());
        // The built request survives formatting and parsing.
        let mut out = Vec::new();
        req.format(&mut out).unwrap();
        assert_eq!(Request::parse(&out).unwrap().unwrap(), req);
    }

    #[test]
    fn from_url_host_port() {
        let cases = [
            ("ws://example.com:80/", "example.com"),
            ("ws://example.com:8080/", "example.com:8080"),
            ("wss://example.com:443/", "example.com"),
            ("wss://example.com:80/", "example.com:80"),
            ("ws://[::1]:9001", "[::1]:9001"),
            ("ws://127.0.0.1", "127.0.0.1"),
        ];
        for (url, host) in cases {
            let req = Request::from_url(&url::Url::parse(url).unwrap()).unwrap();
            assert_eq!(req.header("Host").unwrap(), host.as_bytes(), "{url}");
            assert_eq!(req.resource(), "/", "{url}");
        }
    }

    #[test]
    fn from_url_userinfo_becomes_basic_auth() {
        let url = url::Url::parse("wss://alad%64in:open%20sesame@example.com:9443/x").unwrap();
        let req = Request::from_url(&url).unwrap();
        assert_eq!(req.header("host").unwrap(), b"example.com:9443");
        // RFC 7617 section 2 example: "Aladdin:open sesame" (case aside).
        assert_eq!(
            req.header("authorization").unwrap(),
            format!("Basic {}", BASE64.encode("aladdin:open sesame")).as_bytes()
        );
        let url = url::Url::parse("ws://user@example.com/").unwrap();
        let req = Request::from_url(&url).unwrap();
        assert_eq!(
            req.header("authorization").unwrap(),
            format!("Basic {}", BASE64.encode("user:")).as_bytes()
        );
    }

    #[test]
    fn from_url_rejects_other_schemes() {
        let url = url::Url::parse("http://example.com/").unwrap();
        assert!(matches!(
            Request::from_url(&url).map_err(|e| e.kind),
            Err(ErrorKind::Internal)
        ));
    }

    fn handshake(extra: &str, peer: Option<&str>) -> Handshake {
        let request = request_with(extra);
        let response = Response::from_request(&request).unwrap();
        Handshake {
            request,
            response,
            peer_addr: peer.map(|p| p.parse().unwrap()),
            local_addr: None,
        }
    }

    #[test]
    fn remote_addr_falls_back_to_peer() {
        let shake = handshake("", Some("127.0.0.1:8888"));
        assert_eq!(shake.remote_addr().unwrap().as_deref(), Some("127.0.0.1"));
        let shake = handshake("", None);
        assert_eq!(shake.remote_addr().unwrap(), None);
    }

    #[test]
    fn remote_addr_prefers_x_forwarded_for() {
        let shake = handshake(
            "X-Forwarded-For: 192.168.1.1, 192.168.1.2, 192.168.1.3\r\n",
            Some("10.0.0.1:1"),
        );
        assert_eq!(shake.remote_addr().unwrap().as_deref(), Some("192.168.1.1"));
    }

    #[test]
    fn remote_addr_reads_forwarded() {
        let shake = handshake(
            "Forwarded: by=192.168.1.1; for=192.0.2.43, for=\"[2001:db8:cafe::17]\", for=unknown\r\n",
            None,
        );
        assert_eq!(shake.remote_addr().unwrap().as_deref(), Some("192.0.2.43"));
        let shake = handshake("Forwarded: For=\"[2001:db8:cafe::17]:4711\"\r\n", None);
        assert_eq!(
            shake.remote_addr().unwrap().as_deref(),
            Some("[2001:db8:cafe::17]:4711")
        );
        let shake = handshake("Forwarded: by=10.0.0.1\r\n", Some("127.0.0.1:1"));
        assert_eq!(shake.remote_addr().unwrap().as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn core_conversions_round_trip() {
        let req = request();
        let core: ws_proto::Request = req.clone().into();
        assert_eq!(Request::from(core), req);
        let res = Response::new(200, "OK", Vec::new());
        let core: ws_proto::Response = res.clone().into();
        assert_eq!(Response::from(core), res);
    }
}
