//! # 5. Timers
//!
//! A handler asks for a timer with [`Sender::timeout`]`(ms, token)`: `ms`
//! milliseconds later, the event loop calls the handler's
//! [`on_timeout`](Handler::on_timeout) with the same [`Token`]. The token
//! is the application's own number (`Token(1)`), which the library never
//! reads; it tells one timer from another. Right after scheduling, the
//! loop calls [`on_new_timeout`](Handler::on_new_timeout) with the token
//! and a [`Timeout`] handle: keep the handle to cancel the timer with
//! [`Sender::cancel`]. Cancelling a timer that has fired already does
//! nothing.
//!
//! Timers belong to their connection: they fire on the event loop's
//! thread, between other events of that connection, and those still
//! pending when the connection closes are cancelled. A timer is a
//! one-shot; a periodic one schedules the next from `on_timeout`.
//!
//! ## A client that pings
//!
//! It pings the server every 20 ms, counts the pongs that come back
//! (control frames are seen in [`on_frame`](Handler::on_frame)), and closes
//! after the third. A second timer gives up after 5 s, should the pongs not
//! come; it is cancelled when they do.
//!
//! ```
//! use std::sync::mpsc;
//! use ws::util::{Timeout, Token};
//! use ws::{CloseCode, Frame, Handler, Handshake, OpCode, Result, Sender};
//!
//! const PING: Token = Token(1);
//! const GIVE_UP: Token = Token(2);
//!
//! struct Pinger {
//!     out: Sender,
//!     pongs: u32,
//!     give_up: Option<Timeout>,
//!     report: mpsc::Sender<(u32, CloseCode)>,
//! }
//!
//! impl Handler for Pinger {
//!     fn on_open(&mut self, _: Handshake) -> Result<()> {
//!         self.out.timeout(20, PING)?;
//!         self.out.timeout(5_000, GIVE_UP)
//!     }
//!
//!     fn on_new_timeout(&mut self, event: Token, timeout: Timeout) -> Result<()> {
//!         if event == GIVE_UP {
//!             self.give_up = Some(timeout);
//!         }
//!         Ok(())
//!     }
//!
//!     fn on_timeout(&mut self, event: Token) -> Result<()> {
//!         match event {
//!             PING if self.pongs < 3 => {
//!                 self.out.ping(b"still there?".to_vec())?;
//!                 self.out.timeout(20, PING)
//!             }
//!             GIVE_UP => self.out.close(CloseCode::Away),
//!             _ => Ok(()),
//!         }
//!     }
//!
//!     fn on_frame(&mut self, frame: Frame) -> Result<Option<Frame>> {
//!         if frame.opcode() == OpCode::Pong {
//!             self.pongs += 1;
//!             if self.pongs == 3 {
//!                 if let Some(give_up) = self.give_up.take() {
//!                     self.out.cancel(give_up)?;
//!                 }
//!                 self.out.close(CloseCode::Normal)?;
//!             }
//!         }
//!         // Let the frame through.
//!         Ok(Some(frame))
//!     }
//!
//!     fn on_close(&mut self, code: CloseCode, _: &str) {
//!         self.report.send((self.pongs, code)).unwrap();
//!     }
//! }
//!
//! # use std::{thread, time::Duration};
//! # let (tx, rx) = mpsc::channel();
//! # let server = thread::spawn(move || -> ws::Result<()> {
//! #     let ws = ws::WebSocket::new(|out: Sender| move |msg| out.send(msg))?.bind("127.0.0.1:0")?;
//! #     tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//! #     ws.run().map(drop)
//! # });
//! # let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//! let (report, reports) = mpsc::channel();
//! ws::connect(format!("ws://{addr}/"), |out| Pinger {
//!     out,
//!     pongs: 0,
//!     give_up: None,
//!     report: report.clone(),
//! })?;
//! // The server answered every ping (the library does that by itself), and
//! // the give-up timer never fired.
//! assert_eq!(reports.try_recv()?, (3, CloseCode::Normal));
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## From ws-rs
//!
//! ws-rs passed `mio_extras::timer::Timeout` to `on_new_timeout`, and
//! exported mio's `Token`. No mio type is part of this crate's API, so a
//! handler that names `mio_extras::timer::Timeout` (ws-rs's `pong.rs`
//! example does) does not compile: write [`ws::util::Timeout`](Timeout)
//! instead. [`ws::util::Token`](Token) keeps mio's shape, a public `usize`,
//! so `Token(1)` and `token.0` still work.
//!
//! ## Deadlines the library keeps itself
//!
//! Some timers need no code: the settings of chapter [4](super::settings)
//! keep them for every connection.
//!
//! - [`keepalive_interval`](crate::Settings::keepalive_interval) (off by
//!   default): a ping after that long without input from the peer, which
//!   keeps proxies from dropping a quiet connection; no pong within
//!   [`keepalive_timeout`](crate::Settings::keepalive_timeout) (20 s) and
//!   the connection is dropped, `on_close` seeing 1006 and `on_error` a
//!   Timeout error. A dead peer is found this way.
//! - [`idle_timeout`](crate::Settings::idle_timeout) (off by default):
//!   closes a connection with 1001 after that long without input.
//! - [`handshake_timeout`](crate::Settings::handshake_timeout) and
//!   [`close_timeout`](crate::Settings::close_timeout) (10 s each) bound
//!   the opening and closing handshakes, which in ws-rs could wait forever.
//!
//! Next: [TLS](super::tls).

#[allow(unused_imports)] // for the intra-doc links above
use crate::{
    Handler, Sender,
    util::{Timeout, Token},
};
