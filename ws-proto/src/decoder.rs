//! The streaming frame decoder and fragment assembler.
//!
//! [`Decoder`] takes bytes in any split and gives back whole messages and
//! control frames. Payload bytes are unmasked while they are copied out of
//! the input, straight into the message being assembled: one copy, no
//! intermediate frame buffer. Limits are checked on each frame header, before
//! anything is allocated for its payload.
//!
//! Text is checked as UTF-8 as it arrives and built into its `String` as it
//! is checked: a masked piece is unmasked a block at a time into a small
//! buffer on the stack, checked there while it is in the L1 cache, and
//! appended. Each byte is checked once, and the message's `String` is the
//! buffer it was assembled in (no second check or copy to make it one).
//!
//! With permessage-deflate ([`Decoder::set_inflater`]), the payload of a
//! compressed message is unmasked into a small scratch buffer and inflated
//! straight into the message, in chunks, with the message size limit applied
//! to the inflated bytes as they are produced. A compressed text is inflated
//! a piece at a time, and each piece is checked and appended to the text's
//! `String` as above.

use crate::close::CloseFrame;
use crate::deflate::{INFLATE_CHUNK, InflateError, Inflater, max_compressed_len};
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, RSV1, Status};
use crate::mask::{mask_copy, mask_into};
use crate::message::Message;
use crate::utf8::Utf8Validator;

/// What the decoder produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A complete data message.
    Message(Message),
    /// A ping with its payload.
    Ping(Vec<u8>),
    /// A pong with its payload.
    Pong(Vec<u8>),
    /// A close frame, already checked; `None` when it carried no status.
    Close(Option<CloseFrame>),
}

/// The limits and rules the decoder applies.
#[derive(Clone, Copy, Debug)]
pub struct DecoderConfig {
    /// Refuse unmasked frames (a server) or masked frames (a client, when false).
    pub expect_masked: bool,
    /// Accept unmasked frames even though `expect_masked` is set.
    pub allow_unmasked: bool,
    /// The reserved bits an extension negotiated.
    pub allowed_rsv: u8,
    /// See [`Config::max_frame_size`](crate::Config::max_frame_size).
    pub max_frame_size: usize,
    /// See [`Config::max_message_size`](crate::Config::max_message_size).
    /// For a compressed message it limits the inflated bytes.
    pub max_message_size: usize,
    /// See [`Config::max_fragments`](crate::Config::max_fragments).
    pub max_fragments: usize,
}

/// The frame being read.
#[derive(Clone, Copy, Debug)]
struct Current {
    header: FrameHeader,
    /// Payload bytes read so far.
    read: u64,
}

/// A data message being assembled.
#[derive(Debug)]
struct Partial {
    text: bool,
    /// RSV1 was set on the first frame: the payload is inflated into `data`.
    compressed: bool,
    /// Compressed payload bytes received so far.
    wire: u64,
    /// A binary message; for a compressed text, the bytes of the last
    /// inflate call, on their way into `string`.
    data: Vec<u8>,
    /// A text, as much of it as is checked.
    string: String,
    /// Bytes inflated so far (a compressed text's `data` is emptied after
    /// each call, so it cannot say).
    inflated: usize,
    fragments: usize,
    utf8: Utf8Validator,
    /// Unmasked compressed bytes on their way to the inflater.
    scratch: Vec<u8>,
}

/// Streaming decoder: bytes in, [`Decoded`] items out.
///
/// ```
/// use ws_proto::{Decoded, Decoder, DecoderConfig, Message};
/// let mut dec = Decoder::new(DecoderConfig {
///     expect_masked: false, allow_unmasked: false, allowed_rsv: 0,
///     max_frame_size: 1 << 20, max_message_size: 1 << 20, max_fragments: 100,
/// });
/// // "Hel" then "lo" as two fragments, as in RFC 6455 section 5.7.
/// let wire = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
/// let (used, item) = dec.decode(&wire[..4]).unwrap();
/// assert_eq!((used, item), (4, None)); // all consumed, message not complete
/// let (used, item) = dec.decode(&wire[4..]).unwrap();
/// assert_eq!(used, 5);
/// assert_eq!(item, Some(Decoded::Message(Message::Text("Hello".into()))));
/// ```
#[derive(Debug)]
pub struct Decoder {
    config: DecoderConfig,
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    current: Option<Current>,
    /// A message that spans frames or reads (boxed: most messages arrive
    /// whole in one read and never need it).
    message: Option<Box<Partial>>,
    control: Vec<u8>,
    /// Boxed: a decoder without deflate stays small.
    inflater: Option<Box<Inflater>>,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            config,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            current: None,
            message: None,
            control: Vec::new(),
            inflater: None,
        }
    }

    /// Turns permessage-deflate on (with the negotiated window) or off. With
    /// an inflater, RSV1 marks the first frame of a compressed message and
    /// is refused on control frames and continuation frames (RFC 7692
    /// section 6: "An endpoint MUST NOT set the "Per-Message Compressed" bit
    /// of control frames and non-first fragments of a data message").
    /// Call it between messages (right after the handshake).
    pub fn set_inflater(&mut self, inflater: Option<Inflater>) {
        if inflater.is_some() {
            self.config.allowed_rsv |= RSV1;
        } else {
            self.config.allowed_rsv &= !RSV1;
        }
        self.inflater = inflater.map(Box::new);
    }

    /// The inflater set with [`Decoder::set_inflater`].
    pub fn inflater(&self) -> Option<&Inflater> {
        self.inflater.as_deref()
    }

    /// Changes the reserved bits allowed (after extension negotiation).
    pub fn set_allowed_rsv(&mut self, rsv: u8) {
        self.config.allowed_rsv = rsv;
    }

    /// Whether the decoder is between frames with no message open.
    pub fn is_idle(&self) -> bool {
        self.header_len == 0 && self.current.is_none() && self.message.is_none()
    }

    /// Consumes bytes from `input` until one item is complete or the input
    /// runs out. Returns how many bytes were used and the item, if any; call
    /// again with the rest of the input. After an error, the decoder must not
    /// be used again (the connection is failed).
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Decoded>), ProtocolError> {
        let mut pos = 0;
        loop {
            let Some(current) = self.current else {
                match self.read_header(&input[pos..])? {
                    (used, None) => return Ok((pos + used, None)),
                    (used, Some(header)) => {
                        pos += used;
                        if self.start_frame(header, input.len() - pos)? == Start::Whole {
                            let len = header.payload_len as usize;
                            let item = whole_message(header, &input[pos..pos + len])?;
                            return Ok((pos + len, Some(item)));
                        }
                        if header.payload_len == 0 {
                            if let Some(item) = self.finish_frame()? {
                                return Ok((pos, Some(item)));
                            }
                        }
                        continue;
                    }
                }
            };
            if pos == input.len() {
                return Ok((pos, None));
            }
            let header = current.header;
            let left = header.payload_len - current.read;
            let take = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(input.len() - pos);
            let chunk = &input[pos..pos + take];
            let phase = current.read as usize;
            let done = take as u64 == left;
            if header.opcode.is_control() {
                copy_payload(&mut self.control, chunk, header.mask, phase);
            } else if self.message.as_ref().is_some_and(|m| m.compressed) {
                let msg = self.message.as_mut().expect("data frame has a message");
                let inflater = self
                    .inflater
                    .as_mut()
                    .expect("compressed implies an inflater");
                let max = self.config.max_message_size;
                match header.mask {
                    None => inflate_part(inflater, msg, chunk, max)?,
                    Some(key) => {
                        for (i, part) in chunk.chunks(INFLATE_CHUNK).enumerate() {
                            let mut scratch = std::mem::take(&mut msg.scratch);
                            scratch.clear();
                            mask_into(&mut scratch, part, key, phase + i * INFLATE_CHUNK);
                            let inflated = inflate_part(inflater, msg, &scratch, max);
                            msg.scratch = scratch;
                            inflated?;
                        }
                    }
                }
            } else {
                let msg = self.message.as_mut().expect("data frame has a message");
                if msg.text {
                    // Checked as it arrives, so a bad sequence fails at once.
                    push_text(&mut msg.string, &mut msg.utf8, chunk, header.mask, phase)?;
                } else {
                    copy_payload(&mut msg.data, chunk, header.mask, phase);
                }
            }
            pos += take;
            if done {
                if let Some(item) = self.finish_frame()? {
                    return Ok((pos, Some(item)));
                }
            } else if let Some(cur) = self.current.as_mut() {
                cur.read += take as u64;
            }
        }
    }

    /// Reads a header from `input`, using the bytes stashed from earlier calls.
    fn read_header(&mut self, input: &[u8]) -> Result<(usize, Option<FrameHeader>), ProtocolError> {
        if self.header_len == 0 {
            return match FrameHeader::parse(input)? {
                Status::Complete((header, len)) => Ok((len, Some(header))),
                Status::Partial => {
                    self.header[..input.len()].copy_from_slice(input);
                    // A partial header is shorter than MAX_HEADER_LEN.
                    self.header_len = input.len() as u8;
                    Ok((input.len(), None))
                }
            };
        }
        let old = usize::from(self.header_len);
        let take = (MAX_HEADER_LEN - old).min(input.len());
        self.header[old..old + take].copy_from_slice(&input[..take]);
        match FrameHeader::parse(&self.header[..old + take])? {
            Status::Complete((header, len)) => {
                self.header_len = 0;
                Ok((len - old, Some(header)))
            }
            Status::Partial => {
                self.header_len = (old + take) as u8;
                Ok((take, None))
            }
        }
    }

    /// Applies the rules and limits to a new frame header. A whole
    /// uncompressed message in one frame, all of it in the input
    /// (`available` bytes), is left to [`whole_message`].
    fn start_frame(
        &mut self,
        header: FrameHeader,
        available: usize,
    ) -> Result<Start, ProtocolError> {
        let c = &self.config;
        let expect_masked = c.expect_masked && !(c.allow_unmasked && header.mask.is_none());
        header.validate(expect_masked, c.allowed_rsv)?;
        let compressed = header.rsv & RSV1 != 0 && self.inflater.is_some();
        if compressed && header.opcode.is_control() {
            return Err(ProtocolError::CompressedControlFrame);
        }
        if compressed && header.opcode == OpCode::Continuation {
            return Err(ProtocolError::CompressedContinuation);
        }
        // A compressed frame carries at most `max_frame_size` bytes of
        // content, but deflate makes incompressible content a little
        // longer: its wire length gets the same slack as a compressed
        // message (`max_compressed_len`).
        let frame_max = if compressed || self.message.as_ref().is_some_and(|m| m.compressed) {
            max_compressed_len(c.max_frame_size)
        } else {
            c.max_frame_size as u64
        };
        if header.payload_len > frame_max {
            return Err(ProtocolError::FrameTooLarge {
                len: header.payload_len,
                max: c.max_frame_size,
            });
        }
        // Room for up to twice what has arrived: a frame that spans two
        // reads is not copied again as it grows, and a header that claims
        // a large payload gets at most twice the bytes its sender sent.
        let reserve = usize::try_from(header.payload_len)
            .unwrap_or(usize::MAX)
            .min(available.saturating_mul(2));
        match header.opcode {
            OpCode::Continuation => {
                let msg = self
                    .message
                    .as_mut()
                    .ok_or(ProtocolError::UnexpectedContinuation)?;
                msg.fragments += 1;
                if msg.fragments > c.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        max: c.max_fragments,
                    });
                }
                if msg.compressed {
                    msg.wire += header.payload_len;
                    check_wire(msg.wire, c.max_message_size)?;
                } else if msg.text {
                    check_size(
                        msg.string.len() as u64 + header.payload_len,
                        c.max_message_size,
                    )?;
                    msg.string.reserve(reserve);
                } else {
                    check_size(
                        msg.data.len() as u64 + header.payload_len,
                        c.max_message_size,
                    )?;
                    msg.data.reserve(reserve);
                }
            }
            OpCode::Text | OpCode::Binary => {
                if self.message.is_some() {
                    return Err(ProtocolError::ExpectedContinuation);
                }
                if header.fin && !compressed && header.payload_len <= available as u64 {
                    check_size(header.payload_len, c.max_message_size)?;
                    return Ok(Start::Whole);
                }
                let text = header.opcode == OpCode::Text;
                let (data, string) = if compressed {
                    check_wire(header.payload_len, c.max_message_size)?;
                    // Grown by the inflater, within the limit.
                    (Vec::new(), String::new())
                } else {
                    check_size(header.payload_len, c.max_message_size)?;
                    if text {
                        (Vec::new(), String::with_capacity(reserve))
                    } else {
                        (Vec::with_capacity(reserve), String::new())
                    }
                };
                self.message = Some(Box::new(Partial {
                    text,
                    compressed,
                    wire: header.payload_len,
                    data,
                    string,
                    inflated: 0,
                    fragments: 1,
                    utf8: Utf8Validator::new(),
                    scratch: Vec::new(),
                }));
            }
            OpCode::Close | OpCode::Ping | OpCode::Pong => self.control.clear(),
        }
        self.current = Some(Current { header, read: 0 });
        Ok(Start::Frame)
    }

    /// Ends the current frame; returns an item when it completes one.
    fn finish_frame(&mut self) -> Result<Option<Decoded>, ProtocolError> {
        let header = self.current.take().expect("a frame is being read").header;
        let item = match header.opcode {
            OpCode::Ping => Decoded::Ping(std::mem::take(&mut self.control)),
            OpCode::Pong => Decoded::Pong(std::mem::take(&mut self.control)),
            OpCode::Close => Decoded::Close(CloseFrame::parse(&self.control)?),
            _ if !header.fin => return Ok(None),
            _ => {
                let mut msg = *self.message.take().expect("data frame has a message");
                if msg.compressed {
                    let inflater = self
                        .inflater
                        .as_mut()
                        .expect("compressed implies an inflater");
                    let max = self.config.max_message_size;
                    inflate_part(inflater, &mut msg, &[], max)?;
                }
                if msg.text {
                    // Every byte was checked on its way into the string;
                    // only a character cut short by the end is left.
                    msg.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                    Decoded::Message(Message::Text(msg.string))
                } else {
                    Decoded::Message(Message::Binary(msg.data))
                }
            }
        };
        Ok(Some(item))
    }
}

/// What [`Decoder::start_frame`] made of a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// The payload is read into the frame state as it arrives.
    Frame,
    /// A whole message in one frame, all in the input.
    Whole,
}

/// The message of a single uncompressed frame whose payload is all in
/// `payload`: unmasked while it is copied, checked as UTF-8 on the way when
/// text. No per-message state is kept.
fn whole_message(header: FrameHeader, payload: &[u8]) -> Result<Decoded, ProtocolError> {
    Ok(Decoded::Message(if header.opcode == OpCode::Text {
        let mut text = String::with_capacity(payload.len());
        let mut utf8 = Utf8Validator::new();
        push_text(&mut text, &mut utf8, payload, header.mask, 0)?;
        utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
        Message::Text(text)
    } else {
        let mut data = Vec::with_capacity(payload.len());
        copy_payload(&mut data, payload, header.mask, 0);
        Message::Binary(data)
    }))
}

/// Masked text goes through a block of this many bytes on the stack: small
/// enough to stay in the L1 cache between the unmasking, the UTF-8 check
/// and the copy into the message, large enough that the SIMD check runs on
/// long stretches.
const TEXT_BLOCK: usize = 4 * 1024;
/// Shorter payloads use a block of about their size instead (256 B or
/// 1 KiB), so that a small message does not pay for clearing the large
/// block (safe code cannot leave it uninitialised): clearing 4 KiB took
/// about 100 ns of the 300 ns that a 1 KiB text took to decode.
const SMALL_TEXT_BLOCKS: [usize; 2] = [256, 1024];

/// Appends the text payload bytes `src` (at payload offset `phase`) to
/// `out`, unmasked and checked as UTF-8 on the way.
fn push_text(
    out: &mut String,
    utf8: &mut Utf8Validator,
    src: &[u8],
    mask: Option<[u8; 4]>,
    phase: usize,
) -> Result<(), ProtocolError> {
    // Unmasked text goes through the block too (XOR with a zero key is a
    // copy): appending straight from the input ran at a fifth of the
    // speed here (`text/client/64KiB`: 75 µs against 16 µs), as the copy
    // of a whole message into a new `String` did before.
    let key = mask.unwrap_or([0; 4]);
    let checked = match src.len() {
        n if n <= SMALL_TEXT_BLOCKS[0] => {
            push_masked_text::<{ SMALL_TEXT_BLOCKS[0] }>(out, utf8, src, key, phase)
        }
        n if n <= SMALL_TEXT_BLOCKS[1] => {
            push_masked_text::<{ SMALL_TEXT_BLOCKS[1] }>(out, utf8, src, key, phase)
        }
        _ => push_masked_text::<TEXT_BLOCK>(out, utf8, src, key, phase),
    };
    checked.map_err(|_| ProtocolError::InvalidUtf8)
}

fn push_masked_text<const N: usize>(
    out: &mut String,
    utf8: &mut Utf8Validator,
    src: &[u8],
    key: [u8; 4],
    mut phase: usize,
) -> Result<(), crate::Utf8Error> {
    let mut block = [0u8; N];
    for piece in src.chunks(N) {
        let block = &mut block[..piece.len()];
        mask_copy(block, piece, key, phase);
        utf8.feed_into(block, out)?;
        phase = phase.wrapping_add(piece.len());
    }
    Ok(())
}

/// Inflates `input`, the next compressed bytes of `msg` (an empty `input`
/// ends the message: the inflater's [`finish`](Inflater::finish)), within
/// `max` bytes for the whole message. A text is checked as UTF-8 as it is
/// inflated and moved into its `String` piece by piece, so each of its
/// bytes is checked once and its `String` needs no final check or copy.
fn inflate_part(
    inflater: &mut Inflater,
    msg: &mut Partial,
    input: &[u8],
    max: usize,
) -> Result<(), ProtocolError> {
    let start = if msg.text { 0 } else { msg.data.len() };
    if msg.text {
        msg.data.clear();
    }
    let room = max.saturating_sub(msg.inflated);
    let before = msg.data.len();
    let inflated = if input.is_empty() {
        inflater.finish(&mut msg.data, before + room)
    } else {
        inflater.inflate(input, &mut msg.data, before + room)
    };
    msg.inflated += msg.data.len() - before;
    // The bytes inflated before a corrupt spot or the limit come first in
    // the message: their UTF-8 is checked before the inflate error is
    // reported, so the error does not depend on how the input was split
    // into reads.
    if msg.text {
        msg.utf8
            .feed_into(&msg.data[start..], &mut msg.string)
            .map_err(|_| ProtocolError::InvalidUtf8)?;
    }
    inflated.map_err(|e| match e {
        // The inflater counts what this call's buffer holds.
        InflateError::TooLarge { .. } => ProtocolError::MessageTooLarge {
            len: msg.inflated as u64,
            max,
        },
        e => inflate_error(e, max),
    })
}

fn check_size(len: u64, max: usize) -> Result<(), ProtocolError> {
    if len > max as u64 {
        Err(ProtocolError::MessageTooLarge { len, max })
    } else {
        Ok(())
    }
}

/// The compressed bytes of a message are limited too (see [`max_compressed_len`]).
fn check_wire(len: u64, max: usize) -> Result<(), ProtocolError> {
    if len > max_compressed_len(max) {
        Err(ProtocolError::MessageTooLarge { len, max })
    } else {
        Ok(())
    }
}

fn inflate_error(error: InflateError, max: usize) -> ProtocolError {
    match error {
        InflateError::TooLarge { len } => ProtocolError::MessageTooLarge { len, max },
        // zlib's own words are left out: which of them it uses depends on
        // how much input and output room each call had (a stream that went
        // bad with the output full reports "repeated call with bad state"
        // on the next call), so they would make the error depend on how the
        // input was split into reads.
        InflateError::Corrupt(_) => {
            ProtocolError::Extension("permessage-deflate: invalid compressed data".into())
        }
    }
}

fn copy_payload(dst: &mut Vec<u8>, src: &[u8], mask: Option<[u8; 4]>, phase: usize) {
    match mask {
        Some(key) => mask_into(dst, src, key, phase),
        None => dst.extend_from_slice(src),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::close::CloseCode;

    fn config(expect_masked: bool) -> DecoderConfig {
        DecoderConfig {
            expect_masked,
            allow_unmasked: false,
            allowed_rsv: 0,
            max_frame_size: 1 << 16,
            max_message_size: 1 << 17,
            max_fragments: 8,
        }
    }

    /// Feeds all of `wire`, collecting items until the input ends or an error.
    fn run(dec: &mut Decoder, mut wire: &[u8]) -> Result<Vec<Decoded>, ProtocolError> {
        let mut out = Vec::new();
        while !wire.is_empty() {
            let (used, item) = dec.decode(wire)?;
            out.extend(item);
            wire = &wire[used..];
            if used == 0 && out.is_empty() {
                break;
            }
        }
        Ok(out)
    }

    fn frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode: OpCode::from_u8(opcode).unwrap(),
            mask,
            payload_len: payload.len() as u64,
        };
        let mut out = Vec::new();
        header.write_to(&mut out);
        match mask {
            Some(key) => mask_into(&mut out, payload, key, 0),
            None => out.extend_from_slice(payload),
        }
        out
    }

    #[test]
    fn rfc_section_5_7_examples() {
        let key = Some([0x37, 0xfa, 0x21, 0x3d]);
        let table: &[(&[u8], bool, Decoded)] = &[
            (
                &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                false,
                Decoded::Message(Message::Text("Hello".into())),
            ),
            (
                &[
                    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                true,
                Decoded::Message(Message::Text("Hello".into())),
            ),
            (
                &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
                false,
                Decoded::Message(Message::Text("Hello".into())),
            ),
            (
                &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                false,
                Decoded::Ping(b"Hello".to_vec()),
            ),
            (
                &[
                    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                true,
                Decoded::Pong(b"Hello".to_vec()),
            ),
        ];
        let _ = key;
        for (wire, masked, expect) in table {
            let mut dec = Decoder::new(config(*masked));
            assert_eq!(
                run(&mut dec, wire).unwrap(),
                vec![expect.clone()],
                "{wire:02x?}"
            );
            assert!(dec.is_idle());
        }
    }

    #[test]
    fn any_split_gives_the_same_items() {
        let key = Some([1, 2, 3, 4]);
        let mut wire = frame(false, 1, key, "κό".as_bytes());
        wire.extend(frame(true, 9, key, b"ping"));
        wire.extend(frame(true, 0, key, "σμε".as_bytes()));
        wire.extend(frame(true, 2, key, &[7; 300]));
        wire.extend(frame(true, 8, key, &[0x03, 0xe8, b'b', b'y', b'e']));
        let whole = run(&mut Decoder::new(config(true)), &wire).unwrap();
        assert_eq!(whole.len(), 4);
        for a in 0..wire.len() {
            for b in a..wire.len().min(a + 40) {
                let mut dec = Decoder::new(config(true));
                let mut items = run(&mut dec, &wire[..a]).unwrap();
                items.extend(run(&mut dec, &wire[a..b]).unwrap());
                items.extend(run(&mut dec, &wire[b..]).unwrap());
                assert_eq!(items, whole, "split {a} {b}");
            }
        }
        assert_eq!(
            whole.last(),
            Some(&Decoded::Close(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: "bye".into()
            })))
        );
    }

    #[test]
    fn fragment_order_errors() {
        let mut dec = Decoder::new(config(false));
        assert_eq!(
            run(&mut dec, &frame(true, 0, None, b"x")),
            Err(ProtocolError::UnexpectedContinuation)
        );
        let mut dec = Decoder::new(config(false));
        let mut wire = frame(false, 1, None, b"a");
        wire.extend(frame(true, 2, None, b"b"));
        assert_eq!(
            run(&mut dec, &wire),
            Err(ProtocolError::ExpectedContinuation)
        );
    }

    #[test]
    fn limits_are_checked_on_the_header() {
        // A declared 2^63 - 1 length is refused at once, nothing allocated.
        let mut dec = Decoder::new(config(false));
        let wire = [0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            run(&mut dec, &wire),
            Err(ProtocolError::FrameTooLarge { .. })
        ));
        // Two frames under the frame limit that together pass the message limit.
        let mut dec = Decoder::new(config(false));
        let mut wire = frame(false, 2, None, &vec![0; 1 << 16]);
        wire.extend(frame(false, 0, None, &vec![0; 1 << 16]));
        wire.extend(frame(true, 0, None, &[0; 1]));
        assert!(matches!(
            run(&mut dec, &wire),
            Err(ProtocolError::MessageTooLarge { .. })
        ));
        // Too many fragments: 1008.
        let mut dec = Decoder::new(config(false));
        let mut wire = frame(false, 2, None, b"");
        for _ in 0..8 {
            wire.extend(frame(false, 0, None, b""));
        }
        let err = run(&mut dec, &wire).unwrap_err();
        assert_eq!(err, ProtocolError::TooManyFragments { max: 8 });
        assert_eq!(err.close_code(), CloseCode::POLICY);
    }

    #[test]
    fn invalid_utf8_fails_mid_frame() {
        // A frame declaring 20 bytes whose first bytes are already invalid
        // fails before the rest of the payload arrives.
        let mut dec = Decoder::new(config(false));
        let mut wire = vec![0x81, 20];
        wire.extend_from_slice(b"ok\xf4\x90");
        assert_eq!(run(&mut dec, &wire), Err(ProtocolError::InvalidUtf8));
        // Split across fragments: the second fragment's first byte is bad.
        let mut dec = Decoder::new(config(false));
        let mut wire = frame(false, 1, None, b"\xce");
        wire.extend(frame(false, 0, None, b"\x20"));
        assert_eq!(run(&mut dec, &wire), Err(ProtocolError::InvalidUtf8));
        // Complete in one frame: checked once at the end.
        let mut dec = Decoder::new(config(false));
        assert_eq!(
            run(&mut dec, &frame(true, 1, None, b"a\xffb")),
            Err(ProtocolError::InvalidUtf8)
        );
        // A message ending inside a code point.
        let mut dec = Decoder::new(config(false));
        let mut wire = frame(false, 1, None, b"\xe2\x82");
        wire.extend(frame(true, 0, None, b""));
        assert_eq!(run(&mut dec, &wire), Err(ProtocolError::InvalidUtf8));
    }

    #[test]
    fn masking_rules_by_role() {
        let mut server = Decoder::new(config(true));
        assert_eq!(
            run(&mut server, &frame(true, 2, None, b"x")),
            Err(ProtocolError::UnmaskedFrame)
        );
        let mut client = Decoder::new(config(false));
        assert_eq!(
            run(&mut client, &frame(true, 2, Some([1; 4]), b"x")),
            Err(ProtocolError::MaskedFrame)
        );
        let mut lax = Decoder::new(DecoderConfig {
            allow_unmasked: true,
            ..config(true)
        });
        assert_eq!(run(&mut lax, &frame(true, 2, None, b"x")).unwrap().len(), 1);
    }

    #[test]
    fn close_payload_errors() {
        for (payload, err) in [
            (&[1u8][..], ProtocolError::InvalidClosePayload),
            (&[0x03, 0xed][..], ProtocolError::InvalidCloseCode(1005)),
            (&[0x03, 0xe8, 0xc0][..], ProtocolError::InvalidCloseReason),
        ] {
            let mut dec = Decoder::new(config(false));
            assert_eq!(run(&mut dec, &frame(true, 8, None, payload)), Err(err));
        }
    }
}
