//! What a subscriber's queue holds at most, and what happens to a message
//! that does not fit.

/// What to do when a message arrives for a subscriber whose queue is full
/// (its peer reads slower than the topic publishes). Chosen per
/// subscription: each topic a connection subscribes to has its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Drop the message for this subscriber and report it: the
    /// [`Topics::on_skip`](super::Topics::on_skip) callback gets the
    /// subscriber's id and the topic, [`Subscriber::skipped`](super::Subscriber::skipped)
    /// counts it, and the publish's [`Report`](super::Report) says how many.
    #[default]
    Skip,
    /// Give up on the subscriber: its queue is emptied, it gets nothing
    /// more, and it yields [`Delivery::Overflow`](super::Delivery::Overflow),
    /// on which its connection should close with 1008 (policy violation).
    Close,
    /// Keep only the latest: the queued messages of the same topic are
    /// dropped for the new one (and if the queue is still full, the oldest
    /// messages of any topic, until the new one fits).
    Conflate,
}

/// The most one subscriber's queue holds: whichever limit is reached first.
/// Bytes are the frames' (the shared buffer each queued message keeps
/// alive). A message larger than `bytes` never fits: it is skipped, or with
/// [`Policy::Close`] it closes the subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Messages queued at most. Default [`Limits::DEFAULT_MESSAGES`] (64).
    pub messages: usize,
    /// Bytes queued at most. Default [`Limits::DEFAULT_BYTES`] (1 MiB).
    pub bytes: usize,
}

impl Limits {
    /// The default cap in messages.
    pub const DEFAULT_MESSAGES: usize = 64;
    /// The default cap in bytes.
    pub const DEFAULT_BYTES: usize = 1 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            messages: Self::DEFAULT_MESSAGES,
            bytes: Self::DEFAULT_BYTES,
        }
    }
}
