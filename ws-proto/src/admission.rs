//! A policy for servers that cap the connections in their opening
//! handshake, shared by every runtime: when the cap fills, hold off
//! accepting for a short grace before refusing (with
//! [`Response::service_unavailable`](crate::Response::service_unavailable)).
//!
//! An honest burst fills such a cap for a moment: the clients' TCP connects
//! complete before their requests arrive. Left in the kernel's backlog for
//! a moment, with their requests, they are served as the handshakes ahead
//! of them finish. A cap that stays full past the grace is held by stalled
//! peers, and then new clients are better told `503` than left waiting.

use std::time::{Duration, Instant};

/// Most reads of what a refused client sent, over plain TCP, before its
/// `503` is written: its request is usually all there, and reading it lets
/// the close be a FIN rather than a reset, which could discard the answer
/// at the client.
pub const REFUSE_READS: usize = 4;

/// Most refusals inside TLS under way at once (per event loop on mio, per
/// process on tokio). Over TLS the `503` can only be read after a TLS
/// handshake, which takes round trips, so a refused client is kept a
/// moment; past this many, a refused TLS client is closed unanswered. 64
/// keeps their memory to a few MiB and their handshakes to a small share
/// of a loop's time while the server is full.
pub const MAX_TLS_REFUSALS: usize = 64;

/// How long a refusal inside TLS may take, handshake, answer and close
/// together: enough for a handshake across the world, short enough that a
/// client that stalls in it soon gives its place up.
pub const TLS_REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Most plaintext bytes read from a client refused inside TLS (its
/// request, which is dropped); a client sending more is cut off.
pub const TLS_REFUSAL_READ_LIMIT: usize = 64 << 10;

/// How often a server holding off looks at its cap again.
pub const HOLD_OFF_POLL: Duration = Duration::from_millis(10);

/// The grace for a handshake deadline of `handshake_timeout`: a quarter of
/// it, at most 1 s, so that stalled handshakes are still cut well after
/// the grace ends.
pub fn hold_off_grace(handshake_timeout: Duration) -> Duration {
    (handshake_timeout / 4).min(Duration::from_secs(1))
}

/// Whether to leave the backlog alone now, with `pending` handshakes in
/// progress under a cap of `max_pending`: `Some(wait)` (look again after
/// `wait`) while the cap has been full for less than `grace`, `None` to
/// accept (below the cap, or past the grace: then refuse what is over the
/// cap). `full_since` is the caller's memory of when the cap filled.
///
/// ```
/// use std::time::{Duration, Instant};
/// use ws_proto::admission::{HOLD_OFF_POLL, hold_off};
///
/// let (grace, t0, mut since) = (Duration::from_secs(1), Instant::now(), None);
/// assert_eq!(hold_off(1, 2, &mut since, grace, t0), None);
/// assert_eq!(hold_off(2, 2, &mut since, grace, t0), Some(HOLD_OFF_POLL));
/// assert_eq!(hold_off(2, 2, &mut since, grace, t0 + grace), None);
/// ```
pub fn hold_off(
    pending: usize,
    max_pending: usize,
    full_since: &mut Option<Instant>,
    grace: Duration,
    now: Instant,
) -> Option<Duration> {
    if pending < max_pending {
        *full_since = None;
        return None;
    }
    let since = *full_since.get_or_insert(now);
    let left = (since + grace).checked_duration_since(now)?;
    (!left.is_zero()).then(|| left.min(HOLD_OFF_POLL))
}
