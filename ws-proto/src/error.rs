//! Error types. Every variant says what went wrong and, where the peer is at
//! fault, which close code or HTTP status the core answers with.

use std::fmt;

/// A violation of RFC 6455 by the peer, found while reading frames.
///
/// The core answers each with a close frame carrying [`ProtocolError::close_code`]
/// and reports it in [`Closed::error`](crate::Closed::error).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An opcode the RFC reserves (3-7, 11-15) was used (section 5.2).
    ReservedOpcode(u8),
    /// RSV1-3 bits were set without an extension that defines them (section 5.2).
    ReservedBits(u8),
    /// A 64-bit payload length had its most significant bit set (section 5.2).
    InvalidLength,
    /// A control frame carried more than 125 bytes (section 5.5).
    ControlFrameTooLong(u64),
    /// A control frame had FIN clear (section 5.5).
    FragmentedControlFrame,
    /// A client sent an unmasked frame to a server (section 5.1).
    UnmaskedFrame,
    /// A server sent a masked frame to a client (section 5.1).
    MaskedFrame,
    /// A continuation frame arrived with no fragmented message to continue (section 5.4).
    UnexpectedContinuation,
    /// A text or binary frame started while a fragmented message was still open (section 5.4).
    ExpectedContinuation,
    /// A text message (or a close reason) was not valid UTF-8 (section 8.1).
    InvalidUtf8,
    /// A close frame carried exactly one byte (section 5.5.1).
    InvalidClosePayload,
    /// A close frame carried a code that may not appear on the wire (section 7.4).
    InvalidCloseCode(u16),
    /// A close frame's reason was not valid UTF-8 (section 5.5.1).
    InvalidCloseReason,
    /// A frame declared more payload than `Config::max_frame_size`.
    FrameTooLarge {
        /// The declared length.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message grew past `Config::max_message_size`.
    MessageTooLarge {
        /// The size the message would have reached.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message had more fragments than `Config::max_fragments`.
    TooManyFragments {
        /// The configured limit.
        max: usize,
    },
    /// RSV1 (permessage-deflate's "compressed" bit) was set on a control
    /// frame (RFC 7692 section 6).
    CompressedControlFrame,
    /// RSV1 was set on a continuation frame: only the first frame of a
    /// message says whether it is compressed (RFC 7692 section 6).
    CompressedContinuation,
    /// An extension (such as permessage-deflate) could not process a message.
    Extension(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ReservedBits(bits) => {
                write!(f, "reserved bits {bits:#05b} set without an extension")
            }
            Self::InvalidLength => f.write_str("64-bit payload length with the top bit set"),
            Self::ControlFrameTooLong(len) => {
                write!(f, "control frame of {len} bytes (at most 125)")
            }
            Self::FragmentedControlFrame => f.write_str("fragmented control frame"),
            Self::UnmaskedFrame => f.write_str("unmasked frame from a client"),
            Self::MaskedFrame => f.write_str("masked frame from a server"),
            Self::UnexpectedContinuation => {
                f.write_str("continuation frame without a message to continue")
            }
            Self::ExpectedContinuation => f.write_str("new data frame inside a fragmented message"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8 in a text message"),
            Self::InvalidClosePayload => f.write_str("close frame with a one-byte payload"),
            Self::InvalidCloseCode(code) => {
                write!(f, "close code {code} is not allowed on the wire")
            }
            Self::InvalidCloseReason => f.write_str("invalid UTF-8 in a close reason"),
            Self::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max}")
            }
            Self::MessageTooLarge { len, max } => {
                write!(
                    f,
                    "message of {len} bytes or more exceeds the limit of {max}"
                )
            }
            Self::TooManyFragments { max } => write!(f, "message has more than {max} fragments"),
            Self::CompressedControlFrame => f.write_str("RSV1 set on a control frame"),
            Self::CompressedContinuation => f.write_str("RSV1 set on a continuation frame"),
            Self::Extension(what) => write!(f, "extension error: {what}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// A failed opening handshake.
///
/// On the server side each variant maps to the HTTP status the core answers
/// with ([`HandshakeError::status`]); on the client side it says what was
/// wrong with the server's response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The bytes were not a well-formed HTTP/1.x message.
    Malformed(&'static str),
    /// The HTTP version was not 1.1 (RFC 6455 section 4.1 requires it).
    HttpVersion,
    /// The head exceeded `Config::max_handshake_bytes`.
    TooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The head had more than `Config::max_headers` header lines.
    TooManyHeaders {
        /// The configured limit.
        max: usize,
    },
    /// The request method was not GET.
    Method(String),
    /// A required header was missing.
    MissingHeader(&'static str),
    /// A header had a value the handshake does not allow.
    InvalidHeader(&'static str),
    /// The client asked for a protocol version other than 13.
    UnsupportedVersion(String),
    /// `Sec-WebSocket-Key` was not the base64 encoding of 16 bytes.
    InvalidKey,
    /// The request is not a WebSocket upgrade (no `Upgrade: websocket`).
    NotUpgrade,
    /// The server answered with a status other than 101.
    Status(u16),
    /// The server redirected the client (301, 302, 303, 307 or 308 with a
    /// `Location`): a runtime that follows redirects dials `location`
    /// (resolved with [`redirect::next_url`](crate::redirect::next_url)).
    Redirect {
        /// The status, such as 301.
        status: u16,
        /// The `Location` header as sent (possibly relative).
        location: String,
    },
    /// A redirect that is not followed: a downgrade from `wss://` to
    /// `ws://`, a loop, one hop past the limit, or a `Location` that is not
    /// a `ws://` or `wss://` URL.
    RedirectRefused {
        /// Why (one byte, so that the error stays as small as before).
        reason: crate::redirect::Refusal,
        /// Where the redirect led.
        location: String,
    },
    /// `Sec-WebSocket-Accept` did not match the key the client sent.
    AcceptMismatch,
    /// The server chose a subprotocol the client did not offer.
    UnofferedProtocol(String),
    /// The server chose an extension the client did not offer.
    UnofferedExtension(String),
    /// The URL could not be used for a WebSocket connection.
    Url(String),
    /// The extension negotiation failed.
    Extension(String),
    /// A header that must appear once appeared more than once
    /// (`Host`, RFC 9110 section 7.2; `Upgrade`, `Sec-WebSocket-Key`,
    /// `Sec-WebSocket-Version`, `Sec-WebSocket-Accept`: RFC 6455 sections
    /// 4.1 and 4.2.1 give each a single value). Two keys or two hosts leave
    /// the meaning of the request to whichever value a proxy picks.
    DuplicateHeader(&'static str),
    /// The upgrade request or the 101 response announced a body
    /// (`Content-Length` other than 0, or any `Transfer-Encoding`). The
    /// bytes after the head are WebSocket frames: a body there would be read
    /// as frames by one side and as HTTP by another (request smuggling).
    UnexpectedBody,
    /// The request's `Origin` is not one the server's
    /// [`OriginPolicy`](crate::OriginPolicy) accepts (cross-site WebSocket
    /// hijacking; RFC 6455 section 10.2). Answered with 403.
    Origin(String),
    /// An HTTP/2 request for a WebSocket used a method other than CONNECT
    /// (RFC 8441 section 4: the extended CONNECT). Answered with 405.
    NotConnect(String),
    /// An extended CONNECT asked for a `:protocol` other than `websocket`
    /// (RFC 8441 section 5). Answered with 400.
    ConnectProtocol(String),
    /// The server answered an extended CONNECT with a status outside 2xx
    /// (RFC 8441 section 5, RFC 9113 section 8.5).
    ConnectStatus(u16),
}

impl HandshakeError {
    /// The HTTP status a server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } | Self::TooManyHeaders { .. } => 431,
            Self::Method(_) | Self::NotConnect(_) => 405,
            Self::Origin(_) => 403,
            Self::UnsupportedVersion(_) => 426,
            Self::HttpVersion => 505,
            _ => 400,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed HTTP: {what}"),
            Self::HttpVersion => f.write_str("HTTP version is not 1.1"),
            Self::TooLarge { max } => write!(f, "handshake larger than {max} bytes"),
            Self::TooManyHeaders { max } => write!(f, "more than {max} headers"),
            Self::Method(m) => write!(f, "method {m} is not GET"),
            Self::MissingHeader(h) => write!(f, "missing header {h}"),
            Self::InvalidHeader(h) => write!(f, "invalid value for header {h}"),
            Self::UnsupportedVersion(v) => {
                write!(f, "unsupported WebSocket version {v:?} (13 is supported)")
            }
            Self::InvalidKey => f.write_str("Sec-WebSocket-Key is not 16 bytes in base64"),
            Self::NotUpgrade => f.write_str("not a WebSocket upgrade request"),
            Self::Status(s) => write!(f, "server answered with status {s} instead of 101"),
            Self::Redirect { status, location } => {
                write!(f, "server redirected with {status} to {location:?}")
            }
            Self::RedirectRefused { reason, location } => {
                write!(f, "redirect to {location:?} not followed: {reason}")
            }
            Self::AcceptMismatch => f.write_str("Sec-WebSocket-Accept does not match the key"),
            Self::UnofferedProtocol(p) => {
                write!(f, "server chose subprotocol {p:?} that was not offered")
            }
            Self::UnofferedExtension(e) => {
                write!(f, "server chose extension {e:?} that was not offered")
            }
            Self::Url(why) => write!(f, "invalid WebSocket URL: {why}"),
            Self::Extension(why) => write!(f, "extension negotiation failed: {why}"),
            Self::DuplicateHeader(h) => write!(f, "header {h} appears more than once"),
            Self::UnexpectedBody => f.write_str(
                "a WebSocket upgrade carries no body (Content-Length or Transfer-Encoding)",
            ),
            Self::Origin(o) => write!(f, "origin {o:?} is not allowed"),
            Self::NotConnect(m) => write!(
                f,
                "method {m} is not CONNECT (a WebSocket over HTTP/2 opens with an extended CONNECT, RFC 8441)"
            ),
            Self::ConnectProtocol(p) => {
                write!(f, "extended CONNECT for protocol {p:?}, not websocket")
            }
            Self::ConnectStatus(s) => write!(
                f,
                "server answered the extended CONNECT with status {s} instead of 200"
            ),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Which deadline expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The opening handshake did not complete in `Config::handshake_timeout`.
    Handshake,
    /// The peer did not finish the close handshake in `Config::close_timeout`.
    Close,
    /// No pong came back within `Config::keepalive_timeout` of a keepalive ping.
    Keepalive,
    /// Nothing was received for `Config::idle_timeout`.
    Idle,
    /// Output waited `Config::write_timeout` without the transport taking
    /// any of it: the peer stopped reading.
    Write,
    /// A frame or fragmented message, once started, was not complete
    /// within `Config::message_timeout` (a trickle); the peer was sent
    /// 1008 (policy violation: the peer broke no rule of the protocol,
    /// only our time limit).
    Message,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Handshake => "opening handshake timed out",
            Self::Close => "close handshake timed out",
            Self::Keepalive => "no pong before the keepalive deadline",
            Self::Idle => "connection idle for too long",
            Self::Write => "the peer took none of our output for too long",
            Self::Message => "a frame or message took too long to arrive",
        })
    }
}

/// Why a connection ended other than by a clean close handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer violated the protocol; the core sent the matching close code.
    Protocol(ProtocolError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The server application rejected the handshake with this HTTP status.
    Rejected(u16),
    /// A deadline expired.
    Timeout(TimeoutKind),
    /// The transport reached end of stream before the close handshake finished.
    UnexpectedEof,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Rejected(status) => write!(f, "handshake rejected with status {status}"),
            Self::Timeout(kind) => kind.fmt(f),
            Self::UnexpectedEof => f.write_str("connection closed without a close handshake"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Protocol(e) => Some(e),
            Self::Handshake(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

/// A command was given in a state where it makes no sense (local misuse).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// `accept` or `reject` without a pending request (client, already
    /// answered, or the request has not arrived yet).
    NoPendingRequest,
    /// The chosen subprotocol was not offered by the client.
    UnofferedProtocol(String),
    /// A header given to `accept` or `reject` is not a valid HTTP header.
    InvalidHeader(String),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPendingRequest => f.write_str("no handshake request is waiting for an answer"),
            Self::UnofferedProtocol(p) => {
                write!(f, "subprotocol {p:?} was not offered by the client")
            }
            Self::InvalidHeader(h) => write!(f, "invalid header {h:?}"),
        }
    }
}

impl std::error::Error for StateError {}

/// A message, ping or close could not be queued.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is closing or closed: nothing more can be sent.
    Closed,
    /// A ping or pong payload was longer than 125 bytes.
    ControlTooLong(usize),
    /// The close code may not be sent on the wire (see [`CloseCode::is_allowed`](crate::CloseCode::is_allowed)).
    InvalidCloseCode(u16),
    /// Queuing the message would take the outgoing buffer past
    /// `Config::max_write_buffer`.
    BufferFull {
        /// Bytes already queued.
        buffered: usize,
        /// The configured limit.
        max: usize,
    },
    /// The opening handshake is not complete: a prepared message can only
    /// be sent on an open connection.
    NotOpen,
    /// A [`PreparedMessage`](crate::PreparedMessage) holds unmasked server
    /// frames, which a client may not send.
    PreparedOnClient,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("the connection is closing or closed"),
            Self::ControlTooLong(len) => write!(f, "control payload of {len} bytes (at most 125)"),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Self::BufferFull { buffered, max } => {
                write!(
                    f,
                    "outgoing buffer full ({buffered} bytes queued, limit {max})"
                )
            }
            Self::NotOpen => f.write_str("the opening handshake is not complete"),
            Self::PreparedOnClient => {
                f.write_str("a prepared message is server frames: a client cannot send it")
            }
        }
    }
}

impl std::error::Error for SendError {}
