//! Protocol vocabulary: frame opcodes and close status codes (RFC 6455 sections 5.2 and 7.4).

use std::fmt;

/// The opcode of a WebSocket frame (RFC 6455 section 5.2).
///
/// Every byte converts to an `OpCode` (`From<u8>`): the six opcodes RFC 6455 defines map to
/// their variants, every reserved or out-of-range value maps to [`OpCode::Bad`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: a continuation frame of a fragmented message.
    Continue,
    /// `0x1`: the first (or only) frame of a text message.
    Text,
    /// `0x2`: the first (or only) frame of a binary message.
    Binary,
    /// `0x8`: a close control frame.
    Close,
    /// `0x9`: a ping control frame.
    Ping,
    /// `0xA`: a pong control frame.
    Pong,
    /// Any reserved opcode (`0x3`-`0x7`, `0xB`-`0xF`) or a value above `0xF`.
    ///
    /// RFC 6455 section 5.2: "If an unknown opcode is received, the receiving endpoint MUST
    /// _Fail the WebSocket Connection_." The core does that; this variant only exists so that
    /// the conversion from `u8` is total.
    Bad,
}

impl OpCode {
    /// Whether this opcode is a control opcode (Close, Ping, Pong), as opposed to a data
    /// opcode (Continue, Text, Binary).
    ///
    /// [`OpCode::Bad`] counts as a control opcode, as in ws-rs.
    pub fn is_control(&self) -> bool {
        !matches!(self, OpCode::Continue | OpCode::Text | OpCode::Binary)
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            OpCode::Continue => "CONTINUE",
            OpCode::Text => "TEXT",
            OpCode::Binary => "BINARY",
            OpCode::Close => "CLOSE",
            OpCode::Ping => "PING",
            OpCode::Pong => "PONG",
            OpCode::Bad => "BAD",
        };
        f.write_str(name)
    }
}

impl From<u8> for OpCode {
    /// Decodes the low four bits of the first frame byte; callers mask with `0x0F` first.
    fn from(byte: u8) -> OpCode {
        match byte {
            0x0 => OpCode::Continue,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => OpCode::Bad,
        }
    }
}

impl From<OpCode> for u8 {
    /// The wire value of the opcode.
    ///
    /// [`OpCode::Bad`] has no wire value of its own and converts to `0xF`, a reserved control
    /// opcode that any conforming peer rejects (and that converts back to `Bad`).
    /// Differs from ws-rs, which converted `Bad` to `0x8` (Close) after a `debug_assert!`
    /// that panicked in debug builds; this conversion never panics.
    fn from(opcode: OpCode) -> u8 {
        match opcode {
            OpCode::Continue => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
            OpCode::Bad => 0xF,
        }
    }
}

impl From<ws_proto::OpCode> for OpCode {
    /// The same opcode (the core calls `Continue` `Continuation`).
    fn from(opcode: ws_proto::OpCode) -> OpCode {
        match opcode {
            ws_proto::OpCode::Continuation => OpCode::Continue,
            ws_proto::OpCode::Text => OpCode::Text,
            ws_proto::OpCode::Binary => OpCode::Binary,
            ws_proto::OpCode::Close => OpCode::Close,
            ws_proto::OpCode::Ping => OpCode::Ping,
            ws_proto::OpCode::Pong => OpCode::Pong,
        }
    }
}

impl TryFrom<OpCode> for ws_proto::OpCode {
    type Error = crate::Error;

    /// The same opcode.
    ///
    /// # Errors
    ///
    /// A [`Protocol`](crate::ErrorKind::Protocol) error for [`OpCode::Bad`], which the core
    /// cannot represent (it refuses reserved opcodes).
    fn try_from(opcode: OpCode) -> Result<ws_proto::OpCode, crate::Error> {
        Ok(match opcode {
            OpCode::Continue => ws_proto::OpCode::Continuation,
            OpCode::Text => ws_proto::OpCode::Text,
            OpCode::Binary => ws_proto::OpCode::Binary,
            OpCode::Close => ws_proto::OpCode::Close,
            OpCode::Ping => ws_proto::OpCode::Ping,
            OpCode::Pong => ws_proto::OpCode::Pong,
            OpCode::Bad => {
                return Err(crate::Error::new(
                    crate::ErrorKind::Protocol,
                    "a reserved opcode cannot be sent",
                ));
            }
        })
    }
}

/// The status code of a Close frame: why an endpoint is closing the connection
/// (RFC 6455 section 7.4).
///
/// Every `u16` converts to a `CloseCode` and back unchanged (`From<u16>`, `From<CloseCode> for
/// u16`): the codes RFC 6455 and the IANA registry name map to their variants, `0` maps to
/// [`CloseCode::Empty`] and everything else to [`CloseCode::Other`]. Build codes through
/// `From<u16>` rather than writing `Other(1000)` yourself: `Other(1000)` converts to the same
/// number as [`CloseCode::Normal`] but does not compare equal to it.
///
/// Not every code may travel in a Close frame: [`CloseCode::is_allowed`] tells which may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// `1000`: normal closure; the purpose for which the connection was established has been
    /// fulfilled.
    Normal,
    /// `1001`: the endpoint is "going away", such as a server going down or a browser having
    /// navigated away from a page.
    Away,
    /// `1002`: the endpoint is terminating the connection due to a protocol error.
    Protocol,
    /// `1003`: the endpoint received a type of data it cannot accept (for example an endpoint
    /// that only understands text received a binary message).
    Unsupported,
    /// `1005`: no status code was present in the Close frame.
    ///
    /// Never sent on the wire (RFC 6455 section 7.4.1); reported to `on_close` when the peer's
    /// Close frame had an empty payload, so that one callback covers that case too.
    Status,
    /// `1006`: the connection closed abnormally, without a Close frame.
    ///
    /// Never sent on the wire (RFC 6455 section 7.4.1); reported to `on_close` when the
    /// connection dropped without a closing handshake and without an error (errors go to
    /// `on_error`).
    Abnormal,
    /// `1007`: the endpoint received data within a message that was not consistent with the
    /// type of the message (for example non-UTF-8 data within a text message).
    Invalid,
    /// `1008`: the endpoint received a message that violates its policy. A generic code for
    /// when no other code fits or the details must stay hidden.
    Policy,
    /// `1009`: the endpoint received a message too big for it to process.
    Size,
    /// `1010`: the client expected the server to negotiate one or more extensions and the
    /// server did not; the reason should list the extensions needed. Only clients send it: a
    /// server fails the opening handshake instead.
    Extension,
    /// `1011`: the server met an unexpected condition that prevented it from fulfilling the
    /// request.
    Error,
    /// `1012`: the server is restarting. A client may reconnect, after a randomized delay of
    /// 5-30 seconds.
    Restart,
    /// `1013`: the server is overloaded. A client should connect to a different address if
    /// there is one, or reconnect to the same one only after a user action.
    Again,
    /// `1015`: the TLS handshake failed.
    ///
    /// Never sent on the wire (RFC 6455 section 7.4.1); only ever reported locally.
    Tls,
    /// `0`: the Close frame carries no status code at all.
    ///
    /// Used when building a close frame with an empty payload (see
    /// [`Frame::close`](crate::Frame::close)); `0` is not a status code and is never valid on
    /// the wire.
    Empty,
    /// Any other code, such as the registered `1014` (bad gateway), a library or framework
    /// code in `3000`-`3999` or a private-use code in `4000`-`4999`.
    Other(u16),
}

impl CloseCode {
    /// Whether this code may appear in a Close frame on the wire, in either direction
    /// (RFC 6455 section 7.4).
    ///
    /// Allowed are `1000`-`1003`, `1007`-`1014` (including `1012` Restart, `1013` Again and
    /// `1014` bad gateway, registered with IANA after RFC 6455) and `3000`-`4999`. Not allowed
    /// are `0`-`999` (unused), `1004` (reserved), `1005`, `1006` and `1015` (RFC 6455 section
    /// 7.4.1: "MUST NOT be set as a status code in a Close control frame by an endpoint"),
    /// `1016`-`2999` (reserved for future revisions) and `5000` and up.
    ///
    /// The core fails the connection with `1002` when a peer sends a code that is not
    /// allowed, and refuses to send one. New in this crate; ws-rs had no such check.
    pub fn is_allowed(&self) -> bool {
        matches!(u16::from(*self), 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    /// Decodes a status code, as read in network order from a Close frame payload.
    fn from(code: u16) -> CloseCode {
        match code {
            1000 => CloseCode::Normal,
            1001 => CloseCode::Away,
            1002 => CloseCode::Protocol,
            1003 => CloseCode::Unsupported,
            1005 => CloseCode::Status,
            1006 => CloseCode::Abnormal,
            1007 => CloseCode::Invalid,
            1008 => CloseCode::Policy,
            1009 => CloseCode::Size,
            1010 => CloseCode::Extension,
            1011 => CloseCode::Error,
            1012 => CloseCode::Restart,
            1013 => CloseCode::Again,
            1015 => CloseCode::Tls,
            0 => CloseCode::Empty,
            other => CloseCode::Other(other),
        }
    }
}

impl From<CloseCode> for u16 {
    /// The numeric status code (in host order; write it big-endian on the wire).
    fn from(code: CloseCode) -> u16 {
        match code {
            CloseCode::Normal => 1000,
            CloseCode::Away => 1001,
            CloseCode::Protocol => 1002,
            CloseCode::Unsupported => 1003,
            CloseCode::Status => 1005,
            CloseCode::Abnormal => 1006,
            CloseCode::Invalid => 1007,
            CloseCode::Policy => 1008,
            CloseCode::Size => 1009,
            CloseCode::Extension => 1010,
            CloseCode::Error => 1011,
            CloseCode::Restart => 1012,
            CloseCode::Again => 1013,
            CloseCode::Tls => 1015,
            CloseCode::Empty => 0,
            CloseCode::Other(other) => other,
        }
    }
}

impl From<ws_proto::CloseCode> for CloseCode {
    /// The same number (the core's code is a plain `u16`).
    fn from(code: ws_proto::CloseCode) -> CloseCode {
        CloseCode::from(code.0)
    }
}

impl From<CloseCode> for ws_proto::CloseCode {
    /// The same number. [`CloseCode::Empty`] becomes `0`, which the core refuses to send
    /// (`Connection::close` fails with `SendError::InvalidCloseCode`), like every code
    /// [`CloseCode::is_allowed`] rejects.
    fn from(code: CloseCode) -> ws_proto::CloseCode {
        ws_proto::CloseCode(u16::from(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_round_trips_every_byte_it_names() {
        let table = [
            (0x0, OpCode::Continue),
            (0x1, OpCode::Text),
            (0x2, OpCode::Binary),
            (0x8, OpCode::Close),
            (0x9, OpCode::Ping),
            (0xA, OpCode::Pong),
        ];
        for (byte, op) in table {
            assert_eq!(OpCode::from(byte), op);
            assert_eq!(u8::from(op), byte);
        }
        for byte in 0..=u8::MAX {
            let op = OpCode::from(byte);
            if !table.iter().any(|&(b, _)| b == byte) {
                assert_eq!(op, OpCode::Bad, "byte {byte:#x}");
            }
            // Converting back and forth again is stable for every byte.
            assert_eq!(OpCode::from(u8::from(op)), op);
        }
        assert_eq!(u8::from(OpCode::Bad), 0xF);
    }

    #[test]
    fn opcode_control_classification() {
        for op in [OpCode::Continue, OpCode::Text, OpCode::Binary] {
            assert!(!op.is_control(), "{op}");
        }
        for op in [OpCode::Close, OpCode::Ping, OpCode::Pong, OpCode::Bad] {
            assert!(op.is_control(), "{op}");
        }
    }

    #[test]
    fn opcode_display() {
        assert_eq!(OpCode::Text.to_string(), "TEXT");
        assert_eq!(OpCode::Continue.to_string(), "CONTINUE");
        assert_eq!(OpCode::Bad.to_string(), "BAD");
    }

    #[test]
    fn closecode_named_values() {
        let table = [
            (1000, CloseCode::Normal),
            (1001, CloseCode::Away),
            (1002, CloseCode::Protocol),
            (1003, CloseCode::Unsupported),
            (1005, CloseCode::Status),
            (1006, CloseCode::Abnormal),
            (1007, CloseCode::Invalid),
            (1008, CloseCode::Policy),
            (1009, CloseCode::Size),
            (1010, CloseCode::Extension),
            (1011, CloseCode::Error),
            (1012, CloseCode::Restart),
            (1013, CloseCode::Again),
            (1015, CloseCode::Tls),
            (0, CloseCode::Empty),
            (1004, CloseCode::Other(1004)),
            (1014, CloseCode::Other(1014)),
            (4000, CloseCode::Other(4000)),
        ];
        for (value, code) in table {
            assert_eq!(CloseCode::from(value), code);
            assert_eq!(u16::from(code), value);
        }
    }

    #[test]
    fn closecode_round_trips_every_u16() {
        for value in 0..=u16::MAX {
            assert_eq!(u16::from(CloseCode::from(value)), value);
        }
    }

    #[test]
    fn closecode_into_u16_via_into() {
        let value: u16 = CloseCode::Away.into();
        assert_eq!(value, 1001);
    }

    /// RFC 6455 section 7.4 plus the IANA registry: which codes may be on the wire.
    #[test]
    fn closecode_validity_table() {
        let table: &[(u16, bool)] = &[
            (0, false),
            (1, false),
            (999, false),
            (1000, true),
            (1001, true),
            (1002, true),
            (1003, true),
            (1004, false),
            (1005, false),
            (1006, false),
            (1007, true),
            (1008, true),
            (1009, true),
            (1010, true),
            (1011, true),
            (1012, true),
            (1013, true),
            (1014, true),
            (1015, false),
            (1016, false),
            (2000, false),
            (2999, false),
            (3000, true),
            (3999, true),
            (4000, true),
            (4999, true),
            (5000, false),
            (u16::MAX, false),
        ];
        for &(value, allowed) in table {
            assert_eq!(CloseCode::from(value).is_allowed(), allowed, "code {value}");
        }
    }

    #[test]
    fn core_conversions() {
        for byte in [0x0, 0x1, 0x2, 0x8, 0x9, 0xA] {
            let core = ws_proto::OpCode::from_u8(byte).unwrap();
            let ours = OpCode::from(core);
            assert_eq!(u8::from(ours), core.as_u8());
            assert_eq!(ws_proto::OpCode::try_from(ours).unwrap(), core);
        }
        assert!(ws_proto::OpCode::try_from(OpCode::Bad).is_err());

        for value in [0, 1000, 1005, 1012, 1014, 4999, u16::MAX] {
            let ours = CloseCode::from(ws_proto::CloseCode(value));
            assert_eq!(u16::from(ours), value);
            assert_eq!(ws_proto::CloseCode::from(ours), ws_proto::CloseCode(value));
            assert_eq!(ours.is_allowed(), ws_proto::CloseCode(value).is_allowed());
        }
    }

    #[test]
    fn closecode_other_with_named_value_has_same_number() {
        assert_eq!(u16::from(CloseCode::Other(1000)), 1000);
        assert!(CloseCode::Other(1000).is_allowed());
        assert_ne!(CloseCode::Other(1000), CloseCode::Normal);
    }
}
