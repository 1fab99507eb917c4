//! Output: encoding frames into the output buffer, whole owned buffers for
//! large messages, and handing them out through `poll_transmit`.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::compression::DEFLATE_BUF_KEEP;
use super::{Connection, Role};
use crate::chunk::Chunk;
use crate::frame::{FrameHeader, OpCode, RSV1};
use crate::mask::{apply_mask, mask_into};

/// What [`Connection::poll_transmit`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// This many bytes were appended to the buffer; write them in order.
    Data(usize),
    /// Close the transport once everything before it is written; how, in
    /// [`Connection::transport_close`].
    Close,
}

/// A message sent as an owned buffer of at least this many bytes leaves the
/// core in that buffer (a frame header goes before it in its own), instead
/// of being copied into the output buffer: large echoes and broadcasts cost
/// no copy in user space, and a client masks the payload in place.
pub(super) const OWNED_MIN: usize = 16 * 1024;

/// Output buffers handed out as they are, in order: owned ones, and the
/// shared frames of prepared messages.
#[derive(Debug, Default)]
pub(super) struct Owned {
    bufs: VecDeque<Chunk>,
    /// Their total length.
    len: usize,
}

impl Connection {
    /// Appends the bytes to write to `buf` and says how many, or says that
    /// the transport should be closed (after the bytes before it are written).
    /// Drain until it returns `None` after every input and command.
    ///
    /// When `buf` is empty it is replaced by the core's own buffer, without a
    /// copy (whatever capacity `buf` had is freed): the core holds no output
    /// buffer between writes, so an idle connection costs little memory.
    /// A runtime that wants the same should drop `buf` once written rather
    /// than keep its capacity.
    ///
    /// The frames of a [`PreparedMessage`](crate::PreparedMessage) are
    /// copied into `buf` here; [`OutputQueue::take_from`](crate::OutputQueue::take_from)
    /// is the path that takes them without a copy.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (transmit, chunk) = self.poll_chunk(now)?;
        match chunk {
            Chunk::Owned(bytes) if buf.is_empty() => *buf = bytes,
            chunk => buf.extend_from_slice(chunk.as_slice()),
        }
        Some(transmit)
    }

    /// [`Connection::poll_transmit`] without a destination: the next
    /// buffer as it is (empty with `Transmit::Close`).
    pub(crate) fn poll_chunk(&mut self, now: Instant) -> Option<(Transmit, Chunk)> {
        if !self.unwritten {
            // Nothing waits in the runtime: the transport keeps up, and
            // whatever is taken now starts a fresh write deadline.
            self.last_progress = now;
        }
        if let Some(payload) = self.pong.take() {
            self.write_control(OpCode::Pong, &payload);
        }
        if let Some(owned) = self.owned.as_deref_mut() {
            if let Some(next) = owned.bufs.pop_front() {
                owned.len -= next.len();
                if owned.bufs.is_empty() {
                    self.owned = None;
                }
                return Some((Transmit::Data(next.len()), next));
            }
        }
        if !self.out.is_empty() {
            // The bytes change hands without a copy, and the core keeps no
            // buffer while there is nothing to send.
            let out = std::mem::take(&mut self.out);
            return Some((Transmit::Data(out.len()), Chunk::Owned(out)));
        }
        if self.close_transport && !self.close_transport_sent {
            self.close_transport_sent = true;
            return Some((Transmit::Close, Chunk::default()));
        }
        None
    }

    /// Bytes encoded and not yet taken by `poll_transmit`, plus messages held
    /// until the handshake completes.
    pub fn buffered_amount(&self) -> usize {
        self.out.len()
            + self.owned.as_ref().map_or(0, |o| o.len)
            + self.early.as_ref().map_or(0, |e| e.bytes)
    }

    pub(super) fn write_message(&mut self, opcode: OpCode, payload: &[u8]) {
        if let Some(mut deflate) = self.deflate.take() {
            if deflate.compress(payload) {
                self.write_fragments(opcode, RSV1, &deflate.buf);
                if deflate.buf.capacity() > DEFLATE_BUF_KEEP {
                    deflate.buf = Vec::new();
                }
            } else {
                self.write_fragments(opcode, 0, payload);
            }
            self.deflate = Some(deflate);
            return;
        }
        self.write_fragments(opcode, 0, payload);
    }

    /// A message in one frame whose payload buffer leaves the core as it is
    /// (masked in place by a client), after a buffer with what `out` held
    /// and the frame's header.
    pub(super) fn write_owned(&mut self, opcode: OpCode, mut payload: Vec<u8>) {
        let mask = match self.role {
            Role::Client => self.rng.as_mut().map(|rng| rng.mask_key()),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        header.write_to(&mut self.out);
        if let Some(key) = mask {
            apply_mask(&mut payload, key, 0);
        }
        let head = std::mem::take(&mut self.out);
        let owned = self.owned.get_or_insert_default();
        owned.len += head.len() + payload.len();
        owned.bufs.push_back(Chunk::Owned(head));
        owned.bufs.push_back(Chunk::Owned(payload));
    }

    /// Shared frames, after a buffer with what `out` held: they leave the
    /// core as they are, a reference and no copy.
    pub(super) fn write_shared(&mut self, frames: Bytes) {
        let head = std::mem::take(&mut self.out);
        let owned = self.owned.get_or_insert_default();
        if !head.is_empty() {
            owned.len += head.len();
            owned.bufs.push_back(Chunk::Owned(head));
        }
        if !frames.is_empty() {
            owned.len += frames.len();
            owned.bufs.push_back(Chunk::Shared(frames));
        }
    }

    pub(super) fn write_fragments(&mut self, opcode: OpCode, rsv: u8, payload: &[u8]) {
        let size = self.config.fragment_size.max(1);
        if payload.len() <= size {
            return self.write_frame_rsv(true, rsv, opcode, payload);
        }
        let mut chunks = payload.chunks(size).peekable();
        let (mut op, mut rsv) = (opcode, rsv);
        while let Some(chunk) = chunks.next() {
            // RSV1 on the first frame only (RFC 7692 section 6).
            self.write_frame_rsv(chunks.peek().is_none(), rsv, op, chunk);
            op = OpCode::Continuation;
            rsv = 0;
        }
    }

    pub(super) fn write_control(&mut self, opcode: OpCode, payload: &[u8]) {
        self.write_frame(true, opcode, payload);
    }

    pub(super) fn write_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        self.write_frame_rsv(fin, 0, opcode, payload);
    }

    pub(super) fn write_frame_rsv(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) {
        let mask = match self.role {
            Role::Client => self.rng.as_mut().map(|rng| rng.mask_key()),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        self.out.reserve(header.encoded_len() + payload.len());
        header.write_to(&mut self.out);
        match mask {
            Some(key) => mask_into(&mut self.out, payload, key, 0),
            None => self.out.extend_from_slice(payload),
        }
    }
}
