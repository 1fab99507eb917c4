//! The two sides a [`Bridge`](crate::Bridge) joins: this node's topics
//! ([`LocalTopics`]) and the channel between the nodes ([`Backplane`]).
//! Redis pub/sub is one backplane ([`RedisBackplane`](crate::RedisBackplane));
//! another (NATS, say) implements the same small trait.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use ws_proto::Message;

/// This node's topic registry, as the bridge sees it: it hands over what
/// other nodes published.
pub trait LocalTopics: Send + Sync + 'static {
    /// Delivers `message` to this node's subscribers of `topic`; returns how
    /// many it reached.
    fn publish_local(&self, topic: &str, message: Message) -> usize;
}

/// Any `Fn(&str, Message) -> usize` is a [`LocalTopics`]: for tests, and
/// for registries with their own publish function.
impl<F> LocalTopics for F
where
    F: Fn(&str, Message) -> usize + Send + Sync + 'static,
{
    fn publish_local(&self, topic: &str, message: Message) -> usize {
        self(topic, message)
    }
}

/// The native API's registry, with the `ws-tokio` feature (on by
/// default): what another node published is framed once here and queued
/// for every local subscriber, as a local publish is.
#[cfg(feature = "ws-tokio")]
impl LocalTopics for ws_tokio::topics::Topics {
    fn publish_local(&self, topic: &str, message: Message) -> usize {
        self.publish(topic, message).delivered
    }
}

/// Where a backplane delivers what arrives on a channel: the channel's
/// name and the bytes published on it.
pub type Inbox = Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// A channel between nodes: whatever one node publishes on a channel
/// reaches every node subscribed to it (the publisher too, if it is), in
/// the order it was published.
pub trait Backplane: Send + Sync + 'static {
    /// Publishes `bytes` on `channel`. An error means the other nodes will
    /// not see them (the backplane is unreachable, say): it is the caller's
    /// to report, never dropped here.
    fn publish(
        &self,
        channel: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), BackplaneError>> + Send;

    /// Starts receiving `channel` into the backplane's [`Inbox`], now and
    /// after every reconnection. Subscribing twice is subscribing once.
    fn subscribe(&self, channel: &str);

    /// Stops receiving `channel`.
    fn unsubscribe(&self, channel: &str);
}

/// A backplane failed to publish.
#[derive(Debug)]
pub struct BackplaneError {
    what: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl BackplaneError {
    /// An error saying `what` failed, caused by `source`.
    pub fn new(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            what: what.into(),
            source: Some(source.into()),
        }
    }
}

impl fmt::Display for BackplaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl std::error::Error for BackplaneError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A publish reached this node's subscribers but not the other nodes.
#[derive(Debug)]
pub struct PublishError {
    /// The topic published to.
    pub topic: String,
    /// How many of this node's subscribers got the message all the same.
    pub delivered_locally: usize,
    /// Why the other nodes did not.
    pub source: BackplaneError,
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a message on topic {:?} reached {} local subscribers but no other node: {}",
            self.topic, self.delivered_locally, self.source
        )
    }
}

impl std::error::Error for PublishError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
