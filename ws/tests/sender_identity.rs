//! `Sender` is `PartialEq`, `Eq` and `Hash` by connection identity (token and
//! connection id), as in ws-rs: programs keep Senders in sets and as map keys.

#[macro_use]
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{RawClient, Server, within};
use ws::{Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(30);

/// Two connections: their Senders differ, each clone equals its original,
/// and a set or map keyed by Sender holds one entry per connection.
// Clippy's `mutable_key_type` sees the Sender's atomic outbox counter; `Eq`
// and `Hash` read only the token and connection id, which never change.
#[allow(clippy::mutable_key_type)]
fn senders_of_two_connections_in_a_set(runtime: Runtime) {
    let seen: Arc<Mutex<Vec<Sender>>> = Arc::default();
    let record = seen.clone();
    let server = Server::start(runtime, Settings::default(), move || {
        move |out: Sender| {
            record.lock().unwrap().push(out);
            |_: ws::Message| Ok(())
        }
    });
    let client_a = RawClient::open(server.addr);
    let client_b = RawClient::open(server.addr);
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the server saw fewer than 2 connections"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let senders = seen.lock().unwrap().clone();
    let (a, b) = (&senders[0], &senders[1]);

    assert_ne!(a, b, "two connections have unequal Senders");
    assert_eq!(a, &a.clone(), "a clone equals its original");
    assert_ne!(
        a, &server.broadcaster,
        "a connection's Sender is not the broadcaster"
    );

    let mut set = HashSet::new();
    assert!(set.insert(a.clone()));
    assert!(set.insert(b.clone()));
    assert!(!set.insert(a.clone()), "a clone is already in the set");
    assert_eq!(set.len(), 2);
    assert!(set.contains(b));

    let mut names = HashMap::new();
    names.insert(a.clone(), "a");
    names.insert(b.clone(), "b");
    assert_eq!(names.get(&a.clone()), Some(&"a"));
    assert_eq!(names.get(&b.clone()), Some(&"b"));

    drop((client_a, client_b));
    server.stop().unwrap();
}

runtimes!(senders_of_two_connections_in_a_set);
