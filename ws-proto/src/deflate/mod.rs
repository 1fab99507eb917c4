//! permessage-deflate (RFC 7692): the negotiation in the opening handshake,
//! and the per-message compressor and decompressor.
//!
//! # Turning it on
//!
//! Set [`Config::deflate`](crate::Config::deflate) to a [`DeflateConfig`].
//! A client then offers the extension in its request; a server accepts the
//! first acceptable offer of a request. Everything else happens inside the
//! [`Connection`](crate::Connection): messages of at least
//! [`DeflateConfig::threshold`] bytes go out compressed (RSV1 on their first
//! frame), compressed messages coming in are inflated before they are
//! delivered. Control frames are never compressed.
//!
//! It is off by default (`Config::deflate` is `None`), because it costs
//! memory and CPU on every connection that uses it, and because compressing
//! secrets together with data an attacker chooses can leak them through the
//! compressed length (the CRIME and BREACH attacks). Turn it on where the
//! traffic compresses well and those costs are acceptable.
//!
//! # Memory per connection
//!
//! The compressor and the decompressor are created on first use (the first
//! message compressed or inflated), so a connection that negotiated the
//! extension but has not used it costs nothing more. Once used, they stay
//! allocated until the connection ends. Measured with a counting allocator
//! (`cargo test -p ws-proto --test memory -- --nocapture`; zlib-rs through
//! flate2):
//!
//! | | live heap |
//! |---|---:|
//! | server connection without deflate (and its `Config`), after a message each way | 0.8 KiB |
//! | the same with deflate negotiated, before any message | 0.8 KiB |
//! | with deflate, 15-bit windows (the default), after a message each way | 419 KiB |
//! | with deflate, 12-bit windows, after a message each way | 307 KiB |
//! | with deflate, threshold `usize::MAX` (inflates, never compresses) | 47 KiB |
//!
//! | window bits | compressor | decompressor |
//! |---:|---:|---:|
//! | 15 | 371 KiB | 46 KiB |
//! | 12 | 259 KiB | 46 KiB |
//! | 9 | 245 KiB | 46 KiB |
//!
//! The compressor's floor of about 245 KiB is zlib-rs's fixed hash table
//! (64 Ki entries) and its pending and symbol buffers (`memLevel` 8, which
//! flate2 does not let one change); the window adds `4 << bits` bytes. The
//! decompressor always allocates a 32 KiB window whatever the negotiated
//! size. So with deflate in use, a connection costs some 300 to 420 KiB;
//! the window sizes matter less than whether this end compresses at all.
//! A server with many connections that only needs to read compressed
//! messages can set [`DeflateConfig::threshold`] to `usize::MAX`: it then
//! never allocates a compressor (47 KiB per connection instead of 419).
//!
//! # A budget for the whole process
//!
//! However many connections there are, their compressors and
//! decompressors together stay within `deflate_budget::memory_budget`
//! (256 MiB unless `deflate_budget::set_memory_budget` says otherwise):
//! past it a server accepts the extension for no new connection, and a
//! connection whose compressor is yet to be made sends its messages
//! uncompressed. See `deflate_budget`.
//!
//! # Limits
//!
//! Inflated bytes count against
//! [`Config::max_message_size`](crate::Config::max_message_size): the
//! decompressor writes into the message in chunks of at most
//! [`INFLATE_CHUNK`] bytes and never past one byte beyond the limit, so a
//! "zip bomb" is refused (close code 1009) once it has produced that much,
//! whatever it would inflate to. The compressed bytes of one message are
//! limited too, to a little more than `max_message_size` (see
//! [`max_compressed_len`]), so that a peer cannot keep the decompressor busy
//! with a message that never ends and inflates to nothing.
//!
//! # Window sizes
//!
//! zlib (and zlib-rs) cannot compress with a window of 256 bytes (8 bits).
//! When the peer limits this end to 8 bits, this end accepts but sends every
//! message uncompressed, which RFC 7692 allows (compression is per message).
//!
//! Whatever window was negotiated for the peer, a connection inflates with
//! the full 32 KiB window: zlib-rs allocates that much anyway, and it reads
//! the data of peers that compress with a larger window than they agreed
//! to (zlib-based peers asked for 8 bits quietly use 9).

pub mod budget;
mod codec;
mod negotiation;

pub use codec::{Deflater, INFLATE_CHUNK, InflateError, Inflater, max_compressed_len};
pub(crate) use negotiation::Directions;
pub use negotiation::{DeflateConfig, DeflateParams};

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The smallest LZ77 window the RFC allows, as a base-2 logarithm.
pub const MIN_WINDOW_BITS: u8 = 8;

/// The largest LZ77 window (32 KiB), as a base-2 logarithm.
pub const MAX_WINDOW_BITS: u8 = 15;
