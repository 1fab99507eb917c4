//! One WebSocket frame as an owned value (RFC 6455 section 5.2).

use std::fmt;
use std::io::{Cursor, Write};

use ws_proto::{FrameHeader, MAX_CONTROL_PAYLOAD, Status};

use crate::protocol::{CloseCode, OpCode};
use crate::random;
use crate::result::{Error, ErrorKind, Result};

/// A WebSocket frame: header bits, opcode, optional masking key and payload.
///
/// This is the value the frame-level `Handler` hooks (`on_frame`, `on_send_frame`) see and
/// may edit. It is plain data: it does no validation of its own, so it can represent frames a
/// conforming endpoint would never send (a reserved opcode, a control frame longer than 125
/// bytes, a non-final control frame); the protocol core checks every frame it receives or is
/// asked to send.
///
/// The payload is stored as given: for a frame with a masking key it is whatever the owner
/// put there (masked bytes straight from the wire, or clear bytes to be masked on sending).
/// [`Frame::remove_mask`] unmasks in place and forgets the key.
///
/// `Default` gives a final, unmasked Close frame with an empty payload, as in ws-rs.
///
/// ```
/// use ws::{Frame, OpCode};
///
/// let frame = Frame::message(b"hello".to_vec(), OpCode::Text, true);
/// assert!(frame.is_final());
/// assert!(!frame.is_control());
/// assert_eq!(frame.payload(), b"hello");
/// assert_eq!(frame.len(), 2 + 5); // two header bytes, five payload bytes
/// ```
#[derive(Debug, Clone)]
pub struct Frame {
    finished: bool,
    rsv1: bool,
    rsv2: bool,
    rsv3: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
    /// Whether `payload` holds the bytes of a `String` (so it is UTF-8)
    /// and has not been open to change since: set only by [`Frame::text`],
    /// cleared by everything that can change the payload. It lets a text
    /// message pass through the frame hooks without a second UTF-8 check.
    utf8: bool,
}

// Equal frames are equal field by field; whether the payload is known to be
// UTF-8 is bookkeeping, not part of the frame.
impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        self.fields() == other.fields()
    }
}

impl Eq for Frame {}

impl std::hash::Hash for Frame {
    fn hash<S: std::hash::Hasher>(&self, state: &mut S) {
        self.fields().hash(state);
    }
}

impl Default for Frame {
    fn default() -> Frame {
        Frame {
            finished: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode: OpCode::Close,
            mask: None,
            payload: Vec::new(),
            utf8: false,
        }
    }
}

impl Frame {
    /// What makes two frames equal: every field but the bookkeeping.
    #[allow(clippy::type_complexity)]
    fn fields(&self) -> (bool, bool, bool, bool, OpCode, Option<[u8; 4]>, &[u8]) {
        (
            self.finished,
            self.rsv1,
            self.rsv2,
            self.rsv3,
            self.opcode,
            self.mask,
            &self.payload,
        )
    }

    /// Creates a data frame: `code` should be [`OpCode::Text`], [`OpCode::Binary`] or
    /// [`OpCode::Continue`], and `finished` says whether it is the last frame of its message.
    ///
    /// Differs from ws-rs, which `debug_assert!`ed a data opcode: any opcode is stored as
    /// given, and the core rejects a wrong one when the frame is sent.
    pub fn message(data: Vec<u8>, code: OpCode, finished: bool) -> Frame {
        Frame {
            finished,
            opcode: code,
            payload: data,
            ..Frame::default()
        }
    }

    /// A final text frame holding `text`, known to be UTF-8 until its payload is changed:
    /// [`Frame::into_text`] then takes the string back without checking it again.
    pub(crate) fn text(text: String) -> Frame {
        Frame {
            opcode: OpCode::Text,
            payload: text.into_bytes(),
            utf8: true,
            ..Frame::default()
        }
    }

    /// The payload as a `String`: checked as UTF-8, unless it is a string's bytes that
    /// nothing could have changed since [`Frame::text`] made the frame.
    pub(crate) fn into_text(self) -> std::result::Result<String, std::string::FromUtf8Error> {
        if self.utf8 {
            #[allow(unsafe_code)]
            // SAFETY: `utf8` is set only by `Frame::text`, from a `String`'s
            // bytes, and cleared by every method that hands out the payload
            // for change or changes it (`payload_mut`, `remove_mask`,
            // `format`); the field is private, so the bytes are still that
            // string's.
            return Ok(unsafe { String::from_utf8_unchecked(self.payload) });
        }
        ws_proto::string_from_utf8(self.payload)
    }

    /// Creates a Ping frame with the given application data (at most 125 bytes on the wire).
    pub fn ping(data: Vec<u8>) -> Frame {
        Frame {
            opcode: OpCode::Ping,
            payload: data,
            ..Frame::default()
        }
    }

    /// Creates a Pong frame with the given application data (at most 125 bytes on the wire);
    /// a pong answering a ping echoes the ping's data.
    pub fn pong(data: Vec<u8>) -> Frame {
        Frame {
            opcode: OpCode::Pong,
            payload: data,
            ..Frame::default()
        }
    }

    /// Creates a Close frame carrying `code` (two bytes, network order) followed by the UTF-8
    /// `reason`.
    ///
    /// With [`CloseCode::Empty`] the payload is empty and `reason` is ignored, as in ws-rs.
    /// The reason is not truncated: code and reason together must fit in 125 bytes, so keep
    /// the reason within 123 bytes.
    pub fn close(code: CloseCode, reason: &str) -> Frame {
        let payload = if code == CloseCode::Empty {
            Vec::new()
        } else {
            let mut payload = Vec::with_capacity(2 + reason.len());
            payload.extend_from_slice(&u16::from(code).to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
            payload
        };
        Frame {
            opcode: OpCode::Close,
            payload,
            ..Frame::default()
        }
    }

    /// Creates a Close frame with an empty payload (no status code, no reason), which the
    /// peer reports as [`CloseCode::Status`] (1005). Same as
    /// `Frame::close(CloseCode::Empty, "")`.
    ///
    /// New in this crate.
    pub fn close_empty() -> Frame {
        Frame::default()
    }

    /// The length of the frame on the wire in bytes: header (2 to 14 bytes, depending on the
    /// payload length and on whether a masking key is present) plus payload.
    pub fn len(&self) -> usize {
        let payload_len = self.payload.len();
        let length_bytes = match payload_len {
            0..=125 => 0,
            126..=65535 => 2,
            _ => 8,
        };
        let mask_bytes = if self.mask.is_some() { 4 } else { 0 };
        (2 + length_bytes + mask_bytes) + payload_len
    }

    /// Always `false`: a frame has at least a two-byte header. Exists for symmetry with
    /// [`Frame::len`], as in ws-rs.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether the FIN bit is set: this is the last frame of its message (always true for
    /// control frames on the wire).
    pub fn is_final(&self) -> bool {
        self.finished
    }

    /// Whether the first reserved bit (RSV1) is set; only meaningful under an extension that
    /// defines it, such as permessage-deflate.
    pub fn has_rsv1(&self) -> bool {
        self.rsv1
    }

    /// Whether the second reserved bit (RSV2) is set.
    pub fn has_rsv2(&self) -> bool {
        self.rsv2
    }

    /// Whether the third reserved bit (RSV3) is set.
    pub fn has_rsv3(&self) -> bool {
        self.rsv3
    }

    /// The frame's opcode.
    pub fn opcode(&self) -> OpCode {
        self.opcode
    }

    /// Whether this is a control frame (Close, Ping, Pong; see [`OpCode::is_control`]).
    pub fn is_control(&self) -> bool {
        self.opcode.is_control()
    }

    /// The payload (still masked if the frame carries a masking key that was not removed).
    pub fn payload(&self) -> &Vec<u8> {
        &self.payload
    }

    /// The payload, for editing in place.
    pub fn payload_mut(&mut self) -> &mut Vec<u8> {
        self.utf8 = false;
        &mut self.payload
    }

    /// Consumes the frame and returns its payload, without copying.
    pub fn into_data(self) -> Vec<u8> {
        self.payload
    }

    /// Whether the frame carries a masking key.
    ///
    /// Hidden from the documentation in ws-rs; public and documented here.
    pub fn is_masked(&self) -> bool {
        self.mask.is_some()
    }

    /// The masking key, if any.
    ///
    /// Hidden from the documentation in ws-rs; public and documented here.
    pub fn mask(&self) -> Option<&[u8; 4]> {
        self.mask.as_ref()
    }

    /// Sets or clears the FIN bit.
    pub fn set_final(&mut self, is_final: bool) -> &mut Frame {
        self.finished = is_final;
        self
    }

    /// Sets or clears the first reserved bit (RSV1).
    pub fn set_rsv1(&mut self, has_rsv1: bool) -> &mut Frame {
        self.rsv1 = has_rsv1;
        self
    }

    /// Sets or clears the second reserved bit (RSV2).
    pub fn set_rsv2(&mut self, has_rsv2: bool) -> &mut Frame {
        self.rsv2 = has_rsv2;
        self
    }

    /// Sets or clears the third reserved bit (RSV3).
    pub fn set_rsv3(&mut self, has_rsv3: bool) -> &mut Frame {
        self.rsv3 = has_rsv3;
        self
    }

    /// Replaces the opcode.
    pub fn set_opcode(&mut self, opcode: OpCode) -> &mut Frame {
        self.opcode = opcode;
        self
    }

    /// Gives the frame a fresh, unpredictable masking key, as a client must for every frame
    /// it sends (RFC 6455 section 5.3).
    ///
    /// Only the key is stored: the payload is unchanged here and is masked when the frame is
    /// written out. The key comes from the OS random source (`ws_proto::os_seed`); ws-rs
    /// used `rand::random`.
    ///
    /// # Panics
    ///
    /// When the OS random source fails: a predictable mask is never used.
    pub fn set_mask(&mut self) -> &mut Frame {
        let mut key = [0u8; 4];
        random::fill(&mut key).expect("the OS random source failed");
        self.mask = Some(key);
        self
    }

    /// Unmasks the payload in place with the frame's masking key and removes the key; does
    /// nothing for a frame without one.
    ///
    /// Call it once, on a frame whose payload is still masked (as received from a client).
    pub fn remove_mask(&mut self) -> &mut Frame {
        if let Some(key) = self.mask.take() {
            self.utf8 = false;
            ws_proto::apply_mask(&mut self.payload, key, 0);
        }
        self
    }
}

impl Frame {
    /// Parses one frame from `cursor`, starting at its position, as ws-rs did.
    ///
    /// - `Ok(Some(frame))`: a whole frame was there; the cursor now stands after it. A masked
    ///   frame keeps its key and its payload stays masked (call [`Frame::remove_mask`]).
    /// - `Ok(None)`: the buffer holds only part of a frame; the cursor is where it was. Call
    ///   again once more bytes are appended.
    /// - `Err` ([`ErrorKind::Protocol`]): a reserved opcode, a 64-bit length with its top bit
    ///   set, a payload longer than `max_payload_length`, or a Ping or Pong longer than 125
    ///   bytes; the cursor is where it was.
    ///
    /// A Close frame longer than 125 bytes is replaced by a Close frame with code 1002
    /// ([`CloseCode::Protocol`]), as in ws-rs. No memory is reserved for a payload before it
    /// is all in the buffer, so a declared length costs nothing until its bytes arrive.
    ///
    /// This is a tool for programs that handle frames themselves; the connections of this
    /// crate are parsed by the protocol core, not by this function.
    ///
    /// ```
    /// use std::io::Cursor;
    /// use ws::{Frame, OpCode};
    ///
    /// // An unmasked text frame "Hello" (RFC 6455 section 5.7), then half of another one.
    /// let mut cursor = Cursor::new(vec![0x81, 0x05, b'H', b'e', b'l', b'l', b'o', 0x81]);
    /// let frame = Frame::parse(&mut cursor, 1 << 20).unwrap().unwrap();
    /// assert_eq!((frame.opcode(), frame.payload().as_slice()), (OpCode::Text, &b"Hello"[..]));
    /// assert_eq!(cursor.position(), 7);
    /// assert!(Frame::parse(&mut cursor, 1 << 20).unwrap().is_none());
    /// assert_eq!(cursor.position(), 7);
    /// ```
    pub fn parse(cursor: &mut Cursor<Vec<u8>>, max_payload_length: u64) -> Result<Option<Frame>> {
        let start = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
        let buf = cursor.get_ref().get(start..).unwrap_or_default();
        let (header, header_len) = match FrameHeader::parse(buf) {
            Ok(Status::Complete(parsed)) => parsed,
            Ok(Status::Partial) => return Ok(None),
            Err(e) => return Err(Error::new(ErrorKind::Protocol, e.to_string())),
        };
        if header.payload_len > max_payload_length {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "frame payload of {} bytes exceeds the maximum of {max_payload_length}",
                    header.payload_len
                ),
            ));
        }
        let available = (buf.len() - header_len) as u64;
        if header.payload_len > available {
            return Ok(None);
        }
        let opcode = OpCode::from(header.opcode);
        let long_control = header.payload_len > MAX_CONTROL_PAYLOAD as u64;
        if long_control && matches!(opcode, OpCode::Ping | OpCode::Pong) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "{opcode} frame of {} bytes: control frames carry at most 125",
                    header.payload_len
                ),
            ));
        }
        // Fits in the buffer, so in a usize.
        let end = header_len + header.payload_len as usize;
        let frame = if long_control && opcode == OpCode::Close {
            log::debug!("received a close frame longer than 125 bytes; treated as a 1002 close");
            Frame::close(
                CloseCode::Protocol,
                "Received close frame with payload length exceeding 125.",
            )
        } else {
            Frame {
                finished: header.fin,
                rsv1: header.rsv & ws_proto::RSV1 != 0,
                rsv2: header.rsv & ws_proto::RSV2 != 0,
                rsv3: header.rsv & ws_proto::RSV3 != 0,
                opcode,
                mask: header.mask,
                payload: buf[header_len..end].to_vec(),
                utf8: false,
            }
        };
        cursor.set_position((start + end) as u64);
        Ok(Some(frame))
    }

    /// Writes the frame to `w` in wire format, as ws-rs did.
    ///
    /// The header takes the shortest length form (RFC 6455 section 5.2). A frame with a
    /// masking key is masked on the way: the key is written, the payload is masked *in
    /// place* and the key is then removed from the frame, so the frame afterwards holds the
    /// masked bytes and no key (formatting it twice does not mask twice). Nothing is
    /// checked: the frame is written as it is (see [`Frame`]).
    ///
    /// ```
    /// use std::io::Cursor;
    /// use ws::{Frame, OpCode};
    ///
    /// let mut frame = Frame::message(b"Hello".to_vec(), OpCode::Text, true);
    /// let mut wire = Vec::new();
    /// frame.format(&mut wire).unwrap();
    /// assert_eq!(wire, [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
    ///
    /// // A masked frame comes back from `parse` with its key; unmasking gives the text.
    /// let mut masked = Frame::message(b"Hello".to_vec(), OpCode::Text, true);
    /// masked.set_mask();
    /// let mut wire = Vec::new();
    /// masked.format(&mut wire).unwrap();
    /// let mut parsed = Frame::parse(&mut Cursor::new(wire), 125).unwrap().unwrap();
    /// parsed.remove_mask();
    /// assert_eq!(parsed.payload(), b"Hello");
    /// ```
    pub fn format<W>(&mut self, w: &mut W) -> Result<()>
    where
        W: Write,
    {
        let rsv = (u8::from(self.rsv1) * ws_proto::RSV1)
            | (u8::from(self.rsv2) * ws_proto::RSV2)
            | (u8::from(self.rsv3) * ws_proto::RSV3);
        let header = FrameHeader {
            fin: self.finished,
            rsv,
            // The core's opcode has no reserved values; write the byte ourselves.
            opcode: ws_proto::OpCode::Text,
            mask: self.mask,
            payload_len: self.payload.len() as u64,
        };
        let mut head = [0; ws_proto::MAX_HEADER_LEN];
        let len = header.encode(&mut head);
        head[0] = (head[0] & 0xF0) | u8::from(self.opcode);
        w.write_all(&head[..len])?;
        if let Some(key) = self.mask.take() {
            self.utf8 = false;
            ws_proto::apply_mask(&mut self.payload, key, 0);
        }
        w.write_all(&self.payload)?;
        Ok(())
    }
}

impl fmt::Display for Frame {
    /// A multi-line, human-readable dump of the header fields and the payload in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "<FRAME>")?;
        writeln!(f, "final: {}", self.finished)?;
        writeln!(f, "reserved: {} {} {}", self.rsv1, self.rsv2, self.rsv3)?;
        writeln!(f, "opcode: {}", self.opcode)?;
        match self.mask {
            Some(key) => writeln!(
                f,
                "mask: 0x{:02x}{:02x}{:02x}{:02x}",
                key[0], key[1], key[2], key[3]
            )?,
            None => writeln!(f, "mask: none")?,
        }
        writeln!(f, "length: {}", self.len())?;
        writeln!(f, "payload length: {}", self.payload.len())?;
        f.write_str("payload: 0x")?;
        for byte in &self.payload {
            write!(f, "{byte:02x}")?;
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_opcode_and_payload() {
        let frame = Frame::message(vec![1, 2], OpCode::Binary, false);
        assert_eq!(frame.opcode(), OpCode::Binary);
        assert!(!frame.is_final());
        assert_eq!(frame.payload(), &vec![1, 2]);

        let ping = Frame::ping(b"p".to_vec());
        assert_eq!(ping.opcode(), OpCode::Ping);
        assert!(ping.is_control());
        assert!(ping.is_final());

        let pong = Frame::pong(b"p".to_vec());
        assert_eq!(pong.opcode(), OpCode::Pong);
        assert_eq!(pong.into_data(), b"p");
    }

    #[test]
    fn close_payload_is_code_then_reason() {
        let frame = Frame::close(CloseCode::Normal, "bye");
        assert_eq!(frame.opcode(), OpCode::Close);
        assert_eq!(frame.payload(), &[0x03, 0xE8, b'b', b'y', b'e']);

        let frame = Frame::close(CloseCode::Other(4001), "");
        assert_eq!(frame.payload(), &[0x0F, 0xA1]);

        let empty = Frame::close(CloseCode::Empty, "ignored");
        assert_eq!(empty.opcode(), OpCode::Close);
        assert!(empty.payload().is_empty());
        assert_eq!(empty, Frame::close_empty());
    }

    #[test]
    fn len_counts_header_bytes() {
        assert_eq!(Frame::message(vec![0; 0], OpCode::Text, true).len(), 2);
        assert_eq!(
            Frame::message(vec![0; 125], OpCode::Text, true).len(),
            2 + 125
        );
        assert_eq!(
            Frame::message(vec![0; 126], OpCode::Text, true).len(),
            4 + 126
        );
        assert_eq!(
            Frame::message(vec![0; 65535], OpCode::Text, true).len(),
            4 + 65535
        );
        assert_eq!(
            Frame::message(vec![0; 65536], OpCode::Text, true).len(),
            10 + 65536
        );
        let mut masked = Frame::ping(vec![0; 3]);
        masked.set_mask();
        assert_eq!(masked.len(), 2 + 4 + 3);
        assert!(!masked.is_empty());
    }

    #[test]
    fn setters_chain() {
        let mut frame = Frame::default();
        frame
            .set_final(false)
            .set_rsv1(true)
            .set_rsv2(true)
            .set_rsv3(true)
            .set_opcode(OpCode::Text);
        assert!(!frame.is_final());
        assert!(frame.has_rsv1() && frame.has_rsv2() && frame.has_rsv3());
        assert_eq!(frame.opcode(), OpCode::Text);
        frame.payload_mut().extend_from_slice(b"abc");
        assert_eq!(frame.payload(), b"abc");
    }

    #[test]
    fn remove_mask_unmasks_rfc_example() {
        // RFC 6455 section 5.7: a masked "Hello" from a client.
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = Frame::message(vec![0x7f, 0x9f, 0x4d, 0x51, 0x58], OpCode::Text, true);
        frame.mask = Some(key);
        assert!(frame.is_masked());
        assert_eq!(frame.mask(), Some(&key));
        frame.remove_mask();
        assert!(!frame.is_masked());
        assert_eq!(frame.payload(), b"Hello");
        // A second call is a no-op.
        frame.remove_mask();
        assert_eq!(frame.payload(), b"Hello");
    }

    #[test]
    fn set_mask_then_remove_mask_round_trips() {
        let mut frame = Frame::message(b"payload".to_vec(), OpCode::Binary, true);
        frame.set_mask();
        let key = *frame.mask().expect("a key was set");
        // Mask by hand as a writer would, then unmask.
        for (i, byte) in frame.payload_mut().iter_mut().enumerate() {
            *byte ^= key[i % 4];
        }
        frame.remove_mask();
        assert_eq!(frame.payload(), b"payload");
    }

    /// Every header shape: both FIN values, each reserved bit, every opcode, the three
    /// length forms at their edges, with and without a key.
    #[test]
    fn format_then_parse_round_trips() {
        let opcodes = [
            OpCode::Continue,
            OpCode::Text,
            OpCode::Binary,
            OpCode::Close,
            OpCode::Ping,
            OpCode::Pong,
        ];
        for opcode in opcodes {
            let lens: &[usize] = if opcode.is_control() {
                &[0, 1, 125]
            } else {
                &[0, 125, 126, 65535, 65536]
            };
            for &len in lens {
                for bits in 0..16u8 {
                    for masked in [false, true] {
                        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
                        let mut frame = Frame::message(payload.clone(), opcode, bits & 8 != 0);
                        frame
                            .set_rsv1(bits & 4 != 0)
                            .set_rsv2(bits & 2 != 0)
                            .set_rsv3(bits & 1 != 0);
                        if masked {
                            frame.set_mask();
                        }
                        let key = frame.mask().copied();
                        let original = frame.clone();
                        let mut wire = Vec::new();
                        frame.format(&mut wire).unwrap();
                        assert_eq!(wire.len(), original.len());
                        assert!(!frame.is_masked(), "format takes the key");
                        wire.push(0x81); // the start of a next frame stays unread
                        let mut cursor = Cursor::new(wire);
                        let mut parsed = Frame::parse(&mut cursor, 1 << 20).unwrap().unwrap();
                        assert_eq!(cursor.position() as usize, original.len());
                        assert_eq!(parsed.mask().copied(), key);
                        parsed.remove_mask();
                        let mut expected = original;
                        expected.mask = None;
                        assert_eq!(parsed, expected, "{opcode} len {len} bits {bits:04b}");
                    }
                }
            }
        }
    }

    #[test]
    fn parse_waits_for_every_byte() {
        let mut frame = Frame::message(vec![7; 300], OpCode::Binary, true);
        frame.set_mask();
        let mut wire = Vec::new();
        frame.format(&mut wire).unwrap();
        for cut in 0..wire.len() {
            let mut cursor = Cursor::new(wire[..cut].to_vec());
            assert!(
                Frame::parse(&mut cursor, 1 << 20).unwrap().is_none(),
                "cut {cut}"
            );
            assert_eq!(cursor.position(), 0);
        }
    }

    #[test]
    fn parse_refuses_what_ws_rs_refused() {
        let parse = |bytes: &[u8], max: u64| Frame::parse(&mut Cursor::new(bytes.to_vec()), max);
        // A reserved opcode.
        let e = parse(&[0x83, 0x00], 100).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Protocol), "{e}");
        // Over the caller's maximum, refused from the header alone.
        let e = parse(&[0x82, 0x7E, 0x01, 0x00], 255).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Protocol), "{e}");
        // A 64-bit length with the top bit set.
        let e = parse(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], u64::MAX).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Protocol), "{e}");
        // A ping longer than 125 bytes.
        let mut ping = vec![0x89, 0x7E, 0x00, 0x7E];
        ping.extend([0; 126]);
        assert!(parse(&ping, 1000).is_err());
        // A close longer than 125 bytes becomes a 1002 close.
        let mut close = vec![0x88, 0x7E, 0x00, 0x7E];
        close.extend([0; 126]);
        let frame = parse(&close, 1000).unwrap().unwrap();
        assert_eq!(frame.opcode(), OpCode::Close);
        assert_eq!(&frame.payload()[..2], &1002u16.to_be_bytes());
    }

    /// A huge declared length costs nothing before its bytes are there.
    #[test]
    fn parse_reserves_nothing_for_a_declared_length() {
        let mut cursor = Cursor::new(vec![0x82, 0x7F, 0, 0, 0, 0x10, 0, 0, 0, 0]);
        assert!(Frame::parse(&mut cursor, u64::MAX).unwrap().is_none());
    }

    #[test]
    fn display_lists_fields() {
        let frame = Frame::message(b"hi".to_vec(), OpCode::Text, true);
        let text = frame.to_string();
        assert!(text.contains("opcode: TEXT"));
        assert!(text.contains("payload: 0x6869"));
        assert!(text.contains("mask: none"));
    }

    /// A text frame's string comes back unchecked only while nothing could
    /// have changed it: every way to change the payload drops that.
    #[test]
    fn text_is_taken_back_unchecked_only_while_unchanged() {
        assert_eq!(Frame::text("ξένος".into()).into_text().unwrap(), "ξένος");

        let mut edited = Frame::text("ok".into());
        edited.payload_mut().push(0xff);
        assert!(edited.into_text().is_err());

        // Unmasking with a key whose bytes are all 0x80 turns ASCII into
        // continuation bytes.
        let mut unmasked = Frame::text("ok".into());
        unmasked.mask = Some([0x80; 4]);
        unmasked.remove_mask();
        assert!(unmasked.into_text().is_err());

        let mut written = Frame::text("ok".into());
        written.mask = Some([0x80; 4]);
        written.format(&mut Vec::new()).unwrap();
        assert!(written.into_text().is_err());

        // The bookkeeping is not part of the frame.
        let built = Frame::message(b"ok".to_vec(), OpCode::Text, true);
        assert_eq!(Frame::text("ok".into()), built);
        assert_eq!(built.into_text().unwrap(), "ok");
    }
}
