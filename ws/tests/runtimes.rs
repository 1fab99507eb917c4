//! The facade's behaviour over loopback, run once per runtime this build
//! includes (`cargo test -p ws --all-features` runs mio and tokio): one
//! suite, parameterised by `ws::Runtime`.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ws::util::{Timeout, Token};
use ws::{Builder, CloseCode, Handler, Handshake, Message, Result, Runtime, Sender};

fn runtimes() -> Vec<Runtime> {
    vec![
        #[cfg(feature = "mio")]
        Runtime::Mio,
        #[cfg(feature = "tokio")]
        Runtime::Tokio,
    ]
}

/// Runs `f` for every runtime, each within 30 s.
fn each_runtime(f: fn(Runtime)) {
    for runtime in runtimes() {
        let (done, finished) = mpsc::channel();
        let worker = thread::spawn(move || {
            f(runtime);
            let _ = done.send(());
        });
        match finished.recv_timeout(Duration::from_secs(30)) {
            Ok(()) => worker.join().unwrap(),
            Err(_) if worker.is_finished() => {
                // The test panicked: show its panic.
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(_) => panic!("{runtime:?}: the test took longer than 30 s"),
        }
    }
}

/// Starts a server on its own thread (its factory need not be `Send`: it
/// is made there) and returns its address and a broadcaster.
fn server<F, H>(runtime: Runtime, make: fn() -> F) -> (SocketAddr, Sender, thread::JoinHandle<()>)
where
    F: FnMut(Sender) -> H + 'static,
    H: Handler + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let ws = Builder::new()
            .with_runtime(runtime)
            .build(make())
            .unwrap()
            .bind("127.0.0.1:0")
            .unwrap();
        tx.send((ws.local_addr().unwrap(), ws.broadcaster()))
            .unwrap();
        ws.run().unwrap();
    });
    let (addr, broadcaster) = rx.recv().unwrap();
    (addr, broadcaster, thread)
}

/// Connects a client on this thread and runs it to its end.
fn client<F, H>(runtime: Runtime, addr: SocketAddr, factory: F)
where
    F: FnMut(Sender) -> H,
    H: Handler,
{
    let mut ws = Builder::new().with_runtime(runtime).build(factory).unwrap();
    ws.connect(url::Url::parse(&format!("ws://{addr}/")).unwrap())
        .unwrap();
    ws.run().unwrap();
}

type Log = Arc<Mutex<Vec<String>>>;

/// An echo server whose handlers share a single-threaded counter.
fn counting_echo() -> impl FnMut(Sender) -> CountingEcho {
    let live = Rc::new(Cell::new(0));
    move |out| CountingEcho {
        out,
        live: live.clone(),
    }
}

struct CountingEcho {
    out: Sender,
    live: Rc<Cell<u32>>,
}

impl Handler for CountingEcho {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.live.set(self.live.get() + 1);
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        if msg.as_text().ok() == Some("count?") {
            return self.out.send(self.live.get().to_string());
        }
        self.out.send(msg)
    }

    fn on_close(&mut self, _: CloseCode, _: &str) {
        self.live.set(self.live.get() - 1);
    }
}

#[test]
fn echo_with_a_handler_that_is_not_send() {
    each_runtime(|runtime| {
        let (addr, broadcaster, server) = server(runtime, counting_echo);
        let log: Log = Arc::default();
        let seen = log.clone();
        client(runtime, addr, move |out: Sender| {
            out.send("hello").unwrap();
            out.send(vec![1u8, 2, 3]).unwrap();
            out.send("count?").unwrap();
            let seen = seen.clone();
            move |msg: Message| {
                seen.lock().unwrap().push(format!("{msg:?}"));
                if msg.as_text().ok() == Some("1") {
                    out.close(CloseCode::Normal)?;
                }
                Ok(())
            }
        });
        assert_eq!(log.lock().unwrap().len(), 3, "{runtime:?}: {log:?}");
        broadcaster.shutdown().unwrap();
        server.join().unwrap();
    });
}

struct Ticker {
    out: Sender,
    log: Log,
    cancel: Option<Timeout>,
}

impl Handler for Ticker {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.timeout(60, Token(1))?;
        self.out.timeout(20, Token(2))
    }

    fn on_new_timeout(&mut self, event: Token, timeout: Timeout) -> Result<()> {
        if event == Token(1) {
            self.cancel = Some(timeout);
        }
        Ok(())
    }

    fn on_timeout(&mut self, event: Token) -> Result<()> {
        self.log
            .lock()
            .unwrap()
            .push(format!("timeout {}", event.0));
        if let Some(t) = self.cancel.take() {
            self.out.cancel(t)?;
        }
        self.out.send(format!("tick {}", event.0))
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        let text = msg.into_text()?;
        self.log.lock().unwrap().push(text.clone());
        if text == "tick 2" {
            // Outlive the cancelled timeout before closing.
            self.out.timeout(100, Token(3))
        } else {
            self.out.close(CloseCode::Normal)
        }
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.lock().unwrap().push(format!("closed {code:?}"));
    }
}

#[test]
fn timeouts_fire_and_cancel() {
    each_runtime(|runtime| {
        let (addr, broadcaster, server) = server(runtime, counting_echo);
        let log: Log = Arc::default();
        let shared = log.clone();
        client(runtime, addr, move |out: Sender| Ticker {
            out,
            log: shared.clone(),
            cancel: None,
        });
        let log = log.lock().unwrap().clone();
        assert_eq!(
            log,
            [
                "timeout 2",
                "tick 2",
                "timeout 3",
                "tick 3",
                "closed Normal"
            ],
            "{runtime:?}"
        );
        broadcaster.shutdown().unwrap();
        server.join().unwrap();
    });
}

/// Sends 1 MiB on open, checks the echo, closes, and records how long the
/// close handshake took.
struct BigSender {
    out: Sender,
    log: Log,
    closing: Option<Instant>,
}

const BIG: usize = 1 << 20;

impl Handler for BigSender {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.send(vec![0xa5u8; BIG])
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        assert_eq!(msg.as_binary(), &[0xa5u8; BIG][..]);
        self.closing = Some(Instant::now());
        self.out.close(CloseCode::Normal)
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        let took = self.closing.map(|t| t.elapsed());
        self.log.lock().unwrap().push(format!(
            "{code:?} {}",
            took.map_or(u128::MAX, |d| d.as_millis())
        ));
    }
}

#[test]
fn large_messages_and_a_prompt_close_reply() {
    each_runtime(|runtime| {
        let log: Log = Arc::default();
        let shared = log.clone();
        let (tx, rx) = mpsc::channel();
        let server = thread::spawn(move || {
            let ws = Builder::new()
                .with_runtime(runtime)
                .build(move |out| BigSender {
                    out,
                    log: shared.clone(),
                    closing: None,
                })
                .unwrap()
                .bind("127.0.0.1:0")
                .unwrap();
            tx.send((ws.local_addr().unwrap(), ws.broadcaster()))
                .unwrap();
            ws.run().unwrap();
        });
        let (addr, broadcaster) = rx.recv().unwrap();
        for _ in 0..10 {
            client(runtime, addr, |out: Sender| move |msg| out.send(msg));
        }
        broadcaster.shutdown().unwrap();
        server.join().unwrap();
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 10, "{runtime:?}: {log:?}");
        for entry in &log {
            let (code, ms) = entry.split_once(' ').unwrap();
            assert_eq!(code, "Normal", "{runtime:?}: {log:?}");
            // A loopback close handshake: milliseconds, even on a busy machine.
            assert!(ms.parse::<u128>().unwrap() < 2000, "{runtime:?}: {log:?}");
        }
        eprintln!("{runtime:?}: code and close handshake time in ms: {log:?}");
    });
}

#[test]
fn broadcast_reaches_every_connection_and_shutdown_says_1001() {
    each_runtime(|runtime| {
        let (addr, broadcaster, server) = server(runtime, counting_echo);
        let log: Log = Arc::default();
        let clients: Vec<_> = (0..3)
            .map(|_| {
                let log = log.clone();
                thread::spawn(move || {
                    client(runtime, addr, move |out: Sender| {
                        // Ready once the server counted us.
                        out.send("count?").unwrap();
                        Recorder { log: log.clone() }
                    })
                })
            })
            .collect();
        // Wait for the three to be connected, then reach them all.
        let deadline = Instant::now() + Duration::from_secs(10);
        while log.lock().unwrap().len() < 3 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        broadcaster.send("to all").unwrap();
        while log.lock().unwrap().len() < 6 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        broadcaster.shutdown().unwrap();
        for c in clients {
            c.join().unwrap();
        }
        server.join().unwrap();
        let log = log.lock().unwrap().clone();
        assert_eq!(
            log.iter().filter(|l| *l == "to all").count(),
            3,
            "{runtime:?}: {log:?}"
        );
        assert_eq!(
            log.iter().filter(|l| *l == "closed Away").count(),
            3,
            "{runtime:?}: {log:?}"
        );
    });
}

struct Recorder {
    log: Log,
}

impl Handler for Recorder {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        let text = msg.into_text()?;
        if text.parse::<u32>().is_err() {
            self.log.lock().unwrap().push(text);
        } else {
            self.log.lock().unwrap().push("counted".into());
        }
        Ok(())
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.lock().unwrap().push(format!("closed {code:?}"));
    }
}

struct Failing {
    log: Log,
}

impl Handler for Failing {
    fn on_error(&mut self, err: ws::Error) {
        self.log.lock().unwrap().push(format!("{:?}", err.kind));
    }
}

#[test]
fn a_refused_connect_reaches_on_error() {
    each_runtime(|runtime| {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let log: Log = Arc::default();
        let shared = log.clone();
        client(runtime, addr, move |_out: Sender| Failing {
            log: shared.clone(),
        });
        let log = log.lock().unwrap().clone();
        assert!(
            log.first().is_some_and(|l| l.starts_with("Io")),
            "{runtime:?}: {log:?}"
        );
    });
}

#[test]
fn a_connect_queued_before_run_is_made() {
    each_runtime(|runtime| {
        let (addr, broadcaster, server) = server(runtime, counting_echo);
        let log: Log = Arc::default();
        let shared = log.clone();
        let ws = Builder::new()
            .with_runtime(runtime)
            .build(move |out: Sender| {
                out.send("queued").unwrap();
                let shared = shared.clone();
                move |msg: Message| {
                    shared.lock().unwrap().push(msg.into_text()?);
                    out.close(CloseCode::Normal)
                }
            })
            .unwrap();
        // No listener and no connection yet: only the queued command.
        ws.broadcaster()
            .connect(url::Url::parse(&format!("ws://{addr}/")).unwrap())
            .unwrap();
        ws.run().unwrap();
        assert_eq!(*log.lock().unwrap(), ["queued"], "{runtime:?}");
        broadcaster.shutdown().unwrap();
        server.join().unwrap();
    });
}
