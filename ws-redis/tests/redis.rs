//! Two nodes on one real Redis (see `common`). Without
//! `redis-server` the tests say so and pass, unless `WS_REQUIRE_REDIS=1`
//! (as `.ci/run` sets it), which makes that a failure.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RedisServer, until};

use ws_proto::Message;
use ws_redis::{Bridge, RedisBackplane, RedisConfig};

const LIMIT: Duration = Duration::from_secs(60);

/// What a node's subscribers were handed: "topic message" lines.
type Received = Arc<Mutex<Vec<String>>>;

/// A node's registry: records what it is handed.
type Local = Box<dyn Fn(&str, Message) -> usize + Send + Sync>;

type Node = Bridge<RedisBackplane, Local>;

fn node(url: &str) -> (Node, Received) {
    let received = Received::default();
    let sink = received.clone();
    let local: Local = Box::new(move |topic: &str, message: Message| {
        let Message::Text(text) = message else {
            panic!("a binary message")
        };
        sink.lock().unwrap().push(format!("{topic} {text}"));
        1
    });
    let config = RedisConfig::default();
    (Bridge::redis(url, config, local).unwrap(), received)
}

/// Two nodes following "room", once both are subscribed.
async fn two_nodes_in_room(url: &str) -> [(Node, Received); 2] {
    let nodes = [node(url), node(url)];
    for (node, _) in &nodes {
        node.follow("room");
    }
    until("both subscribed", || {
        nodes.iter().all(|(n, _)| n.backplane().is_subscribed())
    })
    .await;
    nodes
}

fn count(received: &Received) -> usize {
    received.lock().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_every_message_once() {
    let Some(redis) = RedisServer::start(None) else {
        return;
    };
    tokio::time::timeout(LIMIT, async {
        let [(a, a_got), (b, b_got)] = two_nodes_in_room(&redis.url()).await;
        for i in 0..50 {
            a.publish("room", Message::Text(format!("a{i}")))
                .await
                .unwrap();
            b.publish("room", Message::Text(format!("b{i}")))
                .await
                .unwrap();
        }
        // A topic B does not follow reaches A's own subscribers only.
        assert_eq!(
            a.publish("elsewhere", Message::Text("x".into()))
                .await
                .unwrap(),
            1
        );
        until("every message on both nodes", || {
            count(&a_got) >= 101 && count(&b_got) >= 100
        })
        .await;
        // Time for a duplicate to show, if one were coming.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (name, got, extra) in [("A", &a_got, 1), ("B", &b_got, 0)] {
            let got = got.lock().unwrap().clone();
            assert_eq!(got.len(), 100 + extra, "node {name}: {got:?}");
            for from in ["a", "b"] {
                let mine: Vec<&String> = got
                    .iter()
                    .filter(|m| m.starts_with(&format!("room {from}")))
                    .collect();
                let want: Vec<String> = (0..50).map(|i| format!("room {from}{i}")).collect();
                assert_eq!(
                    mine,
                    want.iter().collect::<Vec<_>>(),
                    "node {name}, from {from}"
                );
            }
        }
        assert!(
            !b_got
                .lock()
                .unwrap()
                .iter()
                .any(|m| m.starts_with("elsewhere"))
        );
    })
    .await
    .expect("bounded");
    redis.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived_and_publishes_meanwhile_are_reported() {
    let Some(redis) = RedisServer::start(None) else {
        return;
    };
    let redis = tokio::time::timeout(LIMIT, async move {
        let [(a, a_got), (b, b_got)] = two_nodes_in_room(&redis.url()).await;
        a.publish("room", Message::Text("before".into()))
            .await
            .unwrap();
        until("B got the first", || count(&b_got) == 1).await;

        let port = redis.stop();
        until("B saw Redis go", || !b.backplane().is_subscribed()).await;
        let failed = a
            .publish("room", Message::Text("while down".into()))
            .await
            .expect_err("a publish with Redis down must be reported");
        assert_eq!(failed.delivered_locally, 1);
        assert!(failed.to_string().contains("room"), "{failed}");

        let redis = RedisServer::start(Some(port)).expect("redis-server again");
        until("both subscribed again", || {
            a.backplane().sessions() >= 2 && b.backplane().sessions() >= 2
        })
        .await;
        a.publish("room", Message::Text("after".into()))
            .await
            .unwrap();
        until("B got the one after", || count(&b_got) == 2).await;
        assert_eq!(*b_got.lock().unwrap(), ["room before", "room after"]);
        assert_eq!(
            *a_got.lock().unwrap(),
            ["room before", "room while down", "room after"]
        );
        redis
    })
    .await
    .expect("bounded");
    redis.stop();
}

#[tokio::test]
async fn a_bad_url_is_an_error() {
    let local = |_: &str, _: Message| 0;
    let err = Bridge::redis("http://not-redis/", RedisConfig::default(), local).unwrap_err();
    assert!(!err.to_string().is_empty());
}
