//! The message deadline on the native API: a peer that trickles a frame
//! (one byte a second) is cut at `Config::message_timeout` with 1008, on a
//! loopback TCP connection, and the server's stream ends with a message
//! timeout.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::bounded;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use ws_tokio::ws_proto::TimeoutKind;
use ws_tokio::{Config, Error};

const DEADLINE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickle_is_cut_with_1008() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Arc::new(Config {
            message_timeout: Some(DEADLINE),
            ..Config::default()
        });
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept_with_config(tcp, config).await.unwrap();
            let mut last = None;
            while let Some(item) = ws.next().await {
                last = Some(item);
            }
            last
        });
        let mut peer = common::raw_client(addr).await;
        // A masked text frame of 60 bytes, one byte a second.
        let mut frame = vec![0x81, 0x80 | 60, 1, 2, 3, 4];
        frame.extend(std::iter::repeat_n(b'x' ^ 1, 60));
        let start = Instant::now();
        let mut got = Vec::new();
        for b in frame {
            let _ = peer.write_all(&[b]).await;
            let mut chunk = [0u8; 64];
            match tokio::time::timeout(Duration::from_secs(1), peer.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
            if got.len() >= 4 {
                break;
            }
        }
        assert!(start.elapsed() >= DEADLINE - Duration::from_millis(100));
        assert!(got.len() >= 4 && got[0] == 0x88, "no close frame: {got:?}");
        assert_eq!(u16::from_be_bytes([got[2], got[3]]), 1008);
        let last = server.await.unwrap();
        assert!(
            matches!(last, Some(Err(Error::Timeout(TimeoutKind::Message)))),
            "{last:?}"
        );
    })
    .await;
}
