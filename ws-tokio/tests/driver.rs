//! `driver::drive` with a session that is not `Send`, on a `LocalSet`:
//! events, commands from another task, timers, and the end.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{bounded, listener};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use ws_tokio::driver::drive;
use ws_tokio::ws_proto::session::{Clock, Session};
use ws_tokio::ws_proto::{Connection, Event};
use ws_tokio::{CloseCode, Message};

enum Command {
    Say(String),
    Close,
}

/// Echoes messages, greets on a timer, logs everything into a shared,
/// single-threaded log.
struct Echo {
    log: Rc<RefCell<Vec<String>>>,
}

impl Session for Echo {
    type Command = Command;

    fn on_event(&mut self, ctl: &mut dyn Clock, conn: &mut Connection, event: Event) {
        let now = ctl.now();
        match event {
            Event::Request(req) => {
                self.log.borrow_mut().push(format!("request {}", req.path));
                conn.accept(now, Default::default()).unwrap();
            }
            Event::Open(_) => {
                self.log.borrow_mut().push("open".into());
                ctl.set_timer(1, now + Duration::from_millis(30));
                ctl.set_timer(2, now + Duration::from_millis(10));
                ctl.set_timer(3, now + Duration::from_millis(20));
                assert!(ctl.cancel_timer(3));
            }
            Event::Message(msg) => {
                self.log.borrow_mut().push(format!("message {msg:?}"));
                conn.send(now, msg).unwrap();
            }
            Event::Closed(closed) => {
                self.log
                    .borrow_mut()
                    .push(format!("closed {}", closed.code));
            }
            _ => {}
        }
    }

    fn on_command(&mut self, ctl: &mut dyn Clock, conn: &mut Connection, command: Command) {
        match command {
            Command::Say(text) => conn.send(ctl.now(), text.into()).unwrap(),
            Command::Close => conn.close(ctl.now(), CloseCode(4000), "told to").unwrap(),
        }
    }

    fn on_timer(&mut self, ctl: &mut dyn Clock, conn: &mut Connection, id: u64) {
        self.log.borrow_mut().push(format!("timer {id}"));
        conn.send(ctl.now(), format!("tick {id}").into()).unwrap();
    }
}

#[test]
fn a_local_session_sees_everything() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(
        &rt,
        bounded(async {
            let (listener, addr) = listener().await;
            let log = Rc::new(RefCell::new(Vec::new()));
            let (commands, rx) = mpsc::channel(16);
            let server_log = log.clone();
            let server = tokio::task::spawn_local(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let conn = Connection::server(Arc::default(), Instant::now(), [1; 32]);
                let mut session = Echo { log: server_log };
                drive(tcp, conn, &mut session, rx).await;
            });
            let mut ws = ws_tokio::connect(&format!("ws://{addr}/drive"))
                .await
                .unwrap();
            // The timers fire in order; the cancelled one does not.
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("tick 2"));
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("tick 1"));
            ws.send("echo me").await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("echo me"));
            commands
                .send(Command::Say("from a command".into()))
                .await
                .unwrap();
            assert_eq!(
                ws.next().await.unwrap().unwrap(),
                Message::text("from a command")
            );
            commands.send(Command::Close).await.unwrap();
            assert_eq!(
                ws.next().await.unwrap().unwrap(),
                Message::close(CloseCode(4000), "told to")
            );
            assert!(ws.next().await.is_none());
            server.await.unwrap();
            assert_eq!(
                *log.borrow(),
                [
                    "request /drive",
                    "open",
                    "timer 2",
                    "timer 1",
                    "message Text(\"echo me\")",
                    "closed 4000",
                ]
            );
        }),
    );
}

#[tokio::test]
async fn the_driver_runs_on_without_senders_until_the_peer_vanishes() {
    struct Quiet {
        events: Vec<String>,
    }
    impl Session for Quiet {
        type Command = ();
        fn on_event(&mut self, _: &mut dyn Clock, _: &mut Connection, event: Event) {
            self.events.push(match event {
                Event::Message(m) => format!("{m:?}"),
                Event::Closed(c) => format!("closed {} {:?}", c.code, c.error),
                other => format!("{other:?}"),
            });
        }
        fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, _: ()) {}
    }
    bounded(async {
        let (a, b) = tokio::io::duplex(1024);
        let (tx, rx) = mpsc::unbounded_channel::<()>();
        drop(tx);
        let mut client = ws_tokio::WebSocketStream::from_raw(b, ws_tokio::Role::Client);
        let conn = Connection::established(
            Arc::default(),
            ws_tokio::Role::Server,
            Instant::now(),
            [2; 32],
        );
        let mut session = Quiet { events: Vec::new() };
        let driving = drive(a, conn, &mut session, rx);
        let peer = async {
            client.send("one").await.unwrap();
            drop(client);
        };
        let (_, ()) = tokio::join!(driving, peer);
        assert_eq!(
            session.events,
            ["Text(\"one\")", "closed 1006 Some(UnexpectedEof)"]
        );
    })
    .await;
}

/// Echoes whatever arrives, with no commands and no timers.
struct Mirror;

impl Session for Mirror {
    type Command = ();

    fn on_event(&mut self, ctl: &mut dyn Clock, conn: &mut Connection, event: Event) {
        if let Event::Message(msg) = event {
            let _ = conn.send(ctl.now(), msg);
        }
    }

    fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, _: ()) {}
}

#[tokio::test]
async fn large_echoes_through_a_narrow_pipe_then_close() {
    // More than the driver's write high-water mark (128 KiB) must wait for
    // the peer to read; reading resumes once it is written.
    bounded(async {
        let (a, b) = tokio::io::duplex(8 * 1024);
        let (_tx, rx) = mpsc::unbounded_channel::<()>();
        let conn = Connection::established(
            Arc::default(),
            ws_tokio::Role::Server,
            Instant::now(),
            ws_tokio::ws_proto::os_seed().expect("the OS random source works here"),
        );
        let driving = async move { drive(a, conn, &mut Mirror, rx).await };
        let peer = async move {
            let client = ws_tokio::WebSocketStream::from_raw(b, ws_tokio::Role::Client);
            let (mut read, mut write) = client.split();
            for size in [1 << 20, 300_000, 10] {
                let msg = Message::binary(vec![5u8; size]);
                let (sent, back) = tokio::join!(write.send(msg.clone()), read.next());
                sent.unwrap();
                assert_eq!(back.unwrap().unwrap(), msg);
            }
            let (closed, ()) = tokio::join!(write.close(CloseCode::NORMAL, ""), async {
                while read.next().await.is_some() {}
            });
            closed.unwrap();
            assert_eq!(read.closed().unwrap().code, CloseCode::NORMAL);
        };
        tokio::join!(driving, peer);
    })
    .await;
}

/// Sends 256 KiB on every timer tick until the core refuses.
struct Flood {
    sent: usize,
    refused: Option<String>,
}

impl Session for Flood {
    type Command = ();

    fn on_event(&mut self, ctl: &mut dyn Clock, _: &mut Connection, event: Event) {
        if let Event::Closed(_) = event {
            return;
        }
        ctl.set_timer(0, ctl.now());
    }

    fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, _: ()) {}

    fn on_timer(&mut self, ctl: &mut dyn Clock, conn: &mut Connection, _: u64) {
        match conn.send_binary(ctl.now(), &[7; 256 * 1024]) {
            Ok(()) => {
                self.sent += 1;
                assert!(self.sent < 400, "100 MiB accepted without complaint");
                ctl.set_timer(0, ctl.now() + Duration::from_millis(1));
            }
            Err(e) => {
                self.refused = Some(e.to_string());
                let _ = conn.close(ctl.now(), CloseCode::NORMAL, "");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_never_reads_meets_the_write_cap() {
    let (a, mut peer) = tokio::io::duplex(8 * 1024);
    let config = Arc::new(ws_tokio::Config {
        max_write_buffer: 1 << 20,
        close_timeout: Duration::from_secs(1),
        ..Default::default()
    });
    // A ping from the peer gets the session going.
    use tokio::io::AsyncWriteExt;
    peer.write_all(&common::frame(true, 0x9, b"", true))
        .await
        .unwrap();
    let conn = Connection::established(config, ws_tokio::Role::Server, Instant::now(), [3; 32]);
    let (_tx, rx) = mpsc::unbounded_channel::<()>();
    let mut session = Flood {
        sent: 0,
        refused: None,
    };
    drive(a, conn, &mut session, rx).await;
    let refused = session.refused.expect("the core refused a send");
    assert!(refused.contains("buffer"), "{refused}");
    // What was accepted: the 1 MiB cap in the core plus what the driver
    // holds (at most its 64 KiB mark plus one message) and the pipe.
    assert!(session.sent <= 6, "{}", session.sent);
    drop(peer);
}
