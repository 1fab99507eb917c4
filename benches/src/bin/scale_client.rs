//! The load of `benches/scale.sh`: opens many WebSocket connections to a
//! server, lets some of them stop reading, and reports every second how
//! many of the healthy ones are still receiving.
//!
//! Usage: scale_client ADDR CONNECTIONS STALLED SECONDS
//!
//! Raw sockets on one mio loop: the handshake is written by hand and the
//! server's frames are only counted as bytes, so the client costs little.
//! A connection the server answered with anything but 101, or ended, is
//! counted apart (`refused`, `ended`), not as a healthy one that stopped
//! receiving.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

struct Peer {
    stream: TcpStream,
    stalled: bool,
    written: bool,
    open: bool,
    head: Vec<u8>,
    bytes: u64,
    /// The server answered with another status than 101.
    refused: bool,
    /// End of stream or an error after opening.
    ended: bool,
    /// When the connection was started.
    since: Instant,
}

const REQUEST: &str = "GET / HTTP/1.1\r\nHost: scale\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr: SocketAddr = args
        .first()
        .map_or("127.0.0.1:9300", String::as_str)
        .parse()
        .expect("address");
    let total: usize = args
        .get(1)
        .map_or(10_000, |a| a.parse().expect("connections"));
    let stalled: usize = args
        .get(2)
        .map_or(total / 2, |a| a.parse().expect("stalled"));
    let seconds: u64 = args.get(3).map_or(20, |a| a.parse().expect("seconds"));

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(4096);
    let mut peers: Vec<Peer> = Vec::with_capacity(total);
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    let mut opened = 0usize;
    let mut next_report = start + Duration::from_secs(1);
    let mut last_bytes = vec![0u64; total];
    let end = start + Duration::from_secs(seconds);
    let mut refusals = Vec::new();

    println!("time_s open refused ended healthy_receiving/healthy_open healthy_MiB_per_s");
    while Instant::now() < end {
        // Open connections in small batches, so the listener's backlog keeps up.
        while peers.len() < total && peers.len() < opened + 256 {
            let i = peers.len();
            let mut stream = TcpStream::connect(addr)?;
            poll.registry().register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            peers.push(Peer {
                stream,
                stalled: i % total.max(1) < stalled,
                written: false,
                open: false,
                head: Vec::new(),
                bytes: 0,
                refused: false,
                ended: false,
                since: Instant::now(),
            });
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            let i = event.token().0;
            let peer = &mut peers[i];
            if event.is_writable()
                && !peer.written
                && peer.stream.write_all(REQUEST.as_bytes()).is_ok()
            {
                peer.written = true;
            }
            if !event.is_readable() || (peer.open && peer.stalled) || peer.ended {
                continue;
            }
            loop {
                match peer.stream.read(&mut buf) {
                    Ok(0) => {
                        peer.ended = true;
                        break;
                    }
                    Ok(n) => {
                        if peer.open {
                            peer.bytes += n as u64;
                        } else {
                            peer.head.extend_from_slice(&buf[..n]);
                            if peer.head.windows(4).any(|w| w == b"\r\n\r\n") {
                                peer.open = true;
                                opened += 1;
                                if !peer.head.starts_with(b"HTTP/1.1 101 ") {
                                    peer.refused = true;
                                    peer.ended = true;
                                    let line = peer.head.split(|&b| b == b'\r').next();
                                    let line = String::from_utf8_lossy(line.unwrap_or(&[]));
                                    if refusals.len() < 3 {
                                        refusals.push(format!(
                                            "{line:?} after {:.1} s",
                                            peer.since.elapsed().as_secs_f64()
                                        ));
                                    }
                                }
                                peer.head = Vec::new();
                                if peer.stalled {
                                    // Stop reading for good.
                                    let _ = poll.registry().deregister(&mut peer.stream);
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        peer.ended = true;
                        break;
                    }
                }
            }
        }
        let now = Instant::now();
        if now >= next_report {
            next_report += Duration::from_secs(1);
            let mut healthy = 0;
            let mut receiving = 0;
            let mut delta = 0u64;
            let refused = peers.iter().filter(|p| p.refused).count();
            let ended = peers.iter().filter(|p| p.ended && !p.refused).count();
            for (i, p) in peers.iter().enumerate() {
                if p.open && !p.stalled && !p.ended {
                    healthy += 1;
                    let d = p.bytes - last_bytes[i];
                    if d > 0 {
                        receiving += 1;
                    }
                    delta += d;
                    last_bytes[i] = p.bytes;
                }
            }
            println!(
                "{:>6.1} {:>5} {:>5} {:>5} {:>5}/{:<5} {:>8.2}",
                (now - start).as_secs_f64(),
                opened,
                refused,
                ended,
                receiving,
                healthy,
                delta as f64 / (1 << 20) as f64
            );
        }
    }
    for refusal in &refusals {
        eprintln!("scale_client: refused: {refusal}");
    }
    Ok(())
}
