//! The process-wide budget for permessage-deflate memory.
//!
//! Each compressor costs some 250 to 370 KiB and each decompressor about
//! 46 KiB once used (measured with a counting allocator: `cargo test -p
//! ws-proto --release --test memory -- --nocapture`), so ten thousand
//! compressing connections would hold 4 GiB. The budget bounds the total
//! for the whole process, across every [`Connection`](crate::Connection)
//! and runtime:
//!
//! - a server accepts the extension only while the budget has room for
//!   one more connection's compressor and decompressor: past it, new
//!   connections are answered without compression;
//! - a compressor is allocated (on a connection's first compressed
//!   message) only when its cost fits: past the budget, messages go out
//!   uncompressed, which RFC 7692 allows message by message, until memory
//!   is given back;
//! - a decompressor is always allocated once the peer sends compressed
//!   data (the connection could not read it otherwise), and counts.
//!
//! Memory comes back when a connection (its compressor, its decompressor)
//! is dropped. The default, [`DEFAULT_MEMORY_BUDGET`], is 256 MiB: some
//! 650 connections compressing with 15-bit windows. Change it once at
//! start-up with [`set_memory_budget`]; [`usize::MAX`] turns the bound off.
//!
//! ```
//! use ws_proto::deflate_budget as budget;
//!
//! budget::set_memory_budget(64 << 20);
//! assert_eq!(budget::memory_budget(), 64 << 20);
//! assert!(budget::memory_in_use() <= budget::memory_budget());
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

/// The default budget: 256 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

/// What a decompressor holds once used (zlib-rs allocates a 32 KiB window
/// and its state whatever the negotiated size; measured by ws-proto's
/// `memory` test).
pub const INFLATER_BYTES: usize = 46 << 10;

static BUDGET: AtomicUsize = AtomicUsize::new(DEFAULT_MEMORY_BUDGET);
static IN_USE: AtomicUsize = AtomicUsize::new(0);

/// What a compressor with a window of `window_bits` holds once used:
/// zlib-rs's fixed tables and buffers (about 245 KiB) and `4 << bits` for
/// the window.
pub fn deflater_bytes(window_bits: u8) -> usize {
    (245 << 10) + (4 << window_bits.min(15))
}

/// Sets the process-wide budget, in bytes. Memory already in use stays;
/// a smaller budget only stops new allocations and new agreements.
pub fn set_memory_budget(bytes: usize) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// The process-wide budget, in bytes.
pub fn memory_budget() -> usize {
    BUDGET.load(Ordering::Relaxed)
}

/// The bytes the compressors and decompressors alive now hold (as
/// estimated by [`deflater_bytes`] and [`INFLATER_BYTES`]).
pub fn memory_in_use() -> usize {
    IN_USE.load(Ordering::Relaxed)
}

/// Whether `bytes` more would fit in the budget now.
pub(crate) fn has_room(bytes: usize) -> bool {
    memory_in_use().saturating_add(bytes) <= memory_budget()
}

/// Memory taken from the budget, given back on drop.
#[derive(Debug)]
pub(crate) struct Reservation(usize);

impl Reservation {
    /// Takes `bytes` when they fit; `None` when they would pass the budget.
    pub(crate) fn try_take(bytes: usize) -> Option<Self> {
        let budget = memory_budget();
        IN_USE
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= budget)
            })
            .ok()
            .map(|_| Self(bytes))
    }

    /// Takes `bytes` whether they fit or not (a decompressor the
    /// connection cannot do without).
    pub(crate) fn take(bytes: usize) -> Self {
        IN_USE.fetch_add(bytes, Ordering::AcqRel);
        Self(bytes)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        IN_USE.fetch_sub(self.0, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_follow_the_measured_table() {
        // As measured by the `memory` test: 371 KiB at 15 bits, 259 at 12.
        assert_eq!(deflater_bytes(15) >> 10, 373);
        assert_eq!(deflater_bytes(12) >> 10, 261);
        assert!(deflater_bytes(20) == deflater_bytes(15));
    }
}
