//! Close codes and close frame payloads (RFC 6455 sections 5.5.1 and 7.4).

use std::fmt;

use crate::error::ProtocolError;

/// A close status code.
///
/// A plain number with named constants, so that codes registered after this
/// crate was written still round-trip. [`CloseCode::is_allowed`] tells which
/// codes may appear in a close frame on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const AWAY: Self = Self(1001);
    /// 1002: the peer violated the protocol.
    pub const PROTOCOL: Self = Self(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const UNSUPPORTED: Self = Self(1003);
    /// 1005: no status code was present. Never sent on the wire.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection closed without a close frame. Never sent on the wire.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a message's data was not consistent with its type (invalid UTF-8).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY: Self = Self(1008);
    /// 1009: a message was too big to process.
    pub const TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const RESTART: Self = Self(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN: Self = Self(1013);
    /// 1014: a gateway or proxy received an invalid response upstream.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: the TLS handshake failed. Never sent on the wire.
    pub const TLS: Self = Self(1015);

    /// Whether this code may be carried by a close frame (section 7.4): the
    /// registered codes 1000-1003 and 1007-1014, and 3000-4999 for libraries
    /// and applications. 1004, 1005, 1006, 1015, the unassigned 1016-2999 and
    /// everything below 1000 or above 4999 are refused.
    pub fn is_allowed(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The payload of a close frame: a code and a UTF-8 reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// A human-readable reason; may be empty. At most 123 bytes on the wire.
    pub reason: String,
}

impl CloseFrame {
    /// The longest reason that fits in a control frame (125 - 2 bytes).
    pub const MAX_REASON: usize = 123;

    /// Parses a close frame payload received from a peer.
    ///
    /// An empty payload gives `Ok(None)`. A one-byte payload and a code that
    /// [`CloseCode::is_allowed`] refuses are protocol errors (1002); a reason
    /// that is not UTF-8 is an invalid payload (1007).
    pub fn parse(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
        match payload {
            [] => Ok(None),
            [_] => Err(ProtocolError::InvalidClosePayload),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_allowed() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason = std::str::from_utf8(reason)
                    .map_err(|_| ProtocolError::InvalidCloseReason)?
                    .to_owned();
                Ok(Some(CloseFrame { code, reason }))
            }
        }
    }

    /// Appends the wire payload: the code, big-endian, then the reason cut to
    /// [`Self::MAX_REASON`] bytes on a character boundary.
    pub fn write_payload(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.code.0.to_be_bytes());
        out.extend_from_slice(truncate_reason(&self.reason).as_bytes());
    }
}

/// Cuts a reason to at most 123 bytes without splitting a character.
pub(crate) fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= CloseFrame::MAX_REASON {
        return reason;
    }
    let mut end = CloseFrame::MAX_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// Which close code answers each protocol error. It lives with the codes, so
/// that `error.rs` needs nothing from this file.
impl ProtocolError {
    /// The close code the core sends for this error.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } => CloseCode::TOO_BIG,
            Self::TooManyFragments { .. } => CloseCode::POLICY,
            Self::Extension(_) => CloseCode::INVALID_PAYLOAD,
            _ => CloseCode::PROTOCOL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_codes_table() {
        let allowed = [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4999,
        ];
        let refused = [
            0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ];
        for c in allowed {
            assert!(CloseCode(c).is_allowed(), "{c}");
        }
        for c in refused {
            assert!(!CloseCode(c).is_allowed(), "{c}");
        }
    }

    #[test]
    fn parse_payloads() {
        assert_eq!(CloseFrame::parse(&[]), Ok(None));
        assert_eq!(
            CloseFrame::parse(&[3]),
            Err(ProtocolError::InvalidClosePayload)
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xe8, b'o', b'k']),
            Ok(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: "ok".into()
            }))
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xed]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xe8, 0xff]),
            Err(ProtocolError::InvalidCloseReason)
        );
    }

    #[test]
    fn long_reason_is_cut_on_char_boundary() {
        let reason = "é".repeat(100); // 200 bytes
        let frame = CloseFrame {
            code: CloseCode::NORMAL,
            reason,
        };
        let mut out = Vec::new();
        frame.write_payload(&mut out);
        assert!(out.len() <= 125);
        assert!(std::str::from_utf8(&out[2..]).is_ok());
    }
}
