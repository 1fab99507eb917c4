//! Back-pressure: every threshold that bounds what one connection may
//! hold for its peer, in one place, for every runtime.
//!
//! Output for a peer waits in three places: the core's queue
//! ([`Connection::buffered_amount`](crate::Connection::buffered_amount)),
//! the runtime's write buffer (what it took from the core for the socket),
//! and, in the `ws` facade, the messages its `Sender`s queued that the
//! connection has not taken yet. The thresholds below bound each of them;
//! the runtimes (`ws-mio`'s loop, `ws-tokio`'s engine) and the facade read
//! them from here, so that a slow reader costs the same on either runtime.
//!
//! | threshold | default | what it bounds | how it is derived |
//! |---|---:|---|---|
//! | [`READ_PAUSE`] | 128 KiB | reading from a peer stops while more than this waits for it (runtime's buffer plus the core's), and resumes below half of it | about two loopback or LAN socket send buffers: the kernel keeps the pipe full meanwhile, and an echo of what would be read next only adds to the backlog |
//! | [`MIO_TAKE_AHEAD`] | 256 KiB | how much of the core's output ws-mio's loop moves into its own queue ahead of the socket | large enough for a vectored write of many frames per system call; the rest stays in the core's buffers, sized to what they hold |
//! | [`TOKIO_TAKE_AHEAD`] | 64 KiB | the same for ws-tokio's engine | tokio writes through `poll_write`, one buffer at a time: a smaller window keeps copies short |
//! | [`Config::max_write_buffer`](crate::Config::max_write_buffer) | 64 MiB | the core refuses a send ([`SendError::BufferFull`](crate::SendError::BufferFull)) past this many buffered bytes | one large message plus headroom; a user's own cap, when set, is stricter |
//! | [`core_backstop`] of the facade's cap | 2 × cap + 64 KiB | the core's cap under the `ws` facade, which holds each connection to its own cap first | the facade counts payloads of messages not yet taken and encoded frames after; twice the cap plus room for headers means the core never refuses what the facade accepted |
//! | the facade's cap, high and low marks | 64 MiB / 1 MiB / 256 KiB | a `Sender`'s send fails (or closes with 1008) past the cap; `on_drain` is owed past the high mark and called at or below the low one | the user's `ws::Settings`: the cap is `out_buffer_capacity`, or 64 MiB while `out_buffer_grow` (the default); `out_buffer_high_water` at most the cap, `out_buffer_low_water` at most half the high mark |
//!
//! A peer that stops reading therefore costs a connection at most
//! [`READ_PAUSE`] plus one message being read and one being echoed, and
//! what its application goes on sending is refused at the cap, not buffered.

/// Reading from a peer stops while more than this waits to be written to
/// it (the runtime's buffer and the core's), and resumes once the backlog
/// is at most half of it. Both runtimes.
pub const READ_PAUSE: usize = 128 << 10;

/// ws-mio's loop takes a connection's output from the core while less than
/// this (or the loop's read pause, if lower) waits in its own queue.
pub const MIO_TAKE_AHEAD: usize = 256 << 10;

/// ws-tokio's engine takes the core's output into its write buffer only
/// while less than this waits there.
pub const TOKIO_TAKE_AHEAD: usize = 64 << 10;

/// The core's `max_write_buffer` under a runtime or facade that caps each
/// connection at `cap` itself: a backstop that never refuses a message the
/// owner accepted (room for twice the cap, frame headers included).
pub const fn core_backstop(cap: usize) -> usize {
    cap.saturating_mul(2).saturating_add(64 << 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backstop_exceeds_the_cap_and_saturates() {
        assert!(core_backstop(4096) > 2 * 4096);
        assert_eq!(core_backstop(usize::MAX), usize::MAX);
    }
}
