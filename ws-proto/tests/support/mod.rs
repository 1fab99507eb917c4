//! Shared test support: wire helpers and a client/server [`Pair`] driven in
//! virtual time (a fixed `Instant` base plus `Duration`s; nothing sleeps and
//! no socket is opened).
//!
//! The harness checks the core's output contract on every step: `Closed` is
//! reported at most once and nothing follows it, and no bytes are produced
//! after `Transmit::Close`.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_proto::{
    Accept, Closed, Config, Connection, Event, FrameHeader, Message, OpCode, Request, Status,
    Transmit, apply_mask,
};

/// The opening handshake request of RFC 6455 section 1.3.
pub(crate) const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Origin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// The key of [`RFC_REQUEST`] and the matching accept value.
pub(crate) const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub(crate) const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A 101 response matching [`RFC_KEY`].
pub(crate) const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

pub(crate) const CLIENT_SEED: [u8; 32] = [1; 32];
pub(crate) const SERVER_SEED: [u8; 32] = [2; 32];

/// One frame on the wire, masked with `mask` when given.
pub(crate) fn frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode: OpCode::from_u8(opcode).expect("valid opcode"),
        mask,
        payload_len: payload.len() as u64,
    };
    let mut out = Vec::new();
    header.write_to(&mut out);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// A masked frame as a client sends it.
pub(crate) fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, opcode, Some([0x37, 0xfa, 0x21, 0x3d]), payload)
}

/// A close frame payload: the code, big-endian, then the reason.
pub(crate) fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// A frame read back from the wire, unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireFrame {
    pub(crate) fin: bool,
    pub(crate) opcode: OpCode,
    pub(crate) masked: bool,
    pub(crate) payload: Vec<u8>,
}

impl WireFrame {
    /// The close code of a close frame, if it carries one.
    pub(crate) fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, OpCode::Close);
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Splits `bytes` into whole frames; panics on anything else.
pub(crate) fn parse_frames(mut bytes: &[u8]) -> Vec<WireFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let Ok(Status::Complete((header, len))) = FrameHeader::parse(bytes) else {
            panic!("not a whole frame: {bytes:02x?}");
        };
        let end = len + header.payload_len as usize;
        let mut payload = bytes[len..end].to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        frames.push(WireFrame {
            fin: header.fin,
            opcode: header.opcode,
            masked: header.mask.is_some(),
            payload,
        });
        bytes = &bytes[end..];
    }
    frames
}

/// The length of the HTTP head at the start of `bytes`.
pub(crate) fn head_len(bytes: &[u8]) -> usize {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .expect("an HTTP head")
}

/// Everything the connection wants to write now, and whether it asked for
/// the transport to be closed (after those bytes).
pub(crate) fn drain_transmit(conn: &mut Connection, now: Instant) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut close = false;
    while let Some(t) = conn.poll_transmit(now, &mut out) {
        match t {
            Transmit::Data(_) => assert!(!close, "bytes after Transmit::Close"),
            Transmit::Close => {
                assert!(!close, "Transmit::Close twice");
                close = true;
            }
        }
    }
    (out, close)
}

pub(crate) fn drain_events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// The one `Closed` in `events`, checking that it is last.
pub(crate) fn the_closed(events: &[Event]) -> Closed {
    let closed: Vec<_> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Event::Closed(c) => Some((i, c.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 1, "exactly one Closed in {events:?}");
    assert_eq!(
        closed[0].0,
        events.len() - 1,
        "Closed is last in {events:?}"
    );
    closed[0].1.clone()
}

pub(crate) fn messages(events: &[Event]) -> Vec<Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// A server connection that has accepted [`RFC_REQUEST`] at `now`, with its
/// outputs drained.
pub(crate) fn open_server(config: Config, now: Instant) -> Connection {
    let mut conn = Connection::server(Arc::new(config), now, SERVER_SEED);
    conn.handle_input(now, RFC_REQUEST);
    let events = drain_events(&mut conn);
    assert!(
        matches!(events.as_slice(), [Event::Request(_)]),
        "{events:?}"
    );
    conn.accept(now, Accept::default()).expect("accept");
    let events = drain_events(&mut conn);
    assert!(matches!(events.as_slice(), [Event::Open(_)]), "{events:?}");
    let (out, close) = drain_transmit(&mut conn, now);
    assert!(out.starts_with(b"HTTP/1.1 101 ") && !close);
    conn
}

/// A client connection that sent a request with [`RFC_KEY`] and read
/// [`RFC_RESPONSE`] at `now`, with its outputs drained.
pub(crate) fn open_client(config: Config, now: Instant) -> Connection {
    let mut conn = Connection::client(Arc::new(config), rfc_client_request(), now, CLIENT_SEED);
    let (out, _) = drain_transmit(&mut conn, now);
    assert!(out.starts_with(b"GET /chat HTTP/1.1\r\n"));
    conn.handle_input(now, RFC_RESPONSE);
    let events = drain_events(&mut conn);
    assert!(matches!(events.as_slice(), [Event::Open(_)]), "{events:?}");
    conn
}

/// A client request for `ws://server.example.com/chat` with the RFC key.
pub(crate) fn rfc_client_request() -> Request {
    let mut req = Request::client("ws://server.example.com/chat").expect("url");
    req.headers
        .push(("Sec-WebSocket-Key".into(), RFC_KEY.as_bytes().to_vec()));
    req
}

/// What the server side of a [`Pair`] does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OnRequest {
    /// Accept with these parameters.
    Accept(Accept),
    /// Leave it pending; the test answers.
    Hold,
}

/// One end of a [`Pair`].
#[derive(Debug)]
pub(crate) struct Side {
    pub(crate) conn: Connection,
    /// Every event, in order.
    pub(crate) events: Vec<Event>,
    /// Every byte this side wrote, in order (delivered or not).
    pub(crate) written: Vec<u8>,
    /// Every transmit, in order (`Data` sizes and `Close`).
    pub(crate) transmits: Vec<Transmit>,
    /// This side emitted `Transmit::Close`.
    pub(crate) transport_closed: bool,
    /// This side was told about end of stream.
    pub(crate) got_eof: bool,
    /// Drop everything this side writes: the peer never hears it.
    pub(crate) mute: bool,
    /// Deliver this side's `Transmit::Close` to the peer as end of stream.
    pub(crate) eof_to_peer: bool,
}

impl Side {
    fn new(conn: Connection) -> Self {
        Self {
            conn,
            events: Vec::new(),
            written: Vec::new(),
            transmits: Vec::new(),
            transport_closed: false,
            got_eof: false,
            mute: false,
            eof_to_peer: true,
        }
    }

    /// The `Closed` events seen so far.
    pub(crate) fn closed(&self) -> Vec<Closed> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Closed(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    /// The one `Closed`, checking it is the last event.
    pub(crate) fn the_closed(&self) -> Closed {
        the_closed(&self.events)
    }

    pub(crate) fn messages(&self) -> Vec<Message> {
        messages(&self.events)
    }
}

/// A client and a server connection wired back to back in virtual time.
#[derive(Debug)]
pub(crate) struct Pair {
    pub(crate) base: Instant,
    pub(crate) now: Instant,
    pub(crate) client: Side,
    pub(crate) server: Side,
    pub(crate) on_request: OnRequest,
    /// The server sends every message it receives back.
    pub(crate) echo: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    ClientToServer,
    ServerToClient,
}

impl Pair {
    /// A pair with default configurations, auto-accepting, echoing.
    pub(crate) fn new() -> Self {
        Self::with(Config::default(), Config::default(), rfc_client_request())
    }

    pub(crate) fn with(client: Config, server: Config, request: Request) -> Self {
        let base = Instant::now();
        let client = Connection::client(Arc::new(client), request, base, CLIENT_SEED);
        let server = Connection::server(Arc::new(server), base, SERVER_SEED);
        Self {
            base,
            now: base,
            client: Side::new(client),
            server: Side::new(server),
            on_request: OnRequest::Accept(Accept::default()),
            echo: true,
        }
    }

    /// A pair that has completed its handshake.
    pub(crate) fn open(client: Config, server: Config) -> Self {
        let mut pair = Self::with(client, server, rfc_client_request());
        pair.drive();
        assert!(pair.client.conn.is_open() && pair.server.conn.is_open());
        pair
    }

    /// Time since the pair was created.
    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.base
    }

    /// Moves events and bytes between the two sides until neither has
    /// anything more to say.
    pub(crate) fn drive(&mut self) {
        for _ in 0..10_000 {
            let a = self.step(Dir::ClientToServer);
            let b = self.step(Dir::ServerToClient);
            if !a && !b {
                return;
            }
        }
        panic!("the pair does not settle");
    }

    fn step(&mut self, dir: Dir) -> bool {
        let now = self.now;
        let (from, to) = match dir {
            Dir::ClientToServer => (&mut self.client, &mut self.server),
            Dir::ServerToClient => (&mut self.server, &mut self.client),
        };
        let mut progress = false;
        while let Some(event) = from.conn.poll_event() {
            progress = true;
            assert!(
                from.closed().is_empty(),
                "{event:?} after Closed ({dir})",
                dir = dir.name()
            );
            match &event {
                Event::Request(_) if dir == Dir::ServerToClient => {
                    if let OnRequest::Accept(accept) = &self.on_request {
                        from.conn.accept(now, accept.clone()).expect("accept");
                    }
                }
                Event::Message(m) if dir == Dir::ServerToClient && self.echo => {
                    // The connection may be closing; a refused send is fine.
                    let _ = from.conn.send(now, m.clone());
                }
                _ => {}
            }
            from.events.push(event);
        }
        let mut buf = Vec::new();
        while let Some(t) = from.conn.poll_transmit(now, &mut buf) {
            progress = true;
            from.transmits.push(t);
            match t {
                Transmit::Data(n) => {
                    assert!(!from.transport_closed, "bytes after Transmit::Close");
                    assert_eq!(n, buf.len());
                    from.written.extend_from_slice(&buf);
                    if !from.mute && !to.transport_closed {
                        to.conn.handle_input(now, &buf);
                    }
                    buf.clear();
                }
                Transmit::Close => {
                    assert!(!from.transport_closed, "Transmit::Close twice");
                    from.transport_closed = true;
                    if from.eof_to_peer && !to.got_eof && !to.transport_closed {
                        to.got_eof = true;
                        to.conn.handle_eof(now);
                    }
                }
            }
        }
        progress
    }

    /// The earliest deadline of either side.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [
            self.client.conn.poll_timeout(),
            self.server.conn.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Lets `d` pass, firing each deadline at its exact time and driving the
    /// pair after each.
    pub(crate) fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        for _ in 0..10_000 {
            match self.next_timeout() {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    for side in [&mut self.client, &mut self.server] {
                        if side.conn.poll_timeout().is_some_and(|t| t <= now) {
                            side.conn.handle_timeout(now);
                        }
                    }
                    self.drive();
                }
                _ => {
                    self.now = target;
                    self.drive();
                    return;
                }
            }
        }
        panic!("deadlines do not settle");
    }

    /// Both sides are finished and closed their transports.
    pub(crate) fn assert_finished(&self) {
        for (name, side) in [("client", &self.client), ("server", &self.server)] {
            assert!(side.conn.is_finished(), "{name} is not finished");
            assert!(side.transport_closed, "{name} did not close its transport");
            assert_eq!(
                side.conn.poll_timeout(),
                None,
                "{name} still has a deadline"
            );
            assert_eq!(side.closed().len(), 1, "{name}: {:?}", side.events);
        }
    }
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::ClientToServer => "client",
            Dir::ServerToClient => "server",
        }
    }
}

/// A config with every timer on, for timer tests.
pub(crate) fn timers(keepalive: Option<u64>, idle: Option<u64>) -> Config {
    Config {
        keepalive_interval: keepalive.map(Duration::from_secs),
        keepalive_timeout: Duration::from_secs(3),
        idle_timeout: idle.map(Duration::from_secs),
        ..Config::default()
    }
}
