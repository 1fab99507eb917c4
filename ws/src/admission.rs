//! Admission of accepted connections, written once for every runtime: the
//! cap on open connections, the separate cap on connections still in their
//! opening handshake, and the refusal a client gets past either.
//!
//! A server that is full answers `503 Service Unavailable` with
//! `Retry-After` (the bytes come from the core,
//! [`ws_proto::Response::service_unavailable`]) and closes, instead of
//! accepting and dropping the client without a word. Stalled handshakes
//! count against [`Settings::max_pending_handshakes`], not against
//! [`Settings::max_connections`], so a crowd of sockets that never finish
//! their request cannot take the slots of open connections; each frees
//! itself at [`Settings::handshake_timeout`].
//!
//! A burst of honest clients can fill the handshake cap too, for a moment:
//! their TCP connects complete before their requests arrive. So at the cap
//! a runtime first holds off accepting (the clients wait in the kernel's
//! backlog, their requests with them) for a short grace, [`Admission::hold_off`];
//! only a cap that stays full past it, which is stalled peers, gets new
//! clients a 503.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ws_proto::admission::{hold_off, hold_off_grace};

use crate::result::{Error, ErrorKind};
use crate::settings::Settings;

/// The caps of one `WebSocket` and the count of its server connections
/// still in their opening handshake.
#[derive(Debug)]
pub(crate) struct Admission {
    max_connections: usize,
    max_pending: usize,
    retry_after: Duration,
    pending: Arc<AtomicUsize>,
    /// How long a full handshake cap holds off accepting before clients
    /// are refused: a quarter of the handshake timeout, at most 1 s.
    grace: Duration,
    /// Since when the handshake cap has been full.
    full_since: Cell<Option<Instant>>,
}

/// A server connection in its opening handshake: it counts against
/// [`Settings::max_pending_handshakes`] until it is dropped (when the
/// connection opens or ends).
#[derive(Debug)]
pub(crate) struct Handshaking(Arc<AtomicUsize>);

impl Drop for Handshaking {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why an accepted connection is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `max_connections` connections are open.
    Connections,
    /// `max_pending_handshakes` connections are in their opening handshake.
    Handshakes,
}

impl Admission {
    pub(crate) fn new(settings: &Settings) -> Self {
        Self {
            max_connections: settings.max_connections,
            max_pending: settings.max_pending_handshakes,
            // By then every stalled handshake holding a slot has been cut.
            retry_after: settings.handshake_timeout,
            pending: Arc::default(),
            grace: hold_off_grace(settings.handshake_timeout),
            full_since: Cell::new(None),
        }
    }

    /// Whether to leave the backlog alone for now: `Some(wait)` while
    /// `max_pending_handshakes` handshakes are in progress and have been for
    /// less than the grace (a burst whose requests are on their way); look
    /// again after `wait`. `None` to accept: below the cap, or past the
    /// grace, when [`check`](Self::check) refuses with a 503. See
    /// [`ws_proto::admission`].
    pub(crate) fn hold_off(&self, now: Instant) -> Option<Duration> {
        let mut since = self.full_since.get();
        let wait = hold_off(
            self.pending(),
            self.max_pending,
            &mut since,
            self.grace,
            now,
        );
        self.full_since.set(since);
        wait
    }

    /// The most connections a runtime holds at once: the open ones and
    /// the handshaking ones, each under its own cap.
    #[cfg_attr(not(feature = "mio"), allow(dead_code))]
    pub(crate) fn capacity(&self) -> usize {
        self.max_connections.saturating_add(self.max_pending)
    }

    /// Server connections in their opening handshake now.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Whether a connection just accepted may be served, given the `total`
    /// number of connections the runtime holds now (of every role and
    /// state).
    pub(crate) fn check(&self, total: usize) -> Result<(), Refusal> {
        let pending = self.pending();
        if pending >= self.max_pending {
            Err(Refusal::Handshakes)
        } else if total.saturating_sub(pending) >= self.max_connections {
            Err(Refusal::Connections)
        } else {
            Ok(())
        }
    }

    /// Whether an outgoing connection may be opened, given the `total`
    /// number of connections held now.
    pub(crate) fn may_connect(&self, total: usize) -> bool {
        total.saturating_sub(self.pending()) < self.max_connections
    }

    /// Counts a server connection as handshaking until the guard drops.
    pub(crate) fn handshaking(&self) -> Handshaking {
        self.pending.fetch_add(1, Ordering::Relaxed);
        Handshaking(Arc::clone(&self.pending))
    }

    /// What a refused client is sent before its connection is closed.
    pub(crate) fn response(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ws_proto::Response::service_unavailable(self.retry_after).write_to(&mut out);
        out
    }

    /// The error reported for a refused client (a Capacity error), logged
    /// as a warning.
    pub(crate) fn refused(&self, refusal: Refusal, peer: Option<SocketAddr>) -> Error {
        let why = match refusal {
            Refusal::Connections => format!(
                "server full: {} connections open (max_connections)",
                self.max_connections
            ),
            Refusal::Handshakes => format!(
                "server full: {} opening handshakes in progress (max_pending_handshakes)",
                self.max_pending
            ),
        };
        let peer = peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
        log::warn!("refused a connection from {peer} with 503: {why}");
        Error::new(ErrorKind::Capacity, format!("{why}; answered 503"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max_connections: usize, max_pending_handshakes: usize) -> Admission {
        Admission::new(&Settings {
            max_connections,
            max_pending_handshakes,
            ..Settings::default()
        })
    }

    #[test]
    fn handshakes_and_open_connections_have_their_own_caps() {
        let a = admission(2, 3);
        assert_eq!(a.capacity(), 5);
        let shakes: Vec<_> = (0..3).map(|_| a.handshaking()).collect();
        // Three handshaking, none open: the handshake cap is reached.
        assert_eq!(a.check(3), Err(Refusal::Handshakes));
        drop(shakes);
        assert_eq!(a.pending(), 0);
        // Two open: the connection cap is reached, handshakes or not.
        assert_eq!(a.check(2), Err(Refusal::Connections));
        assert!(!a.may_connect(2));
        let one = a.handshaking();
        // One open, one handshaking: room for both kinds.
        assert_eq!(a.check(2), Ok(()));
        assert!(a.may_connect(2));
        drop(one);
    }

    #[test]
    fn a_full_handshake_cap_holds_off_for_the_grace_only() {
        let a = admission(10, 2);
        let t0 = Instant::now();
        assert_eq!(a.hold_off(t0), None);
        let shakes: Vec<_> = (0..2).map(|_| a.handshaking()).collect();
        // Full: hold off, looking again every 10 ms, for 1 s (a quarter of
        // the default 10 s handshake timeout would be 2.5 s).
        assert_eq!(a.hold_off(t0), Some(ws_proto::admission::HOLD_OFF_POLL));
        assert_eq!(
            a.hold_off(t0 + Duration::from_millis(995)),
            Some(Duration::from_millis(5))
        );
        // Still full past the grace: stalled peers; accept and refuse.
        assert_eq!(a.hold_off(t0 + Duration::from_secs(1)), None);
        assert_eq!(a.hold_off(t0 + Duration::from_secs(5)), None);
        // Room again: the next full spell starts its own grace.
        drop(shakes);
        let t1 = t0 + Duration::from_secs(6);
        assert_eq!(a.hold_off(t1), None);
        let _shakes: Vec<_> = (0..2).map(|_| a.handshaking()).collect();
        assert_eq!(a.hold_off(t1), Some(ws_proto::admission::HOLD_OFF_POLL));
    }

    #[test]
    fn the_refusal_is_a_503_with_retry_after() {
        let a = admission(1, 1);
        let text = String::from_utf8(a.response()).unwrap();
        assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
        assert!(text.contains("Retry-After: 10\r\n"), "{text}");
        let e = a.refused(Refusal::Connections, None);
        assert!(matches!(e.kind, ErrorKind::Capacity), "{e:?}");
        assert!(e.to_string().contains("max_connections"), "{e}");
    }
}
