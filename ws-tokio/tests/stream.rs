//! The native async API over loopback TCP and in-memory duplexes: messages,
//! pings, closes, split halves on two tasks, wrapping a raw stream.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{bounded, echo_once, listener, round_trip};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncWriteExt, DuplexStream};
use ws_tokio::{CloseCode, CloseFrame, Config, Error, Message, Role, WebSocketStream};

fn url(addr: std::net::SocketAddr) -> String {
    format!("ws://{addr}/echo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_text_and_binary() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        assert_eq!(ws.role(), Role::Client);
        round_trip(&mut ws, Message::text("hello")).await;
        round_trip(&mut ws, Message::text("")).await;
        round_trip(&mut ws, Message::text("h\u{e9}llo \u{1f600}")).await;
        round_trip(&mut ws, Message::binary(vec![0, 1, 2, 255])).await;
        round_trip(&mut ws, Message::binary(Vec::new())).await;
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert!(ws.next().await.is_none(), "the stream ends after close");
        let last = server.await.unwrap();
        assert_eq!(
            last.unwrap().unwrap(),
            Message::close(CloseCode::NORMAL, "done")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_messages_both_ways() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        let big: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
        round_trip(&mut ws, Message::binary(big)).await;
        let text = "abc\u{e9}".repeat(300_000);
        round_trip(&mut ws, Message::text(text)).await;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_messages_fed_then_flushed() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        for i in 0..1000 {
            ws.feed(Message::text(format!("m{i}"))).await.unwrap();
        }
        SinkExt::flush(&mut ws).await.unwrap();
        for i in 0..1000 {
            let msg = ws.next().await.unwrap().unwrap();
            assert_eq!(msg.as_text(), Some(format!("m{i}").as_str()));
        }
        SinkExt::close(&mut ws).await.unwrap();
        // The close frame went out; reading finishes the handshake.
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::close(CloseCode::NORMAL, "")
        );
        assert!(ws.next().await.is_none());
        server.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragmented_messages_are_reassembled() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        // This end fragments what it sends into frames of 7 bytes.
        let config = Arc::new(Config {
            fragment_size: 7,
            ..Config::default()
        });
        let mut ws = ws_tokio::connect_with_config(&url(addr), config)
            .await
            .unwrap();
        round_trip(
            &mut ws,
            Message::text("a fragmented text message \u{1f600}"),
        )
        .await;
        round_trip(&mut ws, Message::binary(vec![9; 1000])).await;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragmented_frames_from_a_raw_peer() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept(tcp).await.unwrap();
            let first = ws.next().await.unwrap().unwrap();
            let second = ws.next().await.unwrap().unwrap();
            (first, second)
        });
        let mut raw = common::raw_client(addr).await;
        // "hello" in three frames with a ping between them.
        let mut bytes = common::frame(false, 0x1, b"he", true);
        bytes.extend(common::frame(false, 0x0, b"l", true));
        bytes.extend(common::frame(true, 0x9, b"p", true));
        bytes.extend(common::frame(true, 0x0, b"lo", true));
        raw.write_all(&bytes).await.unwrap();
        let (first, second) = server.await.unwrap();
        // Control frames may come in the middle of a message: the ping is
        // delivered as soon as it arrives, the message when complete.
        assert_eq!(first, Message::Ping(b"p".to_vec()));
        assert_eq!(second, Message::text("hello"));
        let (op, payload) = common::read_frame(&mut raw).await.unwrap();
        assert_eq!(
            (op, payload.as_slice()),
            (ws_tokio::ws_proto::OpCode::Pong, &b"p"[..])
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_and_pong() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept(tcp).await.unwrap();
            let mut seen = Vec::new();
            while let Some(item) = ws.next().await {
                seen.push(item.unwrap());
            }
            seen
        });
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        ws.ping(b"are you there").await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Pong(b"are you there".to_vec())
        );
        // An unsolicited pong is allowed (a heartbeat); it gets no answer.
        ws.send(Message::Pong(b"beat".to_vec())).await.unwrap();
        // Control payloads are limited to 125 bytes.
        assert!(matches!(
            ws.ping(&[0; 126]).await,
            Err(Error::Send(ws_tokio::ws_proto::SendError::ControlTooLong(
                126
            )))
        ));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        let seen = server.await.unwrap();
        assert_eq!(
            seen,
            vec![
                Message::Ping(b"are you there".to_vec()),
                Message::Pong(b"beat".to_vec()),
                Message::close(CloseCode::NORMAL, ""),
            ]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closes_with_a_code() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept(tcp).await.unwrap();
            let item = ws.next().await.unwrap().unwrap();
            assert!(ws.next().await.is_none());
            assert!(ws.closed().unwrap().error.is_none());
            item
        });
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        ws.close(CloseCode(4321), "going home").await.unwrap();
        let closed = ws.closed().unwrap();
        // The server echoed the code (RFC 6455 section 5.5.1).
        assert_eq!(closed.code, CloseCode(4321));
        assert!(closed.error.is_none());
        assert_eq!(
            server.await.unwrap(),
            Message::close(CloseCode(4321), "going home")
        );
        // Nothing can be sent any more; closing again is harmless.
        assert!(matches!(ws.send("late").await, Err(Error::Closed)));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closes_with_a_code() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept(tcp).await.unwrap();
            ws.send("last words").await.unwrap();
            ws.close(CloseCode::AWAY, "restarting").await.unwrap();
            ws.closed().unwrap().clone()
        });
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("last words")
        );
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Close(Some(CloseFrame {
                code: CloseCode::AWAY,
                reason: "restarting".into()
            }))
        );
        assert!(ws.next().await.is_none());
        assert_eq!(server.await.unwrap().code, CloseCode::AWAY);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_close_codes_are_refused_locally() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        for code in [1005, 1006, 999, 5000] {
            assert!(matches!(
                ws.close(CloseCode(code), "").await,
                Err(Error::Send(_))
            ));
        }
        // The connection is still usable.
        round_trip(&mut ws, Message::text("still here")).await;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_on_two_tasks() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        let ws = ws_tokio::connect(&url(addr)).await.unwrap();
        let (mut read, mut write) = ws.split();
        const N: usize = 2000;
        let reader = tokio::spawn(async move {
            let mut got = 0;
            while let Some(item) = read.next().await {
                match item.unwrap() {
                    Message::Text(t) => {
                        assert_eq!(t, format!("message {got}"));
                        got += 1;
                    }
                    Message::Binary(b) => assert_eq!(b.len(), 100_000),
                    Message::Close(frame) => {
                        assert_eq!(frame.unwrap().code, CloseCode::NORMAL);
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            (got, read)
        });
        let writer = tokio::spawn(async move {
            for i in 0..N {
                write.send(format!("message {i}")).await.unwrap();
                if i % 100 == 0 {
                    write.send(vec![7u8; 100_000]).await.unwrap();
                }
            }
            // Wait for the echoes to come back before closing, through the
            // read half's task.
            tokio::time::sleep(Duration::from_millis(50)).await;
            write.close(CloseCode::NORMAL, "").await.unwrap();
            write
        });
        let write = writer.await.unwrap();
        let (got, read) = reader.await.unwrap();
        assert_eq!(got, N);
        assert_eq!(read.closed().unwrap().code, CloseCode::NORMAL);
        let ws = read.reunite(write).unwrap();
        assert!(ws.closed().is_some());
        server.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_with_stream_ext_too() {
    // `StreamExt::split` (futures' BiLock) also works, since both the
    // reading and the writing side keep their own wakers.
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        let ws = ws_tokio::connect(&url(addr)).await.unwrap();
        let (mut sink, mut stream) = StreamExt::split(ws);
        let reader = tokio::spawn(async move {
            let mut n = 0;
            while let Some(Ok(msg)) = stream.next().await {
                if msg.is_data() {
                    n += 1;
                }
            }
            n
        });
        for i in 0..500 {
            sink.send(Message::text(format!("{i}"))).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        sink.close().await.unwrap();
        assert_eq!(reader.await.unwrap(), 500);
        server.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reunite_refuses_halves_of_different_streams() {
    let (a, b) = tokio::io::duplex(1024);
    let (ra, wa) = WebSocketStream::from_raw(a, Role::Server).split();
    let (rb, wb) = WebSocketStream::from_raw(b, Role::Client).split();
    let err = ra.reunite(wb).unwrap_err();
    let (ra, wb) = (err.0, err.1);
    assert!(ra.reunite(wa).is_ok());
    assert!(rb.reunite(wb).is_ok());
}

async fn raw_pair() -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (
        WebSocketStream::from_raw(a, Role::Server),
        WebSocketStream::from_raw(b, Role::Client),
    )
}

#[tokio::test]
async fn from_raw_over_a_duplex() {
    bounded(async {
        let (mut server, mut client) = raw_pair().await;
        assert!(server.handshake().is_none());
        client.send("ping?").await.unwrap();
        let msg = server.next().await.unwrap().unwrap();
        assert_eq!(msg.as_text(), Some("ping?"));
        // 300 KB through a 64 KB pipe: the server's send waits for the
        // client to read.
        let (sent, msg) = tokio::join!(
            server.send(Message::binary(vec![1; 300_000])),
            client.next()
        );
        sent.unwrap();
        assert_eq!(msg.unwrap().unwrap().len(), 300_000);
        let (closed, _) = tokio::join!(client.close(CloseCode::NORMAL, "bye"), async {
            while server.next().await.is_some() {}
        });
        closed.unwrap();
        assert_eq!(server.closed().unwrap().reason, "bye");
    })
    .await;
}

/// A peer that stops reading makes `poll_ready` wait once 128 KiB are
/// queued: what the sink accepts from a writer that respects it stays
/// bounded (the high-water mark, what the pipe holds, one message), and
/// every accepted message arrives once the peer reads.
#[tokio::test]
async fn a_peer_that_stops_reading_makes_the_sink_wait() {
    bounded(async {
        const CHUNK: usize = 16 * 1024;
        let (mut server, mut client) = raw_pair().await;
        let mut accepted = 0usize;
        loop {
            // `feed` is `poll_ready` then `start_send`, without a flush.
            let feed = server.feed(Message::binary(vec![accepted as u8; CHUNK]));
            match tokio::time::timeout(Duration::from_millis(200), feed).await {
                Ok(fed) => fed.unwrap(),
                Err(_) => break,
            }
            accepted += 1;
            assert!(accepted < 100, "the sink never waits");
        }
        let pipe = 64 * 1024;
        assert!(
            accepted * CHUNK <= 128 * 1024 + pipe + CHUNK,
            "{accepted} messages of {CHUNK} bytes accepted"
        );
        // Now the peer reads: everything accepted arrives, in order.
        let (flushed, ()) = tokio::join!(server.flush(), async {
            for i in 0..accepted {
                let msg = client.next().await.unwrap().unwrap();
                assert_eq!(msg, Message::binary(vec![i as u8; CHUNK]));
            }
        });
        flushed.unwrap();
    })
    .await;
}

#[tokio::test]
async fn from_raw_over_tcp_with_read_ahead() {
    bounded(async {
        let (listener, addr) = listener().await;
        let connecting = tokio::net::TcpStream::connect(addr);
        let (accepted, connected) = tokio::join!(listener.accept(), connecting);
        let (a, b) = (accepted.unwrap().0, connected.unwrap());
        // The "HTTP layer" read one whole frame and half of another.
        let mut ahead = common::frame(true, 0x1, b"first", true);
        let second = common::frame(true, 0x1, b"second", true);
        ahead.extend_from_slice(&second[..4]);
        let mut client = b;
        client.write_all(&second[4..]).await.unwrap();
        let mut server =
            WebSocketStream::from_partially_read(a, ahead, Role::Server, Arc::default());
        assert_eq!(
            server.next().await.unwrap().unwrap(),
            Message::text("first")
        );
        assert_eq!(
            server.next().await.unwrap().unwrap(),
            Message::text("second")
        );
        server.send("ok").await.unwrap();
        let (op, payload) = common::read_frame(&mut client).await.unwrap();
        assert_eq!(op, ws_tokio::ws_proto::OpCode::Text);
        assert_eq!(payload, b"ok");
    })
    .await;
}

#[tokio::test]
async fn the_peer_vanishing_is_an_error() {
    bounded(async {
        let (mut server, client) = raw_pair().await;
        drop(client);
        assert!(matches!(
            server.next().await,
            Some(Err(Error::UnexpectedEof))
        ));
        assert!(server.next().await.is_none());
        assert_eq!(server.closed().unwrap().code, CloseCode::ABNORMAL);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn keepalive_pings_and_gives_up() {
    let config = Arc::new(Config {
        keepalive_interval: Some(Duration::from_secs(5)),
        keepalive_timeout: Duration::from_secs(3),
        ..Config::default()
    });
    let (a, mut peer) = tokio::io::duplex(4096);
    let mut server = WebSocketStream::from_raw_with_config(a, Role::Server, config);
    let started = tokio::time::Instant::now();
    let watcher = tokio::spawn(async move {
        // The silent peer sees a ping after 5 s of silence, then the close.
        let (op, _) = common::read_frame(&mut peer).await.unwrap();
        assert_eq!(op, ws_tokio::ws_proto::OpCode::Ping);
        let (op, payload) = common::read_frame(&mut peer).await.unwrap();
        assert_eq!(op, ws_tokio::ws_proto::OpCode::Close);
        assert_eq!(common::close_code(&payload), 1011);
        peer
    });
    let item = server.next().await.unwrap();
    assert!(
        matches!(
            item,
            Err(Error::Timeout(ws_tokio::ws_proto::TimeoutKind::Keepalive))
        ),
        "{item:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(8));
    drop(watcher.await.unwrap());
    assert!(server.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn keepalive_is_satisfied_by_pongs() {
    let config = Arc::new(Config {
        keepalive_interval: Some(Duration::from_secs(5)),
        keepalive_timeout: Duration::from_secs(3),
        ..Config::default()
    });
    let (a, b) = tokio::io::duplex(4096);
    let mut server = WebSocketStream::from_raw_with_config(a, Role::Server, config);
    let mut client = WebSocketStream::from_raw(b, Role::Client);
    let client_task = tokio::spawn(async move {
        // Reading answers the keepalive pings.
        let mut pings = 0;
        while let Some(item) = client.next().await {
            if let Ok(Message::Ping(_)) = item {
                pings += 1;
            }
        }
        pings
    });
    // A minute of silence from the application, kept alive by pings.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(62);
    let mut pongs = 0;
    while let Ok(item) = tokio::time::timeout_at(deadline, server.next()).await {
        assert!(matches!(item, Some(Ok(Message::Pong(_)))), "{item:?}");
        pongs += 1;
    }
    assert_eq!(pongs, 12);
    server.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(client_task.await.unwrap(), 12);
}

#[tokio::test(start_paused = true)]
async fn close_times_out_when_the_peer_never_answers() {
    let config = Arc::new(Config {
        close_timeout: Duration::from_secs(2),
        ..Config::default()
    });
    let (a, mut peer) = tokio::io::duplex(4096);
    let mut client = WebSocketStream::from_raw_with_config(a, Role::Client, config);
    let started = tokio::time::Instant::now();
    let result = client.close(CloseCode::NORMAL, "").await;
    assert!(
        matches!(
            result,
            Err(Error::Timeout(ws_tokio::ws_proto::TimeoutKind::Close))
        ),
        "{result:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    let (op, _) = common::read_frame(&mut peer).await.unwrap();
    assert_eq!(op, ws_tokio::ws_proto::OpCode::Close);
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_closes_with_1001() {
    let config = Arc::new(Config {
        idle_timeout: Some(Duration::from_secs(30)),
        ..Config::default()
    });
    let (a, b) = tokio::io::duplex(4096);
    let mut server = WebSocketStream::from_raw_with_config(a, Role::Server, config);
    let mut client = WebSocketStream::from_raw(b, Role::Client);
    let (s, c) = tokio::join!(server.next(), client.next());
    assert!(
        matches!(
            s,
            Some(Err(Error::Timeout(ws_tokio::ws_proto::TimeoutKind::Idle)))
        ),
        "{s:?}"
    );
    assert_eq!(
        c.unwrap().unwrap(),
        Message::close(CloseCode::AWAY, "idle timeout")
    );
}

#[test]
fn streams_and_halves_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<WebSocketStream<tokio::net::TcpStream>>();
    send_sync::<ws_tokio::ReadHalf<tokio::net::TcpStream>>();
    send_sync::<ws_tokio::WriteHalf<tokio::net::TcpStream>>();
    send_sync::<Error>();
    send_sync::<Message>();
    // The futures of the API are Send too, so they can be spawned.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (a, b) = tokio::io::duplex(64);
        send(&ws_tokio::connect("ws://127.0.0.1:1/"));
        send(&ws_tokio::accept(a));
        let mut ws = WebSocketStream::from_raw(b, Role::Client);
        send(&ws.send("x"));
        send(&ws.recv());
        send(&ws.ping(b""));
        send(&ws.close(CloseCode::NORMAL, ""));
        let (mut r, mut w) = ws.split();
        send(&r.recv());
        send(&w.send("x"));
        send(&w.close(CloseCode::NORMAL, ""));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_echo_goes_out_even_if_the_stream_is_dropped_at_once() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept(tcp).await.unwrap();
            // Stop at the close item: no further poll finishes the handshake.
            let item = ws.next().await.unwrap().unwrap();
            drop(ws);
            item
        });
        let mut ws = ws_tokio::connect(&url(addr)).await.unwrap();
        ws.close(CloseCode(4000), "now").await.unwrap();
        assert_eq!(ws.closed().unwrap().code, CloseCode(4000));
        assert_eq!(
            server.await.unwrap(),
            Message::close(CloseCode(4000), "now")
        );
    })
    .await;
}
