//! One subscriber's bounded queue, shared by the publishers (who offer to
//! it) and the subscriber's task (which takes from it).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use ws_proto::PreparedMessage;

use super::{Delivery, Limits, Policy, SubscriberId};

/// What became of an offered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Offer {
    Queued,
    /// Queued after dropping older messages ([`Policy::Conflate`]).
    Conflated,
    Skipped,
    /// The subscriber overflowed now ([`Policy::Close`]).
    Closed,
    /// The subscriber overflowed earlier: nothing is queued any more.
    Gone,
}

#[derive(Debug)]
struct Item {
    topic: Arc<str>,
    message: PreparedMessage,
}

#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Item>,
    bytes: usize,
    /// The topic whose message overflowed a [`Policy::Close`] subscription,
    /// until the subscriber is told.
    overflow: Option<Arc<str>>,
    /// Nothing more will be delivered (the overflow was told).
    ended: bool,
}

impl Queue {
    fn fits(&self, limits: &Limits, size: usize) -> bool {
        self.items.len() < limits.messages && self.bytes.saturating_add(size) <= limits.bytes
    }

    fn clear(&mut self) {
        self.items = VecDeque::new();
        self.bytes = 0;
    }
}

/// A subscriber's side of the registry: its queue and its waker.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) id: SubscriberId,
    limits: Limits,
    queue: Mutex<Queue>,
    waker: AtomicWaker,
    skipped: AtomicU64,
}

fn size(message: &PreparedMessage) -> usize {
    message.frames().len()
}

impl Slot {
    pub(super) fn new(id: SubscriberId, limits: Limits) -> Self {
        Self {
            id,
            limits,
            queue: Mutex::default(),
            waker: AtomicWaker::new(),
            skipped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every step leaves the queue consistent: a panic elsewhere while
        // it was held does not make it unusable.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `message` if it fits, or applies `policy`. Never holds more
    /// than the limits.
    pub(super) fn offer(
        &self,
        topic: &Arc<str>,
        message: &PreparedMessage,
        policy: Policy,
    ) -> Offer {
        let size = size(message);
        let mut q = self.lock();
        if q.ended || q.overflow.is_some() {
            return Offer::Gone;
        }
        let mut outcome = Offer::Queued;
        if !q.fits(&self.limits, size) {
            match policy {
                Policy::Skip => {
                    drop(q);
                    self.skipped.fetch_add(1, Ordering::Relaxed);
                    return Offer::Skipped;
                }
                Policy::Close => {
                    q.clear();
                    q.overflow = Some(topic.clone());
                    drop(q);
                    self.waker.wake();
                    return Offer::Closed;
                }
                Policy::Conflate => {
                    if size > self.limits.bytes || self.limits.messages == 0 {
                        drop(q);
                        self.skipped.fetch_add(1, Ordering::Relaxed);
                        return Offer::Skipped;
                    }
                    let before = q.items.len();
                    q.items.retain(|item| item.topic != *topic);
                    q.bytes = q.items.iter().map(|i| self::size(&i.message)).sum();
                    // Ends: the message fits an empty queue.
                    while !q.fits(&self.limits, size) {
                        let Some(old) = q.items.pop_front() else {
                            break;
                        };
                        q.bytes -= self::size(&old.message);
                    }
                    log::trace!(
                        "topics: subscriber {} conflated {} queued message(s) for {topic:?}",
                        self.id.0,
                        before - q.items.len()
                    );
                    outcome = Offer::Conflated;
                }
            }
        }
        q.bytes += size;
        q.items.push_back(Item {
            topic: topic.clone(),
            message: message.clone(),
        });
        drop(q);
        self.waker.wake();
        outcome
    }

    pub(super) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let mut q = self.lock();
        if q.ended {
            return Poll::Ready(None);
        }
        if let Some(topic) = q.overflow.take() {
            q.ended = true;
            return Poll::Ready(Some(Delivery::Overflow { topic }));
        }
        if let Some(item) = q.items.pop_front() {
            q.bytes -= size(&item.message);
            if q.items.is_empty() {
                // An idle subscriber keeps no buffer.
                q.items = VecDeque::new();
            }
            return Poll::Ready(Some(Delivery::Message {
                topic: item.topic,
                message: item.message,
            }));
        }
        // Registered under the lock that publishers queue under: a message
        // queued after this check wakes this waker.
        self.waker.register(cx.waker());
        Poll::Pending
    }

    pub(super) fn poll_overflowed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let q = self.lock();
        if q.ended || q.overflow.is_some() {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        Poll::Pending
    }

    /// Drops what is queued for `topic`.
    pub(super) fn forget(&self, topic: &str) {
        let mut q = self.lock();
        q.items.retain(|item| &*item.topic != topic);
        q.bytes = q.items.iter().map(|i| size(&i.message)).sum();
        if q.items.is_empty() {
            q.items = VecDeque::new();
        }
    }

    /// Drops everything queued.
    pub(super) fn clear(&self) {
        self.lock().clear();
    }

    pub(super) fn queued(&self) -> (usize, usize) {
        let q = self.lock();
        (q.items.len(), q.bytes)
    }

    pub(super) fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}
