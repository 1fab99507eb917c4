//! Moving or cancelling a timer does not leave its old entry in the loop's
//! timer heap for ever: a handler that re-arms a timer per message (an idle
//! timer, say) keeps the heap bounded.

use std::sync::Arc;
use std::time::Duration;

use ws_mio::ws_proto::{Config, Connection, Event};
use ws_mio::{Clock, ConnInfo, Control, Endpoint, EventLoop, LoopConfig, Session, Start};

struct Idle;

impl Session for Idle {
    type Command = ();

    fn on_event(&mut self, _: &mut dyn Clock, _: &mut Connection, _: Event) {}

    fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, (): ()) {}
}

struct Nobody;

impl Endpoint for Nobody {
    type Session = Idle;

    fn accept(&mut self, _: &mut Control<'_, Idle>, _: &ConnInfo) -> Option<Start<Idle>> {
        None
    }

    fn on_command(&mut self, _: &mut Control<'_, Idle>, (): ()) {}
}

const REARMS: u64 = 100_000;

fn event_loop() -> EventLoop<Nobody> {
    EventLoop::new(Nobody, Arc::new(Config::default()), LoopConfig::default()).unwrap()
}

#[test]
fn re_arming_one_timer_keeps_the_heap_small() {
    let mut event_loop = event_loop();
    let len = event_loop.with_control(|_, ctl| {
        let now = ctl.now();
        for i in 0..REARMS {
            ctl.set_timer(
                0,
                1,
                7,
                now + Duration::from_secs(60) + Duration::from_micros(i),
            );
        }
        ctl.timer_heap_len()
    });
    assert!(len <= 100, "{len} heap entries for one live timer");
}

#[test]
fn set_and_cancel_keeps_the_heap_small() {
    let mut event_loop = event_loop();
    let (len, cancelled) = event_loop.with_control(|_, ctl| {
        let now = ctl.now();
        let mut cancelled = 0;
        for i in 0..REARMS {
            ctl.set_timer(0, 1, i, now + Duration::from_secs(60));
            cancelled += u64::from(ctl.cancel_timer(0, 1, i));
        }
        (ctl.timer_heap_len(), cancelled)
    });
    assert_eq!(cancelled, REARMS, "every timer was pending when cancelled");
    assert!(len <= 100, "{len} heap entries with no live timer");
}

#[test]
fn a_moved_timer_still_counts_once_and_live_ones_are_kept() {
    let mut event_loop = event_loop();
    let (len, pending) = event_loop.with_control(|_, ctl| {
        let now = ctl.now();
        // 1,000 live timers, each moved 100 times.
        for round in 0..100u64 {
            for id in 0..1_000u64 {
                ctl.set_timer(0, 1, id, now + Duration::from_secs(60 + round));
            }
        }
        let len = ctl.timer_heap_len();
        let pending = (0..1_000u64)
            .filter(|&id| ctl.cancel_timer(0, 1, id))
            .count();
        (len, pending)
    });
    assert_eq!(pending, 1_000, "compaction dropped a live timer");
    assert!(
        len <= 64 + 2 * 1_000,
        "{len} heap entries for 1,000 live timers"
    );
}
