//! `PreparedMessage` and `Connection::send_prepared`: the same bytes as
//! `send`, one shared buffer for every connection, compressed once for
//! connections without context takeover, and `send`'s rules.

use std::sync::Arc;
use std::time::Instant;

use ws_proto::{
    CloseCode, Config, Connection, DeflateConfig, DeflateParams, Event, Message, OutputQueue,
    PreparedMessage, Role, SendError, Transmit,
};

fn server(config: &Arc<Config>, now: Instant, seed: u8) -> Connection {
    Connection::established(config.clone(), Role::Server, now, [seed; 32])
}

fn wire(conn: &mut Connection, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(t) = conn.poll_transmit(now, &mut out) {
        assert_ne!(t, Transmit::Close);
    }
    out
}

fn queue(conn: &mut Connection, now: Instant) -> OutputQueue {
    let mut q = OutputQueue::default();
    while q.take_from(conn, now).is_some() {}
    q
}

fn messages() -> Vec<Message> {
    vec![
        Message::Text(String::new()),
        Message::Text("héllo".into()),
        Message::Binary(vec![3; 200]),
        Message::Binary((0..70_000).map(|i| (i % 251) as u8).collect()),
        Message::Text("x".repeat(20_000)),
    ]
}

/// Whatever the size and the fragmentation, a prepared message is on the
/// wire exactly what `send` puts there, on every connection.
#[test]
fn prepared_frames_are_the_bytes_send_writes() {
    let now = Instant::now();
    for fragment_size in [usize::MAX, 1000, 7] {
        let config = Arc::new(Config {
            fragment_size,
            ..Config::default()
        });
        for message in messages() {
            let prepared = PreparedMessage::new(message.clone(), &config);
            let mut plain = server(&config, now, 1);
            plain.send(now, message.clone()).unwrap();
            let expected = wire(&mut plain, now);
            assert_eq!(prepared.frames().as_ref(), expected.as_slice());
            assert_eq!(prepared.payload().as_ref(), message.as_bytes());
            assert_eq!(prepared.to_message(), message);
            for seed in [2, 3] {
                let mut conn = server(&config, now, seed);
                conn.send_prepared(now, &prepared).unwrap();
                assert_eq!(conn.buffered_amount(), expected.len());
                assert_eq!(wire(&mut conn, now), expected);
            }
        }
    }
}

/// Taken with `OutputQueue::take_from`, the frames are the prepared
/// message's own buffer in every queue: no copy per connection.
#[test]
fn every_queue_writes_from_the_one_shared_buffer() {
    let now = Instant::now();
    let config = Arc::new(Config::default());
    let prepared = PreparedMessage::new(Message::Binary(vec![9; 5000]), &config);
    let address = prepared.frames().as_ptr();
    let mut queues = Vec::new();
    for seed in 0..4 {
        let mut conn = server(&config, now, seed);
        conn.send(now, Message::Text("before".into())).unwrap();
        conn.send_prepared(now, &prepared).unwrap();
        conn.send(now, Message::Text("after".into())).unwrap();
        let q = queue(&mut conn, now);
        assert_eq!(q.buffers(), 3);
        let mut slices = [std::io::IoSlice::new(&[]); 4];
        assert_eq!(q.io_slices(&mut slices), 3);
        assert_eq!(slices[1].as_ptr(), address);
        assert_eq!(&slices[0][..], b"\x81\x06before");
        assert_eq!(&slices[2][..], b"\x81\x05after");
        queues.push(q);
    }
    // Dropping the message leaves the queues' references valid.
    drop(prepared);
    assert!(queues.iter().all(|q| q.pending() == 8 + 5004 + 7));
}

fn deflate_pair(
    now: Instant,
    server_no_context_takeover: bool,
    seed: u8,
) -> (Connection, Connection) {
    let config = Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    });
    let params = DeflateParams {
        server_no_context_takeover,
        ..DeflateParams::default()
    };
    let server =
        Connection::established_with_deflate(config.clone(), Role::Server, now, [seed; 32], params);
    let client =
        Connection::established_with_deflate(config, Role::Client, now, [seed; 32], params);
    (server, client)
}

fn received(client: &mut Connection) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some(event) = client.poll_event() {
        match event {
            Event::Message(m) => out.push(m),
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

/// Connections without server context takeover share one compressed copy,
/// made once; connections with it get the uncompressed frames. Every peer
/// inflates the right message, also between messages of its own.
#[test]
fn compressed_once_for_connections_without_context_takeover() {
    let now = Instant::now();
    let text = "the same news for everyone, ".repeat(100);
    let prepared = PreparedMessage::new(Message::Text(text.clone()), &Config::default());
    assert!(prepared.compressed_frames().is_none());
    let mut shared = Vec::new();
    for (seed, no_takeover) in [(1, true), (2, true), (3, false), (4, true)] {
        let (mut server, mut client) = deflate_pair(now, no_takeover, seed);
        server
            .send(now, Message::Text(format!("own {seed} {text}")))
            .unwrap();
        server.send_prepared(now, &prepared).unwrap();
        server
            .send(now, Message::Text(format!("own again {seed} {text}")))
            .unwrap();
        let q = queue(&mut server, now);
        let mut slices = [std::io::IoSlice::new(&[]); 4];
        let n = q.io_slices(&mut slices);
        let sent_from = |address: *const u8| slices[..n].iter().any(|s| s.as_ptr() == address);
        if no_takeover {
            let compressed = prepared.compressed_frames().expect("compressed once");
            assert!(compressed.len() < prepared.frames().len() / 4);
            assert_eq!(compressed[0], 0xC1, "FIN, RSV1, text");
            assert!(sent_from(compressed.as_ptr()));
            shared.push(compressed.as_ptr());
        } else {
            assert!(sent_from(prepared.frames().as_ptr()));
        }
        let mut bytes = Vec::new();
        for s in &slices[..n] {
            bytes.extend_from_slice(s);
        }
        client.handle_input(now, &bytes);
        assert_eq!(
            received(&mut client),
            [
                Message::Text(format!("own {seed} {text}")),
                Message::Text(text.clone()),
                Message::Text(format!("own again {seed} {text}")),
            ]
        );
    }
    assert!(
        shared.windows(2).all(|w| w[0] == w[1]),
        "one compressed copy"
    );
}

/// `send_prepared` obeys `send`'s rules: not after a close, not past the
/// write buffer, not before the handshake, and never on a client.
#[test]
fn send_prepared_refuses_what_send_refuses() {
    let now = Instant::now();
    let config = Arc::new(Config {
        max_write_buffer: 1000,
        ..Config::default()
    });
    let small = PreparedMessage::new(Message::Binary(vec![1; 400]), &config);

    let mut conn = server(&config, now, 1);
    conn.send_prepared(now, &small).unwrap();
    conn.send_prepared(now, &small).unwrap();
    assert_eq!(conn.buffered_amount(), 2 * 404);
    assert!(matches!(
        conn.send_prepared(now, &small),
        Err(SendError::BufferFull {
            buffered: 808,
            max: 1000
        })
    ));
    let _ = wire(&mut conn, now);
    conn.send_prepared(now, &small).unwrap();

    conn.close(now, CloseCode::NORMAL, "").unwrap();
    assert_eq!(conn.send_prepared(now, &small), Err(SendError::Closed));

    let mut client = Connection::established(config.clone(), Role::Client, now, [2; 32]);
    assert_eq!(
        client.send_prepared(now, &small),
        Err(SendError::PreparedOnClient)
    );
    assert_eq!(client.buffered_amount(), 0);

    let mut unopened = Connection::server(config, now, [3; 32]);
    assert_eq!(unopened.send_prepared(now, &small), Err(SendError::NotOpen));
    assert_eq!(unopened.buffered_amount(), 0);
}
