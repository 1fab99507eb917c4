//! The opening handshake (RFC 6455 section 4): HTTP request and response
//! heads, their parsing and writing, and the WebSocket checks on each.
//!
//! Parsing is incremental in the sense that matters for a server under load:
//! [`HeadReader`] scans each new byte once for the blank line that ends the
//! head, and the head is parsed (with `httparse`) once, when it is complete.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

use crate::error::HandshakeError;

/// The GUID of RFC 6455 section 1.3, appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`:
/// base64(SHA-1(key + GUID)).
///
/// ```
/// // RFC 6455 section 1.3.
/// assert_eq!(ws_proto::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    BASE64.encode(sha.finalize())
}

/// Header lines, in order, with case-insensitive lookup.
pub type Headers = Vec<(String, Vec<u8>)>;

pub(crate) fn find<'a>(headers: &'a Headers, name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// The items of one comma-separated header value (an RFC 9110 section
/// 5.6.1 list, such as `Sec-WebSocket-Protocol: chat, superchat`), trimmed,
/// empty ones skipped.
pub fn header_list_items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// Every comma-separated token of every header called `name`, trimmed,
/// empty ones skipped (RFC 9110 section 5.6.1 lists).
pub(crate) fn tokens<'a>(
    headers: &'a Headers,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
        .flat_map(header_list_items)
}

fn has_token(headers: &Headers, name: &str, token: &str) -> bool {
    tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token))
}

/// Refuses a second line of any header in `names` (case-insensitive).
pub(crate) fn check_single(
    headers: &Headers,
    names: &[&'static str],
) -> Result<(), HandshakeError> {
    for &name in names {
        let count = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count();
        if count > 1 {
            return Err(HandshakeError::DuplicateHeader(name));
        }
    }
    Ok(())
}

/// Refuses a head that announces a body: any `Transfer-Encoding`, or a
/// `Content-Length` other than a single 0. What follows the head of an
/// upgrade is the WebSocket stream.
pub(crate) fn check_no_body(headers: &Headers) -> Result<(), HandshakeError> {
    if find(headers, "Transfer-Encoding").is_some() {
        return Err(HandshakeError::UnexpectedBody);
    }
    let mut lengths = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length"));
    match (lengths.next(), lengths.next()) {
        (None, _) => Ok(()),
        (Some((_, v)), None) if v.trim_ascii() == b"0" => Ok(()),
        _ => Err(HandshakeError::UnexpectedBody),
    }
}

/// The headers of an upgrade request that must appear at most once.
const SINGLE_REQUEST_HEADERS: &[&str] = &[
    "Host",
    "Upgrade",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
];

/// The headers of a 101 response that must appear at most once.
const SINGLE_RESPONSE_HEADERS: &[&str] = &["Upgrade", "Sec-WebSocket-Accept"];

fn write_headers(headers: &Headers, out: &mut Vec<u8>) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
}

/// Whether a header name and value can be written without breaking the head.
pub(crate) fn header_is_valid(name: &str, value: &[u8]) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        && value.iter().all(|&b| b != b'\r' && b != b'\n' && b != 0)
}

fn map_httparse(e: httparse::Error, max_headers: usize) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders { max: max_headers },
        httparse::Error::Version => HandshakeError::HttpVersion,
        other => HandshakeError::Malformed(match other {
            httparse::Error::HeaderName => "invalid header name",
            httparse::Error::HeaderValue => "invalid header value",
            httparse::Error::NewLine => "invalid line ending",
            httparse::Error::Status => "invalid status",
            httparse::Error::Token => "invalid token",
            _ => "invalid request line",
        }),
    }
}

fn collect_headers(raw: &[httparse::Header<'_>]) -> Headers {
    raw.iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

/// An HTTP/1.1 request head, as a client sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The method, such as `GET`.
    pub method: String,
    /// The request target: path and query, such as `/chat?room=1`.
    pub path: String,
    /// The header lines in order.
    pub headers: Headers,
}

impl Request {
    /// Parses a request head from the start of `buf`.
    ///
    /// Returns the request and the length of its head, or `Ok(None)` when
    /// the head is not complete yet. Only HTTP/1.1 is accepted. At most
    /// `max_headers` header lines are allowed.
    pub fn parse(
        buf: &[u8],
        max_headers: usize,
    ) -> Result<Option<(Request, usize)>, HandshakeError> {
        let mut raw = vec![httparse::EMPTY_HEADER; max_headers];
        let mut req = httparse::Request::new(&mut raw);
        match req.parse(buf).map_err(|e| map_httparse(e, max_headers))? {
            httparse::Status::Partial => Ok(None),
            httparse::Status::Complete(len) => {
                if req.version != Some(1) {
                    return Err(HandshakeError::HttpVersion);
                }
                let request = Request {
                    method: req.method.unwrap_or_default().to_owned(),
                    path: req.path.unwrap_or_default().to_owned(),
                    headers: collect_headers(req.headers),
                };
                Ok(Some((request, len)))
            }
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find(&self.headers, name)
    }

    /// The first value of a header as text, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The subprotocols offered in `Sec-WebSocket-Protocol`, in order.
    pub fn protocols(&self) -> impl Iterator<Item = &str> {
        tokens(&self.headers, "Sec-WebSocket-Protocol")
    }

    /// The extension offers in `Sec-WebSocket-Extensions`, one string per
    /// offer with its parameters (for example `permessage-deflate; client_max_window_bits`).
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        tokens(&self.headers, "Sec-WebSocket-Extensions")
    }

    /// The `Origin` header, if any.
    pub fn origin(&self) -> Option<&str> {
        self.header_str("Origin")
    }

    /// The path part of the target, without the query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// The query part of the target, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.path.split_once('?').map(|(_, q)| q)
    }

    /// Appends the head, ending with the blank line.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_headers(&self.headers, out);
        out.extend_from_slice(b"\r\n");
    }

    /// Builds a client's upgrade request for a `ws://` or `wss://` URL:
    /// `GET` with the path and query, `Host` (with the port when it is not
    /// the scheme's default), `Upgrade`, `Connection`, `Sec-WebSocket-Version: 13`,
    /// and `Authorization: Basic` from the URL's user information. The key
    /// is added by [`Connection::client`](crate::Connection::client).
    ///
    /// ```
    /// let req = ws_proto::Request::client("ws://user:pw@example.com:8080/chat?x=1").unwrap();
    /// assert_eq!(req.path, "/chat?x=1");
    /// assert_eq!(req.header_str("Host"), Some("example.com:8080"));
    /// assert_eq!(req.header_str("Authorization"), Some("Basic dXNlcjpwdw=="));
    /// ```
    pub fn client(url: &str) -> Result<Request, HandshakeError> {
        let url = url::Url::parse(url).map_err(|e| HandshakeError::Url(e.to_string()))?;
        Self::client_for_url(&url)
    }

    /// [`Request::client`] for a URL already parsed.
    pub fn client_for_url(url: &url::Url) -> Result<Request, HandshakeError> {
        let default_port = match url.scheme() {
            "ws" => 80,
            "wss" => 443,
            other => {
                return Err(HandshakeError::Url(format!(
                    "scheme {other:?} is not ws or wss"
                )));
            }
        };
        let host = url
            .host_str()
            .ok_or_else(|| HandshakeError::Url("no host".into()))?;
        let host = match url.port() {
            Some(port) if port != default_port => format!("{host}:{port}"),
            _ => host.to_owned(),
        };
        let mut path = url.path().to_owned();
        if path.is_empty() {
            path.push('/');
        }
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let mut headers: Headers = vec![
            ("Host".into(), host.into_bytes()),
            ("Upgrade".into(), b"websocket".to_vec()),
            ("Connection".into(), b"Upgrade".to_vec()),
            ("Sec-WebSocket-Version".into(), b"13".to_vec()),
        ];
        if !url.username().is_empty() || url.password().is_some() {
            let user = percent_decode(url.username());
            let pass = percent_decode(url.password().unwrap_or(""));
            let creds = BASE64.encode([user.as_slice(), b":", pass.as_slice()].concat());
            headers.push((
                "Authorization".into(),
                format!("Basic {creds}").into_bytes(),
            ));
        }
        Ok(Request {
            method: "GET".into(),
            path,
            headers,
        })
    }
}

pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// An HTTP/1.1 response head (and, for a refusal, its body).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The status code, such as 101.
    pub status: u16,
    /// The reason phrase, such as `Switching Protocols`.
    pub reason: String,
    /// The header lines in order.
    pub headers: Headers,
    /// The body, sent after the head. Empty for a 101.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a status, its standard reason phrase, no headers and no body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            reason: reason_phrase(status).to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Parses a response head from the start of `buf` (the body is not read).
    ///
    /// Returns the response and the length of its head, or `Ok(None)` when the
    /// head is not complete yet.
    pub fn parse(
        buf: &[u8],
        max_headers: usize,
    ) -> Result<Option<(Response, usize)>, HandshakeError> {
        let mut raw = vec![httparse::EMPTY_HEADER; max_headers];
        let mut res = httparse::Response::new(&mut raw);
        match res.parse(buf).map_err(|e| map_httparse(e, max_headers))? {
            httparse::Status::Partial => Ok(None),
            httparse::Status::Complete(len) => {
                if res.version != Some(1) {
                    return Err(HandshakeError::HttpVersion);
                }
                let response = Response {
                    status: res.code.unwrap_or_default(),
                    reason: res.reason.unwrap_or_default().to_owned(),
                    headers: collect_headers(res.headers),
                    body: Vec::new(),
                };
                Ok(Some((response, len)))
            }
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find(&self.headers, name)
    }

    /// The first value of a header as text, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The subprotocol chosen in `Sec-WebSocket-Protocol`, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.header_str("Sec-WebSocket-Protocol").map(str::trim)
    }

    /// The extensions accepted in `Sec-WebSocket-Extensions`, one string each.
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        tokens(&self.headers, "Sec-WebSocket-Extensions")
    }

    /// Appends the head and the body. A `Content-Length` header is added when
    /// the status allows a body and none is set.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(self.status.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        write_headers(&self.headers, out);
        let bodiless = self.status < 200 || self.status == 204 || self.status == 304;
        if !bodiless
            && self.header("Content-Length").is_none()
            && self.header("Transfer-Encoding").is_none()
        {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }

    /// The response a server sends for a handshake error: the error's
    /// status, `Connection: close`, the message as a plain text body, and
    /// `Sec-WebSocket-Version: 13` for a version mismatch (section 4.4).
    pub fn for_error(error: &HandshakeError) -> Self {
        let mut res = Response::new(error.status());
        res.headers.push(("Connection".into(), b"close".to_vec()));
        res.headers
            .push(("Content-Type".into(), b"text/plain; charset=utf-8".to_vec()));
        if matches!(error, HandshakeError::UnsupportedVersion(_)) {
            res.headers
                .push(("Sec-WebSocket-Version".into(), b"13".to_vec()));
        }
        res.body = format!("{error}\n").into_bytes();
        res
    }

    /// The response a full server sends instead of upgrading (RFC 6455
    /// section 4.2.2 lets a server answer any HTTP error; RFC 9110 section
    /// 15.6.4): `503 Service Unavailable`, `Retry-After` with `retry_after`
    /// in whole seconds (rounded up, at least 1), `Connection: close` and a
    /// short plain text body. The server closes the connection after it.
    pub fn service_unavailable(retry_after: std::time::Duration) -> Self {
        let secs = retry_after
            .as_secs()
            .saturating_add(u64::from(retry_after.subsec_nanos() > 0))
            .max(1);
        let mut res = Response::new(503);
        res.headers
            .push(("Retry-After".into(), secs.to_string().into_bytes()));
        res.headers.push(("Connection".into(), b"close".to_vec()));
        res.headers
            .push(("Content-Type".into(), b"text/plain; charset=utf-8".to_vec()));
        res.body = b"server full, retry later\n".to_vec();
        res
    }
}

/// The standard reason phrase for common statuses.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Collects a request or response head from a byte stream.
///
/// Each byte is scanned once for the `\r\n\r\n` that ends the head; the
/// head is limited to `max_bytes`. Bytes after the head (the first frames of
/// a client that did not wait, say) stay in the buffer for the caller.
#[derive(Clone, Debug, Default)]
pub struct HeadReader {
    buf: Vec<u8>,
    scanned: usize,
    max_bytes: usize,
}

impl HeadReader {
    /// A reader that refuses heads longer than `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            buf: Vec::new(),
            scanned: 0,
            max_bytes,
        }
    }

    /// Takes more bytes. Returns the length of the head once it is complete.
    pub fn push(&mut self, data: &[u8]) -> Result<Option<usize>, HandshakeError> {
        // Never hold more than the head limit plus what completes it.
        let take = data
            .len()
            .min(self.max_bytes.saturating_sub(self.buf.len()));
        self.buf.extend_from_slice(&data[..take]);
        if let Some(end) = self.find_end() {
            self.buf.extend_from_slice(&data[take..]);
            return Ok(Some(end));
        }
        if self.buf.len() >= self.max_bytes {
            return Err(HandshakeError::TooLarge {
                max: self.max_bytes,
            });
        }
        Ok(None)
    }

    /// The end of the head: the first empty line. Lines end in CRLF or, as
    /// httparse also accepts, in a bare LF. Each byte is looked at about once,
    /// however the head is split.
    fn find_end(&mut self) -> Option<usize> {
        let buf = &self.buf;
        let mut i = self.scanned;
        while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
            let nl = i + off;
            match (buf.get(nl + 1), buf.get(nl + 2)) {
                (Some(b'\n'), _) => return Some(nl + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(nl + 3),
                (None, _) | (Some(b'\r'), None) => {
                    // Undecided until more bytes come: look here again.
                    self.scanned = nl;
                    return None;
                }
                _ => i = nl + 1,
            }
        }
        self.scanned = buf.len();
        None
    }

    /// All bytes received so far (the head and anything after it).
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the buffer, leaving the reader empty.
    pub fn take(&mut self) -> Vec<u8> {
        self.scanned = 0;
        std::mem::take(&mut self.buf)
    }
}

/// Server-side checks of an upgrade request (RFC 6455 section 4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestChecks {
    /// Require the `GET` method (ws-rs's `method_strict`).
    pub method: bool,
    /// Require a key that is 16 bytes in base64 (ws-rs's `key_strict`).
    pub key: bool,
}

impl Default for RequestChecks {
    fn default() -> Self {
        Self {
            method: true,
            key: true,
        }
    }
}

impl Request {
    /// Checks that this is a valid WebSocket upgrade request and returns its
    /// `Sec-WebSocket-Key`.
    pub fn validate_upgrade(&self, checks: RequestChecks) -> Result<&[u8], HandshakeError> {
        if checks.method && self.method != "GET" {
            return Err(HandshakeError::Method(self.method.clone()));
        }
        check_single(&self.headers, SINGLE_REQUEST_HEADERS)?;
        check_no_body(&self.headers)?;
        if !has_token(&self.headers, "Upgrade", "websocket") {
            return Err(if self.header("Upgrade").is_none() {
                HandshakeError::NotUpgrade
            } else {
                HandshakeError::InvalidHeader("Upgrade")
            });
        }
        if !has_token(&self.headers, "Connection", "upgrade") {
            return Err(HandshakeError::InvalidHeader("Connection"));
        }
        if self.header("Host").is_none() {
            return Err(HandshakeError::MissingHeader("Host"));
        }
        match self.header("Sec-WebSocket-Version") {
            None => return Err(HandshakeError::MissingHeader("Sec-WebSocket-Version")),
            Some(v) if v.trim_ascii() != b"13" => {
                return Err(HandshakeError::UnsupportedVersion(
                    String::from_utf8_lossy(v).into_owned(),
                ));
            }
            Some(_) => {}
        }
        let key = self
            .header("Sec-WebSocket-Key")
            .map(<[u8]>::trim_ascii)
            .ok_or(HandshakeError::MissingHeader("Sec-WebSocket-Key"))?;
        let valid = if checks.key {
            key.len() == 24 && BASE64.decode(key).is_ok_and(|k| k.len() == 16)
        } else {
            !key.is_empty()
        };
        if !valid {
            return Err(HandshakeError::InvalidKey);
        }
        Ok(key)
    }
}

/// What a server sends back when it accepts an upgrade.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accept {
    /// The subprotocol chosen; must be one the client offered.
    pub protocol: Option<String>,
    /// Extra headers for the 101 response (cookies, for example).
    pub headers: Headers,
}

/// Builds the 101 response for a request that passed [`Request::validate_upgrade`].
pub(crate) fn accept_response(key: &[u8], accept: &Accept, extensions: Option<&str>) -> Response {
    let mut res = Response::new(101);
    res.headers.push(("Upgrade".into(), b"websocket".to_vec()));
    res.headers.push(("Connection".into(), b"Upgrade".to_vec()));
    res.headers
        .push(("Sec-WebSocket-Accept".into(), accept_key(key).into_bytes()));
    if let Some(p) = &accept.protocol {
        res.headers
            .push(("Sec-WebSocket-Protocol".into(), p.clone().into_bytes()));
    }
    if let Some(e) = extensions {
        res.headers
            .push(("Sec-WebSocket-Extensions".into(), e.as_bytes().to_vec()));
    }
    res.headers.extend(accept.headers.iter().cloned());
    res
}

/// Client-side checks of the server's response (RFC 6455 section 4.1).
pub(crate) fn validate_response(
    res: &Response,
    req: &Request,
    key: &[u8],
) -> Result<(), HandshakeError> {
    if res.status != 101 {
        if let (301 | 302 | 303 | 307 | 308, Some(location)) =
            (res.status, res.header_str("Location"))
        {
            return Err(HandshakeError::Redirect {
                status: res.status,
                location: location.to_owned(),
            });
        }
        return Err(HandshakeError::Status(res.status));
    }
    check_single(&res.headers, SINGLE_RESPONSE_HEADERS)?;
    check_no_body(&res.headers)?;
    if !has_token(&res.headers, "Upgrade", "websocket") {
        return Err(HandshakeError::InvalidHeader("Upgrade"));
    }
    if !has_token(&res.headers, "Connection", "upgrade") {
        return Err(HandshakeError::InvalidHeader("Connection"));
    }
    let accept = res
        .header("Sec-WebSocket-Accept")
        .ok_or(HandshakeError::MissingHeader("Sec-WebSocket-Accept"))?;
    if accept.trim_ascii() != accept_key(key).as_bytes() {
        return Err(HandshakeError::AcceptMismatch);
    }
    if let Some(p) = res.protocol() {
        if !req.protocols().any(|o| o == p) {
            return Err(HandshakeError::UnofferedProtocol(p.to_owned()));
        }
    }
    Ok(())
}

/// The name of an extension offer or answer: the part before the first `;`,
/// trimmed (`permessage-deflate` of `permessage-deflate; client_max_window_bits`).
pub fn extension_name(ext: &str) -> &str {
    ext.split(';').next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    fn parse(bytes: &[u8]) -> Request {
        Request::parse(bytes, 64).unwrap().unwrap().0
    }

    #[test]
    fn header_lists_split_trim_and_skip_empty_items() {
        let items: Vec<&str> = header_list_items(" chat ,, superchat,").collect();
        assert_eq!(items, ["chat", "superchat"]);
        assert_eq!(header_list_items(" , ").count(), 0);
        assert_eq!(
            extension_name(" permessage-deflate ; client_max_window_bits"),
            "permessage-deflate"
        );
    }

    #[test]
    fn rfc_request_validates() {
        let req = parse(RFC_REQUEST);
        assert_eq!(req.path, "/chat");
        assert_eq!(req.origin(), Some("http://example.com"));
        assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
        let key = req.validate_upgrade(RequestChecks::default()).unwrap();
        let res = accept_response(
            key,
            &Accept {
                protocol: Some("chat".into()),
                headers: vec![],
            },
            None,
        );
        assert_eq!(
            res.header_str("Sec-WebSocket-Accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        validate_response(&res, &req, key).unwrap();
    }

    #[test]
    fn partial_heads_and_limits() {
        for cut in 0..RFC_REQUEST.len() {
            assert_eq!(
                Request::parse(&RFC_REQUEST[..cut], 64).unwrap(),
                None,
                "cut {cut}"
            );
        }
        assert_eq!(
            Request::parse(RFC_REQUEST, 3),
            Err(HandshakeError::TooManyHeaders { max: 3 })
        );
        assert_eq!(
            Request::parse(b"GET / HTTP/1.0\r\n\r\n", 8),
            Err(HandshakeError::HttpVersion)
        );
    }

    fn with_header(name: &str, value: Option<&str>) -> Request {
        let mut req = parse(RFC_REQUEST);
        req.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if let Some(v) = value {
            req.headers.push((name.into(), v.as_bytes().to_vec()));
        }
        req
    }

    #[test]
    fn request_checks_table() {
        let checks = RequestChecks::default();
        let cases: &[(&str, Option<&str>, Option<HandshakeError>)] = &[
            ("Upgrade", Some("WebSocket"), None),
            ("Upgrade", Some("h2c, websocket"), None),
            (
                "Upgrade",
                Some("h2c"),
                Some(HandshakeError::InvalidHeader("Upgrade")),
            ),
            ("Upgrade", None, Some(HandshakeError::NotUpgrade)),
            ("Connection", Some("keep-alive, Upgrade"), None),
            (
                "Connection",
                Some("keep-alive"),
                Some(HandshakeError::InvalidHeader("Connection")),
            ),
            ("Host", None, Some(HandshakeError::MissingHeader("Host"))),
            (
                "Sec-WebSocket-Version",
                Some("8"),
                Some(HandshakeError::UnsupportedVersion("8".into())),
            ),
            (
                "Sec-WebSocket-Version",
                None,
                Some(HandshakeError::MissingHeader("Sec-WebSocket-Version")),
            ),
            (
                "Sec-WebSocket-Key",
                Some("c2hvcnQ="),
                Some(HandshakeError::InvalidKey),
            ),
            (
                "Sec-WebSocket-Key",
                Some("not base64 at all!!!!!!!"),
                Some(HandshakeError::InvalidKey),
            ),
            (
                "Sec-WebSocket-Key",
                None,
                Some(HandshakeError::MissingHeader("Sec-WebSocket-Key")),
            ),
        ];
        for (name, value, expected) in cases {
            let req = with_header(name, *value);
            assert_eq!(
                req.validate_upgrade(checks).err(),
                *expected,
                "{name}: {value:?}"
            );
        }
        let mut post = parse(RFC_REQUEST);
        post.method = "POST".into();
        assert_eq!(
            post.validate_upgrade(checks).err().map(|e| e.status()),
            Some(405)
        );
        let lax = RequestChecks {
            method: false,
            key: false,
        };
        assert!(post.validate_upgrade(lax).is_ok());
        assert!(
            with_header("Sec-WebSocket-Key", Some("short"))
                .validate_upgrade(lax)
                .is_ok()
        );
    }

    /// A second `Host`, `Upgrade`, `Sec-WebSocket-Key` or
    /// `Sec-WebSocket-Version` line, in any case, is a 400.
    #[test]
    fn duplicate_single_headers_are_refused() {
        for (name, value) in [
            ("host", "other.example"),
            ("UPGRADE", "websocket"),
            ("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA=="),
            ("sec-websocket-version", "13"),
        ] {
            let mut req = parse(RFC_REQUEST);
            req.headers.push((name.into(), value.as_bytes().to_vec()));
            let err = req.validate_upgrade(RequestChecks::default()).unwrap_err();
            assert!(
                matches!(err, HandshakeError::DuplicateHeader(h) if h.eq_ignore_ascii_case(name)),
                "{name}: {err:?}"
            );
            assert_eq!(err.status(), 400);
        }
        // Lists in one line, and repeated list headers, stay fine.
        let mut req = parse(RFC_REQUEST);
        req.headers
            .push(("Sec-WebSocket-Protocol".into(), b"third".to_vec()));
        req.headers
            .push(("Connection".into(), b"keep-alive".to_vec()));
        assert!(req.validate_upgrade(RequestChecks::default()).is_ok());
    }

    /// A body on the upgrade GET is a 400: any `Transfer-Encoding`, any
    /// `Content-Length` but a single 0.
    #[test]
    fn a_body_on_the_upgrade_is_refused() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[("Content-Length", "0")], true),
            (&[("Content-Length", " 0 ")], true),
            (&[("Content-Length", "5")], false),
            (&[("Content-Length", "0"), ("content-length", "0")], false),
            (&[("Content-Length", "0, 0")], false),
            (&[("Content-Length", "x")], false),
            (&[("Transfer-Encoding", "chunked")], false),
            (&[("Transfer-Encoding", "identity")], false),
        ];
        for (headers, ok) in cases {
            let mut req = parse(RFC_REQUEST);
            for (n, v) in *headers {
                req.headers.push(((*n).into(), v.as_bytes().to_vec()));
            }
            let got = req.validate_upgrade(RequestChecks::default());
            if *ok {
                assert!(got.is_ok(), "{headers:?}");
            } else {
                assert_eq!(
                    got.err(),
                    Some(HandshakeError::UnexpectedBody),
                    "{headers:?}"
                );
            }
        }
    }

    /// The client holds the server's 101 to the same rules.
    #[test]
    fn response_duplicates_and_body_are_refused() {
        let req = parse(RFC_REQUEST);
        let key = b"dGhlIHNhbXBsZSBub25jZQ==";
        let good = accept_response(key, &Accept::default(), None);
        for (name, value, expected) in [
            (
                "Sec-WebSocket-Accept",
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                HandshakeError::DuplicateHeader("Sec-WebSocket-Accept"),
            ),
            (
                "upgrade",
                "websocket",
                HandshakeError::DuplicateHeader("Upgrade"),
            ),
            ("Content-Length", "3", HandshakeError::UnexpectedBody),
            (
                "Transfer-Encoding",
                "chunked",
                HandshakeError::UnexpectedBody,
            ),
        ] {
            let mut res = good.clone();
            res.headers.push((name.into(), value.as_bytes().to_vec()));
            assert_eq!(validate_response(&res, &req, key), Err(expected), "{name}");
        }
    }

    /// Where the head ends does not depend on how it arrives: every split
    /// in two, and byte by byte, finds the same end as the whole, for heads
    /// with CRLF, bare LF, and stray CRs.
    #[test]
    fn head_end_is_the_same_for_every_split() {
        let heads: &[&[u8]] = &[
            RFC_REQUEST,
            b"GET / HTTP/1.1\nHost: x\n\nrest",
            b"GET / HTTP/1.1\r\nHost: x\n\r\nrest",
            b"GET / HTTP/1.1\r\nHost: x\r\n\nrest",
            b"GET /index.html HTTP/2.1\r\nHos :\rht\n\r\n",
            b"GET / HTTP/1.1\r\nA: \r\r\n\r\r\n\r\n",
            b"\r\n\r\n",
            b"\n\n",
            b"GET / HTTP/1.1\r\n\r",
        ];
        for data in heads {
            let whole = HeadReader::new(4096).push(data).unwrap();
            for cut in 0..=data.len() {
                let mut r = HeadReader::new(4096);
                let got = match r.push(&data[..cut]).unwrap() {
                    Some(end) => Some(end),
                    None => r.push(&data[cut..]).unwrap(),
                };
                assert_eq!(got, whole, "{:?} cut {cut}", String::from_utf8_lossy(data));
            }
            let mut r = HeadReader::new(4096);
            let mut got = None;
            for b in *data {
                got = r.push(std::slice::from_ref(b)).unwrap();
                if got.is_some() {
                    break;
                }
            }
            assert_eq!(
                got,
                whole,
                "{:?} byte by byte",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn version_mismatch_answers_426_with_supported_version() {
        let err = HandshakeError::UnsupportedVersion("8".into());
        let res = Response::for_error(&err);
        assert_eq!(res.status, 426);
        assert_eq!(res.header_str("Sec-WebSocket-Version"), Some("13"));
    }

    #[test]
    fn response_checks() {
        let req = parse(RFC_REQUEST);
        let key = b"dGhlIHNhbXBsZSBub25jZQ==";
        let good = accept_response(key, &Accept::default(), None);
        assert!(validate_response(&good, &req, key).is_ok());
        let mut bad = good.clone();
        bad.headers[2].1 = b"AAAA".to_vec();
        assert_eq!(
            validate_response(&bad, &req, key),
            Err(HandshakeError::AcceptMismatch)
        );
        let mut proto = good.clone();
        proto
            .headers
            .push(("Sec-WebSocket-Protocol".into(), b"other".to_vec()));
        assert_eq!(
            validate_response(&proto, &req, key),
            Err(HandshakeError::UnofferedProtocol("other".into()))
        );
        assert_eq!(
            validate_response(&Response::new(403), &req, key),
            Err(HandshakeError::Status(403))
        );
    }

    #[test]
    fn response_round_trip() {
        let mut res = Response::new(404);
        res.headers.push(("X-A".into(), b"1".to_vec()));
        res.body = b"nope".to_vec();
        let mut out = Vec::new();
        res.write_to(&mut out);
        let (parsed, len) = Response::parse(&out, 8).unwrap().unwrap();
        assert_eq!(&out[len..], b"nope");
        assert_eq!(parsed.status, 404);
        assert_eq!(parsed.header_str("content-length"), Some("4"));
    }

    #[test]
    fn client_request_from_url() {
        let req = Request::client("wss://example.com/").unwrap();
        assert_eq!(req.header_str("Host"), Some("example.com"));
        let req = Request::client("ws://[::1]:9001").unwrap();
        assert_eq!(
            (req.path.as_str(), req.header_str("Host")),
            ("/", Some("[::1]:9001"))
        );
        let req = Request::client("ws://a%40b:p%3Aw@h/").unwrap();
        assert_eq!(req.header_str("Authorization"), Some("Basic YUBiOnA6dw=="));
        assert!(matches!(
            Request::client("http://h/"),
            Err(HandshakeError::Url(_))
        ));
        assert!(matches!(
            Request::client("not a url"),
            Err(HandshakeError::Url(_))
        ));
        let mut out = Vec::new();
        req.write_to(&mut out);
        assert_eq!(parse(&out), req);
    }

    #[test]
    fn head_reader_scans_each_byte_once_and_keeps_the_rest() {
        let mut data = RFC_REQUEST.to_vec();
        data.extend_from_slice(b"\x81\x80tail");
        for cut in 0..data.len() {
            let mut r = HeadReader::new(4096);
            let (end, held) = match r.push(&data[..cut]).unwrap() {
                Some(end) => (end, cut),
                None => (r.push(&data[cut..]).unwrap().unwrap(), data.len()),
            };
            assert_eq!(end, RFC_REQUEST.len());
            assert_eq!(r.buffer(), &data[..held], "cut {cut}");
        }
        let mut r = HeadReader::new(16);
        assert_eq!(
            r.push(&[b'a'; 40]),
            Err(HandshakeError::TooLarge { max: 16 })
        );
    }

    /// A head whose lines end in bare LF (which httparse accepts) ends at its
    /// first empty line too, however it is split, byte by byte included.
    #[test]
    fn head_reader_accepts_bare_lf_line_ends() {
        let lf: Vec<u8> = String::from_utf8_lossy(RFC_REQUEST)
            .replace("\r\n", "\n")
            .into_bytes();
        let mixed = b"GET / HTTP/1.1\r\nHost: x\n\r\nrest".to_vec();
        for (data, head_len) in [(lf.clone(), lf.len()), (mixed.clone(), mixed.len() - 4)] {
            for cut in 0..data.len() {
                let mut r = HeadReader::new(4096);
                let end = match r.push(&data[..cut]).unwrap() {
                    Some(end) => end,
                    None => r.push(&data[cut..]).unwrap().unwrap(),
                };
                assert_eq!(end, head_len, "cut {cut}");
            }
            let mut r = HeadReader::new(4096);
            let mut end = None;
            for b in &data {
                if let Some(e) = r.push(std::slice::from_ref(b)).unwrap() {
                    end = Some(e);
                    break;
                }
            }
            assert_eq!(end, Some(head_len));
        }
        assert_eq!(parse(&lf).path, "/chat");
    }
}
