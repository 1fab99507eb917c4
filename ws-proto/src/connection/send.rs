//! The application's sending commands: messages, pings and pongs, and the
//! checks that guard them.

use std::time::Instant;

use super::transmit::OWNED_MIN;
use super::{Connection, Role, State};
use crate::PreparedMessage;
use crate::error::SendError;
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::message::Message;

impl Connection {
    /// Queues a message. Before the handshake completes it is held and sent
    /// once the connection opens.
    pub fn send(&mut self, now: Instant, message: Message) -> Result<(), SendError> {
        let _ = now;
        self.check_can_send(message.len())?;
        if matches!(self.state, State::Open) {
            let opcode = if matches!(message, Message::Text(_)) {
                OpCode::Text
            } else {
                OpCode::Binary
            };
            if message.len() >= OWNED_MIN
                && message.len() <= self.config.fragment_size
                && self.deflate.is_none()
            {
                self.write_owned(opcode, message.into_bytes());
            } else {
                self.write_message(opcode, message.as_bytes());
            }
        } else {
            let early = self.early.get_or_insert_default();
            early.bytes += message.len();
            early.messages.push(message);
        }
        Ok(())
    }

    /// Queues a [`PreparedMessage`]: its shared frames (the compressed ones
    /// when this connection can use them, see the type), without a copy.
    /// The same rules as [`Connection::send`] apply: it fails with
    /// [`SendError::Closed`] once closing, with [`SendError::BufferFull`]
    /// past `Config::max_write_buffer` (the frames count in
    /// [`Connection::buffered_amount`] like any other output), and it goes
    /// out after everything queued before it. Unlike `send` it is not held
    /// before the handshake completes ([`SendError::NotOpen`]), and only a
    /// server can send one ([`SendError::PreparedOnClient`]).
    pub fn send_prepared(
        &mut self,
        now: Instant,
        message: &PreparedMessage,
    ) -> Result<(), SendError> {
        let _ = now;
        if self.role == Role::Client {
            return Err(SendError::PreparedOnClient);
        }
        self.check_can_send(message.frames().len())?;
        if !matches!(self.state, State::Open) {
            return Err(SendError::NotOpen);
        }
        let frames = self
            .deflate
            .as_deref_mut()
            .and_then(|deflate| deflate.prepared(message))
            .unwrap_or_else(|| message.frames().clone());
        self.write_shared(frames);
        Ok(())
    }

    /// Queues a binary message from borrowed bytes (no intermediate `Vec`).
    pub fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SendError> {
        if !matches!(self.state, State::Open) {
            return self.send(now, Message::Binary(data.to_vec()));
        }
        self.check_can_send(data.len())?;
        self.write_message(OpCode::Binary, data);
        Ok(())
    }

    /// Queues a text message from a borrowed string (no intermediate `String`).
    pub fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SendError> {
        if !matches!(self.state, State::Open) {
            return self.send(now, Message::Text(text.to_owned()));
        }
        self.check_can_send(text.len())?;
        self.write_message(OpCode::Text, text.as_bytes());
        Ok(())
    }

    /// Queues a ping (payload at most 125 bytes); the peer's pong comes back
    /// as [`Event::Pong`](super::Event::Pong). Fails with [`SendError::ControlTooLong`] for a
    /// longer payload, and with [`SendError::Closed`] before the connection
    /// is open or once a close frame was sent.
    pub fn ping(&mut self, _now: Instant, payload: &[u8]) -> Result<(), SendError> {
        self.control_allowed(payload)?;
        self.write_control(OpCode::Ping, payload);
        Ok(())
    }

    /// Queues an unsolicited pong (payload at most 125 bytes), which RFC 6455
    /// section 5.5.3 allows as a heartbeat.
    pub fn pong(&mut self, _now: Instant, payload: &[u8]) -> Result<(), SendError> {
        self.control_allowed(payload)?;
        self.write_control(OpCode::Pong, payload);
        Ok(())
    }

    pub(super) fn check_can_send(&self, len: usize) -> Result<(), SendError> {
        if self.close_sent
            || self.closed_reported
            || self.early.as_ref().is_some_and(|e| e.close.is_some())
            || matches!(self.state, State::Finished)
        {
            return Err(SendError::Closed);
        }
        let buffered = self.buffered_amount();
        if buffered + len > self.config.max_write_buffer {
            return Err(SendError::BufferFull {
                buffered,
                max: self.config.max_write_buffer,
            });
        }
        Ok(())
    }

    pub(super) fn control_allowed(&self, payload: &[u8]) -> Result<(), SendError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong(payload.len()));
        }
        if !matches!(self.state, State::Open) || self.close_sent {
            return Err(SendError::Closed);
        }
        Ok(())
    }
}
