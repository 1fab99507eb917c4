//! Configuration of a `WebSocket`: ws-rs's settings plus the core's limits and deadlines.

use std::time::Duration;

/// Settings of a `WebSocket`, shared by all its connections; pass them to
/// `Builder::with_settings`.
///
/// Every field of ws-rs 0.9's `Settings` exists with the same name and type, so code that
/// builds settings with struct update syntax keeps compiling:
///
/// ```
/// let settings = ws::Settings {
///     max_connections: 10_000,
///     panic_on_internal: false,
///     ..ws::Settings::default()
/// };
/// assert_eq!(settings.queue_size, 5);
/// ```
///
/// # Differences from ws-rs
///
/// - **Finite limits by default.** ws-rs accepted frames of any size by default
///   (`max_fragment_size` was `usize::MAX`) and let its buffers and fragment list grow
///   without bound, so one peer could exhaust the memory of the process. Here every input is
///   bounded by default: [`max_frame_size`](Settings::max_frame_size) (64 MiB),
///   [`max_message_size`](Settings::max_message_size) (64 MiB),
///   [`max_fragments`](Settings::max_fragments) (100,000),
///   [`max_handshake_bytes`](Settings::max_handshake_bytes) (16 KiB) and
///   [`max_headers`](Settings::max_headers) (64). A peer exceeding a limit gets a close
///   frame with code 1009 (or an HTTP error during the handshake); the process is unaffected.
///   Raise the limits if your application needs larger messages.
/// - **Strict by default.** [`masking_strict`](Settings::masking_strict) and
///   [`key_strict`](Settings::key_strict) default to `true` (ws-rs: `false`), as RFC 6455
///   requires; a client always checks the server's `Sec-WebSocket-Accept` and refuses masked
///   frames, and `key_strict` now governs the server's check of the client's key (see the
///   field).
/// - **Peer input never panics.** The `panic_on_*` flags are accepted for source
///   compatibility, but they only apply to errors raised by the local application: an error
///   of the matching kind returned by a `Factory` or `Handler` method (including an error the
///   handler propagates with `?` from a `Sender` call or a `Message` conversion), or a
///   failure of an operation the application requested. An error caused by what a peer
///   sends (a protocol violation, invalid UTF-8, an oversized message, a reset socket, a
///   missed deadline) never panics, whatever the flags say: it closes that connection with
///   the matching close code and is reported to `Handler::on_error`. In ws-rs the same
///   flags also panicked on errors caused by peers.
/// - **Deadlines.** ws-rs had none: a peer that never finished the opening handshake or never
///   answered a Close frame held its connection open forever. The core now enforces
///   [`handshake_timeout`](Settings::handshake_timeout) and
///   [`close_timeout`](Settings::close_timeout) (10 s each) and
///   [`message_timeout`](Settings::message_timeout) (60 s from a frame's first byte to the
///   end of its message, so a trickle is cut with 1008), and optionally sends keepalive
///   pings ([`keepalive_interval`](Settings::keepalive_interval),
///   [`keepalive_timeout`](Settings::keepalive_timeout)) and drops quiet connections
///   ([`idle_timeout`](Settings::idle_timeout), counted from the last complete frame).
/// - **Buffers.** The core parses input incrementally, so the read buffer never has to hold a
///   whole frame; the `in_buffer_*` fields tune buffer sizes but are no longer what bounds
///   memory (the limits above are). Output is bounded too: each connection's outgoing buffer
///   has a cap ([`out_buffer_grow`](Settings::out_buffer_grow)), with a high-water and a
///   low-water mark for [`Handler::on_drain`](crate::Handler::on_drain) and a choice of
///   policy at the cap ([`close_on_write_cap`](Settings::close_on_write_cap)); see
///   [`Sender`](crate::Sender)'s Back-pressure section.
/// - `encrypt_server` needs a server certificate, given as a rustls configuration with
///   `WebSocket::with_tls_server` (feature `rustls`); without one, listening fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Settings {
    /// The maximum number of connections open at once on this `WebSocket`, incoming and
    /// outgoing together; an incoming connection still in its opening handshake counts
    /// against [`max_pending_handshakes`](Settings::max_pending_handshakes) instead. A hard
    /// limit: past it, a new client is answered `503 Service Unavailable` with `Retry-After`
    /// (the [`handshake_timeout`](Settings::handshake_timeout), in seconds) and closed, and
    /// the factory's handler for it gets a Capacity error in `on_error` (logged as a warning
    /// too); an outgoing connection fails with a Capacity error. Until an old connection goes
    /// away. On a TLS listener (`with_tls_server`) the 503 is sent inside TLS, after the TLS
    /// handshake: at most 64 such refusals are under way at once (per loop on mio, per
    /// process on tokio), each within 2 s, and a client past them is closed unanswered (see
    /// `ws_proto::admission::MAX_TLS_REFUSALS`).
    ///
    /// Default: 10,000 (ws-rs: 100). Measured, an idle open connection costs the server
    /// 1.1 KiB of resident memory on mio and 6.0 KiB on tokio (2,000 connections, each after
    /// one echo; `cargo test --release -p ws --all-features --test memory_per_connection --
    /// --ignored --nocapture`), so 10,000 idle connections take about 11 MiB (mio) or 60 MiB
    /// (tokio) besides the kernel's socket memory, where ws-rs's 100 let a hundred idle
    /// sockets lock a server out. Under load what bounds a connection is back-pressure, not
    /// this cap: reading from a peer stops while 128 KiB of output wait for it, so an echo
    /// server's worst case is about `max_connections * (128 KiB + max_message_size)`; lower
    /// the cap or the message size when that matters. Each connection takes a file
    /// descriptor: raise the process's limit (`ulimit -n`, often 1,024 by default) above
    /// `max_connections + max_pending_handshakes`, or accepting fails for want of
    /// descriptors and clients wait in the backlog (the loop retries every 100 ms).
    pub max_connections: usize,
    /// The maximum number of incoming connections in their opening handshake at once (TCP
    /// accepted, the upgrade not answered yet; the TLS handshake included). A separate cap, so
    /// that sockets which connect and then send nothing, or a request a byte at a time, cannot
    /// take the slots of open connections: past it, a new client gets the same 503 as past
    /// [`max_connections`](Settings::max_connections), and each stalled handshake frees its
    /// slot at [`handshake_timeout`](Settings::handshake_timeout) at the latest. When the cap
    /// fills, the server first holds off accepting for a quarter of `handshake_timeout` (at
    /// most 1 s), leaving new clients in the kernel's backlog with their requests, so that a
    /// burst of honest clients whose requests are on their way is served; the 503 is for a cap
    /// that stays full past that. A runtime
    /// holds at most `max_connections + max_pending_handshakes` sockets.
    ///
    /// A handshake in progress costs its share of the core's head buffer (at most
    /// [`max_handshake_bytes`](Settings::max_handshake_bytes)), so the worst case is about
    /// `max_pending_handshakes * (max_handshake_bytes + 2 KiB)`: 17 MiB with the defaults.
    ///
    /// Default: 1,024. New in this crate.
    pub max_pending_handshakes: usize,
    /// The number of commands (sends, closes, timeouts ...) that may wait in the event loop's
    /// queue per connection; the queue holds `queue_size * max_connections` commands in all
    /// and is shared, so one connection may use more than its share while others use less.
    /// When it is full, `Sender` calls fail with [`ErrorKind::Queue`](crate::ErrorKind::Queue).
    /// `queue_size * max_connections` must not overflow `usize`.
    ///
    /// Default: 5 (as in ws-rs).
    pub queue_size: usize,
    /// Whether to panic when a new TCP connection cannot be established: accepting an
    /// incoming connection fails with an OS error, or an outgoing connection the application
    /// asked for (`connect`) fails. Otherwise the error is reported and the event loop goes
    /// on.
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_new_connection: bool,
    /// Whether to panic when the application asks the `WebSocket` to shut down
    /// (`Sender::shutdown`), instead of shutting down cleanly.
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_shutdown: bool,
    /// The number of fragments of an incoming message the connection makes room for up
    /// front.
    ///
    /// Default: 10 (as in ws-rs).
    pub fragments_capacity: usize,
    /// Whether an incoming message may have more than `fragments_capacity` fragments.
    ///
    /// If `true`, the limit on fragments per message is
    /// [`max_fragments`](Settings::max_fragments); if `false`, it is the smaller of
    /// `fragments_capacity` and `max_fragments`. A message with too many fragments closes the
    /// connection with 1008 (policy) and reports a Capacity error. ws-rs grew without bound
    /// when this was `true`.
    ///
    /// Default: true (as in ws-rs).
    pub fragments_grow: bool,
    /// The maximum payload length of outgoing frames: longer messages are sent as several
    /// frames.
    ///
    /// Default: 65,535 (as in ws-rs).
    pub fragment_size: usize,
    /// The maximum payload length of an incoming frame; the same limit as
    /// [`max_frame_size`](Settings::max_frame_size), kept under its ws-rs name. The limit
    /// applied is the smaller of the two fields, so lowering either one takes effect.
    ///
    /// Default: 64 MiB, as [`max_frame_size`](Settings::max_frame_size). ws-rs's default was
    /// `usize::MAX` (no limit).
    pub max_fragment_size: usize,
    /// The initial capacity in bytes of each connection's read buffer, which is reused for
    /// every read.
    ///
    /// Default: 2048 (as in ws-rs).
    pub in_buffer_capacity: usize,
    /// Accepted for source compatibility; has no effect. ws-rs needed the read buffer to
    /// hold a whole frame and, when this was `false`, failed connections whose frames did
    /// not fit in `in_buffer_capacity`; the core parses incrementally, so input of any size
    /// is read through a buffer of `in_buffer_capacity` bytes, and memory is bounded by
    /// [`max_frame_size`](Settings::max_frame_size) and
    /// [`max_message_size`](Settings::max_message_size) instead.
    ///
    /// Default: true (as in ws-rs).
    pub in_buffer_grow: bool,
    /// The initial capacity in bytes of each connection's buffer of output waiting to be
    /// written to the socket.
    ///
    /// Default: 2048 (as in ws-rs).
    pub out_buffer_capacity: usize,
    /// Whether pending output may grow beyond `out_buffer_capacity` bytes. If `false`,
    /// `out_buffer_capacity` is the cap of each connection's outgoing buffer: a
    /// [`Sender::send`](crate::Sender::send) that would take the bytes accepted and not yet
    /// written to the socket past it fails at once with a Capacity error (see
    /// [`close_on_write_cap`](Settings::close_on_write_cap) for the alternative); replies the
    /// core owes the peer, such as pongs and the close echo, are always queued. If `true`,
    /// the cap is 64 MiB.
    ///
    /// Default: true (as in ws-rs; but ws-rs had no cap at all when it was `true`).
    pub out_buffer_grow: bool,
    /// Whether to panic when an Internal error is raised by the application (see the
    /// type-level docs); otherwise the connection is closed with 1011.
    ///
    /// Default: true (as in ws-rs, as a debugging aid; production code may prefer false).
    pub panic_on_internal: bool,
    /// Whether to panic when a Capacity error is raised by the application, never for a peer
    /// exceeding a limit.
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_capacity: bool,
    /// Whether to panic when a Protocol error is raised by the application, never for a
    /// protocol violation by a peer.
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_protocol: bool,
    /// Whether to panic when an Encoding error is raised by the application (for example
    /// propagated with `?` from [`Message::as_text`](crate::Message::as_text)), never for
    /// invalid UTF-8 sent by a peer, which the core rejects with 1007.
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_encoding: bool,
    /// Whether to panic when a Queue error is raised by the application (a failed `Sender`
    /// call the handler propagates).
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_queue: bool,
    /// Whether to panic when an Io error is raised by the application, never for socket
    /// errors such as a connection reset by the peer.
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_io: bool,
    /// Whether to panic when a Timeout error is raised by the application, or when a
    /// timeout the application asked for (`Sender::timeout`) cannot be scheduled; never for
    /// a peer missing one of the core's deadlines.
    ///
    /// Default: false (as in ws-rs).
    pub panic_on_timeout: bool,
    /// Whether to shut the `WebSocket` down when the event loop's wait is interrupted by a
    /// signal (`EINTR`); otherwise the wait is simply retried.
    ///
    /// Default: true (as in ws-rs).
    pub shutdown_on_interrupt: bool,
    /// Whether a server enforces masking as RFC 6455 section 5.1 requires, failing the
    /// connection with 1002 when a client frame is not masked; with `false` unmasked client
    /// frames are accepted.
    ///
    /// Differences from ws-rs: the default; and a client always fails the connection (1002)
    /// when a server frame is masked, whatever this flag says (ws-rs only checked that when
    /// the flag was set). Frames this endpoint sends are always masked correctly.
    ///
    /// Default: true. ws-rs's default was false.
    pub masking_strict: bool,
    /// Whether a server requires the client's `Sec-WebSocket-Key` to be the base64 encoding
    /// of 16 bytes (RFC 6455 section 4.1), answering `400 Bad Request` otherwise; with
    /// `false` any non-empty key is accepted.
    ///
    /// Differences from ws-rs: in ws-rs this flag made a client check the server's
    /// `Sec-WebSocket-Accept` against its key. A client here always checks it (RFC 6455
    /// section 4.1 requires it), failing the handshake with a Protocol error when they
    /// differ, whatever this flag says.
    ///
    /// Default: true. ws-rs's default was false.
    pub key_strict: bool,
    /// Whether a server rejects opening handshakes whose method is not `GET` (RFC 6455
    /// section 4.1), answering `405 Method Not Allowed` (ws-rs answered 400); otherwise any
    /// method is accepted, as only WebSocket upgrades are served anyway.
    ///
    /// Default: false (as in ws-rs).
    pub method_strict: bool,
    /// Whether a server accepts a browser's upgrade only from a page of its own host: the
    /// host and port in `Origin` must be those of the `Host` header (a default port may be
    /// written or left out). Any other origin gets `403 Forbidden` and a Protocol error in
    /// [`Handler::on_error`](crate::Handler::on_error). Requests without `Origin` (clients
    /// other than browsers) are accepted. Origins in
    /// [`allowed_origins`](Settings::allowed_origins) are accepted too.
    ///
    /// Why: browsers let any page open a WebSocket to any server and send that server's
    /// cookies with it; same-origin policy does not apply. Without a check, a hostile page
    /// the user visits can talk to your server in the user's name (cross-site WebSocket
    /// hijacking, RFC 6455 section 10.2). Browsers always send `Origin`, and pages cannot
    /// forge it. Turn this on (or list the origins) whenever the server trusts cookies or
    /// other credentials the browser sends by itself.
    ///
    /// Default: false (every origin is accepted, as in ws-rs, which had no such check).
    pub same_origin: bool,
    /// Origins a server accepts as written, such as `"https://app.example.com"` (scheme,
    /// host, and port unless the default; compared ignoring ASCII case). When the list is
    /// not empty or [`same_origin`](Settings::same_origin) is on, a request whose `Origin`
    /// matches neither gets `403 Forbidden`; see `same_origin` for why.
    ///
    /// Default: empty (with `same_origin` off, every origin is accepted). New in this crate.
    pub allowed_origins: &'static [&'static str],
    /// Serve TLS (`wss://`) on the listener, as in ws-rs. The certificate and key come
    /// from a rustls configuration given to `WebSocket::with_tls_server` (feature
    /// `rustls`), which turns TLS on by itself. `true` without one makes listening fail
    /// with an Internal error (and without the `rustls` feature, building the
    /// `WebSocket` fails with an error naming the feature), never silently serving
    /// unencrypted connections.
    ///
    /// Default: false (as in ws-rs).
    pub encrypt_server: bool,
    /// Whether to disable Nagle's algorithm (set `TCP_NODELAY`) on every connection, so
    /// that small frames go out at once instead of being coalesced.
    ///
    /// Default: false (as in ws-rs).
    pub tcp_nodelay: bool,
    /// The maximum size in bytes of an incoming message, all fragments together (after
    /// reassembly). A larger message closes the connection with 1009 and reports a Capacity
    /// error before it is buffered. Outgoing messages are not limited.
    ///
    /// Default: 64 MiB. New in this crate (ws-rs had no such limit).
    pub max_message_size: usize,
    /// The maximum payload length of an incoming frame. A larger frame closes the connection
    /// with 1009 and reports a Capacity error as soon as its header is read. The limit
    /// applied is the smaller of this and [`max_fragment_size`](Settings::max_fragment_size).
    /// A frame of a compressed message may be longer on the wire by 1/64 + 1 KiB, since
    /// deflate makes incompressible data grow.
    ///
    /// Default: 64 MiB, equal to [`max_message_size`](Settings::max_message_size), so that
    /// every message within the message limit gets through however the peer frames it
    /// (Node's `ws` sends each message as one frame, and with permessage-deflate 16 MiB of
    /// random bytes become one frame of 16,782,342 bytes). Memory stays bounded by the message
    /// limit. New in this crate.
    pub max_frame_size: usize,
    /// The maximum number of frames an incoming message may be split into (see also
    /// [`fragments_grow`](Settings::fragments_grow)). A message with more closes the
    /// connection with 1008 (policy) and reports a Capacity error. Bounds the per-frame
    /// overhead a peer can impose by sending a message in tiny pieces; the default admits a
    /// 4 MiB message sent in 64-byte fragments (65,536 fragments).
    ///
    /// Default: 100,000. New in this crate.
    pub max_fragments: usize,
    /// The maximum size in bytes of the HTTP request (server) or response (client) of the
    /// opening handshake. A larger one fails the handshake (a server answers
    /// `431 Request Header Fields Too Large`) and is reported as a Capacity error.
    ///
    /// Default: 16 KiB. New in this crate.
    pub max_handshake_bytes: usize,
    /// The maximum number of header fields in the HTTP request or response of the opening
    /// handshake. More fail the handshake like an oversized one (431, Capacity error).
    ///
    /// Default: 64. New in this crate (ws-rs had a fixed limit of 124).
    pub max_headers: usize,
    /// How long the opening handshake may take, from the TCP connection being established
    /// to the handshake response being sent (server) or received (client). When it expires
    /// the connection is dropped and a Timeout error is reported.
    ///
    /// Default: 10 s. New in this crate.
    pub handshake_timeout: Duration,
    /// How many redirects a client follows in its opening handshake (a `301`, `302`, `303`,
    /// `307` or `308` with a `Location`). The handler and its `Sender`s stay the same along
    /// the way: `build_request` is called again with each new URL, and `on_open` sees the
    /// last one in [`Request::url`](crate::Request::url). A relative `Location` is resolved
    /// against the URL of the request; the credentials of a `user:pass@` URL are dropped when
    /// the host or port changes; a redirect from `wss://` to `ws://`, one back to a URL
    /// already visited and one past this limit are not followed, and reach `on_error` as a
    /// Protocol error saying why (see `ws_proto::redirect`). Headers a handler adds in
    /// `build_request` (a cookie, a token) are its own to keep or drop: it sees each new URL
    /// there. Messages sent before the
    /// connection opened are not carried over to the next hop. Each hop has its own
    /// `handshake_timeout`.
    ///
    /// Default: 10, as Python's `websockets`. Browsers follow none; 0 does the same. New in
    /// this crate.
    pub max_redirects: usize,
    /// How long to wait for the peer's Close frame (after sending ours) and then for the TCP
    /// connection to end, before dropping the connection. `on_close` still runs, with
    /// [`CloseCode::Abnormal`](crate::CloseCode::Abnormal) if the peer never answered.
    ///
    /// Default: 10 s. New in this crate.
    pub close_timeout: Duration,
    /// If set, a Ping is sent whenever nothing has been received from the peer for this
    /// long, to keep intermediaries from dropping an idle connection and to detect a dead
    /// peer (see [`keepalive_timeout`](Settings::keepalive_timeout)). The Ping carries 8
    /// unpredictable bytes, and only a Pong echoing them counts: unsolicited Pongs, or Pongs
    /// to the handler's own Pings, cannot keep a dead or hostile connection alive.
    ///
    /// Default: `None` (no keepalive pings), as in ws-rs: pings cost every idle connection a
    /// wake-up and a round trip, and the interval that keeps NATs and proxies open depends on
    /// the network (Python websockets pings every 20 s). New in this crate.
    pub keepalive_interval: Option<Duration>,
    /// How long to wait for the Pong after a keepalive Ping before giving up on the peer: the
    /// connection is dropped (`on_close` sees [`CloseCode::Abnormal`](crate::CloseCode::Abnormal))
    /// and a Timeout error is reported. Only used when
    /// [`keepalive_interval`](Settings::keepalive_interval) is set.
    ///
    /// Default: 20 s. New in this crate.
    pub keepalive_timeout: Duration,
    /// If set, a connection on which nothing has been received for this long is closed with
    /// [`CloseCode::Away`](crate::CloseCode::Away) (1001) and a Timeout error is reported.
    ///
    /// Default: `None` (no idle limit). New in this crate. It counts from the last complete
    /// frame, not from the last byte (a peer trickling a byte a second is not active), and
    /// does not run while a frame or message arrives:
    /// [`message_timeout`](Settings::message_timeout) bounds that. Off by default because
    /// keepalive is too: a quiet but healthy client (a chat left open) would be cut; set both
    /// to find dead peers.
    pub idle_timeout: Option<Duration>,
    /// If set, a frame, once its first byte has arrived, must be complete within this long,
    /// and so must the fragmented message it opens: a peer that trickles a frame (one byte a
    /// second is never idle) is closed with [`CloseCode::Policy`](crate::CloseCode::Policy)
    /// (1008: it broke our time limit, not the protocol), and a Timeout error is reported.
    ///
    /// Default: 60 s, so that a message of the default
    /// [`max_message_size`](Settings::max_message_size) (64 MiB) still arrives at about
    /// 9 Mbit/s while a trickling peer keeps its slot a minute at most (Python websockets
    /// bounds the opening handshake by 10 s, uWebSockets closes a connection after 120 s
    /// without a message). Raise it for large messages over slow links. New in this crate.
    pub message_timeout: Option<Duration>,
    /// If set, a connection whose output makes no progress for this long (the peer stopped
    /// reading, so the socket takes none of what waits for it) is dropped: what was queued
    /// is discarded, `on_close` sees [`CloseCode::Abnormal`](crate::CloseCode::Abnormal),
    /// and a Timeout error is reported. Any progress restarts the wait, so a slow but moving
    /// link is not cut. Without it, a peer that never reads would keep its connection and
    /// its buffers (up to the write cap) for as long as it keeps the TCP connection open.
    ///
    /// Default: 30 s. New in this crate.
    pub write_timeout: Option<Duration>,
    /// Whether [`Handler::on_frame`](crate::Handler::on_frame) and
    /// [`Handler::on_send_frame`](crate::Handler::on_send_frame) are called. Each call moves
    /// the payload into a [`Frame`](crate::Frame) and back (a move, not a copy). A text
    /// message is checked for UTF-8 again afterwards only when the hook took its payload for
    /// change ([`Frame::payload_mut`](crate::Frame::payload_mut) or a mask); turn the hooks
    /// off when the handler does not override them, to save the two calls per message.
    ///
    /// Default: true (ws-rs always called them). New in this crate.
    pub frame_hooks: bool,
    /// Whether to use the permessage-deflate extension (RFC 7692): a client offers it in its
    /// handshake request, a server accepts a client's offer. When both ends agree, messages
    /// of at least [`deflate_threshold`](Settings::deflate_threshold) bytes are sent
    /// compressed and compressed messages are inflated before they reach the handler
    /// (`on_message` and the frame hooks see the uncompressed payload). Incoming messages are
    /// limited by [`max_message_size`](Settings::max_message_size) after inflation: a
    /// message that inflates past it closes the connection with 1009, however small it was
    /// on the wire.
    ///
    /// Off by default, for memory and safety: a connection that compresses and inflates
    /// holds some 420 KiB of compression state (0.8 KiB without; the `ws_proto` crate's
    /// `deflate` module documents the measurements), and compressing secrets together with
    /// data an attacker chooses can leak them through the compressed size (CRIME, BREACH).
    /// The state is allocated when a connection first compresses or inflates a message.
    ///
    /// Default: false. ws-rs offered permessage-deflate through its optional `DeflateHandler`.
    pub permessage_deflate: bool,
    /// With [`permessage_deflate`](Settings::permessage_deflate), the compression level,
    /// 0 (none) to 9 (best, slowest).
    ///
    /// Default: 6 (zlib's default).
    pub deflate_level: u32,
    /// With [`permessage_deflate`](Settings::permessage_deflate), messages shorter than this
    /// many bytes are sent uncompressed. `usize::MAX` never compresses (but still accepts
    /// compressed messages), which saves the 370 KiB compressor per connection.
    ///
    /// Default: 64.
    pub deflate_threshold: usize,
    /// With [`permessage_deflate`](Settings::permessage_deflate), the base-2 logarithm of the
    /// largest LZ77 window (9 to 15; other values are clamped): this end compresses with at
    /// most this window and asks the peer to do the same (`client_max_window_bits` /
    /// `server_max_window_bits`). A server declines offers that do not let it limit the
    /// client's window when this is below 15. Smaller windows compress less and save
    /// memory: the compressor takes 371 KiB at 15, 259 KiB at 12, 245 KiB at 9.
    ///
    /// Default: 15.
    pub deflate_window_bits: u8,
    /// With [`permessage_deflate`](Settings::permessage_deflate), whether each message is
    /// compressed on its own instead of with the previous ones as context, in both directions
    /// (this end does so, and asks the peer to with `client_no_context_takeover` /
    /// `server_no_context_takeover`). Compresses less; makes each message's compressed size
    /// independent of the earlier messages.
    ///
    /// Default: false.
    pub deflate_no_context_takeover: bool,
    /// What happens when a send would take a connection's outgoing buffer past its cap
    /// (see [`out_buffer_grow`](Settings::out_buffer_grow)): if `false`, the send fails with
    /// a Capacity error and the connection goes on; if `true`, the send fails the same way
    /// and the connection is also closed with [`CloseCode::Policy`](crate::CloseCode::Policy)
    /// (1008), after what it had already accepted. Either way nothing is queued, and a
    /// broadcast message a connection over its cap cannot take is reported to that
    /// connection's [`Handler::on_error`](crate::Handler::on_error) instead of dropped
    /// silently.
    ///
    /// Default: false. New in this crate.
    pub close_on_write_cap: bool,
    /// The high-water mark of each connection's outgoing buffer: once the bytes accepted and
    /// not yet written pass it (see [`Sender::buffered_amount`](crate::Sender::buffered_amount)),
    /// or once a send is refused for the cap, [`Handler::on_drain`](crate::Handler::on_drain)
    /// is owed. Sending stays possible up to the cap; an application that streams should
    /// stop when `buffered_amount` passes this mark and go on in `on_drain`. At most the cap.
    ///
    /// Default: 1 MiB. New in this crate.
    pub out_buffer_high_water: usize,
    /// The low-water mark: when on_drain is owed (see
    /// [`out_buffer_high_water`](Settings::out_buffer_high_water)) and the buffered amount
    /// falls to this or below, [`Handler::on_drain`](crate::Handler::on_drain) is called.
    /// At most half the high-water mark.
    ///
    /// Default: 256 KiB. New in this crate.
    pub out_buffer_low_water: usize,
}

impl Settings {
    /// The cap of a connection's outgoing buffer.
    pub(crate) fn write_cap(&self) -> usize {
        if self.out_buffer_grow {
            ws_proto::Config::default().max_write_buffer
        } else {
            self.out_buffer_capacity
        }
    }

    /// The core configuration these settings describe.
    ///
    /// Only the fields the core knows are mapped; the runtime applies the others
    /// (connections, queue, buffers, `panic_on_*`, `tcp_nodelay`, `encrypt_server`,
    /// `shutdown_on_interrupt`).
    pub(crate) fn core_config(&self) -> ws_proto::Config {
        let max_fragments = if self.fragments_grow {
            self.max_fragments
        } else {
            self.max_fragments.min(self.fragments_capacity)
        };
        // The facade holds each connection to `write_cap`; the core's own
        // cap is only a backstop (see `ws_proto::backpressure`).
        let max_write_buffer = ws_proto::backpressure::core_backstop(self.write_cap());
        ws_proto::Config {
            max_frame_size: self.max_frame_size.min(self.max_fragment_size),
            max_message_size: self.max_message_size,
            max_fragments,
            max_handshake_bytes: self.max_handshake_bytes,
            max_headers: self.max_headers,
            fragment_size: self.fragment_size,
            max_write_buffer,
            handshake_timeout: self.handshake_timeout,
            close_timeout: self.close_timeout,
            keepalive_interval: self.keepalive_interval,
            keepalive_timeout: self.keepalive_timeout,
            idle_timeout: self.idle_timeout,
            message_timeout: self.message_timeout,
            write_timeout: self.write_timeout,
            masking_strict: self.masking_strict,
            request_checks: ws_proto::RequestChecks {
                method: self.method_strict,
                key: self.key_strict,
            },
            origins: ws_proto::OriginPolicy {
                same_host: self.same_origin,
                allowed: self.allowed_origins.iter().map(|&o| o.to_owned()).collect(),
            },
            deflate: self.permessage_deflate.then_some(ws_proto::DeflateConfig {
                level: self.deflate_level,
                threshold: self.deflate_threshold,
                max_window_bits: self.deflate_window_bits,
                peer_max_window_bits: self.deflate_window_bits,
                no_context_takeover: self.deflate_no_context_takeover,
                peer_no_context_takeover: self.deflate_no_context_takeover,
            }),
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_connections: 10_000,
            max_pending_handshakes: 1024,
            queue_size: 5,
            panic_on_new_connection: false,
            panic_on_shutdown: false,
            fragments_capacity: 10,
            fragments_grow: true,
            fragment_size: u16::MAX as usize,
            max_fragment_size: 64 << 20,
            in_buffer_capacity: 2048,
            in_buffer_grow: true,
            out_buffer_capacity: 2048,
            out_buffer_grow: true,
            panic_on_internal: true,
            panic_on_capacity: false,
            panic_on_protocol: false,
            panic_on_encoding: false,
            panic_on_queue: false,
            panic_on_io: false,
            panic_on_timeout: false,
            shutdown_on_interrupt: true,
            masking_strict: true,
            key_strict: true,
            method_strict: false,
            same_origin: false,
            allowed_origins: &[],
            encrypt_server: false,
            tcp_nodelay: false,
            max_message_size: 64 << 20,
            max_frame_size: 64 << 20,
            max_fragments: 100_000,
            max_handshake_bytes: 16 << 10,
            max_headers: 64,
            handshake_timeout: Duration::from_secs(10),
            max_redirects: ws_proto::redirect::DEFAULT_MAX_REDIRECTS,
            close_timeout: Duration::from_secs(10),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(20),
            idle_timeout: None,
            message_timeout: Some(Duration::from_secs(60)),
            write_timeout: Some(Duration::from_secs(30)),
            frame_hooks: true,
            permessage_deflate: false,
            deflate_level: 6,
            deflate_threshold: 64,
            deflate_window_bits: 15,
            deflate_no_context_takeover: false,
            close_on_write_cap: false,
            out_buffer_high_water: 1 << 20,
            out_buffer_low_water: 256 << 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_rs_defaults_are_kept() {
        let s = Settings::default();
        // Not ws-rs's 100: see the field's docs.
        assert_eq!(s.max_connections, 10_000);
        assert_eq!(s.max_pending_handshakes, 1024);
        assert_eq!(s.queue_size, 5);
        assert!(!s.panic_on_new_connection);
        assert!(!s.panic_on_shutdown);
        assert_eq!(s.fragments_capacity, 10);
        assert!(s.fragments_grow);
        assert_eq!(s.fragment_size, 65_535);
        assert_eq!(s.in_buffer_capacity, 2048);
        assert!(s.in_buffer_grow);
        assert_eq!(s.out_buffer_capacity, 2048);
        assert!(s.out_buffer_grow);
        assert!(s.panic_on_internal);
        assert!(!s.panic_on_capacity);
        assert!(!s.panic_on_protocol);
        assert!(!s.panic_on_encoding);
        assert!(!s.panic_on_queue);
        assert!(!s.panic_on_io);
        assert!(!s.panic_on_timeout);
        assert!(s.shutdown_on_interrupt);
        assert!(!s.method_strict);
        assert!(!s.encrypt_server);
        assert!(!s.tcp_nodelay);
    }

    #[test]
    fn documented_differences_from_ws_rs() {
        let s = Settings::default();
        assert!(s.masking_strict);
        assert!(s.key_strict);
        assert_eq!(s.max_fragment_size, 64 * 1024 * 1024);
        assert_eq!(s.max_frame_size, 64 * 1024 * 1024);
        assert_eq!(s.max_message_size, 64 * 1024 * 1024);
        assert_eq!(s.max_handshake_bytes, 16 * 1024);
        assert_eq!(s.max_headers, 64);
        assert_eq!(s.handshake_timeout, Duration::from_secs(10));
        assert_eq!(s.close_timeout, Duration::from_secs(10));
        assert_eq!(s.keepalive_interval, None);
        assert_eq!(s.keepalive_timeout, Duration::from_secs(20));
        assert_eq!(s.idle_timeout, None);
    }

    #[test]
    fn default_limits_admit_4_mib_in_64_byte_fragments() {
        let s = Settings::default();
        let message = 4 * 1024 * 1024;
        let fragments = message / 64;
        assert_eq!(fragments, 65_536);
        assert!(fragments <= s.max_fragments);
        assert!(message <= s.max_message_size);
        // The default frame limit admits a full default-sized outgoing fragment of a peer
        // using the same settings.
        assert!(s.fragment_size <= s.max_frame_size.min(s.max_fragment_size));
        // A message of max_frame_size fits in max_message_size.
        assert!(s.max_frame_size <= s.max_message_size);
        // The queue size does not overflow.
        assert!(s.queue_size.checked_mul(s.max_connections).is_some());
    }

    #[test]
    fn default_limits_match_the_core_defaults() {
        let ours = Settings::default().core_config();
        let core = ws_proto::Config::default();
        assert_eq!(ours.max_frame_size, core.max_frame_size);
        assert_eq!(ours.max_message_size, core.max_message_size);
        assert_eq!(ours.max_fragments, core.max_fragments);
        assert_eq!(ours.max_handshake_bytes, core.max_handshake_bytes);
        assert_eq!(ours.max_headers, core.max_headers);
        assert_eq!(Settings::default().write_cap(), core.max_write_buffer);
        assert_eq!(ours.handshake_timeout, core.handshake_timeout);
        assert_eq!(ours.close_timeout, core.close_timeout);
        assert_eq!(ours.message_timeout, core.message_timeout);
        assert_eq!(ours.keepalive_interval, core.keepalive_interval);
        assert_eq!(ours.keepalive_timeout, core.keepalive_timeout);
        assert_eq!(ours.idle_timeout, core.idle_timeout);
        assert_eq!(ours.masking_strict, core.masking_strict);
        assert_eq!(ours.deflate, None);
        assert_eq!(core.deflate, None);
        assert!(ours.request_checks.key);
        // ws-rs's defaults where they differ from the core's.
        assert!(!ours.request_checks.method);
        assert_eq!(ours.fragment_size, 65_535);
    }

    #[test]
    fn core_config_applies_ws_rs_fields() {
        let settings = Settings {
            max_fragment_size: 1000,
            max_frame_size: 2000,
            fragments_grow: false,
            fragments_capacity: 7,
            out_buffer_grow: false,
            out_buffer_capacity: 4096,
            method_strict: true,
            key_strict: false,
            masking_strict: false,
            ..Settings::default()
        };
        let config = settings.core_config();
        assert_eq!(config.max_frame_size, 1000);
        assert_eq!(config.max_fragments, 7);
        assert_eq!(settings.write_cap(), 4096);
        // The core's cap is a backstop beyond the runtime's.
        assert!(config.max_write_buffer > 2 * 4096);
        assert!(config.request_checks.method);
        assert!(!config.request_checks.key);
        assert!(!config.masking_strict);

        let settings = Settings {
            max_frame_size: 10,
            ..Settings::default()
        };
        assert_eq!(settings.core_config().max_frame_size, 10);

        let settings = Settings {
            permessage_deflate: true,
            ..Settings::default()
        };
        // The facade's defaults are the core's.
        assert_eq!(
            settings.core_config().deflate,
            Some(ws_proto::DeflateConfig::default())
        );
        let settings = Settings {
            permessage_deflate: true,
            deflate_level: 1,
            deflate_threshold: 10,
            deflate_window_bits: 11,
            deflate_no_context_takeover: true,
            ..Settings::default()
        };
        assert_eq!(
            settings.core_config().deflate,
            Some(ws_proto::DeflateConfig {
                level: 1,
                threshold: 10,
                max_window_bits: 11,
                peer_max_window_bits: 11,
                no_context_takeover: true,
                peer_no_context_takeover: true,
            })
        );
    }

    #[test]
    fn struct_update_syntax_and_copy() {
        let s = Settings {
            max_connections: 1,
            idle_timeout: Some(Duration::from_secs(60)),
            ..Settings::default()
        };
        let copy = s;
        assert_eq!(copy, s);
        assert_eq!(copy.max_connections, 1);
        assert_eq!(copy.idle_timeout, Some(Duration::from_secs(60)));
    }
}
