//! permessage-deflate (RFC 7692) for chosen connections, with ws-rs's
//! `ws::deflate` API: [`DeflateHandler`], [`DeflateBuilder`] and
//! [`DeflateSettings`].
//!
//! In ws-rs these types did the compression themselves, inside the handler.
//! Here the protocol core does it for every connection that agreed to it
//! in its handshake, so the wrapper only says that *its* connection uses
//! permessage-deflate, and with which parameters: it answers
//! [`Handler::permessage_deflate`] with its [`DeflateSettings`] and hands
//! every other callback to the handler it wraps, unchanged. A client
//! wrapped in it offers the extension; a server wrapped in it accepts a
//! client's offer. Connections of the same `WebSocket` whose handler is not
//! wrapped follow [`Settings::permessage_deflate`] (off by default).
//!
//! ```no_run
//! use ws::deflate::DeflateHandler;
//!
//! // An echo server whose connections are compressed when the client
//! // offers permessage-deflate.
//! ws::listen("127.0.0.1:3012", |out: ws::Sender| {
//!     DeflateHandler::new(move |msg| out.send(msg))
//! })
//! .unwrap();
//! ```
//!
//! However many connections compress, their compressors and decompressors
//! share one process-wide memory [`budget`] (256 MiB by default, some 650
//! compressing connections): past it, new connections are accepted without
//! compression and unused compressors are not made, so messages go out
//! uncompressed. Raise or lower it once at start-up with
//! `ws::deflate::budget::set_memory_budget`.
//!
//! Differences from ws-rs's wrapper:
//!
//! - Messages shorter than [`Settings::deflate_threshold`] (64 bytes by
//!   default) are sent uncompressed, where compressing would make them
//!   longer; the compression level is [`Settings::deflate_level`].
//! - An inflated message is bounded by [`Settings::max_message_size`], and
//!   fragments by the `WebSocket`'s fragment settings:
//!   [`DeflateSettings::fragments_capacity`] and
//!   [`DeflateSettings::fragments_grow`] are kept for source compatibility
//!   and have no effect.
//! - The core always agrees to a peer's request for no context takeover
//!   (RFC 7692 allows it and it costs only compression ratio), so
//!   [`DeflateSettings::accept_no_context_takeover`] set to `false` refuses
//!   nothing.
//! - Frames seen by [`Handler::on_frame`] and [`Handler::on_send_frame`]
//!   are the uncompressed ones, with RSV1 clear.

pub use ws_proto::deflate_budget as budget;

use crate::frame::Frame;
use crate::handler::Handler;
use crate::handshake::{Handshake, Request, Response};
use crate::message::Message;
use crate::protocol::CloseCode;
use crate::result::{Error, Result};
use crate::settings::Settings;
use crate::util::{Timeout, Token};

/// The permessage-deflate parameters of the connections a
/// [`DeflateHandler`] wraps, with ws-rs's fields and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateSettings {
    /// The base-2 logarithm of the largest LZ77 window, for both directions:
    /// this end compresses with at most this window, and asks the peer to
    /// do the same (`client_max_window_bits` / `server_max_window_bits`).
    /// Values outside 9 to 15 are taken as the nearest of them.
    /// Default: 15.
    pub max_window_bits: u8,
    /// Ask the peer to compress every message from an empty window
    /// (`server_no_context_takeover` in a client's offer,
    /// `client_no_context_takeover` in a server's answer). Default: false.
    pub request_no_context_takeover: bool,
    /// Whether this end agrees to compress every message from an empty
    /// window when the peer asks. The core always agrees, so `false` has no
    /// effect (see the [module docs](self)). Default: true.
    pub accept_no_context_takeover: bool,
    /// Kept for ws-rs source compatibility, without effect: fragments of
    /// compressed messages are bounded like any others, by
    /// [`Settings::fragments_capacity`] and [`Settings::max_fragments`].
    /// Default: 10.
    pub fragments_capacity: usize,
    /// Kept for ws-rs source compatibility, without effect (see
    /// [`fragments_capacity`](DeflateSettings::fragments_capacity)).
    /// Default: true.
    pub fragments_grow: bool,
}

impl Default for DeflateSettings {
    fn default() -> Self {
        Self {
            max_window_bits: 15,
            request_no_context_takeover: false,
            accept_no_context_takeover: true,
            fragments_capacity: 10,
            fragments_grow: true,
        }
    }
}

impl DeflateSettings {
    /// The core's configuration for these settings; level and threshold
    /// come from the `WebSocket`'s `settings`.
    pub(crate) fn core_config(&self, settings: &Settings) -> ws_proto::DeflateConfig {
        let bits = self.max_window_bits.clamp(9, 15);
        ws_proto::DeflateConfig {
            level: settings.deflate_level,
            threshold: settings.deflate_threshold,
            max_window_bits: bits,
            peer_max_window_bits: bits,
            no_context_takeover: false,
            peer_no_context_takeover: self.request_no_context_takeover,
        }
    }
}

/// Wraps handlers in [`DeflateHandler`]s with chosen [`DeflateSettings`].
///
/// ```
/// use ws::deflate::{DeflateBuilder, DeflateSettings};
///
/// let builder = *DeflateBuilder::new().with_settings(DeflateSettings {
///     max_window_bits: 12,
///     ..DeflateSettings::default()
/// });
/// let handler = builder.build(|msg: ws::Message| {
///     println!("{msg}");
///     Ok(())
/// });
/// # let _ = handler;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DeflateBuilder {
    settings: DeflateSettings,
}

impl DeflateBuilder {
    /// A builder with the default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use `settings` for the handlers built from now on.
    pub fn with_settings(&mut self, settings: DeflateSettings) -> &mut Self {
        self.settings = settings;
        self
    }

    /// Wraps `handler`, whose connection then uses permessage-deflate with
    /// this builder's settings.
    pub fn build<H: Handler>(&self, handler: H) -> DeflateHandler<H> {
        DeflateHandler {
            settings: self.settings,
            inner: handler,
        }
    }
}

/// A handler whose connection uses permessage-deflate: a client offers it,
/// a server accepts a client's offer. Every callback goes to the wrapped
/// handler unchanged; the protocol core compresses and decompresses (see
/// the [module docs](self)).
#[derive(Debug, Clone)]
pub struct DeflateHandler<H: Handler> {
    settings: DeflateSettings,
    inner: H,
}

impl<H: Handler> DeflateHandler<H> {
    /// Wraps `handler` with the default [`DeflateSettings`].
    pub fn new(handler: H) -> Self {
        DeflateBuilder::new().build(handler)
    }
}

impl<H: Handler> Handler for DeflateHandler<H> {
    fn permessage_deflate(&self) -> Option<DeflateSettings> {
        Some(self.settings)
    }

    fn on_shutdown(&mut self) {
        self.inner.on_shutdown()
    }

    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        self.inner.on_open(shake)
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.inner.on_message(msg)
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        self.inner.on_close(code, reason)
    }

    fn on_error(&mut self, err: Error) {
        self.inner.on_error(err)
    }

    fn on_drain(&mut self) -> Result<()> {
        self.inner.on_drain()
    }

    fn on_request(&mut self, req: &Request) -> Result<Response> {
        self.inner.on_request(req)
    }

    fn on_response(&mut self, res: &Response) -> Result<()> {
        self.inner.on_response(res)
    }

    fn on_timeout(&mut self, event: Token) -> Result<()> {
        self.inner.on_timeout(event)
    }

    fn on_new_timeout(&mut self, event: Token, timeout: Timeout) -> Result<()> {
        self.inner.on_new_timeout(event, timeout)
    }

    fn on_frame(&mut self, frame: Frame) -> Result<Option<Frame>> {
        self.inner.on_frame(frame)
    }

    fn on_send_frame(&mut self, frame: Frame) -> Result<Option<Frame>> {
        self.inner.on_send_frame(frame)
    }

    #[cfg(feature = "rustls")]
    fn upgrade_ssl_client(
        &mut self,
        url: &url::Url,
        config: &std::sync::Arc<rustls::ClientConfig>,
    ) -> Result<std::sync::Arc<rustls::ClientConfig>> {
        self.inner.upgrade_ssl_client(url, config)
    }

    #[cfg(feature = "rustls")]
    fn upgrade_ssl_server(
        &mut self,
        config: &std::sync::Arc<rustls::ServerConfig>,
    ) -> Result<std::sync::Arc<rustls::ServerConfig>> {
        self.inner.upgrade_ssl_server(config)
    }

    fn build_request(&mut self, url: &url::Url) -> Result<Request> {
        self.inner.build_request(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_map_onto_the_core_config() {
        let settings = Settings {
            deflate_level: 3,
            deflate_threshold: 5,
            ..Settings::default()
        };
        let ours = DeflateSettings {
            max_window_bits: 4,
            request_no_context_takeover: true,
            ..DeflateSettings::default()
        };
        let core = ours.core_config(&settings);
        assert_eq!(core.level, 3);
        assert_eq!(core.threshold, 5);
        assert_eq!((core.max_window_bits, core.peer_max_window_bits), (9, 9));
        assert!(core.peer_no_context_takeover);
        assert!(!core.no_context_takeover);
        let default = DeflateSettings::default().core_config(&Settings::default());
        assert_eq!(default, ws_proto::DeflateConfig::default());
    }

    #[test]
    fn the_wrapper_asks_for_deflate_and_passes_messages_on() {
        let mut got = Vec::new();
        {
            let mut handler = DeflateHandler::new(|msg: Message| {
                got.push(msg);
                Ok(())
            });
            assert_eq!(
                handler.permessage_deflate(),
                Some(DeflateSettings::default())
            );
            handler.on_message(Message::text("hi")).unwrap();
        }
        assert_eq!(got, [Message::text("hi")]);
        let plain = |_: Message| Ok(());
        assert_eq!(plain.permessage_deflate(), None);
    }
}
