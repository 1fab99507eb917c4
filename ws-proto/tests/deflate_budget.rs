//! The process-wide budget for permessage-deflate memory, with client and
//! server `Connection`s in virtual time. One test, in a binary of its own:
//! the budget is global to the process, and other tests would share it.

mod support;

use ws_proto::deflate_budget::{self as budget, INFLATER_BYTES, deflater_bytes};
use ws_proto::{Config, DeflateConfig, FrameHeader, Message, RSV1, Status};

use support::{Pair, head_len};

fn deflate() -> Config {
    Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    }
}

/// Whether each data frame `bytes` hold after the handshake head has RSV1
/// (is compressed).
fn compressed(bytes: &[u8]) -> Vec<bool> {
    let mut rest = &bytes[head_len(bytes)..];
    let mut out = Vec::new();
    while let Ok(Status::Complete((header, len))) = FrameHeader::parse(rest) {
        out.push(header.rsv & RSV1 != 0);
        rest = &rest[len + header.payload_len as usize..];
    }
    out
}

/// One compressible text message from the client, echoed by the server.
fn exchange(pair: &mut Pair) {
    let text = "budget ".repeat(200);
    pair.client
        .conn
        .send(pair.now, Message::Text(text.clone()))
        .unwrap();
    pair.drive();
    assert_eq!(pair.client.messages().last(), Some(&Message::Text(text)));
}

#[test]
fn the_budget_bounds_deflate_memory_for_the_whole_process() {
    let pair_cost = 2 * (deflater_bytes(15) + INFLATER_BYTES);
    assert_eq!(budget::memory_in_use(), 0);
    budget::set_memory_budget(pair_cost);

    // Within the budget: negotiated, and both ends compress.
    let mut first = Pair::open(deflate(), deflate());
    assert!(first.server.conn.deflate().is_some());
    exchange(&mut first);
    assert_eq!(compressed(&first.client.written), [true]);
    assert_eq!(compressed(&first.server.written), [true]);
    assert_eq!(budget::memory_in_use(), pair_cost);

    // The budget is spent: a new connection is accepted without the
    // extension, and its messages go out plain.
    let mut refused = Pair::open(deflate(), deflate());
    assert!(refused.server.conn.deflate().is_none());
    assert!(refused.client.conn.deflate().is_none());
    exchange(&mut refused);
    assert_eq!(compressed(&refused.client.written), [false]);
    assert_eq!(budget::memory_in_use(), pair_cost);

    // Agreed while there was room, but the room went to another
    // connection before its first message: it sends uncompressed (no
    // compressor is made), and its peer reads that as any message.
    drop(first);
    drop(refused);
    assert_eq!(budget::memory_in_use(), 0);
    let mut early = Pair::open(deflate(), deflate());
    let mut late = Pair::open(deflate(), deflate());
    assert!(late.server.conn.deflate().is_some());
    exchange(&mut early);
    exchange(&mut late);
    assert_eq!(compressed(&late.client.written), [false]);
    assert_eq!(compressed(&late.server.written), [false]);
    assert_eq!(budget::memory_in_use(), pair_cost);

    // Memory comes back with the connections, and compression with it.
    drop(early);
    exchange(&mut late);
    assert_eq!(compressed(&late.client.written), [false, true]);
    drop(late);
    assert_eq!(budget::memory_in_use(), 0);

    // Unbounded: as before the budget existed.
    budget::set_memory_budget(usize::MAX);
    let mut free = Pair::open(deflate(), deflate());
    exchange(&mut free);
    assert_eq!(compressed(&free.client.written), [true]);
}
