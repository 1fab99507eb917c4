//! RFC 6455 byte tables at the `Connection` level: bytes in, events and
//! exact bytes out.

mod support;

use std::sync::Arc;
use std::time::Instant;

use support::*;
use ws_proto::{
    Accept, CloseCode, Closed, Config, Connection, Error, Event, HandshakeError, Message, OpCode,
    ProtocolError,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const HELLO: &[u8] = b"Hello";

fn text(s: &str) -> Event {
    Event::Message(Message::Text(s.into()))
}

fn closed(code: u16, reason: &str) -> Event {
    Event::Closed(Closed {
        code: CloseCode(code),
        reason: reason.into(),
        error: None,
    })
}

fn failed(error: ProtocolError) -> Event {
    Event::Closed(Closed {
        code: error.close_code(),
        reason: error.to_string(),
        error: Some(Error::Protocol(error)),
    })
}

/// The unmasked close frame a server fails the connection with.
fn fail_frame(error: &ProtocolError) -> Vec<u8> {
    frame(
        true,
        8,
        None,
        &close_payload(error.close_code().0, &error.to_string()),
    )
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

struct Row {
    name: &'static str,
    input: Vec<u8>,
    events: Vec<Event>,
    output: Vec<u8>,
    close: bool,
}

fn row(name: &'static str, input: Vec<u8>, events: Vec<Event>, output: Vec<u8>) -> Row {
    let close = matches!(events.last(), Some(Event::Closed(_)));
    Row {
        name,
        input,
        events,
        output,
        close,
    }
}

#[test]
fn server_reads_client_frames() {
    let table = vec![
        row(
            "5.7 single-frame masked text",
            vec![
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
            vec![text("Hello")],
            vec![],
        ),
        row(
            "5.7 masked pong, answered by nothing",
            vec![
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
            vec![Event::Pong(HELLO.to_vec())],
            vec![],
        ),
        row(
            "masked ping, answered by the unmasked pong of 5.7",
            vec![
                0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
            vec![Event::Ping(HELLO.to_vec())],
            vec![0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        ),
        row(
            "5.7 fragmented text, masked",
            cat(&[
                &frame(false, 1, Some(KEY), b"Hel"),
                &frame(true, 0, Some([1, 2, 3, 4]), b"lo"),
            ]),
            vec![text("Hello")],
            vec![],
        ),
        row(
            "5.4 ping between fragments",
            cat(&[
                &frame(false, 1, Some(KEY), b"Hel"),
                &frame(true, 9, Some(KEY), b""),
                &frame(true, 0, Some(KEY), b"lo"),
            ]),
            vec![Event::Ping(vec![]), text("Hello")],
            vec![0x8a, 0x00],
        ),
        row(
            "5.2 16-bit length",
            cat(&[
                &[0x82, 0xfe, 0x01, 0x00],
                &KEY,
                &[0x37, 0xfa, 0x21, 0x3d].repeat(64),
            ]),
            vec![Event::Message(Message::Binary(vec![0; 256]))],
            vec![],
        ),
        row(
            "5.5.1 close 1000, echoed with the code",
            vec![0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x34, 0x12],
            vec![closed(1000, "")],
            vec![0x88, 0x02, 0x03, 0xe8],
        ),
        row(
            "5.5.1 close 1001 with a reason, echoed with the code only",
            frame(true, 8, Some(KEY), &close_payload(1001, "bye")),
            vec![closed(1001, "bye")],
            vec![0x88, 0x02, 0x03, 0xe9],
        ),
        row(
            "7.1.5 close without a code is 1005, echoed empty",
            vec![0x88, 0x80, 0x37, 0xfa, 0x21, 0x3d],
            vec![closed(1005, "")],
            vec![0x88, 0x00],
        ),
        row(
            "7.4.2 application code 4000",
            frame(true, 8, Some(KEY), &close_payload(4000, "app")),
            vec![closed(4000, "app")],
            vec![0x88, 0x02, 0x0f, 0xa0],
        ),
        row(
            "frames after the close frame are ignored",
            cat(&[
                &frame(true, 8, Some(KEY), &close_payload(1000, "")),
                &frame(true, 1, Some(KEY), b"late"),
            ]),
            vec![closed(1000, "")],
            vec![0x88, 0x02, 0x03, 0xe8],
        ),
    ];
    let mut rsv1 = frame(true, 1, Some(KEY), b"");
    rsv1[0] |= 0x40;
    let failures = [
        (
            "5.2 reserved opcode",
            vec![0x83, 0x80, 1, 2, 3, 4],
            ProtocolError::ReservedOpcode(3),
        ),
        (
            "5.2 RSV1 without extension",
            rsv1,
            ProtocolError::ReservedBits(0b100),
        ),
        (
            "5.1 unmasked from a client",
            frame(true, 1, None, HELLO),
            ProtocolError::UnmaskedFrame,
        ),
        (
            "5.5 fragmented ping",
            frame(false, 9, Some(KEY), b""),
            ProtocolError::FragmentedControlFrame,
        ),
        (
            "5.5 ping of 126 bytes",
            vec![0x89, 0xfe, 0x00, 0x7e, 1, 2, 3, 4],
            ProtocolError::ControlFrameTooLong(126),
        ),
        (
            "5.4 continuation first",
            frame(true, 0, Some(KEY), b"x"),
            ProtocolError::UnexpectedContinuation,
        ),
        (
            "5.4 text inside a fragmented message",
            cat(&[
                &frame(false, 1, Some(KEY), b"a"),
                &frame(true, 1, Some(KEY), b"b"),
            ]),
            ProtocolError::ExpectedContinuation,
        ),
        (
            "5.2 64-bit length with the top bit",
            vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
            ProtocolError::InvalidLength,
        ),
        (
            "5.5.1 close with one byte",
            frame(true, 8, Some(KEY), &[0x03]),
            ProtocolError::InvalidClosePayload,
        ),
        (
            "7.4.1 close code 1005 on the wire",
            frame(true, 8, Some(KEY), &close_payload(1005, "")),
            ProtocolError::InvalidCloseCode(1005),
        ),
        (
            "7.4.1 close code 2999",
            frame(true, 8, Some(KEY), &close_payload(2999, "")),
            ProtocolError::InvalidCloseCode(2999),
        ),
        (
            "8.1 invalid UTF-8",
            frame(
                true,
                1,
                Some(KEY),
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
            ),
            ProtocolError::InvalidUtf8,
        ),
        (
            "5.5.1 close reason not UTF-8",
            frame(true, 8, Some(KEY), b"\x03\xe8\xff"),
            ProtocolError::InvalidCloseReason,
        ),
    ];
    let table = table
        .into_iter()
        .chain(failures.into_iter().map(|(name, input, error)| {
            let output = fail_frame(&error);
            row(name, input, vec![failed(error)], output)
        }));
    for row in table {
        let now = Instant::now();
        let mut server = open_server(Config::default(), now);
        server.handle_input(now, &row.input);
        assert_eq!(drain_events(&mut server), row.events, "{}", row.name);
        let (out, close) = drain_transmit(&mut server, now);
        assert_eq!(out, row.output, "{}", row.name);
        assert_eq!(close, row.close, "{}", row.name);
    }
}

#[test]
fn client_reads_server_frames() {
    let long = |n: usize, len: &[u8]| cat(&[len, &vec![0xab; n]]);
    let table: Vec<(&str, Vec<u8>, Vec<Event>)> = vec![
        (
            "5.7 single-frame unmasked text",
            vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            vec![text("Hello")],
        ),
        (
            "5.7 fragmented unmasked text",
            vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
            vec![text("Hello")],
        ),
        (
            "5.7 256 bytes binary in a single unmasked frame",
            long(256, &[0x82, 0x7e, 0x01, 0x00]),
            vec![Event::Message(Message::Binary(vec![0xab; 256]))],
        ),
        (
            "5.7 64KiB binary in a single unmasked frame",
            long(65536, &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]),
            vec![Event::Message(Message::Binary(vec![0xab; 65536]))],
        ),
        (
            "5.7 unmasked ping",
            vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            vec![Event::Ping(HELLO.to_vec())],
        ),
    ];
    for (name, input, events) in table {
        let now = Instant::now();
        let mut client = open_client(Config::default(), now);
        client.handle_input(now, &input);
        assert_eq!(drain_events(&mut client), events, "{name}");
        let (out, close) = drain_transmit(&mut client, now);
        assert!(!close, "{name}");
        let frames = parse_frames(&out);
        if let [Event::Ping(payload)] = events.as_slice() {
            // The pong is masked with a fresh key; unmasked it is the ping's payload.
            assert_eq!(frames.len(), 1, "{name}");
            assert!(frames[0].masked && frames[0].fin, "{name}");
            assert_eq!(
                (frames[0].opcode, &frames[0].payload),
                (OpCode::Pong, payload),
                "{name}"
            );
        } else {
            assert!(frames.is_empty(), "{name}");
        }
    }
}

#[test]
fn client_echoes_a_close_and_waits_for_the_server() {
    let now = Instant::now();
    let mut client = open_client(Config::default(), now);
    client.handle_input(now, &[0x88, 0x05, 0x03, 0xe8, b'b', b'y', b'e']);
    assert_eq!(drain_events(&mut client), [closed(1000, "bye")]);
    let (out, close) = drain_transmit(&mut client, now);
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].masked);
    assert_eq!(frames[0].payload, [0x03, 0xe8]);
    assert!(!close, "the server closes TCP first");
    client.handle_eof(now);
    assert_eq!(drain_transmit(&mut client, now), (Vec::new(), true));
    assert!(client.is_finished());
}

#[test]
fn client_refuses_server_violations() {
    let cases = [
        (frame(true, 1, Some(KEY), HELLO), ProtocolError::MaskedFrame),
        (vec![0x8b, 0x00], ProtocolError::ReservedOpcode(0xb)),
        (vec![0xa1, 0x00], ProtocolError::ReservedBits(0b010)),
        (vec![0x81, 0x02, 0xc3, 0x28], ProtocolError::InvalidUtf8),
    ];
    for (input, error) in cases {
        let now = Instant::now();
        let mut client = open_client(Config::default(), now);
        client.handle_input(now, &input);
        assert_eq!(drain_events(&mut client), [failed(error.clone())]);
        let (out, close) = drain_transmit(&mut client, now);
        let frames = parse_frames(&out);
        assert_eq!(frames.len(), 1, "{error:?}");
        assert!(frames[0].masked, "{error:?}");
        assert_eq!(
            frames[0].payload,
            close_payload(error.close_code().0, &error.to_string())
        );
        assert!(close, "a client failing the connection drops TCP");
    }
}

#[test]
fn server_writes_exact_frames() {
    let now = Instant::now();
    let mut server = open_server(Config::default(), now);
    server.send_text(now, "Hello").unwrap();
    server.send_binary(now, &[0xab; 256]).unwrap();
    server.send_binary(now, &[0xcd; 65536]).unwrap();
    server.ping(now, HELLO).unwrap();
    server.pong(now, b"").unwrap();
    server.close(now, CloseCode::NORMAL, "").unwrap();
    let (out, close) = drain_transmit(&mut server, now);
    let expect = cat(&[
        &[0x81, 0x05],
        HELLO,
        &[0x82, 0x7e, 0x01, 0x00],
        &[0xab; 256],
        &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0],
        &[0xcd; 65536],
        &[0x89, 0x05],
        HELLO,
        &[0x8a, 0x00],
        &[0x88, 0x02, 0x03, 0xe8],
    ]);
    assert_eq!(out.len(), expect.len());
    assert!(out == expect);
    assert!(!close, "the server waits for the client's close frame");
}

#[test]
fn opening_handshake_bytes_of_section_1_3() {
    let now = Instant::now();
    let mut server = Connection::server(Arc::new(Config::default()), now, SERVER_SEED);
    server.handle_input(now, RFC_REQUEST);
    let events = drain_events(&mut server);
    let [Event::Request(req)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    let accept = Accept {
        protocol: Some("chat".into()),
        ..Accept::default()
    };
    server.accept(now, accept).unwrap();
    let (out, close) = drain_transmit(&mut server, now);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         Sec-WebSocket-Protocol: chat\r\n\r\n"
    );
    assert!(!close);

    let mut client = Connection::client(
        Arc::new(Config::default()),
        rfc_client_request(),
        now,
        CLIENT_SEED,
    );
    let (out, _) = drain_transmit(&mut client, now);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GET /chat HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
}

#[test]
fn handshake_errors_get_their_http_status() {
    let rfc = std::str::from_utf8(RFC_REQUEST).unwrap();
    let many_headers = rfc.replace("Origin:", &format!("{}Origin:", "X-A: 1\r\n".repeat(64)));
    let cases: Vec<(String, &str, HandshakeError)> = vec![
        (
            rfc.replace("GET", "POST"),
            "HTTP/1.1 405 Method Not Allowed\r\n",
            HandshakeError::Method("POST".into()),
        ),
        (
            rfc.replace("Version: 13", "Version: 8"),
            "HTTP/1.1 426 Upgrade Required\r\n",
            HandshakeError::UnsupportedVersion("8".into()),
        ),
        (
            rfc.replace("HTTP/1.1", "HTTP/1.0"),
            "HTTP/1.1 505 HTTP Version Not Supported\r\n",
            HandshakeError::HttpVersion,
        ),
        (
            rfc.replace("Sec-WebSocket-Key", "X-Key"),
            "HTTP/1.1 400 Bad Request\r\n",
            HandshakeError::MissingHeader("Sec-WebSocket-Key"),
        ),
        (
            rfc.replace("Upgrade: websocket", "Upgrade: h2c"),
            "HTTP/1.1 400 Bad Request\r\n",
            HandshakeError::InvalidHeader("Upgrade"),
        ),
        (
            many_headers,
            "HTTP/1.1 431 Request Header Fields Too Large\r\n",
            HandshakeError::TooManyHeaders { max: 64 },
        ),
        (
            format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(16 << 10)),
            "HTTP/1.1 431 Request Header Fields Too Large\r\n",
            HandshakeError::TooLarge { max: 16 << 10 },
        ),
        (
            "\x16\x03\x01\x02\x00\x01\x00\x01\x7c\x03\x03\r\n\r\n".into(),
            "HTTP/1.1 400 Bad Request\r\n",
            HandshakeError::Malformed("invalid token"),
        ),
    ];
    for (request, status_line, error) in cases {
        let now = Instant::now();
        let mut server = Connection::server(Arc::new(Config::default()), now, SERVER_SEED);
        server.handle_input(now, request.as_bytes());
        let mut events = drain_events(&mut server);
        if let [Event::Request(_)] = events.as_slice() {
            // Parsed, but not a valid upgrade: the application accepts anyway.
            server.accept(now, Accept::default()).unwrap();
            events = drain_events(&mut server);
        }
        let closed = the_closed(&events);
        assert_eq!(
            closed.error,
            Some(Error::Handshake(error.clone())),
            "{error:?}"
        );
        let (out, close) = drain_transmit(&mut server, now);
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with(status_line), "{error:?}: {out}");
        assert!(out.contains("\r\nConnection: close\r\n"), "{out}");
        assert!(out.ends_with(&format!("\r\n\r\n{error}\n")), "{out}");
        assert!(close && server.is_finished());
    }
}
