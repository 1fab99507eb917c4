//! Reading: bytes from the transport become decoded frames, queued as
//! pending entries, and acted on in order as the application polls events.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Connection, Event, State};
use crate::close::CloseFrame;
use crate::decoder::Decoded;
use crate::error::{Error, ProtocolError};
use crate::frame::OpCode;

/// An entry of the event queue. Frames that call for an answer (a ping, a
/// close) or end the connection (a protocol error, the end of the stream)
/// are acted on when the application reaches them, not when they are
/// decoded: whatever it sends in reply to the events before them goes out
/// first, in order (a message echoed before the pong of a later ping, before
/// the close frame of a later error).
#[derive(Debug)]
pub(super) enum Pending {
    Event(Event),
    Ping(Vec<u8>),
    Close(Option<CloseFrame>, Instant),
    Fail(ProtocolError),
    Eof,
}

/// Once this many encoded bytes wait for [`Connection::poll_transmit`],
/// pongs are no longer queued one per ping: only the latest is kept, so a
/// peer that floods pings and never reads costs bounded memory.
pub(super) const PONG_BACKLOG: usize = 64 * 1024;

impl Connection {
    /// Takes bytes from the transport. Any split of the stream gives the same
    /// events and output.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        match &mut self.state {
            State::ReadRequest(head) => match head.push(data) {
                Ok(None) => {}
                Ok(Some(end)) => {
                    let buf = head.take();
                    self.on_request_head(now, buf, end);
                }
                Err(e) => self.fail_handshake(e),
            },
            State::AwaitAnswer(_) => self.hold_early(data),
            State::ReadResponse(r) => match r.head.push(data) {
                Ok(None) => {}
                Ok(Some(end)) => {
                    let buf = r.head.take();
                    self.on_response_head(now, buf, end);
                }
                Err(e) => self.fail_handshake(e),
            },
            State::Open => self.read_frames(now, data),
            State::Finished => {}
        }
    }

    /// The transport reached end of stream (a read of 0 bytes, or the
    /// transport failed). Frames decoded before it are acted on first; then
    /// [`Event::Closed`] is reported, unless it was already. Without a close
    /// frame from the peer or an earlier error, the end is unexpected: the
    /// close code is 1006 and the error [`Error::UnexpectedEof`]. All deadlines are
    /// cleared; nothing can be sent afterwards.
    pub fn handle_eof(&mut self, _now: Instant) {
        if !self.events.is_empty() {
            // Frames decoded before the end are acted on first.
            self.events.push_back(Pending::Eof);
            return;
        }
        self.on_eof();
    }

    pub(super) fn on_eof(&mut self) {
        if !matches!(self.state, State::Finished) || !self.closed_reported {
            if !self.close_received && self.error.is_none() {
                self.error = Some(Box::new(Error::UnexpectedEof));
            }
            self.state = State::Finished;
            self.report_closed();
        }
        self.close_deadline = None;
        self.read_deadline = None;
        // Our side of TCP can go too.
        self.close_transport = true;
    }

    /// The next event, if any. Drain after every input and command.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            let Some(pending) = self.events.pop_front() else {
                // Hold no memory between bursts: an idle connection is small.
                if self.events.capacity() != 0 {
                    self.events = VecDeque::new();
                }
                return None;
            };
            match pending {
                Pending::Event(event) => return Some(event),
                Pending::Ping(payload) => {
                    self.answer_ping(&payload);
                    return Some(Event::Ping(payload));
                }
                Pending::Close(frame, now) => self.on_close_frame(now, frame),
                Pending::Fail(error) => self.fail(error),
                Pending::Eof => self.on_eof(),
            }
        }
    }

    pub(super) fn read_frames(&mut self, now: Instant, mut data: &[u8]) {
        while !data.is_empty() && !self.input_done && !self.closed_reported {
            if self.read_deadline.is_none() && self.decoder.is_idle() {
                // These bytes start a frame: it, and the message it may
                // open, must be whole by the deadline, however slowly the
                // bytes come (a trickle is no activity).
                self.read_deadline = self.config.message_timeout.and_then(|t| now.checked_add(t));
            }
            match self.decoder.decode(data) {
                Ok((used, item)) => {
                    data = &data[used..];
                    if let Some(item) = item {
                        self.on_item(now, item);
                    }
                    if self.decoder.is_idle() {
                        // A frame ended and no message is open.
                        self.read_deadline = None;
                        self.last_received = now;
                    }
                }
                Err(e) => {
                    self.input_done = true;
                    self.events.push_back(Pending::Fail(e));
                    return;
                }
            }
        }
    }

    pub(super) fn on_item(&mut self, now: Instant, item: Decoded) {
        match item {
            Decoded::Message(m) => self.emit(Event::Message(m)),
            Decoded::Ping(payload) => self.events.push_back(Pending::Ping(payload)),
            Decoded::Pong(payload) => {
                // Only the answer to the keepalive ping ends its wait; an
                // unsolicited pong, or the answer to the application's own
                // ping, does not.
                if self.ping_outstanding.is_some() && payload == self.ping_payload {
                    self.ping_outstanding = None;
                }
                self.emit(Event::Pong(payload));
            }
            Decoded::Close(frame) => {
                self.input_done = true;
                self.events.push_back(Pending::Close(frame, now));
            }
        }
    }

    pub(super) fn emit(&mut self, event: Event) {
        self.events.push_back(Pending::Event(event));
    }

    /// Queues the pong for a ping the application has reached.
    pub(super) fn answer_ping(&mut self, payload: &[u8]) {
        if self.close_sent || self.closed_reported {
            return;
        }
        if self.pong.is_some() || self.buffered_amount() >= PONG_BACKLOG {
            self.pong = Some(payload.to_vec());
        } else {
            self.write_control(OpCode::Pong, payload);
        }
    }
}
