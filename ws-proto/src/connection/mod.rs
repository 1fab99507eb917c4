//! The connection state machine: handshake, messages, close handshake and
//! timers, driven by the caller's bytes and clock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crate::close::{CloseCode, CloseFrame};
use crate::config::Config;
use crate::decoder::{Decoder, DecoderConfig};
use crate::error::{Error, HandshakeError};
use crate::handshake::{HeadReader, Request, Response};
use crate::message::Message;
use crate::rng::Rng;
use compression::Deflate;
use input::Pending;
use transmit::Owned;

mod closing;
mod compression;
mod input;
mod opening;
mod send;
#[cfg(test)]
mod tests;
mod timers;
mod transmit;

pub use closing::{Closed, TransportClose};
pub(crate) use opening::check_extensions;
pub use transmit::Transmit;

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
    /// What input must arrive by: before the connection opens, the whole
    /// opening handshake (`Config::handshake_timeout`); once open, the
    /// frame or fragmented message in progress (`Config::message_timeout`,
    /// `None` between messages). One field for both keeps an open
    /// connection small.
    read_deadline: Option<Instant>,
    close_deadline: Option<Instant>,
    /// The last complete frame (or the end of the opening handshake): what
    /// `Config::idle_timeout` and the keepalive interval count from.
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

impl Connection {
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
            read_deadline: None,
            close_deadline: None,
            last_received: now,
            last_progress: now,
            unwritten: false,
            ping_outstanding: None,
            ping_payload: [0; 8],
            deflate: None,
        }
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

    /// Whether the peer's Close frame has arrived (decoded, even if the
    /// events before it are still to be polled). A runtime whose write
    /// fails (the peer closed its socket right after its Close) feeds the
    /// core what is still readable first; if that holds the Close, the
    /// failed write is the expected end of a clean close, not an error.
    pub fn close_received(&self) -> bool {
        self.close_received || self.events.iter().any(|p| matches!(p, Pending::Close(..)))
    }
}
