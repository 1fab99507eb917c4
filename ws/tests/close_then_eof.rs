//! A peer that completes a clean close and closes its socket at once, as
//! Chromium and Node do, while the server still has output for it: the
//! server's next write fails (the peer's socket is gone) while the peer's
//! Close still waits in the receive buffer. The handler must see the
//! peer's 1000, never 1006 ("closed without a close handshake"). Repeated,
//! on every runtime, with a raw TCP peer on loopback.

#[macro_use]
mod support;

use std::net::Shutdown;
use std::time::Duration;

use support::{Log, RawClient, Server, within};
use ws::{CloseCode, Error, Handler, Handshake, Result, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(120);

/// Connections per runtime.
const ROUNDS: usize = 50;

/// Streams a large message at the peer as soon as it opens, so that output
/// is pending when the peer leaves.
struct Streamer {
    out: Sender,
    log: Log,
}

impl Handler for Streamer {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.send(vec![7u8; 4 << 20])
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.push(format!("close {}", u16::from(code)));
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error {err}"));
    }
}

fn a_close_then_eof_is_a_clean_close(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, Settings::default(), move || {
        move |out: Sender| Streamer {
            out,
            log: server_log.clone(),
        }
    });
    for round in 0..ROUNDS {
        let mut c = RawClient::open(server.addr);
        // Half the time read a little of the stream first.
        if round % 2 == 1 {
            let _ = c.read_frame();
        }
        // Close 1000, masked, then gone at once without reading the rest.
        c.send_frame(0x88, &1000u16.to_be_bytes(), true);
        if round % 3 == 0 {
            let _ = c.stream.shutdown(Shutdown::Both);
        }
        drop(c);
        log.wait_for("the connection's close", |e| {
            e.iter().filter(|e| e.starts_with("close ")).count() > round
        });
    }
    let entries = log.entries();
    assert!(
        entries.iter().all(|e| e == "close 1000"),
        "not every close was clean: {entries:?}"
    );
    assert_eq!(entries.len(), ROUNDS, "{entries:?}");
    server.stop().unwrap();
}

runtimes!(a_close_then_eof_is_a_clean_close);
