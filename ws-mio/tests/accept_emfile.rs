//! Running out of file descriptors does not leave clients stranded in the
//! listen backlog. With edge-triggered readiness the listener is reported
//! once for the clients waiting in it; if `accept` then fails with EMFILE
//! and the loop waits for the next report, those clients wait until some
//! other client happens to connect. The loop must come back by itself.
//!
//! This binary holds a single test: it lowers the process's descriptor
//! limit, which would disturb any test beside it.

// setrlimit/getrlimit have no safe wrapper in std.
#![allow(unsafe_code)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use ws_mio::ws_proto::{Accept, Config, Connection, Event};
use ws_mio::{
    Clock, ConnInfo, Control, Endpoint, EventLoop, Handle, LoopConfig, Route, Session, Start,
};

/// Accepts the upgrade, then asks the endpoint to shut the loop down.
struct Server(Handle<()>);

impl Session for Server {
    type Command = ();

    fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event) {
        if let Event::Request(_) = event {
            conn.accept(clock.now(), Accept::default()).unwrap();
            self.0.send(Route::Endpoint, ()).unwrap();
        }
    }

    fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, (): ()) {}
}

struct Upgrade;

impl Endpoint for Upgrade {
    type Session = Server;

    fn accept(&mut self, ctl: &mut Control<'_, Server>, _: &ConnInfo) -> Option<Start<Server>> {
        Some(Server(ctl.handle().clone()).into())
    }

    fn on_command(&mut self, ctl: &mut Control<'_, Server>, (): ()) {
        ctl.shutdown();
    }
}

/// Lowers the soft descriptor limit to `n` (at most the hard limit).
fn limit_descriptors(n: u64) {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl), 0);
        rl.rlim_cur = n.min(rl.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &rl), 0);
    }
}

/// Reads a response head, or fails on timeout.
fn read_head(c: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        c.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    Ok(head)
}

#[test]
fn a_client_accepted_while_out_of_descriptors_is_served_once_they_free() {
    let (tx, rx) = mpsc::channel();
    let (done, ended) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event_loop =
            EventLoop::new(Upgrade, Arc::new(Config::default()), LoopConfig::default()).unwrap();
        let addr = event_loop.listen("127.0.0.1:0".parse().unwrap()).unwrap();
        tx.send(addr).unwrap();
        done.send(event_loop.run().is_ok()).unwrap();
    });
    let addr = rx.recv_timeout(Duration::from_secs(5)).unwrap();

    // Use up every descriptor but one, which the client takes: the server
    // side of its connection then cannot be accepted.
    limit_descriptors(256);
    let mut hog = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                break;
            }
        }
    }
    assert!(!hog.is_empty());
    hog.pop();
    let mut c = TcpStream::connect(addr).expect("the last descriptor");
    c.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    // While the process is out of descriptors the client waits in the
    // backlog (this also proves the test starved the accept).
    c.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let early = read_head(&mut c);
    assert!(early.is_err(), "answered while out of descriptors");

    // Descriptors free up; nobody else connects. The loop must accept the
    // waiting client by itself.
    drop(hog);
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let head = read_head(&mut c).expect("the waiting client was never accepted");
    assert!(head.starts_with(b"HTTP/1.1 101 "), "{head:?}");
    drop(c);
    assert_eq!(
        ended.recv_timeout(Duration::from_secs(5)),
        Ok(true),
        "the loop did not end cleanly"
    );
}
