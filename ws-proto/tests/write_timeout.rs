//! The write deadline (`Config::write_timeout`): output that waits, in the
//! core or in the runtime, with nothing written for the deadline ends the
//! connection with a write timeout, and the transport is to be dropped
//! without writing the rest (`TransportClose::Abort`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_proto::{Config, Connection, Error, Event, Role, TimeoutKind, Transmit, TransportClose};

const DEADLINE: Duration = Duration::from_secs(1);

fn server() -> (Connection, Instant) {
    let config = Config {
        write_timeout: Some(DEADLINE),
        ..Config::default()
    };
    let t0 = Instant::now();
    (
        Connection::established(Arc::new(config), Role::Server, t0, [7; 32]),
        t0,
    )
}

/// Takes everything the core has, as a runtime would into its queue.
fn take_all(conn: &mut Connection, now: Instant) -> (usize, bool) {
    let mut buf = Vec::new();
    let (mut bytes, mut close) = (0, false);
    while let Some(t) = conn.poll_transmit(now, &mut buf) {
        match t {
            Transmit::Data(n) => bytes += n,
            Transmit::Close => close = true,
        }
    }
    (bytes, close)
}

fn closed_error(conn: &mut Connection) -> Option<Error> {
    while let Some(event) = conn.poll_event() {
        if let Event::Closed(closed) = event {
            return closed.error;
        }
    }
    None
}

#[test]
fn output_stuck_in_the_runtime_times_out() {
    let (mut conn, t0) = server();
    conn.send_binary(t0, &[1; 100_000]).unwrap();
    let (bytes, _) = take_all(&mut conn, t0);
    // The socket took a little, then nothing more.
    conn.handle_written(t0, 1000, bytes - 1000);
    let deadline = conn.poll_timeout().expect("a write deadline");
    assert_eq!(deadline, t0 + DEADLINE);
    conn.handle_timeout(deadline - Duration::from_millis(1));
    assert!(conn.is_open(), "cut before the deadline");
    conn.handle_timeout(deadline);
    assert!(matches!(
        closed_error(&mut conn),
        Some(Error::Timeout(TimeoutKind::Write))
    ));
    let (_, close) = take_all(&mut conn, deadline);
    assert!(close, "the transport is to be closed");
    assert_eq!(conn.transport_close(), TransportClose::Abort);
}

#[test]
fn progress_restarts_the_deadline() {
    let (mut conn, t0) = server();
    conn.send_binary(t0, &[1; 100_000]).unwrap();
    let (bytes, _) = take_all(&mut conn, t0);
    let mut left = bytes;
    let mut now = t0;
    // 10 KB every 900 ms: slow, but moving.
    while left > 0 {
        now += Duration::from_millis(900);
        conn.handle_timeout(now);
        assert!(conn.is_open(), "a moving link was cut");
        let n = left.min(10_000);
        left -= n;
        conn.handle_written(now, n, left);
    }
    assert_eq!(conn.poll_timeout(), None, "no deadline once all is written");
}

#[test]
fn nothing_waiting_means_no_deadline() {
    let (mut conn, t0) = server();
    assert_eq!(conn.poll_timeout(), None);
    conn.send_text(t0, "hello").unwrap();
    let (bytes, _) = take_all(&mut conn, t0);
    conn.handle_written(t0, bytes, 0);
    assert_eq!(conn.poll_timeout(), None);
    // Hours later, a new burst starts its own clock.
    let later = t0 + Duration::from_secs(3600);
    conn.send_text(later, "again").unwrap();
    let (bytes, _) = take_all(&mut conn, later);
    conn.handle_written(later, 0, bytes);
    assert_eq!(conn.poll_timeout(), Some(later + DEADLINE));
}

#[test]
fn output_left_in_the_core_times_out_without_runtime_reports() {
    // A runtime that never calls handle_written and stops taking.
    let (mut conn, t0) = server();
    conn.send_binary(t0, &[1; 1000]).unwrap();
    conn.handle_timeout(t0 + DEADLINE);
    assert!(matches!(
        closed_error(&mut conn),
        Some(Error::Timeout(TimeoutKind::Write))
    ));
}

#[test]
fn an_open_connection_lingers_on_close() {
    let (conn, _) = server();
    assert_eq!(conn.transport_close(), TransportClose::Linger);
}
