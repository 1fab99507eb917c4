//! Frame headers (RFC 6455 section 5.2): parse and encode, no allocation.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use crate::error::ProtocolError;

/// The longest header: 2 bytes, 8 of extended length, 4 of mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame (section 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The result of parsing from a buffer that may hold only part of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// The value, complete.
    Complete(T),
    /// More bytes are needed; nothing was consumed.
    Partial,
}

/// A frame's opcode (section 5.2). Reserved opcodes are refused when parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: first frame of a text message.
    Text,
    /// 0x2: first frame of a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for the reserved ones.
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong are control frames.
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// RSV1: used by permessage-deflate to mark a compressed message.
pub const RSV1: u8 = 0b100;
/// RSV2.
pub const RSV2: u8 = 0b010;
/// RSV3.
pub const RSV3: u8 = 0b001;

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the last frame of a message.
    pub fin: bool,
    /// The three reserved bits, RSV1 as `0b100` down to RSV3 as `0b001`.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `buf`.
    ///
    /// Returns the header and its length in bytes, or `Status::Partial` when
    /// `buf` does not hold the whole header yet (nothing is copied; call again
    /// with more bytes). Refuses what is invalid whatever the context: a
    /// reserved opcode and a 64-bit length with the top bit set. The checks
    /// that depend on the role and the negotiated extensions are in
    /// [`FrameHeader::validate`].
    ///
    /// ```
    /// use ws_proto::{FrameHeader, OpCode, Status};
    /// // An unmasked text frame "Hello" (RFC 6455 section 5.7).
    /// let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    /// let Status::Complete((header, len)) = FrameHeader::parse(&wire).unwrap() else { panic!() };
    /// assert_eq!((header.opcode, header.fin, header.payload_len, len), (OpCode::Text, true, 5, 2));
    /// assert_eq!(FrameHeader::parse(&wire[..1]).unwrap(), Status::Partial);
    /// ```
    pub fn parse(buf: &[u8]) -> Result<Status<(FrameHeader, usize)>, ProtocolError> {
        let [b0, b1, ..] = *buf else {
            return Ok(Status::Partial);
        };
        let opcode = OpCode::from_u8(b0 & 0x0f).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0f))?;
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut pos) = match b1 & 0x7f {
            126 => {
                let Some(bytes) = buf.get(2..4) else {
                    return Ok(Status::Partial);
                };
                (u64::from(u16::from_be_bytes([bytes[0], bytes[1]])), 4)
            }
            127 => {
                let Some(bytes) = buf.get(2..10) else {
                    return Ok(Status::Partial);
                };
                let len = u64::from_be_bytes(bytes.try_into().expect("8 bytes"));
                if len >> 63 != 0 {
                    return Err(ProtocolError::InvalidLength);
                }
                (len, 10)
            }
            len => (u64::from(len), 2),
        };
        let mask = if masked {
            let Some(key) = buf.get(pos..pos + 4) else {
                return Ok(Status::Partial);
            };
            pos += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        let header = FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x07,
            opcode,
            mask,
            payload_len,
        };
        Ok(Status::Complete((header, pos)))
    }

    /// Checks the rules that depend on context: masking by role (section
    /// 5.1: a server refuses unmasked frames, a client refuses masked ones),
    /// reserved bits beyond `allowed_rsv` (those an extension negotiated), and
    /// the control frame rules (section 5.5: FIN set, at most 125 bytes).
    pub fn validate(&self, expect_masked: bool, allowed_rsv: u8) -> Result<(), ProtocolError> {
        if self.rsv & !allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBits(self.rsv));
        }
        match (expect_masked, self.mask.is_some()) {
            (true, false) => return Err(ProtocolError::UnmaskedFrame),
            (false, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if self.opcode.is_control() {
            if !self.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if self.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong(self.payload_len));
            }
        }
        Ok(())
    }

    /// The encoded length of this header.
    pub fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xffff => 4,
            _ => 10,
        };
        len + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Encodes the header into `out` and returns its length, using the
    /// shortest length form as section 5.2 requires.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0x07) << 4) | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut pos = match self.payload_len {
            len @ 0..=125 => {
                out[1] = mask_bit | len as u8;
                2
            }
            len @ 126..=0xffff => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            len => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[pos..pos + 4].copy_from_slice(&key);
            pos += 4;
        }
        pos
    }

    /// Appends the encoded header to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut buf = [0; MAX_HEADER_LEN];
        let len = self.encode(&mut buf);
        out.extend_from_slice(&buf[..len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(bytes: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::parse(bytes).unwrap() {
            Status::Complete(v) => v,
            Status::Partial => panic!("partial: {bytes:?}"),
        }
    }

    /// RFC 6455 section 5.7 examples: (wire header, fin, opcode, mask, len).
    #[test]
    fn rfc_examples() {
        type Row<'a> = (&'a [u8], bool, OpCode, Option<[u8; 4]>, u64);
        let table: &[Row<'_>] = &[
            (&[0x81, 0x05], true, OpCode::Text, None, 5),
            (
                &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d],
                true,
                OpCode::Text,
                Some([0x37, 0xfa, 0x21, 0x3d]),
                5,
            ),
            (&[0x01, 0x03], false, OpCode::Text, None, 3),
            (&[0x80, 0x02], true, OpCode::Continuation, None, 2),
            (&[0x89, 0x05], true, OpCode::Ping, None, 5),
            (
                &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d],
                true,
                OpCode::Pong,
                Some([0x37, 0xfa, 0x21, 0x3d]),
                5,
            ),
            (&[0x82, 0x7e, 0x01, 0x00], true, OpCode::Binary, None, 256),
            (
                &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0],
                true,
                OpCode::Binary,
                None,
                65536,
            ),
        ];
        for &(wire, fin, opcode, mask, len) in table {
            let (h, n) = parse_ok(wire);
            assert_eq!(
                (h.fin, h.opcode, h.mask, h.payload_len, n),
                (fin, opcode, mask, len, wire.len())
            );
            let mut out = Vec::new();
            h.write_to(&mut out);
            assert_eq!(out, wire, "re-encode {wire:?}");
            for cut in 0..wire.len() {
                assert_eq!(FrameHeader::parse(&wire[..cut]).unwrap(), Status::Partial);
            }
        }
    }

    #[test]
    fn refuses_reserved_opcodes_and_huge_lengths() {
        for op in [3u8, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
        let wire = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::parse(&wire), Err(ProtocolError::InvalidLength));
        let wire = [0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(parse_ok(&wire).0.payload_len, i64::MAX as u64);
    }

    #[test]
    fn rsv_bits_and_roles() {
        let (h, _) = parse_ok(&[0xc1, 0x80, 1, 2, 3, 4]); // RSV1, masked
        assert_eq!(h.rsv, RSV1);
        assert_eq!(h.validate(true, 0), Err(ProtocolError::ReservedBits(RSV1)));
        assert_eq!(h.validate(true, RSV1), Ok(()));
        assert_eq!(h.validate(false, RSV1), Err(ProtocolError::MaskedFrame));
        let (h, _) = parse_ok(&[0x81, 0x00]);
        assert_eq!(h.validate(true, 0), Err(ProtocolError::UnmaskedFrame));
        assert_eq!(h.validate(false, 0), Ok(()));
    }

    #[test]
    fn control_frame_rules() {
        let (h, _) = parse_ok(&[0x09, 0x00]); // ping without FIN
        assert_eq!(
            h.validate(false, 0),
            Err(ProtocolError::FragmentedControlFrame)
        );
        let (h, _) = parse_ok(&[0x89, 0x7e, 0x00, 0x7e]); // ping of 126 bytes
        assert_eq!(
            h.validate(false, 0),
            Err(ProtocolError::ControlFrameTooLong(126))
        );
        let (h, _) = parse_ok(&[0x88, 0x7d]);
        assert_eq!(h.validate(false, 0), Ok(()));
    }

    #[test]
    fn encoded_len_matches_encode_at_boundaries() {
        for len in [0u64, 125, 126, 65535, 65536, u32::MAX as u64 + 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let h = FrameHeader {
                    fin: true,
                    rsv: 0,
                    opcode: OpCode::Binary,
                    mask,
                    payload_len: len,
                };
                let mut buf = [0; MAX_HEADER_LEN];
                let n = h.encode(&mut buf);
                assert_eq!(n, h.encoded_len());
                assert_eq!(parse_ok(&buf[..n]), (h, n));
            }
        }
    }
}
