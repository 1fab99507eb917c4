//! The crate's error type: an [`ErrorKind`] plus human-readable details, as in ws-rs.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::str::Utf8Error;
use std::string::FromUtf8Error;

/// `std::result::Result` with this crate's [`Error`]; what every `Handler` method and every
/// `Sender` command returns.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong, possibly carrying the underlying error.
///
/// The kind decides what happens to the connection when a `Handler` method returns an error
/// of that kind (the close code sent, and whether a `panic_on_*` setting applies); the same
/// kinds describe errors the connection reports to `Handler::on_error`.
///
/// Differences from ws-rs: `Queue` carries this crate's [`QueueError`] instead of a mio
/// channel error; [`ErrorKind::Timeout`] is new (the core enforces deadlines that ws-rs did
/// not have); the `Ssl` and `SslHandshake` kinds of ws-rs's `ssl` feature do not exist: a failed
/// TLS handshake (feature `rustls`) is an `Io` error carrying rustls's error. The enum is `#[non_exhaustive]`: match it with a `_` arm.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An internal application error.
    ///
    /// When a `Handler` method returns it, the connection is closed with
    /// [`CloseCode::Error`](crate::CloseCode::Error) (1011), or the event loop panics if
    /// `Settings::panic_on_internal` is set (the default, as in ws-rs).
    Internal,
    /// A size limit was exceeded: a message or frame larger than `Settings::max_message_size`
    /// / `max_frame_size`, too many fragments, an oversized handshake, a full buffer, or no
    /// room for another connection (`Settings::max_connections`).
    ///
    /// When a `Handler` method returns it, the connection is closed with
    /// [`CloseCode::Size`](crate::CloseCode::Size) (1009). When a peer exceeds a limit the
    /// core has already closed with 1009 (1008 for too many fragments).
    Capacity,
    /// A violation of the WebSocket protocol, by the peer (including a failed opening
    /// handshake) or, for a command issued in the wrong state, by the application.
    ///
    /// An open connection is closed with [`CloseCode::Protocol`](crate::CloseCode::Protocol)
    /// (1002); during the opening handshake a server answers with an HTTP error status
    /// (usually `400 Bad Request`) instead.
    Protocol,
    /// Data that must be UTF-8 (a text message, a close reason, a header value read as text)
    /// was not.
    ///
    /// An open connection is closed with [`CloseCode::Invalid`](crate::CloseCode::Invalid)
    /// (1007). For invalid UTF-8 from a peer the core does not report the position, so the
    /// `Utf8Error` does not locate the bad byte; `details` says what was invalid.
    Encoding(Utf8Error),
    /// An I/O error from the socket or the operating system. The connection is dropped.
    Io(io::Error),
    /// An HTTP message could not be parsed by `httparse`.
    ///
    /// Differs from ws-rs: the library itself no longer raises this kind, since the core
    /// reports a malformed handshake as a [`ErrorKind::Protocol`] error (and an oversized
    /// one as [`ErrorKind::Capacity`]); it remains so that code matching it compiles and so
    /// that applications can propagate `httparse` errors with `?`.
    Http(httparse::Error),
    /// A command could not be queued for the event loop (see [`QueueError`]).
    ///
    /// Raising `Settings::queue_size` or `max_connections`, or returning from the handler so
    /// that the event loop can drain its queue, may relieve a full queue.
    Queue(QueueError),
    /// A deadline from the [`Settings`](crate::Settings) expired: the opening handshake
    /// (`handshake_timeout`), the closing handshake (`close_timeout`), the wait for a pong
    /// after a keepalive ping (`keepalive_timeout`) or a quiet connection (`idle_timeout`).
    /// `details` says which. The connection is dropped.
    ///
    /// New in this crate: ws-rs had no built-in deadlines.
    Timeout,
    /// An application-defined error, passed through to the handler unchanged; the library
    /// itself never raises it.
    ///
    /// When a `Handler` method returns it, the connection is closed with
    /// [`CloseCode::Error`](crate::CloseCode::Error) (1011). Boxing costs an allocation.
    Custom(Box<dyn StdError + Send + Sync>),
}

/// Why a command (a send, a close, a timeout ...) could not be handed to the event loop.
///
/// Carried by [`ErrorKind::Queue`]. Replaces ws-rs's `mio::channel::SendError<Command>`, so
/// that no mio type appears in the public API; unlike that error it does not hand the
/// rejected command back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueueError {
    /// The queue already holds as many commands as the settings allow
    /// (`Settings::queue_size` per connection).
    Full,
    /// The event loop, or the connection the command was meant for, is gone.
    Disconnected,
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueueError::Full => "the event loop queue is full",
            QueueError::Disconnected => "the event loop is no longer running",
        })
    }
}

impl StdError for QueueError {}

/// An error of this crate: its [`ErrorKind`] and details for humans.
///
/// Build one with [`Error::new`], or convert from an underlying error with `?` (`From` is
/// implemented for `io::Error`, `Utf8Error`, `FromUtf8Error`, `httparse::Error`,
/// [`QueueError`] and boxed errors).
///
/// `Display` writes a short description of the kind followed by `": details"` when the
/// details are not empty; `Debug` writes `WS Error <kind>: details`, as in ws-rs.
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// More precise information for humans; may be empty.
    pub details: Cow<'static, str>,
}

impl Error {
    /// Creates an error of the given kind with details (a `&'static str` or a `String`).
    ///
    /// ```
    /// let err = ws::Error::new(ws::ErrorKind::Internal, "no such room");
    /// assert_eq!(err.to_string(), "Internal Application Error: no such room");
    /// ```
    pub fn new<I>(kind: ErrorKind, details: I) -> Error
    where
        I: Into<Cow<'static, str>>,
    {
        Error {
            kind,
            details: details.into(),
        }
    }

    /// Converts into a boxed `std::error::Error`: a [`ErrorKind::Custom`] error gives back
    /// the application's own box, any other error is boxed as is.
    ///
    /// Differs from ws-rs only in that the box is also `Send + Sync` (it still converts into
    /// a plain `Box<dyn Error>`).
    pub fn into_box(self) -> Box<dyn StdError + Send + Sync> {
        match self.kind {
            ErrorKind::Custom(err) => err,
            _ => Box::new(self),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.details.is_empty() {
            write!(f, "WS Error <{:?}>", self.kind)
        } else {
            write!(f, "WS Error <{:?}>: {}", self.kind, self.details)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Internal => f.write_str("Internal Application Error")?,
            ErrorKind::Capacity => f.write_str("WebSocket at Capacity")?,
            ErrorKind::Protocol => f.write_str("WebSocket Protocol Error")?,
            ErrorKind::Encoding(err) => write!(f, "{err}")?,
            ErrorKind::Io(err) => write!(f, "{err}")?,
            ErrorKind::Http(_) => f.write_str("Unable to parse HTTP")?,
            ErrorKind::Queue(err) => write!(f, "Unable to send signal on event loop: {err}")?,
            ErrorKind::Timeout => f.write_str("WebSocket Timeout")?,
            ErrorKind::Custom(err) => write!(f, "{err}")?,
        }
        if !self.details.is_empty() {
            write!(f, ": {}", self.details)?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.kind {
            ErrorKind::Encoding(err) => Some(err),
            ErrorKind::Io(err) => Some(err),
            ErrorKind::Http(err) => Some(err),
            ErrorKind::Queue(err) => Some(err),
            ErrorKind::Custom(err) => Some(err.as_ref()),
            ErrorKind::Internal | ErrorKind::Capacity | ErrorKind::Protocol => None,
            ErrorKind::Timeout => None,
        }
    }
}

impl From<io::Error> for Error {
    /// An [`ErrorKind::Io`] error with empty details.
    fn from(err: io::Error) -> Error {
        Error::new(ErrorKind::Io(err), "")
    }
}

impl From<Utf8Error> for Error {
    /// An [`ErrorKind::Encoding`] error with empty details.
    fn from(err: Utf8Error) -> Error {
        Error::new(ErrorKind::Encoding(err), "")
    }
}

impl From<FromUtf8Error> for Error {
    /// An [`ErrorKind::Encoding`] error with empty details (the rejected bytes are dropped).
    fn from(err: FromUtf8Error) -> Error {
        Error::new(ErrorKind::Encoding(err.utf8_error()), "")
    }
}

impl From<httparse::Error> for Error {
    /// An [`ErrorKind::Http`] error whose details say which part of the message was invalid.
    fn from(err: httparse::Error) -> Error {
        let details = err.to_string();
        Error::new(ErrorKind::Http(err), details)
    }
}

impl From<url::ParseError> for Error {
    /// An [`ErrorKind::Internal`] error saying why the URL is invalid, so that
    /// `Url::parse(..)?` works in a handler.
    fn from(err: url::ParseError) -> Error {
        Error::new(ErrorKind::Internal, format!("invalid URL: {err}"))
    }
}

impl From<ws_proto::HandshakeError> for Error {
    /// A failed opening handshake, as the core reports it: a [`ErrorKind::Capacity`] error
    /// when the request or response exceeded `Settings::max_handshake_bytes` or
    /// `max_headers`, a [`ErrorKind::Protocol`] error for anything else (malformed HTTP, a
    /// missing or wrong header, a refused status, a wrong `Sec-WebSocket-Accept` ...). The
    /// details are the core error's message.
    ///
    /// ws-rs reported malformed HTTP as [`ErrorKind::Http`] with the `httparse` error; the
    /// core does not expose that error, so such failures are Protocol errors here.
    fn from(err: ws_proto::HandshakeError) -> Error {
        let kind = match err {
            ws_proto::HandshakeError::TooLarge { .. }
            | ws_proto::HandshakeError::TooManyHeaders { .. } => ErrorKind::Capacity,
            _ => ErrorKind::Protocol,
        };
        Error::new(kind, err.to_string())
    }
}

impl From<ws_proto::ProtocolError> for Error {
    /// A protocol violation by the peer, as the core reports it (it has already queued the
    /// matching close frame): a [`ErrorKind::Capacity`] error for a frame, message or
    /// fragment count over the limits, an [`ErrorKind::Encoding`] error for invalid UTF-8 in
    /// a text message or close reason, a [`ErrorKind::Protocol`] error otherwise. The
    /// details are the core error's message.
    ///
    /// The core does not say where invalid UTF-8 was found, so the `Utf8Error` of an
    /// Encoding error made here does not locate the bad byte; rely on `details`.
    fn from(err: ws_proto::ProtocolError) -> Error {
        use ws_proto::ProtocolError as P;
        let kind = match err {
            P::FrameTooLarge { .. } | P::MessageTooLarge { .. } | P::TooManyFragments { .. } => {
                ErrorKind::Capacity
            }
            P::InvalidUtf8 | P::InvalidCloseReason => ErrorKind::Encoding(opaque_utf8_error()),
            _ => ErrorKind::Protocol,
        };
        Error::new(kind, err.to_string())
    }
}

/// A `Utf8Error` standing for invalid UTF-8 whose position is unknown.
fn opaque_utf8_error() -> Utf8Error {
    // 0xFF never appears in UTF-8 (the array is a local so that the conversion
    // is not linted as always failing).
    let invalid = [u8::MAX];
    match std::str::from_utf8(&invalid) {
        Err(err) => err,
        Ok(_) => unreachable!("0xFF is never valid UTF-8"),
    }
}

impl From<ws_proto::Error> for Error {
    /// Why a connection ended, as the core reports it in `Closed::error`:
    ///
    /// - `Protocol`: as `From<ProtocolError>` (Capacity, Encoding or Protocol);
    /// - `Handshake`: as `From<HandshakeError>` (Capacity or Protocol);
    /// - `Rejected(status)`: a [`ErrorKind::Protocol`] error (the server application refused
    ///   the handshake with that status);
    /// - `Timeout(kind)`: a [`ErrorKind::Timeout`] error whose details name the deadline;
    /// - `UnexpectedEof`: an [`ErrorKind::Io`] error of kind `UnexpectedEof`.
    fn from(err: ws_proto::Error) -> Error {
        match err {
            ws_proto::Error::Protocol(err) => Error::from(err),
            ws_proto::Error::Handshake(err) => Error::from(err),
            ws_proto::Error::Timeout(kind) => Error::new(ErrorKind::Timeout, kind.to_string()),
            ws_proto::Error::UnexpectedEof => Error::from(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                err.to_string(),
            )),
            other => Error::new(ErrorKind::Protocol, other.to_string()),
        }
    }
}

impl From<ws_proto::SendError> for Error {
    /// A command the core refused (a local error, never the peer's): a
    /// [`ErrorKind::Capacity`] error when the outgoing buffer is full, a
    /// [`ErrorKind::Queue`] error with [`QueueError::Disconnected`] when the connection is
    /// closing or closed, a [`ErrorKind::Protocol`] error for an invalid command (a control
    /// payload over 125 bytes, a close code that may not be sent). The details are the core
    /// error's message.
    fn from(err: ws_proto::SendError) -> Error {
        let kind = match err {
            ws_proto::SendError::BufferFull { .. } => ErrorKind::Capacity,
            ws_proto::SendError::Closed => ErrorKind::Queue(QueueError::Disconnected),
            _ => ErrorKind::Protocol,
        };
        Error::new(kind, err.to_string())
    }
}

impl From<ws_proto::StateError> for Error {
    /// A command given in the wrong state (accepting a handshake that is not pending,
    /// choosing a subprotocol the client did not offer, an invalid header): a
    /// [`ErrorKind::Protocol`] error with the core error's message.
    fn from(err: ws_proto::StateError) -> Error {
        Error::new(ErrorKind::Protocol, err.to_string())
    }
}

impl From<QueueError> for Error {
    /// An [`ErrorKind::Queue`] error with empty details.
    fn from(err: QueueError) -> Error {
        Error::new(ErrorKind::Queue(err), "")
    }
}

impl<B> From<Box<B>> for Error
where
    B: StdError + Send + Sync + 'static,
{
    /// An [`ErrorKind::Custom`] error with empty details, as in ws-rs.
    fn from(err: Box<B>) -> Error {
        Error::new(ErrorKind::Custom(err), "")
    }
}

impl From<Box<dyn StdError + Send + Sync>> for Error {
    /// An [`ErrorKind::Custom`] error with empty details. New in this crate: ws-rs only
    /// converted boxes of a concrete error type.
    fn from(err: Box<dyn StdError + Send + Sync>) -> Error {
        Error::new(ErrorKind::Custom(err), "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct AppError;

    impl fmt::Display for AppError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the app failed")
        }
    }

    impl StdError for AppError {}

    fn utf8_error() -> Utf8Error {
        let bytes = vec![0xC3, 0x28];
        std::str::from_utf8(&bytes).unwrap_err()
    }

    #[test]
    fn display_with_and_without_details() {
        assert_eq!(
            Error::new(ErrorKind::Protocol, "").to_string(),
            "WebSocket Protocol Error"
        );
        assert_eq!(
            Error::new(ErrorKind::Capacity, String::from("too big")).to_string(),
            "WebSocket at Capacity: too big"
        );
        assert_eq!(
            Error::new(ErrorKind::Timeout, "close_timeout").to_string(),
            "WebSocket Timeout: close_timeout"
        );
        assert_eq!(
            Error::from(QueueError::Full).to_string(),
            "Unable to send signal on event loop: the event loop queue is full"
        );
    }

    #[test]
    fn debug_mentions_kind_and_details() {
        let err = Error::new(ErrorKind::Internal, "boom");
        assert_eq!(format!("{err:?}"), "WS Error <Internal>: boom");
        let err = Error::new(ErrorKind::Internal, "");
        assert_eq!(format!("{err:?}"), "WS Error <Internal>");
    }

    #[test]
    fn conversions_pick_the_right_kind() {
        let err = Error::from(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        assert!(
            matches!(err.kind, ErrorKind::Io(ref e) if e.kind() == io::ErrorKind::ConnectionReset)
        );
        assert!(err.source().is_some());

        let err = Error::from(utf8_error());
        assert!(matches!(err.kind, ErrorKind::Encoding(_)));
        assert!(err.source().is_some());

        let err = Error::from(String::from_utf8(vec![0xFF]).unwrap_err());
        assert!(matches!(err.kind, ErrorKind::Encoding(_)));

        let err = Error::from(httparse::Error::HeaderName);
        assert!(matches!(
            err.kind,
            ErrorKind::Http(httparse::Error::HeaderName)
        ));
        assert!(!err.details.is_empty());
        assert!(err.to_string().starts_with("Unable to parse HTTP: "));

        let err = Error::from(QueueError::Disconnected);
        assert!(matches!(
            err.kind,
            ErrorKind::Queue(QueueError::Disconnected)
        ));
    }

    #[test]
    fn handshake_errors_map_to_capacity_or_protocol() {
        let err = Error::from(ws_proto::HandshakeError::TooLarge { max: 16 });
        assert!(matches!(err.kind, ErrorKind::Capacity));
        assert_eq!(err.details, "handshake larger than 16 bytes");
        let err = Error::from(ws_proto::HandshakeError::TooManyHeaders { max: 2 });
        assert!(matches!(err.kind, ErrorKind::Capacity));
        let err = Error::from(ws_proto::HandshakeError::AcceptMismatch);
        assert!(matches!(err.kind, ErrorKind::Protocol));
        let err = Error::from(ws_proto::HandshakeError::Malformed("invalid token"));
        assert!(matches!(err.kind, ErrorKind::Protocol));
        assert!(err.to_string().starts_with("WebSocket Protocol Error: "));
    }

    #[test]
    fn core_errors_map_to_ws_rs_kinds() {
        use ws_proto::ProtocolError as P;
        let capacity = [
            P::FrameTooLarge { len: 2, max: 1 },
            P::MessageTooLarge { len: 2, max: 1 },
            P::TooManyFragments { max: 1 },
        ];
        for err in capacity {
            assert!(matches!(Error::from(err).kind, ErrorKind::Capacity));
        }
        for err in [P::InvalidUtf8, P::InvalidCloseReason] {
            let err = Error::from(err);
            assert!(matches!(err.kind, ErrorKind::Encoding(_)));
            assert!(err.details.contains("UTF-8"));
        }
        let err = Error::from(P::UnmaskedFrame);
        assert!(matches!(err.kind, ErrorKind::Protocol));
        assert_eq!(err.details, "unmasked frame from a client");

        let err = Error::from(ws_proto::Error::Protocol(P::ReservedOpcode(3)));
        assert!(matches!(err.kind, ErrorKind::Protocol));
        let err = Error::from(ws_proto::Error::Handshake(
            ws_proto::HandshakeError::TooLarge { max: 1 },
        ));
        assert!(matches!(err.kind, ErrorKind::Capacity));
        let err = Error::from(ws_proto::Error::Rejected(404));
        assert!(matches!(err.kind, ErrorKind::Protocol));
        assert!(err.details.contains("404"));
        let err = Error::from(ws_proto::Error::Timeout(ws_proto::TimeoutKind::Close));
        assert!(matches!(err.kind, ErrorKind::Timeout));
        assert_eq!(err.details, "close handshake timed out");
        let err = Error::from(ws_proto::Error::UnexpectedEof);
        assert!(
            matches!(err.kind, ErrorKind::Io(ref e) if e.kind() == io::ErrorKind::UnexpectedEof)
        );

        let err = Error::from(ws_proto::SendError::BufferFull {
            buffered: 1,
            max: 1,
        });
        assert!(matches!(err.kind, ErrorKind::Capacity));
        let err = Error::from(ws_proto::SendError::Closed);
        assert!(matches!(
            err.kind,
            ErrorKind::Queue(QueueError::Disconnected)
        ));
        let err = Error::from(ws_proto::SendError::ControlTooLong(126));
        assert!(matches!(err.kind, ErrorKind::Protocol));
        let err = Error::from(ws_proto::StateError::NoPendingRequest);
        assert!(matches!(err.kind, ErrorKind::Protocol));
    }

    #[test]
    fn custom_errors_round_trip_through_into_box() {
        let err = Error::from(Box::new(AppError));
        assert!(matches!(err.kind, ErrorKind::Custom(_)));
        assert_eq!(err.to_string(), "the app failed");
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("the app failed")
        );
        let boxed = err.into_box();
        assert!(boxed.downcast_ref::<AppError>().is_some());

        let dynamic: Box<dyn StdError + Send + Sync> = Box::new(AppError);
        let err = Error::from(dynamic);
        assert!(matches!(err.kind, ErrorKind::Custom(_)));

        // Any other kind is boxed as is, and the box still coerces to a plain Box<dyn Error>.
        let boxed: Box<dyn StdError> = Error::new(ErrorKind::Protocol, "x").into_box();
        assert!(boxed.downcast_ref::<Error>().is_some());
    }

    #[test]
    fn question_mark_converts() {
        fn parse(bytes: &[u8]) -> Result<&str> {
            Ok(std::str::from_utf8(bytes)?)
        }
        assert!(parse(b"ok").is_ok());
        assert!(matches!(
            parse(&[0xFF]).map_err(|e| e.kind),
            Err(ErrorKind::Encoding(_))
        ));
        fn url(text: &str) -> Result<url::Url> {
            Ok(url::Url::parse(text)?)
        }
        let err = url("not a url").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Internal));
        assert!(err.to_string().contains("invalid URL"), "{err}");
    }

    #[test]
    fn error_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_send_sync::<QueueError>();
    }
}
