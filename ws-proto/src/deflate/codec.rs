//! The permessage-deflate codec: compressing and inflating the payloads of
//! messages (RFC 7692 section 7.2), within bounded memory.

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::budget::{INFLATER_BYTES, Reservation, deflater_bytes};
use super::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// The most bytes the decompressor writes into a message per step.
pub const INFLATE_CHUNK: usize = 16 * 1024;

/// The four bytes a sync flush ends with, removed from each compressed
/// message by the sender and put back by the receiver (RFC 7692 section 7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The most compressed bytes one message may have under a limit of
/// `max_message_size` inflated bytes: the limit plus 1/64 plus 1 KiB, well
/// above what deflate adds to incompressible data (about 0.03 %).
pub fn max_compressed_len(max_message_size: usize) -> u64 {
    let max = max_message_size as u64;
    max.saturating_add(max / 64).saturating_add(1024)
}

/// Compresses messages for one direction of a connection (RFC 7692 section 7.2.1).
///
/// The zlib state is created on the first message and kept (reset after
/// each message without context takeover).
pub struct Deflater {
    level: Compression,
    window_bits: u8,
    no_context_takeover: bool,
    state: Option<Compress>,
    /// The state's share of the process-wide [`budget`](crate::deflate_budget).
    reservation: Option<Reservation>,
}

impl fmt::Debug for Deflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deflater")
            .field("level", &self.level.level())
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("allocated", &self.state.is_some())
            .finish()
    }
}

impl Deflater {
    /// A compressor with `level` (0 to 9) and a window of `window_bits`
    /// (9 to 15; 8 is taken as 9, which zlib cannot go below, so it must
    /// not be used where the peer allowed only 8).
    pub fn new(level: u32, window_bits: u8, no_context_takeover: bool) -> Self {
        Self {
            level: Compression::new(level.min(9)),
            window_bits: window_bits.clamp(MIN_WINDOW_BITS + 1, MAX_WINDOW_BITS),
            no_context_takeover,
            state: None,
            reservation: None,
        }
    }

    /// Compresses one whole message into `out` (cleared first), without
    /// the final `00 00 ff ff`. Returns `false` when zlib failed, in which
    /// case the state is reset, or when the zlib state is yet to be made
    /// and the process-wide [`budget`](crate::deflate_budget) has no room for it;
    /// the message should then go out uncompressed.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> bool {
        let (level, bits) = (self.level, self.window_bits);
        if self.state.is_none() {
            let Some(reservation) = Reservation::try_take(deflater_bytes(bits)) else {
                return false;
            };
            self.reservation = Some(reservation);
        }
        let state = self
            .state
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits));
        out.clear();
        out.reserve(payload.len() / 2 + 64);
        let mut input = payload;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before = state.total_in();
            if state.compress_vec(input, out, FlushCompress::Sync).is_err() {
                state.reset();
                return false;
            }
            input = &input[(state.total_in() - before) as usize..];
            // Done when all input is taken and the flush left room unused.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.no_context_takeover {
            state.reset();
        }
        true
    }

    /// Forgets the previous messages: the next one is compressed from an
    /// empty window. The peer can inflate it whatever its own window holds.
    pub fn reset(&mut self) {
        if let Some(state) = &mut self.state {
            state.reset();
        }
    }

    /// The window it compresses with, as a base-2 logarithm (9 to 15).
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Whether the zlib state has been allocated (a message was compressed).
    pub fn is_allocated(&self) -> bool {
        self.state.is_some()
    }
}

/// Why inflating failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message would pass the limit.
    TooLarge {
        /// Bytes the message reached (at most the limit plus one).
        len: u64,
    },
    /// The compressed data was invalid.
    Corrupt(String),
}

/// Inflates messages for one direction of a connection (RFC 7692 section 7.2.2).
///
/// Feed a message's compressed payload in pieces with
/// [`Inflater::inflate`], then call [`Inflater::finish`] after its last
/// frame. Output never grows past the limit plus one byte.
pub struct Inflater {
    window_bits: u8,
    state: Option<Decompress>,
    /// The state's share of the process-wide [`budget`](crate::deflate_budget).
    reservation: Option<Reservation>,
    /// The peer ended the deflate stream (a block with BFINAL) within this
    /// message: anything after it is ignored, and the state is reset for
    /// the next message.
    ended: bool,
}

impl fmt::Debug for Inflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("allocated", &self.state.is_some())
            .finish()
    }
}

impl Inflater {
    /// A decompressor with a window of `window_bits` (8 is taken as 9, which
    /// reads 8-bit data too).
    pub fn new(window_bits: u8) -> Self {
        Self {
            window_bits: window_bits.clamp(MIN_WINDOW_BITS + 1, MAX_WINDOW_BITS),
            state: None,
            reservation: None,
            ended: false,
        }
    }

    /// Inflates part of a message's compressed payload, appending to `out`.
    /// Fails as soon as `out` would hold more than `limit` bytes; `out` then
    /// holds at most `limit + 1`.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        self.run(input, out, limit, FlushDecompress::None)
    }

    /// Ends a message: inflates the `00 00 ff ff` the sender removed.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        self.run(&TAIL, out, limit, FlushDecompress::Sync)?;
        if std::mem::take(&mut self.ended) {
            if let Some(state) = &mut self.state {
                state.reset(false);
            }
        }
        Ok(())
    }

    /// Whether the zlib state has been allocated (a message was inflated).
    pub fn is_allocated(&self) -> bool {
        self.state.is_some()
    }

    fn run(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
        flush: FlushDecompress,
    ) -> Result<(), InflateError> {
        if self.ended {
            return Ok(());
        }
        let bits = self.window_bits;
        if self.state.is_none() {
            // Counted, never refused: the peer's compressed data must be read.
            self.reservation = Some(Reservation::take(INFLATER_BYTES));
        }
        let state = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        loop {
            reserve_bounded(out, INFLATE_CHUNK, limit);
            let (in_before, out_before) = (state.total_in(), state.total_out());
            let status = state.decompress_vec(input, out, flush);
            // What was inflated before an error counts first: past the
            // limit, the message is too large however the stream goes on
            // (and however its input was split).
            if out.len() > limit {
                return Err(InflateError::TooLarge {
                    len: out.len() as u64,
                });
            }
            let status = status.map_err(|e| InflateError::Corrupt(e.to_string()))?;
            input = &input[(state.total_in() - in_before) as usize..];
            let produced = state.total_out() - out_before;
            if out.len() > limit {
                return Err(InflateError::TooLarge {
                    len: out.len() as u64,
                });
            }
            match status {
                Status::StreamEnd => {
                    self.ended = true;
                    return Ok(());
                }
                // No progress possible: more input is needed.
                Status::BufError => return Ok(()),
                Status::Ok => {}
            }
            // All input taken and room left over: nothing more is pending.
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(());
            }
            if produced == 0 && input.is_empty() {
                return Ok(());
            }
        }
    }
}

/// Makes room for up to `chunk` more bytes, but never capacity beyond
/// `limit + 1` (one byte past the limit is how it is detected).
fn reserve_bounded(out: &mut Vec<u8>, chunk: usize, limit: usize) {
    let cap_max = limit.saturating_add(1);
    let want = chunk.min(cap_max.saturating_sub(out.len())).max(1);
    if out.capacity() - out.len() >= want {
        return;
    }
    let target = out
        .capacity()
        .saturating_mul(2)
        .min(cap_max)
        .max(out.len() + want);
    out.reserve_exact(target - out.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize, seed: u32) -> Vec<u8> {
        // Text-like and somewhat repetitive, with some noise.
        let words = [
            "alpha ",
            "beta ",
            "gamma ",
            "delta ",
            "{\"id\": ",
            "42, ",
            "\n",
        ];
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x % 11 == 0 {
                out.push((x >> 8) as u8);
            } else {
                out.extend_from_slice(words[(x >> 4) as usize % words.len()].as_bytes());
            }
        }
        out.truncate(n);
        out
    }

    fn round_trip(def: &mut Deflater, inf: &mut Inflater, msg: &[u8], piece: usize) -> usize {
        let mut wire = Vec::new();
        assert!(def.compress(msg, &mut wire));
        assert!(!wire.ends_with(&TAIL) || wire.len() < 4 || msg.is_empty());
        let mut out = Vec::new();
        for chunk in wire.chunks(piece.max(1)) {
            inf.inflate(chunk, &mut out, usize::MAX - 1).unwrap();
        }
        inf.finish(&mut out, usize::MAX - 1).unwrap();
        assert_eq!(out, msg);
        wire.len()
    }

    #[test]
    fn round_trips_with_and_without_context_takeover() {
        for bits in 9..=15 {
            for reset in [false, true] {
                let mut def = Deflater::new(6, bits, reset);
                let mut inf = Inflater::new(bits);
                let mut sizes = Vec::new();
                for (i, len) in [0, 1, 100, 5000, 5000, 70_000, 3].into_iter().enumerate() {
                    let msg = sample(len, (i % 4) as u32);
                    sizes.push(round_trip(&mut def, &mut inf, &msg, 1 + i * 37));
                }
                // A repeated message compresses to almost nothing with
                // context takeover, and to the same size without.
                let msg = sample(5000, 9);
                let first = round_trip(&mut def, &mut inf, &msg, 4096);
                let again = round_trip(&mut def, &mut inf, &msg, 4096);
                if reset {
                    assert_eq!(first, again, "bits {bits}");
                } else if bits >= 13 {
                    // The repeat lies within the window: a few back-references.
                    assert!(again < first / 10, "bits {bits}: {again} vs {first}");
                }
            }
        }
    }

    #[test]
    fn empty_message_compresses_to_one_byte() {
        // A sync flush of nothing is 00 00 00 ff ff: one empty stored block
        // after the tail is removed.
        let mut def = Deflater::new(6, 15, false);
        let mut out = Vec::new();
        assert!(def.compress(b"", &mut out));
        assert_eq!(out, [0x00]);
    }

    #[test]
    fn rfc_examples_inflate() {
        // RFC 7692 section 7.2.3.1 ("Hello" in one block), 7.2.3.2 (context
        // takeover: the second "Hello" is a back-reference), 7.2.3.3 (no
        // compression, a stored block), 7.2.3.5 (two blocks).
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let again = [0xf2, 0x00, 0x11, 0x00, 0x00];
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        let blocks = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        let mut inf = Inflater::new(15);
        for wire in [&hello[..], &again, &stored, &blocks] {
            let mut out = Vec::new();
            inf.inflate(wire, &mut out, 100).unwrap();
            inf.finish(&mut out, 100).unwrap();
            assert_eq!(out, b"Hello", "{wire:02x?}");
        }
        // BFINAL set (section 7.2.3.4 allows it): the stream ends, and the
        // next message starts a new one.
        let final_block = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        for _ in 0..2 {
            let mut out = Vec::new();
            inf.inflate(&final_block, &mut out, 100).unwrap();
            inf.finish(&mut out, 100).unwrap();
            assert_eq!(out, b"Hello");
        }
    }

    #[test]
    fn corrupt_data_is_an_error() {
        let mut inf = Inflater::new(15);
        let mut out = Vec::new();
        // Block type 3 is invalid.
        let err = inf.inflate(&[0xff, 0xff, 0xff], &mut out, 100).unwrap_err();
        assert!(matches!(err, InflateError::Corrupt(_)), "{err:?}");
    }

    /// 16 MiB of zeros against a 1 MiB limit: refused once the output
    /// passes the limit, with the output never above limit + 1 bytes.
    #[test]
    fn bomb_is_refused_within_the_limit() {
        let limit = 1 << 20;
        let mut def = Deflater::new(9, 15, false);
        let mut wire = Vec::new();
        assert!(def.compress(&vec![0u8; 16 << 20], &mut wire));
        assert!(wire.len() < 32 * 1024, "{}", wire.len());
        let mut inf = Inflater::new(15);
        let mut out = Vec::new();
        let mut result = Ok(());
        for chunk in wire.chunks(1000) {
            result = inf.inflate(chunk, &mut out, limit);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(
            result,
            Err(InflateError::TooLarge {
                len: limit as u64 + 1
            })
        );
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
    }

    #[test]
    fn reserve_bounded_never_passes_the_limit() {
        let mut v = Vec::new();
        for _ in 0..100 {
            reserve_bounded(&mut v, 1000, 2500);
            let room = v.capacity() - v.len();
            v.resize(v.len() + room.min(1000), 0);
            assert!(v.capacity() <= 2501);
            if v.len() == 2501 {
                break;
            }
        }
        assert_eq!(v.len(), 2501);
    }

    #[test]
    fn max_compressed_len_leaves_room_for_expansion() {
        assert_eq!(max_compressed_len(0), 1024);
        assert_eq!(max_compressed_len(64 << 20), (64 << 20) + (1 << 20) + 1024);
        assert_eq!(max_compressed_len(usize::MAX), u64::MAX);
    }
}
