//! A trickle after the handshake is cut: one byte a second of a frame that
//! never ends meets `Settings::message_timeout`, and the peer reads a close
//! frame with 1008 (policy: it broke our time limit, not the protocol);
//! the handler sees 1008 in `on_close` and a Timeout error. Before, any
//! byte counted as activity and such a peer was never closed. On every
//! runtime, with a raw TCP client on loopback.

#[macro_use]
mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::{Log, LoggingEcho, RawClient, Server, within};
use ws::{Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(60);

const DEADLINE: Duration = Duration::from_secs(3);

fn a_trickle_is_cut_at_the_message_timeout(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let settings = Settings {
        message_timeout: Some(DEADLINE),
        ..Settings::default()
    };
    let server = Server::start(rt, settings, move || {
        move |out: Sender| LoggingEcho {
            out,
            log: server_log.clone(),
        }
    });
    let mut healthy = RawClient::open(server.addr);
    let mut c = RawClient::open(server.addr);
    c.stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let bytes = support::frame_bytes(0x81, &[b'x'; 60], true);
    let start = Instant::now();
    let mut got = Vec::new();
    for b in &bytes {
        // One byte a second (the server may have closed by now).
        let _ = c.stream.write_all(std::slice::from_ref(b));
        let mut chunk = [0u8; 64];
        match c.stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        if got.len() >= 4 {
            break;
        }
        // The healthy connection is served meanwhile.
        healthy.send_frame(0x81, b"ping", true);
        assert_eq!(healthy.read_frame().unwrap().payload, b"ping");
        assert!(
            start.elapsed() < DEADLINE + Duration::from_secs(10),
            "never cut"
        );
    }
    let took = start.elapsed();
    assert!(got.len() >= 4, "no close frame: {got:?}");
    assert_eq!(got[0], 0x88, "a close frame: {got:?}");
    assert_eq!(u16::from_be_bytes([got[2], got[3]]), 1008, "{got:?}");
    assert!(
        took >= DEADLINE - Duration::from_millis(100),
        "cut before the deadline"
    );
    log.wait_for("the handler's close", |e| {
        e.iter().any(|e| e.starts_with("close "))
    });
    let entries = log.entries();
    assert!(entries.contains(&"close 1008".to_string()), "{entries:?}");
    assert!(
        entries
            .iter()
            .any(|e| e.contains("Timeout") && e.contains("too long to arrive")),
        "{entries:?}"
    );
    drop((c, healthy));
    server.stop().unwrap();
}

runtimes!(a_trickle_is_cut_at_the_message_timeout);
