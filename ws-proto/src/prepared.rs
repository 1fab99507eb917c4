//! [`PreparedMessage`]: a message framed once, to be queued on many server
//! connections without a copy per connection.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::config::Config;
use crate::deflate::Deflater;
use crate::frame::{FrameHeader, OpCode, RSV1, Status};
use crate::message::Message;

/// A message encoded once as server frames (unmasked, fragmented by
/// [`Config::fragment_size`]) in one shared, immutable buffer, for a
/// server that sends the same message to many connections (a broadcast, a
/// topic's subscribers).
///
/// [`Connection::send_prepared`](crate::Connection::send_prepared) queues
/// the buffer itself: cloning a `PreparedMessage` or queuing it costs a
/// reference count, not a copy of the message, and
/// [`OutputQueue::take_from`](crate::OutputQueue::take_from) moves that
/// reference into the runtime's write queue, which writes from it.
///
/// For connections whose permessage-deflate starts every message from an
/// empty window (`server_no_context_takeover` negotiated, or
/// [`DeflateConfig::no_context_takeover`](crate::DeflateConfig::no_context_takeover)
/// set), the message is also compressed once, on the first such connection
/// it is queued on, with that connection's compressor; every later one
/// with a window at least as large shares those frames. Connections that
/// keep their compression context (their peer's window holds their own
/// earlier messages), or whose window is smaller, get the uncompressed
/// frames, which RFC 7692 allows (compression is per message).
///
/// Prepared frames are server frames: a client, which must mask every
/// frame with a key of its own, cannot send them
/// ([`SendError::PreparedOnClient`](crate::SendError::PreparedOnClient)).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use ws_proto::{Config, Connection, Message, OutputQueue, PreparedMessage, Role};
///
/// let now = Instant::now();
/// let config = Arc::new(Config::default());
/// let prepared = PreparedMessage::new(Message::Text("news".into()), &config);
/// let mut queues = Vec::new();
/// for seed in 0..3 {
///     let mut conn = Connection::established(config.clone(), Role::Server, now, [seed; 32]);
///     conn.send_prepared(now, &prepared).unwrap();
///     let mut queue = OutputQueue::default();
///     while queue.take_from(&mut conn, now).is_some() {}
///     queues.push(queue);
/// }
/// // The same bytes, in one buffer, in all three queues.
/// for queue in &queues {
///     assert_eq!(queue.front(), prepared.frames().as_ref());
///     assert_eq!(queue.front().as_ptr(), prepared.frames().as_ptr());
/// }
/// ```
#[derive(Clone)]
pub struct PreparedMessage {
    inner: Arc<Inner>,
}

struct Inner {
    text: bool,
    payload_len: usize,
    fragment_size: usize,
    frames: Bytes,
    /// Computed on the first connection that can use it; `None` inside
    /// when the message is not worth compressing (or could not be).
    compressed: OnceLock<Option<Compressed>>,
}

struct Compressed {
    /// The window it was compressed with: usable by connections allowed
    /// at least this one.
    window_bits: u8,
    frames: Bytes,
}

impl PreparedMessage {
    /// Frames `message` once, fragmented by `config.fragment_size`. The
    /// frames go out as they are on every connection, whatever that
    /// connection's own `fragment_size`.
    pub fn new(message: Message, config: &Config) -> Self {
        let text = matches!(message, Message::Text(_));
        let opcode = if text { OpCode::Text } else { OpCode::Binary };
        let payload = message.as_bytes();
        let fragment_size = config.fragment_size.max(1);
        let mut frames = Vec::new();
        write_server_frames(&mut frames, opcode, 0, payload, fragment_size);
        Self {
            inner: Arc::new(Inner {
                text,
                payload_len: payload.len(),
                fragment_size,
                frames: Bytes::from(frames),
                compressed: OnceLock::new(),
            }),
        }
    }

    /// Whether it is a text message.
    pub fn is_text(&self) -> bool {
        self.inner.text
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.inner.payload_len
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.payload_len == 0
    }

    /// The uncompressed frames, exactly as they go on the wire.
    pub fn frames(&self) -> &Bytes {
        &self.inner.frames
    }

    /// The compressed frames, if a connection has made them.
    pub fn compressed_frames(&self) -> Option<&Bytes> {
        Some(&self.inner.compressed.get()?.as_ref()?.frames)
    }

    /// The payload (borrowed from the frames when they are one frame; a
    /// copy otherwise), for whoever passes the message on elsewhere.
    pub fn payload(&self) -> Cow<'_, [u8]> {
        let mut parts = Frames(&self.inner.frames);
        let Some(first) = parts.next() else {
            return Cow::Borrowed(&[]);
        };
        match parts.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut all = Vec::with_capacity(self.inner.payload_len);
                all.extend_from_slice(first);
                all.extend_from_slice(second);
                parts.for_each(|p| all.extend_from_slice(p));
                Cow::Owned(all)
            }
        }
    }

    /// The message again (a copy of the payload).
    pub fn to_message(&self) -> Message {
        let bytes = self.payload().into_owned();
        if self.inner.text {
            // The payload came from a `String`.
            Message::Text(String::from_utf8(bytes).unwrap_or_default())
        } else {
            Message::Binary(bytes)
        }
    }

    /// The compressed frames for a connection whose compressor is
    /// `deflater` (which must reset after every message), compressing them
    /// with it if no connection has yet. `None`: send the uncompressed
    /// frames.
    pub(crate) fn compressed_for(&self, deflater: &mut Deflater) -> Option<Bytes> {
        let compressed = self
            .inner
            .compressed
            .get_or_init(|| self.compress(deflater))
            .as_ref()?;
        (compressed.window_bits <= deflater.window_bits()).then(|| compressed.frames.clone())
    }

    fn compress(&self, deflater: &mut Deflater) -> Option<Compressed> {
        let payload = self.payload();
        let mut buf = Vec::new();
        if !deflater.compress(&payload, &mut buf) || buf.len() >= payload.len() {
            deflater.reset();
            return None;
        }
        let opcode = if self.inner.text {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        let mut frames = Vec::new();
        write_server_frames(&mut frames, opcode, RSV1, &buf, self.inner.fragment_size);
        Some(Compressed {
            window_bits: deflater.window_bits(),
            frames: Bytes::from(frames),
        })
    }
}

impl fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("text", &self.inner.text)
            .field("len", &self.inner.payload_len)
            .field("wire_len", &self.inner.frames.len())
            .field("compressed", &self.compressed_frames().map(Bytes::len))
            .finish()
    }
}

/// Appends `payload` as unmasked frames of at most `fragment_size` bytes
/// each, RSV bits on the first one only (RFC 7692 section 6).
fn write_server_frames(out: &mut Vec<u8>, opcode: OpCode, rsv: u8, payload: &[u8], size: usize) {
    let count = payload.len().div_ceil(size).max(1);
    out.reserve(payload.len() + count * 10);
    let mut chunks = payload.chunks(size).peekable();
    let (mut op, mut rsv) = (opcode, rsv);
    if payload.is_empty() {
        FrameHeader {
            fin: true,
            rsv,
            opcode,
            mask: None,
            payload_len: 0,
        }
        .write_to(out);
        return;
    }
    while let Some(chunk) = chunks.next() {
        FrameHeader {
            fin: chunks.peek().is_none(),
            rsv,
            opcode: op,
            mask: None,
            payload_len: chunk.len() as u64,
        }
        .write_to(out);
        out.extend_from_slice(chunk);
        op = OpCode::Continuation;
        rsv = 0;
    }
}

/// The payloads of frames this module wrote.
struct Frames<'a>(&'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let Ok(Status::Complete((header, len))) = FrameHeader::parse(self.0) else {
            return None;
        };
        let end = len.checked_add(usize::try_from(header.payload_len).ok()?)?;
        let payload = self.0.get(len..end)?;
        self.0 = &self.0[end..];
        Some(payload)
    }
}
