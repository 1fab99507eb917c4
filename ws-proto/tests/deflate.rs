//! permessage-deflate between a client and a server `Connection`, in
//! virtual time, with the frames on the wire inspected.

use std::sync::Arc;
use std::time::Instant;

use ws_proto::{
    Accept, CloseCode, Config, Connection, DeflateConfig, DeflateParams, Error, Event, FrameHeader,
    HandshakeError, Message, OpCode, ProtocolError, RSV1, Request, Role, Status, Transmit,
    apply_mask,
};

/// A frame as seen on the wire (payload unmasked).
#[derive(Debug)]
struct WireFrame {
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    payload: Vec<u8>,
}

fn parse_frames(mut wire: &[u8]) -> Vec<WireFrame> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let Status::Complete((h, len)) = FrameHeader::parse(wire).unwrap() else {
            panic!("partial frame")
        };
        let end = len + h.payload_len as usize;
        let mut payload = wire[len..end].to_vec();
        if let Some(key) = h.mask {
            apply_mask(&mut payload, key, 0);
        }
        out.push(WireFrame {
            fin: h.fin,
            rsv: h.rsv,
            opcode: h.opcode,
            payload,
        });
        wire = &wire[end..];
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

fn events(conn: &mut Connection) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = conn.poll_event() {
        out.push(e);
    }
    out
}

fn config(deflate: Option<DeflateConfig>) -> Config {
    Config {
        deflate,
        ..Config::default()
    }
}

/// A client and a server through the opening handshake; returns them open.
fn pair(client: Option<DeflateConfig>, server: Option<DeflateConfig>) -> (Connection, Connection) {
    pair_with(config(client), config(server))
}

fn pair_with(client: Config, server: Config) -> (Connection, Connection) {
    let now = Instant::now();
    let request = Request::client("ws://example.com/").unwrap();
    let mut c = Connection::client(Arc::new(client), request, now, [1; 32]);
    let mut s = Connection::server(Arc::new(server), now, [2; 32]);
    s.handle_input(now, &drain(&mut c, now));
    let Some(Event::Request(_)) = s.poll_event() else {
        panic!("no request")
    };
    s.accept(now, Accept::default()).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Open(_))));
    c.handle_input(now, &drain(&mut s, now));
    assert!(matches!(c.poll_event(), Some(Event::Open(_))));
    (c, s)
}

/// Sends `msg` from `a` to `b`; returns the frames on the wire and what `b` got.
fn send(a: &mut Connection, b: &mut Connection, msg: Message) -> (Vec<WireFrame>, Vec<Event>) {
    let now = Instant::now();
    a.send(now, msg).unwrap();
    let wire = drain(a, now);
    let frames = parse_frames(&wire);
    // Byte by byte for small messages: any split gives the same result.
    if wire.len() < 2048 {
        for byte in wire.chunks(1) {
            b.handle_input(now, byte);
        }
    } else {
        b.handle_input(now, &wire);
    }
    (frames, events(b))
}

fn text(n: usize, seed: u64) -> String {
    let words = [
        "lorem ",
        "ipsum ",
        "dolor ",
        "sit ",
        "amet, ",
        "κόσμε ",
        "{\"k\":1} ",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut s = String::new();
    while s.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(words[(x % words.len() as u64) as usize]);
    }
    s
}

fn closed(events: &[Event]) -> &ws_proto::Closed {
    match events.last() {
        Some(Event::Closed(c)) => c,
        other => panic!("not closed: {other:?}"),
    }
}

#[test]
fn negotiated_both_ways_with_rsv1_on_compressed_messages_only() {
    let (mut c, mut s) = pair(
        Some(DeflateConfig::default()),
        Some(DeflateConfig::default()),
    );
    assert_eq!(c.deflate(), Some(&DeflateParams::default()));
    assert_eq!(s.deflate(), Some(&DeflateParams::default()));

    let msg = text(10_000, 1);
    let (frames, got) = send(&mut c, &mut s, Message::Text(msg.clone()));
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].rsv, RSV1);
    assert!(frames[0].payload.len() < msg.len() / 2);
    assert_eq!(got, [Event::Message(Message::Text(msg.clone()))]);

    let (frames, got) = send(&mut s, &mut c, Message::Binary(msg.clone().into_bytes()));
    assert_eq!(frames[0].rsv, RSV1);
    assert_eq!(got, [Event::Message(Message::Binary(msg.into_bytes()))]);

    // Below the threshold (64 by default): uncompressed, RSV1 clear.
    let (frames, got) = send(&mut c, &mut s, Message::Text("short".into()));
    assert_eq!(frames[0].rsv, 0);
    assert_eq!(frames[0].payload, b"short");
    assert_eq!(got, [Event::Message(Message::Text("short".into()))]);

    // Incompressible data goes out uncompressed; later messages still work.
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..3000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let (frames, got) = send(&mut c, &mut s, Message::Binary(noise.clone()));
    assert_eq!(frames[0].rsv, 0);
    assert_eq!(got, [Event::Message(Message::Binary(noise))]);
    let msg = text(5000, 1);
    let (frames, got) = send(&mut c, &mut s, Message::Text(msg.clone()));
    assert_eq!(frames[0].rsv, RSV1);
    assert_eq!(got, [Event::Message(Message::Text(msg))]);

    // Control frames are never compressed.
    let now = Instant::now();
    c.ping(now, &[b'x'; 125]).unwrap();
    c.close(now, CloseCode::NORMAL, &"x".repeat(120)).unwrap();
    let frames = parse_frames(&drain(&mut c, now));
    assert_eq!((frames[0].opcode, frames[0].rsv), (OpCode::Ping, 0));
    assert_eq!((frames[1].opcode, frames[1].rsv), (OpCode::Close, 0));
}

#[test]
fn rsv1_only_on_the_first_fragment() {
    let deflate = Some(DeflateConfig::default());
    let small = Config {
        fragment_size: 100,
        ..config(deflate)
    };
    let (mut c, mut s) = pair_with(small, config(deflate));
    let msg = text(20_000, 3);
    let (frames, got) = send(&mut c, &mut s, Message::Text(msg.clone()));
    assert!(frames.len() > 3, "{}", frames.len());
    assert_eq!(
        (frames[0].opcode, frames[0].rsv, frames[0].fin),
        (OpCode::Text, RSV1, false)
    );
    for f in &frames[1..] {
        assert_eq!((f.opcode, f.rsv), (OpCode::Continuation, 0));
    }
    assert!(frames.last().unwrap().fin);
    assert_eq!(got, [Event::Message(Message::Text(msg))]);
}

#[test]
fn not_negotiated_unless_both_want_it() {
    for (client, server) in [
        (Some(DeflateConfig::default()), None),
        (None, Some(DeflateConfig::default())),
    ] {
        let (mut c, mut s) = pair(client, server);
        assert_eq!((c.deflate(), s.deflate()), (None, None));
        let msg = text(1000, 2);
        let (frames, got) = send(&mut c, &mut s, Message::Text(msg.clone()));
        assert_eq!(frames[0].rsv, 0);
        assert_eq!(frames[0].payload, msg.as_bytes());
        assert_eq!(got, [Event::Message(Message::Text(msg))]);
    }
}

/// Every window size on both sides, with and without context takeover.
#[test]
fn window_bits_8_to_15_with_and_without_context_takeover() {
    for bits in 8..=15u8 {
        for no_takeover in [false, true] {
            let client = DeflateConfig {
                max_window_bits: bits,
                peer_max_window_bits: bits,
                no_context_takeover: no_takeover,
                ..DeflateConfig::default()
            };
            let server = DeflateConfig {
                peer_no_context_takeover: no_takeover,
                ..DeflateConfig::default()
            };
            let (mut c, mut s) = pair(Some(client), Some(server));
            let params = *c.deflate().unwrap();
            assert_eq!(s.deflate(), Some(&params));
            let expect = (bits < 15).then_some(bits);
            assert_eq!(params.server_max_window_bits, expect, "bits {bits}");
            assert_eq!(params.client_no_context_takeover, no_takeover);
            let mut sizes = Vec::new();
            for round in 0..4 {
                // The same message twice: with context takeover and a window
                // that holds it, the second costs almost nothing.
                let msg = text(400 + 300 * round, 7);
                let (frames, got) = send(&mut c, &mut s, Message::Text(msg.clone()));
                sizes.push(frames[0].payload.len());
                assert_eq!(
                    got,
                    [Event::Message(Message::Text(msg.clone()))],
                    "bits {bits}"
                );
                let (frames, got) = send(&mut s, &mut c, Message::Text(msg.clone()));
                // Limited to 8 bits, zlib cannot compress: sent as is.
                let rsv = if bits == 8 { 0 } else { RSV1 };
                assert_eq!(frames[0].rsv, rsv, "bits {bits}");
                assert_eq!(got, [Event::Message(Message::Text(msg))], "bits {bits}");
            }
        }
    }
}

/// RSV1 on a control frame or a continuation frame fails the connection
/// with 1002; RSV1 without deflate negotiated too.
#[test]
fn rsv1_rules() {
    let params = DeflateParams::default();
    let cases: &[(&[u8], ProtocolError)] = &[
        (
            &[0xc9, 0x80, 0, 0, 0, 0],
            ProtocolError::CompressedControlFrame,
        ),
        (
            &[0xca, 0x80, 0, 0, 0, 0],
            ProtocolError::CompressedControlFrame,
        ),
        (
            &[0xc8, 0x80, 0, 0, 0, 0],
            ProtocolError::CompressedControlFrame,
        ),
        (
            // A compressed first fragment ("Hel" of RFC 7692 section 7.2.3.1
            // is not needed: any bytes), then a continuation with RSV1.
            &[0x41, 0x81, 0, 0, 0, 0, 0x00, 0xc0, 0x80, 0, 0, 0, 0],
            ProtocolError::CompressedContinuation,
        ),
        (
            &[0xa1, 0x80, 0, 0, 0, 0],
            ProtocolError::ReservedBits(0b010),
        ),
    ];
    for (wire, err) in cases {
        let now = Instant::now();
        let config = Arc::new(config(Some(DeflateConfig::default())));
        let mut s =
            Connection::established_with_deflate(config, Role::Server, now, [3; 32], params);
        s.handle_input(now, wire);
        let ev = events(&mut s);
        let c = closed(&ev);
        assert_eq!(c.code, CloseCode::PROTOCOL, "{wire:02x?}");
        assert_eq!(c.error, Some(Error::Protocol(err.clone())));
        let frames = parse_frames(&drain(&mut s, now));
        assert_eq!(frames[0].payload[..2], 1002u16.to_be_bytes());
    }
    // Without deflate, RSV1 is a reserved bit.
    let now = Instant::now();
    let mut s = Connection::established(Arc::new(Config::default()), Role::Server, now, [3; 32]);
    s.handle_input(now, &[0xc1, 0x80, 0, 0, 0, 0]);
    let ev = events(&mut s);
    assert_eq!(
        closed(&ev).error,
        Some(Error::Protocol(ProtocolError::ReservedBits(0b100)))
    );
}

/// A message that inflates past `max_message_size` closes with 1009, and
/// the server never holds more than the limit plus one chunk.
#[test]
fn bomb_is_refused_with_1009() {
    let deflate = Some(DeflateConfig::default());
    let limit = 1 << 20;
    let server = Config {
        max_message_size: limit,
        ..config(deflate)
    };
    let (mut c, mut s) = pair_with(config(deflate), server);
    let now = Instant::now();
    c.send(now, Message::Binary(vec![0; 16 << 20])).unwrap();
    let wire = drain(&mut c, now);
    assert!(wire.len() < 64 * 1024, "{}", wire.len());
    s.handle_input(now, &wire);
    let ev = events(&mut s);
    let closed = closed(&ev);
    assert_eq!(closed.code, CloseCode::TOO_BIG);
    assert!(matches!(
        closed.error,
        Some(Error::Protocol(ProtocolError::MessageTooLarge { len, max })) if len == limit as u64 + 1 && max == limit
    ));
    // Exactly at the limit is fine.
    let (mut c, mut s) = pair_with(
        config(deflate),
        Config {
            max_message_size: limit,
            ..config(deflate)
        },
    );
    let (_, got) = send(&mut c, &mut s, Message::Binary(vec![0; limit]));
    assert_eq!(got, [Event::Message(Message::Binary(vec![0; limit]))]);
}

/// Invalid UTF-8 in a compressed text message fails with 1007 before the
/// message is complete.
#[test]
fn utf8_is_checked_on_inflated_bytes() {
    let deflate = Some(DeflateConfig::default());
    let (mut c, mut s) = pair(deflate, deflate);
    // Compress bad text by sending it as binary from a raw compressor, then
    // flip the opcode to text: the first frame's payload is the same.
    let mut bad = text(3000, 5).into_bytes();
    bad[100] = 0xff;
    let now = Instant::now();
    c.send(now, Message::Binary(bad)).unwrap();
    let mut wire = drain(&mut c, now);
    assert_eq!(wire[0], 0xc2);
    wire[0] = 0x41; // FIN clear, RSV1, text: the message never completes
    s.handle_input(now, &wire);
    let ev = events(&mut s);
    assert_eq!(closed(&ev).code, CloseCode::INVALID_PAYLOAD);
    assert_eq!(
        closed(&ev).error,
        Some(Error::Protocol(ProtocolError::InvalidUtf8))
    );
}

/// Garbage that is not deflate data fails the connection.
#[test]
fn corrupt_compressed_data_fails() {
    let now = Instant::now();
    let config = Arc::new(config(Some(DeflateConfig::default())));
    let mut s = Connection::established_with_deflate(
        config,
        Role::Server,
        now,
        [3; 32],
        DeflateParams::default(),
    );
    s.handle_input(now, &[0xc2, 0x83, 0, 0, 0, 0, 0xff, 0xff, 0xff]);
    let ev = events(&mut s);
    assert!(matches!(
        closed(&ev).error,
        Some(Error::Protocol(ProtocolError::Extension(_)))
    ));
}

/// A client fails the handshake when the server's answer is not one it can
/// accept; a server declines invalid offers and picks a later valid one.
#[test]
fn handshake_answers_checked_by_the_client() {
    let cases: &[(&str, &str)] = &[
        ("permessage-deflate; foo", "unknown parameter"),
        (
            "permessage-deflate; server_max_window_bits=7",
            "invalid value",
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "without a value",
        ),
        ("permessage-deflate, permessage-deflate", "accepted twice"),
        ("x-webkit-deflate-frame", "x-webkit-deflate-frame"),
    ];
    for (answer, why) in cases {
        let now = Instant::now();
        let request = Request::client("ws://example.com/").unwrap();
        let mut c = Connection::client(
            Arc::new(config(Some(DeflateConfig::default()))),
            request,
            now,
            [1; 32],
        );
        let sent = drain(&mut c, now);
        let head = String::from_utf8(sent).unwrap();
        assert!(
            head.contains(
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            )
        );
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n",
            ws_proto::accept_key(key.as_bytes())
        );
        c.handle_input(now, response.as_bytes());
        let ev = events(&mut c);
        match &closed(&ev).error {
            Some(Error::Handshake(
                e @ (HandshakeError::Extension(_) | HandshakeError::UnofferedExtension(_)),
            )) => {
                assert!(e.to_string().contains(why), "{answer}: {e}")
            }
            other => panic!("{answer}: {other:?}"),
        }
    }
}

#[test]
fn server_declines_invalid_offers_and_takes_the_next() {
    let now = Instant::now();
    let mut s = Connection::server(
        Arc::new(config(Some(DeflateConfig::default()))),
        now,
        [2; 32],
    );
    s.handle_input(
        now,
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16, x-foo\r\n\
          Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; client_max_window_bits\r\n\r\n",
    );
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    s.accept(now, Accept::default()).unwrap();
    let head = String::from_utf8(drain(&mut s, now)).unwrap();
    assert!(
        head.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n"
        ),
        "{head}"
    );
    assert_eq!(s.deflate().unwrap().server_max_window_bits, Some(10));
}

/// Messages queued before the handshake completes are compressed once it does.
#[test]
fn messages_queued_before_open_are_compressed() {
    let deflate = Some(DeflateConfig::default());
    let now = Instant::now();
    let request = Request::client("ws://example.com/").unwrap();
    let mut c = Connection::client(Arc::new(config(deflate)), request, now, [1; 32]);
    let mut s = Connection::server(Arc::new(config(deflate)), now, [2; 32]);
    let msg = text(3000, 9);
    c.send(now, Message::Text(msg.clone())).unwrap();
    s.handle_input(now, &drain(&mut c, now));
    let _ = s.poll_event();
    s.accept(now, Accept::default()).unwrap();
    let _ = events(&mut s);
    c.handle_input(now, &drain(&mut s, now));
    let _ = events(&mut c);
    let wire = drain(&mut c, now);
    assert_eq!(parse_frames(&wire)[0].rsv, RSV1);
    s.handle_input(now, &wire);
    assert_eq!(events(&mut s), [Event::Message(Message::Text(msg))]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Messages from a small alphabet (so that they compress) or any bytes.
    fn payload() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b' ')], 0..3000),
            proptest::collection::vec(any::<u8>(), 0..600),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the messages, fragment size, context rules and window,
        /// and however the stream is split, the server gets what was sent.
        #[test]
        fn any_messages_any_split_round_trip(
            messages in proptest::collection::vec(payload(), 1..6),
            fragment_size in 1usize..2000,
            bits in 8u8..=15,
            no_takeover in any::<bool>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let deflate = DeflateConfig {
                threshold: 0,
                max_window_bits: bits,
                no_context_takeover: no_takeover,
                ..DeflateConfig::default()
            };
            let client = Config { fragment_size, ..config(Some(deflate)) };
            let (mut c, mut s) = pair_with(client, config(Some(DeflateConfig::default())));
            let now = Instant::now();
            for m in &messages {
                c.send_binary(now, m).unwrap();
            }
            let wire = drain(&mut c, now);
            let at = cut.index(wire.len() + 1);
            s.handle_input(now, &wire[..at]);
            let mut got = events(&mut s);
            s.handle_input(now, &wire[at..]);
            got.extend(events(&mut s));
            let expected: Vec<Event> = messages
                .into_iter()
                .map(|m| Event::Message(Message::Binary(m)))
                .collect();
            prop_assert_eq!(got, expected);
        }
    }
}

/// Random bytes (xorshift): they do not compress, so deflate makes them
/// a little longer.
fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// A message within `max_message_size` gets through in one compressed frame
/// although deflate made that frame longer than the message (Node's `ws`
/// sends 16 MiB of random bytes as one frame of 16,782,342 bytes), with the
/// default limits and with a frame limit equal to the message. The frame is
/// built here, as Node builds it: this crate's own sender would send such a
/// message uncompressed.
#[test]
fn incompressible_message_in_one_frame_within_the_limits() {
    let deflate = Some(DeflateConfig::default());
    let small = 1 << 20;
    let limits = Config {
        max_message_size: small,
        max_frame_size: small,
        ..config(deflate)
    };
    for (server, len) in [(config(deflate), 16 << 20), (limits, small)] {
        let (_c, mut s) = pair_with(config(deflate), server);
        let data = random_bytes(len, len as u64);
        let mut deflated = Vec::new();
        assert!(ws_proto::Deflater::new(6, 15, false).compress(&data, &mut deflated));
        assert!(deflated.len() > len, "{}", deflated.len());
        let header = ws_proto::FrameHeader {
            fin: true,
            rsv: ws_proto::RSV1,
            opcode: OpCode::Binary,
            mask: Some([1, 2, 3, 4]),
            payload_len: deflated.len() as u64,
        };
        let mut wire = Vec::new();
        header.write_to(&mut wire);
        let start = wire.len();
        wire.extend_from_slice(&deflated);
        ws_proto::apply_mask(&mut wire[start..], [1, 2, 3, 4], 0);
        let now = Instant::now();
        for piece in wire.chunks(64 << 10) {
            s.handle_input(now, piece);
        }
        assert_eq!(
            events(&mut s),
            [Event::Message(Message::Binary(data))],
            "{len}"
        );
    }
}

/// A compressed text of mixed multi-byte characters, fragmented and fed in
/// reads that cut characters anywhere, arrives whole; a compressed text
/// that inflates past the limit fails with the same error however it is
/// split (the text is checked and built a piece at a time).
#[test]
fn compressed_text_is_built_piece_by_piece() {
    let deflate = Some(DeflateConfig::default());
    let mixed: String = "Grüße, κόσμε, 世界, 🦀🌍! "
        .chars()
        .cycle()
        .take(40_000)
        .collect();
    for (fragment_size, read) in [
        (usize::MAX, 1),
        (1000, 7),
        (4096, 4093),
        (usize::MAX, 65536),
    ] {
        let client = Config {
            fragment_size,
            ..config(deflate)
        };
        let (mut c, mut s) = pair_with(client, config(deflate));
        let now = Instant::now();
        c.send(now, Message::Text(mixed.clone())).unwrap();
        let wire = drain(&mut c, now);
        assert!(
            parse_frames(&wire)
                .iter()
                .all(|f| f.opcode != OpCode::Text || f.rsv == RSV1)
        );
        for piece in wire.chunks(read) {
            s.handle_input(now, piece);
        }
        assert_eq!(
            events(&mut s),
            [Event::Message(Message::Text(mixed.clone()))],
            "fragments of {fragment_size}, reads of {read}"
        );
    }

    let limit = 100_000;
    let big: String = "ξ".repeat(limit);
    for read in [1000, 65536] {
        let server = Config {
            max_message_size: limit,
            ..config(deflate)
        };
        let (mut c, mut s) = pair_with(config(deflate), server);
        let now = Instant::now();
        c.send(now, Message::Text(big.clone())).unwrap();
        for piece in drain(&mut c, now).chunks(read) {
            s.handle_input(now, piece);
        }
        let ev = events(&mut s);
        let closed = closed(&ev);
        assert_eq!(closed.code, CloseCode::TOO_BIG, "reads of {read}");
        assert!(
            matches!(
                closed.error,
                Some(Error::Protocol(ProtocolError::MessageTooLarge { len, max }))
                    if len == limit as u64 + 1 && max == limit
            ),
            "reads of {read}: {:?}",
            closed.error
        );
    }
}
