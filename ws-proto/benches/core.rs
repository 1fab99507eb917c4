//! Benchmarks of the core's hot paths: masking (word-wise against the byte
//! loop), decoding and encoding frames, and a message's round trip from a
//! client to a server and back (no sockets), at 20 B, 1 KiB, 64 KiB and
//! 16 MiB of binary data.
//!
//! Text has its own cases (`text/...` in each group), at 1 KiB and 64 KiB
//! of mixed Latin, Greek, CJK and emoji (one to four bytes a character):
//! UTF-8 validation alone, a server decoding a message in one read, in
//! 4 KiB reads and in 4 KiB fragments (both cut code points in two), in the
//! runtimes' 64 KiB reads (`text/reads64k`: one cut a message), a client
//! decoding a server's unmasked message (`text/client`), a client and a
//! server encoding one, and the round trip. `text/ascii/20B` is the small
//! ASCII text of a chat line, the size where the text path must cost no
//! more than the binary one (`decoder/20B`).
//!
//! `cargo bench -p ws-proto -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_proto::{
    Config, Connection, Decoded, Decoder, DecoderConfig, Event, FrameHeader, Message, OpCode, Role,
    Utf8Validator, apply_mask, apply_mask_bytewise, mask_into,
};

const SIZES: [(usize, &str); 4] = [
    (20, "20B"),
    (1 << 10, "1KiB"),
    (64 << 10, "64KiB"),
    (16 << 20, "16MiB"),
];
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// Fewer samples for the large sizes, so a short run still completes.
fn samples(len: usize) -> usize {
    if len >= 16 << 20 { 10 } else { 50 }
}

fn mask(c: &mut Criterion) {
    for (len, name) in SIZES {
        let mut group = c.benchmark_group(format!("mask/{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(samples(len));
        let mut buf = payload(len);
        group.bench_function("words", |b| {
            b.iter(|| apply_mask(black_box(&mut buf), KEY, 1));
        });
        group.bench_function("bytes", |b| {
            b.iter(|| apply_mask_bytewise(black_box(&mut buf), KEY, 1));
        });
        // What the decoder does: copy out of the read buffer and unmask.
        let src = payload(len);
        let mut dst = Vec::with_capacity(len);
        group.bench_function("copy+words", |b| {
            b.iter(|| {
                dst.clear();
                mask_into(&mut dst, black_box(&src), KEY, 0);
            });
        });
        group.finish();
    }
}

/// The text sizes: what a chat or JSON server sees, and a large document.
const TEXT_SIZES: [(usize, &str); 2] = [(1 << 10, "1KiB"), (64 << 10, "64KiB")];
/// The read and fragment size of the "reads" and "fragments" text cases.
const PIECE: usize = 4 << 10;
/// The read buffer of both runtimes (ws-mio's `read_buffer`, ws-tokio's
/// `READ_BUFFER_SIZE`): a 64 KiB message and its header come in two reads.
const RUNTIME_READ: usize = 64 << 10;

/// `len` bytes of mixed text: Latin with accents, Greek, CJK and emoji, so
/// one to four bytes a character; ASCII pads the end to the exact length.
fn text(len: usize) -> String {
    const MIX: &str = "Grüße, señor! Καλημέρα κόσμε. 你好，世界。こんにちは 🌍🚀✨ ";
    let mut s = String::with_capacity(len);
    for c in MIX.chars().cycle() {
        if s.len() + c.len_utf8() > len {
            break;
        }
        s.push(c);
    }
    while s.len() < len {
        s.push('.');
    }
    s
}

/// One masked frame as a client sends it.
fn masked_frame(opcode: OpCode, fin: bool, data: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask: Some(KEY),
        payload_len: data.len() as u64,
    };
    let mut wire = Vec::with_capacity(data.len() + 14);
    header.write_to(&mut wire);
    mask_into(&mut wire, data, KEY, 0);
    wire
}

/// One masked binary frame as a client sends it.
fn client_frame(len: usize) -> Vec<u8> {
    masked_frame(OpCode::Binary, true, &payload(len))
}

/// A text message as a client sends it in fragments of [`PIECE`] bytes
/// (the cuts fall inside characters).
fn fragmented_text(data: &[u8]) -> Vec<u8> {
    let count = data.len().div_ceil(PIECE);
    let mut wire = Vec::new();
    for (i, piece) in data.chunks(PIECE).enumerate() {
        let opcode = if i == 0 {
            OpCode::Text
        } else {
            OpCode::Continuation
        };
        wire.extend(masked_frame(opcode, i + 1 == count, piece));
    }
    wire
}

/// UTF-8 validation alone: std's, and the core's incremental validator in
/// one piece and in [`PIECE`]-byte pieces.
fn utf8(c: &mut Criterion) {
    for (len, name) in TEXT_SIZES {
        let mut group = c.benchmark_group(format!("utf8/{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        let data = text(len).into_bytes();
        group.bench_function("std", |b| {
            b.iter(|| std::str::from_utf8(black_box(&data)).is_ok());
        });
        group.bench_function("validator", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(&data)).and_then(|()| v.finish()).is_ok()
            });
        });
        group.bench_function("validator_pieces", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                data.chunks(PIECE)
                    .try_for_each(|piece| v.feed(black_box(piece)))
                    .and_then(|()| v.finish())
                    .is_ok()
            });
        });
        group.finish();
    }
}

fn decode(c: &mut Criterion) {
    let config = DecoderConfig {
        expect_masked: true,
        allow_unmasked: false,
        allowed_rsv: 0,
        max_frame_size: 64 << 20,
        max_message_size: 64 << 20,
        max_fragments: 1000,
    };
    let mut group = c.benchmark_group("decode");
    for (len, name) in SIZES {
        let wire = client_frame(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(samples(len));
        // The server's decoder: header, limits, copy and unmask, message.
        group.bench_with_input(BenchmarkId::new("decoder", name), &wire, |b, wire| {
            b.iter(|| {
                let mut dec = Decoder::new(config);
                match dec.decode(black_box(wire)) {
                    Ok((_, Some(Decoded::Message(m)))) => m,
                    other => panic!("{other:?}"),
                }
            });
        });
        // A whole server connection, event included.
        let now = Instant::now();
        let server_config = Arc::new(Config {
            max_frame_size: 64 << 20,
            ..Config::default()
        });
        group.bench_with_input(BenchmarkId::new("connection", name), &wire, |b, wire| {
            b.iter(|| {
                let mut conn =
                    Connection::established(server_config.clone(), Role::Server, now, [0; 32]);
                conn.handle_input(now, black_box(wire));
                conn.poll_event().expect("a message")
            });
        });
    }
    let server_config = Arc::new(Config::default());
    let now = Instant::now();
    for (len, name) in TEXT_SIZES {
        let data = text(len).into_bytes();
        let whole = masked_frame(OpCode::Text, true, &data);
        let fragments = fragmented_text(&data);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("text/decoder", name), &whole, |b, wire| {
            b.iter(|| {
                let mut dec = Decoder::new(config);
                match dec.decode(black_box(wire)) {
                    Ok((_, Some(Decoded::Message(m)))) => m,
                    other => panic!("{other:?}"),
                }
            });
        });
        // A server connection given the message in one read, in reads of
        // PIECE bytes, and as fragments of PIECE bytes in one read.
        for (label, wire, read) in [
            ("text/connection", &whole, usize::MAX),
            ("text/reads", &whole, PIECE),
            ("text/reads64k", &whole, RUNTIME_READ),
            ("text/fragments", &fragments, usize::MAX),
        ] {
            if len <= PIECE && label != "text/connection" {
                continue;
            }
            group.bench_with_input(BenchmarkId::new(label, name), wire, |b, wire| {
                b.iter(|| {
                    let mut conn =
                        Connection::established(server_config.clone(), Role::Server, now, [0; 32]);
                    for chunk in wire.chunks(read) {
                        conn.handle_input(now, black_box(chunk));
                    }
                    match conn.poll_event() {
                        Some(Event::Message(m @ Message::Text(_))) => m,
                        other => panic!("{other:?}"),
                    }
                });
            });
        }
    }
    // A client: the server's frames are not masked.
    let client_config = DecoderConfig {
        expect_masked: false,
        ..config
    };
    for (len, name) in TEXT_SIZES {
        let data = text(len).into_bytes();
        let mut wire = Vec::with_capacity(len + 14);
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Text,
            mask: None,
            payload_len: len as u64,
        }
        .write_to(&mut wire);
        wire.extend_from_slice(&data);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("text/client", name), &wire, |b, wire| {
            b.iter(|| {
                let mut dec = Decoder::new(client_config);
                match dec.decode(black_box(wire)) {
                    Ok((_, Some(Decoded::Message(m)))) => m,
                    other => panic!("{other:?}"),
                }
            });
        });
    }
    let chat = masked_frame(OpCode::Text, true, b"hello, how are you?!");
    group.throughput(Throughput::Bytes(20));
    group.bench_with_input(BenchmarkId::new("text/ascii", "20B"), &chat, |b, wire| {
        b.iter(|| {
            let mut dec = Decoder::new(config);
            match dec.decode(black_box(wire)) {
                Ok((_, Some(Decoded::Message(m)))) => m,
                other => panic!("{other:?}"),
            }
        });
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let now = Instant::now();
    let config = Arc::new(Config::default());
    for (len, name) in SIZES {
        let data = payload(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(samples(len));
        // A client: header, fresh mask key, copy and mask into the output.
        for (role, label) in [(Role::Client, "client"), (Role::Server, "server")] {
            let mut conn = Connection::established(config.clone(), role, now, [0; 32]);
            let mut out = Vec::with_capacity(len + 14);
            group.bench_with_input(BenchmarkId::new(label, name), &data, |b, data| {
                b.iter(|| {
                    conn.send_binary(now, black_box(data)).expect("send");
                    out.clear();
                    let _ = conn.poll_transmit(now, &mut out);
                    black_box(out.len())
                });
            });
        }
    }
    // Text handed over as a String, as an application (or an echo) does.
    for (len, name) in TEXT_SIZES {
        let data = text(len);
        group.throughput(Throughput::Bytes(len as u64));
        for (role, label) in [(Role::Client, "text/client"), (Role::Server, "text/server")] {
            let mut conn = Connection::established(config.clone(), role, now, [0; 32]);
            let mut out = Vec::with_capacity(len + 14);
            group.bench_with_input(BenchmarkId::new(label, name), &data, |b, data| {
                b.iter(|| {
                    let message = Message::Text(black_box(data).clone());
                    conn.send(now, message).expect("send");
                    out.clear();
                    while conn.poll_transmit(now, &mut out).is_some() {}
                    black_box(out.len())
                });
            });
        }
    }
    group.finish();
}

/// A client sends a message, the server decodes it and echoes it, the
/// client decodes the echo: everything but the sockets, both directions.
/// What `client` has queued goes to `server`, which echoes the message it
/// decodes; the echo goes back to `client`, whose decoded message is returned.
fn bounce(
    now: Instant,
    client: &mut Connection,
    server: &mut Connection,
    wire: &mut Vec<u8>,
) -> Message {
    while client.poll_transmit(now, wire).is_some() {}
    server.handle_input(now, wire);
    wire.clear();
    match server.poll_event() {
        Some(Event::Message(m)) => server.send(now, m).expect("echo"),
        other => panic!("{other:?}"),
    }
    while server.poll_transmit(now, wire).is_some() {}
    client.handle_input(now, wire);
    wire.clear();
    match client.poll_event() {
        Some(Event::Message(m)) => m,
        other => panic!("{other:?}"),
    }
}

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");
    let now = Instant::now();
    let config = Arc::new(Config {
        max_frame_size: 64 << 20,
        ..Config::default()
    });
    for (len, name) in SIZES {
        let data = payload(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(samples(len));
        let mut client = Connection::established(config.clone(), Role::Client, now, [1; 32]);
        let mut server = Connection::established(config.clone(), Role::Server, now, [2; 32]);
        let mut wire = Vec::new();
        group.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, data| {
            b.iter(|| {
                client.send_binary(now, black_box(data)).expect("send");
                black_box(bounce(now, &mut client, &mut server, &mut wire));
            });
        });
    }
    // Text: the client sends a String, the server echoes the message it
    // decoded, the client decodes the echo.
    for (len, name) in TEXT_SIZES {
        let data = text(len);
        group.throughput(Throughput::Bytes(len as u64));
        let mut client = Connection::established(config.clone(), Role::Client, now, [1; 32]);
        let mut server = Connection::established(config.clone(), Role::Server, now, [2; 32]);
        let mut wire = Vec::new();
        group.bench_with_input(BenchmarkId::new("text", name), &data, |b, data| {
            b.iter(|| {
                client
                    .send(now, Message::Text(black_box(data).clone()))
                    .expect("send");
                match bounce(now, &mut client, &mut server, &mut wire) {
                    m @ Message::Text(_) => black_box(m),
                    other => panic!("{other:?}"),
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, mask, utf8, decode, encode, round_trip);
criterion_main!(benches);
