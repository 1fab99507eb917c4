//! Topics for the native API: connections subscribe to named topics, and a
//! message published to a topic is framed once and queued, shared, on every
//! subscriber, whatever task or thread each connection runs on.
//!
//! - [`Topics`] is the registry: `Clone + Send + Sync` (an `Arc` inside),
//!   to hand to every connection's task and to whatever publishes (another
//!   task, a plain thread, a bridge to another system).
//! - [`Topics::subscriber`] gives a connection's [`Subscriber`]: it
//!   subscribes and unsubscribes topics and is a `Stream` of [`Delivery`],
//!   which the connection's task sends with
//!   [`WebSocketStream::send_prepared`](crate::WebSocketStream::send_prepared).
//! - [`Topics::publish`] frames the message once, as a
//!   [`PreparedMessage`]: every subscriber's queue, and then every
//!   connection's write queue, holds a reference to the same bytes, not a
//!   copy. Subscribers whose permessage-deflate has no server context
//!   takeover share one compressed copy too, made by the first of them;
//!   the others get the uncompressed frames (see [`PreparedMessage`]).
//!
//! # Slow subscribers
//!
//! Each subscriber's queue is bounded ([`Limits`], by default 64 messages
//! and 1 MiB). A publish never waits for a subscriber: when one's queue is
//! full the subscription's [`Policy`] decides: [`Policy::Skip`] drops the
//! message for it and reports it ([`Topics::on_skip`], naming the
//! subscriber, and [`Subscriber::skipped`]); [`Policy::Close`] empties its
//! queue and makes it yield [`Delivery::Overflow`], on which the
//! connection closes with 1008; [`Policy::Conflate`] drops the queued
//! messages of the topic for the new one. A queue never holds more than
//! its limits.
//!
//! # Locking
//!
//! The registry is a map from topic to subscribers behind one `RwLock`.
//! A publish takes it for reading, so publishers never wait for each
//! other, and holds it only while it queues the message on each
//! subscriber (a short mutex per subscriber, shared with that subscriber's
//! task taking from its queue); it never awaits and never calls out while
//! holding a lock (the skip callback runs after). Subscribing and
//! unsubscribing take the lock for writing, briefly: they wait for the
//! publishes in progress, and a publish waits for them. A service with
//! very frequent (un)subscriptions and large fan-outs will see them
//! contend; shard by topic with several `Topics` if so.
//!
//! # Memory
//!
//! Measured with a counting allocator,
//! `cargo test -p ws-tokio --test topics_memory -- --ignored --nocapture`
//! (10,000 subscribers, 64-bit Linux):
//!
//! | | bytes |
//! |---|---:|
//! | a subscription, 10,000 subscribers on one topic | 274 |
//! | a subscription, 10,000 subscribers on a topic each (11-byte names) | 411 |
//! | a queued message, per subscriber | 24 (the first allocates room for 4: 96) |
//!
//! A subscription is the [`Subscriber`] (its queue, waker and list of
//! topics) and its entry in the topic; a topic of its own adds the name and
//! the map's entry. The frames of a published message exist once, however
//! many subscribers hold them; an emptied queue keeps no buffer, and
//! unsubscribing or dropping the subscriber frees all of it.
//!
//! # Example
//!
//! ```no_run
//! use ws_tokio::topics::{Delivery, Policy, Topics};
//! use ws_tokio::CloseCode;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let topics = Topics::new();
//! topics.on_skip(|id, topic| log::warn!("subscriber {id:?} missed a message of {topic}"));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//!
//! // Anyone with a clone can publish, from any task or thread.
//! let publisher = topics.clone();
//! std::thread::spawn(move || loop {
//!     publisher.publish("time", format!("{:?}", std::time::SystemTime::now()));
//!     std::thread::sleep(std::time::Duration::from_secs(1));
//! });
//!
//! loop {
//!     let (tcp, _) = listener.accept().await?;
//!     let mut sub = topics.subscriber();
//!     sub.subscribe("time", Policy::Close);
//!     tokio::spawn(async move {
//!         let mut ws = ws_tokio::accept(tcp).await?;
//!         loop {
//!             tokio::select! {
//!                 incoming = ws.recv() => match incoming {
//!                     Some(Ok(_)) => {}
//!                     _ => break,
//!                 },
//!                 delivery = sub.recv() => match delivery {
//!                     Some(Delivery::Message { message, .. }) => {
//!                         // Waits while the peer is slow; an overflow cuts
//!                         // the wait short.
//!                         tokio::select! {
//!                             sent = ws.send_prepared(&message) => sent?,
//!                             () = sub.overflowed() => {}
//!                         }
//!                     }
//!                     Some(Delivery::Overflow { .. }) | None => {
//!                         ws.close(CloseCode::POLICY, "too slow").await?;
//!                         break;
//!                     }
//!                 },
//!             }
//!         }
//!         // Dropping `sub` ends its subscriptions.
//!         Ok::<_, ws_tokio::Error>(())
//!     });
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ws_proto::{Config, PreparedMessage};

mod policy;
mod queue;
mod subscriber;

pub use policy::{Limits, Policy};
pub use subscriber::{Delivery, Subscriber, SubscriberId};

use queue::{Offer, Slot};

/// Called with the subscriber and the topic of a message dropped for it.
type SkipHook = Arc<dyn Fn(SubscriberId, &str) + Send + Sync>;

/// A topic's subscriptions.
#[derive(Debug)]
struct Entry {
    slot: Arc<Slot>,
    policy: Policy,
}

/// What [`Topics::publish`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Subscribers the message was queued for (conflated ones included).
    pub delivered: usize,
    /// Of those, subscribers that dropped older messages for it
    /// ([`Policy::Conflate`]).
    pub conflated: usize,
    /// Subscribers it was dropped for ([`Policy::Skip`]).
    pub skipped: usize,
    /// Subscribers that overflowed with it ([`Policy::Close`]).
    pub closed: usize,
}

/// The registry of topics and their subscribers; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Topics {
    registry: Arc<Registry>,
}

struct Registry {
    config: Arc<Config>,
    map: RwLock<HashMap<Arc<str>, Vec<Entry>>>,
    next_id: AtomicU64,
    subscribers: AtomicUsize,
    on_skip: RwLock<Option<SkipHook>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("topics", &self.read().len())
            .field("subscribers", &self.subscribers.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Registry {
    fn read(&self) -> RwLockReadGuard<'_, HashMap<Arc<str>, Vec<Entry>>> {
        // Every step leaves the map consistent, so a poisoned lock is used
        // as it is.
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<Arc<str>, Vec<Entry>>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds (or updates) a subscription; the topic's name as the registry
    /// keeps it, and whether the subscription is new.
    fn subscribe(&self, slot: &Arc<Slot>, topic: &str, policy: Policy) -> (Arc<str>, bool) {
        let mut map = self.write();
        let (name, entries) = match map.get_key_value(topic) {
            Some((name, _)) => {
                let name = name.clone();
                let entries = map.get_mut(topic).expect("just found");
                (name, entries)
            }
            None => {
                let name: Arc<str> = Arc::from(topic);
                let MapEntry::Vacant(vacant) = map.entry(name.clone()) else {
                    unreachable!("just looked up");
                };
                (name, vacant.insert(Vec::new()))
            }
        };
        if let Some(entry) = entries.iter_mut().find(|e| Arc::ptr_eq(&e.slot, slot)) {
            entry.policy = policy;
            return (name, false);
        }
        entries.push(Entry {
            slot: slot.clone(),
            policy,
        });
        (name, true)
    }

    fn unsubscribe(&self, slot: &Arc<Slot>, topic: &str) {
        let mut map = self.write();
        Self::remove_from(&mut map, slot, topic);
    }

    /// Removes a subscriber's subscriptions (it is going away).
    fn remove(&self, slot: &Arc<Slot>, topics: &[Arc<str>]) {
        if !topics.is_empty() {
            let mut map = self.write();
            for topic in topics {
                Self::remove_from(&mut map, slot, topic);
            }
        }
        self.subscribers.fetch_sub(1, Ordering::Relaxed);
    }

    fn remove_from(map: &mut HashMap<Arc<str>, Vec<Entry>>, slot: &Arc<Slot>, topic: &str) {
        let Some(entries) = map.get_mut(topic) else {
            return;
        };
        entries.retain(|e| !Arc::ptr_eq(&e.slot, slot));
        if entries.is_empty() {
            map.remove(topic);
        } else if entries.capacity() > 2 * entries.len() + 4 {
            entries.shrink_to_fit();
        }
    }
}

impl Default for Topics {
    fn default() -> Self {
        Self::new()
    }
}

impl Topics {
    /// An empty registry; messages are framed with the default [`Config`]'s
    /// `fragment_size`.
    pub fn new() -> Self {
        Self::with_config(Arc::default())
    }

    /// An empty registry framing messages by `config.fragment_size`.
    pub fn with_config(config: Arc<Config>) -> Self {
        Self {
            registry: Arc::new(Registry {
                config,
                map: RwLock::default(),
                next_id: AtomicU64::new(1),
                subscribers: AtomicUsize::new(0),
                on_skip: RwLock::default(),
            }),
        }
    }

    /// Sets the callback told of every message dropped for a subscriber
    /// ([`Policy::Skip`], or a message larger than its queue): the
    /// subscriber's id and the topic. It runs on the publishing thread,
    /// after the registry's lock is released (so it may subscribe or
    /// publish); keep it short.
    pub fn on_skip(&self, hook: impl Fn(SubscriberId, &str) + Send + Sync + 'static) {
        *self
            .registry
            .on_skip
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(hook));
    }

    /// A new subscriber, with the default [`Limits`].
    pub fn subscriber(&self) -> Subscriber {
        self.subscriber_with(Limits::default())
    }

    /// A new subscriber whose queue holds at most `limits`.
    pub fn subscriber_with(&self, limits: Limits) -> Subscriber {
        let id = SubscriberId(self.registry.next_id.fetch_add(1, Ordering::Relaxed));
        self.registry.subscribers.fetch_add(1, Ordering::Relaxed);
        Subscriber {
            registry: self.registry.clone(),
            slot: Arc::new(Slot::new(id, limits)),
            topics: Vec::new(),
        }
    }

    /// Publishes a text or binary message to `topic`'s subscribers: framed
    /// once, queued on each without a copy. Returns at once, whatever the
    /// subscribers' state.
    pub fn publish(&self, topic: &str, message: impl Into<ws_proto::Message>) -> Report {
        if !self.registry.read().contains_key(topic) {
            return Report::default();
        }
        let prepared = PreparedMessage::new(message.into(), &self.registry.config);
        self.publish_prepared(topic, &prepared)
    }

    /// Publishes a message framed already (by a caller that sends it
    /// elsewhere too).
    pub fn publish_prepared(&self, topic: &str, message: &PreparedMessage) -> Report {
        let mut report = Report::default();
        let mut skipped = Vec::new();
        let name = {
            let map = self.registry.read();
            let Some((name, entries)) = map.get_key_value(topic) else {
                return report;
            };
            for entry in entries {
                match entry.slot.offer(name, message, entry.policy) {
                    Offer::Queued => report.delivered += 1,
                    Offer::Conflated => {
                        report.delivered += 1;
                        report.conflated += 1;
                    }
                    Offer::Skipped => {
                        report.skipped += 1;
                        skipped.push(entry.slot.id);
                    }
                    Offer::Closed => {
                        report.closed += 1;
                        log::debug!(
                            "topics: subscriber {} overflowed on {topic:?}: closing it",
                            entry.slot.id.0
                        );
                    }
                    Offer::Gone => {}
                }
            }
            name.clone()
        };
        if !skipped.is_empty() {
            let hook = self
                .registry
                .on_skip
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            for id in skipped {
                log::debug!("topics: subscriber {} skipped a message of {name:?}", id.0);
                if let Some(hook) = &hook {
                    hook(id, &name);
                }
            }
        }
        report
    }

    /// Topics with at least one subscriber.
    pub fn topic_count(&self) -> usize {
        self.registry.read().len()
    }

    /// Live [`Subscriber`]s (with or without subscriptions).
    pub fn subscriber_count(&self) -> usize {
        self.registry.subscribers.load(Ordering::Relaxed)
    }

    /// Subscriptions over all topics (a subscriber counts once per topic).
    pub fn subscription_count(&self) -> usize {
        self.registry.read().values().map(Vec::len).sum()
    }

    /// Subscribers of `topic`.
    pub fn subscribers_of(&self, topic: &str) -> usize {
        self.registry.read().get(topic).map_or(0, Vec::len)
    }

    /// The longest queue of any subscriber now, in messages, and the
    /// largest in bytes (for metrics and tests: it walks every
    /// subscription).
    pub fn largest_queue(&self) -> (usize, usize) {
        let map = self.registry.read();
        map.values()
            .flatten()
            .map(|e| e.slot.queued())
            .fold((0, 0), |(m, b), (qm, qb)| (m.max(qm), b.max(qb)))
    }
}
