//! The close handshake and the end of a connection: close frames, failing
//! the connection, reporting `Closed` once, and how the transport ends.

use std::time::Instant;

use super::{Connection, Event, Role, State};
use crate::close::{CloseCode, CloseFrame, truncate_reason};
use crate::error::{Error, HandshakeError, ProtocolError, SendError, TimeoutKind};
use crate::frame::OpCode;
use crate::handshake::Response;

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// The close code: the peer's when it closed first or answered our close;
    /// ours when we failed the connection; 1005 when a close frame carried no
    /// code; 1006 when no close frame was exchanged.
    pub code: CloseCode,
    /// The reason that came with the code (may be empty).
    pub reason: String,
    /// Why the connection ended other than by a clean close handshake.
    pub error: Option<Error>,
}

/// How to close the transport after [`Transmit::Close`](super::Transmit::Close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportClose {
    /// Write what is left, shut down the write side, then read (and drop)
    /// until the peer's end of stream, for at most the close timeout.
    /// Closing with unread input makes TCP send a reset, which can destroy
    /// data the peer has not read yet; and a client leaves the first TCP
    /// close to the server (RFC 6455 section 7.1.1).
    Linger,
    /// Write what is left and close, without waiting for the peer: a
    /// client whose opening handshake failed has nothing to wait for, and
    /// waiting on a hostile server would only hand it the client's time.
    Prompt,
    /// Drop what is left unwritten and close now: the peer stopped taking
    /// our output (a write timeout), so there is no point in trying more.
    Abort,
}

impl Connection {
    /// Starts the close handshake with `code` and `reason` (cut to 123
    /// bytes). Closing again is a no-op. Before the handshake completes the
    /// close is held, like messages, and sent after them once the connection
    /// opens; no message can be queued after it.
    pub fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if !code.is_allowed() {
            return Err(SendError::InvalidCloseCode(code.0));
        }
        if self.close_sent || self.closed_reported {
            return Ok(());
        }
        if !matches!(self.state, State::Open) {
            let early = self.early.get_or_insert_default();
            if early.close.is_none() {
                early.close = Some((code, reason.to_owned()));
            }
            return Ok(());
        }
        self.write_close_frame(code, reason);
        if self.close_received {
            self.after_close_handshake(now);
        } else {
            self.close_deadline = now.checked_add(self.config.close_timeout);
        }
        Ok(())
    }

    pub(super) fn on_close_frame(&mut self, now: Instant, frame: Option<CloseFrame>) {
        if self.closed_reported {
            return;
        }
        self.close_received = true;
        if !self.close_sent {
            // Echo the peer's code (section 5.5.1); a close without a code
            // is answered without one.
            match &frame {
                Some(f) => self.write_close_frame(f.code, ""),
                None => self.write_close_payload(&[]),
            }
        }
        self.peer_close = frame.map(Box::new);
        self.after_close_handshake(now);
    }

    /// Both close frames are exchanged: report, and end the transport as the
    /// role requires (section 7.1.1: the server closes TCP first; a client
    /// waits for it, within the close timeout).
    pub(super) fn after_close_handshake(&mut self, now: Instant) {
        self.report_closed();
        self.close_deadline = None;
        match self.role {
            Role::Server => self.finish_now(),
            Role::Client => {
                self.state = State::Finished;
                self.close_deadline = now.checked_add(self.config.close_timeout);
            }
        }
    }

    /// Fails the connection (section 7.1.7): send the error's close code,
    /// report, and close the transport.
    pub(super) fn fail(&mut self, error: ProtocolError) {
        if !self.close_sent {
            let reason = error.to_string();
            self.write_close_frame(error.close_code(), &reason);
        }
        self.error = Some(Box::new(Error::Protocol(error)));
        self.finish_now();
    }

    pub(super) fn fail_handshake(&mut self, error: HandshakeError) {
        if self.role == Role::Server {
            Response::for_error(&error).write_to(&mut self.out);
        }
        self.error = Some(Box::new(Error::Handshake(error)));
        self.finish_now();
    }

    /// Reports `Closed` (once) and asks for the transport to be closed.
    pub(super) fn finish_now(&mut self) {
        self.state = State::Finished;
        self.read_deadline = None;
        self.close_deadline = None;
        self.report_closed();
        self.close_transport = true;
    }

    pub(super) fn report_closed(&mut self) {
        if self.closed_reported {
            return;
        }
        self.closed_reported = true;
        let (code, reason) = match (&self.peer_close, self.error.as_deref()) {
            (Some(f), _) => (f.code, f.reason.clone()),
            (None, _) if self.close_received => (CloseCode::NO_STATUS, String::new()),
            (None, Some(Error::Protocol(e))) => (e.close_code(), e.to_string()),
            (None, Some(e @ Error::Timeout(TimeoutKind::Message))) => {
                (CloseCode::POLICY, e.to_string())
            }
            (None, _) => (CloseCode::ABNORMAL, String::new()),
        };
        let error = self.error.as_deref().cloned();
        self.emit(Event::Closed(Closed {
            code,
            reason,
            error,
        }));
    }

    /// How the transport should be closed once [`Transmit::Close`](super::Transmit::Close) was
    /// handed out (see [`TransportClose`]).
    pub fn transport_close(&self) -> TransportClose {
        match self.error.as_deref() {
            Some(Error::Timeout(TimeoutKind::Write)) => TransportClose::Abort,
            Some(Error::Handshake(_) | Error::Timeout(TimeoutKind::Handshake))
                if self.role == Role::Client =>
            {
                TransportClose::Prompt
            }
            _ => TransportClose::Linger,
        }
    }

    pub(super) fn write_close_frame(&mut self, code: CloseCode, reason: &str) {
        let mut payload = Vec::with_capacity(2 + reason.len().min(123));
        CloseFrame {
            code,
            reason: truncate_reason(reason).to_owned(),
        }
        .write_payload(&mut payload);
        self.write_close_payload(&payload);
    }

    pub(super) fn write_close_payload(&mut self, payload: &[u8]) {
        self.write_frame(true, OpCode::Close, payload);
        self.close_sent = true;
        self.pong = None;
    }
}
