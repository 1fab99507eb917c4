//! permessage-deflate on a connection: the sending half and the set-up of
//! both directions once negotiated.

use bytes::Bytes;

use super::{Connection, Role};
use crate::PreparedMessage;
use crate::deflate::{DeflateParams, Deflater, Directions, Inflater, MAX_WINDOW_BITS};

/// The sending half of a negotiated permessage-deflate (the receiving half
/// is the decoder's inflater).
#[derive(Debug)]
pub(super) struct Deflate {
    params: DeflateParams,
    threshold: usize,
    /// `None` when this end may not compress (an 8-bit window).
    deflater: Option<Deflater>,
    /// The compressor starts every message from an empty window, so the
    /// frames of a prepared message compressed once serve this connection.
    resets: bool,
    /// Compressed payload on its way to the frames.
    pub(super) buf: Vec<u8>,
}

impl Deflate {
    /// Compresses `payload` into `self.buf` when that is worth it (RFC 7692
    /// section 7.2.1). A message below the threshold, or that would not
    /// shrink, goes out uncompressed; the compressor then forgets its
    /// window, since the peer's window will not hold that message either.
    /// The shared compressed frames of `message` for this connection, when
    /// its compressor forgets every message (and the message is worth
    /// compressing); `None`: send the uncompressed frames.
    pub(super) fn prepared(&mut self, message: &PreparedMessage) -> Option<Bytes> {
        if !self.resets || message.len() < self.threshold {
            return None;
        }
        message.compressed_for(self.deflater.as_mut()?)
    }

    pub(super) fn compress(&mut self, payload: &[u8]) -> bool {
        let Some(deflater) = &mut self.deflater else {
            return false;
        };
        if payload.len() < self.threshold {
            return false;
        }
        if deflater.compress(payload, &mut self.buf) && self.buf.len() < payload.len() {
            return true;
        }
        deflater.reset();
        false
    }
}

/// The compression buffer is kept between messages up to this size.
pub(super) const DEFLATE_BUF_KEEP: usize = 64 * 1024;

impl Connection {
    /// Sets up both directions of permessage-deflate after the handshake.
    pub(super) fn enable_deflate(&mut self, params: DeflateParams) {
        let config = self.config.deflate.unwrap_or_default();
        let dirs = Directions::new(&params, &config, self.role == Role::Server);
        // The full window whatever was agreed: see the `deflate` module docs.
        self.decoder
            .set_inflater(Some(Inflater::new(MAX_WINDOW_BITS)));
        self.deflate = Some(Box::new(Deflate {
            params,
            threshold: config.threshold,
            resets: dirs.compress_reset,
            deflater: dirs
                .compress_bits
                .map(|bits| Deflater::new(config.level, bits, dirs.compress_reset)),
            buf: Vec::new(),
        }));
    }

    /// The permessage-deflate parameters agreed on in the handshake, if any.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_ref().map(|d| &d.params)
    }
}
