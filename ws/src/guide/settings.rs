//! # 4. Settings and limits
//!
//! A [`WebSocket`](crate::WebSocket) made with [`WebSocket::new`](crate::WebSocket::new),
//! [`listen`](crate::listen) or [`connect`](crate::connect) uses
//! [`Settings::default`]. For others, build it with a
//! [`Builder`](crate::Builder); every field of ws-rs's `Settings` is there,
//! so struct update syntax from a ws-rs program still compiles:
//!
//! ```no_run
//! use std::time::Duration;
//! use ws::{Builder, Sender, Settings};
//!
//! let settings = Settings {
//!     max_connections: 10_000,
//!     max_message_size: 1 << 20,
//!     keepalive_interval: Some(Duration::from_secs(30)),
//!     ..Settings::default()
//! };
//! Builder::new()
//!     .with_settings(settings)
//!     .build(|out: Sender| move |msg| out.send(msg))?
//!     .listen("127.0.0.1:3012")?;
//! # Ok::<(), ws::Error>(())
//! ```
//!
//! The settings apply to every connection of that `WebSocket`, incoming
//! and outgoing.
//!
//! ## Every limit is finite
//!
//! ws-rs let a peer send frames of any size and let its buffers grow
//! without bound: one peer could exhaust the memory of the process. Here
//! every input is bounded by default, and every wait has a deadline. A peer
//! that exceeds a limit gets the close code (or, during the handshake, the
//! HTTP status) in the last column, the handler's `on_error` gets the
//! error, and nothing else is affected.
//!
//! | setting | default | bounds | a peer over it gets |
//! | --- | --- | --- | --- |
//! | [`max_message_size`](Settings::max_message_size) | 64 MiB | an incoming message, all fragments together, after decompression | 1009 |
//! | [`max_frame_size`](Settings::max_frame_size) (and ws-rs's [`max_fragment_size`](Settings::max_fragment_size); the smaller applies) | 64 MiB | an incoming frame's payload, checked on its header (a compressed frame may pass it by deflate's small overhead) | 1009 |
//! | [`max_fragments`](Settings::max_fragments) | 100,000 | the frames of one incoming message (with [`fragments_grow`](Settings::fragments_grow) off, at most [`fragments_capacity`](Settings::fragments_capacity), 10) | 1008 |
//! | [`max_handshake_bytes`](Settings::max_handshake_bytes) | 16 KiB | the HTTP request or response of the opening handshake | 431 |
//! | [`max_headers`](Settings::max_headers) | 64 | its header fields | 431 |
//! | [`handshake_timeout`](Settings::handshake_timeout) | 10 s | from the TCP connection to the end of the opening handshake | dropped |
//! | [`close_timeout`](Settings::close_timeout) | 10 s | the wait for the peer's close frame, then for the end of the TCP connection | dropped (`on_close` sees 1006) |
//! | [`message_timeout`](Settings::message_timeout) | 60 s | from a frame's first byte to the end of it and of the message it opens (a trickle is cut) | 1008 |
//! | [`write_timeout`](Settings::write_timeout) | 30 s | how long output may wait with the peer taking none of it (any progress restarts it) | dropped, output discarded (`on_close` sees 1006) |
//! | [`max_connections`](Settings::max_connections) | 10,000 | connections open at once, both directions | 503 with `Retry-After`, then closed; `on_error` hears a Capacity error |
//! | [`max_pending_handshakes`](Settings::max_pending_handshakes) | 1,024 | incoming connections still in their opening handshake | 503 with `Retry-After`, then closed |
//! | [`queue_size`](Settings::queue_size) | 5 | commands waiting per connection (the queue holds `queue_size * max_connections`) | — (`Sender` calls fail with a Queue error) |
//! | outgoing buffer cap ([`out_buffer_grow`](Settings::out_buffer_grow)) | 64 MiB, or [`out_buffer_capacity`](Settings::out_buffer_capacity) with `out_buffer_grow: false` | bytes sent and not yet written | — (sends fail, chapter [7](super::backpressure)) |
//!
//! Outgoing messages are not limited in size: they are cut into frames of
//! at most [`fragment_size`](Settings::fragment_size) (65,535 bytes) and
//! only the outgoing buffer's cap applies.
//!
//! Three deadlines are off unless set: [`keepalive_interval`](Settings::keepalive_interval)
//! sends a ping after that long without input, and drops the connection
//! when no pong comes within [`keepalive_timeout`](Settings::keepalive_timeout)
//! (20 s); [`idle_timeout`](Settings::idle_timeout) closes a connection
//! with 1001 after that long without input (chapter [5](super::timers)).
//!
//! The defaults, as the code has them (this example fails if they change):
//!
//! ```
//! use std::time::Duration;
//!
//! let s = ws::Settings::default();
//! assert_eq!(s.max_message_size, 64 << 20);
//! assert_eq!((s.max_frame_size, s.max_fragment_size), (64 << 20, 64 << 20));
//! assert_eq!((s.max_fragments, s.fragments_capacity, s.fragments_grow), (100_000, 10, true));
//! assert_eq!((s.max_handshake_bytes, s.max_headers), (16 << 10, 64));
//! assert_eq!(s.handshake_timeout, Duration::from_secs(10));
//! assert_eq!(s.close_timeout, Duration::from_secs(10));
//! assert_eq!((s.keepalive_interval, s.keepalive_timeout), (None, Duration::from_secs(20)));
//! assert_eq!(s.idle_timeout, None);
//! assert_eq!(s.write_timeout, Some(Duration::from_secs(30)));
//! assert_eq!(s.message_timeout, Some(Duration::from_secs(60)));
//! assert_eq!((s.max_connections, s.queue_size), (10_000, 5));
//! assert_eq!(s.max_pending_handshakes, 1024);
//! assert_eq!((s.out_buffer_grow, s.out_buffer_capacity), (true, 2048));
//! assert_eq!((s.out_buffer_high_water, s.out_buffer_low_water), (1 << 20, 256 << 10));
//! assert!(!s.close_on_write_cap);
//! assert_eq!(s.fragment_size, 65_535);
//! assert!(s.masking_strict && s.key_strict && !s.method_strict);
//! assert!(!s.permessage_deflate);
//! ```
//!
//! ## Strict by default
//!
//! [`masking_strict`](Settings::masking_strict) and
//! [`key_strict`](Settings::key_strict) are on (ws-rs: off), as RFC 6455
//! requires: a server fails a connection whose client sends an unmasked
//! frame (1002), and refuses a `Sec-WebSocket-Key` that is not 16 bytes in
//! base64 (400). A client always checks the server's
//! `Sec-WebSocket-Accept`. [`method_strict`](Settings::method_strict) (off)
//! answers a request whose method is not `GET` with 405.
//!
//! ## A limit at work
//!
//! A server that takes messages of at most 1 KiB, and a client that sends
//! 2 KiB: the server closes the connection with 1009 before it buffers the
//! message, and the client's `on_close` says so.
//!
//! ```
//! use std::sync::mpsc;
//! use ws::{Builder, CloseCode, Handler, Handshake, Result, Sender, Settings};
//!
//! struct Client {
//!     out: Sender,
//!     closed: mpsc::Sender<CloseCode>,
//! }
//!
//! impl Handler for Client {
//!     fn on_open(&mut self, _: Handshake) -> Result<()> {
//!         self.out.send(vec![0u8; 2048])
//!     }
//!
//!     fn on_close(&mut self, code: CloseCode, _: &str) {
//!         self.closed.send(code).unwrap();
//!     }
//! }
//!
//! # use std::{thread, time::Duration};
//! # let (tx, rx) = mpsc::channel();
//! let server = thread::spawn(move || -> ws::Result<()> {
//!     let settings = Settings { max_message_size: 1024, ..Settings::default() };
//!     let ws = Builder::new()
//!         .with_settings(settings)
//!         .build(|out: Sender| move |msg| out.send(msg))?
//!         .bind("127.0.0.1:0")?;
//! #   tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//!     ws.run().map(drop)
//! });
//! # let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! let (closed, codes) = mpsc::channel();
//! ws::connect(format!("ws://{addr}/"), |out| Client { out, closed: closed.clone() })?;
//! assert_eq!(codes.try_recv()?, CloseCode::Size);
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Next: [timers](super::timers).

#[allow(unused_imports)] // for the intra-doc links above
use crate::Settings;
