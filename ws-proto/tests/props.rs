//! Property tests: encode/decode round trips, the same events for any split
//! of the input (decoder and whole connections), masking and UTF-8.
//!
//! The word-wise mask against the byte loop for every length 0..300 and
//! every phase is a unit test in `src/mask.rs`; here the key and the data are
//! arbitrary too.

mod support;

use std::sync::Arc;
use std::time::Instant;

use proptest::prelude::*;
use support::*;
use ws_proto::{
    CloseCode, CloseFrame, Closed, Config, Connection, Decoded, Decoder, DecoderConfig, Event,
    FrameHeader, MAX_HEADER_LEN, Message, OpCode, Status, Utf8Validator, apply_mask,
    apply_mask_bytewise, mask_into,
};

// ------------------------------------------------------------------ inputs

/// One thing a peer sends.
#[derive(Clone, Debug)]
enum Item {
    /// A data message cut into frames of at most `frag` payload bytes (0: one
    /// frame), with a ping slipped in after each of the first fragments.
    Message {
        msg: Message,
        frag: usize,
        pings: Vec<Vec<u8>>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

/// A peer's stream: items, then maybe a close frame.
#[derive(Clone, Debug)]
struct Stream {
    items: Vec<Item>,
    close: Option<(u16, String)>,
    key: [u8; 4],
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        any::<String>().prop_map(Message::Text),
        prop::collection::vec(any::<u8>(), 0..600).prop_map(Message::Binary),
    ]
}

fn control_payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=125)
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (message(), 0usize..70, prop::collection::vec(control_payload(), 0..3))
            .prop_map(|(msg, frag, pings)| Item::Message { msg, frag, pings }),
        1 => control_payload().prop_map(Item::Ping),
        1 => control_payload().prop_map(Item::Pong),
    ]
}

fn close_code() -> impl Strategy<Value = u16> {
    prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999]
}

/// A close reason: valid UTF-8 that fits in a control frame.
fn close_reason() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| {
        let mut end = s.len().min(123);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_owned()
    })
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        prop::collection::vec(item(), 0..8),
        prop::option::of((close_code(), close_reason())),
        any::<[u8; 4]>(),
    )
        .prop_map(|(items, close, key)| Stream { items, close, key })
}

/// Cut points for `len` bytes, from arbitrary numbers.
fn cuts(raw: &[usize], len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = raw.iter().map(|c| c % (len + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// `bytes` cut at `cuts` (which are sorted).
fn pieces<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts {
        out.push(&bytes[start..c]);
        start = c;
    }
    out.push(&bytes[start..]);
    out
}

impl Stream {
    /// The wire bytes (masked when `masked`) and the items a decoder must
    /// produce from them, in order.
    fn encode(&self, masked: bool) -> (Vec<u8>, Vec<Decoded>) {
        let mut n: u32 = 0;
        let key = self.key;
        let mut next_mask = || {
            n = n.wrapping_add(0x0101_0107);
            masked.then(|| (u32::from_be_bytes(key) ^ n).to_be_bytes())
        };
        let mut wire = Vec::new();
        let mut expect = Vec::new();
        for item in &self.items {
            match item {
                Item::Message { msg, frag, pings } => {
                    let opcode = match msg {
                        Message::Text(_) => 1,
                        Message::Binary(_) => 2,
                    };
                    let payload = msg.as_bytes();
                    let chunks: Vec<&[u8]> = if *frag == 0 || payload.is_empty() {
                        vec![payload]
                    } else {
                        payload.chunks(*frag).collect()
                    };
                    let last = chunks.len() - 1;
                    for (i, chunk) in chunks.iter().enumerate() {
                        let op = if i == 0 { opcode } else { 0 };
                        wire.extend(frame(i == last, op, next_mask(), chunk));
                        if i < last {
                            if let Some(ping) = pings.get(i) {
                                wire.extend(frame(true, 9, next_mask(), ping));
                                expect.push(Decoded::Ping(ping.clone()));
                            }
                        }
                    }
                    expect.push(Decoded::Message(msg.clone()));
                }
                Item::Ping(p) => {
                    wire.extend(frame(true, 9, next_mask(), p));
                    expect.push(Decoded::Ping(p.clone()));
                }
                Item::Pong(p) => {
                    wire.extend(frame(true, 10, next_mask(), p));
                    expect.push(Decoded::Pong(p.clone()));
                }
            }
        }
        if let Some((code, reason)) = &self.close {
            wire.extend(frame(true, 8, next_mask(), &close_payload(*code, reason)));
            expect.push(Decoded::Close(Some(CloseFrame {
                code: CloseCode(*code),
                reason: reason.clone(),
            })));
        }
        (wire, expect)
    }
}

/// What a decoded item becomes as a connection event (pongs and pings are
/// reported; a close frame ends the stream with `Closed`).
fn as_event(item: &Decoded) -> Event {
    match item {
        Decoded::Message(m) => Event::Message(m.clone()),
        Decoded::Ping(p) => Event::Ping(p.clone()),
        Decoded::Pong(p) => Event::Pong(p.clone()),
        Decoded::Close(frame) => {
            let frame = frame.clone().expect("the streams close with a code");
            Event::Closed(Closed {
                code: frame.code,
                reason: frame.reason,
                error: None,
            })
        }
    }
}

// ------------------------------------------------------------------ drivers

fn decoder_config(expect_masked: bool) -> DecoderConfig {
    DecoderConfig {
        expect_masked,
        allow_unmasked: false,
        allowed_rsv: 0,
        max_frame_size: 1 << 20,
        max_message_size: 1 << 20,
        max_fragments: 10_000,
    }
}

/// Decodes `pieces` in order, every item of every piece.
fn decode_pieces(expect_masked: bool, pieces: &[&[u8]]) -> Vec<Decoded> {
    let mut dec = Decoder::new(decoder_config(expect_masked));
    let mut items = Vec::new();
    for piece in pieces {
        let mut rest = *piece;
        while !rest.is_empty() {
            let (used, item) = dec.decode(rest).expect("a valid stream");
            items.extend(item);
            rest = &rest[used..];
        }
    }
    assert!(dec.is_idle(), "the decoder holds a partial frame");
    items
}

/// Everything a connection reported and wrote.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    events: Vec<Event>,
    output: Vec<u8>,
    close: bool,
}

/// Feeds `pieces` to `conn`, draining events (and accepting a request) after
/// each, and the transmit queue only at the end: a pong owed is written once,
/// for the last ping, however the input was cut.
fn run_connection(mut conn: Connection, now: Instant, pieces: &[&[u8]]) -> Run {
    let mut events = Vec::new();
    let (mut output, _) = drain_transmit(&mut conn, now);
    for piece in pieces {
        conn.handle_input(now, piece);
        while let Some(event) = conn.poll_event() {
            if let Event::Request(_) = event {
                conn.accept(now, Default::default()).expect("accept");
            }
            events.push(event);
        }
    }
    let (more, close) = drain_transmit(&mut conn, now);
    output.extend(more);
    Run {
        events,
        output,
        close,
    }
}

// ------------------------------------------------------------------- tests

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every header form encodes and parses back; every strict prefix is
    /// Partial; bytes after the header are not looked at.
    #[test]
    fn frame_header_round_trip(
        fin in any::<bool>(),
        rsv in 0u8..8,
        opcode in prop::sample::select(vec![0u8, 1, 2, 8, 9, 10]),
        mask in prop::option::of(any::<[u8; 4]>()),
        payload_len in prop_oneof![0u64..=125, 126u64..=0xffff, 0x1_0000u64..=i64::MAX as u64],
        trailer in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let header = FrameHeader {
            fin,
            rsv,
            opcode: OpCode::from_u8(opcode).unwrap(),
            mask,
            payload_len,
        };
        let mut buf = [0; MAX_HEADER_LEN];
        let len = header.encode(&mut buf);
        prop_assert_eq!(len, header.encoded_len());
        let mut wire = buf[..len].to_vec();
        for cut in 0..len {
            prop_assert_eq!(FrameHeader::parse(&wire[..cut]), Ok(Status::Partial));
        }
        wire.extend(&trailer);
        prop_assert_eq!(FrameHeader::parse(&wire), Ok(Status::Complete((header, len))));
    }

    /// Whatever the bytes, parsing does not panic, and a header it accepts
    /// encodes to a form that parses to the same header.
    #[test]
    fn frame_header_parse_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..16)) {
        if let Ok(Status::Complete((header, len))) = FrameHeader::parse(&bytes) {
            prop_assert!(len <= bytes.len() && len >= header.encoded_len());
            let mut out = Vec::new();
            header.write_to(&mut out);
            prop_assert_eq!(
                FrameHeader::parse(&out),
                Ok(Status::Complete((header, header.encoded_len())))
            );
        }
    }

    /// Messages (fragmented, with pings between fragments), pings, pongs and
    /// a close frame come out of the decoder as they went in, whatever the
    /// cuts in the byte stream, masked (client to server) or not.
    #[test]
    fn decoder_round_trip_for_any_split(
        stream in stream(),
        masked in any::<bool>(),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (wire, expect) = stream.encode(masked);
        prop_assert_eq!(&decode_pieces(masked, &[&wire]), &expect);
        let cuts = cuts(&raw_cuts, wire.len());
        prop_assert_eq!(&decode_pieces(masked, &pieces(&wire, &cuts)), &expect);
    }

    /// Byte by byte too, for a smaller stream.
    #[test]
    fn decoder_byte_by_byte(stream in stream(), masked in any::<bool>()) {
        let (wire, expect) = stream.encode(masked);
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        prop_assert_eq!(decode_pieces(masked, &bytes), expect);
    }

    /// A server connection fed the RFC's request and then a client's frames
    /// reports the same events and writes the same bytes for any split, and
    /// the events are the frames' items.
    #[test]
    fn server_connection_same_events_for_any_split(
        stream in stream(),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (frames, expect) = stream.encode(true);
        let input = [RFC_REQUEST, &frames].concat();
        let now = Instant::now();
        let server = || Connection::server(Arc::new(Config::default()), now, SERVER_SEED);
        let whole = run_connection(server(), now, &[&input]);
        let cuts = cuts(&raw_cuts, input.len());
        let split = run_connection(server(), now, &pieces(&input, &cuts));
        prop_assert_eq!(&split, &whole);

        prop_assert!(matches!(whole.events[0], Event::Request(_)));
        prop_assert!(matches!(whole.events[1], Event::Open(_)));
        let expect: Vec<Event> = expect.iter().map(as_event).collect();
        prop_assert_eq!(&whole.events[2..], &expect[..]);
        // The server closes TCP after the close handshake (section 7.1.1).
        prop_assert_eq!(whole.close, stream.close.is_some());
    }

    /// The same for a client reading the server's response and frames.
    #[test]
    fn client_connection_same_events_for_any_split(
        stream in stream(),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (frames, expect) = stream.encode(false);
        let input = [RFC_RESPONSE, &frames].concat();
        let now = Instant::now();
        let client = || {
            Connection::client(Arc::new(Config::default()), rfc_client_request(), now, CLIENT_SEED)
        };
        let whole = run_connection(client(), now, &[&input]);
        let cuts = cuts(&raw_cuts, input.len());
        let split = run_connection(client(), now, &pieces(&input, &cuts));
        prop_assert_eq!(&split, &whole);

        prop_assert!(matches!(whole.events[0], Event::Open(_)));
        let expect: Vec<Event> = expect.iter().map(as_event).collect();
        prop_assert_eq!(&whole.events[1..], &expect[..]);
        // A client waits for the server to close TCP.
        prop_assert!(!whole.close);
    }

    /// Whatever a client sends, fragmented at any size, the server receives
    /// it unchanged, and its echo (fragmented at another size) comes back
    /// unchanged; then both close cleanly.
    #[test]
    fn pair_round_trip(
        msgs in prop::collection::vec(message(), 0..10),
        client_frag in 1usize..300,
        server_frag in 1usize..300,
    ) {
        let client = Config { fragment_size: client_frag, ..Config::default() };
        let server = Config { fragment_size: server_frag, ..Config::default() };
        let mut pair = Pair::open(client, server);
        let now = pair.now;
        for msg in &msgs {
            pair.client.conn.send(now, msg.clone()).expect("send");
        }
        pair.drive();
        prop_assert_eq!(&pair.server.messages(), &msgs);
        prop_assert_eq!(&pair.client.messages(), &msgs);
        pair.client.conn.close(now, CloseCode::NORMAL, "done").expect("close");
        pair.drive();
        pair.assert_finished();
        prop_assert_eq!(pair.server.the_closed().error, None);
    }

    /// Masking twice with the same key and phase gives the input back.
    #[test]
    fn masking_twice_is_identity(
        data in prop::collection::vec(any::<u8>(), 0..2000),
        key in any::<[u8; 4]>(),
        phase in any::<usize>(),
    ) {
        let mut buf = data.clone();
        apply_mask(&mut buf, key, phase);
        apply_mask(&mut buf, key, phase);
        prop_assert_eq!(buf, data);
    }

    /// The word-wise mask equals the byte loop for any key and phase, and
    /// `mask_into` cut anywhere equals one pass.
    #[test]
    fn mask_matches_the_byte_loop_for_any_key(
        data in prop::collection::vec(any::<u8>(), 0..300),
        key in any::<[u8; 4]>(),
        phase in any::<usize>(),
        cut in any::<usize>(),
    ) {
        let mut fast = data.clone();
        let mut slow = data.clone();
        apply_mask(&mut fast, key, phase);
        apply_mask_bytewise(&mut slow, key, phase);
        prop_assert_eq!(&fast, &slow);
        let cut = cut % (data.len() + 1);
        let mut out = Vec::new();
        mask_into(&mut out, &data[..cut], key, phase);
        mask_into(&mut out, &data[cut..], key, phase.wrapping_add(cut));
        prop_assert_eq!(&out, &slow);
    }

    /// The incremental validator agrees with `std::str::from_utf8` for any
    /// bytes and any split: valid, invalid at the same position, or cut
    /// inside a code point at the end.
    #[test]
    fn utf8_validator_agrees_with_std(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            any::<String>().prop_map(String::into_bytes),
            (any::<String>(), any::<u8>(), any::<prop::sample::Index>()).prop_map(|(s, b, at)| {
                let mut v = s.into_bytes();
                let at = at.index(v.len() + 1);
                v.insert(at, b);
                v
            }),
        ],
        raw_cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let cuts = cuts(&raw_cuts, bytes.len());
        let mut v = Utf8Validator::new();
        let got = pieces(&bytes, &cuts)
            .into_iter()
            .try_for_each(|p| v.feed(p))
            .and_then(|_| v.finish())
            .map_err(|e| e.position);
        let want = std::str::from_utf8(&bytes).map(|_| ()).map_err(|e| e.valid_up_to() as u64);
        prop_assert_eq!(got, want);
    }
}
