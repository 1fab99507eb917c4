//! The opening handshake: building a client's request, reading the
//! request or response head, the server's answer, and the step to open.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{AwaitAnswer, Connection, Event, Opened, ReadResponse, Role, State};
use crate::config::Config;
use crate::deflate::{DeflateParams, EXTENSION_NAME};
use crate::error::{Error, HandshakeError, StateError};
use crate::frame::OpCode;
use crate::handshake::{self, Accept, HeadReader, Request, Response};
use crate::message::Message;

fn check_headers(headers: &handshake::Headers) -> Result<(), StateError> {
    match headers
        .iter()
        .find(|(n, v)| !handshake::header_is_valid(n, v))
    {
        Some((name, _)) => Err(StateError::InvalidHeader(name.clone())),
        None => Ok(()),
    }
}

impl Connection {
    /// A server connection, waiting for the client's request.
    ///
    /// `seed` feeds the generator of mask keys; draw it from the OS.
    pub fn server(config: Arc<Config>, now: Instant, seed: [u8; 32]) -> Self {
        let head = HeadReader::new(config.max_handshake_bytes);
        let state = State::ReadRequest(Box::new(head));
        let mut conn = Self::new(config, Role::Server, state, now, seed);
        conn.read_deadline = now.checked_add(conn.config.handshake_timeout);
        conn
    }

    /// A client connection. `request` is the upgrade request, usually from
    /// [`Request::client`]; `Upgrade`, `Connection`, `Sec-WebSocket-Version`
    /// and a fresh `Sec-WebSocket-Key` are added when missing, and with
    /// [`Config::deflate`] set, the permessage-deflate offer
    /// ([`DeflateConfig::offer`](crate::DeflateConfig::offer)) unless the
    /// request offers permessage-deflate already. The request is queued for
    /// [`Connection::poll_transmit`] at once.
    pub fn client(config: Arc<Config>, mut request: Request, now: Instant, seed: [u8; 32]) -> Self {
        let head = HeadReader::new(config.max_handshake_bytes);
        let mut conn = Self::new(config, Role::Client, State::Finished, now, seed);
        let key = match request.header_str("Sec-WebSocket-Key") {
            Some(key) => key.trim().to_owned(),
            None => {
                let mut raw = [0u8; 16];
                if let Some(rng) = conn.rng.as_deref_mut() {
                    rng.fill(&mut raw);
                }
                let key = BASE64.encode(raw);
                request
                    .headers
                    .push(("Sec-WebSocket-Key".into(), key.clone().into_bytes()));
                key
            }
        };
        for (name, value) in [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
        ] {
            if request.header(name).is_none() {
                request
                    .headers
                    .push((name.into(), value.as_bytes().to_vec()));
            }
        }
        if let Some(deflate) = &conn.config.deflate {
            let offered = request
                .extensions()
                .any(|e| handshake::extension_name(e).eq_ignore_ascii_case(EXTENSION_NAME));
            if !offered {
                request.headers.push((
                    "Sec-WebSocket-Extensions".into(),
                    deflate.offer().into_bytes(),
                ));
            }
        }
        request.write_to(&mut conn.out);
        conn.state = State::ReadResponse(Box::new(ReadResponse { head, request, key }));
        conn.read_deadline = now.checked_add(conn.config.handshake_timeout);
        conn
    }

    /// A connection whose opening handshake was done elsewhere (by hyper or
    /// axum, for example). It starts open, without extensions.
    pub fn established(config: Arc<Config>, role: Role, now: Instant, seed: [u8; 32]) -> Self {
        Self::new(config, role, State::Open, now, seed)
    }

    /// [`Connection::established`] with permessage-deflate agreed on in
    /// that handshake: `params` as the server's response stated them
    /// (from [`DeflateConfig::negotiate`](crate::DeflateConfig::negotiate) on
    /// a server, [`DeflateConfig::check_response`](crate::DeflateConfig::check_response)
    /// on a client). Level, threshold and this end's own limits come from
    /// [`Config::deflate`], or its defaults when that is `None`.
    pub fn established_with_deflate(
        config: Arc<Config>,
        role: Role,
        now: Instant,
        seed: [u8; 32],
        params: DeflateParams,
    ) -> Self {
        let mut conn = Self::new(config, role, State::Open, now, seed);
        conn.enable_deflate(params);
        conn
    }

    /// Server: accepts the pending request. When the request is not a valid
    /// upgrade, the core answers with the matching HTTP error instead and
    /// reports `Closed` with the reason.
    pub fn accept(&mut self, now: Instant, accept: Accept) -> Result<(), StateError> {
        let State::AwaitAnswer(answer) = &self.state else {
            return Err(StateError::NoPendingRequest);
        };
        if let Some(p) = &accept.protocol {
            if !answer.protocols.iter().any(|o| o == p) {
                return Err(StateError::UnofferedProtocol(p.clone()));
            }
        }
        check_headers(&accept.headers)?;
        let State::AwaitAnswer(answer) = std::mem::replace(&mut self.state, State::Open) else {
            unreachable!("checked above");
        };
        let AwaitAnswer {
            upgrade,
            early,
            extensions,
            ..
        } = *answer;
        match upgrade {
            Err(e) => {
                self.state = State::Finished;
                self.fail_handshake(e);
            }
            Ok(key) => {
                let deflate = self
                    .config
                    .deflate
                    .and_then(|c| c.negotiate(extensions.iter().map(String::as_str)));
                let answer = deflate.map(|p| p.to_string());
                let response = handshake::accept_response(&key, &accept, answer.as_deref());
                response.write_to(&mut self.out);
                if let Some(params) = deflate {
                    self.enable_deflate(params);
                }
                self.open(now, None, response, &early);
            }
        }
        Ok(())
    }

    /// Server: answers the pending request with `response` (any status,
    /// headers and body) and closes. Use it to refuse an upgrade or to serve
    /// a plain HTTP page.
    pub fn reject(&mut self, _now: Instant, response: Response) -> Result<(), StateError> {
        if !matches!(self.state, State::AwaitAnswer(_)) {
            return Err(StateError::NoPendingRequest);
        }
        check_headers(&response.headers)?;
        response.write_to(&mut self.out);
        self.error = Some(Box::new(Error::Rejected(response.status)));
        self.finish_now();
        Ok(())
    }

    pub(super) fn on_request_head(&mut self, now: Instant, buf: Vec<u8>, end: usize) {
        let request = match Request::parse(&buf[..end], self.config.max_headers) {
            Ok(Some((request, len))) if len == end => request,
            // One rule for where the head ends: the reader's empty line,
            // which httparse must agree with to the byte.
            Ok(Some(_)) | Ok(None) => {
                return self.fail_handshake(HandshakeError::Malformed("incomplete head"));
            }
            Err(e) => return self.fail_handshake(e),
        };
        let upgrade = request
            .validate_upgrade(self.config.request_checks)
            .and_then(|key| self.config.origins.check(&request).map(|()| key))
            .map(<[u8]>::to_vec);
        let protocols = request.protocols().map(str::to_owned).collect();
        let extensions = match self.config.deflate {
            Some(_) => request.extensions().map(str::to_owned).collect(),
            None => Vec::new(),
        };
        self.state = State::AwaitAnswer(Box::new(AwaitAnswer {
            upgrade,
            protocols,
            extensions,
            early: Vec::new(),
        }));
        let _ = now;
        self.emit(Event::Request(request));
        self.hold_early(&buf[end..]);
    }

    /// Server: keeps bytes that arrive before the application answers the
    /// request, up to `max_handshake_bytes`, whether they came in the read
    /// that completed the head or in a later one (any split of the input
    /// gives the same result).
    pub(super) fn hold_early(&mut self, data: &[u8]) {
        let max = self.config.max_handshake_bytes;
        let State::AwaitAnswer(answer) = &mut self.state else {
            return;
        };
        if answer.early.len() + data.len() > max {
            self.fail_handshake(HandshakeError::TooLarge { max });
        } else {
            answer.early.extend_from_slice(data);
        }
    }

    pub(super) fn on_response_head(&mut self, now: Instant, buf: Vec<u8>, end: usize) {
        let State::ReadResponse(read) = std::mem::replace(&mut self.state, State::Finished) else {
            return;
        };
        let ReadResponse { request, key, .. } = *read;
        let result = Response::parse(&buf[..end], self.config.max_headers).and_then(|parsed| {
            let (response, _) = parsed
                .filter(|(_, len)| *len == end)
                .ok_or(HandshakeError::Malformed("incomplete head"))?;
            handshake::validate_response(&response, &request, key.as_bytes())?;
            let deflate = self.check_extensions(&request, &response)?;
            Ok((response, deflate))
        });
        match result {
            Ok((response, deflate)) => {
                if let Some(params) = deflate {
                    self.enable_deflate(params);
                }
                self.open(now, Some(request), response, &buf[end..]);
            }
            Err(e) => self.fail_handshake(e),
        }
    }

    /// Client: the extensions the server accepted ([`check_extensions`]).
    pub(super) fn check_extensions(
        &self,
        request: &Request,
        response: &Response,
    ) -> Result<Option<DeflateParams>, HandshakeError> {
        check_extensions(&self.config, request.extensions(), response.extensions())
    }

    pub(super) fn open(
        &mut self,
        now: Instant,
        request: Option<Request>,
        response: Response,
        early: &[u8],
    ) {
        self.state = State::Open;
        self.read_deadline = None;
        self.last_received = now;
        self.emit(Event::Open(Opened { request, response }));
        if let Some(early) = self.early.take() {
            for message in early.messages {
                let opcode = if matches!(message, Message::Text(_)) {
                    OpCode::Text
                } else {
                    OpCode::Binary
                };
                self.write_message(opcode, message.as_bytes());
            }
            if let Some((code, reason)) = early.close {
                let _ = self.close(now, code, &reason);
            }
        }
        if !early.is_empty() {
            self.read_frames(now, early);
        }
    }
}

/// Client: the extensions the server accepted (`accepted`, the elements of
/// the response's `Sec-WebSocket-Extensions`) against the request's
/// `offers`. Only permessage-deflate, once, and only when configured (RFC
/// 6455 section 4.1: the client fails the connection on an extension it did
/// not offer). HTTP/1.1 and HTTP/2 (RFC 8441) handshakes share it.
pub(crate) fn check_extensions<'a>(
    config: &Config,
    offers: impl IntoIterator<Item = &'a str>,
    accepted: impl IntoIterator<Item = &'a str>,
) -> Result<Option<DeflateParams>, HandshakeError> {
    let mut accepted = accepted.into_iter();
    let Some(first) = accepted.next() else {
        return Ok(None);
    };
    let name = handshake::extension_name(first);
    let deflate = match config.deflate {
        Some(deflate) if name.eq_ignore_ascii_case(EXTENSION_NAME) => deflate,
        _ => return Err(HandshakeError::UnofferedExtension(name.to_owned())),
    };
    if let Some(second) = accepted.next() {
        let name = handshake::extension_name(second);
        return Err(if name.eq_ignore_ascii_case(EXTENSION_NAME) {
            HandshakeError::Extension("permessage-deflate accepted twice".into())
        } else {
            HandshakeError::UnofferedExtension(name.to_owned())
        });
    }
    deflate.check_response(offers, first).map(Some)
}
