//! Deadlines: handshake, message (a frame or message once started), close,
//! keepalive, idle (between complete frames) and write progress.

use std::time::Instant;

use super::{Connection, State};
use crate::close::CloseCode;
use crate::error::{Error, TimeoutKind};
use crate::frame::OpCode;
use crate::handshake::Response;

impl Connection {
    /// Fires the deadlines that are due. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.read_deadline.is_some_and(|d| d <= now) && matches!(self.state, State::Open) {
            // A frame or message started and did not end in time.
            self.read_deadline = None;
            self.error = Some(Box::new(Error::Timeout(TimeoutKind::Message)));
            if !self.close_sent {
                self.write_close_frame(CloseCode::POLICY, "message timeout");
            }
            self.finish_now();
            return;
        }
        if self.read_deadline.is_some_and(|d| d <= now) {
            self.read_deadline = None;
            if let State::ReadRequest(_) | State::AwaitAnswer(_) = self.state {
                let mut res = Response::new(408);
                res.headers.push(("Connection".into(), b"close".to_vec()));
                res.write_to(&mut self.out);
            }
            self.error
                .get_or_insert_with(|| Box::new(Error::Timeout(TimeoutKind::Handshake)));
            self.finish_now();
        }
        if self.write_deadline().is_some_and(|d| d <= now) {
            // The peer took nothing for the whole deadline: nothing queued
            // will reach it, a close frame included.
            self.out = Vec::new();
            self.owned = None;
            self.early = None;
            self.pong = None;
            self.error
                .get_or_insert_with(|| Box::new(Error::Timeout(TimeoutKind::Write)));
            self.finish_now();
        }
        if self.close_deadline.is_some_and(|d| d <= now) {
            self.close_deadline = None;
            if !self.close_received {
                self.error
                    .get_or_insert_with(|| Box::new(Error::Timeout(TimeoutKind::Close)));
            }
            self.finish_now();
        }
        if !self.is_open() || self.closed_reported {
            return;
        }
        // While a frame or message arrives, its own deadline applies.
        let between_messages = self.read_deadline.is_none();
        if let Some(sent) = self.ping_outstanding {
            if sent
                .checked_add(self.config.keepalive_timeout)
                .is_some_and(|d| d <= now)
            {
                self.error = Some(Box::new(Error::Timeout(TimeoutKind::Keepalive)));
                // Best effort: tell the peer, then drop the transport.
                self.write_close_frame(CloseCode::INTERNAL, "keepalive timeout");
                self.finish_now();
                return;
            }
        } else if let Some(interval) = self.config.keepalive_interval.filter(|_| between_messages) {
            if self
                .last_received
                .checked_add(interval)
                .is_some_and(|d| d <= now)
            {
                let payload = self.rng.as_mut().map_or(0, |rng| rng.next_u64());
                self.ping_payload = payload.to_le_bytes();
                let payload = self.ping_payload;
                self.write_control(OpCode::Ping, &payload);
                self.ping_outstanding = Some(now);
            }
        }
        if let Some(idle) = self.config.idle_timeout.filter(|_| between_messages) {
            if self
                .last_received
                .checked_add(idle)
                .is_some_and(|d| d <= now)
            {
                self.error = Some(Box::new(Error::Timeout(TimeoutKind::Idle)));
                let _ = self.close(now, CloseCode::AWAY, "idle timeout");
            }
        }
    }

    /// The earliest deadline; call [`Connection::handle_timeout`] then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.read_deadline;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.close_deadline);
        if self.is_open() && !self.closed_reported {
            let between_messages = self.read_deadline.is_none();
            match self.ping_outstanding {
                Some(sent) => consider(sent.checked_add(self.config.keepalive_timeout)),
                None => consider(
                    self.config
                        .keepalive_interval
                        .filter(|_| between_messages)
                        .and_then(|i| self.last_received.checked_add(i)),
                ),
            }
            consider(
                self.config
                    .idle_timeout
                    .filter(|_| between_messages)
                    .and_then(|i| self.last_received.checked_add(i)),
            );
        }
        consider(self.write_deadline());
        next
    }

    /// When the output waiting (here or in the runtime) counts as stalled
    /// (see `Config::write_timeout`); `None` while nothing waits.
    pub(super) fn write_deadline(&self) -> Option<Instant> {
        if self.closed_reported || !self.unwritten && self.buffered_amount() == 0 {
            return None;
        }
        self.config
            .write_timeout
            .and_then(|t| self.last_progress.checked_add(t))
    }

    /// Tells the core how the transport is keeping up: it just took
    /// `written` bytes (0 after a write that would block), and `unwritten`
    /// of those handed out by [`Connection::poll_transmit`] still wait for
    /// it in the runtime. Call it after every write attempt.
    ///
    /// Output counts as stalled, and the connection ends with a write
    /// timeout, when nothing was written for `Config::write_timeout` while
    /// some waited, here or in the runtime. A runtime that never calls this
    /// gets the deadline counted from its last [`Connection::poll_transmit`]
    /// instead, which only sees output that stays in the core.
    pub fn handle_written(&mut self, now: Instant, written: usize, unwritten: usize) {
        if written > 0 {
            self.last_progress = now;
        }
        self.unwritten = unwritten > 0;
    }
}
