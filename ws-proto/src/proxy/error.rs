//! What can go wrong on the way through a proxy.

use std::fmt;

/// A SOCKS5 reply other than "succeeded" (RFC 1928 section 6, field `REP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Socks5Reply {
    /// `X'01'` general SOCKS server failure.
    GeneralFailure,
    /// `X'02'` connection not allowed by ruleset.
    NotAllowed,
    /// `X'03'` network unreachable.
    NetworkUnreachable,
    /// `X'04'` host unreachable.
    HostUnreachable,
    /// `X'05'` connection refused.
    ConnectionRefused,
    /// `X'06'` TTL expired.
    TtlExpired,
    /// `X'07'` command not supported.
    CommandNotSupported,
    /// `X'08'` address type not supported.
    AddressTypeNotSupported,
    /// `X'09'` to `X'FF'`: unassigned.
    Unassigned(u8),
}

impl Socks5Reply {
    /// The reply for a `REP` byte, `None` for `X'00'` (succeeded).
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x00 => return None,
            0x01 => Self::GeneralFailure,
            0x02 => Self::NotAllowed,
            0x03 => Self::NetworkUnreachable,
            0x04 => Self::HostUnreachable,
            0x05 => Self::ConnectionRefused,
            0x06 => Self::TtlExpired,
            0x07 => Self::CommandNotSupported,
            0x08 => Self::AddressTypeNotSupported,
            other => Self::Unassigned(other),
        })
    }

    /// The `REP` byte.
    pub fn code(self) -> u8 {
        match self {
            Self::GeneralFailure => 0x01,
            Self::NotAllowed => 0x02,
            Self::NetworkUnreachable => 0x03,
            Self::HostUnreachable => 0x04,
            Self::ConnectionRefused => 0x05,
            Self::TtlExpired => 0x06,
            Self::CommandNotSupported => 0x07,
            Self::AddressTypeNotSupported => 0x08,
            Self::Unassigned(code) => code,
        }
    }
}

impl fmt::Display for Socks5Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::GeneralFailure => "general SOCKS server failure",
            Self::NotAllowed => "connection not allowed by ruleset",
            Self::NetworkUnreachable => "network unreachable",
            Self::HostUnreachable => "host unreachable",
            Self::ConnectionRefused => "connection refused",
            Self::TtlExpired => "TTL expired",
            Self::CommandNotSupported => "command not supported",
            Self::AddressTypeNotSupported => "address type not supported",
            Self::Unassigned(code) => return write!(f, "unassigned reply {code:#04x}"),
        };
        write!(f, "{text} ({:#04x})", self.code())
    }
}

/// A proxy could not be used. Each variant that comes from talking to a
/// proxy names it as `scheme://host:port`, never with its credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL could not be parsed (the URL itself is not repeated:
    /// it may hold a password).
    InvalidUrl(String),
    /// The proxy URL's scheme is not `http`, `https`, `socks5` or `socks5h`.
    UnsupportedScheme(String),
    /// An `https://` proxy (TLS to the proxy itself) was asked for by a
    /// build without TLS (the runtimes' `rustls` feature). `wss://` through
    /// an `http://` proxy is still encrypted end to end.
    HttpsNotSupported,
    /// The TLS handshake with an `https://` proxy failed: its certificate
    /// is checked for the proxy's host name.
    Tls {
        /// The proxy, without credentials.
        proxy: String,
        /// What TLS said.
        error: String,
    },
    /// The proxy could not be reached (the TCP connect failed, or the name
    /// did not resolve).
    Unreachable {
        /// The proxy, without credentials.
        proxy: String,
        /// The system's error, as text.
        error: String,
    },
    /// The connect to the proxy and the negotiation took longer than the
    /// handshake timeout.
    Timeout {
        /// The proxy, without credentials.
        proxy: String,
    },
    /// The HTTP proxy answered `CONNECT` with a status other than 2xx
    /// (407: it wants credentials, or refused the ones given).
    Refused {
        /// The proxy, without credentials.
        proxy: String,
        /// The status the proxy answered with.
        status: u16,
        /// Its reason phrase, cut to 100 characters.
        reason: String,
    },
    /// The SOCKS5 proxy accepts none of the authentication methods offered
    /// (`X'FF'`): it wants credentials when none were given, or the reverse.
    NoAcceptableMethod {
        /// The proxy, without credentials.
        proxy: String,
    },
    /// The SOCKS5 proxy refused the username and password (RFC 1929).
    AuthenticationFailed {
        /// The proxy, without credentials.
        proxy: String,
    },
    /// The SOCKS5 proxy could not open the connection to the server.
    Socks5 {
        /// The proxy, without credentials.
        proxy: String,
        /// What it replied.
        reply: Socks5Reply,
    },
    /// The proxy's answer is not valid for the protocol (not HTTP, not
    /// SOCKS5, a method that was not offered, bytes after the answer ...).
    Malformed {
        /// The proxy, without credentials.
        proxy: String,
        /// What was wrong.
        what: &'static str,
    },
    /// The HTTP proxy's response head was longer than [`MAX_RESPONSE_HEAD`](super::MAX_RESPONSE_HEAD).
    TooLarge {
        /// The proxy, without credentials.
        proxy: String,
        /// The limit.
        max: usize,
    },
    /// The proxy closed the connection before the tunnel was open.
    Closed {
        /// The proxy, without credentials.
        proxy: String,
    },
    /// A username, password or host name is too long for SOCKS5 (255 bytes
    /// each).
    TooLong(&'static str),
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(why) => write!(f, "invalid proxy URL: {why}"),
            Self::UnsupportedScheme(s) => write!(
                f,
                "proxy scheme {s:?} is not supported (http, https, socks5, socks5h are)"
            ),
            Self::HttpsNotSupported => f.write_str(
                "https:// proxies need TLS: enable the `rustls` feature (or use an http:// or \
                 socks5:// proxy)",
            ),
            Self::Tls { proxy, error } => write!(f, "TLS with proxy {proxy} failed: {error}"),
            Self::Unreachable { proxy, error } => {
                write!(f, "cannot connect to proxy {proxy}: {error}")
            }
            Self::Timeout { proxy } => write!(
                f,
                "proxy {proxy} did not open the tunnel within the handshake timeout"
            ),
            Self::Refused {
                proxy,
                status,
                reason,
            } => write!(f, "proxy {proxy} refused the tunnel: {status} {reason}"),
            Self::NoAcceptableMethod { proxy } => write!(
                f,
                "SOCKS5 proxy {proxy} accepts none of the offered authentication methods"
            ),
            Self::AuthenticationFailed { proxy } => {
                write!(f, "SOCKS5 proxy {proxy} refused the username and password")
            }
            Self::Socks5 { proxy, reply } => write!(f, "SOCKS5 proxy {proxy} replied: {reply}"),
            Self::Malformed { proxy, what } => {
                write!(f, "proxy {proxy} answered garbage: {what}")
            }
            Self::TooLarge { proxy, max } => {
                write!(f, "proxy {proxy} sent a response head over {max} bytes")
            }
            Self::Closed { proxy } => {
                write!(
                    f,
                    "proxy {proxy} closed the connection before the tunnel opened"
                )
            }
            Self::TooLong(what) => write!(f, "{what} is longer than SOCKS5 allows (255 bytes)"),
        }
    }
}

impl std::error::Error for ProxyError {}
