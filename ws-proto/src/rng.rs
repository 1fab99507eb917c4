//! The seeded generator behind mask keys and client handshake keys.
//!
//! The core takes no randomness from the OS: the caller passes a 32-byte
//! seed (runtimes draw it from the OS once per connection). From it,
//! xoshiro256** gives the stream of mask keys. RFC 6455 section 5.3 asks that
//! masks not be predictable by the application that chooses the payload; a
//! generator seeded per connection from the OS satisfies that for a native
//! client, where no untrusted script picks payloads byte by byte.

#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: [u8; 32]) -> Self {
        let mut s = [0u64; 4];
        for (i, word) in s.iter_mut().enumerate() {
            *word = u64::from_le_bytes(seed[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        }
        // An all-zero state would stay zero: mix the seed with SplitMix64.
        let mut x = s[0] ^ s[1].rotate_left(13) ^ s[2].rotate_left(29) ^ s[3].rotate_left(47);
        for word in &mut s {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *word ^= z ^ (z >> 31);
        }
        Self { s }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    pub(crate) fn mask_key(&mut self) -> [u8; 4] {
        (self.next_u64() as u32).to_ne_bytes()
    }

    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_seed_still_varies_and_seeds_differ() {
        let mut a = Rng::new([0; 32]);
        let first = a.next_u64();
        assert_ne!(first, a.next_u64());
        let mut b = Rng::new([1; 32]);
        assert_ne!(Rng::new([0; 32]).next_u64(), b.next_u64());
    }
}
