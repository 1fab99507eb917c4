//! Core events to `Handler` callbacks, and `Sender` commands to core calls:
//! written once, for every runtime.
//!
//! A runtime owns the sockets and the `ws_proto::Connection`s; for each
//! connection it keeps a [`Conn`], which is the connection's
//! [`Session`](ws_proto::session::Session): the workspace's one
//! per-connection contract, driven alike by ws-mio's event loop and by
//! ws-tokio's `driver::drive`. The runtime gives it a
//! [`Clock`](ws_proto::session::Clock) for the time and the handler's
//! timeouts. The `Hub` (hub.rs) plays the same role for the `WebSocket` as a whole
//! (the `Factory`).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ws_proto::session::{Clock, Session};
use ws_proto::{Accept, Connection, Event, Role, SendError};

use crate::admission::Handshaking;
use crate::frame::Frame;
use crate::handler::Handler;
use crate::handler_panics::{guarded, panics_on};
use crate::handshake::{Handshake, Request, Response};
use crate::message::Message;
use crate::protocol::{CloseCode, OpCode};
use crate::result::{Error, ErrorKind, Result};
use crate::sender::{Command, DirectScope, Outbox, SenderKey};
use crate::settings::Settings;
use crate::util::Token;

/// Headers of a 101 that the core writes itself.
const HANDSHAKE_HEADERS: [&str; 5] = [
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// One connection's handler and what the dispatch remembers about it.
pub(crate) struct Conn<H: Handler> {
    handler: H,
    /// Shared by every connection of the `WebSocket`.
    settings: Arc<Settings>,
    /// The handshake request (server: received; client: sent).
    /// Boxed, and dropped once `on_open` has it: an open connection is small.
    request: Option<Box<Request>>,
    /// The peer's and our address, kept for `on_open`'s handshake only.
    addrs: Option<Box<(Option<SocketAddr>, Option<SocketAddr>)>>,
    /// `on_open` returned `Ok`: `on_close` is owed.
    opened: bool,
    /// The handler panicked: it is not called again.
    poisoned: bool,
    /// An I/O error was reported: the end of stream that follows is no news.
    io_failed: bool,
    /// The handler's pending timeouts (few: a list is smaller than a map).
    timeouts: Vec<(u64, Token)>,
    /// The connection's own `Sender`, whose commands are carried out directly.
    key: SenderKey,
    /// What the connection's `Sender`s count (see [`Conn::on_flushed`]).
    outbox: Option<Arc<Outbox>>,
    /// What the core and the runtime held for the socket at the last
    /// [`Conn::on_flushed`].
    held: usize,
    /// Bytes of counted messages handed to the core since then.
    taken: usize,
    /// The cap was reported to `on_error` under the close policy.
    cap_reported: bool,
    /// The core configuration of this connection when it differs from the
    /// `WebSocket`'s (the handler chose permessage-deflate).
    config: Option<Arc<ws_proto::Config>>,
    /// A server connection's place under `max_pending_handshakes`, given
    /// back when it opens or ends.
    handshaking: Option<Handshaking>,
    /// A client's way through redirects (boxed: most have none).
    hops: Option<Box<Hops>>,
}

/// The URLs a client has dialled, and where a redirect sends it next.
#[derive(Default)]
struct Hops {
    /// Every URL dialled so far, the current one last.
    visited: Vec<url::Url>,
    /// Set when the server redirected and the redirect is to be followed.
    next: Option<url::Url>,
}

impl<H: Handler> Conn<H> {
    pub(crate) fn new(
        handler: H,
        settings: Arc<Settings>,
        key: SenderKey,
        outbox: Option<Arc<Outbox>>,
        peer_addr: Option<SocketAddr>,
        local_addr: Option<SocketAddr>,
    ) -> Self {
        let addrs = (peer_addr.is_some() || local_addr.is_some())
            .then(|| Box::new((peer_addr, local_addr)));
        Self {
            handler,
            settings,
            request: None,
            addrs,
            opened: false,
            poisoned: false,
            io_failed: false,
            timeouts: Vec::new(),
            key,
            outbox,
            held: 0,
            taken: 0,
            cap_reported: false,
            config: None,
            handshaking: None,
            hops: None,
        }
    }

    /// Where the connection goes next, when its server redirected it and
    /// the redirect is to be followed: the runtime dials that URL with this
    /// `Conn` in the same place (same token and id, so the handler's
    /// `Sender`s reach the new connection), building the request again with
    /// [`Conn::request_for`].
    pub(crate) fn take_redirect(&mut self) -> Option<url::Url> {
        let next = self.hops.as_mut()?.next.take()?;
        self.io_failed = false;
        Some(next)
    }

    /// The core reported a redirect: follow it (record where to) under
    /// `Settings::max_redirects` and the rules of `ws_proto::redirect`, or
    /// return why not.
    fn redirected(&mut self, location: &str) -> std::result::Result<(), ws_proto::HandshakeError> {
        let hops = self.hops.get_or_insert_with(Box::default);
        let Some(from) = hops.visited.last() else {
            return Err(ws_proto::HandshakeError::Redirect {
                status: 0,
                location: location.to_owned(),
            });
        };
        let next = ws_proto::redirect::next_url(
            from,
            location,
            &hops.visited,
            self.settings.max_redirects,
        )?;
        log::info!(
            "connection {}: redirected to {}",
            self.key.0,
            crate::connect_url::redacted(&next)
        );
        hops.next = Some(next);
        Ok(())
    }

    /// The core configuration of this connection when it is not the
    /// `WebSocket`'s: when [`Handler::permessage_deflate`] chose
    /// permessage-deflate for it.
    pub(crate) fn core_config(&self) -> Option<Arc<ws_proto::Config>> {
        self.config.clone()
    }

    /// The request for an outgoing connection to `url`, from the handler's
    /// `build_request`; on failure the error goes to the handler (and the
    /// caller gives the handler back to the factory).
    pub(crate) fn request_for(&mut self, url: &url::Url) -> Option<ws_proto::Request> {
        match self.call(|h| h.build_request(url)) {
            Some(Ok(mut req)) => {
                let hops = self.hops.get_or_insert_with(Box::default);
                hops.visited.push(url.clone());
                req.set_url(Some(Box::new(url.clone())));
                self.request = Some(Box::new(req.clone()));
                Some(ws_proto::Request::from(req))
            }
            Some(Err(e)) => {
                self.report(e);
                None
            }
            None => None,
        }
    }

    /// A server connection's place under `max_pending_handshakes`, held
    /// until it opens or ends.
    pub(crate) fn set_handshaking(&mut self, place: Handshaking) {
        self.handshaking = Some(place);
    }

    /// The core configuration of this connection, when the handler chose
    /// one of its own (permessage-deflate).
    pub(crate) fn set_core_config(&mut self, config: Arc<ws_proto::Config>) {
        self.config = Some(config);
    }

    /// The handler, for the factory's `connection_lost`.
    pub(crate) fn into_handler(self) -> H {
        self.handler
    }

    pub(crate) fn set_addrs(&mut self, peer: Option<SocketAddr>, local: Option<SocketAddr>) {
        self.addrs = Some(Box::new((peer, local)));
    }

    /// Calls the handler, catching a panic. `None` when the handler panicked
    /// now or before.
    fn call<R>(&mut self, f: impl FnOnce(&mut H) -> R) -> Option<R> {
        guarded(&mut self.handler, &mut self.poisoned, f)
    }

    /// [`Conn::call`] for a fallible method: an error of a kind whose
    /// `panic_on_*` flag is set becomes a panic (caught like any other).
    fn call_checked<R>(&mut self, f: impl FnOnce(&mut H) -> Result<R>) -> Option<Result<R>> {
        let settings = &*self.settings;
        guarded(&mut self.handler, &mut self.poisoned, |h| match f(h) {
            Err(e) if panics_on(settings, &e) => {
                panic!("handler error with a panic_on_* flag set: {e}")
            }
            other => other,
        })
    }

    /// Calls a fallible handler method and deals with its error: a panic
    /// when the matching `panic_on_*` flag is set (caught like any handler
    /// panic), else `on_error` and a close with the kind's code.
    fn call_result(
        &mut self,
        conn: &mut Connection,
        now: Instant,
        f: impl FnOnce(&mut H) -> Result<()>,
    ) {
        self.call_value(conn, now, f);
    }

    /// [`Conn::call_result`] for a method with a value: `None` when it failed.
    fn call_value<R>(
        &mut self,
        conn: &mut Connection,
        now: Instant,
        f: impl FnOnce(&mut H) -> Result<R>,
    ) -> Option<R> {
        let outcome = self.call_checked(f);
        match outcome {
            Some(Ok(value)) => Some(value),
            Some(Err(e)) => {
                self.handler_failed(conn, now, e);
                None
            }
            None => {
                self.panicked(conn, now);
                None
            }
        }
    }

    /// Runs `on_frame` on a received frame, when the hooks are on: the frame
    /// to go on with, if any.
    fn frame_in(&mut self, conn: &mut Connection, now: Instant, frame: Frame) -> Option<Frame> {
        if !self.settings.frame_hooks {
            return Some(frame);
        }
        self.call_value(conn, now, |h| h.on_frame(frame)).flatten()
    }

    /// Runs `on_send_frame` on a frame the application sends, when the hooks
    /// are on, then hands what it returned to the core.
    fn frame_out(
        &mut self,
        conn: &mut Connection,
        now: Instant,
        frame: Frame,
    ) -> std::result::Result<(), SendError> {
        let frame = if self.settings.frame_hooks {
            match self.call_value(conn, now, |h| h.on_send_frame(frame)) {
                Some(Some(frame)) => frame,
                _ => return Ok(()),
            }
        } else {
            frame
        };
        match frame.opcode() {
            OpCode::Text => match frame.into_text() {
                Ok(text) => conn.send(now, ws_proto::Message::Text(text)),
                Err(e) => {
                    self.report(Error::new(
                        ErrorKind::Encoding(e.utf8_error()),
                        "on_send_frame returned a text frame that is not UTF-8",
                    ));
                    Ok(())
                }
            },
            OpCode::Binary => conn.send(now, ws_proto::Message::Binary(frame.into_data())),
            OpCode::Ping => conn.ping(now, frame.payload()),
            OpCode::Pong => conn.pong(now, frame.payload()),
            OpCode::Close => {
                let payload = frame.payload();
                if payload.len() >= 2 {
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    let reason = String::from_utf8_lossy(&payload[2..]).into_owned();
                    conn.close(now, ws_proto::CloseCode(code), &reason)
                } else {
                    conn.close(now, ws_proto::CloseCode::NORMAL, "")
                }
            }
            OpCode::Continue | OpCode::Bad => {
                self.report(Error::new(
                    ErrorKind::Internal,
                    "on_send_frame returned a frame that cannot be sent alone",
                ));
                Ok(())
            }
        }
    }

    fn handler_failed(&mut self, conn: &mut Connection, now: Instant, error: Error) {
        if matches!(error.kind, ErrorKind::Capacity)
            && self.outbox.as_ref().is_some_and(|o| o.capped())
        {
            // A refused send, propagated with `?`, under the close policy:
            // the `Command::WriteCap` it queued closes with 1008, after the
            // messages accepted before it.
            self.cap_reported = true;
            self.call(|h| h.on_error(error));
            return;
        }
        let code = close_code_for(&error.kind);
        let reason = error.to_string();
        self.call(|h| h.on_error(error));
        let _ = conn.close(now, code.into(), &reason);
    }

    fn panicked(&mut self, conn: &mut Connection, now: Instant) {
        let _ = conn.close(now, ws_proto::CloseCode::INTERNAL, "handler panicked");
        self.opened = false;
    }

    /// The handler's `upgrade_ssl_server`; `None` (error reported) when it
    /// failed or panicked.
    #[cfg(feature = "rustls")]
    pub(crate) fn tls_server(
        &mut self,
        config: &std::sync::Arc<rustls::ServerConfig>,
    ) -> Option<std::sync::Arc<rustls::ServerConfig>> {
        match self.call(|h| h.upgrade_ssl_server(config))? {
            Ok(config) => Some(config),
            Err(e) => {
                self.report(e);
                None
            }
        }
    }

    /// The handler's `upgrade_ssl_client`; `None` (error reported) when it
    /// failed or panicked.
    #[cfg(feature = "rustls")]
    pub(crate) fn tls_client(
        &mut self,
        url: &url::Url,
        config: &std::sync::Arc<rustls::ClientConfig>,
    ) -> Option<std::sync::Arc<rustls::ClientConfig>> {
        match self.call(|h| h.upgrade_ssl_client(url, config))? {
            Ok(config) => Some(config),
            Err(e) => {
                self.report(e);
                None
            }
        }
    }

    /// Reports an error that does not come from the handler.
    pub(crate) fn report(&mut self, error: Error) {
        self.call(|h| h.on_error(error));
    }

    /// Runs `f` and then the commands the connection's own `Sender` gave
    /// meanwhile (see [`DirectScope`]).
    fn direct(
        &mut self,
        ctl: &mut dyn Clock,
        conn: &mut Connection,
        f: impl FnOnce(&mut Self, &mut dyn Clock, &mut Connection),
    ) {
        let scope = DirectScope::begin(self.key);
        f(self, ctl, conn);
        let mut batch = scope.batch();
        loop {
            scope.swap(&mut batch);
            if batch.is_empty() {
                break;
            }
            for command in batch.drain(..) {
                self.apply(ctl, conn, command);
            }
        }
        scope.recycle(batch);
    }

    fn dispatch(&mut self, ctl: &mut dyn Clock, conn: &mut Connection, event: Event) {
        let now = ctl.now();
        match event {
            Event::Request(req) => self.on_request(conn, now, Request::from(req)),
            Event::Open(opened) => {
                self.handshaking = None;
                if let Some(req) = opened.request {
                    let url = self.request.as_mut().and_then(|r| r.take_url());
                    let mut req = Request::from(req);
                    req.set_url(url);
                    self.request = Some(Box::new(req));
                }
                let response = Response::from(opened.response);
                if conn.role() == Role::Client {
                    self.call_result(conn, now, |h| h.on_response(&response));
                    if !conn.is_open() {
                        return;
                    }
                }
                let addrs = self.addrs.take().map_or((None, None), |a| *a);
                log::info!(
                    "connection {}: open ({:?}, peer {})",
                    self.key.0,
                    conn.role(),
                    addrs
                        .0
                        .map_or_else(|| "unknown".to_owned(), |a| a.to_string())
                );
                let shake = Handshake {
                    request: self
                        .request
                        .take()
                        .map_or_else(|| Request::from(ws_proto::Request::default()), |r| *r),
                    response,
                    peer_addr: addrs.0,
                    local_addr: addrs.1,
                };
                match self.call(|h| h.on_open(shake)) {
                    Some(Ok(())) => self.opened = true,
                    Some(Err(e)) => self.handler_failed(conn, now, e),
                    None => self.panicked(conn, now),
                }
            }
            Event::Message(msg) => {
                if !self.opened {
                    return;
                }
                if !self.settings.frame_hooks {
                    // Without hooks the message goes to the handler as the
                    // core made it: no round trip through a Frame, so no
                    // second UTF-8 check and copy of a text.
                    return self.call_result(conn, now, |h| h.on_message(msg.into()));
                }
                let frame = match msg {
                    ws_proto::Message::Text(t) => Frame::text(t),
                    ws_proto::Message::Binary(b) => Frame::message(b, OpCode::Binary, true),
                };
                let Some(frame) = self.frame_in(conn, now, frame) else {
                    return;
                };
                let msg = match frame.opcode() {
                    OpCode::Text => match frame.into_text() {
                        Ok(text) => Message::Text(text),
                        Err(e) => {
                            let e = Error::new(
                                ErrorKind::Encoding(e.utf8_error()),
                                "on_frame returned a text frame that is not UTF-8",
                            );
                            return self.handler_failed(conn, now, e);
                        }
                    },
                    OpCode::Binary => Message::Binary(frame.into_data()),
                    // Turned into something else: not a message any more.
                    _ => return,
                };
                self.call_result(conn, now, |h| h.on_message(msg));
            }
            Event::Ping(payload) => {
                if self.opened {
                    self.frame_in(conn, now, Frame::ping(payload));
                }
            }
            Event::Pong(payload) => {
                if self.opened {
                    self.frame_in(conn, now, Frame::pong(payload));
                }
            }
            Event::Closed(closed) => {
                self.handshaking = None;
                for (id, _) in std::mem::take(&mut self.timeouts) {
                    ctl.cancel_timer(id);
                }
                match &closed.error {
                    None => log::debug!(
                        "connection {}: closed with {} {:?}",
                        self.key.0,
                        closed.code.0,
                        closed.reason
                    ),
                    Some(e) => log::debug!("connection {}: ended: {e}", self.key.0),
                }
                match closed.error {
                    None | Some(ws_proto::Error::Rejected(_)) => {}
                    Some(ws_proto::Error::UnexpectedEof) if self.io_failed => {}
                    Some(ws_proto::Error::Handshake(ws_proto::HandshakeError::Redirect {
                        status,
                        location,
                    })) if conn.role() == Role::Client => {
                        if let Err(refused) = self.redirected(&location) {
                            log::debug!(
                                "connection {}: {status} redirect not followed: {refused}",
                                self.key.0
                            );
                            self.report(Error::from(refused));
                        }
                    }
                    Some(e) => self.report(Error::from(e)),
                }
                if std::mem::take(&mut self.opened) {
                    let code = CloseCode::from(u16::from(closed.code));
                    self.call(|h| h.on_close(code, &closed.reason));
                }
            }
        }
    }

    fn on_request(&mut self, conn: &mut Connection, now: Instant, req: Request) {
        let answer = self.call_checked(|h| h.on_request(&req));
        let core_req = ws_proto::Request::from(req.clone());
        self.request = Some(Box::new(req));
        let result = match answer {
            Some(Ok(res)) if res.status() == 101 => {
                let protocol = res.protocol().ok().flatten().map(str::to_owned);
                let headers = ws_proto::Response::from(res)
                    .headers
                    .into_iter()
                    .filter(|(n, _)| !HANDSHAKE_HEADERS.iter().any(|h| n.eq_ignore_ascii_case(h)))
                    .collect();
                conn.accept(now, Accept { protocol, headers })
            }
            Some(Ok(res)) => {
                log::debug!(
                    "connection {}: handshake refused by the handler with HTTP {}",
                    self.key.0,
                    res.status()
                );
                conn.reject(now, ws_proto::Response::from(res))
            }
            Some(Err(e)) => {
                // An invalid upgrade: let the core answer with the precise
                // status (400, 405, 426 ...) and report it.
                if core_req
                    .validate_upgrade(conn.config().request_checks)
                    .is_err()
                {
                    conn.accept(now, Accept::default())
                } else {
                    let status = if matches!(e.kind, ErrorKind::Protocol) {
                        400
                    } else {
                        500
                    };
                    self.report(e);
                    conn.reject(now, ws_proto::Response::new(status))
                }
            }
            None => conn.reject(now, ws_proto::Response::new(500)),
        };
        if let Err(e) = result {
            // The handler's response was unusable (a subprotocol that was not
            // offered, a broken header): refuse the upgrade.
            self.report(Error::from(e));
            let _ = conn.reject(now, ws_proto::Response::new(500));
        }
    }

    fn apply(&mut self, ctl: &mut dyn Clock, conn: &mut Connection, command: Command) {
        let now = ctl.now();
        let result = match command {
            Command::Send(msg) => {
                self.taken += msg.len();
                self.send_message(conn, now, msg)
            }
            Command::Broadcast(msg) => match &self.outbox {
                Some(outbox) if !outbox.admit(msg.len()) => {
                    self.over_cap(conn, now, "a broadcast message was not sent");
                    Ok(())
                }
                Some(_) => {
                    self.taken += msg.len();
                    self.send_message(conn, now, msg)
                }
                None => self.send_message(conn, now, msg),
            },
            Command::WriteCap => {
                self.over_cap(conn, now, "a message was refused");
                Ok(())
            }
            // `on_flushed` follows every command.
            Command::Nudge => Ok(()),
            Command::Close(code, reason) => {
                let code = u16::from(code);
                if code == 0 || code == 1005 {
                    // CloseCode::Empty / Status: close without a status code
                    // is not offered by the core; the closest is Normal.
                    conn.close(now, ws_proto::CloseCode::NORMAL, &reason)
                } else {
                    conn.close(now, ws_proto::CloseCode(code), &reason)
                }
            }
            Command::Ping(data) => self.frame_out(conn, now, Frame::ping(data)),
            Command::Pong(data) => self.frame_out(conn, now, Frame::pong(data)),
            Command::Timeout {
                delay,
                event,
                timeout,
            } => {
                self.timeouts.retain(|&(id, _)| id != timeout.id());
                self.timeouts.push((timeout.id(), event));
                ctl.set_timer(timeout.id(), now + delay);
                self.call_result(conn, now, |h| h.on_new_timeout(event, timeout));
                Ok(())
            }
            Command::Cancel(timeout) => {
                if self.take_timeout(timeout.id()).is_some() {
                    ctl.cancel_timer(timeout.id());
                }
                Ok(())
            }
            // Routed to the hub by the runtime.
            Command::Connect(_) | Command::Shutdown => Ok(()),
        };
        match result {
            Ok(()) | Err(SendError::Closed) => {}
            Err(e) => self.report(Error::from(e)),
        }
    }

    fn take_timeout(&mut self, id: u64) -> Option<Token> {
        let at = self.timeouts.iter().position(|&(t, _)| t == id)?;
        let (_, event) = self.timeouts.swap_remove(at);
        if self.timeouts.is_empty() {
            self.timeouts = Vec::new();
        }
        Some(event)
    }

    fn send_message(
        &mut self,
        conn: &mut Connection,
        now: Instant,
        msg: Message,
    ) -> std::result::Result<(), SendError> {
        if !self.settings.frame_hooks {
            // Without hooks the message goes to the core as it is: no round
            // trip through a Frame, no second UTF-8 check of a text.
            return conn.send(now, msg.into());
        }
        let frame = match msg {
            Message::Text(t) => Frame::text(t),
            Message::Binary(b) => Frame::message(b, OpCode::Binary, true),
        };
        self.frame_out(conn, now, frame)
    }

    /// A message could not be taken under the cap: report it, and under
    /// the close policy close with 1008 (reporting that once).
    fn over_cap(&mut self, conn: &mut Connection, now: Instant, what: &'static str) {
        let Some(outbox) = self.outbox.clone() else {
            return;
        };
        let limits = outbox.limits;
        if !limits.close {
            return self.report(Error::new(
                ErrorKind::Capacity,
                format!(
                    "{what}: {} bytes wait to be written to this connection, its cap is {}",
                    outbox.buffered(),
                    limits.cap
                ),
            ));
        }
        outbox.cap_reached();
        if !std::mem::replace(&mut self.cap_reported, true) {
            self.report(Error::new(
                ErrorKind::Capacity,
                format!(
                    "{what}: the outgoing buffer reached its cap of {} bytes; closing with 1008",
                    limits.cap
                ),
            ));
        }
        let _ = conn.close(now, ws_proto::CloseCode::POLICY, "write buffer full");
    }
}

impl<H: Handler> Session for Conn<H> {
    type Command = Command;

    fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event) {
        self.direct(clock, conn, |this, clock, conn| {
            this.dispatch(clock, conn, event);
        });
    }

    fn on_command(&mut self, clock: &mut dyn Clock, conn: &mut Connection, command: Command) {
        self.direct(clock, conn, |this, clock, conn| {
            this.apply(clock, conn, command)
        });
    }

    fn on_timer(&mut self, clock: &mut dyn Clock, conn: &mut Connection, id: u64) {
        if let Some(event) = self.take_timeout(id) {
            self.direct(clock, conn, |this, clock, conn| {
                this.call_result(conn, clock.now(), |h| h.on_timeout(event));
            });
        }
    }

    fn on_io_error(&mut self, _: &mut dyn Clock, _: &mut Connection, error: &io::Error) {
        self.io_failed = true;
        self.report(Error::from(io::Error::new(error.kind(), error.to_string())));
    }

    /// The runtime wrote what it could of the connection's output and
    /// still holds `pending` bytes of it (beside what the core holds):
    /// brings the outbox's count up to date and calls `on_drain` when it is
    /// owed and the buffer is low. Returns true when `on_drain` ran (the
    /// connection may have more output).
    fn on_flushed(&mut self, clock: &mut dyn Clock, conn: &mut Connection, pending: usize) -> bool {
        let Some(outbox) = &self.outbox else {
            return false;
        };
        let held = conn.buffered_amount() + pending;
        let delta = held
            .wrapping_sub(self.held)
            .wrapping_sub(std::mem::take(&mut self.taken));
        self.held = held;
        let amount = outbox.adjust(delta);
        if !outbox.drained(amount) || !self.opened || !conn.is_open() {
            return false;
        }
        self.direct(clock, conn, |this, clock, conn| {
            this.call_result(conn, clock.now(), |h| h.on_drain());
        });
        true
    }

    /// The handler's `on_shutdown`, and what its own `Sender` gave
    /// meanwhile, then a close with 1001.
    fn on_shutdown(&mut self, clock: &mut dyn Clock, conn: &mut Connection) {
        self.direct(clock, conn, |this, _, _| {
            this.call(|h| h.on_shutdown());
        });
        let _ = conn.close(clock.now(), ws_proto::CloseCode::AWAY, "shutting down");
    }
}

/// The close code for an error a handler returned.
fn close_code_for(kind: &ErrorKind) -> CloseCode {
    match kind {
        ErrorKind::Capacity => CloseCode::Size,
        ErrorKind::Protocol | ErrorKind::Http(_) => CloseCode::Protocol,
        ErrorKind::Encoding(_) => CloseCode::Invalid,
        _ => CloseCode::Error,
    }
}
