//! A small source of unpredictable bytes for client handshake keys and frame masks.
//!
//! The bytes come from SipHash (`std`'s `RandomState`) keyed by the per-thread random keys
//! the standard library draws from the operating system, applied to a process-wide counter.
//! They are unpredictable to a peer that does not know those keys, which is what RFC 6455
//! asks of a `Sec-WebSocket-Key` (section 4.1) and of a masking key (section 5.3), but they
//! are not a cryptographically secure random number generator and must not be used as one.
//! The protocol core masks the frames it sends with its own seeded generator; this source only
//! serves the data types of the facade (`Request::from_url`, `Frame::set_mask`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Fills `buf` with unpredictable (not cryptographically secure) bytes.
pub(crate) fn fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let bytes = hasher.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_length_and_differs_between_calls() {
        for len in [0, 1, 4, 7, 8, 9, 16, 33] {
            let mut buf = vec![0u8; len];
            fill(&mut buf);
        }
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, b);
    }
}
