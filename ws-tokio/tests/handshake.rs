//! Opening handshakes (accepted, refused, malformed, timed out) and the
//! peer's protocol violations, seen from both ends.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{bounded, close_code, frame, listener, read_frame, read_head};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_tokio::ws_proto::{HandshakeError, OpCode, ProtocolError, StateError, TimeoutKind};
use ws_tokio::{Accept, CloseCode, Config, Error, Message, Request, Response, Role};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_sees_the_request_and_picks_a_subprotocol() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept_with(tcp, Arc::default(), |req: &Request| {
                assert_eq!(req.path_only(), "/chat");
                assert_eq!(req.query(), Some("room=1"));
                assert_eq!(req.header_str("X-Token"), Some("secret"));
                let protocol = req.protocols().find(|p| *p == "v2").map(str::to_owned);
                Ok(Accept {
                    protocol,
                    headers: vec![("Set-Cookie".into(), b"id=1".to_vec())],
                })
            })
            .await
            .unwrap();
            assert_eq!(ws.role(), Role::Server);
            assert_eq!(ws.protocol(), Some("v2"));
            assert_eq!(ws.request().unwrap().path, "/chat?room=1");
            // Early: sent right after the 101, possibly in the same segment.
            ws.send("welcome").await.unwrap();
            ws.next().await
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut request = Request::client(&format!("ws://{addr}/chat?room=1")).unwrap();
        request.headers.extend([
            ("X-Token".into(), b"secret".to_vec()),
            ("Sec-WebSocket-Protocol".into(), b"v1, v2".to_vec()),
        ]);
        let mut ws = ws_tokio::client(tcp, request).await.unwrap();
        assert_eq!(ws.protocol(), Some("v2"));
        let response = &ws.handshake().unwrap().response;
        assert_eq!(response.status, 101);
        assert_eq!(response.header_str("Set-Cookie"), Some("id=1"));
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("welcome"));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        let last = server.await.unwrap();
        assert_eq!(
            last.unwrap().unwrap(),
            Message::close(CloseCode::NORMAL, "")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_can_refuse() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            ws_tokio::accept_with(tcp, Arc::default(), |_: &Request| {
                let mut res = Response::new(403);
                res.body = b"go away".to_vec();
                Err(res)
            })
            .await
        });
        let result = ws_tokio::connect(&format!("ws://{addr}/")).await;
        assert!(
            matches!(result, Err(Error::Handshake(HandshakeError::Status(403)))),
            "{result:?}"
        );
        assert!(matches!(server.await.unwrap(), Err(Error::Rejected(403))));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_can_serve_a_plain_page() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            ws_tokio::accept_with(tcp, Arc::default(), |req: &Request| {
                assert!(req.validate_upgrade(Default::default()).is_err());
                let mut res = Response::new(200);
                res.headers
                    .push(("Content-Type".into(), b"text/plain".to_vec()));
                res.body = b"hello, browser".to_vec();
                Err(res)
            })
            .await
        });
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut page = String::new();
        tcp.read_to_string(&mut page).await.unwrap();
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.ends_with("hello, browser"), "{page}");
        assert!(matches!(server.await.unwrap(), Err(Error::Rejected(200))));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_answer_gives_500() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            ws_tokio::accept_with(tcp, Arc::default(), |_: &Request| {
                Ok(Accept {
                    protocol: Some("never-offered".into()),
                    ..Accept::default()
                })
            })
            .await
        });
        let result = ws_tokio::connect(&format!("ws://{addr}/")).await;
        assert!(
            matches!(result, Err(Error::Handshake(HandshakeError::Status(500)))),
            "{result:?}"
        );
        let result = server.await.unwrap();
        assert!(
            matches!(
                result,
                Err(Error::InvalidAccept(StateError::UnofferedProtocol(_)))
            ),
            "{result:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_the_core_s_answer() {
    bounded(async {
        let cases: [(&[u8], &str); 3] = [
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400"),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                "HTTP/1.1 405",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
                "HTTP/1.1 426",
            ),
        ];
        for (request, status) in cases {
            let (listener, addr) = listener().await;
            let server = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                ws_tokio::accept(tcp).await
            });
            let mut tcp = TcpStream::connect(addr).await.unwrap();
            tcp.write_all(request).await.unwrap();
            let head = read_head(&mut tcp).await;
            assert!(head.starts_with(status), "{head}");
            assert!(matches!(server.await.unwrap(), Err(Error::Handshake(_))));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_times_out_with_408() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let config = Arc::new(Config {
                handshake_timeout: Duration::from_millis(200),
                ..Config::default()
            });
            ws_tokio::accept_with_config(tcp, config).await
        });
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 408"), "{head}");
        let result = server.await.unwrap();
        assert!(
            matches!(result, Err(Error::Timeout(TimeoutKind::Handshake))),
            "{result:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_the_client_out() {
    bounded(async {
        let (listener, addr) = listener().await;
        let holder = tokio::spawn(async move { listener.accept().await.unwrap() });
        let config = Arc::new(Config {
            handshake_timeout: Duration::from_millis(200),
            ..Config::default()
        });
        let result = ws_tokio::connect_with_config(&format!("ws://{addr}/"), config).await;
        assert!(
            matches!(result, Err(Error::Timeout(TimeoutKind::Handshake))),
            "{result:?}"
        );
        drop(holder.await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn urls_that_cannot_be_used() {
    bounded(async {
        let result = ws_tokio::connect("wss://127.0.0.1:1/").await;
        if cfg!(feature = "rustls") {
            // Refused at the TCP connect, before any TLS.
            assert!(matches!(result, Err(Error::Io(_))), "{result:?}");
        } else {
            assert!(matches!(result, Err(Error::TlsNotSupported)), "{result:?}");
            let text = result.unwrap_err().to_string();
            assert!(text.contains("`rustls` feature"), "{text}");
        }
        let result = ws_tokio::connect("http://127.0.0.1:1/").await;
        assert!(
            matches!(result, Err(Error::Handshake(HandshakeError::Url(_)))),
            "{result:?}"
        );
        let result = ws_tokio::connect("not a url").await;
        assert!(matches!(
            result,
            Err(Error::Handshake(HandshakeError::Url(_)))
        ));
        // A port nobody listens on.
        let (listener, addr) = listener().await;
        drop(listener);
        let result = ws_tokio::connect(&format!("ws://{addr}/")).await;
        assert!(matches!(result, Err(Error::Io(_))), "{result:?}");
    })
    .await;
}

#[tokio::test]
async fn client_and_server_over_a_duplex() {
    bounded(async {
        let (a, b) = tokio::io::duplex(1024);
        let request = Request::client("ws://example.com/over/duplex").unwrap();
        let (server, client) = tokio::join!(ws_tokio::accept(a), ws_tokio::client(b, request));
        let (mut server, mut client) = (server.unwrap(), client.unwrap());
        assert_eq!(server.request().unwrap().path, "/over/duplex");
        assert_eq!(
            server.request().unwrap().header_str("Host"),
            Some("example.com")
        );
        client.send("hi").await.unwrap();
        assert_eq!(server.next().await.unwrap().unwrap(), Message::text("hi"));
        // The server's close waits for the client to close its end, which it
        // does once it has read the server's.
        let (closed, last) = tokio::join!(server.close(CloseCode(3000), "x"), async {
            let last = client.next().await;
            assert!(client.next().await.is_none());
            last
        });
        closed.unwrap();
        assert_eq!(last.unwrap().unwrap(), Message::close(CloseCode(3000), "x"));
    })
    .await;
}

/// A raw client after the handshake sends `bytes`; the server's stream must
/// fail with `expected` and the client must get a close frame with `code`.
async fn violation(config: Config, bytes: Vec<u8>, code: u16) -> Error {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = ws_tokio::accept_with_config(tcp, Arc::new(config))
            .await
            .unwrap();
        let mut items = Vec::new();
        while let Some(item) = ws.next().await {
            items.push(item);
        }
        let closed = ws.closed().unwrap().clone();
        assert_eq!(closed.code.0, code);
        (items, closed)
    });
    let mut raw = common::raw_client(addr).await;
    raw.write_all(&bytes).await.unwrap();
    let (op, payload) = read_frame(&mut raw).await.unwrap();
    assert_eq!(op, OpCode::Close);
    assert_eq!(close_code(&payload), code);
    // The server closes TCP after its close frame.
    assert!(read_frame(&mut raw).await.is_none());
    // And waits for ours (bounded by the close timeout).
    drop(raw);
    let (mut items, _) = server.await.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    items.pop().unwrap().unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_close_with_the_right_code() {
    bounded(async {
        let e = violation(Config::default(), frame(true, 0x1, b"hi", false), 1002).await;
        assert!(
            matches!(e, Error::Protocol(ProtocolError::UnmaskedFrame)),
            "{e:?}"
        );

        let e = violation(Config::default(), frame(true, 0x1, b"\xff\xfe", true), 1007).await;
        assert!(
            matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
            "{e:?}"
        );

        let e = violation(Config::default(), frame(true, 0x3, b"", true), 1002).await;
        assert!(
            matches!(e, Error::Protocol(ProtocolError::ReservedOpcode(3))),
            "{e:?}"
        );

        let small = Config {
            max_message_size: 1000,
            ..Config::default()
        };
        let e = violation(small, frame(true, 0x2, &[0; 2000], true), 1009).await;
        assert!(
            matches!(
                e,
                Error::Protocol(ProtocolError::MessageTooLarge { .. })
                    | Error::Protocol(ProtocolError::FrameTooLarge { .. })
            ),
            "{e:?}"
        );

        let e = violation(Config::default(), frame(true, 0x9, &[0; 126], true), 1002).await;
        assert!(
            matches!(e, Error::Protocol(ProtocolError::ControlFrameTooLong(126))),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_masked_frame_from_the_server_fails_the_client() {
    bounded(async {
        let (a, mut raw_server) = tokio::io::duplex(1024);
        let mut client = ws_tokio::WebSocketStream::from_raw(a, Role::Client);
        raw_server
            .write_all(&frame(true, 0x1, b"masked", true))
            .await
            .unwrap();
        let item = client.next().await.unwrap();
        assert!(
            matches!(item, Err(Error::Protocol(ProtocolError::MaskedFrame))),
            "{item:?}"
        );
        let (op, payload) = read_frame(&mut raw_server).await.unwrap();
        assert_eq!(op, OpCode::Close);
        assert_eq!(close_code(&payload), 1002);
        assert_eq!(client.closed().unwrap().code, CloseCode::PROTOCOL);
    })
    .await;
}

/// A server that answers the upgrade with a wrong `Sec-WebSocket-Accept` and
/// then keeps its end open: `connect` fails at once, without waiting for the
/// server to close TCP (nothing it could say matters any more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_client_handshake_returns_at_once() {
    bounded(async {
        let (listener, addr) = listener().await;
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            read_head(&mut tcp).await;
            tcp.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                  Connection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n",
            )
            .await
            .unwrap();
            // Hold the socket, whatever the client does, until the test ends.
            let _ = done_rx.await;
        });
        let started = std::time::Instant::now();
        let result = ws_tokio::connect(&format!("ws://{addr}/")).await;
        let took = started.elapsed();
        assert!(result.is_err(), "the bad accept key was taken");
        assert!(
            took < Duration::from_secs(1),
            "connect returned after {took:?}"
        );
        drop(done_tx);
    })
    .await;
}
