//! Keepalive that a peer cannot fake: the ping's payload comes from the
//! connection's seed, and only a pong that echoes it ends the wait.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;
use ws_proto::{Accept, CloseCode, Config, Connection, Error, Event, OpCode, TimeoutKind};

fn keepalive() -> Config {
    Config {
        keepalive_interval: Some(Duration::from_secs(5)),
        keepalive_timeout: Duration::from_secs(3),
        ..Config::default()
    }
}

/// A server with `seed`, open, at `now`.
fn server(seed: [u8; 32], now: Instant) -> Connection {
    let mut conn = Connection::server(Arc::new(keepalive()), now, seed);
    conn.handle_input(now, RFC_REQUEST);
    let _ = drain_events(&mut conn);
    conn.accept(now, Accept::default()).expect("accept");
    let _ = drain_events(&mut conn);
    let (out, _) = drain_transmit(&mut conn, now);
    assert!(out.starts_with(b"HTTP/1.1 101 "));
    conn
}

/// Lets the keepalive interval pass; returns the ping's payload.
fn ping_payload(conn: &mut Connection, now: Instant) -> Vec<u8> {
    conn.handle_timeout(now);
    let (out, _) = drain_transmit(conn, now);
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].opcode, OpCode::Ping);
    frames[0].payload.clone()
}

#[test]
fn the_ping_payload_is_unpredictable() {
    let start = Instant::now();
    let at = start + Duration::from_secs(5);
    let a = ping_payload(&mut server([1; 32], start), at);
    let b = ping_payload(&mut server([2; 32], start), at);
    assert_eq!(a.len(), 8);
    assert_ne!(a, b, "different seeds, different pings");
    // The same connection's next ping differs from its first.
    let mut conn = server([1; 32], start);
    let first = ping_payload(&mut conn, at);
    conn.handle_input(at, &client_frame(true, 0xA, &first));
    let _ = drain_events(&mut conn);
    let second = ping_payload(&mut conn, at + Duration::from_secs(5));
    assert_ne!(first, second);
}

/// Pongs that do not echo the ping (empty, wrong, sent ahead) keep the
/// wait going: the keepalive timeout fires.
#[test]
fn unsolicited_pongs_do_not_count() {
    let start = Instant::now();
    let at = start + Duration::from_secs(5);
    for fake in [Vec::new(), vec![0; 8], b"guessed!".to_vec()] {
        let mut conn = server([7; 32], start);
        let payload = ping_payload(&mut conn, at);
        assert_ne!(payload, fake);
        conn.handle_input(at + Duration::from_secs(1), &client_frame(true, 0xA, &fake));
        let events = drain_events(&mut conn);
        assert_eq!(events, [Event::Pong(fake.clone())]);
        conn.handle_timeout(at + Duration::from_secs(3));
        let events = drain_events(&mut conn);
        let closed = the_closed(&events);
        assert_eq!(
            (closed.code, closed.error),
            (
                CloseCode::ABNORMAL,
                Some(Error::Timeout(TimeoutKind::Keepalive))
            ),
            "{fake:?}"
        );
    }
}

/// The matching pong ends the wait.
#[test]
fn the_matching_pong_counts() {
    let start = Instant::now();
    let at = start + Duration::from_secs(5);
    let mut conn = server([7; 32], start);
    let payload = ping_payload(&mut conn, at);
    conn.handle_input(
        at + Duration::from_secs(1),
        &client_frame(true, 0xA, &payload),
    );
    let _ = drain_events(&mut conn);
    conn.handle_timeout(at + Duration::from_secs(3));
    assert!(drain_events(&mut conn).is_empty());
    assert!(conn.is_open());
}
