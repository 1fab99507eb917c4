//! Topics across machines: a [`Bridge`] joins this node's topics to every
//! other node's through a [`Backplane`], here Redis pub/sub
//! ([`RedisBackplane`]), as Socket.IO's, Phoenix's and ActionCable's
//! adapters do.
//!
//! - A publish on one node reaches its own subscribers at once and the
//!   other nodes' through Redis; each subscriber gets each message once
//!   (a node drops its own messages when Redis brings them back).
//! - Redis going away and coming back: the subscriber connection is
//!   re-made with a doubling backoff (100 ms to 5 s by default) and every
//!   followed topic subscribed again. A publish while Redis is unreachable
//!   fails with a [`PublishError`], which says how many local subscribers
//!   got the message all the same; nothing is dropped silently. Redis
//!   pub/sub keeps nothing, so a node misses what is published while it
//!   is disconnected.
//! - This node's registry is anything that implements [`LocalTopics`]:
//!   ws-tokio's `topics::Topics` does (feature `ws-tokio`, on by default),
//!   and so does a function `Fn(&str, Message) -> usize`. Channels are
//!   [`DEFAULT_PREFIX`] plus the topic's name. The application says which
//!   topics this node follows ([`Bridge::follow`]), typically every topic
//!   its connections may subscribe to.
//!
//! **Redis Cluster.** Classic pub/sub (`PUBLISH`/`SUBSCRIBE`) is broadcast
//! across a cluster's nodes, so a bridge may point at any one node of the
//! cluster; each message then crosses the cluster bus, which is what
//! sharded pub/sub (`SPUBLISH`, Redis 7) avoids. This crate does not speak
//! the sharded form yet.
//!
//! **Sentinel.** [`RedisBackplane::start_with`] takes a function that makes
//! a client at every (re)connection: resolve the current master through
//! Sentinel there (the `redis` crate's `sentinel` feature), and after a
//! failover the backplane reconnects to the new master by itself.
//!
//! **Another backplane.** NATS, say: implement [`Backplane`] (publish bytes
//! on a channel; subscribe and unsubscribe, again after reconnecting;
//! deliver what arrives to the [`Inbox`]) and give it to [`Bridge::new`].

mod backplane;
mod bridge;
mod envelope;
mod redis_backplane;

pub use backplane::{Backplane, BackplaneError, Inbox, LocalTopics, PublishError};
pub use bridge::{Bridge, DEFAULT_PREFIX};
pub use redis_backplane::{RedisBackplane, RedisConfig};
pub use {redis, ws_proto};
