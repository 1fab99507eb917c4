//! The fan-out load (`f`) of the load harness, the parts the generator and
//! its tests share: the servers that take part, the numbered payload of
//! each published message, and the reader that checks, per subscriber,
//! that every message arrives once, whole and in order.
//!
//! The rule of the load (closed loop, so that no server can win by queuing
//! without bound): the generator opens N connections, all subscribed to
//! one topic; it sends binary messages on the first of them (the
//! publisher, a subscriber too), and the server publishes every data
//! message it receives to every connection. Message `k` carries `k` in its
//! first 8 bytes. The generator sends message `k` only once every
//! subscriber has received message `k - WINDOW`: at most [`WINDOW`]
//! messages are outstanding, so a server holds at most `WINDOW x N`
//! deliveries, and it delivers as fast as the slowest subscriber lets it.
//!
//! ```
//! use ws_benches::fanout::{FanoutReader, numbered_payload};
//!
//! // Two messages, as a server sends them (unmasked binary frames).
//! let mut wire = Vec::new();
//! for seq in 0..2 {
//!     let p = numbered_payload(seq, 1024);
//!     wire.extend([0x82, 126, 4, 0]);
//!     wire.extend(p);
//! }
//! let mut reader = FanoutReader::new(1024);
//! assert_eq!(reader.feed(&wire), Ok(2));
//! assert_eq!(reader.received(), 2);
//! ```

use crate::load::{BINARY, payload};

/// The servers of `load_server` that serve the fan-out load (and only it):
/// this project's native API publishing through `ws_tokio::topics` (framed
/// once), the same API with a loop of per-connection sends (framed per
/// connection), and tokio-tungstenite with a `tokio::sync::broadcast`
/// channel (the peer).
///
/// A facade variant (`facade-mio-publish`, `ws::Sender::subscribe` and
/// `Sender::publish`) is one more name here, one more arm in
/// `benches/examples/load_server/fanout.rs` and one more entry in
/// `FANOUT_OURS` of the runner.
pub const FANOUT_SERVERS: [&str; 3] = ["native-publish", "native-loop", "tungstenite-broadcast"];

/// The peer every fan-out figure is a ratio to.
pub const FANOUT_PEER: &str = "tungstenite-broadcast";

/// Messages outstanding at most: the generator publishes message `k` only
/// once every subscriber has message `k - WINDOW`.
pub const WINDOW: u64 = 16;

/// The payload of message `seq`: `seq` as 8 little-endian bytes, then the
/// bytes of [`payload`] (binary) after its first 8, `size` bytes in all
/// (at least 8).
pub fn numbered_payload(seq: u64, size: usize) -> Vec<u8> {
    let mut p = payload(size.max(8), BINARY);
    p[..8].copy_from_slice(&seq.to_le_bytes());
    p
}

/// Reads one subscriber's messages from a server and checks each: one
/// binary message of the expected size (a server may fragment it),
/// numbered one more than the one before (from 0), with the expected bytes
/// after the number. Control frames are skipped; a close frame, a masked
/// or malformed frame, a text message, a gap, a repeat or a wrong byte is
/// an error, and the subscriber's connection counts as failed.
#[derive(Debug, Clone)]
pub struct FanoutReader {
    /// What every message holds after its number.
    tail: Vec<u8>,
    size: usize,
    hdr: [u8; 14],
    hdr_len: usize,
    in_frame: bool,
    control: bool,
    fin: bool,
    remaining: u64,
    /// The current message's bytes so far (at most `size`).
    msg: Vec<u8>,
    in_message: bool,
    /// Messages received whole and in order.
    received: u64,
}

impl FanoutReader {
    /// A reader of `size`-byte numbered messages (see [`numbered_payload`]).
    pub fn new(size: usize) -> FanoutReader {
        let size = size.max(8);
        FanoutReader {
            tail: numbered_payload(0, size)[8..].to_vec(),
            size,
            hdr: [0; 14],
            hdr_len: 0,
            in_frame: false,
            control: false,
            fin: false,
            remaining: 0,
            msg: Vec::with_capacity(size),
            in_message: false,
            received: 0,
        }
    }

    /// Messages received so far: the next one must be numbered this.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Feeds bytes read from the server; returns how many messages they
    /// completed (each checked).
    pub fn feed(&mut self, mut data: &[u8]) -> Result<u32, String> {
        let mut done = 0;
        while !data.is_empty() || (self.in_frame && self.remaining == 0) {
            if !self.in_frame {
                let need = self.header_len();
                let take = (need - self.hdr_len).min(data.len());
                self.hdr[self.hdr_len..self.hdr_len + take].copy_from_slice(&data[..take]);
                self.hdr_len += take;
                data = &data[take..];
                if self.hdr_len < 2 || self.hdr_len < self.header_len() {
                    continue;
                }
                self.start_frame()?;
                continue;
            }
            let n = (data.len() as u64).min(self.remaining) as usize;
            if !self.control {
                self.msg.extend_from_slice(&data[..n]);
            }
            self.remaining -= n as u64;
            data = &data[n..];
            if self.remaining == 0 {
                self.in_frame = false;
                self.hdr_len = 0;
                if !self.control {
                    if self.fin {
                        self.check()?;
                        self.msg.clear();
                        self.in_message = false;
                        self.received += 1;
                        done += 1;
                    } else {
                        self.in_message = true;
                    }
                }
            }
        }
        Ok(done)
    }

    /// Checks the message just completed.
    fn check(&self) -> Result<(), String> {
        if self.msg.len() != self.size {
            return Err(format!(
                "a message of {} bytes, {} were published",
                self.msg.len(),
                self.size
            ));
        }
        let seq = u64::from_le_bytes(self.msg[..8].try_into().expect("8 bytes"));
        if seq != self.received {
            return Err(format!(
                "message {seq} where {} was next (lost, repeated or reordered)",
                self.received
            ));
        }
        if self.msg[8..] != self.tail[..] {
            return Err(format!("wrong bytes in message {seq}"));
        }
        Ok(())
    }

    fn header_len(&self) -> usize {
        if self.hdr_len < 2 {
            return 2;
        }
        let ext = match self.hdr[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if self.hdr[1] & 0x80 != 0 { 4 } else { 0 };
        2 + ext + mask
    }

    fn start_frame(&mut self) -> Result<(), String> {
        let (b0, b1) = (self.hdr[0], self.hdr[1]);
        if b1 & 0x80 != 0 {
            return Err("the server masked a frame".into());
        }
        if b0 & 0x70 != 0 {
            return Err(format!("reserved bits set: {b0:#04x}"));
        }
        let len = match b1 & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.hdr[2], self.hdr[3]])),
            127 => u64::from_be_bytes(self.hdr[2..10].try_into().expect("8 bytes")),
            n => u64::from(n),
        };
        let opcode = b0 & 0x0f;
        self.fin = b0 & 0x80 != 0;
        self.control = opcode & 0x08 != 0;
        if opcode == 0x8 {
            return Err("the server sent a close frame".into());
        }
        if !self.control {
            match (opcode, self.in_message) {
                (0, true) | (BINARY, false) => {}
                (0, false) => return Err("continuation frame outside a message".into()),
                (op, false) => return Err(format!("a message with opcode {op}, not binary")),
                (op, true) => return Err(format!("opcode {op} inside a fragmented message")),
            }
            if self.msg.len() as u64 + len > self.size as u64 {
                return Err(format!(
                    "a message longer than the {} bytes published",
                    self.size
                ));
            }
        }
        self.remaining = len;
        self.in_frame = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![(u8::from(fin) << 7) | opcode];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn in_order_byte_by_byte_and_fragmented() {
        let mut wire = frame(true, BINARY, &numbered_payload(0, 300));
        let p = numbered_payload(1, 300);
        wire.extend(frame(false, BINARY, &p[..5]));
        wire.extend(frame(true, 0x9, b"ping"));
        wire.extend(frame(true, 0, &p[5..]));
        let mut r = FanoutReader::new(300);
        let done: u32 = wire.iter().map(|b| r.feed(&[*b]).unwrap()).sum();
        assert_eq!(done, 2);
        assert_eq!(r.received(), 2);
    }

    #[test]
    fn lost_repeated_short_or_wrong_messages_fail() {
        let first = frame(true, BINARY, &numbered_payload(0, 100));
        let mut wrong = numbered_payload(1, 100);
        wrong[50] ^= 1;
        let cases = [
            frame(true, BINARY, &numbered_payload(2, 100)),
            frame(true, BINARY, &numbered_payload(0, 100)),
            frame(true, BINARY, &numbered_payload(1, 100)[..99]),
            frame(true, BINARY, &wrong),
            frame(true, 0x1, &numbered_payload(1, 100)),
            frame(true, 0x8, &[3, 232]),
        ];
        for (i, bad) in cases.iter().enumerate() {
            let mut r = FanoutReader::new(100);
            assert_eq!(r.feed(&first), Ok(1));
            assert!(r.feed(bad).is_err(), "case {i} passed");
        }
        let mut long = numbered_payload(0, 100);
        long.push(0);
        assert!(
            FanoutReader::new(100)
                .feed(&frame(true, BINARY, &long))
                .is_err()
        );
    }
}
