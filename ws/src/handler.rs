//! The application's side of a connection ([`Handler`]) and of a whole
//! `WebSocket` ([`Factory`]).

use crate::frame::Frame;
use crate::handshake::{Handshake, Request, Response};
use crate::message::Message;
use crate::protocol::CloseCode;
use crate::result::{Error, ErrorKind, Result};
use crate::sender::Sender;
use crate::util::{Timeout, Token};

/// The callbacks of one WebSocket connection.
///
/// Every method has a default, so a handler implements only what it needs.
/// Methods returning `Result` may fail: the error goes to
/// [`Handler::on_error`] and the connection is closed with the code that fits
/// the error's kind (1011 for Internal and Custom errors, 1009 for Capacity,
/// 1002 for Protocol, 1007 for Encoding).
///
/// A closure `FnMut(Message) -> Result<()>` is a handler whose
/// `on_message` is the closure:
///
/// ```no_run
/// ws::listen("127.0.0.1:3012", |out: ws::Sender| move |msg| out.send(msg)).unwrap();
/// ```
///
/// # Lifecycle
///
/// `on_request` (server) or `build_request` then `on_response` (client),
/// then `on_open` once the opening handshake succeeded. If `on_open`
/// returned `Ok`, `on_close` runs exactly once when the connection ends, and
/// no callback runs after it. Errors along the way go to `on_error`.
///
/// # Panics
///
/// A handler that panics takes down only its own connection: the panic is
/// caught, the connection is closed with 1011 and its handler is not called
/// again (`on_close` included). ws-rs took every connection of the
/// `WebSocket` down with it.
pub trait Handler {
    /// The `WebSocket` is shutting down (after `Sender::shutdown`); the
    /// connection is then closed with 1001 (going away).
    fn on_shutdown(&mut self) {}

    /// The opening handshake succeeded. Returning an error closes the
    /// connection, and then `on_close` is not called.
    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        let _ = shake;
        Ok(())
    }

    /// A complete message arrived.
    fn on_message(&mut self, msg: Message) -> Result<()> {
        let _ = msg;
        Ok(())
    }

    /// The connection is closing or closed: the peer's code and reason when it
    /// closed (or answered our close), ours when we failed the connection,
    /// [`CloseCode::Abnormal`] when no close frame was exchanged.
    fn on_close(&mut self, code: CloseCode, reason: &str) {
        let _ = (code, reason);
    }

    /// Something went wrong: a protocol violation by the peer, a failed
    /// handshake, an I/O error, a timeout, or an error returned by another
    /// method of this handler.
    ///
    /// The default logs the error through the `log` crate at the `error` level (a reset by
    /// the peer, `ECONNRESET`, only at `debug`), as ws-rs did; without a logger installed it
    /// prints nothing.
    fn on_error(&mut self, err: Error) {
        match &err.kind {
            ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset => {
                log::debug!("{err}");
            }
            _ => log::error!("{err}"),
        }
    }

    /// The connection's outgoing buffer drained: after the bytes accepted
    /// and not yet written passed
    /// [`Settings::out_buffer_high_water`](crate::Settings::out_buffer_high_water),
    /// or after a send was refused for the cap, they fell to
    /// [`Settings::out_buffer_low_water`](crate::Settings::out_buffer_low_water)
    /// or below. Go on sending here. Called once each time, never before
    /// `on_open` nor after `on_close`; an error is handled as from any
    /// other method.
    ///
    /// An addition over ws-rs, which had no back-pressure (see
    /// [`Sender`]'s Back-pressure section). The default does nothing.
    fn on_drain(&mut self) -> Result<()> {
        Ok(())
    }

    /// Server: the client's handshake request arrived. Return the response:
    /// a `101` from [`Response::from_request`] (the default) accepts the
    /// upgrade, with the subprotocol and extra headers it carries; any other
    /// status is sent as is, with its body, and the connection closes (this
    /// is how a server serves a page over plain HTTP). Returning an error
    /// answers `400` (Protocol errors) or `500`.
    fn on_request(&mut self, req: &Request) -> Result<Response> {
        Response::from_request(req)
    }

    /// Client: the server's `101` response arrived. Returning an error
    /// closes the connection.
    fn on_response(&mut self, res: &Response) -> Result<()> {
        let _ = res;
        Ok(())
    }

    /// A timeout set with `Sender::timeout` fired, with the token given then.
    fn on_timeout(&mut self, event: Token) -> Result<()> {
        let _ = event;
        Ok(())
    }

    /// A timeout was scheduled; `timeout` cancels it with `Sender::cancel`.
    fn on_new_timeout(&mut self, event: Token, timeout: Timeout) -> Result<()> {
        let _ = (event, timeout);
        Ok(())
    }

    /// A message, ping or pong arrived, before `on_message` sees it. Return
    /// it (possibly changed) to let it through, or `None` to drop it.
    ///
    /// Unlike ws-rs, the hook sees what the protocol core has already
    /// checked: a message comes as one final frame with its fragments joined
    /// (Text or Binary), and a ping has already been answered. Changing a
    /// message frame's payload or opcode changes what `on_message` gets (a
    /// text frame must stay UTF-8, or the connection closes with 1007);
    /// what is returned for a ping or pong is not used. Close frames are not
    /// shown: `on_close` reports them.
    ///
    /// Only called when [`Settings::frame_hooks`](crate::Settings::frame_hooks)
    /// is on (the default).
    fn on_frame(&mut self, frame: Frame) -> Result<Option<Frame>> {
        Ok(Some(frame))
    }

    /// A message, ping or pong given to [`Sender`] is about to be sent (as
    /// one final frame). Return it (possibly changed: payload, opcode, even
    /// a close frame), or `None` to drop it. The frames the core sends by
    /// itself (pongs, the close handshake) do not pass through it.
    ///
    /// Only called when [`Settings::frame_hooks`](crate::Settings::frame_hooks)
    /// is on (the default).
    fn on_send_frame(&mut self, frame: Frame) -> Result<Option<Frame>> {
        Ok(Some(frame))
    }

    /// Client, `wss://` only (feature `rustls`): choose the TLS client
    /// configuration of this connection to `url`. `config` is the
    /// `WebSocket`'s (the webpki roots unless
    /// [`WebSocket::with_tls_client`](crate::WebSocket::with_tls_client)
    /// replaced them); the default returns it.
    ///
    /// ws-rs handed this hook the TCP stream and expected an OpenSSL stream
    /// back. With rustls the runtime drives the TLS connection itself (on
    /// mio, rustls's sans-IO connection inside the event loop), so the hook
    /// chooses the configuration instead of doing the I/O. An error aborts
    /// the connection before any byte is sent and goes to `on_error`.
    #[cfg(feature = "rustls")]
    fn upgrade_ssl_client(
        &mut self,
        url: &url::Url,
        config: &std::sync::Arc<rustls::ClientConfig>,
    ) -> Result<std::sync::Arc<rustls::ClientConfig>> {
        let _ = url;
        Ok(config.clone())
    }

    /// Server, on a TLS listener only (feature `rustls`): choose the TLS
    /// server configuration for this accepted connection. `config` is the
    /// one given to
    /// [`WebSocket::with_tls_server`](crate::WebSocket::with_tls_server);
    /// the default returns it (ws-rs's default panicked). An error drops
    /// the connection before the TLS handshake and goes to `on_error`.
    #[cfg(feature = "rustls")]
    fn upgrade_ssl_server(
        &mut self,
        config: &std::sync::Arc<rustls::ServerConfig>,
    ) -> Result<std::sync::Arc<rustls::ServerConfig>> {
        Ok(config.clone())
    }

    /// Whether this connection uses permessage-deflate (RFC 7692), and with
    /// which parameters: `Some` makes a client offer it and a server accept
    /// a client's offer, whatever
    /// [`Settings::permessage_deflate`](crate::Settings::permessage_deflate)
    /// says; `None` (the default) follows the `WebSocket`'s settings.
    ///
    /// Called once, right after the factory made the handler and before
    /// the opening handshake; later answers are not asked for. ws-rs had no
    /// such method: its [`DeflateHandler`](crate::deflate::DeflateHandler)
    /// compressed inside the handler, while here the wrapper answers this
    /// and the protocol core compresses.
    fn permessage_deflate(&self) -> Option<crate::deflate::DeflateSettings> {
        None
    }

    /// Client: build the handshake request for `url`. The default is
    /// [`Request::from_url`]; override it to add headers, subprotocols or
    /// cookies.
    fn build_request(&mut self, url: &url::Url) -> Result<Request> {
        Request::from_url(url)
    }
}

impl<F> Handler for F
where
    F: FnMut(Message) -> Result<()>,
{
    fn on_message(&mut self, msg: Message) -> Result<()> {
        self(msg)
    }
}

/// Makes a [`Handler`] for each new connection of a `WebSocket`.
///
/// A closure `FnMut(Sender) -> H` is a factory:
///
/// ```no_run
/// use ws::{listen, Sender};
/// listen("127.0.0.1:3012", |out: Sender| {
///     move |msg| out.send(msg)
/// }).unwrap();
/// ```
pub trait Factory {
    /// The handler type made for each connection.
    type Handler: Handler;

    /// A connection was made; `ws` is its sender. The default of
    /// `client_connected` and `server_connected`.
    fn connection_made(&mut self, ws: Sender) -> Self::Handler;

    /// The `WebSocket` is shutting down.
    fn on_shutdown(&mut self) {}

    /// An outgoing connection was started (before the TCP connection completes).
    fn client_connected(&mut self, ws: Sender) -> Self::Handler {
        self.connection_made(ws)
    }

    /// An incoming connection was accepted.
    fn server_connected(&mut self, ws: Sender) -> Self::Handler {
        self.connection_made(ws)
    }

    /// A connection is gone; its handler is handed back, to be dropped or
    /// recycled.
    fn connection_lost(&mut self, handler: Self::Handler) {
        let _ = handler;
    }
}

impl<F, H> Factory for F
where
    H: Handler,
    F: FnMut(Sender) -> H,
{
    type Handler = H;

    fn connection_made(&mut self, out: Sender) -> H {
        self(out)
    }
}
