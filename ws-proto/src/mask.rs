//! Payload masking (RFC 6455 section 5.3).
//!
//! Masking XORs every payload byte with one of four key bytes, chosen by the
//! byte's offset in the payload modulo 4. The functions here work on whole
//! words in safe code, and take a `phase` (the payload offset of the first
//! byte, modulo 4) so that a payload can be (un)masked in pieces as it arrives.

/// Rotates the key so that index 0 applies to a byte at payload offset `phase`.
#[inline]
fn rotated(key: [u8; 4], phase: usize) -> [u8; 4] {
    let p = phase & 3;
    [key[p], key[(p + 1) & 3], key[(p + 2) & 3], key[(p + 3) & 3]]
}

/// Masks or unmasks `buf` in place. `phase` is the offset of `buf[0]` within
/// the frame payload (only its value modulo 4 matters). Masking twice with the
/// same key and phase gives back the original bytes.
///
/// ```
/// let mut data = *b"Hello";
/// ws_proto::apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 section 5.7
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) {
    let k = rotated(key, phase);
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        // Four independent words per iteration let the compiler vectorise.
        for lane in block.chunks_exact_mut(8) {
            let v = u64::from_ne_bytes(lane.try_into().expect("8-byte lane")) ^ word;
            lane.copy_from_slice(&v.to_ne_bytes());
        }
    }
    let rest = blocks.into_remainder();
    let mut words = rest.chunks_exact_mut(8);
    for lane in &mut words {
        let v = u64::from_ne_bytes(lane.try_into().expect("8-byte lane")) ^ word;
        lane.copy_from_slice(&v.to_ne_bytes());
    }
    // Every full chunk above is a multiple of 4 bytes long, so the tail starts
    // at key index 0 again.
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= k[i & 3];
    }
}

/// Writes `src` to `dst` (of the same length), masked (or unmasked) with
/// `key` starting at payload offset `phase`: the copy and the XOR in one
/// pass, word by word.
#[inline]
pub(crate) fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) {
    assert_eq!(dst.len(), src.len(), "mask_copy needs equal lengths");
    let k = rotated(key, phase);
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut out = dst.chunks_exact_mut(32);
    let mut from = src.chunks_exact(32);
    for (o, f) in (&mut out).zip(&mut from) {
        // Four independent words per iteration let the compiler vectorise.
        for (o, f) in o.chunks_exact_mut(8).zip(f.chunks_exact(8)) {
            let v = u64::from_ne_bytes(f.try_into().expect("8-byte lane")) ^ word;
            o.copy_from_slice(&v.to_ne_bytes());
        }
    }
    // Every full block above is 32 bytes, so the tail starts at key index 0.
    let (out, from) = (out.into_remainder(), from.remainder());
    for (i, (o, f)) in out.iter_mut().zip(from).enumerate() {
        *o = f ^ k[i & 3];
    }
}

/// Appends `src` to `dst`, masked (or unmasked) with `key` starting at payload
/// offset `phase`.
///
/// The copy and the XOR run block by block, so each block is still in the
/// L1 cache when it is unmasked: one pass over memory, as if fused.
#[inline]
pub fn mask_into(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], phase: usize) {
    const BLOCK: usize = 8 * 1024;
    dst.reserve(src.len());
    let mut phase = phase;
    for block in src.chunks(BLOCK) {
        let start = dst.len();
        dst.extend_from_slice(block);
        apply_mask(&mut dst[start..], key, phase);
        phase = phase.wrapping_add(block.len());
    }
}

/// The byte-at-a-time reference, kept for tests and benchmarks.
#[doc(hidden)]
pub fn apply_mask_bytewise(buf: &mut [u8], key: [u8; 4], phase: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(i + phase) & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + 7) as u8).collect()
    }

    #[test]
    fn matches_bytewise_reference_for_every_length_and_phase() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        for len in 0..300 {
            for phase in 0..4 {
                let mut fast = pattern(len);
                let mut slow = pattern(len);
                apply_mask(&mut fast, key, phase);
                apply_mask_bytewise(&mut slow, key, phase);
                assert_eq!(fast, slow, "len {len} phase {phase}");

                let mut copied = vec![0; len];
                mask_copy(&mut copied, &pattern(len), key, phase);
                assert_eq!(copied, slow, "mask_copy len {len} phase {phase}");

                let mut fused = vec![0xaa; 3];
                mask_into(&mut fused, &pattern(len), key, phase);
                assert_eq!(&fused[..3], &[0xaa; 3]);
                assert_eq!(&fused[3..], &slow[..], "mask_into len {len} phase {phase}");
            }
        }
    }

    #[test]
    fn split_at_any_point_equals_whole() {
        let key = [1, 2, 3, 4];
        let src = pattern(100);
        let mut whole = src.clone();
        apply_mask(&mut whole, key, 0);
        for cut in 0..=100 {
            let mut out = Vec::new();
            mask_into(&mut out, &src[..cut], key, 0);
            mask_into(&mut out, &src[cut..], key, cut);
            assert_eq!(out, whole, "cut {cut}");
        }
    }

    #[test]
    fn large_buffer_spans_blocks() {
        let key = [9, 8, 7, 6];
        let src = pattern(3 * 8192 + 13);
        let mut expect = src.clone();
        apply_mask_bytewise(&mut expect, key, 1);
        let mut out = Vec::new();
        mask_into(&mut out, &src, key, 1);
        assert_eq!(out, expect);
    }
}
