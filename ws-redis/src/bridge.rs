//! [`Bridge`]: this node's topics joined to the other nodes' through a
//! [`Backplane`].

use std::sync::Arc;

use ws_proto::Message;

use crate::backplane::{Backplane, Inbox, LocalTopics, PublishError};
use crate::envelope::{self, NodeId};
use crate::redis_backplane::{RedisBackplane, RedisConfig};

/// This node's topics joined to every other node's: a message published
/// here reaches the subscribers here at once and, through the backplane,
/// the subscribers of every other node that follows the topic; a message
/// published on another node reaches the subscribers here. Each subscriber
/// gets each message once: a node delivers its own publishes itself and
/// drops them when the backplane brings them back.
///
/// ```no_run
/// use std::sync::Arc;
/// use ws_redis::{Bridge, RedisConfig};
/// use ws_proto::Message;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// // This node's registry: here, a function printing what it is handed.
/// let local = |topic: &str, message: Message| {
///     println!("deliver to {topic}: {message:?}");
///     1 // subscribers reached
/// };
/// let bridge = Bridge::redis("redis://127.0.0.1:6379/", RedisConfig::default(), local)?;
/// bridge.follow("lobby");
/// // Reaches the subscribers here, and those of every node following "lobby".
/// bridge.publish("lobby", Message::Text("hello".into())).await?;
/// # Ok(())
/// # }
/// ```
pub struct Bridge<B, L> {
    backplane: B,
    local: Arc<L>,
    node: NodeId,
    prefix: String,
}

impl<B, L> std::fmt::Debug for Bridge<B, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The channel prefix of [`Bridge::redis`]: topic `lobby` is Redis channel
/// `ws:lobby`.
pub const DEFAULT_PREFIX: &str = "ws:";

impl<L: LocalTopics> Bridge<RedisBackplane, L> {
    /// A bridge over the Redis at `url` (must be called inside a tokio
    /// runtime). Fails for a URL that cannot be used, or when the system's
    /// random source fails (the node's id must not be guessable by another
    /// node); an unreachable Redis is retried in the background.
    pub fn redis(
        url: &str,
        config: RedisConfig,
        local: L,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Self::new(DEFAULT_PREFIX, local, |inbox| {
            RedisBackplane::start(url, config, inbox)
        })
    }
}

impl<B: Backplane, L: LocalTopics> Bridge<B, L> {
    /// A bridge over the backplane `make` builds around the inbox it is
    /// given, with channels named `prefix` + topic.
    pub fn new<E>(
        prefix: &str,
        local: L,
        make: impl FnOnce(Inbox) -> Result<B, E>,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let seed = ws_proto::os_seed()?;
        let node: NodeId = seed[..16].try_into().expect("16 of 32 bytes");
        let local = Arc::new(local);
        let inbox: Inbox = {
            let (local, prefix) = (Arc::clone(&local), prefix.to_owned());
            Arc::new(move |channel: &str, bytes: &[u8]| {
                let Some(topic) = channel.strip_prefix(&*prefix) else {
                    return;
                };
                match envelope::decode(bytes) {
                    // Delivered here when it was published.
                    Some((from, _)) if from == node => {}
                    Some((_, message)) => {
                        local.publish_local(topic, message);
                    }
                    None => log::debug!("dropped a message on {channel:?} that is not ours"),
                }
            })
        };
        let backplane = make(inbox).map_err(Into::into)?;
        Ok(Self {
            backplane,
            local,
            node,
            prefix: prefix.to_owned(),
        })
    }

    /// Receives the other nodes' messages on `topic` from now on (and
    /// again after every reconnection to the backplane). Call it when the
    /// topic gets its first subscriber on this node.
    pub fn follow(&self, topic: &str) {
        self.backplane.subscribe(&self.channel(topic));
    }

    /// Stops receiving the other nodes' messages on `topic`: when its last
    /// subscriber on this node has gone.
    pub fn unfollow(&self, topic: &str) {
        self.backplane.unsubscribe(&self.channel(topic));
    }

    /// Delivers `message` to this node's subscribers of `topic`, then
    /// publishes it to the other nodes. Returns how many local subscribers
    /// it reached; a failure to reach the other nodes is an error that
    /// still says how many local ones it reached.
    pub async fn publish(&self, topic: &str, message: Message) -> Result<usize, PublishError> {
        // Encoded first, so that the message itself goes to the local
        // topics without a copy.
        let bytes = envelope::encode(&self.node, &message);
        let delivered_locally = self.local.publish_local(topic, message);
        match self.backplane.publish(&self.channel(topic), bytes).await {
            Ok(()) => Ok(delivered_locally),
            Err(source) => {
                log::warn!("a message on {topic:?} did not reach the other nodes: {source}");
                Err(PublishError {
                    topic: topic.to_owned(),
                    delivered_locally,
                    source,
                })
            }
        }
    }

    /// The backplane, for its own state (see
    /// [`RedisBackplane::is_subscribed`]).
    pub fn backplane(&self) -> &B {
        &self.backplane
    }

    /// This node's topics.
    pub fn local(&self) -> &L {
        &self.local
    }

    fn channel(&self, topic: &str) -> String {
        format!("{}{topic}", self.prefix)
    }
}
