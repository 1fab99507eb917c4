//! The fuzz body that drives a runtime rather than the core alone: ws-tokio's
//! server (`accept_with_config`, then a `WebSocketStream` that echoes) over
//! an in-memory transport (`tokio::io::duplex`), with the input written by
//! the peer in pieces whose sizes the input chooses.
//!
//! Kept apart from `lib.rs`, which ws-proto's tests include and which may
//! therefore use nothing but ws-proto. The target `stream_server` and
//! ws-tokio's `fuzz_replay` test include this file with `#[path]`.
//!
//! Input: byte 0 picks the configuration (bit 0: permessage-deflate; bit
//! 1: a 4 KiB message limit) and byte 1 the size of the pieces the rest is
//! written in (1 to 256 bytes). Time is tokio's paused clock, which jumps
//! ahead whenever everything waits, so the handshake, close and message
//! deadlines fire at once and no input can stall the body.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ws_tokio::ws_proto::{Config, DeflateConfig};

/// Runs one input through the server.
pub fn stream_server(data: &[u8]) {
    serve(data);
}

/// Runs one input through the server; the number of messages it echoed.
pub fn serve(data: &[u8]) -> usize {
    let (flags, piece, rest) = match data {
        [flags, piece, rest @ ..] => (*flags, *piece, rest),
        _ => return 0,
    };
    let config = Arc::new(Config {
        deflate: (flags & 1 != 0).then(DeflateConfig::default),
        max_message_size: if flags & 2 != 0 { 4 << 10 } else { 1 << 20 },
        ..Config::default()
    });
    let piece = usize::from(piece).max(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let mut echoed = 0;
        let (peer, server) = tokio::io::duplex(64 << 10);
        let (mut from_server, mut to_server) = tokio::io::split(peer);
        let feed = async move {
            for chunk in rest.chunks(piece) {
                if to_server.write_all(chunk).await.is_err() {
                    return;
                }
            }
            let _ = to_server.shutdown().await;
        };
        let drain = async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from_server.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        };
        let serve = async {
            let Ok(mut ws) = ws_tokio::accept_with_config(server, config).await else {
                return;
            };
            while let Some(item) = ws.next().await {
                match item {
                    Ok(msg) if msg.is_data() => {
                        if ws.send(msg).await.is_err() {
                            break;
                        }
                        echoed += 1;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        };
        tokio::join!(feed, drain, serve);
        echoed
    })
}

/// The seeds of `stream_server`: (file name, input, messages it echoes).
pub fn seeds() -> Vec<(&'static str, Vec<u8>, usize)> {
    let request = |extensions: &str| {
        format!(
            "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n{extensions}\r\n"
        )
        .into_bytes()
    };
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let frame = |first: u8, payload: &[u8]| {
        let mut out = vec![first, 0x80 | payload.len() as u8];
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    };
    let with = |flags: u8, piece: u8, parts: &[Vec<u8>]| {
        let mut out = vec![flags, piece];
        for part in parts {
            out.extend_from_slice(part);
        }
        out
    };
    let close = frame(0x88, &[0x03, 0xe8]);
    vec![
        (
            "seed-echo-whole",
            with(0, 255, &[request(""), frame(0x81, b"hello"), close.clone()]),
            1,
        ),
        (
            "seed-echo-bytewise",
            with(0, 1, &[request(""), frame(0x82, &[1, 2, 3]), close.clone()]),
            1,
        ),
        (
            "seed-fragments-and-ping",
            with(
                2,
                7,
                &[
                    request(""),
                    frame(0x01, "héllo ".as_bytes()),
                    frame(0x89, b"ping"),
                    frame(0x80, "wörld".as_bytes()),
                    close.clone(),
                ],
            ),
            1,
        ),
        (
            "seed-deflate",
            with(
                1,
                16,
                &[
                    request("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                    // "Hello" compressed (RFC 7692 section 7.2.3.1), RSV1 set.
                    frame(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
                    close,
                ],
            ),
            1,
        ),
        (
            "seed-no-handshake",
            with(0, 3, &[b"GET / HTTP/1.1\r\n\r\n".to_vec()]),
            0,
        ),
    ]
}
