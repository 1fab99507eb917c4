//! The bodies of the ws-proto fuzz targets, and their seed corpus.
//!
//! Each `fuzz_targets/<name>.rs` calls one function here. The same functions
//! replay the committed corpus on stable in `ws-proto/tests/fuzz_replay.rs`,
//! which includes this file as a module: so it has no crate attributes and
//! uses nothing but `std` and `ws_proto`.
//!
//! Every body takes arbitrary bytes, must not panic except through its own
//! assertions, and checks a contract of the core: the same result for any
//! split of the input, consistency between the layers, well-formed output,
//! `Closed` exactly once and last, nothing written after `Transmit::Close`,
//! spurious timeouts doing nothing, deadlines that settle.
//!
//! The first bytes of an input steer the body (flags, cut points, a script of
//! commands); [`seeds`] builds meaningful inputs in that format.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_proto::{
    Accept, CloseCode, Closed, Config, Connection, Decoded, Decoder, DecoderConfig, DeflateConfig,
    Error, Event, FrameHeader, HeadReader, Inflater, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Message,
    RSV1, Request, RequestChecks, Response, Role, SendError, StateError, Status, Transmit,
    accept_key, mask_into,
};

/// A fuzz target's body.
pub type Body = fn(&[u8]);

/// Every target: its name (the directory of its corpus) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("frame_header", frame_header),
    ("decoder", decoder),
    ("server_handshake", server_handshake),
    ("client_response", client_response),
    ("connection_server", connection_server),
    ("connection_client", connection_client),
];

/// The key of RFC 6455 section 1.3, used by the fuzzed client so that a
/// response can carry the matching accept value.
pub const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// `accept_key(RFC_KEY)`.
pub const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ------------------------------------------------------------ input reading

/// Reads steering bytes off the front of an input; zeros once it runs out.
struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Reads a count (0..8) and that many piece lengths (0..=255 each).
fn split_lengths(input: &mut Bytes<'_>) -> Vec<usize> {
    let n = input.byte() % 8;
    (0..n).map(|_| usize::from(input.byte())).collect()
}

/// `stream` in consecutive pieces of the given lengths (cut short at the
/// end), then whatever is left as one last piece.
fn pieces<'a>(stream: &'a [u8], lens: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(lens.len() + 1);
    let mut rest = stream;
    for &len in lens {
        let (piece, after) = rest.split_at(len.min(rest.len()));
        out.push(piece);
        rest = after;
    }
    out.push(rest);
    out
}

// ------------------------------------------------------------- frame_header

/// The frame header parser: total on any bytes; a complete header has a
/// length consistent with its first two bytes, every shorter prefix is
/// `Partial`, it re-encodes (byte for byte when the input used the shortest
/// form) and parses back the same; `validate` accepts only what section 5
/// allows.
pub fn frame_header(data: &[u8]) {
    let status = match FrameHeader::parse(data) {
        Ok(status) => status,
        Err(_) => return,
    };
    let Status::Complete((header, len)) = status else {
        assert!(data.len() < MAX_HEADER_LEN, "Partial with a whole header");
        return;
    };
    let declared = match data[1] & 0x7f {
        126 => 4,
        127 => 10,
        _ => 2,
    } + if data[1] & 0x80 != 0 { 4 } else { 0 };
    assert_eq!(len, declared);
    for cut in 0..len {
        assert_eq!(FrameHeader::parse(&data[..cut]), Ok(Status::Partial));
    }
    let mut buf = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut buf);
    assert_eq!(n, header.encoded_len());
    assert!(n <= len);
    assert_eq!(
        FrameHeader::parse(&buf[..n]),
        Ok(Status::Complete((header, n)))
    );
    if n == len {
        assert_eq!(
            &buf[..n],
            &data[..len],
            "the shortest form re-encodes as read"
        );
    }
    for expect_masked in [false, true] {
        for allowed in 0..8 {
            if header.validate(expect_masked, allowed).is_ok() {
                assert_eq!(header.rsv & !allowed, 0);
                assert_eq!(header.mask.is_some(), expect_masked);
                if header.opcode.is_control() {
                    assert!(header.fin && header.payload_len <= MAX_CONTROL_PAYLOAD as u64);
                }
            }
        }
    }
}

// ------------------------------------------------------------------ decoder

/// The streaming decoder, fed the same stream whole, in pieces chosen by the
/// input, and (when short) byte by byte: the same items and the same error
/// every time, items within the limits, and progress on every call.
///
/// Input: flags (bit 0 expect masked, 1 allow unmasked, 2 allow RSV1, 3 small
/// limits, 4 a permessage-deflate inflater: RSV1 marks compressed messages,
/// limited once inflated), a count and piece lengths, then the stream.
pub fn decoder(data: &[u8]) {
    let mut input = Bytes::new(data);
    let flags = input.byte();
    let small = flags & 8 != 0;
    let deflate = flags & 16 != 0;
    let config = DecoderConfig {
        expect_masked: flags & 1 != 0,
        allow_unmasked: flags & 2 != 0,
        allowed_rsv: if flags & 4 != 0 { RSV1 } else { 0 },
        max_frame_size: if small { 64 } else { 1 << 16 },
        max_message_size: if small { 256 } else { 1 << 18 },
        max_fragments: if small { 4 } else { 1000 },
    };
    let lens = split_lengths(&mut input);
    let stream = input.rest();
    let whole = decode_all(config, deflate, &[stream]);
    assert_eq!(decode_all(config, deflate, &pieces(stream, &lens)), whole);
    if stream.len() <= 64 {
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(decode_all(config, deflate, &bytes), whole);
    }
}

type DecodeResult = (Vec<Decoded>, Option<ws_proto::ProtocolError>);

fn decode_all(config: DecoderConfig, deflate: bool, pieces: &[&[u8]]) -> DecodeResult {
    let mut dec = Decoder::new(config);
    if deflate {
        dec.set_inflater(Some(Inflater::new(15)));
    }
    let mut items = Vec::new();
    for piece in pieces {
        let mut rest = *piece;
        while !rest.is_empty() {
            match dec.decode(rest) {
                Ok((used, item)) => {
                    assert!(used <= rest.len());
                    assert!(used > 0 || item.is_some(), "decode made no progress");
                    if let Some(item) = item {
                        check_item(&config, &item);
                        items.push(item);
                    }
                    rest = &rest[used..];
                }
                Err(e) => return (items, Some(e)),
            }
        }
    }
    (items, None)
}

fn check_item(config: &DecoderConfig, item: &Decoded) {
    match item {
        Decoded::Message(m) => assert!(m.len() <= config.max_message_size),
        Decoded::Ping(p) | Decoded::Pong(p) => assert!(p.len() <= MAX_CONTROL_PAYLOAD),
        Decoded::Close(Some(f)) => {
            assert!(f.code.is_allowed() && f.reason.len() <= MAX_CONTROL_PAYLOAD - 2);
        }
        Decoded::Close(None) => {}
    }
}

// --------------------------------------------------------- server_handshake

/// The server's side of the opening handshake: `HeadReader` finds the same
/// end of head for any split; the parsed request writes out and parses back
/// the same; and a server `Connection` fed the same head agrees with
/// `Request::parse` and `validate_upgrade` (the `Request` event, then on
/// accept a 101 with the right accept key, or the error's HTTP status).
///
/// Input: flags (bit 0 small head limit, 1 few headers, 2 any method, 3 any
/// key), a count and piece lengths, then the bytes.
pub fn server_handshake(data: &[u8]) {
    let mut input = Bytes::new(data);
    let flags = input.byte();
    let max_bytes = if flags & 1 != 0 { 256 } else { 16 << 10 };
    let max_headers = if flags & 2 != 0 { 4 } else { 64 };
    let checks = RequestChecks {
        method: flags & 4 == 0,
        key: flags & 8 == 0,
    };
    let lens = split_lengths(&mut input);
    let stream = input.rest();

    let whole = read_head(max_bytes, &[stream]);
    assert_eq!(read_head(max_bytes, &pieces(stream, &lens)), whole);
    if stream.len() <= 512 {
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(read_head(max_bytes, &bytes), whole, "byte by byte");
    }
    let end = match whole {
        Err(e) => {
            assert_eq!(e.status(), 431);
            return;
        }
        Ok(None) => return,
        Ok(Some(end)) => end,
    };
    // The head ends at its first empty line; lines end in CRLF or bare LF.
    assert!(
        end <= max_bytes
            && (stream[..end].ends_with(b"\n\r\n") || stream[..end].ends_with(b"\n\n"))
    );
    assert!(
        !stream[..end - 2].windows(2).any(|w| w == b"\n\n")
            && !stream[..end - 2].windows(3).any(|w| w == b"\n\r\n"),
        "the first empty line ends the head"
    );
    let head = &stream[..end];

    let config = Config {
        max_handshake_bytes: max_bytes,
        max_headers,
        request_checks: checks,
        ..Config::default()
    };
    let now = Instant::now();
    let mut conn = Connection::server(Arc::new(config), now, [1; 32]);
    for piece in pieces(head, &lens) {
        conn.handle_input(now, piece);
    }
    let events: Vec<Event> = std::iter::from_fn(|| conn.poll_event()).collect();
    let mut out = Vec::new();
    while conn.poll_transmit(now, &mut out).is_some() {}

    let request = match Request::parse(head, max_headers) {
        Err(e) => {
            assert_handshake_failure(&events, &out, &e);
            return;
        }
        Ok(None) => {
            // httparse wants more than the blank line the reader found.
            assert_head_refused(&events);
            return;
        }
        Ok(Some((_, len))) if len != end => {
            // httparse ends the head elsewhere: refused, never guessed.
            assert_head_refused(&events);
            return;
        }
        Ok(Some((request, _))) => request,
    };
    assert_eq!(events, [Event::Request(request.clone())]);
    let _ = (
        request.protocols().count(),
        request.extensions().count(),
        request.origin(),
        request.path_only(),
        request.query(),
    );
    let mut written = Vec::new();
    request.write_to(&mut written);
    assert_eq!(
        Request::parse(&written, max_headers),
        Ok(Some((request.clone(), written.len()))),
        "a parsed request writes out and parses back the same"
    );

    assert_eq!(conn.accept(now, Accept::default()), Ok(()));
    let events: Vec<Event> = std::iter::from_fn(|| conn.poll_event()).collect();
    let mut out = Vec::new();
    while conn.poll_transmit(now, &mut out).is_some() {}
    match request.validate_upgrade(checks) {
        Ok(key) => {
            assert!(matches!(events.as_slice(), [Event::Open(_)]), "{events:?}");
            let (response, len) = Response::parse(&out, 64)
                .expect("the 101 parses")
                .expect("the 101 is complete");
            assert_eq!((response.status, len), (101, out.len()));
            let accept = accept_key(key);
            assert_eq!(response.header_str("Sec-WebSocket-Accept"), Some(&*accept));
        }
        Err(e) => assert_handshake_failure(&events, &out, &e),
    }
}

/// Feeds `pieces` to a `HeadReader` until the head is complete.
fn assert_head_refused(events: &[Event]) {
    assert!(
        matches!(
            events,
            [Event::Closed(Closed {
                error: Some(Error::Handshake(_)),
                ..
            })]
        ),
        "{events:?}"
    );
}

fn read_head(max: usize, pieces: &[&[u8]]) -> Result<Option<usize>, ws_proto::HandshakeError> {
    let mut reader = HeadReader::new(max);
    let mut fed = 0;
    for piece in pieces {
        fed += piece.len();
        if let Some(end) = reader.push(piece)? {
            assert_eq!(
                reader.buffer().len(),
                fed,
                "the reader keeps what follows the head"
            );
            return Ok(Some(end));
        }
        assert!(reader.buffer().len() <= max);
    }
    Ok(None)
}

fn assert_handshake_failure(events: &[Event], out: &[u8], error: &ws_proto::HandshakeError) {
    assert_eq!(
        events,
        [Event::Closed(Closed {
            code: CloseCode::ABNORMAL,
            reason: String::new(),
            error: Some(Error::Handshake(error.clone())),
        })]
    );
    let status = format!("HTTP/1.1 {} ", error.status());
    assert!(out.starts_with(status.as_bytes()), "{error:?}");
}

// ---------------------------------------------------------- client_response

/// The client's side of the opening handshake: a client `Connection` (whose
/// request parses back and validates on a server) reads the server's bytes
/// whole and in pieces with the same events and output; when it opens, the
/// response really is an acceptable 101.
///
/// Input: flags (bit 0 small head limit, 1 few headers), a count and piece
/// lengths, then the server's bytes.
pub fn client_response(data: &[u8]) {
    let mut input = Bytes::new(data);
    let flags = input.byte();
    let config = Arc::new(Config {
        max_handshake_bytes: if flags & 1 != 0 { 256 } else { 16 << 10 },
        max_headers: if flags & 2 != 0 { 4 } else { 64 },
        ..Config::default()
    });
    let lens = split_lengths(&mut input);
    let stream = input.rest();
    let now = Instant::now();

    let run = |pieces: &[&[u8]]| {
        let mut conn = Connection::client(config.clone(), client_request(), now, [2; 32]);
        let mut out = Vec::new();
        while conn.poll_transmit(now, &mut out).is_some() {}
        let request_len = out.len();
        let mut events = Vec::new();
        for piece in pieces {
            conn.handle_input(now, piece);
            events.extend(std::iter::from_fn(|| conn.poll_event()));
        }
        let mut close = false;
        while let Some(t) = conn.poll_transmit(now, &mut out) {
            assert!(!close, "bytes after Transmit::Close");
            close |= t == Transmit::Close;
        }
        (events, out, close, request_len)
    };
    let whole = run(&[stream]);
    assert_eq!(run(&pieces(stream, &lens)), whole);

    let (events, out, _, request_len) = whole;
    let (request, len) = Request::parse(&out[..request_len], 64)
        .expect("the client's request parses")
        .expect("the client's request is complete");
    assert_eq!(len, request_len);
    assert_eq!(
        request.validate_upgrade(RequestChecks::default()),
        Ok(RFC_KEY.as_bytes())
    );
    check_event_order(&events);
    if let Some(Event::Open(opened)) = events.first() {
        let response = &opened.response;
        assert_eq!(response.status, 101);
        assert_eq!(
            response
                .header("Sec-WebSocket-Accept")
                .map(<[u8]>::trim_ascii),
            Some(RFC_ACCEPT.as_bytes())
        );
        if let Some(p) = response.protocol() {
            assert!(p == "chat" || p == "superchat", "{p:?} was not offered");
        }
        assert_eq!(response.extensions().count(), 0);
    }
}

/// The fuzzed client's request: the RFC's key, two subprotocols offered.
fn client_request() -> Request {
    let mut request = Request::client("ws://server.example.com/chat").expect("a valid URL");
    request
        .headers
        .push(("Sec-WebSocket-Key".into(), RFC_KEY.as_bytes().to_vec()));
    request
        .headers
        .push(("Sec-WebSocket-Protocol".into(), b"chat, superchat".to_vec()));
    request
}

/// `Open` at most once and first, `Closed` at most once and last.
fn check_event_order(events: &[Event]) {
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Open(_) => assert_eq!(i, 0, "{events:?}"),
            Event::Closed(_) => assert_eq!(i, events.len() - 1, "{events:?}"),
            _ => {}
        }
    }
}

// -------------------------------------------------------------- connection

/// A whole server connection driven by a script of inputs and commands.
/// See [`drive`].
pub fn connection_server(data: &[u8]) {
    drive(Role::Server, data);
}

/// A whole client connection driven by a script of inputs and commands.
/// See [`drive`].
pub fn connection_client(data: &[u8]) {
    drive(Role::Client, data);
}

/// Script opcodes for [`drive`] (the opcode byte is taken modulo 9).
pub mod op {
    /// `INPUT, n, n bytes`: `handle_input` (also 1 and 2).
    pub const INPUT: u8 = 0;
    /// `TIME, t`: let `t * 25` ms pass, then `handle_timeout`.
    pub const TIME: u8 = 3;
    /// `SEND, kind, n, n bytes`: `send` / `send_text` / `send_binary`.
    pub const SEND: u8 = 4;
    /// `CONTROL, kind, n, n bytes`: `ping` (odd kind) or `pong`.
    pub const CONTROL: u8 = 5;
    /// `CLOSE, pick, hi, lo, n, n bytes`: `close` with a code (a valid one
    /// when `pick` is odd, else `hi, lo`) and a reason.
    pub const CLOSE: u8 = 6;
    /// `EOF`: `handle_eof`.
    pub const EOF: u8 = 7;
    /// `ACCEPT`: server, `accept` now (it fails when nothing is pending).
    pub const ACCEPT: u8 = 8;
}

/// Answers to a request, read right after the input that completed it.
pub mod answer {
    /// Accept with no subprotocol.
    pub const ACCEPT: u8 = 0;
    /// Accept the first subprotocol offered, with an extra header.
    pub const ACCEPT_PROTOCOL: u8 = 2;
    /// Try a subprotocol that was not offered (refused), leave it pending.
    pub const UNOFFERED: u8 = 3;
    /// Reject with a 403 page.
    pub const REJECT: u8 = 4;
    /// Leave it pending (answer later with [`super::op::ACCEPT`]).
    pub const HOLD: u8 = 5;
}

/// Config flags of [`drive`] (the first byte of a script).
pub mod flag {
    /// Small limits (frame 128, message 512, 4 fragments, head 512 ...).
    pub const SMALL: u8 = 1;
    /// Fragment outgoing messages at `1 + second byte % 64` bytes. (The
    /// second byte's top bit, whatever the flags, turns permessage-deflate
    /// on, compressing every message: see [`DEFLATE_BIT`].)
    pub const FRAGMENT: u8 = 2;
    /// Keepalive ping after 3 s of silence, pong within 1 s.
    pub const KEEPALIVE: u8 = 4;
    /// Close after 5 s of silence.
    pub const IDLE: u8 = 8;
    /// Server: accept unmasked frames.
    pub const LAX_MASKING: u8 = 16;
    /// Server: accept any method.
    pub const ANY_METHOD: u8 = 32;
    /// Echo every message received.
    pub const ECHO: u8 = 64;
    /// Every timeout zero.
    pub const ZERO_TIMEOUTS: u8 = 128;
    /// In the second byte of a script: permessage-deflate on (a client
    /// offers it, a server accepts it), threshold 0.
    pub const DEFLATE_BIT: u8 = 128;
}

fn script_config(flags: u8, fragment: u8) -> Config {
    let small = flags & flag::SMALL != 0;
    let t = |d: Duration| {
        if flags & flag::ZERO_TIMEOUTS != 0 {
            Duration::ZERO
        } else {
            d
        }
    };
    Config {
        max_frame_size: if small { 128 } else { 1 << 16 },
        max_message_size: if small { 512 } else { 1 << 18 },
        max_fragments: if small { 4 } else { 1000 },
        max_handshake_bytes: if small { 512 } else { 4096 },
        max_headers: if small { 8 } else { 32 },
        fragment_size: if flags & flag::FRAGMENT != 0 {
            usize::from(fragment % 64) + 1
        } else {
            usize::MAX
        },
        max_write_buffer: if small { 1024 } else { 1 << 20 },
        handshake_timeout: t(Duration::from_secs(2)),
        close_timeout: t(Duration::from_secs(1)),
        keepalive_interval: (flags & flag::KEEPALIVE != 0).then(|| t(Duration::from_secs(3))),
        keepalive_timeout: t(Duration::from_secs(1)),
        idle_timeout: (flags & flag::IDLE != 0).then(|| t(Duration::from_secs(5))),
        write_timeout: Some(t(Duration::from_secs(4))),
        message_timeout: Some(t(Duration::from_secs(3))),
        masking_strict: flags & flag::LAX_MASKING == 0,
        request_checks: RequestChecks {
            method: flags & flag::ANY_METHOD == 0,
            key: true,
        },
        origins: Default::default(),
        deflate: (fragment & flag::DEFLATE_BIT != 0).then_some(DeflateConfig {
            threshold: 0,
            ..DeflateConfig::default()
        }),
    }
}

/// Runs a script against a whole connection, draining and checking every
/// output after every step, then lets every deadline fire and ends the
/// stream: the connection must be finished.
///
/// Script: flags (see [`flag`]), a fragment size byte, then commands (see
/// [`op`]); a server reads an [`answer`] byte when a request arrives.
fn drive(role: Role, data: &[u8]) {
    let mut input = Bytes::new(data);
    let flags = input.byte();
    let config = script_config(flags, input.byte());
    let limits = (config.max_message_size, config.max_frame_size);
    let now = Instant::now();
    let config = Arc::new(config);
    let conn = match role {
        Role::Server => Connection::server(config, now, [3; 32]),
        Role::Client => Connection::client(config, client_request(), now, [4; 32]),
    };
    let mut h = Harness {
        conn,
        role,
        now,
        echo: flags & flag::ECHO != 0,
        max_message: limits.0,
        pending: false,
        requested: false,
        opened: false,
        closed: false,
        transport_closed: false,
        output: Output::new(role),
    };
    h.drain(&mut input);
    while !input.is_empty() {
        match input.byte() % 9 {
            0..=2 => {
                let n = usize::from(input.byte());
                let bytes = input.take(n);
                h.conn.handle_input(h.now, bytes);
            }
            op::TIME => {
                h.now += Duration::from_millis(u64::from(input.byte()) * 25);
                h.timeout();
            }
            op::SEND => {
                let kind = input.byte();
                let n = usize::from(input.byte());
                let bytes = input.take(n);
                let text = String::from_utf8_lossy(bytes);
                let result = match kind % 4 {
                    0 => h.conn.send(h.now, Message::Text(text.into_owned())),
                    1 => h.conn.send(h.now, Message::Binary(bytes.to_vec())),
                    2 => h.conn.send_text(h.now, &text),
                    _ => h.conn.send_binary(h.now, bytes),
                };
                if h.closed {
                    assert_eq!(result, Err(SendError::Closed));
                }
            }
            op::CONTROL => {
                let kind = input.byte();
                let n = usize::from(input.byte()) % 130;
                let payload = input.take(n);
                let result = if kind % 2 == 1 {
                    h.conn.ping(h.now, payload)
                } else {
                    h.conn.pong(h.now, payload)
                };
                if payload.len() > MAX_CONTROL_PAYLOAD {
                    assert_eq!(result, Err(SendError::ControlTooLong(payload.len())));
                } else if h.closed {
                    assert_eq!(result, Err(SendError::Closed));
                }
            }
            op::CLOSE => {
                const VALID: [u16; 6] = [1000, 1001, 1003, 1011, 3000, 4999];
                let pick = input.byte();
                let raw = u16::from_be_bytes([input.byte(), input.byte()]);
                let code = if pick % 2 == 1 {
                    VALID[usize::from(pick / 2) % VALID.len()]
                } else {
                    raw
                };
                let n = usize::from(input.byte());
                let reason = String::from_utf8_lossy(input.take(n)).into_owned();
                let result = h.conn.close(h.now, CloseCode(code), &reason);
                if CloseCode(code).is_allowed() {
                    assert_eq!(result, Ok(()));
                } else {
                    assert_eq!(result, Err(SendError::InvalidCloseCode(code)));
                }
            }
            op::EOF => h.conn.handle_eof(h.now),
            _ => {
                let result = h.conn.accept(h.now, Accept::default());
                assert_eq!(result.is_ok(), h.pending, "{result:?}");
                h.pending = false;
            }
        }
        h.drain(&mut input);
    }
    // Let every deadline fire: they must settle.
    for _ in 0..16 {
        let Some(at) = h.conn.poll_timeout() else {
            break;
        };
        h.now = h.now.max(at);
        h.timeout();
        h.drain(&mut input);
    }
    assert_eq!(h.conn.poll_timeout(), None, "the deadlines do not settle");
    // End of stream: now the connection is over.
    h.conn.handle_eof(h.now);
    h.drain(&mut input);
    assert!(h.closed && h.transport_closed && h.conn.is_finished());
}

struct Harness {
    conn: Connection,
    role: Role,
    now: Instant,
    echo: bool,
    max_message: usize,
    /// A request is waiting for an answer.
    pending: bool,
    requested: bool,
    opened: bool,
    closed: bool,
    transport_closed: bool,
    output: Output,
}

impl Harness {
    /// `handle_timeout`; when no deadline was due, it must do nothing.
    fn timeout(&mut self) {
        let due = self.conn.poll_timeout().is_some_and(|t| t <= self.now);
        self.conn.handle_timeout(self.now);
        if !due {
            assert_eq!(
                self.conn.poll_event(),
                None,
                "a spurious timeout did something"
            );
            let mut buf = Vec::new();
            assert_eq!(self.conn.poll_transmit(self.now, &mut buf), None);
        }
    }

    /// Drains the outputs until both are empty, checking each.
    fn drain(&mut self, input: &mut Bytes<'_>) {
        loop {
            let mut progress = false;
            while let Some(event) = self.conn.poll_event() {
                progress = true;
                self.on_event(event, input);
            }
            let mut buf = Vec::new();
            while let Some(t) = self.conn.poll_transmit(self.now, &mut buf) {
                progress = true;
                assert!(!self.transport_closed, "{t:?} after Transmit::Close");
                match t {
                    Transmit::Data(n) => {
                        assert_eq!(n, buf.len());
                        if self.conn.deflate().is_some() {
                            self.output.deflate = true;
                        }
                        self.output.push(&buf);
                        buf.clear();
                    }
                    Transmit::Close => self.transport_closed = true,
                }
            }
            if !progress {
                break;
            }
        }
        if self.conn.is_finished() {
            assert!(self.closed && self.transport_closed);
        }
    }

    fn on_event(&mut self, event: Event, input: &mut Bytes<'_>) {
        assert!(!self.closed, "{event:?} after Closed");
        match event {
            Event::Request(request) => {
                assert!(self.role == Role::Server && !self.requested);
                self.requested = true;
                self.pending = true;
                self.answer(&request, input.byte());
            }
            Event::Open(_) => {
                assert!(!self.opened && !self.pending);
                assert_eq!(self.role == Role::Server, self.requested);
                self.opened = true;
            }
            Event::Message(message) => {
                assert!(self.opened);
                assert!(message.len() <= self.max_message);
                if self.echo {
                    let _ = self.conn.send(self.now, message);
                }
            }
            Event::Ping(payload) | Event::Pong(payload) => {
                assert!(self.opened && payload.len() <= MAX_CONTROL_PAYLOAD);
            }
            Event::Closed(closed) => {
                self.closed = true;
                self.pending = false;
                if closed.error.is_none() {
                    assert!(
                        closed.code.is_allowed() || closed.code == CloseCode::NO_STATUS,
                        "{closed:?}"
                    );
                }
            }
        }
    }

    fn answer(&mut self, request: &Request, choice: u8) {
        let now = self.now;
        match choice % 6 {
            answer::ACCEPT_PROTOCOL => {
                let accept = Accept {
                    protocol: request.protocols().next().map(str::to_owned),
                    headers: vec![("X-Fuzz".into(), b"1".to_vec())],
                };
                assert_eq!(self.conn.accept(now, accept), Ok(()));
                self.pending = false;
            }
            answer::UNOFFERED => {
                let protocol = "not-offered/x".to_owned();
                let accept = Accept {
                    protocol: Some(protocol.clone()),
                    headers: Vec::new(),
                };
                if request.protocols().all(|p| p != protocol) {
                    let refused = Err(StateError::UnofferedProtocol(protocol));
                    assert_eq!(self.conn.accept(now, accept), refused);
                }
            }
            answer::REJECT => {
                let mut page = Response::new(403);
                page.body = b"no\n".to_vec();
                assert_eq!(self.conn.reject(now, page), Ok(()));
                self.pending = false;
            }
            answer::HOLD => {}
            _ => {
                assert_eq!(self.conn.accept(now, Accept::default()), Ok(()));
                self.pending = false;
            }
        }
    }
}

/// Checks what a connection writes: an HTTP head, then (after a 101, or a
/// client's request) frames that the peer's decoder accepts, nothing after
/// our close frame.
struct Output {
    role: Role,
    head: Vec<u8>,
    /// The peer's decoder, once frames may follow the head.
    frames: Option<Decoder>,
    /// The head was not an upgrade: the rest is a body.
    body: bool,
    close_sent: bool,
    /// permessage-deflate was agreed: the peer's decoder inflates.
    deflate: bool,
}

impl Output {
    fn new(role: Role) -> Self {
        Self {
            role,
            head: Vec::new(),
            frames: None,
            body: false,
            close_sent: false,
            deflate: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.body {
            return;
        }
        if self.frames.is_none() {
            self.head.extend_from_slice(bytes);
            let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") else {
                assert!(self.head.len() < 64 << 10, "an endless head");
                return;
            };
            let end = end + 4;
            let upgrade = match self.role {
                Role::Server => {
                    let (response, _) = Response::parse(&self.head[..end], 64)
                        .expect("the server's response parses")
                        .expect("the server's response is complete");
                    response.status == 101
                }
                Role::Client => {
                    Request::parse(&self.head[..end], 64)
                        .expect("the client's request parses")
                        .expect("the client's request is complete");
                    true
                }
            };
            if !upgrade {
                self.body = true;
                return;
            }
            self.frames = Some(Decoder::new(DecoderConfig {
                // A server reads masked frames from a client, and the reverse.
                expect_masked: self.role == Role::Client,
                allow_unmasked: false,
                allowed_rsv: 0,
                max_frame_size: usize::MAX,
                max_message_size: usize::MAX,
                max_fragments: usize::MAX,
            }));
            let rest = self.head.split_off(end);
            self.frames(&rest);
            return;
        }
        self.frames(bytes);
    }

    fn frames(&mut self, mut bytes: &[u8]) {
        let decoder = self.frames.as_mut().expect("after the head");
        if self.deflate && decoder.inflater().is_none() {
            decoder.set_inflater(Some(Inflater::new(15)));
        }
        while !bytes.is_empty() {
            let (used, item) = decoder
                .decode(bytes)
                .unwrap_or_else(|e| panic!("the connection wrote an invalid frame: {e}"));
            bytes = &bytes[used..];
            if let Some(item) = item {
                assert!(!self.close_sent, "{item:?} after our close frame");
                self.close_sent = matches!(item, Decoded::Close(_));
            }
        }
    }
}

// -------------------------------------------------------------------- seeds

/// The seed corpus: `(target, file name, bytes)`. Small inputs that reach
/// each body's interesting paths; the fuzzer mutates from there.
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out = Vec::new();
    seed_frame_headers(&mut out);
    seed_decoder(&mut out);
    seed_server_handshake(&mut out);
    seed_client_response(&mut out);
    seed_connection_server(&mut out);
    seed_connection_client(&mut out);
    out
}

type Seeds = Vec<(&'static str, &'static str, Vec<u8>)>;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The opening handshake request of RFC 6455 section 1.3.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Origin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// A 101 answering [`RFC_KEY`].
const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/// One frame: FIN, opcode (with RSV bits above it), optional mask, payload.
fn frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::from(fin) << 7 | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(m | n as u8),
        n @ 126..=0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            mask_into(&mut out, payload, key, 0);
        }
        None => out.extend_from_slice(payload),
    }
    out
}

fn close(code: u16, reason: &str) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason.as_bytes()].concat()
}

/// A client's stream of frames: fragmented text with a ping inside, binary,
/// a pong, and a close.
fn client_stream(mask: Option<[u8; 4]>) -> Vec<u8> {
    [
        frame(false, 1, mask, "κό".as_bytes()),
        frame(true, 9, mask, b"ping"),
        frame(true, 0, mask, "σμε".as_bytes()),
        frame(true, 2, mask, &[0, 1, 2, 3, 4, 5, 6, 7, 8]),
        frame(true, 10, mask, b""),
        frame(true, 8, mask, &close(1000, "bye")),
    ]
    .concat()
}

/// 64 KiB of zeros, compressed for permessage-deflate (tail removed).
fn zeros_compressed() -> Vec<u8> {
    let mut out = Vec::new();
    assert!(ws_proto::Deflater::new(9, 15, false).compress(&[0; 1 << 16], &mut out));
    out
}

fn with_cuts(flags: u8, cuts: &[u8], stream: &[u8]) -> Vec<u8> {
    [&[flags, cuts.len() as u8][..], cuts, stream].concat()
}

fn seed_frame_headers(out: &mut Seeds) {
    let t = "frame_header";
    out.push((t, "text_7bit", vec![0x81, 0x05]));
    out.push((t, "text_masked", vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]));
    out.push((t, "binary_16bit", vec![0x82, 0x7e, 0x01, 0x00]));
    out.push((t, "binary_64bit", vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]));
    out.push((
        t,
        "masked_64bit_max",
        vec![
            0x02, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4,
        ],
    ));
    out.push((
        t,
        "top_bit_length",
        vec![0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0],
    ));
    out.push((t, "reserved_opcode", vec![0x83, 0x00]));
    out.push((t, "rsv_ping_not_fin", vec![0x79, 0x7e, 0x00, 0x7e]));
    out.push((t, "non_minimal_16bit", vec![0x88, 0x7e, 0x00, 0x02]));
}

fn seed_decoder(out: &mut Seeds) {
    let t = "decoder";
    let masked = client_stream(Some(MASK));
    let unmasked = client_stream(None);
    out.push((t, "masked_stream", with_cuts(1, &[], &masked)));
    out.push((t, "masked_stream_cut", with_cuts(1, &[1, 3, 7, 2], &masked)));
    out.push((
        t,
        "unmasked_stream_cut",
        with_cuts(0, &[5, 0, 9], &unmasked),
    ));
    out.push((
        t,
        "rfc_examples",
        with_cuts(
            0,
            &[2],
            &[
                frame(true, 1, None, b"Hello"),
                frame(false, 1, None, b"Hel"),
                frame(true, 0, None, b"lo"),
                frame(true, 9, None, b"Hello"),
                frame(true, 2, None, &[0xab; 256]),
            ]
            .concat(),
        ),
    ));
    out.push((
        t,
        "rsv1_allowed",
        with_cuts(4, &[], &frame(true, 0x41, None, b"x")),
    ));
    // RFC 7692 section 7.2.3: "Hello" compressed, then with context
    // takeover, then in two fragments (RSV1 on the first only), then RSV1
    // on a ping.
    out.push((
        t,
        "deflate_messages",
        with_cuts(
            16 | 1,
            &[3, 9],
            &[
                frame(
                    true,
                    0x41,
                    Some(MASK),
                    &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                ),
                frame(true, 0x41, Some(MASK), &[0xf2, 0x00, 0x11, 0x00, 0x00]),
                frame(false, 0x42, Some(MASK), &[0xf2, 0x48, 0xcd]),
                frame(true, 0, Some(MASK), &[0xc9, 0xc9, 0x07, 0x00]),
                frame(true, 0x49, Some(MASK), b""),
            ]
            .concat(),
        ),
    ));
    // 64 KiB of zeros in 93 bytes, against the small limits.
    out.push((
        t,
        "deflate_bomb_small_limits",
        with_cuts(16 | 8, &[], &frame(true, 0x42, None, &zeros_compressed())),
    ));
    out.push((
        t,
        "small_limits_fragments",
        with_cuts(
            8,
            &[1],
            &[
                frame(false, 2, None, &[1; 40]),
                frame(false, 0, None, &[2; 40]),
                frame(false, 0, None, &[3; 40]),
                frame(true, 0, None, &[4; 40]),
            ]
            .concat(),
        ),
    ));
    out.push((
        t,
        "invalid_utf8_mid_fragment",
        with_cuts(
            0,
            &[3],
            &[
                frame(false, 1, None, b"ok\xce"),
                frame(true, 0, None, b" x"),
            ]
            .concat(),
        ),
    ));
    out.push((
        t,
        "bad_close",
        with_cuts(0, &[], &frame(true, 8, None, &close(1005, ""))),
    ));
}

fn seed_server_handshake(out: &mut Seeds) {
    let t = "server_handshake";
    out.push((t, "rfc_request", with_cuts(0, &[], RFC_REQUEST)));
    out.push((
        t,
        "rfc_request_cut",
        with_cuts(0, &[10, 1, 60], RFC_REQUEST),
    ));
    out.push((
        t,
        "lists_and_case",
        with_cuts(
            0,
            &[],
            b"GET /a?b=c HTTP/1.1\r\nhost: h:8080\r\nconnection: keep-alive, UPGRADE\r\n\
              upgrade: WebSocket\r\nsec-websocket-version: 13\r\n\
              sec-websocket-key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n\
              sec-websocket-extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
        ),
    ));
    out.push((
        t,
        "version_8",
        with_cuts(
            0,
            &[],
            b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        ),
    ));
    out.push((
        t,
        "plain_get",
        with_cuts(0, &[], b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n"),
    ));
    out.push((
        t,
        "post_any_method_short_key",
        with_cuts(
            12,
            &[],
            b"POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: abc\r\n\r\n",
        ),
    ));
    out.push((t, "http_1_0", with_cuts(0, &[], b"GET / HTTP/1.0\r\n\r\n")));
    out.push((t, "too_many_headers", with_cuts(2, &[], RFC_REQUEST)));
    out.push((
        t,
        "too_large",
        with_cuts(1, &[200], &[RFC_REQUEST, &[b'x'; 64]].concat()),
    ));
}

fn seed_client_response(out: &mut Seeds) {
    let t = "client_response";
    let frames = [
        frame(true, 1, None, b"Hello"),
        frame(true, 9, None, b""),
        frame(true, 8, None, &close(1000, "")),
    ]
    .concat();
    out.push((t, "rfc_response", with_cuts(0, &[], RFC_RESPONSE)));
    out.push((
        t,
        "response_then_frames_cut",
        with_cuts(0, &[40, 3, 60], &[RFC_RESPONSE, &frames].concat()),
    ));
    let with_protocol = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
        Sec-WebSocket-Protocol: chat\r\n\r\n";
    out.push((t, "protocol_chat", with_cuts(0, &[], with_protocol)));
    out.push((
        t,
        "unoffered_extension",
        with_cuts(
            0,
            &[],
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
              Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        ),
    ));
    out.push((
        t,
        "bad_accept",
        with_cuts(
            0,
            &[],
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
        ),
    ));
    out.push((
        t,
        "not_found",
        with_cuts(
            0,
            &[],
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n",
        ),
    ));
    out.push((
        t,
        "masked_frame_from_server",
        with_cuts(
            0,
            &[],
            &[RFC_RESPONSE, &frame(true, 1, Some(MASK), b"x")].concat(),
        ),
    ));
}

/// Builds a script for [`drive`].
struct Script(Vec<u8>);

impl Script {
    fn new(flags: u8, fragment: u8) -> Self {
        Self(vec![flags, fragment])
    }

    /// Input in pieces of at most 255 bytes.
    fn input(mut self, bytes: &[u8]) -> Self {
        for piece in bytes.chunks(255) {
            self.0.extend([op::INPUT, piece.len() as u8]);
            self.0.extend_from_slice(piece);
        }
        self
    }

    /// The request (in one piece), then the answer byte.
    fn request(self, answer: u8) -> Self {
        self.input(RFC_REQUEST).answer(answer)
    }

    /// The answer byte read when a request arrives.
    fn answer(mut self, answer: u8) -> Self {
        self.0.push(answer);
        self
    }

    fn time(mut self, ms: u32) -> Self {
        let mut left = ms / 25;
        while left > 0 {
            let step = left.min(255);
            self.0.extend([op::TIME, step as u8]);
            left -= step;
        }
        self
    }

    fn send(mut self, kind: u8, payload: &[u8]) -> Self {
        self.0.extend([op::SEND, kind, payload.len() as u8]);
        self.0.extend_from_slice(payload);
        self
    }

    fn ping(mut self, payload: &[u8]) -> Self {
        self.0.extend([op::CONTROL, 1, payload.len() as u8]);
        self.0.extend_from_slice(payload);
        self
    }

    fn close(mut self, code: u16, reason: &str) -> Self {
        let [hi, lo] = code.to_be_bytes();
        self.0.extend([op::CLOSE, 0, hi, lo, reason.len() as u8]);
        self.0.extend_from_slice(reason.as_bytes());
        self
    }

    fn op(mut self, op: u8) -> Self {
        self.0.push(op);
        self
    }
}

fn seed_connection_server(out: &mut Seeds) {
    let t = "connection_server";
    let m = Some(MASK);
    let deflate_request = [
        &RFC_REQUEST[..RFC_REQUEST.len() - 2],
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
    ]
    .concat();
    out.push((
        t,
        "deflate_echo",
        Script::new(flag::ECHO | flag::FRAGMENT, flag::DEFLATE_BIT | 5)
            .input(&deflate_request)
            .answer(answer::ACCEPT)
            .input(&frame(
                true,
                0x41,
                m,
                &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            ))
            .send(2, &[7; 100])
            .input(&frame(true, 0x42, m, &zeros_compressed()))
            .input(&frame(true, 0x49, m, b""))
            .0,
    ));
    out.push((
        t,
        "echo_and_close",
        Script::new(flag::ECHO, 0)
            .request(answer::ACCEPT)
            .input(&client_stream(m))
            .0,
    ));
    out.push((
        t,
        "fragmented_echo_protocol",
        Script::new(flag::ECHO | flag::FRAGMENT, 3)
            .request(answer::ACCEPT_PROTOCOL)
            .input(&frame(true, 1, m, b"hello, fragments"))
            .send(3, &[9; 20])
            .close(1000, "done")
            .input(&frame(true, 8, m, &close(1000, "")))
            .0,
    ));
    out.push((
        t,
        "hold_then_accept_with_early_frames",
        Script::new(0, 0)
            .request(answer::HOLD)
            .send(0, b"queued")
            .input(&frame(true, 2, m, b"early"))
            .op(op::ACCEPT)
            .0,
    ));
    out.push((t, "reject", Script::new(0, 0).request(answer::REJECT).0));
    out.push((
        t,
        "unoffered_then_accept",
        Script::new(0, 0)
            .request(answer::UNOFFERED)
            .op(op::ACCEPT)
            .ping(b"p")
            .0,
    ));
    out.push((
        t,
        "keepalive_timeout",
        Script::new(flag::KEEPALIVE, 0)
            .request(answer::ACCEPT)
            .time(3000)
            .time(1000)
            .0,
    ));
    out.push((
        t,
        "idle_and_close_timeout",
        Script::new(flag::IDLE, 0)
            .request(answer::ACCEPT)
            .time(5000)
            .time(1000)
            .0,
    ));
    out.push((
        t,
        "handshake_timeout",
        Script::new(0, 0).input(&RFC_REQUEST[..40]).time(2000).0,
    ));
    out.push((
        t,
        "small_limits_too_big",
        Script::new(flag::SMALL, 0)
            .request(answer::ACCEPT)
            .input(&frame(true, 2, m, &[7; 200]))
            .0,
    ));
    out.push((
        t,
        "invalid_utf8",
        Script::new(0, 0)
            .request(answer::ACCEPT)
            .input(&frame(true, 1, m, b"bad \xff"))
            .0,
    ));
    out.push((
        t,
        "unmasked_lax",
        Script::new(flag::LAX_MASKING | flag::ECHO, 0)
            .request(answer::ACCEPT)
            .input(&frame(true, 1, None, b"plain"))
            .op(op::EOF)
            .0,
    ));
    out.push((
        t,
        "zero_timeouts",
        Script::new(flag::ZERO_TIMEOUTS | flag::KEEPALIVE | flag::IDLE, 0)
            .request(answer::ACCEPT)
            .time(25)
            .0,
    ));
    out.push((
        t,
        "plain_get",
        Script::new(0, 0)
            .input(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            .answer(answer::ACCEPT)
            .0,
    ));
}

fn seed_connection_client(out: &mut Seeds) {
    let t = "connection_client";
    let server_frames = [
        frame(false, 1, None, b"Hel"),
        frame(true, 9, None, b"p"),
        frame(true, 0, None, b"lo"),
        frame(true, 2, None, &[1, 2, 3]),
        frame(true, 8, None, &close(1001, "away")),
    ]
    .concat();
    out.push((
        t,
        "open_messages_server_close",
        Script::new(flag::ECHO, 0)
            .send(0, b"before open")
            .input(RFC_RESPONSE)
            .input(&server_frames)
            .time(1000)
            .0,
    ));
    out.push((
        t,
        "client_close_then_eof",
        Script::new(flag::FRAGMENT, 5)
            .input(RFC_RESPONSE)
            .send(2, b"fragmented text")
            .ping(b"hi")
            .close(1000, "bye")
            .input(&frame(true, 8, None, &close(1000, "")))
            .op(op::EOF)
            .0,
    ));
    out.push((
        t,
        "close_timeout",
        Script::new(0, 0)
            .input(RFC_RESPONSE)
            .close(3000, "")
            .time(1000)
            .0,
    ));
    out.push((
        t,
        "masked_from_server",
        Script::new(0, 0)
            .input(RFC_RESPONSE)
            .input(&frame(true, 1, Some(MASK), b"x"))
            .0,
    ));
    out.push((
        t,
        "rejected",
        Script::new(0, 0)
            .input(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .0,
    ));
    out.push((
        t,
        "keepalive_pong",
        Script::new(flag::KEEPALIVE, 0)
            .input(RFC_RESPONSE)
            .time(3000)
            .input(&frame(true, 10, None, b""))
            .time(3000)
            .time(1000)
            .0,
    ));
}
