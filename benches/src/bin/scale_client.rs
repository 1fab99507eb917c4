//! The load of `benches/scale.sh`: opens many WebSocket connections to a
//! server, lets some of them stop reading, and reports every second how
//! many of the healthy ones are still receiving.
//!
//! Usage: scale_client ADDR CONNECTIONS STALLED SECONDS
//!
//! Raw sockets on one mio loop: the handshake is written by hand and the
//! server's frames are only counted as bytes, so the client costs little.

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

    println!("time_s open healthy_receiving/healthy_open healthy_MiB_per_s");
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
            if !event.is_readable() || (peer.open && peer.stalled) {
                continue;
            }
            loop {
                match peer.stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if peer.open {
                            peer.bytes += n as u64;
                        } else {
                            peer.head.extend_from_slice(&buf[..n]);
                            if peer.head.windows(4).any(|w| w == b"\r\n\r\n") {
                                peer.open = true;
                                opened += 1;
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
                    Err(_) => break,
                }
            }
        }
        let now = Instant::now();
        if now >= next_report {
            next_report += Duration::from_secs(1);
            let mut healthy = 0;
            let mut receiving = 0;
            let mut delta = 0u64;
            for (i, p) in peers.iter().enumerate() {
                if p.open && !p.stalled {
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
                "{:>6.1} {:>5} {:>5}/{:<5} {:>8.2}",
                (now - start).as_secs_f64(),
                opened,
                receiving,
                healthy,
                delta as f64 / (1 << 20) as f64
            );
        }
    }
    Ok(())
}
