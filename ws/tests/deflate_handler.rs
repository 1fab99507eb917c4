//! `ws::deflate::DeflateHandler`, as ws-rs programs use it, turns on
//! permessage-deflate for its own connection, on both runtimes: seen on the
//! wire by a raw TCP peer (RSV1 set, a frame smaller than the message), while
//! a connection whose handler is not wrapped, on the same build and with the
//! same settings, is not compressed.

#[macro_use]
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::{Log, Server, run_client, within};
use ws::deflate::{DeflateBuilder, DeflateHandler, DeflateSettings};
use ws::{CloseCode, Handshake, Message, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(30);

/// A text that compresses well, longer than the default threshold.
fn payload() -> String {
    "permessage-deflate, per connection. ".repeat(40)
}

/// A frame as it is on the wire.
#[derive(Debug)]
struct WireFrame {
    first: u8,
    payload: Vec<u8>,
}

impl WireFrame {
    fn rsv1(&self) -> bool {
        self.first & 0x40 != 0
    }
}

/// Both ends of a raw TCP connection: the handshake head, then frames.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    fn new(stream: TcpStream) -> Wire {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Wire {
            stream,
            buf: Vec::new(),
        }
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).expect("read");
        assert!(n > 0, "the peer closed early");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    fn head(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                self.buf.drain(..end + 4);
                return head;
            }
            self.fill();
        }
    }

    /// The next frame, unmasked.
    fn frame(&mut self) -> WireFrame {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return frame;
            }
            self.fill();
        }
    }
}

/// One frame from the front of `buf`, and the bytes it took.
fn parse(buf: &[u8]) -> Option<(WireFrame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let masked = buf[1] & 0x80 != 0;
    let (len, mut at) = match buf[1] & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().unwrap();
            (u64::from_be_bytes(bytes) as usize, 10)
        }
        n => (usize::from(n), 2),
    };
    let mask = if masked {
        let key: [u8; 4] = buf.get(at..at + 4)?.try_into().unwrap();
        at += 4;
        Some(key)
    } else {
        None
    };
    let mut payload = buf.get(at..at + len)?.to_vec();
    if let Some(key) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Some((
        WireFrame {
            first: buf[0],
            payload,
        },
        at + len,
    ))
}

/// Inflates a permessage-deflate message payload with the core's inflater.
fn inflate(compressed: &[u8]) -> Vec<u8> {
    let mut inflater = ws_proto::Inflater::new(15);
    let mut out = Vec::new();
    inflater.inflate(compressed, &mut out, 1 << 20).unwrap();
    inflater.finish(&mut out, 1 << 20).unwrap();
    out
}

/// The value of header `name` in an HTTP head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A raw client offering permessage-deflate: returns the server's 101 head
/// and its first frame.
fn offer_and_read(addr: SocketAddr) -> (String, WireFrame) {
    let mut wire = Wire::new(TcpStream::connect(addr).unwrap());
    wire.stream
        .write_all(
            format!(
                "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
                support::KEY
            )
            .as_bytes(),
        )
        .unwrap();
    let head = wire.head();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let frame = wire.frame();
    // A masked, empty close frame: the server closes in turn.
    let _ = wire.stream.write_all(&[0x88, 0x80, 0, 0, 0, 0]);
    (head, frame)
}

/// The server of a ws-rs program: it greets each client with a long text.
struct Greeter {
    out: Sender,
}

impl ws::Handler for Greeter {
    fn on_open(&mut self, _: Handshake) -> ws::Result<()> {
        self.out.send(payload())
    }
}

/// A server whose handlers are wrapped in `DeflateHandler` sends its
/// greeting compressed: RSV1 set, fewer bytes than the text, and the bytes
/// inflate to the text.
fn wrapped_server_compresses(runtime: Runtime) {
    let server = Server::start(runtime, Settings::default(), || {
        |out: Sender| DeflateHandler::new(Greeter { out })
    });
    let (head, frame) = offer_and_read(server.addr);
    let agreed = header(&head, "Sec-WebSocket-Extensions").expect("no extension agreed");
    assert!(agreed.starts_with("permessage-deflate"), "{head}");
    assert_eq!(frame.first & 0x0f, 1, "a text frame: {frame:?}");
    assert!(frame.rsv1(), "RSV1 is set on a compressed message");
    assert!(
        frame.payload.len() < payload().len() / 4,
        "{} bytes on the wire for a {}-byte text",
        frame.payload.len(),
        payload().len()
    );
    assert_eq!(inflate(&frame.payload), payload().as_bytes());
    server.stop().unwrap();
}

/// The same server without the wrapper, on the same build and with the same
/// (default) settings, declines the offer and sends the text as it is.
fn unwrapped_server_does_not_compress(runtime: Runtime) {
    let server = Server::start(runtime, Settings::default(), || {
        |out: Sender| Greeter { out }
    });
    let (head, frame) = offer_and_read(server.addr);
    assert_eq!(header(&head, "Sec-WebSocket-Extensions"), None, "{head}");
    assert!(!frame.rsv1(), "no RSV1 without the extension");
    assert_eq!(frame.payload, payload().as_bytes());
    server.stop().unwrap();
}

/// A client wrapped by a `DeflateBuilder` offers the extension with its
/// settings, and once the (raw) server agrees, sends compressed frames.
fn wrapped_client_offers_and_compresses(runtime: Runtime) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    let peer = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut wire = Wire::new(stream);
        let head = wire.head();
        let key = header(&head, "Sec-WebSocket-Key").unwrap().to_owned();
        let offer = header(&head, "Sec-WebSocket-Extensions").map(str::to_owned);
        wire.stream
            .write_all(
                format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\
                     Sec-WebSocket-Extensions: permessage-deflate; \
                     server_no_context_takeover; server_max_window_bits=12\r\n\r\n",
                    ws_proto::accept_key(key.as_bytes())
                )
                .as_bytes(),
            )
            .unwrap();
        let frame = wire.frame();
        // An unmasked close frame, 1000: the client answers and ends.
        let _ = wire.stream.write_all(&[0x88, 0x02, 0x03, 0xe8]);
        tx.send((offer, frame)).unwrap();
    });
    let builder = *DeflateBuilder::new().with_settings(DeflateSettings {
        max_window_bits: 12,
        request_no_context_takeover: true,
        ..DeflateSettings::default()
    });
    run_client(
        runtime,
        Settings::default(),
        &format!("ws://{addr}/"),
        move |out: Sender| {
            out.send(payload()).unwrap();
            builder.build(|_: Message| Ok(()))
        },
    )
    .unwrap();
    let (offer, frame) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    peer.join().unwrap();
    let offer = offer.expect("the client offered no extension");
    assert!(offer.starts_with("permessage-deflate"), "{offer}");
    assert!(offer.contains("server_no_context_takeover"), "{offer}");
    assert!(offer.contains("server_max_window_bits=12"), "{offer}");
    assert!(frame.rsv1(), "RSV1 is set on a compressed message");
    assert!(frame.payload.len() < payload().len() / 4, "{frame:?}");
    assert_eq!(inflate(&frame.payload), payload().as_bytes());
}

/// ws-rs's shape end to end: a wrapped client and a wrapped server echo a
/// long text; both see it whole, and the server saw it was agreed.
fn wrapped_client_and_server_echo(runtime: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(runtime, Settings::default(), move || {
        move |out: Sender| {
            let log = server_log.clone();
            DeflateHandler::new(Echo { out, log })
        }
    });
    let client_log = log.clone();
    run_client(
        runtime,
        Settings::default(),
        &server.url(),
        move |out: Sender| {
            out.send(payload()).unwrap();
            let log = client_log.clone();
            DeflateHandler::new(move |msg: Message| {
                log.push(format!("client got {}", msg.len()));
                assert_eq!(msg.as_text().unwrap(), payload());
                out.close(CloseCode::Normal)
            })
        },
    )
    .unwrap();
    let want = format!("client got {}", payload().len());
    log.wait_for("the echo", |e| e.contains(&want));
    assert!(
        log.entries()
            .iter()
            .any(|e| e.starts_with("agreed permessage-deflate")),
        "{:?}",
        log.entries()
    );
    server.stop().unwrap();
}

struct Echo {
    out: Sender,
    log: Log,
}

impl ws::Handler for Echo {
    fn on_open(&mut self, shake: Handshake) -> ws::Result<()> {
        if let Some(ext) = shake.response.extensions()?.first() {
            self.log.push(format!("agreed {ext}"));
        }
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        self.out.send(msg)
    }
}

/// The shape of ws-rs's own tests/deflate.rs: one `WebSocket` connects
/// to itself (the connection asked for before it listens), both ends
/// wrapped, with messages cut into 4-byte fragments; the client checks the
/// echo and shuts the `WebSocket` down.
fn one_websocket_echoes_to_itself_in_fragments(runtime: Runtime) {
    const MESSAGE: &str = "this is the message that will be sent as a message";
    for fragment_size in [4, usize::MAX] {
        let mut name = "Client";
        let log = Log::default();
        let record = log.clone();
        let ws = ws::Builder::new()
            .with_settings(Settings {
                fragment_size,
                ..Settings::default()
            })
            .with_runtime(runtime)
            .build(move |output: Sender| {
                if name == "Client" {
                    output.send(MESSAGE).unwrap();
                }
                let me = name;
                let record = record.clone();
                name = "Server";
                DeflateHandler::new(move |msg: Message| {
                    if me == "Server" {
                        output.send(msg)
                    } else {
                        record.push(msg.as_text()?.to_owned());
                        output.shutdown()
                    }
                })
            })
            .unwrap();
        let mut ws = ws.bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}", ws.local_addr().unwrap());
        ws.connect(url::Url::parse(&url).unwrap()).unwrap();
        ws.run().unwrap();
        assert_eq!(log.entries(), [MESSAGE], "fragment size {fragment_size}");
    }
}

runtimes!(
    one_websocket_echoes_to_itself_in_fragments,
    wrapped_server_compresses,
    unwrapped_server_does_not_compress,
    wrapped_client_offers_and_compresses,
    wrapped_client_and_server_echo,
);
