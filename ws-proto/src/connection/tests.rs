//! Unit tests of the connection state machine.

use super::input::PONG_BACKLOG;
use super::transmit::OWNED_MIN;
use super::*;
use crate::handshake::Accept;
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
    let mut conn = Connection::established(Arc::new(Config::default()), Role::Server, now, [7; 32]);
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
