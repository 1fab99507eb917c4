//! Topics over real connections on 127.0.0.1: fan-out, publishing from a
//! plain thread, unsubscribing and closing leaving no state, each
//! slow-subscriber policy, and permessage-deflate subscribers.
//!
//! The server runs the loop of the `topics` module docs; its clients drive
//! it with text commands: `sub:TOPIC:POLICY` and `unsub:TOPIC` (answered
//! with `ok:ID`, the subscriber's id), and `echo:TEXT` (answered with TEXT).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{bounded, listener};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use ws_tokio::topics::{Delivery, Limits, Policy, Topics};
use ws_tokio::{CloseCode, Config, DeflateConfig, Message, PreparedMessage, WebSocketStream};

type Client = WebSocketStream<ws_tokio::MaybeTlsStream>;

/// Accepts connections forever, each in a task of its own.
fn serve(
    listener: tokio::net::TcpListener,
    topics: Topics,
    config: Arc<Config>,
    limits: Limits,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (topics, config) = (topics.clone(), config.clone());
            tokio::spawn(async move {
                if let Err(e) = connection(tcp, topics, config, limits).await {
                    log::debug!("connection ended: {e}");
                }
            });
        }
    })
}

async fn connection(
    tcp: TcpStream,
    topics: Topics,
    config: Arc<Config>,
    limits: Limits,
) -> Result<(), ws_tokio::Error> {
    let mut ws = ws_tokio::accept_with_config(tcp, config).await?;
    let mut sub = topics.subscriber_with(limits);
    loop {
        tokio::select! {
            incoming = ws.recv() => match incoming {
                Some(Ok(Message::Text(command))) => {
                    let reply = command_reply(&mut sub, &command);
                    ws.send(reply).await?;
                }
                Some(Ok(_)) => {}
                _ => break,
            },
            delivery = sub.recv() => match delivery {
                Some(Delivery::Message { message, .. }) => {
                    tokio::select! {
                        sent = ws.send_prepared(&message) => sent?,
                        () = sub.overflowed() => {}
                    }
                }
                Some(Delivery::Overflow { .. }) | None => {
                    ws.close(CloseCode::POLICY, "too slow").await?;
                    break;
                }
            },
        }
    }
    Ok(())
}

fn command_reply(sub: &mut ws_tokio::topics::Subscriber, command: &str) -> String {
    let ok = format!("ok:{}", sub.id().0);
    if let Some(text) = command.strip_prefix("echo:") {
        return text.to_owned();
    }
    let parts: Vec<&str> = command.split(':').collect();
    match parts.as_slice() {
        ["sub", topic, policy] => {
            let policy = match *policy {
                "skip" => Policy::Skip,
                "close" => Policy::Close,
                "conflate" => Policy::Conflate,
                other => panic!("policy {other}"),
            };
            sub.subscribe(topic, policy);
        }
        ["unsub", topic] => {
            sub.unsubscribe(topic);
        }
        _ => panic!("command {command:?}"),
    }
    ok
}

async fn client(url: &str, config: Arc<Config>) -> Client {
    ws_tokio::connect_with_config(url, config).await.unwrap()
}

/// Sends a command and returns the answer (the subscriber's id for
/// `sub` and `unsub`).
async fn command(ws: &mut Client, command: &str) -> String {
    ws.send(command).await.unwrap();
    match ws.recv().await {
        Some(Ok(Message::Text(reply))) => reply,
        other => panic!("expected the answer to {command:?}, got {other:?}"),
    }
}

async fn subscribe(ws: &mut Client, topic: &str, policy: &str) -> u64 {
    let reply = command(ws, &format!("sub:{topic}:{policy}")).await;
    reply.strip_prefix("ok:").unwrap().parse().unwrap()
}

async fn next_data(ws: &mut Client) -> Message {
    loop {
        match ws.recv().await {
            Some(Ok(m)) if m.is_data() => return m,
            Some(Ok(_)) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// Waits until `check` holds (the server's tasks run concurrently).
async fn eventually(mut check: impl FnMut() -> bool) {
    while !check() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn setup(config: Arc<Config>, limits: Limits) -> (Topics, String, JoinHandle<()>) {
    let (listener, addr) = listener().await;
    let topics = Topics::new();
    let server = serve(listener, topics.clone(), config, limits);
    (topics, format!("ws://{addr}/"), server)
}

/// Three subscribers on three connections get one publish; a publish from
/// a plain thread arrives too; closing the connections leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_a_publish_from_any_thread() {
    bounded(async {
        let (topics, url, server) = setup(Arc::default(), Limits::default()).await;
        let mut clients = Vec::new();
        for _ in 0..3 {
            let mut ws = client(&url, Arc::default()).await;
            subscribe(&mut ws, "news", "skip").await;
            clients.push(ws);
        }
        assert_eq!(topics.topic_count(), 1);
        assert_eq!(topics.subscribers_of("news"), 3);
        let report = topics.publish("news", "hello");
        assert_eq!((report.delivered, report.skipped), (3, 0));
        for ws in &mut clients {
            assert_eq!(next_data(ws).await, Message::text("hello"));
        }
        let from_thread = topics.clone();
        let report = std::thread::spawn(move || from_thread.publish("news", vec![1u8, 2, 3]))
            .join()
            .unwrap();
        assert_eq!(report.delivered, 3);
        for ws in &mut clients {
            assert_eq!(next_data(ws).await, Message::binary(vec![1, 2, 3]));
        }
        assert_eq!(topics.publish("nobody", "x").delivered, 0);
        for mut ws in clients {
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
        eventually(|| topics.subscriber_count() == 0).await;
        assert_eq!(topics.topic_count(), 0);
        assert_eq!(topics.subscription_count(), 0);
        server.abort();
    })
    .await;
}

/// Unsubscribing stops delivery at once (nothing queued for the topic is
/// sent after) and removes the topic; the other topic goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_stops_delivery_and_leaves_no_state() {
    bounded(async {
        let (topics, url, server) = setup(Arc::default(), Limits::default()).await;
        let mut ws = client(&url, Arc::default()).await;
        subscribe(&mut ws, "a", "skip").await;
        subscribe(&mut ws, "b", "conflate").await;
        // Subscribing twice changes nothing.
        subscribe(&mut ws, "a", "skip").await;
        assert_eq!((topics.topic_count(), topics.subscription_count()), (2, 2));
        topics.publish("a", "first a");
        assert_eq!(next_data(&mut ws).await, Message::text("first a"));
        command(&mut ws, "unsub:a").await;
        assert_eq!((topics.topic_count(), topics.subscription_count()), (1, 1));
        assert_eq!(topics.subscribers_of("a"), 0);
        assert_eq!(topics.publish("a", "second a").delivered, 0);
        assert_eq!(topics.publish("b", "b").delivered, 1);
        assert_eq!(next_data(&mut ws).await, Message::text("b"));
        command(&mut ws, "unsub:b").await;
        assert_eq!((topics.topic_count(), topics.subscription_count()), (0, 0));
        assert_eq!(topics.subscriber_count(), 1, "the connection lives on");
        drop(ws);
        eventually(|| topics.subscriber_count() == 0).await;
        server.abort();
    })
    .await;
}

const BIG: usize = 64 * 1024;
const CAP: Limits = Limits {
    messages: 4,
    bytes: 1 << 20,
};

/// Publishes big messages to `topic` until `done` says so (the client does
/// not read, so the server's writes and then the subscriber's queue fill
/// up), checking after each that no queue holds more than its cap.
async fn flood(
    topics: &Topics,
    topic: &str,
    mut done: impl FnMut(&ws_tokio::topics::Report) -> bool,
) -> usize {
    for i in 0..100_000usize {
        let mut payload = vec![0u8; BIG];
        payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let report = topics.publish(topic, payload);
        let (messages, bytes) = topics.largest_queue();
        assert!(
            messages <= CAP.messages && bytes <= CAP.bytes,
            "{messages} {bytes}"
        );
        if done(&report) {
            return i + 1;
        }
        tokio::task::yield_now().await;
    }
    panic!("the subscriber never fell behind");
}

/// A subscriber that stops reading misses messages, each reported with
/// its id, and its queue never holds more than the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_reports_the_slow_subscriber_and_bounds_its_queue() {
    bounded(async {
        let (topics, url, server) = setup(Arc::default(), CAP).await;
        let skips = Arc::new(Mutex::new(Vec::new()));
        let seen = skips.clone();
        topics.on_skip(move |id, topic| seen.lock().unwrap().push((id.0, topic.to_owned())));
        let mut slow = client(&url, Arc::default()).await;
        let id = subscribe(&mut slow, "big", "skip").await;
        let mut skipped = 0;
        flood(&topics, "big", |r| {
            skipped += r.skipped;
            skipped >= 20
        })
        .await;
        let skips = skips.lock().unwrap().clone();
        assert_eq!(skips.len(), 20);
        assert!(
            skips
                .iter()
                .all(|(who, topic)| *who == id && topic == "big")
        );
        // Reading again, the subscriber gets what was not skipped.
        assert!(next_data(&mut slow).await.len() == BIG);
        drop(slow);
        eventually(|| topics.subscriber_count() == 0).await;
        assert_eq!(topics.topic_count(), 0);
        server.abort();
    })
    .await;
}

/// With `Close`, the subscriber that fell behind is closed with 1008, and
/// its subscriptions are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_policy_closes_the_slow_subscriber_with_1008() {
    bounded(async {
        let (topics, url, server) = setup(Arc::default(), CAP).await;
        let mut slow = client(&url, Arc::default()).await;
        subscribe(&mut slow, "big", "close").await;
        flood(&topics, "big", |r| r.closed == 1).await;
        // Nothing more is queued for it.
        assert_eq!(topics.publish("big", vec![0u8; BIG]).delivered, 0);
        assert_eq!(topics.largest_queue(), (0, 0));
        let close = loop {
            match slow.recv().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => {}
                other => panic!("expected the close, got {other:?}"),
            }
        };
        assert_eq!(close.map(|f| f.code), Some(CloseCode::POLICY));
        assert_eq!(slow.recv().await.map(|r| r.is_ok()), None);
        eventually(|| topics.subscriber_count() == 0).await;
        assert_eq!(topics.topic_count(), 0);
        server.abort();
    })
    .await;
}

/// With `Conflate`, a subscriber that fell behind gets, once it reads
/// again, the latest message, having missed some before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflate_keeps_the_latest_message() {
    bounded(async {
        let (topics, url, server) = setup(Arc::default(), CAP).await;
        let mut slow = client(&url, Arc::default()).await;
        subscribe(&mut slow, "big", "conflate").await;
        let mut conflated = 0;
        let published = flood(&topics, "big", |r| {
            conflated += r.conflated;
            conflated >= 10
        })
        .await;
        let (queued, _) = topics.largest_queue();
        assert_eq!(queued, 1, "only the latest message of the topic");
        let mut received = Vec::new();
        let last = (published - 1) as u64;
        while received.last() != Some(&last) {
            let m = next_data(&mut slow).await;
            received.push(u64::from_be_bytes(m.as_bytes()[..8].try_into().unwrap()));
        }
        assert!(received.len() < published, "some were conflated");
        assert!(received.windows(2).all(|w| w[0] < w[1]), "in order");
        drop(slow);
        eventually(|| topics.subscriber_count() == 0).await;
        server.abort();
    })
    .await;
}

fn deflate(peer_no_context_takeover: bool) -> Arc<Config> {
    Arc::new(Config {
        deflate: Some(DeflateConfig {
            peer_no_context_takeover,
            ..DeflateConfig::default()
        }),
        ..Config::default()
    })
}

/// Subscribers with permessage-deflate, with and without server context
/// takeover, and one without it, all read the published message, and then
/// their connection's own compressed messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_subscribers_decode_the_published_message() {
    bounded(async {
        let (topics, url, server) = setup(deflate(false), Limits::default()).await;
        let configs = [deflate(true), deflate(false), Arc::default()];
        let mut clients = Vec::new();
        for config in configs {
            let mut ws = client(&url, config).await;
            subscribe(&mut ws, "news", "skip").await;
            clients.push(ws);
        }
        let agreed: Vec<_> = clients
            .iter()
            .map(|ws| {
                ws.connection()
                    .deflate()
                    .map(|p| p.server_no_context_takeover)
            })
            .collect();
        assert_eq!(agreed, [Some(true), Some(false), None]);
        let text = "a story everyone subscribed to, told again and again. ".repeat(200);
        let prepared = PreparedMessage::new(
            ws_tokio::ws_proto::Message::Text(text.clone()),
            &Config::default(),
        );
        assert_eq!(topics.publish_prepared("news", &prepared).delivered, 3);
        for ws in &mut clients {
            assert_eq!(next_data(ws).await, Message::text(text.as_str()));
        }
        let compressed = prepared.compressed_frames().expect("compressed once");
        assert!(compressed.len() < prepared.frames().len() / 10);
        // The connections' own compression goes on as before.
        let own = format!("echo:{}", "the connection's own words ".repeat(100));
        for ws in &mut clients {
            assert_eq!(command(ws, &own).await, own["echo:".len()..]);
        }
        for mut ws in clients {
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
        eventually(|| topics.subscriber_count() == 0).await;
        server.abort();
    })
    .await;
}
