//! The `tracing` feature: a capturing subscriber (written here, on
//! `tracing`'s own `Subscriber` trait) sees the connection spans and their
//! events for a loopback echo, a protocol violation from a raw client, a
//! request that is no upgrade, and the `Listener`'s refusals, each at the
//! documented level. Every test runs on a current-thread runtime with the
//! subscriber as the thread's default, so it sees every task's events and
//! no other test's.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{
    RAW_REQUEST, bounded, close_code, frame, listener, raw_client, read_frame, read_head,
};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Level, Metadata, Subscriber};
use ws_tokio::ws_proto::OpCode;
use ws_tokio::{CloseCode, Limits, Listener, Message};

/// A span as the subscriber saw it.
#[derive(Clone, Debug)]
struct SpanRec {
    name: &'static str,
    fields: BTreeMap<String, String>,
    parent: Option<u64>,
}

/// An event, with the spans it was in (innermost first).
#[derive(Clone, Debug)]
struct EventRec {
    level: Level,
    target: String,
    message: String,
    fields: BTreeMap<String, String>,
    spans: Vec<SpanRec>,
}

impl EventRec {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The innermost `ws_connection` span's field `name`.
    fn conn_field(&self, name: &str) -> Option<&str> {
        let span = self.spans.iter().find(|s| s.name == "ws_connection")?;
        span.fields.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Log {
    spans: HashMap<u64, SpanRec>,
    events: Vec<EventRec>,
}

/// Records everything at every level.
struct Capture {
    log: Arc<Mutex<Log>>,
    next_id: AtomicU64,
}

thread_local! {
    /// The spans entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Fields as text: strings bare, everything else as `Debug` shows it.
struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

fn current() -> Option<u64> {
    ENTERED.with(|e| e.borrow().last().copied())
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = match attrs.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if attrs.is_contextual() => current(),
            None => None,
        };
        let span = SpanRec {
            name: attrs.metadata().name(),
            fields,
            parent,
        };
        self.log.lock().unwrap().spans.insert(id, span);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut log = self.log.lock().unwrap();
        if let Some(span) = log.spans.get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let mut log = self.log.lock().unwrap();
        let mut at = match event.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if event.is_contextual() => current(),
            None => None,
        };
        let mut spans = Vec::new();
        while let Some(span) = at.and_then(|id| log.spans.get(&id)) {
            at = span.parent;
            spans.push(span.clone());
        }
        log.events.push(EventRec {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            message,
            fields,
            spans,
        });
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|e| e.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        ENTERED.with(|e| {
            let mut entered = e.borrow_mut();
            if let Some(i) = entered.iter().rposition(|&id| id == span.into_u64()) {
                entered.remove(i);
            }
        });
    }
}

/// Installs a capturing subscriber as this thread's default.
fn capture() -> (Arc<Mutex<Log>>, DefaultGuard) {
    let log = Arc::new(Mutex::new(Log::default()));
    let subscriber = Capture {
        log: log.clone(),
        next_id: AtomicU64::new(1),
    };
    (log, tracing::subscriber::set_default(subscriber))
}

/// This crate's events whose message is `message`.
fn events(log: &Mutex<Log>, message: &str) -> Vec<EventRec> {
    let log = log.lock().unwrap();
    log.events
        .iter()
        .filter(|e| e.target.starts_with("ws_tokio") && e.message == message)
        .cloned()
        .collect()
}

/// No event of this crate above `debug` (the `info` quiet under load).
fn assert_nothing_above_debug(log: &Mutex<Log>) {
    let log = log.lock().unwrap();
    let loud: Vec<_> = log
        .events
        .iter()
        .filter(|e| e.target.starts_with("ws_tokio") && e.level < Level::DEBUG)
        .collect();
    assert!(loud.is_empty(), "events above debug: {loud:#?}");
}

const ESTABLISHED: &str = "ws-tokio: connection established";
const CLOSED: &str = "ws-tokio: connection closed";
const PROTOCOL_ERROR: &str = "ws-tokio: protocol error";

/// A loopback echo through a `Listener` and `connect`: each side's span
/// names its role and its peer, and says the connection opened and closed
/// cleanly, the client having started the close.
#[tokio::test(flavor = "current_thread")]
async fn echo_established_and_closed() {
    let (log, _guard) = capture();
    let listener = Listener::bind("127.0.0.1:0", Limits::default())
        .await
        .unwrap();
    let server_addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (admitted, peer) = listener.accept().await.unwrap();
        let (mut ws, _permit) = admitted.handshake(Arc::default()).await.unwrap();
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_data() {
                ws.send(msg).await.unwrap();
            }
        }
        peer
    });
    let client_addr: SocketAddr = bounded(async {
        let mut ws = ws_tokio::connect(&format!("ws://{server_addr}/echo"))
            .await
            .unwrap();
        ws.send("hello").await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        server.await.unwrap()
    })
    .await;

    let established = events(&log, ESTABLISHED);
    assert_eq!(established.len(), 2, "{established:#?}");
    let side = |events: &[EventRec], role: &str| -> EventRec {
        let found: Vec<_> = events
            .iter()
            .filter(|e| e.conn_field("role") == Some(role))
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "one {role} event: {events:#?}");
        found[0].clone()
    };
    let server_open = side(&established, "server");
    assert_eq!(server_open.level, Level::DEBUG);
    assert_eq!(
        server_open.conn_field("peer"),
        Some(client_addr.to_string().as_str())
    );
    assert_eq!(server_open.field("deflate"), Some("false"));
    let client_open = side(&established, "client");
    assert_eq!(
        client_open.conn_field("peer"),
        Some(server_addr.to_string().as_str())
    );

    let closed = events(&log, CLOSED);
    assert_eq!(closed.len(), 2, "{closed:#?}");
    // Each side reports the peer's close frame: the server the client's
    // 1000 "done", the client the server's echo, 1000 without a reason.
    for (role, initiator, reason_len) in [("server", "peer", "4"), ("client", "local", "0")] {
        let e = side(&closed, role);
        assert_eq!(e.level, Level::DEBUG);
        assert_eq!(e.field("code"), Some("1000"), "{e:#?}");
        assert_eq!(e.field("reason_len"), Some(reason_len), "{e:#?}");
        assert_eq!(e.field("initiator"), Some(initiator), "{e:#?}");
        assert_eq!(e.field("clean"), Some("true"), "{e:#?}");
        assert_eq!(e.field("error"), None, "{e:#?}");
    }
    assert!(events(&log, PROTOCOL_ERROR).is_empty());
    assert_nothing_above_debug(&log);
}

/// An unmasked frame from a raw client: the server fails the connection
/// with 1002, and says so at `debug`, as a protocol error and as a close
/// this end started.
#[tokio::test(flavor = "current_thread")]
async fn unmasked_frame_is_a_protocol_error() {
    let (log, _guard) = capture();
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = ws_tokio::accept(tcp).await.unwrap();
        let first = ws.next().await;
        while ws.next().await.is_some() {}
        first
    });
    bounded(async {
        let mut raw = raw_client(addr).await;
        raw.write_all(&frame(true, 0x1, b"hi", false))
            .await
            .unwrap();
        let (opcode, payload) = read_frame(&mut raw).await.expect("a close frame");
        assert_eq!(opcode, OpCode::Close);
        assert_eq!(close_code(&payload), 1002);
        drop(raw);
        let first = server.await.unwrap();
        assert!(matches!(first, Some(Err(_))), "{first:?}");
    })
    .await;

    let errors = events(&log, PROTOCOL_ERROR);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let error = &errors[0];
    assert_eq!(error.level, Level::DEBUG);
    assert_eq!(error.field("code"), Some("1002"));
    assert!(
        error.field("error").is_some_and(|e| e.contains("mask")),
        "{error:#?}"
    );
    assert_eq!(error.conn_field("role"), Some("server"));
    // `accept` on a bare stream does not know the peer.
    assert_eq!(error.conn_field("peer"), None);

    let closed = events(&log, CLOSED);
    assert_eq!(closed.len(), 1, "{closed:#?}");
    let closed = &closed[0];
    assert_eq!(closed.field("code"), Some("1002"), "{closed:#?}");
    assert_eq!(closed.field("initiator"), Some("local"), "{closed:#?}");
    assert_eq!(closed.field("clean"), Some("false"), "{closed:#?}");
    assert!(closed.field("error").is_some(), "{closed:#?}");
    assert_nothing_above_debug(&log);
}

/// A plain HTTP request on `accept`: the handshake fails, at `debug`.
#[tokio::test(flavor = "current_thread")]
async fn a_request_that_is_no_upgrade_fails_the_handshake() {
    let (log, _guard) = capture();
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        ws_tokio::accept(tcp).await.is_err()
    });
    bounded(async {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 4"), "{head}");
        assert!(server.await.unwrap());
    })
    .await;
    let failed = events(&log, "ws-tokio: handshake failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].level, Level::DEBUG);
    assert_eq!(failed[0].conn_field("role"), Some("server"));
    assert!(events(&log, ESTABLISHED).is_empty());
    assert_nothing_above_debug(&log);
}

/// A `Listener` with no room refuses two clients: one `debug` event each,
/// with the peer, and a single `warn` for both (it comes at most every 10 s).
#[tokio::test(flavor = "current_thread")]
async fn refusals_are_debug_with_one_warn() {
    let (log, _guard) = capture();
    let listener = Listener::bind("127.0.0.1:0", Limits::new(0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Every client is refused: `accept` never returns.
    let accepting = tokio::spawn(async move { listener.accept().await.map(|_| ()) });
    let mut peers = Vec::new();
    bounded(async {
        for _ in 0..2 {
            let mut tcp = TcpStream::connect(addr).await.unwrap();
            peers.push(tcp.local_addr().unwrap().to_string());
            tcp.write_all(RAW_REQUEST).await.unwrap();
            let head = read_head(&mut tcp).await;
            assert!(head.starts_with("HTTP/1.1 503"), "{head}");
        }
    })
    .await;
    accepting.abort();

    let refused = events(&log, "ws-tokio: refused a connection with 503");
    let seen: Vec<_> = refused.iter().filter_map(|e| e.field("peer")).collect();
    assert_eq!(seen, peers, "{refused:#?}");
    assert!(refused.iter().all(|e| e.level == Level::DEBUG));
    assert!(
        refused
            .iter()
            .all(|e| e.field("cap") == Some("max_connections"))
    );
    let log = log.lock().unwrap();
    let warnings: Vec<_> = log
        .events
        .iter()
        .filter(|e| e.target.starts_with("ws_tokio") && e.level <= Level::INFO)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].level, Level::WARN);
    assert_eq!(warnings[0].field("refused"), Some("1"));
}
