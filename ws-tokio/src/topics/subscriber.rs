//! [`Subscriber`]: one connection's subscriptions and the stream of what is
//! published to them.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use ws_proto::PreparedMessage;

use super::queue::Slot;
use super::{Policy, Registry};

/// Identifies a subscriber in reports ([`Topics::on_skip`](super::Topics::on_skip)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriberId(pub u64);

/// What a [`Subscriber`] yields.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// A message published to one of its topics: send it with
    /// [`WebSocketStream::send_prepared`](crate::WebSocketStream::send_prepared).
    Message {
        /// The topic it was published to.
        topic: Arc<str>,
        /// The frames, shared with every other subscriber.
        message: PreparedMessage,
    },
    /// A [`Policy::Close`] subscription overflowed: the subscriber gets
    /// nothing more, and its connection should close with 1008
    /// ([`CloseCode::POLICY`](crate::CloseCode::POLICY)). The last item;
    /// the stream ends after it.
    Overflow {
        /// The topic whose message did not fit.
        topic: Arc<str>,
    },
}

/// One connection's subscriptions, from [`Topics::subscriber`](super::Topics::subscriber):
/// subscribe and unsubscribe topics, and take what is published to them,
/// in publishing order, as a [`Stream`] of [`Delivery`] (or with
/// [`recv`](Self::recv)). Its queue is bounded by its
/// [`Limits`](super::Limits); what happens to a message that does not fit
/// is each subscription's [`Policy`].
///
/// Dropping it (the connection ended) removes all its subscriptions and
/// frees its queue; a topic left without subscribers is removed.
#[derive(Debug)]
pub struct Subscriber {
    pub(super) registry: Arc<Registry>,
    pub(super) slot: Arc<Slot>,
    /// The topics it subscribed to (the registry's own names).
    pub(super) topics: Vec<Arc<str>>,
}

impl Subscriber {
    /// Its id, as the reports name it.
    pub fn id(&self) -> SubscriberId {
        self.slot.id
    }

    /// Subscribes to `topic` with `policy` for its messages that find the
    /// queue full. Subscribing again changes the policy; returns whether
    /// the subscription is new.
    pub fn subscribe(&mut self, topic: &str, policy: Policy) -> bool {
        let (name, new) = self.registry.subscribe(&self.slot, topic, policy);
        if new {
            self.topics.push(name);
        }
        new
    }

    /// Ends the subscription to `topic`, dropping what is queued for it;
    /// returns whether there was one.
    pub fn unsubscribe(&mut self, topic: &str) -> bool {
        let Some(at) = self.topics.iter().position(|t| &**t == topic) else {
            return false;
        };
        self.topics.swap_remove(at);
        self.registry.unsubscribe(&self.slot, topic);
        self.slot.forget(topic);
        if self.topics.is_empty() {
            self.topics = Vec::new();
        }
        true
    }

    /// The topics it is subscribed to.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.topics.iter().map(|t| &**t)
    }

    /// Messages dropped for it so far ([`Policy::Skip`], or too large).
    pub fn skipped(&self) -> u64 {
        self.slot.skipped()
    }

    /// Messages and bytes waiting in its queue.
    pub fn queued(&self) -> (usize, usize) {
        self.slot.queued()
    }

    /// The next delivery: [`StreamExt::next`](futures_util::StreamExt::next)
    /// without the import. Waits while nothing is queued; `None` only after
    /// [`Delivery::Overflow`].
    pub async fn recv(&mut self) -> Option<Delivery> {
        poll_fn(|cx| self.slot.poll_next(cx)).await
    }

    /// Resolves once a [`Policy::Close`] subscription has overflowed: race
    /// it with a send that waits for a slow peer, so that the connection
    /// closes without waiting for the peer to read (see the module docs).
    pub async fn overflowed(&self) {
        poll_fn(|cx| self.slot.poll_overflowed(cx)).await
    }
}

impl Stream for Subscriber {
    type Item = Delivery;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.slot.poll_next(cx)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.registry.remove(&self.slot, &self.topics);
        self.slot.clear();
    }
}
