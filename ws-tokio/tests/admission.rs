//! Admission limits on the native API (`ws_tokio::Listener`): stalled
//! handshakes have their own cap, and a client past either cap reads a 503
//! with `Retry-After`. Loopback only, bounded in time.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{bounded, round_trip};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_tokio::{Config, Limits, Listener, Message};

/// Serves echoes through `listener` until the test ends.
async fn serve(listener: Listener, config: Config) {
    let config = Arc::new(config);
    loop {
        let Ok((admitted, _)) = listener.accept().await else {
            return;
        };
        let config = config.clone();
        tokio::spawn(async move {
            let Ok((mut ws, _permit)) = admitted.handshake(config).await else {
                return;
            };
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_data() && ws.send(msg).await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn start(limits: Limits, config: Config) -> SocketAddr {
    let listener = Listener::bind("127.0.0.1:0", limits).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, config));
    addr
}

/// Sockets that connect and then send nothing, or half a request.
async fn stalled(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut all = Vec::new();
    for i in 0..count {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 1 {
            s.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
        }
        all.push(s);
    }
    all
}

/// What a raw client reads after sending an upgrade request, to the end.
async fn answer(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(common::RAW_REQUEST).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_handshakes_do_not_lock_out_a_client() {
    bounded(async {
        let addr = start(Limits::new(100), Config::default()).await;
        let _stalled = stalled(addr, 200).await;
        let mut ws = ws_tokio::connect(&format!("ws://{addr}/")).await.unwrap();
        round_trip(&mut ws, Message::text("through the crowd")).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_listener_answers_503() {
    bounded(async {
        let limits = Limits::new(1).with_retry_after(Duration::from_secs(3));
        let addr = start(limits, Config::default()).await;
        let mut open = ws_tokio::connect(&format!("ws://{addr}/")).await.unwrap();
        round_trip(&mut open, Message::text("first")).await;
        let text = answer(addr).await;
        assert!(
            text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nRetry-After: 3\r\n"), "{text}");
        round_trip(&mut open, Message::text("still served")).await;
        // The permit goes with the connection: then there is room again.
        open.close(ws_tokio::CloseCode::NORMAL, "").await.unwrap();
        while open.next().await.is_some() {}
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut ws) = ws_tokio::connect(&format!("ws://{addr}/")).await {
                round_trip(&mut ws, Message::text("after")).await;
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never freed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_handshakes_answer_503_until_they_time_out() {
    bounded(async {
        // A grace of 0.5 s (a quarter of Retry-After) before the 503s, well
        // before the stalled handshakes time out.
        let limits = Limits::new(100)
            .with_max_pending_handshakes(4)
            .with_retry_after(Duration::from_secs(2));
        let config = Config {
            handshake_timeout: Duration::from_secs(1),
            ..Config::default()
        };
        let addr = start(limits, config).await;
        let _stalled = stalled(addr, 4).await;
        // Give the listener time to take them all.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let text = answer(addr).await;
        assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
        // At the handshake timeout the stalled ones free their slots.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mut ws = ws_tokio::connect(&format!("ws://{addr}/")).await.unwrap();
        round_trip(&mut ws, Message::text("late")).await;
    })
    .await;
}

/// A burst of honest clients larger than the handshake cap, whose requests
/// come a little after their connects: the listener holds off while the cap
/// is full, and every client gets its 101; none reads a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_slow_clients_is_served() {
    bounded(async {
        let limits = Limits::new(100).with_max_pending_handshakes(4);
        let addr = start(limits, Config::default()).await;
        let mut sockets = Vec::new();
        for _ in 0..24 {
            sockets.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        for s in &mut sockets {
            s.write_all(common::RAW_REQUEST).await.unwrap();
        }
        for s in &mut sockets {
            let mut head = [0u8; 12];
            s.read_exact(&mut head).await.unwrap();
            assert_eq!(&head, b"HTTP/1.1 101", "{}", String::from_utf8_lossy(&head));
        }
    })
    .await;
}
