//! One `WebSocket` on several threads (`Builder::build_threaded`): each
//! loop has its own factory, made on its thread; connections are spread
//! over the loops; broadcasts and shutdown reach every loop. On each
//! runtime, with raw clients on loopback.

#[macro_use]
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use support::{Log, RawClient, within};
use ws::{Builder, Message, Runtime, Sender};

const LIMIT: Duration = Duration::from_secs(60);
const THREADS: usize = 2;
/// Enough clients that each loop gets some: the kernel spreads them by a
/// hash of their ports (`SO_REUSEPORT`), so all of them landing on one of
/// two loops has odds of 2^-31.
const CLIENTS: usize = 32;

/// Echoes, broadcasts what follows "all:", and shuts the server down on
/// "stop".
struct Echo {
    out: Sender,
}

impl ws::Handler for Echo {
    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        let text = msg.as_text()?.to_owned();
        if let Some(rest) = text.strip_prefix("all:") {
            self.out.broadcast(rest)
        } else if text == "stop" {
            self.out.shutdown()
        } else {
            self.out.send(msg)
        }
    }
}

type EchoFactory = Box<dyn FnMut(Sender) -> Echo>;

/// Each thread's factory logs the name of its thread for every handler,
/// and keeps every `Sender`.
fn make(
    log: Log,
    senders: Arc<Mutex<Vec<Sender>>>,
) -> impl Fn() -> EchoFactory + Send + Sync + 'static {
    move || {
        let thread = std::thread::current().name().unwrap_or("?").to_owned();
        let (log, senders) = (log.clone(), senders.clone());
        Box::new(move |out: Sender| {
            log.push(thread.clone());
            senders.lock().unwrap().push(out.clone());
            Echo { out }
        })
    }
}

struct Running {
    addr: std::net::SocketAddr,
    everyone: Sender,
    thread: JoinHandle<ws::Result<()>>,
}

fn start(rt: Runtime, log: &Log, senders: &Arc<Mutex<Vec<Sender>>>) -> Running {
    let server = Builder::new()
        .with_runtime(rt)
        .build_threaded(THREADS, make(log.clone(), senders.clone()))
        .unwrap()
        .bind("127.0.0.1:0")
        .unwrap();
    assert_eq!(server.threads(), THREADS);
    let addr = server.local_addr().unwrap();
    let everyone = server.broadcaster();
    let thread = std::thread::spawn(move || server.run());
    Running {
        addr,
        everyone,
        thread,
    }
}

/// Shuts the server down through its broadcaster: every client hears 1001
/// and answers, and `run` returns.
fn stop(server: Running, clients: Vec<RawClient>) {
    server.everyone.shutdown().unwrap();
    closed_with_1001(clients);
    server.thread.join().unwrap().unwrap();
}

fn closed_with_1001(clients: Vec<RawClient>) {
    for mut client in clients {
        assert_eq!(client.expect_close(), Some(1001));
        client.send_frame(0x88, &1001u16.to_be_bytes(), true);
    }
}

fn echoes(client: &mut RawClient, text: &str) {
    client.send_frame(0x81, text.as_bytes(), true);
    let frame = client.read_frame().expect("the connection ended");
    assert_eq!(frame.payload, text.as_bytes());
}

/// Every client is served, by loops on every thread.
fn threads_serve_and_echo(rt: Runtime) {
    let (log, senders) = (Log::default(), Arc::default());
    let server = start(rt, &log, &senders);
    let mut clients: Vec<_> = (0..CLIENTS).map(|_| RawClient::open(server.addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        echoes(client, &format!("hello {i}"));
    }
    let per_thread = log.entries().into_iter().fold(HashMap::new(), |mut m, t| {
        *m.entry(t).or_insert(0) += 1;
        m
    });
    assert_eq!(per_thread.values().sum::<usize>(), CLIENTS);
    assert_eq!(per_thread.len(), THREADS, "{per_thread:?}");
    assert!(per_thread.keys().all(|t| t.starts_with("ws-loop-")));
    stop(server, clients);
}

/// A handler's broadcast and the server's broadcaster reach the clients
/// of every loop.
fn a_broadcast_reaches_every_loop(rt: Runtime) {
    let (log, senders) = (Log::default(), Arc::default());
    let server = start(rt, &log, &senders);
    let mut clients: Vec<_> = (0..CLIENTS).map(|_| RawClient::open(server.addr)).collect();
    for client in &mut clients {
        echoes(client, "ready");
    }
    clients[0].send_frame(0x81, b"all:from a handler", true);
    for client in &mut clients {
        let frame = client.read_frame().expect("the connection ended");
        assert_eq!(frame.payload, b"from a handler");
    }
    server.everyone.broadcast("from outside").unwrap();
    for client in &mut clients {
        let frame = client.read_frame().expect("the connection ended");
        assert_eq!(frame.payload, b"from outside");
    }
    stop(server, clients);
}

/// A handler's `shutdown` closes the connections of every loop with 1001,
/// and `run` returns.
fn shutdown_from_a_handler_stops_every_loop(rt: Runtime) {
    let (log, senders) = (Log::default(), Arc::default());
    let server = start(rt, &log, &senders);
    let mut clients: Vec<_> = (0..CLIENTS).map(|_| RawClient::open(server.addr)).collect();
    for client in &mut clients {
        echoes(client, "ready");
    }
    clients[0].send_frame(0x81, b"stop", true);
    closed_with_1001(clients);
    server.thread.join().unwrap().unwrap();
}

/// The loops number their connections alike; `Sender`s still tell them
/// apart.
// Hash and Eq look only at what never changes (see `Sender`).
#[allow(clippy::mutable_key_type)]
fn senders_of_different_loops_differ(rt: Runtime) {
    let (log, senders) = (Log::default(), Arc::default());
    let server = start(rt, &log, &senders);
    let mut clients: Vec<_> = (0..CLIENTS).map(|_| RawClient::open(server.addr)).collect();
    for client in &mut clients {
        echoes(client, "ready");
    }
    let all = senders.lock().unwrap().clone();
    assert_eq!(all.len(), CLIENTS);
    let distinct: HashSet<Sender> = all.iter().cloned().collect();
    assert_eq!(distinct.len(), CLIENTS);
    let ids: HashSet<(usize, u32)> = all
        .iter()
        .map(|s| (s.token().0, s.connection_id()))
        .collect();
    assert!(
        ids.len() < CLIENTS,
        "the loops' ids did not overlap: {ids:?}"
    );
    stop(server, clients);
}

/// Dropping a server that never ran stops its threads; 0 threads means
/// one per core.
fn an_unrun_server_is_dropped_cleanly(rt: Runtime) {
    let server = Builder::new()
        .with_runtime(rt)
        .build_threaded(0, || |out: Sender| move |msg| out.send(msg))
        .unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(server.threads(), cores);
    assert!(server.local_addr().is_err());
    drop(server);
}

/// A `make` that panics on one of the threads makes `build_threaded`
/// fail, instead of waiting for that thread's loop forever.
fn a_panicking_make_is_an_error(rt: Runtime) {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let result = Builder::new()
        .with_runtime(rt)
        .build_threaded(THREADS, move || {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                panic!("no factory on this thread");
            }
            |out: Sender| move |msg| out.send(msg)
        });
    let err = result.expect_err("a thread without a factory");
    assert!(err.to_string().contains("panicked"), "{err}");
}

runtimes!(
    a_panicking_make_is_an_error,
    threads_serve_and_echo,
    a_broadcast_reaches_every_loop,
    shutdown_from_a_handler_stops_every_loop,
    senders_of_different_loops_differ,
    an_unrun_server_is_dropped_cleanly,
);
