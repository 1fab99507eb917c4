//! # 8. Compression
//!
//! The permessage-deflate extension (RFC 7692) compresses each message
//! with DEFLATE. It is built in, for clients and servers alike, and turned
//! on with one setting, [`permessage_deflate`](Settings::permessage_deflate):
//! a client then offers it in its handshake request, and a server accepts
//! a client's offer. When both ends agree, messages of at least
//! [`deflate_threshold`](Settings::deflate_threshold) bytes go out
//! compressed, and compressed messages are inflated before the handler
//! sees them: `on_message` and the frame hooks always get the plain
//! payload. When the peer does not agree, the connection simply goes on
//! uncompressed.
//!
//! | setting | default | what it does |
//! | --- | --- | --- |
//! | [`permessage_deflate`](Settings::permessage_deflate) | `false` | offer (client) or accept (server) the extension |
//! | [`deflate_level`](Settings::deflate_level) | 6 | zlib's level, 0 (none) to 9 (smallest, slowest) |
//! | [`deflate_threshold`](Settings::deflate_threshold) | 64 | shorter messages are sent as they are; `usize::MAX` never compresses, but still inflates |
//! | [`deflate_window_bits`](Settings::deflate_window_bits) | 15 | the LZ77 window, 2^9 to 2^15 bytes, for this end and asked of the peer |
//! | [`deflate_no_context_takeover`](Settings::deflate_no_context_takeover) | `false` | compress each message on its own, both ways, instead of with the earlier ones as context |
//!
//! ## Why it is off by default
//!
//! - **Memory.** A connection that compresses and inflates holds some
//!   420 KiB of zlib state, against under 1 KiB without (the `ws_proto`
//!   crate's `deflate` module has the measurements). The state is
//!   allocated when a connection first needs it; a smaller window or
//!   `deflate_threshold: usize::MAX` (no compressor at all) reduces it.
//! - **Secrets.** Compressing a secret together with data an attacker
//!   chooses lets the attacker learn the secret from the compressed
//!   sizes (the CRIME and BREACH attacks). Leave compression off for such
//!   traffic, or use `deflate_no_context_takeover` and keep secrets in
//!   messages of their own.
//!
//! Compression does not weaken the limits of chapter [4](super::settings):
//! [`max_message_size`](Settings::max_message_size) applies after
//! inflation, so a small message that inflates past it (a compression
//! bomb) closes the connection with 1009 before the memory is taken.
//!
//! ## Both ends
//!
//! Both ends turn it on; the client checks in `on_open` that the server
//! agreed, then sends 64 KiB of repetitive text, which the echo brings
//! back intact.
//!
//! ```
//! use std::sync::mpsc;
//! use ws::{Builder, CloseCode, Handler, Handshake, Message, Result, Sender, Settings};
//!
//! struct Client {
//!     out: Sender,
//!     text: String,
//!     report: mpsc::Sender<(bool, bool)>,
//!     agreed: bool,
//! }
//!
//! impl Handler for Client {
//!     fn on_open(&mut self, shake: Handshake) -> Result<()> {
//!         // The server's answer names the extension when it agreed to it.
//!         self.agreed = shake
//!             .response
//!             .extensions()?
//!             .iter()
//!             .any(|ext| ext.starts_with("permessage-deflate"));
//!         self.out.send(self.text.as_str())
//!     }
//!
//!     fn on_message(&mut self, msg: Message) -> Result<()> {
//!         let intact = msg.as_text()? == self.text;
//!         self.report.send((self.agreed, intact)).unwrap();
//!         self.out.close(CloseCode::Normal)
//!     }
//! }
//!
//! let settings = Settings { permessage_deflate: true, ..Settings::default() };
//! # use std::{thread, time::Duration};
//! # let (tx, rx) = mpsc::channel();
//! let server = thread::spawn(move || -> ws::Result<()> {
//!     let ws = Builder::new()
//!         .with_settings(settings)
//!         .build(|out: Sender| move |msg| out.send(msg))?
//!         .bind("127.0.0.1:0")?;
//! #   tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//!     ws.run().map(drop)
//! });
//! # let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! let (report, reports) = mpsc::channel();
//! let text = "all work and no play makes a dull echo; ".repeat(1600);
//! let mut client = Builder::new().with_settings(settings).build(|out| Client {
//!     out,
//!     text: text.clone(),
//!     report: report.clone(),
//!     agreed: false,
//! })?;
//! client.connect(format!("ws://{addr}/").parse()?)?;
//! client.run()?;
//! assert_eq!(reports.try_recv()?, (true, true));
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## From ws-rs
//!
//! ws-rs offered permessage-deflate through its optional `DeflateHandler`,
//! a wrapper around each handler (cargo feature `permessage-deflate`).
//! Here it is a setting of the `WebSocket`, for every connection. For
//! such programs, [`crate::deflate`] has ws-rs's
//! [`DeflateHandler`](crate::deflate::DeflateHandler),
//! [`DeflateBuilder`](crate::deflate::DeflateBuilder) and
//! [`DeflateSettings`](crate::deflate::DeflateSettings), mapped onto this
//! built-in compression for the connections whose handler they wrap, so
//! that they build unchanged and compress.
//!
//! This is the last chapter; the [guide's contents](super) list them all.

#[allow(unused_imports)] // for the intra-doc links above
use crate::Settings;
