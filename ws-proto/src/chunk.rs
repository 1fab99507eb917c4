//! [`Chunk`]: one buffer of output, owned by the connection or shared with
//! other connections.

use bytes::Bytes;

/// One buffer on its way to a transport: the core's own bytes, or the
/// frames of a [`PreparedMessage`](crate::PreparedMessage), shared (by
/// reference count) with every other connection it was queued on.
#[derive(Debug)]
pub(crate) enum Chunk {
    /// Bytes this connection encoded (or a large message's own payload).
    Owned(Vec<u8>),
    /// Immutable bytes shared with other connections.
    Shared(Bytes),
}

impl Default for Chunk {
    fn default() -> Self {
        Self::Owned(Vec::new())
    }
}

impl Chunk {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Owned(v) => v,
            Self::Shared(b) => b,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
