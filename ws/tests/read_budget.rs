//! One flooding connection does not starve another on the same loop: a
//! peer writes 64 KiB frames as fast as loopback takes them, and the
//! server spends a millisecond on each (a handler with work to do), so the
//! flooder's socket never drains; a second peer's messages are still
//! echoed. On mio the loop reads at most
//! `ws_mio::READ_BUDGET` bytes from one connection per wake-up before it
//! serves the others; on tokio each connection's task yields to the others
//! by the runtime's cooperative budget. The server drops binary messages,
//! so that back-pressure (which pauses reading from a peer that does not
//! read its echoes) plays no part: only the read budget keeps it fair.

#[macro_use]
mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use support::{RawClient, Server, frame_bytes, within};
use ws::{Handler, Message, Result, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(60);

/// Round trips the healthy peer makes during the flood.
const PROBES: usize = 20;

struct TextEcho {
    out: Sender,
}

impl Handler for TextEcho {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        match msg {
            Message::Text(_) => self.out.send(msg),
            // The flood costs a little work each, then is dropped.
            Message::Binary(_) => {
                thread::sleep(Duration::from_millis(1));
                Ok(())
            }
        }
    }
}

fn a_flood_does_not_starve_another_connection(rt: Runtime) {
    let server = Server::start(rt, Settings::default(), || |out: Sender| TextEcho { out });
    let flooder = RawClient::open(server.addr);
    let mut healthy = RawClient::open(server.addr);
    let stop = Arc::new(AtomicBool::new(false));
    let flooded = Arc::new(AtomicUsize::new(0));
    let flood = {
        let (stop, flooded) = (stop.clone(), flooded.clone());
        let mut stream: TcpStream = flooder.stream;
        thread::spawn(move || {
            // Masked once, written again and again.
            let frame = frame_bytes(0x82, &vec![0x5a; 64 << 10], true);
            while !stop.load(Ordering::Relaxed) {
                if stream.write_all(&frame).is_err() {
                    return;
                }
                flooded.fetch_add(frame.len(), Ordering::Relaxed);
            }
        })
    };
    // The flood is under way before the probes start.
    while flooded.load(Ordering::Relaxed) < 4 << 20 {
        thread::sleep(Duration::from_millis(1));
    }
    let during = flooded.load(Ordering::Relaxed);
    for i in 0..PROBES {
        let text = format!("probe {i}");
        healthy.send_frame(0x81, text.as_bytes(), true);
        // Bounded by the client's read timeout (10 s).
        let frame = healthy.read_frame().expect("the healthy connection ended");
        assert_eq!(frame.payload, text.as_bytes());
    }
    // The flood went on while the probes were answered.
    assert!(
        flooded.load(Ordering::Relaxed) > during,
        "the flood stopped during the probes"
    );
    stop.store(true, Ordering::Relaxed);
    flood.join().unwrap();
    drop(healthy);
    server.stop().unwrap();
}

runtimes!(a_flood_does_not_starve_another_connection);
