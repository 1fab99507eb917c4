//! Memory per subscription, measured with a counting allocator:
//! `cargo test -p ws-tokio --test topics_memory -- --ignored --nocapture`.
//! The figures are in the `topics` module docs.

// The counting global allocator below is the only unsafe code: it forwards
// to the system allocator and counts live bytes.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ws_tokio::topics::{Policy, Topics};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments,
// whose contract is the same; the counting does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `GlobalAlloc::alloc`, which the caller upholds.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `GlobalAlloc::dealloc`, which the caller upholds.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const N: usize = 10_000;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes per subscription: N subscribers on one topic, and N subscribers
/// on a topic each; everything is freed when they go. A queued message
/// costs its subscriber a fixed amount, its frames existing once.
#[test]
#[ignore = "prints the figures of the topics docs; run with --ignored --nocapture"]
fn bytes_per_subscription() {
    let topics = Topics::new();
    let base = live();
    let mut subs: Vec<_> = (0..N)
        .map(|_| {
            let mut sub = topics.subscriber();
            sub.subscribe("news", Policy::Skip);
            sub
        })
        .collect();
    let one_topic = (live() - base) as f64 / N as f64;
    // One message queued on every subscriber.
    let before = live();
    assert_eq!(topics.publish("news", vec![7u8; 1000]).delivered, N);
    let frames = 1000 + 4;
    let per_queued = (live() - before - frames) as f64 / N as f64;
    for sub in &mut subs {
        sub.unsubscribe("news");
    }
    drop(subs);
    assert_eq!(topics.topic_count(), 0);
    let left = live() - base;

    let base = live();
    let subs: Vec<_> = (0..N)
        .map(|i| {
            let mut sub = topics.subscriber();
            sub.subscribe(&format!("topic-{i:05}"), Policy::Skip);
            sub
        })
        .collect();
    let own_topic = (live() - base) as f64 / N as f64;
    drop(subs);
    assert_eq!(topics.topic_count(), 0);
    println!(
        "{N} subscribers on one topic: {one_topic:.0} bytes per subscription; \
         on a topic each (11-byte names): {own_topic:.0} bytes; \
         a queued message: {per_queued:.0} bytes per subscriber (the frames once); \
         left after all went: {left} bytes (the map's capacity)"
    );
}
