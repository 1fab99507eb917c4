//! Commands do not starve the sockets: an endless stream of them (here each
//! command queues the next one, the extreme of a broadcast every few
//! milliseconds) still leaves the loop accepting, reading and writing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use ws_mio::ws_proto::{Accept, Config, Connection, Event};
use ws_mio::{
    Clock, ConnInfo, Control, Endpoint, EventLoop, Handle, LoopConfig, Route, Session, Start,
};

/// A command to the endpoint: queue the next one, or shut down.
#[derive(Clone, Copy)]
enum Cmd {
    Next,
    Stop,
}

/// Accepts the upgrade, then has the loop shut down on the first message.
struct Server(Handle<Cmd>);

impl Session for Server {
    type Command = Cmd;

    fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event) {
        match event {
            Event::Request(_) => conn.accept(clock.now(), Accept::default()).unwrap(),
            Event::Message(msg) => {
                conn.send(clock.now(), msg).unwrap();
                self.0.send(Route::Endpoint, Cmd::Stop).unwrap();
            }
            _ => {}
        }
    }

    fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, _: Cmd) {}
}

/// Each command it takes queues another, until shutdown.
struct Chain {
    taken: u64,
}

impl Endpoint for Chain {
    type Session = Server;

    fn accept(&mut self, ctl: &mut Control<'_, Server>, _: &ConnInfo) -> Option<Start<Server>> {
        Some(Server(ctl.handle().clone()).into())
    }

    fn on_command(&mut self, ctl: &mut Control<'_, Server>, command: Cmd) {
        match command {
            Cmd::Stop => ctl.shutdown(),
            Cmd::Next => {
                self.taken += 1;
                if !ctl.is_shutting_down() {
                    ctl.handle().send(Route::Endpoint, Cmd::Next).unwrap();
                }
            }
        }
    }
}

#[test]
fn an_endless_stream_of_commands_leaves_room_for_the_sockets() {
    let (tx, rx) = mpsc::channel();
    let (done, ended) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event_loop = EventLoop::new(
            Chain { taken: 0 },
            Arc::new(Config::default()),
            LoopConfig::default(),
        )
        .unwrap();
        let addr = event_loop.listen("127.0.0.1:0".parse().unwrap()).unwrap();
        event_loop
            .handle()
            .send(Route::Endpoint, Cmd::Next)
            .unwrap();
        tx.send(addr).unwrap();
        let chain = event_loop.run().unwrap();
        done.send(chain.taken).unwrap();
    });
    let addr = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    c.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        c.read_exact(&mut byte)
            .expect("no answer while commands keep coming");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    // A masked "hi", echoed.
    c.write_all(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']).unwrap();
    let mut echo = [0u8; 4];
    c.read_exact(&mut echo)
        .expect("no echo while commands keep coming");
    assert_eq!(echo, [0x81, 0x02, b'h', b'i']);
    drop(c);
    let taken = ended
        .recv_timeout(Duration::from_secs(5))
        .expect("the loop did not end");
    // The chain did run meanwhile.
    assert!(taken > 1);
}
