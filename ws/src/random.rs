//! Unpredictable bytes for the facade's own data types: the key of
//! `Request::from_url` and the mask of `Frame::set_mask`.
//!
//! They come from the one OS seed function, `ws_proto::os_seed`, as the seeds of
//! the connections do (the core masks the frames it sends with its own generator,
//! seeded from the same source). When the OS random source fails, this fails too:
//! nothing falls back on a predictable source (RFC 6455 sections 4.1 and 5.3).

use ws_proto::SeedError;

/// Fills `buf` with bytes from the OS random source.
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), SeedError> {
    for chunk in buf.chunks_mut(32) {
        let seed = ws_proto::os_seed()?;
        chunk.copy_from_slice(&seed[..chunk.len()]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_length_and_differs_between_calls() {
        for len in [0, 1, 4, 7, 8, 9, 16, 33] {
            let mut buf = vec![0u8; len];
            fill(&mut buf).expect("the OS random source works here");
        }
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        fill(&mut a).expect("the OS random source works here");
        fill(&mut b).expect("the OS random source works here");
        assert_ne!(a, b);
    }
}
