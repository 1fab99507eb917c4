//! A peer that completes a clean close handshake and closes its end at once
//! (Chromium, Node's `ws`): the core reports a clean close, never
//! `UnexpectedEof`, whichever side started the close, however the close
//! frame and the end of stream are batched, and whether the events were
//! drained between them.

mod support;

use std::time::Instant;

use support::*;
use ws_proto::{CloseCode, Config, Connection, Event, Message};

/// The peer's close frame (code 1000, "bye") as each role receives it.
fn peer_close(server: bool) -> Vec<u8> {
    let payload = close_payload(1000, "bye");
    if server {
        client_frame(true, 8, &payload)
    } else {
        frame(true, 8, None, &payload)
    }
}

fn peer_message(server: bool) -> Vec<u8> {
    if server {
        client_frame(true, 1, b"last")
    } else {
        frame(true, 1, None, b"last")
    }
}

/// Feeds `wire` in pieces cut at `cut`, then the end of stream, draining the
/// events after each input only when `drain_between`.
fn feed(
    conn: &mut Connection,
    now: Instant,
    wire: &[u8],
    cut: usize,
    drain_between: bool,
) -> Vec<Event> {
    let mut events = Vec::new();
    for piece in [&wire[..cut], &wire[cut..]] {
        conn.handle_input(now, piece);
        if drain_between {
            events.extend(drain_events(conn));
            let _ = drain_transmit(conn, now);
        }
    }
    conn.handle_eof(now);
    events.extend(drain_events(conn));
    let _ = drain_transmit(conn, now);
    events
}

#[test]
fn close_then_eof_is_clean_for_every_batching() {
    let now = Instant::now();
    for server in [true, false] {
        for we_start in [false, true] {
            for drain_between in [false, true] {
                let mut wire = peer_message(server);
                wire.extend_from_slice(&peer_close(server));
                for cut in 0..=wire.len() {
                    let mut conn = if server {
                        open_server(Config::default(), now)
                    } else {
                        open_client(Config::default(), now)
                    };
                    if we_start {
                        conn.close(now, CloseCode::NORMAL, "").expect("close");
                        let _ = drain_transmit(&mut conn, now);
                    }
                    let events = feed(&mut conn, now, &wire, cut, drain_between);
                    let what = format!(
                        "server {server}, we start {we_start}, drained {drain_between}, cut {cut}"
                    );
                    assert_eq!(messages(&events), [Message::Text("last".into())], "{what}");
                    let closed = the_closed(&events);
                    assert_eq!(closed.error, None, "{what}: {events:?}");
                    assert_eq!(closed.code, CloseCode::NORMAL, "{what}");
                    assert!(conn.is_finished(), "{what}");
                }
            }
        }
    }
}
