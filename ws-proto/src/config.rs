//! Limits and timeouts. Every limit is finite by default.

use std::time::Duration;

use crate::deflate::DeflateConfig;
use crate::handshake::RequestChecks;
use crate::origin::OriginPolicy;

/// Configuration shared by connections (wrap it in an `Arc`).
///
/// A timeout too large to add to an `Instant` (such as `Duration::MAX`)
/// never fires.
///
/// ```
/// use std::time::Duration;
/// let config = ws_proto::Config {
///     max_message_size: 1 << 20,
///     keepalive_interval: Some(Duration::from_secs(30)),
///     ..Default::default()
/// };
/// assert_eq!(config.max_frame_size, 64 << 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest payload a single received frame may declare. Larger frames
    /// close the connection with 1009 as soon as the header arrives, before
    /// anything is allocated. A frame of a compressed message may be a
    /// little longer on the wire, by the slack of
    /// [`max_compressed_len`](crate::max_compressed_len) (1/64 + 1 KiB),
    /// since deflate makes incompressible data grow.
    ///
    /// Default 64 MiB, the same as `max_message_size`, so that every message
    /// within the message limit gets through in whatever framing the peer
    /// chooses (Node's `ws` sends a message as one frame). Memory is bounded
    /// by `max_message_size` either way: a frame is never buffered apart
    /// from its message. Lower it to refuse large frames early.
    pub max_frame_size: usize,
    /// Largest message, reassembled from its fragments. Exceeding it closes
    /// with 1009 as soon as a frame header would take the message past it.
    /// Default 64 MiB.
    pub max_message_size: usize,
    /// Most frames in one message. Exceeding it closes with 1008. Default 100,000.
    pub max_fragments: usize,
    /// Largest handshake head (request line or status line and headers).
    /// Exceeding it answers 431 on the server. A server also holds at most
    /// this many bytes sent after the request head before the application
    /// answers it. Default 16 KiB.
    pub max_handshake_bytes: usize,
    /// Most header lines in a handshake head. Exceeding it answers 431. Default 64.
    pub max_headers: usize,
    /// Outgoing messages longer than this are sent as several frames of at
    /// most this many payload bytes. Default: no fragmentation.
    pub fragment_size: usize,
    /// Most bytes queued by `send` and not yet taken by `poll_transmit`
    /// (and, before the handshake completes, held for later). A send that
    /// would pass it fails with `SendError::BufferFull`. Default 64 MiB.
    pub max_write_buffer: usize,
    /// How long the opening handshake may take. Default 10 s.
    pub handshake_timeout: Duration,
    /// How long to wait for the peer's part of the close handshake (its close
    /// frame, or for a client the server's closing of TCP). Default 10 s.
    pub close_timeout: Duration,
    /// Send a ping after this long without receiving anything. The ping's
    /// payload is 8 bytes from the connection's seeded generator, and only
    /// a pong echoing them ends the wait: unsolicited pongs, or pongs to the
    /// application's own pings, do not (a peer cannot fake liveness).
    ///
    /// Default: off, as in ws-rs. A ping costs every idle connection a
    /// wake-up and a round trip, and the interval that keeps NATs and
    /// proxies open depends on the network between the peers; turn it on
    /// (Python websockets pings every 20 s) to find dead peers.
    pub keepalive_interval: Option<Duration>,
    /// With keepalive on, how long to wait for the pong before giving up
    /// (the connection ends with 1006 and a keepalive timeout). Default 20 s.
    pub keepalive_timeout: Duration,
    /// Close the connection (code 1001) after this long without receiving
    /// anything. Default: off.
    pub idle_timeout: Option<Duration>,
    /// Once a frame has started, it (and the fragmented message it may
    /// open) must be complete within this long, however the bytes trickle
    /// in; otherwise the connection is closed with 1008 and a message
    /// timeout. A peer that sends one byte a second is never idle, so only
    /// a deadline on the frame itself cuts it. While a message arrives,
    /// neither [`idle_timeout`](Config::idle_timeout) nor the keepalive
    /// interval runs (both count from the last complete frame).
    ///
    /// Default 60 s: a message of the default 64 MiB `max_message_size`
    /// still arrives at about 9 Mbit/s, while a trickling peer holds its
    /// slot for a minute at most (Python websockets bounds the opening
    /// handshake by 10 s; uWebSockets closes after 120 s without a
    /// message). Raise it for larger messages over slow links; `None`
    /// turns it off.
    pub message_timeout: Option<Duration>,
    /// End the connection when output has waited this long and the runtime
    /// has not asked for any of it ([`Connection::poll_transmit`]): a
    /// runtime asks only while its socket takes bytes, so this is how long
    /// a peer that stopped reading may keep its connection, and its
    /// buffers, once something is queued for it. The output is dropped and
    /// the transport closed at once (see [`TransportClose::Abort`]); the
    /// error is a write timeout. Default 30 s, long enough for a slow but
    /// moving link (any progress restarts it); `None` turns it off.
    ///
    /// [`Connection::poll_transmit`]: crate::Connection::poll_transmit
    /// [`TransportClose::Abort`]: crate::TransportClose::Abort
    pub write_timeout: Option<Duration>,
    /// Server: refuse unmasked client frames (RFC 6455 section 5.1 requires
    /// it). Turning it off accepts them. Default true.
    pub masking_strict: bool,
    /// Server: what the upgrade request must satisfy beyond the RFC's core.
    pub request_checks: RequestChecks,
    /// Server: the `Origin` values accepted; others get 403. Default: every
    /// origin (no check). A server that trusts cookies or other credentials
    /// a browser sends by itself must set it: see [`OriginPolicy`].
    pub origins: OriginPolicy,
    /// permessage-deflate (RFC 7692): a client offers it, a server accepts
    /// an acceptable offer. Default: `None`, off; see the
    /// [`DeflateConfig`] docs for why, and for the memory it costs.
    pub deflate: Option<DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 64 << 20,
            max_message_size: 64 << 20,
            max_fragments: 100_000,
            max_handshake_bytes: 16 << 10,
            max_headers: 64,
            fragment_size: usize::MAX,
            max_write_buffer: 64 << 20,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(10),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(20),
            idle_timeout: None,
            message_timeout: Some(Duration::from_secs(60)),
            write_timeout: Some(Duration::from_secs(30)),
            masking_strict: true,
            request_checks: RequestChecks::default(),
            origins: OriginPolicy::default(),
            deflate: None,
        }
    }
}
