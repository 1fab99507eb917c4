//! The `tracing` events and spans of the native API (feature `tracing`).
//!
//! Everything here compiles to nothing without the feature: [`ConnTrace`]
//! and [`Scope`] are then empty and their methods do nothing, so the rest
//! of the crate calls them unconditionally. The levels are documented in
//! the crate's docs ("Tracing"): one span per connection and its events at
//! `debug`, a refusal at `debug`, and one `warn` at most every 10 s while
//! the [`Listener`](crate::Listener) refuses clients. Nothing is ever
//! emitted at `info` or per message.

use std::net::SocketAddr;

use ws_proto::{Closed, Connection, Role};

use crate::error::Error;

#[cfg(not(feature = "tracing"))]
pub(crate) use off::{ConnTrace, Refusals};
#[cfg(feature = "tracing")]
pub(crate) use on::{ConnTrace, Refusals};

/// With the feature: the real spans and events.
#[cfg(feature = "tracing")]
mod on {
    use std::sync::{Mutex, PoisonError};
    use std::time::{Duration, Instant};

    use super::*;

    /// How often, at most, the listener warns about refusing clients.
    const REFUSAL_WARN_INTERVAL: Duration = Duration::from_secs(10);

    /// Who ended a connection, as the `initiator` field says it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Initiator {
        /// This end sent the first close frame, or failed the connection.
        Local,
        /// The peer's close frame came first, or the peer went away.
        Peer,
    }

    impl Initiator {
        fn as_str(self) -> &'static str {
            match self {
                Self::Local => "local",
                Self::Peer => "peer",
            }
        }
    }

    /// One connection's span, and what its events need to remember:
    /// boxed, and only when a subscriber wants the span, so that a
    /// connection nobody traces holds one null pointer (and allocates
    /// nothing) for it.
    #[derive(Debug)]
    pub(crate) struct ConnTrace(Option<Box<Traced>>);

    #[derive(Debug)]
    struct Traced {
        span: tracing::Span,
        /// Set once the core stops being open: who started the close.
        initiator: Option<Initiator>,
    }

    impl ConnTrace {
        /// A `debug` span named `ws_connection`, with the fields `role` and
        /// `peer` (empty until [`set_peer`](Self::set_peer)). Its parent is
        /// the current span, as usual.
        pub(crate) fn new(role: Role) -> Self {
            let role = match role {
                Role::Server => "server",
                Role::Client => "client",
            };
            let span = tracing::debug_span!("ws_connection", role, peer = tracing::field::Empty);
            if span.is_disabled() {
                return Self(None);
            }
            Self(Some(Box::new(Traced {
                span,
                initiator: None,
            })))
        }

        /// The span, when it is enabled.
        fn span(&self) -> Option<&tracing::Span> {
            self.0.as_ref().map(|t| &t.span)
        }

        /// Runs `f` in the span (or outside any of ours when it is off:
        /// the events are then filtered by their own level as usual).
        fn in_scope(&self, f: impl FnOnce()) {
            match self.span() {
                Some(span) => span.in_scope(f),
                None => f(),
            }
        }

        /// Records the peer's address in the span, when the caller knows it.
        pub(crate) fn set_peer(&self, peer: Option<SocketAddr>) {
            if let (Some(span), Some(peer)) = (self.span(), peer) {
                span.record("peer", tracing::field::display(peer));
            }
        }

        /// A handle on the span, to enter around the connection's work.
        pub(crate) fn scope(&self) -> Scope {
            Scope {
                span: self.span().cloned(),
            }
        }

        /// Call after the application or the session may have started a
        /// close: the first call that finds the core no longer open
        /// decides who started it (the peer if its close frame had arrived
        /// by then).
        pub(crate) fn note_close(&mut self, conn: &Connection) {
            let Some(traced) = self.0.as_mut() else {
                return;
            };
            if traced.initiator.is_none() && !conn.is_open() {
                traced.initiator = Some(if conn.close_received() {
                    Initiator::Peer
                } else {
                    Initiator::Local
                });
            }
        }

        /// `debug`: the connection is open (handshake done, or taken over
        /// from an HTTP server's upgrade).
        pub(crate) fn established(&self, conn: &Connection, protocol: Option<&str>) {
            self.in_scope(|| {
                tracing::debug!(
                    deflate = conn.deflate().is_some(),
                    protocol = protocol.unwrap_or(""),
                    "ws-tokio: connection established"
                );
            });
        }

        /// `debug`: the connection ended (the core's `Closed`); before it,
        /// for a violation by the peer, a `debug` "protocol error" event.
        /// `io_error` is the transport's failure, if that is what ended it.
        pub(crate) fn closed(&self, closed: &Closed, io_error: Option<&std::io::Error>) {
            use ws_proto::Error as CoreError;
            self.in_scope(|| {
                if let Some(CoreError::Protocol(e)) = &closed.error {
                    tracing::debug!(error = %e, code = closed.code.0, "ws-tokio: protocol error");
                }
                let noted = self.0.as_ref().and_then(|t| t.initiator);
                let initiator = noted.unwrap_or(match (&closed.error, io_error) {
                    // The transport failed, or the peer left without a close.
                    (_, Some(_)) | (Some(CoreError::UnexpectedEof), _) => Initiator::Peer,
                    // This end failed the connection (a violation, a deadline).
                    (Some(_), None) => Initiator::Local,
                    // A clean close that this end did not start.
                    (None, None) => Initiator::Peer,
                });
                let clean = closed.error.is_none() && io_error.is_none();
                let error = io_error
                    .map(ToString::to_string)
                    .or_else(|| closed.error.as_ref().map(ToString::to_string));
                tracing::debug!(
                    code = closed.code.0,
                    reason_len = closed.reason.len(),
                    initiator = initiator.as_str(),
                    clean,
                    error = error.as_deref(),
                    "ws-tokio: connection closed"
                );
            });
        }

        /// `debug`: the opening handshake failed (a request that is no
        /// upgrade, a refused response, a timeout ...).
        pub(crate) fn handshake_failed(&self, error: &Error) {
            self.in_scope(|| {
                tracing::debug!(error = %error, "ws-tokio: handshake failed");
            });
        }
    }

    /// A connection's span, entered around a poll of its work.
    #[derive(Clone, Debug)]
    pub(crate) struct Scope {
        span: Option<tracing::Span>,
    }

    impl Scope {
        /// Runs `f` inside the span.
        pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
            let _entered = self.span.as_ref().map(tracing::Span::enter);
            f()
        }
    }

    /// The [`Listener`](crate::Listener)'s refusals: each at `debug`, and
    /// a `warn` with the count at most once every
    /// [`REFUSAL_WARN_INTERVAL`], so that an overload (or a client that
    /// makes one) cannot flood the log.
    #[derive(Debug, Default)]
    pub(crate) struct Refusals {
        state: Mutex<RefusalState>,
    }

    #[derive(Debug, Default)]
    struct RefusalState {
        last_warn: Option<Instant>,
        /// Refusals since the last warn.
        unreported: u64,
    }

    impl Refusals {
        /// A client from `peer` was refused with 503 because of the cap `why`.
        pub(crate) fn refused(&self, peer: SocketAddr, why: &'static str) {
            tracing::debug!(%peer, cap = why, "ws-tokio: refused a connection with 503");
            let now = Instant::now();
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.unreported += 1;
            let due = state
                .last_warn
                .is_none_or(|at| now.duration_since(at) >= REFUSAL_WARN_INTERVAL);
            if !due {
                return;
            }
            let refused = std::mem::take(&mut state.unreported);
            state.last_warn = Some(now);
            drop(state);
            tracing::warn!(
                cap = why,
                refused,
                "ws-tokio: server full, refusing connections with 503 \
                 (at most one such warning every 10 s)"
            );
        }
    }
}

/// Without the feature: the same calls, doing nothing.
#[cfg(not(feature = "tracing"))]
mod off {
    use super::*;

    #[derive(Debug)]
    pub(crate) struct ConnTrace;

    impl ConnTrace {
        #[inline(always)]
        pub(crate) fn new(_: Role) -> Self {
            Self
        }

        #[inline(always)]
        pub(crate) fn set_peer(&self, _: Option<SocketAddr>) {}

        #[inline(always)]
        pub(crate) fn scope(&self) -> Scope {
            Scope
        }

        #[inline(always)]
        pub(crate) fn note_close(&mut self, _: &Connection) {}

        #[inline(always)]
        pub(crate) fn established(&self, _: &Connection, _: Option<&str>) {}

        #[inline(always)]
        pub(crate) fn closed(&self, _: &Closed, _: Option<&std::io::Error>) {}

        #[inline(always)]
        pub(crate) fn handshake_failed(&self, _: &Error) {}
    }

    #[derive(Clone, Debug)]
    pub(crate) struct Scope;

    impl Scope {
        #[inline(always)]
        pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
            f()
        }
    }

    #[derive(Debug, Default)]
    pub(crate) struct Refusals {}

    impl Refusals {
        #[inline(always)]
        pub(crate) fn refused(&self, _: SocketAddr, _: &'static str) {}
    }
}
