//! [`OutputQueue`]: the bytes a runtime holds for a socket, as the core's
//! own buffers.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::time::Instant;

use bytes::Bytes;

use crate::chunk::Chunk;
use crate::connection::{Connection, Transmit};

/// Bytes on their way to a transport: the buffers
/// [`Connection::poll_transmit`] hands out, kept in order without a copy
/// (a large message's payload is one of them, see [`Connection::send`]),
/// to be written with one vectored write. The frames of a
/// [`PreparedMessage`](crate::PreparedMessage) are one of them too, shared
/// with every other queue they were taken into: [`OutputQueue::take_from`]
/// moves the reference, and the writes read from the shared bytes.
///
/// It does no I/O: a runtime writes [`OutputQueue::front`] or the slices of
/// [`OutputQueue::io_slices`] and reports what the transport took with
/// [`OutputQueue::advance`]. Emptied, it holds no memory.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use ws_proto::{Config, Connection, Message, OutputQueue, Role};
///
/// let now = Instant::now();
/// let mut conn = Connection::established(Arc::new(Config::default()), Role::Server, now, [0; 32]);
/// conn.send(now, Message::Binary(vec![7; 100_000])).unwrap();
/// let mut queue = OutputQueue::default();
/// while queue.take_from(&mut conn, now).is_some() {}
/// assert_eq!(queue.pending(), 100_000 + 10);
/// // Say the socket took 1,000 bytes:
/// queue.advance(1000);
/// assert_eq!(queue.pending(), 99_010);
/// ```
#[derive(Debug, Default)]
pub struct OutputQueue {
    /// The first buffer, written up to `pos`; holds unwritten bytes whenever
    /// `len` is not zero.
    head: Chunk,
    pos: usize,
    /// The buffers after it: boxed and present only while there are some
    /// (most of the time a connection has at most one buffer).
    #[allow(clippy::box_collection)]
    rest: Option<Box<VecDeque<Chunk>>>,
    /// Bytes not yet written.
    len: usize,
}

impl OutputQueue {
    /// Owned buffers up to this size are appended to the last owned one (a
    /// copy), keeping the number of buffers, and of slices per write,
    /// small. Shared buffers are never copied.
    const SMALL: usize = 4096;

    /// Bytes not yet written.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// Whether everything was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many buffers hold the pending bytes.
    pub fn buffers(&self) -> usize {
        match (&self.rest, self.len) {
            (_, 0) => 0,
            (None, _) => 1,
            (Some(rest), _) => 1 + rest.len(),
        }
    }

    /// Appends a buffer (an empty one is ignored).
    pub fn push(&mut self, buf: Vec<u8>) {
        self.push_chunk(Chunk::Owned(buf));
    }

    /// Appends shared bytes, without a copy (empty ones are ignored).
    pub fn push_shared(&mut self, bytes: Bytes) {
        self.push_chunk(Chunk::Shared(bytes));
    }

    fn push_chunk(&mut self, chunk: Chunk) {
        if chunk.is_empty() {
            return;
        }
        if self.len == 0 {
            self.len = chunk.len();
            self.head = chunk;
            self.pos = 0;
            return;
        }
        self.len += chunk.len();
        let last = match self.rest.as_deref_mut().and_then(VecDeque::back_mut) {
            Some(last) => last,
            None => &mut self.head,
        };
        if let (Chunk::Owned(last), Chunk::Owned(buf)) = (&mut *last, &chunk) {
            let fits = last.len() <= Self::SMALL || last.capacity() - last.len() >= buf.len();
            if buf.len() <= Self::SMALL && fits {
                last.extend_from_slice(buf);
                return;
            }
        }
        self.rest.get_or_insert_default().push_back(chunk);
    }

    /// Takes the connection's next output: what [`Connection::poll_transmit`]
    /// returned (call it until `None`, as that). Unlike `poll_transmit`,
    /// it takes the shared frames of a prepared message without a copy.
    pub fn take_from(&mut self, conn: &mut Connection, now: Instant) -> Option<Transmit> {
        let (transmit, chunk) = conn.poll_chunk(now)?;
        self.push_chunk(chunk);
        Some(transmit)
    }

    /// The first buffer's pending bytes.
    pub fn front(&self) -> &[u8] {
        &self.head.as_slice()[self.pos..]
    }

    /// Fills `slices` with the pending bytes, in order, as far as they go;
    /// returns how many were filled.
    pub fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        if self.len == 0 || slices.is_empty() {
            return 0;
        }
        slices[0] = IoSlice::new(self.front());
        let mut count = 1;
        for (slot, buf) in slices[1..]
            .iter_mut()
            .zip(self.rest.iter().flat_map(|r| r.iter()))
        {
            *slot = IoSlice::new(buf.as_slice());
            count += 1;
        }
        count
    }

    /// The transport took `n` more bytes (at most [`OutputQueue::pending`]).
    pub fn advance(&mut self, mut n: usize) {
        self.len = self.len.saturating_sub(n);
        if self.len == 0 {
            // Everything written: keep no buffer.
            *self = Self::default();
            return;
        }
        loop {
            let left = self.head.len() - self.pos;
            if n < left {
                self.pos += n;
                return;
            }
            // The first buffer is written; the bytes left are in the next
            // ones (buffers are never empty).
            n -= left;
            let Some(next) = self.rest.as_deref_mut().and_then(VecDeque::pop_front) else {
                *self = Self::default();
                return;
            };
            self.head = next;
            self.pos = 0;
            if self.rest.as_deref().is_some_and(VecDeque::is_empty) {
                self.rest = None;
            }
        }
    }

    /// Drops everything (the transport failed).
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::OutputQueue;
    use crate::chunk::Chunk;

    fn remaining(q: &OutputQueue) -> Vec<u8> {
        let mut all = q.front().to_vec();
        for buf in q.rest.iter().flat_map(|r| r.iter()) {
            all.extend_from_slice(buf.as_slice());
        }
        all
    }

    /// Buffers come out in order whatever the split of the writes; small
    /// ones join the last buffer, large ones keep their allocation; an
    /// emptied queue holds no memory.
    #[test]
    fn a_write_queue_keeps_order_and_buffers() {
        let big: Vec<u8> = (0..20_000).map(|i| (i % 253) as u8).collect();
        for step in [1, 7, 4096, 5000, 30_000] {
            let mut q = OutputQueue::default();
            let mut expected = Vec::new();
            for buf in [b"head".to_vec(), big.clone(), b"tail".to_vec(), big.clone()] {
                expected.extend_from_slice(&buf);
                q.push(buf);
            }
            q.push(Vec::new());
            assert_eq!(q.pending(), expected.len());
            assert_eq!(remaining(&q), expected);
            let mut written = 0;
            while !q.is_empty() {
                let n = step.min(q.pending());
                q.advance(n);
                written += n;
                assert_eq!(remaining(&q), expected[written..]);
                assert_eq!(q.pending(), expected.len() - written);
            }
            assert!(matches!(&q.head, Chunk::Owned(v) if v.capacity() == 0));
            assert!(q.rest.is_none());
        }
        // A small buffer after a large one that has no room is not copied
        // into it.
        let mut q = OutputQueue::default();
        let big = vec![1u8; 20_000];
        let address = big.as_ptr();
        q.push(b"h".to_vec());
        q.push(big);
        q.push(b"t".to_vec());
        assert!(
            q.rest
                .as_ref()
                .is_some_and(|r| r.iter().any(|b| b.as_slice().as_ptr() == address))
        );
    }

    /// Shared bytes keep their own buffer, are never joined to an owned
    /// one, and owned bytes after them start a new one.
    #[test]
    fn shared_bytes_are_never_copied() {
        let shared = bytes::Bytes::from(vec![5u8; 100]);
        let mut q = OutputQueue::default();
        q.push(b"ab".to_vec());
        q.push_shared(shared.clone());
        q.push(b"cd".to_vec());
        q.push_shared(shared.clone());
        assert_eq!(q.buffers(), 4);
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        assert_eq!(q.io_slices(&mut slices), 4);
        assert_eq!(slices[1].as_ptr(), shared.as_ptr());
        assert_eq!(slices[3].as_ptr(), shared.as_ptr());
        q.advance(2 + 50);
        assert_eq!(q.front().as_ptr(), shared[50..].as_ptr());
        assert_eq!(q.pending(), 50 + 2 + 100);
        q.advance(152);
        assert!(q.is_empty());
        assert!(q.rest.is_none());
    }
}
