//! Commands from any thread into the loop: a queue plus a `mio::Waker`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use ws_proto::session::Route;

struct Queue<C> {
    items: VecDeque<(Route, C)>,
    /// The loop is (about to be) asleep in `Poll::poll`: wake it.
    sleeping: bool,
    closed: bool,
}

pub(crate) struct Shared<C> {
    queue: Mutex<Queue<C>>,
    waker: mio::Waker,
    capacity: usize,
}

/// A cloneable, thread-safe way to send commands to an event loop.
///
/// On the loop's own thread, while the loop is dispatching, a push costs
/// one uncontended lock and no system call: the loop drains the queue before
/// it sleeps. From other threads, the first push after the loop fell asleep
/// wakes it.
pub struct Handle<C> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for Handle<C> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<C> fmt::Debug for Handle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl<C> Handle<C> {
    pub(crate) fn new(waker: mio::Waker, capacity: usize) -> Self {
        let queue = Queue {
            items: VecDeque::new(),
            sleeping: false,
            closed: false,
        };
        Self {
            shared: Arc::new(Shared {
                queue: Mutex::new(queue),
                waker,
                capacity: capacity.max(1),
            }),
        }
    }

    /// Queues `command` for `route`. Fails when the queue holds its
    /// capacity already, or when the loop has stopped.
    pub fn send(&self, route: Route, command: C) -> Result<(), SendFailed> {
        let wake = {
            let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.closed {
                return Err(SendFailed::Stopped);
            }
            if q.items.len() >= self.shared.capacity {
                return Err(SendFailed::Full);
            }
            q.items.push_back((route, command));
            std::mem::take(&mut q.sleeping)
        };
        if wake {
            // A failed wake leaves the command queued; the loop still sees it
            // on its next turn.
            let _ = self.shared.waker.wake();
        }
        Ok(())
    }

    /// Takes every queued command.
    pub(crate) fn drain(&self, into: &mut VecDeque<(Route, C)>) {
        let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        into.append(&mut q.items);
    }

    /// Marks the loop as going to sleep; returns false (and does not mark)
    /// when commands are waiting.
    pub(crate) fn prepare_sleep(&self) -> bool {
        let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.items.is_empty() {
            q.sleeping = true;
            true
        } else {
            false
        }
    }

    pub(crate) fn woke(&self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sleeping = false;
    }

    /// Refuses further commands and drops the queued ones.
    pub(crate) fn close(&self) {
        let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.closed = true;
        q.items.clear();
    }
}

/// Why [`Handle::send`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendFailed {
    /// The queue is at capacity.
    Full,
    /// The event loop has stopped.
    Stopped,
}

impl fmt::Display for SendFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "the event loop's command queue is full",
            Self::Stopped => "the event loop has stopped",
        })
    }
}

impl std::error::Error for SendFailed {}
