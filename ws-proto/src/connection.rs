//! The connection state machine: handshake, messages, close handshake and
//! timers, driven by the caller's bytes and clock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::close::{CloseCode, CloseFrame, truncate_reason};
use crate::config::Config;
use crate::decoder::{Decoded, Decoder, DecoderConfig};
use crate::deflate::{
    DeflateParams, Deflater, Directions, EXTENSION_NAME, Inflater, MAX_WINDOW_BITS,
};
use crate::error::{Error, HandshakeError, ProtocolError, SendError, StateError, TimeoutKind};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, RSV1};
use crate::handshake::{self, Accept, HeadReader, Request, Response};
use crate::mask::{apply_mask, mask_into};
use crate::message::Message;
use crate::rng::Rng;

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that opened the connection and sends masked frames.
    Client,
    /// The end that accepted the connection and sends unmasked frames.
    Server,
}

/// Something the application should know about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Server: a complete HTTP request arrived. Answer it with
    /// [`Connection::accept`] or [`Connection::reject`]. It may not be a
    /// WebSocket upgrade at all (a browser asking for a page);
    /// [`Request::validate_upgrade`] tells.
    Request(Request),
    /// The opening handshake succeeded: messages can flow.
    Open(Opened),
    /// A complete message.
    Message(Message),
    /// A ping arrived (the core has already queued the pong).
    Ping(Vec<u8>),
    /// A pong arrived.
    Pong(Vec<u8>),
    /// The connection is over; reported exactly once, and last.
    Closed(Closed),
}

/// The two heads of a successful opening handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The request the client sent. On the server it was handed out with
    /// [`Event::Request`], so this is `None`.
    pub request: Option<Request>,
    /// The server's 101 response: received by a client, sent by a server.
    pub response: Response,
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// The close code: the peer's when it closed first or answered our close;
    /// ours when we failed the connection; 1005 when a close frame carried no
    /// code; 1006 when no close frame was exchanged.
    pub code: CloseCode,
    /// The reason that came with the code (may be empty).
    pub reason: String,
    /// Why the connection ended other than by a clean close handshake.
    pub error: Option<Error>,
}

/// What [`Connection::poll_transmit`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// This many bytes were appended to the buffer; write them in order.
    Data(usize),
    /// Close the transport once everything before it is written; how, in
    /// [`Connection::transport_close`].
    Close,
}

/// How to close the transport after [`Transmit::Close`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportClose {
    /// Write what is left, shut down the write side, then read (and drop)
    /// until the peer's end of stream, for at most the close timeout.
    /// Closing with unread input makes TCP send a reset, which can destroy
    /// data the peer has not read yet; and a client leaves the first TCP
    /// close to the server (RFC 6455 section 7.1.1).
    Linger,
    /// Write what is left and close, without waiting for the peer: a
    /// client whose opening handshake failed has nothing to wait for, and
    /// waiting on a hostile server would only hand it the client's time.
    Prompt,
    /// Drop what is left unwritten and close now: the peer stopped taking
    /// our output (a write timeout), so there is no point in trying more.
    Abort,
}

/// An entry of the event queue. Frames that call for an answer (a ping, a
/// close) or end the connection (a protocol error, the end of the stream)
/// are acted on when the application reaches them, not when they are
/// decoded: whatever it sends in reply to the events before them goes out
/// first, in order (a message echoed before the pong of a later ping, before
/// the close frame of a later error).
#[derive(Debug)]
enum Pending {
    Event(Event),
    Ping(Vec<u8>),
    Close(Option<CloseFrame>, Instant),
    Fail(ProtocolError),
    Eof,
}

/// A message sent as an owned buffer of at least this many bytes leaves the
/// core in that buffer (a frame header goes before it in its own), instead
/// of being copied into the output buffer: large echoes and broadcasts cost
/// no copy in user space, and a client masks the payload in place.
const OWNED_MIN: usize = 16 * 1024;

/// Once this many encoded bytes wait for [`Connection::poll_transmit`],
/// pongs are no longer queued one per ping: only the latest is kept, so a
/// peer that floods pings and never reads costs bounded memory.
const PONG_BACKLOG: usize = 64 * 1024;

#[derive(Debug)]
enum State {
    /// Server: reading the request head.
    ReadRequest(Box<HeadReader>),
    /// Server: the request was handed out; waiting for accept or reject.
    AwaitAnswer(Box<AwaitAnswer>),
    /// Client: request sent, reading the response head.
    ReadResponse(Box<ReadResponse>),
    /// Messages flow; `close_sent`/`close_received` track the close handshake.
    Open,
    /// Nothing more will be read.
    Finished,
}

/// [`State::AwaitAnswer`]: the request's verdict and what arrived after it.
#[derive(Debug)]
struct AwaitAnswer {
    upgrade: Result<Vec<u8>, HandshakeError>,
    protocols: Vec<String>,
    /// The elements of `Sec-WebSocket-Extensions`, when deflate is on.
    extensions: Vec<String>,
    early: Vec<u8>,
}

/// [`State::ReadResponse`]: the request sent and its key.
#[derive(Debug)]
struct ReadResponse {
    head: HeadReader,
    request: Request,
    key: String,
}

/// Output buffers handed out as they are, in order.
#[derive(Debug, Default)]
struct Owned {
    bufs: VecDeque<Vec<u8>>,
    /// Their total length.
    len: usize,
}

/// What the application asked for before the handshake completed.
#[derive(Debug, Default)]
struct Early {
    messages: Vec<Message>,
    bytes: usize,
    /// A close, sent after the messages once the connection opens.
    close: Option<(CloseCode, String)>,
}

/// A WebSocket connection as a pure state machine.
///
/// Feed it what the transport received and the time, then drain its
/// outputs. It never blocks, never reads a clock and never touches a socket.
///
/// # The run loop
///
/// ```no_run
/// use std::io::{Read, Write};
/// use std::sync::Arc;
/// use std::time::Instant;
/// use ws_proto::{Config, Connection, Event, Transmit};
///
/// # fn main() -> std::io::Result<()> {
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let (mut tcp, _) = listener.accept()?;
/// let mut conn = Connection::server(Arc::new(Config::default()), Instant::now(), [7; 32]);
/// let (mut rbuf, mut wbuf) = (vec![0; 64 * 1024], Vec::new());
/// loop {
///     // 1. Outputs: events, then bytes to write.
///     while let Some(event) = conn.poll_event() {
///         match event {
///             Event::Request(_) => conn.accept(Instant::now(), Default::default()).unwrap(),
///             Event::Message(msg) => { let _ = conn.send(Instant::now(), msg); }
///             Event::Closed(_) => {}
///             _ => {}
///         }
///     }
///     let mut close = false;
///     while let Some(t) = conn.poll_transmit(Instant::now(), &mut wbuf) {
///         close |= t == Transmit::Close;
///     }
///     tcp.write_all(&wbuf)?;
///     wbuf.clear();
///     if close || conn.is_finished() { return Ok(()); }
///     // 2. Inputs: bytes (0 means end of stream). A real loop also sleeps
///     //    no later than `poll_timeout()` and then calls `handle_timeout`.
///     let n = tcp.read(&mut rbuf)?;
///     if n == 0 { conn.handle_eof(Instant::now()) } else { conn.handle_input(Instant::now(), &rbuf[..n]) }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Connection {
    config: Arc<Config>,
    role: Role,
    state: State,
    /// The seeded generator of mask keys (a client's) and of keepalive
    /// ping payloads (both roles).
    rng: Option<Box<Rng>>,
    decoder: Decoder,
    events: VecDeque<Pending>,
    /// A close frame or an error was decoded: the rest of the input is ignored.
    input_done: bool,
    /// Encoded bytes not yet handed to the caller, after those in `owned`.
    out: Vec<u8>,
    /// Whole buffers to hand out before `out`: frame headers and the owned
    /// payloads of large messages (see [`OWNED_MIN`]). Boxed and present
    /// only while there are some.
    owned: Option<Box<Owned>>,
    /// Messages and a close asked for before the handshake completed
    /// (allocated only then: an open connection keeps its size small).
    early: Option<Box<Early>>,
    /// The payload of the latest pong owed to the peer while pongs coalesce
    /// (see [`PONG_BACKLOG`]).
    pong: Option<Vec<u8>>,
    close_sent: bool,
    close_received: bool,
    /// The peer's close frame, once received, when it carried a code
    /// (`close_received` tells whether one came at all).
    peer_close: Option<Box<CloseFrame>>,
    /// Set when the connection ends for a reason other than a clean close.
    error: Option<Box<Error>>,
    closed_reported: bool,
    /// The transport should be closed once `out` is written.
    close_transport: bool,
    close_transport_sent: bool,
    handshake_deadline: Option<Instant>,
    close_deadline: Option<Instant>,
    last_received: Instant,
    /// The last sign that output moves: the transport took bytes
    /// ([`Connection::handle_written`]), or output was taken while nothing
    /// waited anywhere (a new burst starts its clock).
    last_progress: Instant,
    /// The runtime says some of the bytes taken by `poll_transmit` still
    /// wait for the transport ([`Connection::handle_written`]).
    unwritten: bool,
    ping_outstanding: Option<Instant>,
    /// The payload of the outstanding keepalive ping: drawn from `rng`, so
    /// a peer cannot answer it before it sees it; only a pong that echoes
    /// it counts (RFC 6455 section 5.5.3: a pong carries the ping's data).
    ping_payload: [u8; 8],
    /// permessage-deflate, once negotiated.
    deflate: Option<Box<Deflate>>,
}

/// The sending half of a negotiated permessage-deflate (the receiving half
/// is the decoder's inflater).
#[derive(Debug)]
struct Deflate {
    params: DeflateParams,
    threshold: usize,
    /// `None` when this end may not compress (an 8-bit window).
    deflater: Option<Deflater>,
    /// Compressed payload on its way to the frames.
    buf: Vec<u8>,
}

impl Deflate {
    /// Compresses `payload` into `self.buf` when that is worth it (RFC 7692
    /// section 7.2.1). A message below the threshold, or that would not
    /// shrink, goes out uncompressed; the compressor then forgets its
    /// window, since the peer's window will not hold that message either.
    fn compress(&mut self, payload: &[u8]) -> bool {
        let Some(deflater) = &mut self.deflater else {
            return false;
        };
        if payload.len() < self.threshold {
            return false;
        }
        if deflater.compress(payload, &mut self.buf) && self.buf.len() < payload.len() {
            return true;
        }
        deflater.reset();
        false
    }
}

/// The compression buffer is kept between messages up to this size.
const DEFLATE_BUF_KEEP: usize = 64 * 1024;

impl Connection {
    /// A server connection, waiting for the client's request.
    ///
    /// `seed` feeds the generator of mask keys; draw it from the OS.
    pub fn server(config: Arc<Config>, now: Instant, seed: [u8; 32]) -> Self {
        let head = HeadReader::new(config.max_handshake_bytes);
        let state = State::ReadRequest(Box::new(head));
        let mut conn = Self::new(config, Role::Server, state, now, seed);
        conn.handshake_deadline = now.checked_add(conn.config.handshake_timeout);
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
        conn.handshake_deadline = now.checked_add(conn.config.handshake_timeout);
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

    fn new(config: Arc<Config>, role: Role, state: State, now: Instant, seed: [u8; 32]) -> Self {
        let decoder = Decoder::new(DecoderConfig {
            expect_masked: role == Role::Server,
            allow_unmasked: role == Role::Server && !config.masking_strict,
            allowed_rsv: 0,
            max_frame_size: config.max_frame_size,
            max_message_size: config.max_message_size,
            max_fragments: config.max_fragments,
        });
        Self {
            config,
            role,
            state,
            rng: Some(Box::new(Rng::new(seed))),
            decoder,
            events: VecDeque::new(),
            input_done: false,
            out: Vec::new(),
            owned: None,
            early: None,
            pong: None,
            close_sent: false,
            close_received: false,
            peer_close: None,
            error: None,
            closed_reported: false,
            close_transport: false,
            close_transport_sent: false,
            handshake_deadline: None,
            close_deadline: None,
            last_received: now,
            last_progress: now,
            unwritten: false,
            ping_outstanding: None,
            ping_payload: [0; 8],
            deflate: None,
        }
    }

    /// Sets up both directions of permessage-deflate after the handshake.
    fn enable_deflate(&mut self, params: DeflateParams) {
        let config = self.config.deflate.unwrap_or_default();
        let dirs = Directions::new(&params, &config, self.role == Role::Server);
        // The full window whatever was agreed: see the `deflate` module docs.
        self.decoder
            .set_inflater(Some(Inflater::new(MAX_WINDOW_BITS)));
        self.deflate = Some(Box::new(Deflate {
            params,
            threshold: config.threshold,
            deflater: dirs
                .compress_bits
                .map(|bits| Deflater::new(config.level, bits, dirs.compress_reset)),
            buf: Vec::new(),
        }));
    }

    /// The permessage-deflate parameters agreed on in the handshake, if any.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_ref().map(|d| &d.params)
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Whether messages can be sent now (handshake done, no close sent).
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open) && !self.close_sent
    }

    /// Whether the connection is over: `Closed` was reported and the
    /// transport needs nothing more (`Transmit::Close` was handed out). A
    /// client that completed the close handshake is not finished until the
    /// server closes TCP (`handle_eof`) or the close timeout passes (section
    /// 7.1.1). Drain the outputs first.
    pub fn is_finished(&self) -> bool {
        self.closed_reported && self.close_transport_sent
    }

    /// How the transport should be closed once [`Transmit::Close`] was
    /// handed out (see [`TransportClose`]).
    pub fn transport_close(&self) -> TransportClose {
        match self.error.as_deref() {
            Some(Error::Timeout(TimeoutKind::Write)) => TransportClose::Abort,
            Some(Error::Handshake(_) | Error::Timeout(TimeoutKind::Handshake))
                if self.role == Role::Client =>
            {
                TransportClose::Prompt
            }
            _ => TransportClose::Linger,
        }
    }

    // ---------------------------------------------------------------- inputs

    /// Takes bytes from the transport. Any split of the stream gives the same
    /// events and output.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.last_received = now;
        match &mut self.state {
            State::ReadRequest(head) => match head.push(data) {
                Ok(None) => {}
                Ok(Some(end)) => {
                    let buf = head.take();
                    self.on_request_head(now, buf, end);
                }
                Err(e) => self.fail_handshake(e),
            },
            State::AwaitAnswer(_) => self.hold_early(data),
            State::ReadResponse(r) => match r.head.push(data) {
                Ok(None) => {}
                Ok(Some(end)) => {
                    let buf = r.head.take();
                    self.on_response_head(now, buf, end);
                }
                Err(e) => self.fail_handshake(e),
            },
            State::Open => self.read_frames(now, data),
            State::Finished => {}
        }
    }

    /// The transport reached end of stream (a read of 0 bytes, or the
    /// transport failed). Frames decoded before it are acted on first; then
    /// [`Event::Closed`] is reported, unless it was already. Without a close
    /// frame from the peer or an earlier error, the end is unexpected: the
    /// close code is 1006 and the error [`Error::UnexpectedEof`]. All deadlines are
    /// cleared; nothing can be sent afterwards.
    pub fn handle_eof(&mut self, _now: Instant) {
        if !self.events.is_empty() {
            // Frames decoded before the end are acted on first.
            self.events.push_back(Pending::Eof);
            return;
        }
        self.on_eof();
    }

    fn on_eof(&mut self) {
        if !matches!(self.state, State::Finished) || !self.closed_reported {
            if !self.close_received && self.error.is_none() {
                self.error = Some(Box::new(Error::UnexpectedEof));
            }
            self.state = State::Finished;
            self.report_closed();
        }
        self.close_deadline = None;
        self.handshake_deadline = None;
        // Our side of TCP can go too.
        self.close_transport = true;
    }

    /// Fires the deadlines that are due. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.handshake_deadline.is_some_and(|d| d <= now) {
            self.handshake_deadline = None;
            if let State::ReadRequest(_) | State::AwaitAnswer(_) = self.state {
                let mut res = Response::new(408);
                res.headers.push(("Connection".into(), b"close".to_vec()));
                res.write_to(&mut self.out);
            }
            self.error
                .get_or_insert_with(|| Box::new(Error::Timeout(TimeoutKind::Handshake)));
            self.finish_now();
        }
        if self.write_deadline().is_some_and(|d| d <= now) {
            // The peer took nothing for the whole deadline: nothing queued
            // will reach it, a close frame included.
            self.out = Vec::new();
            self.owned = None;
            self.early = None;
            self.pong = None;
            self.error
                .get_or_insert_with(|| Box::new(Error::Timeout(TimeoutKind::Write)));
            self.finish_now();
        }
        if self.close_deadline.is_some_and(|d| d <= now) {
            self.close_deadline = None;
            if !self.close_received {
                self.error
                    .get_or_insert_with(|| Box::new(Error::Timeout(TimeoutKind::Close)));
            }
            self.finish_now();
        }
        if !self.is_open() || self.closed_reported {
            return;
        }
        if let Some(sent) = self.ping_outstanding {
            if sent
                .checked_add(self.config.keepalive_timeout)
                .is_some_and(|d| d <= now)
            {
                self.error = Some(Box::new(Error::Timeout(TimeoutKind::Keepalive)));
                // Best effort: tell the peer, then drop the transport.
                self.write_close_frame(CloseCode::INTERNAL, "keepalive timeout");
                self.finish_now();
                return;
            }
        } else if let Some(interval) = self.config.keepalive_interval {
            if self
                .last_received
                .checked_add(interval)
                .is_some_and(|d| d <= now)
            {
                let payload = self.rng.as_mut().map_or(0, |rng| rng.next_u64());
                self.ping_payload = payload.to_le_bytes();
                let payload = self.ping_payload;
                self.write_control(OpCode::Ping, &payload);
                self.ping_outstanding = Some(now);
            }
        }
        if let Some(idle) = self.config.idle_timeout {
            if self
                .last_received
                .checked_add(idle)
                .is_some_and(|d| d <= now)
            {
                self.error = Some(Box::new(Error::Timeout(TimeoutKind::Idle)));
                let _ = self.close(now, CloseCode::AWAY, "idle timeout");
            }
        }
    }

    // -------------------------------------------------------------- commands

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

    /// Queues a message. Before the handshake completes it is held and sent
    /// once the connection opens.
    pub fn send(&mut self, now: Instant, message: Message) -> Result<(), SendError> {
        let _ = now;
        self.check_can_send(message.len())?;
        if matches!(self.state, State::Open) {
            let opcode = if matches!(message, Message::Text(_)) {
                OpCode::Text
            } else {
                OpCode::Binary
            };
            if message.len() >= OWNED_MIN
                && message.len() <= self.config.fragment_size
                && self.deflate.is_none()
            {
                self.write_owned(opcode, message.into_bytes());
            } else {
                self.write_message(opcode, message.as_bytes());
            }
        } else {
            let early = self.early.get_or_insert_default();
            early.bytes += message.len();
            early.messages.push(message);
        }
        Ok(())
    }

    /// Queues a binary message from borrowed bytes (no intermediate `Vec`).
    pub fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SendError> {
        if !matches!(self.state, State::Open) {
            return self.send(now, Message::Binary(data.to_vec()));
        }
        self.check_can_send(data.len())?;
        self.write_message(OpCode::Binary, data);
        Ok(())
    }

    /// Queues a text message from a borrowed string (no intermediate `String`).
    pub fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SendError> {
        if !matches!(self.state, State::Open) {
            return self.send(now, Message::Text(text.to_owned()));
        }
        self.check_can_send(text.len())?;
        self.write_message(OpCode::Text, text.as_bytes());
        Ok(())
    }

    /// Queues a ping (payload at most 125 bytes); the peer's pong comes back
    /// as [`Event::Pong`]. Fails with [`SendError::ControlTooLong`] for a
    /// longer payload, and with [`SendError::Closed`] before the connection
    /// is open or once a close frame was sent.
    pub fn ping(&mut self, _now: Instant, payload: &[u8]) -> Result<(), SendError> {
        self.control_allowed(payload)?;
        self.write_control(OpCode::Ping, payload);
        Ok(())
    }

    /// Queues an unsolicited pong (payload at most 125 bytes), which RFC 6455
    /// section 5.5.3 allows as a heartbeat.
    pub fn pong(&mut self, _now: Instant, payload: &[u8]) -> Result<(), SendError> {
        self.control_allowed(payload)?;
        self.write_control(OpCode::Pong, payload);
        Ok(())
    }

    /// Starts the close handshake with `code` and `reason` (cut to 123
    /// bytes). Closing again is a no-op. Before the handshake completes the
    /// close is held, like messages, and sent after them once the connection
    /// opens; no message can be queued after it.
    pub fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if !code.is_allowed() {
            return Err(SendError::InvalidCloseCode(code.0));
        }
        if self.close_sent || self.closed_reported {
            return Ok(());
        }
        if !matches!(self.state, State::Open) {
            let early = self.early.get_or_insert_default();
            if early.close.is_none() {
                early.close = Some((code, reason.to_owned()));
            }
            return Ok(());
        }
        self.write_close_frame(code, reason);
        if self.close_received {
            self.after_close_handshake(now);
        } else {
            self.close_deadline = now.checked_add(self.config.close_timeout);
        }
        Ok(())
    }

    // --------------------------------------------------------------- outputs

    /// The next event, if any. Drain after every input and command.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            let Some(pending) = self.events.pop_front() else {
                // Hold no memory between bursts: an idle connection is small.
                if self.events.capacity() != 0 {
                    self.events = VecDeque::new();
                }
                return None;
            };
            match pending {
                Pending::Event(event) => return Some(event),
                Pending::Ping(payload) => {
                    self.answer_ping(&payload);
                    return Some(Event::Ping(payload));
                }
                Pending::Close(frame, now) => self.on_close_frame(now, frame),
                Pending::Fail(error) => self.fail(error),
                Pending::Eof => self.on_eof(),
            }
        }
    }

    /// Appends the bytes to write to `buf` and says how many, or says that
    /// the transport should be closed (after the bytes before it are written).
    /// Drain until it returns `None` after every input and command.
    ///
    /// When `buf` is empty it is replaced by the core's own buffer, without a
    /// copy (whatever capacity `buf` had is freed): the core holds no output
    /// buffer between writes, so an idle connection costs little memory.
    /// A runtime that wants the same should drop `buf` once written rather
    /// than keep its capacity.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if !self.unwritten {
            // Nothing waits in the runtime: the transport keeps up, and
            // whatever is taken now starts a fresh write deadline.
            self.last_progress = now;
        }
        if let Some(payload) = self.pong.take() {
            self.write_control(OpCode::Pong, &payload);
        }
        if let Some(owned) = self.owned.as_deref_mut() {
            if let Some(next) = owned.bufs.pop_front() {
                owned.len -= next.len();
                if owned.bufs.is_empty() {
                    self.owned = None;
                }
                let len = next.len();
                if buf.is_empty() {
                    *buf = next;
                } else {
                    buf.extend_from_slice(&next);
                }
                return Some(Transmit::Data(len));
            }
        }
        if !self.out.is_empty() {
            let len = self.out.len();
            if buf.is_empty() {
                // The bytes change hands without a copy, and the core keeps
                // no buffer while there is nothing to send.
                *buf = std::mem::take(&mut self.out);
            } else {
                buf.extend_from_slice(&self.out);
                self.out = Vec::new();
            }
            return Some(Transmit::Data(len));
        }
        if self.close_transport && !self.close_transport_sent {
            self.close_transport_sent = true;
            return Some(Transmit::Close);
        }
        None
    }

    /// The earliest deadline; call [`Connection::handle_timeout`] then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.handshake_deadline;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.close_deadline);
        if self.is_open() && !self.closed_reported {
            match self.ping_outstanding {
                Some(sent) => consider(sent.checked_add(self.config.keepalive_timeout)),
                None => consider(
                    self.config
                        .keepalive_interval
                        .and_then(|i| self.last_received.checked_add(i)),
                ),
            }
            consider(
                self.config
                    .idle_timeout
                    .and_then(|i| self.last_received.checked_add(i)),
            );
        }
        consider(self.write_deadline());
        next
    }

    /// When the output waiting (here or in the runtime) counts as stalled
    /// (see `Config::write_timeout`); `None` while nothing waits.
    fn write_deadline(&self) -> Option<Instant> {
        if self.closed_reported || !self.unwritten && self.buffered_amount() == 0 {
            return None;
        }
        self.config
            .write_timeout
            .and_then(|t| self.last_progress.checked_add(t))
    }

    /// Tells the core how the transport is keeping up: it just took
    /// `written` bytes (0 after a write that would block), and `unwritten`
    /// of those handed out by [`Connection::poll_transmit`] still wait for
    /// it in the runtime. Call it after every write attempt.
    ///
    /// Output counts as stalled, and the connection ends with a write
    /// timeout, when nothing was written for `Config::write_timeout` while
    /// some waited, here or in the runtime. A runtime that never calls this
    /// gets the deadline counted from its last [`Connection::poll_transmit`]
    /// instead, which only sees output that stays in the core.
    pub fn handle_written(&mut self, now: Instant, written: usize, unwritten: usize) {
        if written > 0 {
            self.last_progress = now;
        }
        self.unwritten = unwritten > 0;
    }

    /// Bytes encoded and not yet taken by `poll_transmit`, plus messages held
    /// until the handshake completes.
    pub fn buffered_amount(&self) -> usize {
        self.out.len()
            + self.owned.as_ref().map_or(0, |o| o.len)
            + self.early.as_ref().map_or(0, |e| e.bytes)
    }

    // ------------------------------------------------------------- internals

    fn on_request_head(&mut self, now: Instant, buf: Vec<u8>, end: usize) {
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
    fn hold_early(&mut self, data: &[u8]) {
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

    fn on_response_head(&mut self, now: Instant, buf: Vec<u8>, end: usize) {
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

    /// Client: the extensions the server accepted. Only permessage-deflate,
    /// once, and only when configured (RFC 6455 section 4.1: the client
    /// fails the connection on an extension it did not offer).
    fn check_extensions(
        &self,
        request: &Request,
        response: &Response,
    ) -> Result<Option<DeflateParams>, HandshakeError> {
        let mut accepted = response.extensions();
        let Some(first) = accepted.next() else {
            return Ok(None);
        };
        let name = handshake::extension_name(first);
        let config = match self.config.deflate {
            Some(config) if name.eq_ignore_ascii_case(EXTENSION_NAME) => config,
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
        config.check_response(request.extensions(), first).map(Some)
    }

    fn open(&mut self, now: Instant, request: Option<Request>, response: Response, early: &[u8]) {
        self.state = State::Open;
        self.handshake_deadline = None;
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

    fn read_frames(&mut self, now: Instant, mut data: &[u8]) {
        while !data.is_empty() && !self.input_done && !self.closed_reported {
            match self.decoder.decode(data) {
                Ok((used, item)) => {
                    data = &data[used..];
                    if let Some(item) = item {
                        self.on_item(now, item);
                    }
                }
                Err(e) => {
                    self.input_done = true;
                    self.events.push_back(Pending::Fail(e));
                    return;
                }
            }
        }
    }

    fn on_item(&mut self, now: Instant, item: Decoded) {
        match item {
            Decoded::Message(m) => self.emit(Event::Message(m)),
            Decoded::Ping(payload) => self.events.push_back(Pending::Ping(payload)),
            Decoded::Pong(payload) => {
                // Only the answer to the keepalive ping ends its wait; an
                // unsolicited pong, or the answer to the application's own
                // ping, does not.
                if self.ping_outstanding.is_some() && payload == self.ping_payload {
                    self.ping_outstanding = None;
                }
                self.emit(Event::Pong(payload));
            }
            Decoded::Close(frame) => {
                self.input_done = true;
                self.events.push_back(Pending::Close(frame, now));
            }
        }
    }

    fn emit(&mut self, event: Event) {
        self.events.push_back(Pending::Event(event));
    }

    /// Queues the pong for a ping the application has reached.
    fn answer_ping(&mut self, payload: &[u8]) {
        if self.close_sent || self.closed_reported {
            return;
        }
        if self.pong.is_some() || self.buffered_amount() >= PONG_BACKLOG {
            self.pong = Some(payload.to_vec());
        } else {
            self.write_control(OpCode::Pong, payload);
        }
    }

    fn on_close_frame(&mut self, now: Instant, frame: Option<CloseFrame>) {
        if self.closed_reported {
            return;
        }
        self.close_received = true;
        if !self.close_sent {
            // Echo the peer's code (section 5.5.1); a close without a code
            // is answered without one.
            match &frame {
                Some(f) => self.write_close_frame(f.code, ""),
                None => self.write_close_payload(&[]),
            }
        }
        self.peer_close = frame.map(Box::new);
        self.after_close_handshake(now);
    }

    /// Both close frames are exchanged: report, and end the transport as the
    /// role requires (section 7.1.1: the server closes TCP first; a client
    /// waits for it, within the close timeout).
    fn after_close_handshake(&mut self, now: Instant) {
        self.report_closed();
        self.close_deadline = None;
        match self.role {
            Role::Server => self.finish_now(),
            Role::Client => {
                self.state = State::Finished;
                self.close_deadline = now.checked_add(self.config.close_timeout);
            }
        }
    }

    /// Fails the connection (section 7.1.7): send the error's close code,
    /// report, and close the transport.
    fn fail(&mut self, error: ProtocolError) {
        if !self.close_sent {
            let reason = error.to_string();
            self.write_close_frame(error.close_code(), &reason);
        }
        self.error = Some(Box::new(Error::Protocol(error)));
        self.finish_now();
    }

    fn fail_handshake(&mut self, error: HandshakeError) {
        if self.role == Role::Server {
            Response::for_error(&error).write_to(&mut self.out);
        }
        self.error = Some(Box::new(Error::Handshake(error)));
        self.finish_now();
    }

    /// Reports `Closed` (once) and asks for the transport to be closed.
    fn finish_now(&mut self) {
        self.state = State::Finished;
        self.handshake_deadline = None;
        self.close_deadline = None;
        self.report_closed();
        self.close_transport = true;
    }

    fn report_closed(&mut self) {
        if self.closed_reported {
            return;
        }
        self.closed_reported = true;
        let (code, reason) = match (&self.peer_close, self.error.as_deref()) {
            (Some(f), _) => (f.code, f.reason.clone()),
            (None, _) if self.close_received => (CloseCode::NO_STATUS, String::new()),
            (None, Some(Error::Protocol(e))) => (e.close_code(), e.to_string()),
            (None, _) => (CloseCode::ABNORMAL, String::new()),
        };
        let error = self.error.as_deref().cloned();
        self.emit(Event::Closed(Closed {
            code,
            reason,
            error,
        }));
    }

    fn check_can_send(&self, len: usize) -> Result<(), SendError> {
        if self.close_sent
            || self.closed_reported
            || self.early.as_ref().is_some_and(|e| e.close.is_some())
            || matches!(self.state, State::Finished)
        {
            return Err(SendError::Closed);
        }
        let buffered = self.buffered_amount();
        if buffered + len > self.config.max_write_buffer {
            return Err(SendError::BufferFull {
                buffered,
                max: self.config.max_write_buffer,
            });
        }
        Ok(())
    }

    fn control_allowed(&self, payload: &[u8]) -> Result<(), SendError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong(payload.len()));
        }
        if !matches!(self.state, State::Open) || self.close_sent {
            return Err(SendError::Closed);
        }
        Ok(())
    }

    fn write_message(&mut self, opcode: OpCode, payload: &[u8]) {
        if let Some(mut deflate) = self.deflate.take() {
            if deflate.compress(payload) {
                self.write_fragments(opcode, RSV1, &deflate.buf);
                if deflate.buf.capacity() > DEFLATE_BUF_KEEP {
                    deflate.buf = Vec::new();
                }
            } else {
                self.write_fragments(opcode, 0, payload);
            }
            self.deflate = Some(deflate);
            return;
        }
        self.write_fragments(opcode, 0, payload);
    }

    /// A message in one frame whose payload buffer leaves the core as it is
    /// (masked in place by a client), after a buffer with what `out` held
    /// and the frame's header.
    fn write_owned(&mut self, opcode: OpCode, mut payload: Vec<u8>) {
        let mask = match self.role {
            Role::Client => self.rng.as_mut().map(|rng| rng.mask_key()),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        header.write_to(&mut self.out);
        if let Some(key) = mask {
            apply_mask(&mut payload, key, 0);
        }
        let head = std::mem::take(&mut self.out);
        let owned = self.owned.get_or_insert_default();
        owned.len += head.len() + payload.len();
        owned.bufs.push_back(head);
        owned.bufs.push_back(payload);
    }

    fn write_fragments(&mut self, opcode: OpCode, rsv: u8, payload: &[u8]) {
        let size = self.config.fragment_size.max(1);
        if payload.len() <= size {
            return self.write_frame_rsv(true, rsv, opcode, payload);
        }
        let mut chunks = payload.chunks(size).peekable();
        let (mut op, mut rsv) = (opcode, rsv);
        while let Some(chunk) = chunks.next() {
            // RSV1 on the first frame only (RFC 7692 section 6).
            self.write_frame_rsv(chunks.peek().is_none(), rsv, op, chunk);
            op = OpCode::Continuation;
            rsv = 0;
        }
    }

    fn write_control(&mut self, opcode: OpCode, payload: &[u8]) {
        self.write_frame(true, opcode, payload);
    }

    fn write_close_frame(&mut self, code: CloseCode, reason: &str) {
        let mut payload = Vec::with_capacity(2 + reason.len().min(123));
        CloseFrame {
            code,
            reason: truncate_reason(reason).to_owned(),
        }
        .write_payload(&mut payload);
        self.write_close_payload(&payload);
    }

    fn write_close_payload(&mut self, payload: &[u8]) {
        self.write_frame(true, OpCode::Close, payload);
        self.close_sent = true;
        self.pong = None;
    }

    fn write_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        self.write_frame_rsv(fin, 0, opcode, payload);
    }

    fn write_frame_rsv(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) {
        let mask = match self.role {
            Role::Client => self.rng.as_mut().map(|rng| rng.mask_key()),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        self.out.reserve(header.encoded_len() + payload.len());
        header.write_to(&mut self.out);
        match mask {
            Some(key) => mask_into(&mut self.out, payload, key, 0),
            None => self.out.extend_from_slice(payload),
        }
    }
}

fn check_headers(headers: &handshake::Headers) -> Result<(), StateError> {
    match headers
        .iter()
        .find(|(n, v)| !handshake::header_is_valid(n, v))
    {
        Some((name, _)) => Err(StateError::InvalidHeader(name.clone())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::apply_mask;

    /// A masked client frame.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [1, 2, 3, 4];
        assert!(payload.len() < 126);
        let mut out = vec![first, 0x80 | payload.len() as u8];
        out.extend_from_slice(&key);
        let start = out.len();
        out.extend_from_slice(payload);
        apply_mask(&mut out[start..], key, 0);
        out
    }

    fn open_server(now: Instant) -> Connection {
        let mut conn =
            Connection::established(Arc::new(Config::default()), Role::Server, now, [7; 32]);
        assert_eq!(conn.poll_event(), None);
        conn
    }

    /// The server's unmasked frames, as (first byte, payload).
    fn frames(mut wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        while !wire.is_empty() {
            let len = usize::from(wire[1]);
            assert!(len < 126);
            out.push((wire[0], wire[2..2 + len].to_vec()));
            wire = &wire[2 + len..];
        }
        out
    }

    fn drain(conn: &mut Connection, now: Instant) -> Vec<u8> {
        let mut wire = Vec::new();
        while let Some(t) = conn.poll_transmit(now, &mut wire) {
            if t == Transmit::Close {
                break;
            }
        }
        wire
    }

    /// Replies to a message go out before the pong of a later ping and the
    /// close frame of a later protocol error, even when all arrive at once.
    #[test]
    fn replies_precede_later_pongs_and_failures() {
        let now = Instant::now();
        let mut conn = open_server(now);
        let mut input = frame(0x81, b"one");
        input.extend(frame(0x89, b"p1"));
        input.extend(frame(0x89, b"p2"));
        input.extend(frame(0x81, b"two"));
        input.extend(frame(0xA1, b"bad rsv"));
        input.extend(frame(0x81, b"never"));
        conn.handle_input(now, &input);

        let mut seen = Vec::new();
        while let Some(event) = conn.poll_event() {
            if let Event::Message(m) = &event {
                conn.send(now, m.clone()).unwrap();
            }
            seen.push(event);
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
        assert!(matches!(&seen[4], Event::Closed(c) if c.code == CloseCode::PROTOCOL));
        let wire = drain(&mut conn, now);
        let got = frames(&wire);
        let kinds: Vec<u8> = got.iter().map(|f| f.0).collect();
        assert_eq!(kinds, [0x81, 0x8A, 0x8A, 0x81, 0x88]);
        assert_eq!(got[1].1, b"p1");
        assert_eq!(got[2].1, b"p2");
        assert_eq!(got[3].1, b"two");
        assert_eq!(&got[4].1[..2], &1002u16.to_be_bytes());
    }

    /// A close frame followed by the end of the stream in one read still
    /// reports the peer's code, after the messages before it.
    #[test]
    fn close_then_eof_reports_the_peer_code() {
        let now = Instant::now();
        let mut conn = open_server(now);
        let mut input = frame(0x82, b"data");
        input.extend(frame(0x88, &[0x0f, 0xa0, b'b', b'y', b'e']));
        conn.handle_input(now, &input);
        conn.handle_eof(now);
        let first = conn.poll_event();
        assert!(matches!(first, Some(Event::Message(Message::Binary(ref b))) if b == b"data"));
        match conn.poll_event() {
            Some(Event::Closed(c)) => {
                assert_eq!(c.code, CloseCode(4000));
                assert_eq!(c.reason, "bye");
                assert_eq!(c.error, None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(conn.poll_event(), None);
    }

    /// Pings from a peer that never reads cost bounded memory: past the
    /// backlog only the latest pong is kept.
    #[test]
    fn ping_flood_coalesces_pongs() {
        let now = Instant::now();
        let mut conn = open_server(now);
        let ping = frame(0x89, &[b'x'; 100]);
        for _ in 0..10_000 {
            conn.handle_input(now, &ping);
            while conn.poll_event().is_some() {}
        }
        assert!(conn.buffered_amount() <= PONG_BACKLOG + 2 + 125);
        let wire = drain(&mut conn, now);
        assert!(wire.len() <= PONG_BACKLOG + 2 * (2 + 125));
    }

    /// A close asked for before the handshake completes is sent after the
    /// messages queued before it, once the connection opens.
    #[test]
    fn close_before_open_is_queued_after_messages() {
        let now = Instant::now();
        let config = Arc::new(Config::default());
        let request = Request::client("ws://127.0.0.1/").unwrap();
        let mut client = Connection::client(config.clone(), request, now, [1; 32]);
        let mut server = Connection::server(config, now, [2; 32]);
        client.send(now, Message::Text("first".into())).unwrap();
        client.close(now, CloseCode::NORMAL, "bye").unwrap();
        assert!(client.send(now, Message::Text("late".into())).is_err());

        let wire = drain(&mut client, now);
        server.handle_input(now, &wire);
        assert!(matches!(server.poll_event(), Some(Event::Request(_))));
        server.accept(now, Accept::default()).unwrap();
        let wire = drain(&mut server, now);
        client.handle_input(now, &wire);
        assert!(matches!(client.poll_event(), Some(Event::Open(_))));
        let wire = drain(&mut client, now);
        server.handle_input(now, &wire);
        let mut events = Vec::new();
        while let Some(e) = server.poll_event() {
            events.push(e);
        }
        assert!(matches!(&events[0], Event::Open(_)));
        assert_eq!(events[1], Event::Message(Message::Text("first".into())));
        assert!(
            matches!(&events[2], Event::Closed(c) if c.code == CloseCode::NORMAL && c.reason == "bye")
        );
    }

    /// Every open connection holds a `Connection`, so its size is the
    /// floor of the memory an idle connection costs: state that only some
    /// connections need (the handshake, deflate, messages queued before
    /// the handshake, a message arriving in pieces, an error) is boxed.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_idle_connection_is_small() {
        let size = std::mem::size_of::<Connection>();
        // 336, then 8 bytes for the keepalive ping's payload and 16 for the
        // write deadline's clock.
        assert!(size <= 360, "Connection is {size} bytes");
        let decoder = std::mem::size_of::<crate::Decoder>();
        assert!(decoder <= 112, "Decoder is {decoder} bytes");
    }

    /// Between bursts the core holds no buffers: the event queue and the
    /// output buffer are released once drained.
    #[test]
    fn buffers_are_released_when_drained() {
        let now = Instant::now();
        let config = Arc::new(Config::default());
        let mut conn = Connection::established(config, Role::Server, now, [1; 32]);
        conn.send(now, Message::Binary(vec![7; 4096])).unwrap();
        // A masked client frame with a 1 KiB payload.
        let mut frame = vec![0x82, 0xFE, 0x04, 0x00, 1, 2, 3, 4];
        frame.extend(std::iter::repeat_n(0u8, 1024));
        conn.handle_input(now, &frame);
        assert!(conn.events.capacity() > 0);
        while conn.poll_event().is_some() {}
        assert_eq!(conn.events.capacity(), 0);
        let mut buf = Vec::new();
        while conn.poll_transmit(now, &mut buf).is_some() {}
        assert!(buf.len() > 4096);
        assert_eq!(conn.out.capacity(), 0);
    }

    /// A large message leaves the core in its own buffer, after its header
    /// and anything queued before it, in order; the peer decodes the same
    /// message (a client masks it in place).
    #[test]
    fn large_messages_leave_in_their_own_buffer() {
        let now = Instant::now();
        let config = Arc::new(Config::default());
        for role in [Role::Server, Role::Client] {
            let mut conn = Connection::established(config.clone(), role, now, [3; 32]);
            let peer_role = match role {
                Role::Server => Role::Client,
                Role::Client => Role::Server,
            };
            let mut peer = Connection::established(config.clone(), peer_role, now, [4; 32]);
            let big: Vec<u8> = (0..OWNED_MIN * 4).map(|i| (i % 251) as u8).collect();
            let payload = big.clone();
            let address = payload.as_ptr();
            conn.send(now, Message::Text("before".into())).unwrap();
            conn.send(now, Message::Binary(payload)).unwrap();
            conn.send(now, Message::Text("after".into())).unwrap();
            let mut bufs = Vec::new();
            loop {
                let mut buf = Vec::new();
                match conn.poll_transmit(now, &mut buf) {
                    Some(Transmit::Data(n)) => {
                        assert_eq!(n, buf.len());
                        bufs.push(buf);
                    }
                    Some(Transmit::Close) => panic!("no close was asked for"),
                    None => break,
                }
            }
            // The payload's own allocation went out, not a copy.
            assert!(bufs.iter().any(|b| b.as_ptr() == address), "{role:?}");
            assert_eq!(conn.buffered_amount(), 0);
            for buf in &bufs {
                peer.handle_input(now, buf);
            }
            let mut got = Vec::new();
            while let Some(event) = peer.poll_event() {
                if let Event::Message(m) = event {
                    got.push(m);
                }
            }
            assert_eq!(
                got,
                [
                    Message::Text("before".into()),
                    Message::Binary(big),
                    Message::Text("after".into())
                ],
                "{role:?}"
            );
        }
    }
}
