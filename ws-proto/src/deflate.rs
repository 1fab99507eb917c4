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

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::error::HandshakeError;

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The smallest LZ77 window the RFC allows, as a base-2 logarithm.
pub const MIN_WINDOW_BITS: u8 = 8;

/// The largest LZ77 window (32 KiB), as a base-2 logarithm.
pub const MAX_WINDOW_BITS: u8 = 15;

/// The most bytes the decompressor writes into a message per step.
pub const INFLATE_CHUNK: usize = 16 * 1024;

/// The four bytes a sync flush ends with, removed from each compressed
/// message by the sender and put back by the receiver (RFC 7692 section 7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// How permessage-deflate is offered, accepted and used.
///
/// The same configuration serves both roles; the fields say what this end
/// does ("this end" compresses what it sends, "the peer" compresses what it
/// sends to this end). Window sizes are base-2 logarithms, 8 to 15; values
/// outside that range are clamped.
///
/// ```
/// let config = ws_proto::Config {
///     deflate: Some(ws_proto::DeflateConfig {
///         max_window_bits: 12,
///         peer_max_window_bits: 12,
///         ..Default::default()
///     }),
///     ..Default::default()
/// };
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeflateConfig {
    /// The compression level, 0 (no compression, stored blocks) to 9
    /// (best); larger values are taken as 9. Default 6, zlib's default.
    pub level: u32,
    /// Messages shorter than this many bytes are sent uncompressed. Default 64.
    pub threshold: usize,
    /// The largest window this end compresses with. A server tells the
    /// client with `server_max_window_bits` when it is below 15; a client
    /// offers it as the `client_max_window_bits` hint. Default 15.
    pub max_window_bits: u8,
    /// The largest window the peer may compress with. A client asks for it
    /// with `server_max_window_bits`; a server answers with
    /// `client_max_window_bits`, and declines an offer that does not let it
    /// (one without `client_max_window_bits`) when this is below 15. A
    /// smaller window saves the peer's memory, not this end's: the
    /// decompressor allocates 32 KiB whatever the window. Default 15.
    pub peer_max_window_bits: u8,
    /// This end starts every compressed message from an empty window
    /// instead of the previous messages (a server says so with
    /// `server_no_context_takeover`; a client offers
    /// `client_no_context_takeover`). Compresses less, and makes each
    /// message's compressed size independent of the earlier ones. Default false.
    pub no_context_takeover: bool,
    /// Ask the peer to start every compressed message from an empty window
    /// (`server_no_context_takeover` in a client's offer,
    /// `client_no_context_takeover` in a server's answer). Default false.
    pub peer_no_context_takeover: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 6,
            threshold: 64,
            max_window_bits: MAX_WINDOW_BITS,
            peer_max_window_bits: MAX_WINDOW_BITS,
            no_context_takeover: false,
            peer_no_context_takeover: false,
        }
    }
}

fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// The parameters of an accepted permessage-deflate, exactly as the
/// server's response states them (RFC 7692 section 7.1). A window size left
/// out is 15.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server starts every message from an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts every message from an empty window.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with, if stated.
    pub server_max_window_bits: Option<u8>,
    /// The largest window the client compresses with, if stated.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// Parses a server's response element, such as
    /// `permessage-deflate; server_no_context_takeover; client_max_window_bits=10`.
    /// Unknown or repeated parameters, missing or out-of-range values, and a
    /// bare `client_max_window_bits` (allowed only in offers) are errors.
    ///
    /// ```
    /// let p = ws_proto::DeflateParams::parse("permessage-deflate; server_max_window_bits=10").unwrap();
    /// assert_eq!(p.server_max_window_bits, Some(10));
    /// assert!(ws_proto::DeflateParams::parse("permessage-deflate; server_max_window_bits=16").is_err());
    /// ```
    pub fn parse(element: &str) -> Result<Self, HandshakeError> {
        let offer = match parse_element(element) {
            None => {
                return Err(HandshakeError::Extension(format!(
                    "{:?} is not {EXTENSION_NAME}",
                    element.trim()
                )));
            }
            Some(Err(why)) => return Err(HandshakeError::Extension(why)),
            Some(Ok(offer)) => offer,
        };
        let client_max_window_bits = match offer.client_max_window_bits {
            None => None,
            Some(Some(bits)) => Some(bits),
            Some(None) => {
                return Err(HandshakeError::Extension(
                    "client_max_window_bits without a value in a response".into(),
                ));
            }
        };
        Ok(Self {
            server_no_context_takeover: offer.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover,
            server_max_window_bits: offer.server_max_window_bits,
            client_max_window_bits,
        })
    }

    /// The window the server compresses with at most: the stated size, or 15.
    pub fn server_window_bits(&self) -> u8 {
        self.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS)
    }

    /// The window the client compresses with at most: the stated size, or 15.
    pub fn client_window_bits(&self) -> u8 {
        self.client_max_window_bits.unwrap_or(MAX_WINDOW_BITS)
    }
}

/// Writes the response element, the value of the server's
/// `Sec-WebSocket-Extensions` header.
impl fmt::Display for DeflateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXTENSION_NAME)?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        if let Some(bits) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={bits}")?;
        }
        Ok(())
    }
}

/// One parsed offer (or response) element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in offers only).
    client_max_window_bits: Option<Option<u8>>,
}

/// Parses one element of `Sec-WebSocket-Extensions`. `None` when it is
/// another extension; `Some(Err)` when it is permessage-deflate with
/// parameters RFC 7692 does not allow (section 7: unknown or repeated
/// parameters, values out of range or where none is allowed).
fn parse_element(element: &str) -> Option<Result<Offer, String>> {
    let mut parts = element.split(';');
    let name = parts.next().unwrap_or("").trim();
    if !name.eq_ignore_ascii_case(EXTENSION_NAME) {
        return None;
    }
    Some(parse_params(parts))
}

fn parse_params<'a>(parts: impl Iterator<Item = &'a str>) -> Result<Offer, String> {
    let mut offer = Offer::default();
    let mut seen = [false; 4];
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()))),
            None => (part.trim(), None),
        };
        let index = match key.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            _ => return Err(format!("unknown parameter {key:?}")),
        };
        // Section 7: "A server MUST decline an extension negotiation offer
        // for this extension if ... the offer has more than one parameter of
        // the same name."
        if std::mem::replace(&mut seen[index], true) {
            return Err(format!("parameter {key} appears twice"));
        }
        match (index, value) {
            (0, None) => offer.server_no_context_takeover = true,
            (1, None) => offer.client_no_context_takeover = true,
            (0 | 1, Some(_)) => return Err(format!("parameter {key} takes no value")),
            (2, Some(v)) => offer.server_max_window_bits = Some(window_bits(key, v)?),
            (2, None) => return Err(format!("parameter {key} needs a value")),
            (_, Some(v)) => offer.client_max_window_bits = Some(Some(window_bits(key, v)?)),
            (_, None) => offer.client_max_window_bits = Some(None),
        }
    }
    Ok(offer)
}

/// The value of a quoted-string, or the token itself (RFC 7692 section 7.1
/// allows either; the unquoted value must match the same syntax).
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// Section 7.1.2: "a decimal integer value without leading zeroes between
/// 8 to 15, inclusive".
fn window_bits(key: &str, value: &str) -> Result<u8, String> {
    let valid =
        !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0');
    match value.parse::<u8>() {
        Ok(bits) if valid && (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) => Ok(bits),
        _ => Err(format!(
            "parameter {key} has the invalid value {value:?} (8 to 15)"
        )),
    }
}

impl DeflateConfig {
    /// The client's offer: the value of its `Sec-WebSocket-Extensions`
    /// header. It always says `client_max_window_bits` (without a value
    /// when this end allows 15 bits), so that the server may limit the
    /// window this end compresses with.
    ///
    /// ```
    /// let offer = ws_proto::DeflateConfig::default().offer();
    /// assert_eq!(offer, "permessage-deflate; client_max_window_bits");
    /// ```
    pub fn offer(&self) -> String {
        let mut offer = String::from(EXTENSION_NAME);
        if self.peer_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        if self.no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        let peer = clamp_bits(self.peer_max_window_bits);
        if peer < MAX_WINDOW_BITS {
            offer.push_str(&format!("; server_max_window_bits={peer}"));
        }
        let own = clamp_bits(self.max_window_bits);
        if own < MAX_WINDOW_BITS {
            offer.push_str(&format!("; client_max_window_bits={own}"));
        } else {
            offer.push_str("; client_max_window_bits");
        }
        offer
    }

    /// Server: chooses the first offer among `offers` (the elements of the
    /// request's `Sec-WebSocket-Extensions` headers, in order, as
    /// [`Request::extensions`](crate::Request::extensions) gives them) that
    /// this configuration can accept, and returns the parameters to answer
    /// with; their `to_string()` is the response header's value. `None` when no offer is acceptable:
    /// accept the connection without the extension.
    ///
    /// An offer with unknown or repeated parameters or invalid values is
    /// declined and the next one tried (RFC 7692 section 7); so is one that
    /// does not let this end limit the peer's window to
    /// [`peer_max_window_bits`](DeflateConfig::peer_max_window_bits).
    ///
    /// ```
    /// let config = ws_proto::DeflateConfig { peer_max_window_bits: 10, ..Default::default() };
    /// let offers = ["permessage-deflate; foo", "permessage-deflate; client_max_window_bits"];
    /// let params = config.negotiate(offers).unwrap();
    /// assert_eq!(params.to_string(), "permessage-deflate; client_max_window_bits=10");
    /// ```
    pub fn negotiate<'a>(
        &self,
        offers: impl IntoIterator<Item = &'a str>,
    ) -> Option<DeflateParams> {
        offers
            .into_iter()
            .filter_map(parse_element)
            .filter_map(Result::ok)
            .find_map(|offer| self.accept_offer(&offer))
    }

    fn accept_offer(&self, offer: &Offer) -> Option<DeflateParams> {
        let own = clamp_bits(self.max_window_bits);
        // Section 7.1.2.1: accept server_max_window_bits with the same or a
        // smaller value; state a smaller window of our own unasked.
        let server_max_window_bits = match offer.server_max_window_bits {
            Some(asked) => Some(asked.min(own)),
            None if own < MAX_WINDOW_BITS => Some(own),
            None => None,
        };
        // Section 7.1.2.2: client_max_window_bits may be answered only when
        // offered; without it the client may use 15 bits.
        let peer = clamp_bits(self.peer_max_window_bits);
        let client_max_window_bits = match offer.client_max_window_bits {
            _ if peer == MAX_WINDOW_BITS => None,
            Some(hint) => Some(hint.map_or(peer, |h| h.min(peer))),
            None => return None,
        };
        Some(DeflateParams {
            // Section 7.1.1.1: an offer with server_no_context_takeover is
            // accepted by answering with it.
            server_no_context_takeover: offer.server_no_context_takeover
                || self.no_context_takeover,
            client_no_context_takeover: self.peer_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        })
    }

    /// Client: checks the server's response element against the offers the
    /// request made (`offers`, the elements of its `Sec-WebSocket-Extensions`
    /// headers) and returns the agreed parameters. Fails, as RFC 7692
    /// section 7 requires of a client, when the response has an unknown,
    /// repeated or invalid parameter, or parameters that accept none of the
    /// offers (a window larger than the one asked for, a
    /// `client_max_window_bits` that was not offered, a missing
    /// `server_no_context_takeover` or `server_max_window_bits` that was
    /// asked for).
    pub fn check_response<'a>(
        &self,
        offers: impl IntoIterator<Item = &'a str>,
        response: &str,
    ) -> Result<DeflateParams, HandshakeError> {
        let params = DeflateParams::parse(response)?;
        let accepts = |offer: &Offer| {
            (!offer.server_no_context_takeover || params.server_no_context_takeover)
                && match (offer.server_max_window_bits, params.server_max_window_bits) {
                    (Some(asked), Some(got)) => got <= asked,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
                && (params.client_max_window_bits.is_none()
                    || offer.client_max_window_bits.is_some())
        };
        let any = offers
            .into_iter()
            .filter_map(parse_element)
            .filter_map(Result::ok)
            .any(|offer| accepts(&offer));
        if any {
            Ok(params)
        } else {
            Err(HandshakeError::Extension(format!(
                "the server's {:?} accepts none of the offers",
                response.trim()
            )))
        }
    }
}

/// The window sizes and context rules of one connection, for its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Directions {
    /// What this end compresses with; `None` when it must not compress
    /// (an 8-bit window that zlib cannot honour).
    pub(crate) compress_bits: Option<u8>,
    pub(crate) compress_reset: bool,
}

impl Directions {
    pub(crate) fn new(params: &DeflateParams, config: &DeflateConfig, server: bool) -> Self {
        let (own, own_reset) = if server {
            (
                params.server_window_bits(),
                params.server_no_context_takeover,
            )
        } else {
            (
                params.client_window_bits(),
                params.client_no_context_takeover,
            )
        };
        let own = own.min(clamp_bits(config.max_window_bits));
        Self {
            compress_bits: (own > MIN_WINDOW_BITS).then_some(own),
            compress_reset: own_reset || config.no_context_takeover,
        }
    }
}

/// The most compressed bytes one message may have under a limit of
/// `max_message_size` inflated bytes: the limit plus 1/64 plus 1 KiB, well
/// above what deflate adds to incompressible data (about 0.03 %).
pub fn max_compressed_len(max_message_size: usize) -> u64 {
    let max = max_message_size as u64;
    max.saturating_add(max / 64).saturating_add(1024)
}

/// Compresses messages for one direction of a connection (RFC 7692 section 7.2.1).
///
/// The zlib state is created on the first message and kept (reset after
/// each message without context takeover).
pub struct Deflater {
    level: Compression,
    window_bits: u8,
    no_context_takeover: bool,
    state: Option<Compress>,
}

impl fmt::Debug for Deflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deflater")
            .field("level", &self.level.level())
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("allocated", &self.state.is_some())
            .finish()
    }
}

impl Deflater {
    /// A compressor with `level` (0 to 9) and a window of `window_bits`
    /// (9 to 15; 8 is taken as 9, which zlib cannot go below, so it must
    /// not be used where the peer allowed only 8).
    pub fn new(level: u32, window_bits: u8, no_context_takeover: bool) -> Self {
        Self {
            level: Compression::new(level.min(9)),
            window_bits: window_bits.clamp(MIN_WINDOW_BITS + 1, MAX_WINDOW_BITS),
            no_context_takeover,
            state: None,
        }
    }

    /// Compresses one whole message into `out` (cleared first), without
    /// the final `00 00 ff ff`. Returns `false` when zlib failed, in which
    /// case the state is reset and the message should go out uncompressed.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> bool {
        let (level, bits) = (self.level, self.window_bits);
        let state = self
            .state
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits));
        out.clear();
        out.reserve(payload.len() / 2 + 64);
        let mut input = payload;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before = state.total_in();
            if state.compress_vec(input, out, FlushCompress::Sync).is_err() {
                state.reset();
                return false;
            }
            input = &input[(state.total_in() - before) as usize..];
            // Done when all input is taken and the flush left room unused.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.no_context_takeover {
            state.reset();
        }
        true
    }

    /// Forgets the previous messages: the next one is compressed from an
    /// empty window. The peer can inflate it whatever its own window holds.
    pub fn reset(&mut self) {
        if let Some(state) = &mut self.state {
            state.reset();
        }
    }

    /// Whether the zlib state has been allocated (a message was compressed).
    pub fn is_allocated(&self) -> bool {
        self.state.is_some()
    }
}

/// Why inflating failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message would pass the limit.
    TooLarge {
        /// Bytes the message reached (at most the limit plus one).
        len: u64,
    },
    /// The compressed data was invalid.
    Corrupt(String),
}

/// Inflates messages for one direction of a connection (RFC 7692 section 7.2.2).
///
/// Feed a message's compressed payload in pieces with
/// [`Inflater::inflate`], then call [`Inflater::finish`] after its last
/// frame. Output never grows past the limit plus one byte.
pub struct Inflater {
    window_bits: u8,
    state: Option<Decompress>,
    /// The peer ended the deflate stream (a block with BFINAL) within this
    /// message: anything after it is ignored, and the state is reset for
    /// the next message.
    ended: bool,
}

impl fmt::Debug for Inflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("allocated", &self.state.is_some())
            .finish()
    }
}

impl Inflater {
    /// A decompressor with a window of `window_bits` (8 is taken as 9, which
    /// reads 8-bit data too).
    pub fn new(window_bits: u8) -> Self {
        Self {
            window_bits: window_bits.clamp(MIN_WINDOW_BITS + 1, MAX_WINDOW_BITS),
            state: None,
            ended: false,
        }
    }

    /// Inflates part of a message's compressed payload, appending to `out`.
    /// Fails as soon as `out` would hold more than `limit` bytes; `out` then
    /// holds at most `limit + 1`.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        self.run(input, out, limit, FlushDecompress::None)
    }

    /// Ends a message: inflates the `00 00 ff ff` the sender removed.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        self.run(&TAIL, out, limit, FlushDecompress::Sync)?;
        if std::mem::take(&mut self.ended) {
            if let Some(state) = &mut self.state {
                state.reset(false);
            }
        }
        Ok(())
    }

    /// Whether the zlib state has been allocated (a message was inflated).
    pub fn is_allocated(&self) -> bool {
        self.state.is_some()
    }

    fn run(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
        flush: FlushDecompress,
    ) -> Result<(), InflateError> {
        if self.ended {
            return Ok(());
        }
        let bits = self.window_bits;
        let state = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        loop {
            reserve_bounded(out, INFLATE_CHUNK, limit);
            let (in_before, out_before) = (state.total_in(), state.total_out());
            let status = state.decompress_vec(input, out, flush);
            // What was inflated before an error counts first: past the
            // limit, the message is too large however the stream goes on
            // (and however its input was split).
            if out.len() > limit {
                return Err(InflateError::TooLarge {
                    len: out.len() as u64,
                });
            }
            let status = status.map_err(|e| InflateError::Corrupt(e.to_string()))?;
            input = &input[(state.total_in() - in_before) as usize..];
            let produced = state.total_out() - out_before;
            if out.len() > limit {
                return Err(InflateError::TooLarge {
                    len: out.len() as u64,
                });
            }
            match status {
                Status::StreamEnd => {
                    self.ended = true;
                    return Ok(());
                }
                // No progress possible: more input is needed.
                Status::BufError => return Ok(()),
                Status::Ok => {}
            }
            // All input taken and room left over: nothing more is pending.
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(());
            }
            if produced == 0 && input.is_empty() {
                return Ok(());
            }
        }
    }
}

/// Makes room for up to `chunk` more bytes, but never capacity beyond
/// `limit + 1` (one byte past the limit is how it is detected).
fn reserve_bounded(out: &mut Vec<u8>, chunk: usize, limit: usize) {
    let cap_max = limit.saturating_add(1);
    let want = chunk.min(cap_max.saturating_sub(out.len())).max(1);
    if out.capacity() - out.len() >= want {
        return;
    }
    let target = out
        .capacity()
        .saturating_mul(2)
        .min(cap_max)
        .max(out.len() + want);
    out.reserve_exact(target - out.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DeflateConfig {
        DeflateConfig::default()
    }

    #[test]
    fn offers_from_config() {
        let table: &[(DeflateConfig, &str)] = &[
            (config(), "permessage-deflate; client_max_window_bits"),
            (
                DeflateConfig {
                    max_window_bits: 10,
                    peer_max_window_bits: 9,
                    no_context_takeover: true,
                    peer_no_context_takeover: true,
                    ..config()
                },
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=10",
            ),
            (
                DeflateConfig {
                    max_window_bits: 40,
                    peer_max_window_bits: 0,
                    ..config()
                },
                "permessage-deflate; server_max_window_bits=8; client_max_window_bits",
            ),
        ];
        for (config, offer) in table {
            assert_eq!(config.offer(), *offer);
            // Our own offer is acceptable to our own server.
            assert!(config.negotiate([*offer]).is_some(), "{offer}");
        }
    }

    /// Server: a table of request headers (offers) to the response element
    /// (or `None`: accepted without the extension).
    #[test]
    fn server_negotiation_table() {
        let small = DeflateConfig {
            max_window_bits: 12,
            ..config()
        };
        let limited_peer = DeflateConfig {
            peer_max_window_bits: 10,
            ..config()
        };
        let strict = DeflateConfig {
            no_context_takeover: true,
            peer_no_context_takeover: true,
            ..config()
        };
        let table: &[(DeflateConfig, &[&str], Option<&str>)] = &[
            (
                config(),
                &["permessage-deflate"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["PerMessage-Deflate"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["permessage-deflate; client_no_context_takeover; client_max_window_bits"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["permessage-deflate; server_no_context_takeover"],
                Some("permessage-deflate; server_no_context_takeover"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=10"],
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=\"9\""],
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=8"],
                Some("permessage-deflate; server_max_window_bits=8"),
            ),
            // Our smaller window is stated unasked, or wins over a larger ask.
            (
                small,
                &["permessage-deflate"],
                Some("permessage-deflate; server_max_window_bits=12"),
            ),
            (
                small,
                &["permessage-deflate; server_max_window_bits=14"],
                Some("permessage-deflate; server_max_window_bits=12"),
            ),
            (
                small,
                &["permessage-deflate; server_max_window_bits=9"],
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            // Limiting the client needs client_max_window_bits in the offer.
            (limited_peer, &["permessage-deflate"], None),
            (
                limited_peer,
                &["permessage-deflate; client_max_window_bits"],
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                limited_peer,
                &["permessage-deflate; client_max_window_bits=9"],
                Some("permessage-deflate; client_max_window_bits=9"),
            ),
            (
                limited_peer,
                &[
                    "permessage-deflate",
                    "permessage-deflate; client_max_window_bits=12",
                ],
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                strict,
                &["permessage-deflate"],
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
            // Invalid offers are declined and the next one is tried.
            (config(), &["permessage-deflate; foo"], None),
            (
                config(),
                &["permessage-deflate; foo=1", "permessage-deflate"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &[
                    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                    "permessage-deflate; server_max_window_bits=11",
                ],
                Some("permessage-deflate; server_max_window_bits=11"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=7"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=16"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=010"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=1x"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=-9"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits=0"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits=99999999999"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_no_context_takeover=1"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_no_context_takeover=\"\""],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits; client_max_window_bits=10"],
                None,
            ),
            (config(), &["x-webkit-deflate-frame", "foo; bar"], None),
            (
                config(),
                &["x-webkit-deflate-frame", "permessage-deflate"],
                Some("permessage-deflate"),
            ),
            (config(), &[], None),
        ];
        for (config, offers, expected) in table {
            let got = config
                .negotiate(offers.iter().copied())
                .map(|p| p.to_string());
            assert_eq!(got.as_deref(), *expected, "{offers:?}");
            // What the server answers, its client accepts.
            if let Some(response) = got {
                let params = config.check_response(offers.iter().copied(), &response);
                assert!(params.is_ok(), "{offers:?} -> {response}: {params:?}");
            }
        }
    }

    /// Client: a table of (offer, response) to Ok or the start of the error.
    #[test]
    fn client_response_table() {
        let plain = "permessage-deflate; client_max_window_bits";
        let asks = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
        let bare = "permessage-deflate";
        let table: &[(&str, &str, Result<DeflateParams, &str>)] = &[
            (plain, "permessage-deflate", Ok(DeflateParams::default())),
            (
                plain,
                "permessage-deflate; client_max_window_bits=9; server_max_window_bits=12",
                Ok(DeflateParams {
                    client_max_window_bits: Some(9),
                    server_max_window_bits: Some(12),
                    ..Default::default()
                }),
            ),
            (
                plain,
                " permessage-deflate ;server_no_context_takeover; client_no_context_takeover ",
                Ok(DeflateParams {
                    server_no_context_takeover: true,
                    client_no_context_takeover: true,
                    ..Default::default()
                }),
            ),
            (
                asks,
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
                Ok(DeflateParams {
                    server_no_context_takeover: true,
                    server_max_window_bits: Some(9),
                    ..Default::default()
                }),
            ),
            (
                asks,
                "permessage-deflate; server_max_window_bits=10",
                Err("extension negotiation failed: the server's"),
            ),
            (
                asks,
                "permessage-deflate; server_no_context_takeover",
                Err("extension negotiation failed: the server's"),
            ),
            (
                asks,
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
                Err("extension negotiation failed: the server's"),
            ),
            (
                bare,
                "permessage-deflate; client_max_window_bits=10",
                Err("extension negotiation failed: the server's"),
            ),
            (
                plain,
                "permessage-deflate; client_max_window_bits",
                Err("extension negotiation failed: client_max_window_bits without a value"),
            ),
            (
                plain,
                "permessage-deflate; server_max_window_bits",
                Err("extension negotiation failed: parameter server_max_window_bits needs a value"),
            ),
            (
                plain,
                "permessage-deflate; server_max_window_bits=16",
                Err(
                    "extension negotiation failed: parameter server_max_window_bits has the invalid value",
                ),
            ),
            (
                plain,
                "permessage-deflate; foo",
                Err("extension negotiation failed: unknown parameter \"foo\""),
            ),
            (
                plain,
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                Err(
                    "extension negotiation failed: parameter server_no_context_takeover appears twice",
                ),
            ),
            (
                plain,
                "x-other",
                Err("extension negotiation failed: \"x-other\" is not permessage-deflate"),
            ),
        ];
        for (offer, response, expected) in table {
            let got = config()
                .check_response([*offer], response)
                .map_err(|e| e.to_string());
            match (got, expected) {
                (Ok(got), Ok(expected)) => assert_eq!(got, *expected, "{response}"),
                (Err(got), Err(prefix)) => assert!(got.starts_with(prefix), "{response}: {got}"),
                (got, expected) => {
                    panic!("{offer} / {response}: got {got:?}, expected {expected:?}")
                }
            }
        }
    }

    #[test]
    fn directions_by_role() {
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: Some(8),
            client_max_window_bits: Some(11),
        };
        let server = Directions::new(&params, &config(), true);
        assert_eq!(
            server,
            Directions {
                compress_bits: None,
                compress_reset: true,
            }
        );
        let client = Directions::new(&params, &config(), false);
        assert_eq!(
            client,
            Directions {
                compress_bits: Some(11),
                compress_reset: false,
            }
        );
        let own = DeflateConfig {
            max_window_bits: 10,
            no_context_takeover: true,
            ..config()
        };
        let client = Directions::new(&DeflateParams::default(), &own, false);
        assert_eq!(client.compress_bits, Some(10));
        assert!(client.compress_reset);
    }

    fn sample(n: usize, seed: u32) -> Vec<u8> {
        // Text-like and somewhat repetitive, with some noise.
        let words = [
            "alpha ",
            "beta ",
            "gamma ",
            "delta ",
            "{\"id\": ",
            "42, ",
            "\n",
        ];
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x % 11 == 0 {
                out.push((x >> 8) as u8);
            } else {
                out.extend_from_slice(words[(x >> 4) as usize % words.len()].as_bytes());
            }
        }
        out.truncate(n);
        out
    }

    fn round_trip(def: &mut Deflater, inf: &mut Inflater, msg: &[u8], piece: usize) -> usize {
        let mut wire = Vec::new();
        assert!(def.compress(msg, &mut wire));
        assert!(!wire.ends_with(&TAIL) || wire.len() < 4 || msg.is_empty());
        let mut out = Vec::new();
        for chunk in wire.chunks(piece.max(1)) {
            inf.inflate(chunk, &mut out, usize::MAX - 1).unwrap();
        }
        inf.finish(&mut out, usize::MAX - 1).unwrap();
        assert_eq!(out, msg);
        wire.len()
    }

    #[test]
    fn round_trips_with_and_without_context_takeover() {
        for bits in 9..=15 {
            for reset in [false, true] {
                let mut def = Deflater::new(6, bits, reset);
                let mut inf = Inflater::new(bits);
                let mut sizes = Vec::new();
                for (i, len) in [0, 1, 100, 5000, 5000, 70_000, 3].into_iter().enumerate() {
                    let msg = sample(len, (i % 4) as u32);
                    sizes.push(round_trip(&mut def, &mut inf, &msg, 1 + i * 37));
                }
                // A repeated message compresses to almost nothing with
                // context takeover, and to the same size without.
                let msg = sample(5000, 9);
                let first = round_trip(&mut def, &mut inf, &msg, 4096);
                let again = round_trip(&mut def, &mut inf, &msg, 4096);
                if reset {
                    assert_eq!(first, again, "bits {bits}");
                } else if bits >= 13 {
                    // The repeat lies within the window: a few back-references.
                    assert!(again < first / 10, "bits {bits}: {again} vs {first}");
                }
            }
        }
    }

    #[test]
    fn empty_message_compresses_to_one_byte() {
        // A sync flush of nothing is 00 00 00 ff ff: one empty stored block
        // after the tail is removed.
        let mut def = Deflater::new(6, 15, false);
        let mut out = Vec::new();
        assert!(def.compress(b"", &mut out));
        assert_eq!(out, [0x00]);
    }

    #[test]
    fn rfc_examples_inflate() {
        // RFC 7692 section 7.2.3.1 ("Hello" in one block), 7.2.3.2 (context
        // takeover: the second "Hello" is a back-reference), 7.2.3.3 (no
        // compression, a stored block), 7.2.3.5 (two blocks).
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let again = [0xf2, 0x00, 0x11, 0x00, 0x00];
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        let blocks = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        let mut inf = Inflater::new(15);
        for wire in [&hello[..], &again, &stored, &blocks] {
            let mut out = Vec::new();
            inf.inflate(wire, &mut out, 100).unwrap();
            inf.finish(&mut out, 100).unwrap();
            assert_eq!(out, b"Hello", "{wire:02x?}");
        }
        // BFINAL set (section 7.2.3.4 allows it): the stream ends, and the
        // next message starts a new one.
        let final_block = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        for _ in 0..2 {
            let mut out = Vec::new();
            inf.inflate(&final_block, &mut out, 100).unwrap();
            inf.finish(&mut out, 100).unwrap();
            assert_eq!(out, b"Hello");
        }
    }

    #[test]
    fn corrupt_data_is_an_error() {
        let mut inf = Inflater::new(15);
        let mut out = Vec::new();
        // Block type 3 is invalid.
        let err = inf.inflate(&[0xff, 0xff, 0xff], &mut out, 100).unwrap_err();
        assert!(matches!(err, InflateError::Corrupt(_)), "{err:?}");
    }

    /// 16 MiB of zeros against a 1 MiB limit: refused once the output
    /// passes the limit, with the output never above limit + 1 bytes.
    #[test]
    fn bomb_is_refused_within_the_limit() {
        let limit = 1 << 20;
        let mut def = Deflater::new(9, 15, false);
        let mut wire = Vec::new();
        assert!(def.compress(&vec![0u8; 16 << 20], &mut wire));
        assert!(wire.len() < 32 * 1024, "{}", wire.len());
        let mut inf = Inflater::new(15);
        let mut out = Vec::new();
        let mut result = Ok(());
        for chunk in wire.chunks(1000) {
            result = inf.inflate(chunk, &mut out, limit);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(
            result,
            Err(InflateError::TooLarge {
                len: limit as u64 + 1
            })
        );
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
    }

    #[test]
    fn reserve_bounded_never_passes_the_limit() {
        let mut v = Vec::new();
        for _ in 0..100 {
            reserve_bounded(&mut v, 1000, 2500);
            let room = v.capacity() - v.len();
            v.resize(v.len() + room.min(1000), 0);
            assert!(v.capacity() <= 2501);
            if v.len() == 2501 {
                break;
            }
        }
        assert_eq!(v.len(), 2501);
    }

    #[test]
    fn max_compressed_len_leaves_room_for_expansion() {
        assert_eq!(max_compressed_len(0), 1024);
        assert_eq!(max_compressed_len(64 << 20), (64 << 20) + (1 << 20) + 1024);
        assert_eq!(max_compressed_len(usize::MAX), u64::MAX);
    }
}
