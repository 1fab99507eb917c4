//! # 7. Back-pressure
//!
//! [`Sender::send`] never blocks: it hands the message to the connection's
//! outgoing buffer, and the event loop writes it when the socket takes
//! it. A peer that reads slower than the application sends (a slow
//! network, a stalled browser tab, a client that stopped reading on
//! purpose) makes that buffer grow. In ws-rs it grew without bound. Here
//! it has a cap, and the application can see how full it is and when it
//! empties. This is an addition over ws-rs; a program that never looks at
//! it behaves as before, except that a send past the cap fails.
//!
//! - [`Sender::buffered_amount`] is what was accepted by `send` and not
//!   yet written to the socket, in bytes.
//! - The cap: 64 MiB by default, or
//!   [`out_buffer_capacity`](Settings::out_buffer_capacity) when
//!   [`out_buffer_grow`](Settings::out_buffer_grow) is `false`. A send
//!   that would take the buffered amount past it fails at once with a
//!   Capacity error and queues nothing; the connection goes on. With
//!   [`close_on_write_cap`](Settings::close_on_write_cap) the connection is
//!   also closed with 1008, for servers that would rather drop a slow peer
//!   than skip its messages. Replies the library owes the peer (pongs, the
//!   close echo) are always queued.
//! - [`Handler::on_drain`] is called when the buffered amount, after
//!   passing [`out_buffer_high_water`](Settings::out_buffer_high_water)
//!   (1 MiB) or after a refused send, falls to
//!   [`out_buffer_low_water`](Settings::out_buffer_low_water) (256 KiB):
//!   the time to go on sending.
//! - A [`broadcast`](Sender::broadcast) is checked against each
//!   connection's own cap: one slow connection is skipped (its handler's
//!   `on_error` gets the Capacity error) while the others still get the
//!   message.
//!
//! So a peer that stops reading costs at most the cap, whatever the
//! application sends. Meanwhile the event loop stops reading from it while
//! more than 128 KiB wait for it, so an echo cannot pile up either; and
//! once nothing has moved for [`write_timeout`](Settings::write_timeout)
//! (30 s) the connection is dropped and its buffer freed.
//!
//! ## Streaming
//!
//! A server that streams 4 MiB to each client in 16 KiB messages, without
//! ever holding more than its high-water mark: it sends while the buffered
//! amount is under the mark, stops, and goes on in `on_drain`. The client
//! counts what arrives and closes when it has everything.
//!
//! ```
//! use std::sync::mpsc;
//! use ws::{Builder, CloseCode, Handler, Handshake, Message, Result, Sender, Settings};
//!
//! const CHUNK: usize = 16 << 10;
//! const TOTAL: usize = 4 << 20;
//! const HIGH_WATER: usize = 256 << 10;
//!
//! struct Streamer {
//!     out: Sender,
//!     sent: usize,
//!     drains: u32,
//!     report: mpsc::Sender<u32>,
//! }
//!
//! impl Streamer {
//!     fn pump(&mut self) -> Result<()> {
//!         while self.sent < TOTAL && self.out.buffered_amount() <= HIGH_WATER {
//!             self.out.send(vec![b'x'; CHUNK])?;
//!             self.sent += CHUNK;
//!         }
//!         // Over the mark: `on_drain` is owed, and will call `pump` again.
//!         Ok(())
//!     }
//! }
//!
//! impl Handler for Streamer {
//!     fn on_open(&mut self, _: Handshake) -> Result<()> {
//!         self.pump()
//!     }
//!
//!     fn on_drain(&mut self) -> Result<()> {
//!         self.drains += 1;
//!         self.pump()
//!     }
//!
//!     fn on_close(&mut self, _: CloseCode, _: &str) {
//!         self.report.send(self.drains).unwrap();
//!     }
//! }
//!
//! # use std::{thread, time::Duration};
//! # let (tx, rx) = mpsc::channel();
//! let (report, drains) = mpsc::channel();
//! let server = thread::spawn(move || -> ws::Result<()> {
//!     let settings = Settings {
//!         out_buffer_high_water: HIGH_WATER,
//!         out_buffer_low_water: HIGH_WATER / 4,
//!         ..Settings::default()
//!     };
//!     let ws = Builder::new()
//!         .with_settings(settings)
//!         .build(|out| Streamer { out, sent: 0, drains: 0, report: report.clone() })?
//!         .bind("127.0.0.1:0")?;
//! #   tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//!     ws.run().map(drop)
//! });
//! # let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! let (done, received) = mpsc::channel();
//! ws::connect(format!("ws://{addr}/"), |out: Sender| {
//!     let done = done.clone();
//!     let mut got = 0;
//!     move |msg: Message| {
//!         got += msg.len();
//!         if got >= TOTAL {
//!             done.send(got).unwrap();
//!             out.close(CloseCode::Normal)?;
//!         }
//!         Ok(())
//!     }
//! })?;
//! assert_eq!(received.try_recv()?, TOTAL);
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! // The server paused at the mark at least once, and went on in `on_drain`.
//! assert!(drains.recv_timeout(Duration::from_secs(10))? >= 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Next: [compression](super::compression).

#[allow(unused_imports)] // for the intra-doc links above
use crate::{Handler, Sender, Settings};
