//! A client and a server `Connection` back to back, in virtual time.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;
use ws_proto::{
    Accept, CloseCode, Config, Connection, Error, Event, HandshakeError, Message, OpCode,
    ProtocolError, Request, Response, SendError, StateError, TimeoutKind, Transmit,
};

fn text(s: &str) -> Message {
    Message::Text(s.into())
}

/// The frames a side wrote after its HTTP head.
fn frames_after_head(written: &[u8]) -> Vec<WireFrame> {
    parse_frames(&written[head_len(written)..])
}

#[test]
fn handshake_and_echo_of_text_and_binary() {
    let mut pair = Pair::open(Config::default(), Config::default());
    let Event::Open(opened) = &pair.client.events[0] else {
        panic!("{:?}", pair.client.events);
    };
    assert_eq!(opened.response.status, 101);
    assert_eq!(
        opened.request.as_ref().map(|r| r.path.as_str()),
        Some("/chat")
    );
    assert!(matches!(pair.server.events[0], Event::Request(_)));
    assert!(matches!(&pair.server.events[1], Event::Open(o) if o.request.is_none()));

    let now = pair.now;
    pair.client.conn.send(now, text("hello κόσμε")).unwrap();
    pair.client.conn.send_binary(now, &[0, 1, 2, 255]).unwrap();
    pair.client.conn.send_text(now, "").unwrap();
    pair.drive();
    let sent = vec![
        text("hello κόσμε"),
        Message::Binary(vec![0, 1, 2, 255]),
        text(""),
    ];
    assert_eq!(pair.server.messages(), sent);
    assert_eq!(pair.client.messages(), sent);
    // Client frames are masked, server frames are not (section 5.1).
    assert!(
        frames_after_head(&pair.client.written)
            .iter()
            .all(|f| f.masked)
    );
    assert!(
        frames_after_head(&pair.server.written)
            .iter()
            .all(|f| !f.masked)
    );
}

#[test]
fn messages_queued_before_open_are_delivered_after() {
    let mut pair = Pair::with(Config::default(), Config::default(), rfc_client_request());
    let now = pair.now;
    pair.client.conn.send(now, text("first")).unwrap();
    pair.client.conn.send_binary(now, b"second").unwrap();
    assert!(pair.client.conn.buffered_amount() >= 11);
    assert!(!pair.client.conn.is_open());
    pair.drive();
    assert_eq!(
        pair.server.messages(),
        [text("first"), Message::Binary(b"second".to_vec())]
    );
    assert_eq!(pair.client.messages(), pair.server.messages());

    // A server may queue between the request and its answer, too.
    let mut pair = Pair::with(Config::default(), Config::default(), rfc_client_request());
    pair.on_request = OnRequest::Hold;
    pair.drive();
    let now = pair.now;
    pair.server.conn.send(now, text("welcome")).unwrap();
    pair.server.conn.accept(now, Accept::default()).unwrap();
    pair.drive();
    assert_eq!(pair.client.messages(), [text("welcome")]);
    // The 101 comes first, then the queued frame.
    let head = head_len(&pair.server.written);
    assert!(pair.server.written.starts_with(b"HTTP/1.1 101 "));
    assert_eq!(
        parse_frames(&pair.server.written[head..])[0].payload,
        b"welcome"
    );
}

#[test]
fn fragmentation_on_send_is_reassembled() {
    let client = Config {
        fragment_size: 10,
        ..Config::default()
    };
    let mut pair = Pair::open(client, Config::default());
    let now = pair.now;
    let long = "αβγδεζηθικλμνξοπρστυφχψω".repeat(3); // 144 bytes, 2-byte chars
    let binary: Vec<u8> = (0..=94).collect();
    pair.client.conn.send(now, text(&long)).unwrap();
    pair.client.conn.send_binary(now, &binary).unwrap();
    pair.client.conn.send_binary(now, &[7; 10]).unwrap();
    pair.drive();
    assert_eq!(
        pair.server.messages(),
        [
            text(&long),
            Message::Binary(binary),
            Message::Binary(vec![7; 10])
        ]
    );
    let frames = frames_after_head(&pair.client.written);
    // 144 / 10 -> 15 frames, 95 / 10 -> 10 frames, then one whole frame.
    assert_eq!(frames.len(), 15 + 10 + 1);
    assert!(frames.iter().all(|f| f.payload.len() <= 10));
    assert_eq!(frames[0].opcode, OpCode::Text);
    assert!(!frames[0].fin && frames[14].fin);
    assert!(
        frames[1..15]
            .iter()
            .all(|f| f.opcode == OpCode::Continuation)
    );
    assert_eq!((frames[15].opcode, frames[15].fin), (OpCode::Binary, false));
    assert_eq!((frames[25].opcode, frames[25].fin), (OpCode::Binary, true));
}

#[test]
fn close_initiated_by_the_client() {
    let mut pair = Pair::open(Config::default(), Config::default());
    let now = pair.now;
    pair.client
        .conn
        .close(now, CloseCode::NORMAL, "bye")
        .unwrap();
    pair.drive();
    let server = pair.server.the_closed();
    assert_eq!(
        (server.code, server.reason.as_str(), server.error),
        (CloseCode::NORMAL, "bye", None)
    );
    // The client's close code comes back in the echo, without a reason.
    let client = pair.client.the_closed();
    assert_eq!(
        (client.code, client.reason.as_str(), client.error),
        (CloseCode::NORMAL, "", None)
    );
    // The server closes TCP right after its echo (section 7.1.1).
    assert_eq!(pair.server.transmits.last(), Some(&Transmit::Close));
    let echo = frames_after_head(&pair.server.written);
    assert_eq!(echo.len(), 1);
    assert_eq!(echo[0].close_code(), Some(1000));
    pair.assert_finished();
}

#[test]
fn close_initiated_by_the_server() {
    let mut pair = Pair::open(Config::default(), Config::default());
    let now = pair.now;
    pair.server
        .conn
        .close(now, CloseCode::RESTART, "restarting")
        .unwrap();
    pair.drive();
    let client = pair.client.the_closed();
    assert_eq!(
        (client.code, client.reason.as_str(), client.error),
        (CloseCode::RESTART, "restarting", None)
    );
    let server = pair.server.the_closed();
    assert_eq!(
        (server.code, server.reason.as_str(), server.error),
        (CloseCode::RESTART, "", None)
    );
    // The server closed TCP once the echo arrived; the client followed at EOF.
    assert!(pair.client.got_eof);
    pair.assert_finished();
}

#[test]
fn client_waits_for_the_servers_eof_then_closes_after_close_timeout() {
    let mut pair = Pair::open(Config::default(), Config::default());
    // The server's TCP close never reaches the client.
    pair.server.eof_to_peer = false;
    let now = pair.now;
    pair.client.conn.close(now, CloseCode::NORMAL, "").unwrap();
    pair.drive();
    assert_eq!(pair.client.the_closed().error, None);
    assert!(!pair.client.transport_closed);
    assert!(
        !pair.client.conn.is_finished(),
        "a client waits for the server to close TCP"
    );
    let close_timeout = Config::default().close_timeout;
    assert_eq!(pair.client.conn.poll_timeout(), Some(now + close_timeout));
    pair.advance(close_timeout - Duration::from_millis(1));
    assert!(!pair.client.transport_closed);
    pair.advance(Duration::from_millis(1));
    assert!(pair.client.transport_closed);
    // Still one Closed, still clean: the close handshake itself completed.
    assert_eq!(pair.client.the_closed().error, None);
    pair.assert_finished();
}

#[test]
fn peer_close_without_status_is_1005() {
    // Client sends a close frame with no payload.
    let now = Instant::now();
    let mut server = open_server(Config::default(), now);
    server.handle_input(now, &client_frame(true, 8, b""));
    let closed = the_closed(&drain_events(&mut server));
    assert_eq!(
        (closed.code, closed.reason.as_str(), closed.error),
        (CloseCode::NO_STATUS, "", None)
    );
    // Answered with a close frame with no payload either.
    let (out, close) = drain_transmit(&mut server, now);
    assert_eq!(out, [0x88, 0x00]);
    assert!(close && server.is_finished());

    // Server sends a close frame with no payload.
    let mut client = open_client(Config::default(), now);
    client.handle_input(now, &[0x88, 0x00]);
    let closed = the_closed(&drain_events(&mut client));
    assert_eq!((closed.code, closed.error), (CloseCode::NO_STATUS, None));
    let (out, _) = drain_transmit(&mut client, now);
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].masked && frames[0].payload.is_empty());
}

#[test]
fn close_timeout_when_the_peer_never_answers() {
    let mut pair = Pair::open(Config::default(), Config::default());
    pair.client.mute = true;
    let now = pair.now;
    pair.server
        .conn
        .close(now, CloseCode::NORMAL, "bye")
        .unwrap();
    pair.drive();
    assert!(pair.server.closed().is_empty());
    pair.advance(Config::default().close_timeout);
    let closed = pair.server.the_closed();
    assert_eq!(
        (closed.code, closed.error),
        (
            CloseCode::ABNORMAL,
            Some(Error::Timeout(TimeoutKind::Close))
        )
    );
    assert_eq!(pair.server.transmits.last(), Some(&Transmit::Close));
    assert!(pair.server.conn.is_finished());
    assert_eq!(pair.elapsed(), Config::default().close_timeout);
}

#[test]
fn handshake_timeout_on_half_a_request() {
    let base = Instant::now();
    let config = Config::default();
    let timeout = config.handshake_timeout;
    let mut server = Connection::server(Arc::new(config), base, SERVER_SEED);
    server.handle_input(base, &RFC_REQUEST[..40]);
    assert!(drain_events(&mut server).is_empty());
    assert_eq!(server.poll_timeout(), Some(base + timeout));
    // Early calls are harmless.
    server.handle_timeout(base + timeout / 2);
    assert!(drain_events(&mut server).is_empty());
    server.handle_timeout(base + timeout);
    let closed = the_closed(&drain_events(&mut server));
    assert_eq!(
        (closed.code, closed.error),
        (
            CloseCode::ABNORMAL,
            Some(Error::Timeout(TimeoutKind::Handshake))
        )
    );
    let (out, close) = drain_transmit(&mut server, base + timeout);
    assert!(
        out.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(close && server.is_finished());
    assert_eq!(server.poll_timeout(), None);
}

#[test]
fn client_handshake_timeout() {
    let mut pair = Pair::with(Config::default(), Config::default(), rfc_client_request());
    pair.server.mute = true;
    pair.on_request = OnRequest::Hold;
    pair.drive();
    pair.advance(Config::default().handshake_timeout);
    for side in [&pair.client, &pair.server] {
        assert_eq!(
            side.the_closed().error,
            Some(Error::Timeout(TimeoutKind::Handshake))
        );
    }
}

#[test]
fn keepalive_ping_and_pong_then_keepalive_timeout() {
    let mut pair = Pair::open(Config::default(), timers(Some(5), None));
    pair.advance(Duration::from_secs(5) - Duration::from_millis(1));
    assert!(frames_after_head(&pair.server.written).is_empty());
    pair.advance(Duration::from_millis(1));
    // A ping went out and the client's automatic pong came back.
    let frames = frames_after_head(&pair.server.written);
    assert_eq!(
        frames.iter().map(|f| f.opcode).collect::<Vec<_>>(),
        [OpCode::Ping]
    );
    // Its payload is 8 bytes from the seeded generator, echoed in the pong.
    assert_eq!(frames[0].payload.len(), 8);
    assert!(
        pair.client
            .events
            .contains(&Event::Ping(frames[0].payload.clone()))
    );
    assert_eq!(
        pair.server.events.last(),
        Some(&Event::Pong(frames[0].payload.clone()))
    );
    assert!(pair.server.closed().is_empty());

    // Now the client goes silent: the next ping gets no pong.
    pair.client.mute = true;
    pair.advance(Duration::from_secs(5 + 3));
    let closed = pair.server.the_closed();
    assert_eq!(
        (closed.code, closed.error),
        (
            CloseCode::ABNORMAL,
            Some(Error::Timeout(TimeoutKind::Keepalive))
        )
    );
    assert_eq!(pair.elapsed(), Duration::from_secs(5 + 5 + 3));
    assert!(pair.server.conn.is_finished());
}

#[test]
fn idle_timeout_closes_with_1001() {
    let mut pair = Pair::open(Config::default(), timers(None, Some(7)));
    pair.advance(Duration::from_secs(6));
    let now = pair.now;
    // Receiving something resets the idle clock.
    pair.client.conn.send(now, text("still here")).unwrap();
    pair.drive();
    pair.advance(Duration::from_secs(6));
    assert!(pair.server.closed().is_empty());
    pair.advance(Duration::from_secs(1));
    let server = pair.server.the_closed();
    assert_eq!(
        (server.code, server.error),
        (CloseCode::AWAY, Some(Error::Timeout(TimeoutKind::Idle)))
    );
    let client = pair.client.the_closed();
    assert_eq!(
        (client.code, client.reason.as_str(), client.error),
        (CloseCode::AWAY, "idle timeout", None)
    );
    assert_eq!(pair.elapsed(), Duration::from_secs(6 + 7));
    pair.assert_finished();
}

/// Each ping gets its pong, in order, while little output waits; once 64 KiB
/// wait for `poll_transmit`, only the latest pong is kept (a peer that
/// floods pings and never reads costs bounded memory; section 5.5.3 allows
/// answering only the most recent ping).
#[test]
fn pongs_one_per_ping_then_only_the_latest_past_the_backlog() {
    let now = Instant::now();
    let mut server = open_server(Config::default(), now);
    let pings = |server: &mut Connection| {
        let mut input = client_frame(true, 9, b"one");
        input.extend(client_frame(true, 9, b"two"));
        input.extend(client_frame(true, 9, b"three"));
        server.handle_input(now, &input);
        let events = drain_events(server);
        assert_eq!(
            events,
            [
                Event::Ping(b"one".to_vec()),
                Event::Ping(b"two".to_vec()),
                Event::Ping(b"three".to_vec())
            ]
        );
    };
    pings(&mut server);
    let (out, close) = drain_transmit(&mut server, now);
    let pongs: Vec<_> = parse_frames(&out)
        .into_iter()
        .map(|f| (f.opcode, f.payload))
        .collect();
    assert_eq!(
        pongs,
        [
            (OpCode::Pong, b"one".to_vec()),
            (OpCode::Pong, b"two".to_vec()),
            (OpCode::Pong, b"three".to_vec())
        ]
    );
    assert!(!close);

    // 64 KiB of output not taken yet: the pongs coalesce.
    server.send_binary(now, &[0; 64 << 10]).unwrap();
    pings(&mut server);
    let (out, close) = drain_transmit(&mut server, now);
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].opcode, OpCode::Binary);
    assert_eq!(
        (frames[1].opcode, &frames[1].payload[..]),
        (OpCode::Pong, &b"three"[..])
    );
    assert!(!close);
    // The owed pong was sent; nothing more.
    assert_eq!(drain_transmit(&mut server, now), (Vec::new(), false));
}

#[test]
fn send_after_close_is_refused() {
    let mut pair = Pair::open(Config::default(), Config::default());
    let now = pair.now;
    pair.client.conn.close(now, CloseCode::NORMAL, "").unwrap();
    assert_eq!(
        pair.client.conn.send(now, text("late")),
        Err(SendError::Closed)
    );
    assert_eq!(pair.client.conn.ping(now, b""), Err(SendError::Closed));
    // Closing again is a no-op.
    assert_eq!(pair.client.conn.close(now, CloseCode::AWAY, ""), Ok(()));
    pair.drive();
    assert_eq!(
        pair.client.conn.send_binary(pair.now, b"later"),
        Err(SendError::Closed)
    );
    assert_eq!(
        pair.server.conn.send_text(pair.now, "late"),
        Err(SendError::Closed)
    );
    assert!(pair.server.messages().is_empty());
    pair.assert_finished();
}

#[test]
fn close_with_an_invalid_code_is_refused() {
    let mut pair = Pair::open(Config::default(), Config::default());
    let now = pair.now;
    for code in [0, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
        assert_eq!(
            pair.client.conn.close(now, CloseCode(code), ""),
            Err(SendError::InvalidCloseCode(code))
        );
    }
    assert!(pair.client.conn.is_open());
    assert_eq!(
        pair.client.conn.ping(now, &[0; 126]),
        Err(SendError::ControlTooLong(126))
    );
    pair.drive();
    assert!(pair.client.closed().is_empty() && pair.server.closed().is_empty());
}

#[test]
fn reject_with_a_404_page() {
    let mut pair = Pair::with(Config::default(), Config::default(), rfc_client_request());
    pair.on_request = OnRequest::Hold;
    pair.drive();
    let mut page = Response::new(404);
    page.headers
        .push(("Content-Type".into(), b"text/plain".to_vec()));
    page.body = b"no such room\n".to_vec();
    let now = pair.now;
    pair.server.conn.reject(now, page).unwrap();
    assert_eq!(
        pair.server.conn.reject(now, Response::new(500)),
        Err(StateError::NoPendingRequest)
    );
    pair.drive();
    let written = String::from_utf8(pair.server.written.clone()).unwrap();
    assert!(
        written.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{written}"
    );
    assert!(written.contains("\r\nContent-Length: 13\r\n"), "{written}");
    assert!(written.ends_with("\r\n\r\nno such room\n"), "{written}");
    assert_eq!(pair.server.the_closed().error, Some(Error::Rejected(404)));
    let client = pair.client.the_closed();
    assert_eq!(
        (client.code, client.error),
        (
            CloseCode::ABNORMAL,
            Some(Error::Handshake(HandshakeError::Status(404)))
        )
    );
    pair.assert_finished();
}

#[test]
fn accept_checks_the_protocol_was_offered() {
    let mut request = rfc_client_request();
    request
        .headers
        .push(("Sec-WebSocket-Protocol".into(), b"chat, superchat".to_vec()));
    let mut pair = Pair::with(Config::default(), Config::default(), request);
    pair.on_request = OnRequest::Hold;
    pair.drive();
    let now = pair.now;
    let unoffered = Accept {
        protocol: Some("mqtt".into()),
        ..Accept::default()
    };
    assert_eq!(
        pair.server.conn.accept(now, unoffered),
        Err(StateError::UnofferedProtocol("mqtt".into()))
    );
    let bad_header = Accept {
        headers: vec![("X-Evil".into(), b"a\r\nb".to_vec())],
        ..Accept::default()
    };
    assert_eq!(
        pair.server.conn.accept(now, bad_header),
        Err(StateError::InvalidHeader("X-Evil".into()))
    );
    // The request is still pending after refused answers.
    let chosen = Accept {
        protocol: Some("superchat".into()),
        ..Accept::default()
    };
    pair.server.conn.accept(now, chosen).unwrap();
    assert_eq!(
        pair.server.conn.accept(now, Accept::default()),
        Err(StateError::NoPendingRequest)
    );
    pair.drive();
    let Some(Event::Open(opened)) = pair.client.events.first() else {
        panic!("{:?}", pair.client.events);
    };
    assert_eq!(opened.response.protocol(), Some("superchat"));
}

#[test]
fn plain_get_accepted_gets_400_and_closed() {
    let base = Instant::now();
    let mut server = Connection::server(Arc::new(Config::default()), base, SERVER_SEED);
    server.handle_input(
        base,
        b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
    );
    let events = drain_events(&mut server);
    let [Event::Request(req)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(req.path, "/index.html");
    server.accept(base, Accept::default()).unwrap();
    let closed = the_closed(&drain_events(&mut server));
    assert_eq!(
        closed.error,
        Some(Error::Handshake(HandshakeError::NotUpgrade))
    );
    let (out, close) = drain_transmit(&mut server, base);
    assert!(out.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert!(close && server.is_finished());
}

#[test]
fn server_refuses_unmasked_frames_with_1002() {
    let now = Instant::now();
    let mut server = open_server(Config::default(), now);
    server.handle_input(now, &frame(true, 1, None, b"Hello"));
    let closed = the_closed(&drain_events(&mut server));
    assert_eq!(
        (closed.code, closed.error),
        (
            CloseCode::PROTOCOL,
            Some(Error::Protocol(ProtocolError::UnmaskedFrame))
        )
    );
    let (out, close) = drain_transmit(&mut server, now);
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].close_code(), Some(1002));
    assert!(close && server.is_finished());
}

#[test]
fn client_refuses_masked_frames_with_1002() {
    let mut pair = Pair::open(Config::default(), Config::default());
    let now = pair.now;
    pair.client
        .conn
        .handle_input(now, &frame(true, 2, Some([1, 2, 3, 4]), b"x"));
    pair.drive();
    let closed = pair.client.the_closed();
    assert_eq!(
        (closed.code, closed.error),
        (
            CloseCode::PROTOCOL,
            Some(Error::Protocol(ProtocolError::MaskedFrame))
        )
    );
    // The server heard the 1002 and echoed it.
    let server = pair.server.the_closed();
    assert_eq!((server.code, server.error), (CloseCode::PROTOCOL, None));
    pair.assert_finished();
}

/// Feeds `input` to an open server and returns the close code it sent and
/// the error it reported.
fn server_fails_with(config: Config, input: &[u8]) -> (u16, Option<Error>) {
    let now = Instant::now();
    let mut server = open_server(config, now);
    server.handle_input(now, input);
    let closed = the_closed(&drain_events(&mut server));
    let (out, close) = drain_transmit(&mut server, now);
    assert!(close && server.is_finished());
    let sent = parse_frames(&out)
        .last()
        .and_then(WireFrame::close_code)
        .expect("a close frame");
    assert_eq!(closed.code.0, sent);
    (sent, closed.error)
}

#[test]
fn invalid_utf8_is_1007() {
    let input = client_frame(true, 1, b"ok \xff");
    assert_eq!(
        server_fails_with(Config::default(), &input),
        (1007, Some(Error::Protocol(ProtocolError::InvalidUtf8)))
    );
    // In a close reason, too.
    let input = client_frame(true, 8, b"\x03\xe8\xc3\x28");
    assert_eq!(
        server_fails_with(Config::default(), &input),
        (
            1007,
            Some(Error::Protocol(ProtocolError::InvalidCloseReason))
        )
    );
}

#[test]
fn oversized_message_is_1009() {
    let config = Config {
        max_message_size: 100,
        max_frame_size: 80,
        ..Config::default()
    };
    let mut input = client_frame(false, 2, &[0; 60]);
    input.extend(client_frame(true, 0, &[0; 60]));
    let (code, error) = server_fails_with(config.clone(), &input);
    assert_eq!(code, 1009);
    assert!(matches!(
        error,
        Some(Error::Protocol(ProtocolError::MessageTooLarge {
            max: 100,
            ..
        }))
    ));
    // A declared 2^63 - 1 bytes is refused from the header alone.
    let huge = [
        0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4,
    ];
    let (code, error) = server_fails_with(Config::default(), &huge);
    assert_eq!(code, 1009);
    assert_eq!(
        error,
        Some(Error::Protocol(ProtocolError::FrameTooLarge {
            len: i64::MAX as u64,
            max: Config::default().max_frame_size
        }))
    );
}

#[test]
fn too_many_fragments_is_1008() {
    let config = Config {
        max_fragments: 3,
        ..Config::default()
    };
    let mut input = client_frame(false, 1, b"a");
    input.extend(client_frame(false, 0, b"b"));
    input.extend(client_frame(false, 0, b"c"));
    input.extend(client_frame(true, 0, b"d"));
    assert_eq!(
        server_fails_with(config, &input),
        (
            1008,
            Some(Error::Protocol(ProtocolError::TooManyFragments { max: 3 }))
        )
    );
}

#[test]
fn eof_without_close_is_1006() {
    let mut pair = Pair::open(Config::default(), Config::default());
    let now = pair.now;
    pair.server.conn.handle_eof(now);
    pair.drive();
    let closed = pair.server.the_closed();
    assert_eq!(
        (closed.code, closed.error),
        (CloseCode::ABNORMAL, Some(Error::UnexpectedEof))
    );
    assert!(pair.server.conn.is_finished());
    let closed = pair.client.the_closed();
    assert_eq!(
        (closed.code, closed.error),
        (CloseCode::ABNORMAL, Some(Error::UnexpectedEof))
    );
}

#[test]
fn is_finished_only_at_the_end() {
    let mut pair = Pair::with(Config::default(), Config::default(), rfc_client_request());
    assert!(!pair.client.conn.is_finished() && !pair.server.conn.is_finished());
    pair.drive();
    let now = pair.now;
    pair.client.conn.send(now, text("x")).unwrap();
    pair.drive();
    assert!(!pair.client.conn.is_finished() && !pair.server.conn.is_finished());
    pair.server.conn.close(now, CloseCode::NORMAL, "").unwrap();
    assert!(!pair.server.conn.is_finished());
    pair.drive();
    pair.assert_finished();
    // Nothing more comes out of a finished connection.
    for side in [&mut pair.client, &mut pair.server] {
        assert_eq!(side.conn.poll_event(), None);
        assert_eq!(drain_transmit(&mut side.conn, now), (Vec::new(), false));
    }
}

#[test]
fn unbounded_timeouts_never_fire_and_never_overflow() {
    let forever = Config {
        handshake_timeout: Duration::MAX,
        close_timeout: Duration::MAX,
        keepalive_interval: Some(Duration::MAX),
        keepalive_timeout: Duration::MAX,
        idle_timeout: Some(Duration::MAX),
        write_timeout: Some(Duration::MAX),
        ..Config::default()
    };
    let mut pair = Pair::with(forever.clone(), forever, rfc_client_request());
    assert_eq!(pair.next_timeout(), None);
    pair.drive();
    let now = pair.now;
    pair.client.conn.send(now, text("x")).unwrap();
    pair.drive();
    pair.advance(Duration::from_secs(1 << 40));
    assert!(pair.client.closed().is_empty());
    pair.server.eof_to_peer = false;
    let now = pair.now;
    pair.client.conn.close(now, CloseCode::NORMAL, "").unwrap();
    pair.drive();
    assert_eq!(pair.next_timeout(), None);
    assert_eq!(pair.client.the_closed().error, None);
}

#[test]
fn client_refuses_a_bad_accept_key() {
    let base = Instant::now();
    let mut client = Connection::client(
        Arc::new(Config::default()),
        rfc_client_request(),
        base,
        CLIENT_SEED,
    );
    let _ = drain_transmit(&mut client, base);
    let bad =
        String::from_utf8_lossy(RFC_RESPONSE).replace(RFC_ACCEPT, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    client.handle_input(base, bad.as_bytes());
    let closed = the_closed(&drain_events(&mut client));
    assert_eq!(
        closed.error,
        Some(Error::Handshake(HandshakeError::AcceptMismatch))
    );
    let (out, close) = drain_transmit(&mut client, base);
    assert!(out.is_empty() && close);
}

#[test]
fn request_from_url_is_what_the_server_sees() {
    let request = Request::client("ws://example.com:9001/a/b?c=d").unwrap();
    let mut pair = Pair::with(Config::default(), Config::default(), request);
    pair.drive();
    let Event::Request(seen) = &pair.server.events[0] else {
        panic!("{:?}", pair.server.events);
    };
    assert_eq!(
        (seen.path_only(), seen.query(), seen.header_str("host")),
        ("/a/b", Some("c=d"), Some("example.com:9001"))
    );
    assert_eq!(seen.header_str("sec-websocket-version"), Some("13"));
}

/// Frames a client sends before the server has answered its request are held
/// within `max_handshake_bytes`, whether they arrive with the head or after it.
#[test]
fn early_frames_are_held_within_the_head_limit_however_they_arrive() {
    let config = Config {
        max_handshake_bytes: RFC_REQUEST.len() + 64,
        ..Config::default()
    };
    let frames = client_frame(true, 2, &[7; 400]);
    let input = [RFC_REQUEST, &frames].concat();
    let now = Instant::now();
    let mut outcomes = Vec::new();
    for cut in [input.len(), RFC_REQUEST.len()] {
        let mut server = Connection::server(Arc::new(config.clone()), now, SERVER_SEED);
        server.handle_input(now, &input[..cut]);
        server.handle_input(now, &input[cut..]);
        // The application answers only now.
        let accepted = server.accept(now, Accept::default());
        let events = drain_events(&mut server);
        let (out, close) = drain_transmit(&mut server, now);
        outcomes.push((accepted, events, out, close));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    let (accepted, events, out, close) = &outcomes[0];
    assert_eq!(accepted, &Err(StateError::NoPendingRequest));
    assert!(matches!(events[0], Event::Request(_)));
    let max = config.max_handshake_bytes;
    assert_eq!(
        the_closed(events).error,
        Some(Error::Handshake(HandshakeError::TooLarge { max }))
    );
    assert!(out.starts_with(b"HTTP/1.1 431 ") && *close);
}

/// With the key check relaxed, a key that is not UTF-8 is hashed as sent:
/// the accept value is computed over the exact bytes (found by fuzzing).
#[test]
fn lax_key_is_hashed_byte_for_byte() {
    let config = Config {
        request_checks: ws_proto::RequestChecks {
            method: true,
            key: false,
        },
        ..Config::default()
    };
    let key = b"ab!ab\xffc";
    let input = [
        &b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
           Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "[..],
        key,
        b"\r\n\r\n",
    ]
    .concat();
    let now = Instant::now();
    let mut server = Connection::server(Arc::new(config), now, SERVER_SEED);
    server.handle_input(now, &input);
    assert!(matches!(drain_events(&mut server)[..], [Event::Request(_)]));
    server.accept(now, Accept::default()).unwrap();
    let (out, _) = drain_transmit(&mut server, now);
    let (response, _) = Response::parse(&out, 16).unwrap().unwrap();
    let accept = ws_proto::accept_key(key);
    assert_eq!(response.header_str("Sec-WebSocket-Accept"), Some(&*accept));
}
