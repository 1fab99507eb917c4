//! The message deadline (`Config::message_timeout`), in virtual time: a
//! frame or fragmented message, once started, must be complete within it,
//! however its bytes trickle; the peer gets 1008. `idle_timeout` counts
//! from the last complete frame, not the last byte.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_proto::{CloseCode, Config, Connection, Error, Event, Role, TimeoutKind, Transmit};

const MESSAGE: Duration = Duration::from_secs(5);

fn server(config: Config) -> (Connection, Instant) {
    let t0 = Instant::now();
    (
        Connection::established(Arc::new(config), Role::Server, t0, [3; 32]),
        t0,
    )
}

fn with_message_timeout() -> Config {
    Config {
        message_timeout: Some(MESSAGE),
        ..Config::default()
    }
}

/// A masked client frame.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let key = [1, 2, 3, 4];
    let mut out = vec![first, 0x80 | payload.len() as u8];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

fn output(conn: &mut Connection, now: Instant) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    let mut close = false;
    while let Some(t) = conn.poll_transmit(now, &mut buf) {
        close |= t == Transmit::Close;
    }
    (buf, close)
}

fn closed(conn: &mut Connection) -> Option<ws_proto::Closed> {
    while let Some(event) = conn.poll_event() {
        if let Event::Closed(c) = event {
            return Some(c);
        }
    }
    None
}

/// One byte a second of a frame that never ends is cut at the deadline
/// counted from its first byte, with 1008 on the wire and to the owner.
#[test]
fn a_trickled_frame_is_cut_at_the_deadline() {
    let (mut conn, t0) = server(with_message_timeout());
    let bytes = frame(0x81, b"a frame that comes one byte a second");
    let start = t0 + Duration::from_secs(30);
    for (i, b) in bytes.iter().enumerate().take(10) {
        let now = start + Duration::from_secs(i as u64);
        conn.handle_timeout(now);
        assert!(conn.is_open(), "cut {i} s after the frame's first byte");
        conn.handle_input(now, std::slice::from_ref(b));
        assert_eq!(conn.poll_timeout(), Some(start + MESSAGE));
        if i == 4 {
            break;
        }
    }
    conn.handle_timeout(start + MESSAGE - Duration::from_millis(1));
    assert!(conn.is_open(), "cut before the deadline");
    conn.handle_timeout(start + MESSAGE);
    let c = closed(&mut conn).expect("closed at the deadline");
    assert_eq!(c.code, CloseCode::POLICY);
    assert!(matches!(
        c.error,
        Some(Error::Timeout(TimeoutKind::Message))
    ));
    let (out, close) = output(&mut conn, start + MESSAGE);
    assert_eq!(
        &out[..4],
        &[0x88, 17, 0x03, 0xf0],
        "a close frame with 1008"
    );
    assert!(close, "the transport is to be closed");
}

/// A fragmented message whose fragments each arrive whole but whose end
/// never comes is cut at the deadline counted from its first fragment.
#[test]
fn a_fragmented_message_must_end_in_time() {
    let (mut conn, t0) = server(with_message_timeout());
    conn.handle_input(t0, &frame(0x01, b"first"));
    for s in 1..5 {
        let now = t0 + Duration::from_secs(s);
        conn.handle_timeout(now);
        conn.handle_input(now, &frame(0x00, b"more"));
        // A ping in between is answered, and does not restart the clock.
        conn.handle_input(now, &frame(0x89, b"p"));
    }
    assert!(conn.is_open());
    conn.handle_timeout(t0 + MESSAGE);
    let c = closed(&mut conn).expect("closed at the deadline");
    assert_eq!(c.code, CloseCode::POLICY);
}

/// Whole messages, however many and however spaced, never meet the
/// deadline; between them there is none.
#[test]
fn whole_messages_clear_the_deadline() {
    let (mut conn, t0) = server(with_message_timeout());
    assert_eq!(conn.poll_timeout(), None);
    for s in 0..20 {
        let now = t0 + Duration::from_secs(s * 4);
        conn.handle_timeout(now);
        conn.handle_input(now, &frame(0x82, &[1, 2, 3]));
        assert_eq!(conn.poll_timeout(), None, "a deadline between messages");
    }
    assert!(conn.is_open());
    // A message split anywhere but complete in time is fine too.
    let bytes = frame(0x81, b"split");
    let now = t0 + Duration::from_secs(100);
    conn.handle_input(now, &bytes[..3]);
    conn.handle_input(now + Duration::from_secs(4), &bytes[3..]);
    conn.handle_timeout(now + Duration::from_secs(10));
    assert!(conn.is_open());
}

/// `idle_timeout` counts from the last complete frame: a trickle does
/// not hold it off (before, every byte restarted it), and a frame in
/// progress is bounded by the message deadline instead.
#[test]
fn idle_counts_complete_frames_not_bytes() {
    let idle = Duration::from_secs(3);
    let (mut conn, t0) = server(Config {
        idle_timeout: Some(idle),
        message_timeout: None,
        ..Config::default()
    });
    conn.handle_input(t0, &frame(0x81, b"hello"));
    // Then a byte a second of a frame that never ends: no complete frame
    // for the idle deadline, so the close (1001) starts at it.
    let bytes = frame(0x81, b"trickle");
    for (i, b) in bytes.iter().enumerate().take(3) {
        let now = t0 + Duration::from_millis(500 + 1000 * i as u64);
        conn.handle_timeout(now);
        assert!(conn.is_open(), "idle before its deadline");
        conn.handle_input(now, std::slice::from_ref(b));
    }
    let now = t0 + idle;
    conn.handle_timeout(now);
    assert!(!conn.is_open(), "a trickle held the idle deadline off");
    let (out, _) = output(&mut conn, now);
    assert_eq!(
        &out[..4],
        &[0x88, 14, 0x03, 0xe9],
        "a close frame with 1001"
    );
    conn.handle_timeout(now + Config::default().close_timeout);
    let c = closed(&mut conn).expect("closed");
    assert!(matches!(c.error, Some(Error::Timeout(TimeoutKind::Idle))));

    // With both set, a trickle meets the message deadline.
    let (mut conn, t0) = server(Config {
        idle_timeout: Some(Duration::from_secs(30)),
        message_timeout: Some(MESSAGE),
        ..Config::default()
    });
    let bytes = frame(0x81, b"trickle");
    for (i, b) in bytes.iter().enumerate().take(5) {
        let now = t0 + Duration::from_secs(i as u64);
        conn.handle_timeout(now);
        conn.handle_input(now, std::slice::from_ref(b));
    }
    assert_eq!(conn.poll_timeout(), Some(t0 + MESSAGE));
    conn.handle_timeout(t0 + MESSAGE);
    let c = closed(&mut conn).expect("closed");
    assert!(matches!(
        c.error,
        Some(Error::Timeout(TimeoutKind::Message))
    ));
}

#[test]
fn the_default_is_finite() {
    assert_eq!(
        Config::default().message_timeout,
        Some(Duration::from_secs(60))
    );
}
