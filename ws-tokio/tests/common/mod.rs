//! Helpers shared by the integration tests: a bound on every test, an echo
//! server, and a raw peer that speaks bytes (for violations and silence).
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ws_tokio::ws_proto::{FrameHeader, OpCode, Status, apply_mask};

/// Fails the test instead of hanging it.
pub async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("the test took longer than 20 s")
}

/// A listener on a free loopback port.
pub async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// An echo server for one connection: echoes data messages until the
/// stream ends. Returns what the stream's last item was (the close).
pub async fn echo_once(
    listener: TcpListener,
) -> Option<Result<ws_tokio::Message, ws_tokio::Error>> {
    let (tcp, _) = listener.accept().await.unwrap();
    let mut ws = ws_tokio::accept(tcp).await.unwrap();
    let mut last = None;
    while let Some(item) = ws.next().await {
        match &item {
            // A message read together with the peer's close cannot be
            // answered any more.
            Ok(msg) if msg.is_data() => match ws.send(msg.clone()).await {
                Ok(()) | Err(ws_tokio::Error::Closed) => {}
                Err(e) => panic!("echo failed: {e}"),
            },
            _ => last = Some(item),
        }
    }
    last
}

/// The upgrade request a raw client sends.
pub const RAW_REQUEST: &[u8] = b"GET /raw HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Reads an HTTP head (through the blank line); returns it as text.
pub async fn read_head<R: AsyncReadExt + Unpin>(io: &mut R) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if io.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A raw client that did the upgrade by hand.
pub async fn raw_client(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(RAW_REQUEST).await.unwrap();
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    tcp
}

/// A frame's bytes; masked with a fixed key when `masked`.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mut body = payload.to_vec();
    if masked {
        out.extend_from_slice(&key);
        apply_mask(&mut body, key, 0);
    }
    out.extend_from_slice(&body);
    out
}

/// Reads one frame (opcode and unmasked payload); `None` at end of stream.
pub async fn read_frame<R: AsyncReadExt + Unpin>(io: &mut R) -> Option<(OpCode, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if let Status::Complete((header, _)) = FrameHeader::parse(&buf).unwrap() {
            let mut payload = vec![0; header.payload_len as usize];
            io.read_exact(&mut payload).await.ok()?;
            if let Some(key) = header.mask {
                apply_mask(&mut payload, key, 0);
            }
            return Some((header.opcode, payload));
        }
        // Byte by byte for the header, so that no second frame is consumed.
        let n = io.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
}

/// The code of a close frame's payload.
pub fn close_code(payload: &[u8]) -> u16 {
    u16::from_be_bytes([payload[0], payload[1]])
}

/// Sends `msg` and expects it back.
pub async fn round_trip<S>(ws: &mut ws_tokio::WebSocketStream<S>, msg: ws_tokio::Message)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.send(msg.clone()).await.unwrap();
    let back = ws.next().await.unwrap().unwrap();
    assert_eq!(back, msg);
}
