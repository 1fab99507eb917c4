//! An echo server on blocking `std::net` and nothing but `ws-proto`: one
//! thread per connection, the core's run loop, no async runtime, no mio.
//!
//! `cargo run --example std_echo [ADDR]` (default 127.0.0.1:3012,
//! where the `client` example connects).

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_proto::{Accept, Config, Connection, Event, Transmit};

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:3012"))?;
    println!("listening on ws://{}", listener.local_addr()?);
    let config = Arc::new(Config::default());
    for tcp in listener.incoming() {
        let (tcp, config) = (tcp?, config.clone());
        std::thread::spawn(move || serve(tcp, config).map_err(|e| eprintln!("i/o error: {e}")));
    }
    Ok(())
}

fn serve(mut tcp: TcpStream, config: Arc<Config>) -> io::Result<()> {
    // The seed of the core's generators, from the OS; no connection without it.
    let mut conn = Connection::server(config, Instant::now(), ws_proto::os_seed()?);
    let (mut rbuf, mut wbuf) = (vec![0; 64 << 10], Vec::new());
    loop {
        // 1. Outputs: answer the events, then write what the core queued.
        while let Some(event) = conn.poll_event() {
            match event {
                // A request that is not an upgrade gets its HTTP error here.
                Event::Request(_) => conn.accept(Instant::now(), Accept::default()).unwrap(),
                Event::Message(msg) => drop(conn.send(Instant::now(), msg)),
                Event::Closed(c) => {
                    println!("{}: closed {} {:?}", tcp.peer_addr()?, c.code, c.error)
                }
                _ => {}
            }
        }
        let mut close = false;
        while let Some(t) = conn.poll_transmit(Instant::now(), &mut wbuf) {
            close |= t == Transmit::Close;
        }
        tcp.write_all(&wbuf)?;
        wbuf.clear();
        if close {
            return Ok(()); // dropping the stream closes TCP
        }
        // 2. Inputs: read, but wake up for the core's next deadline.
        let wait = conn
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()));
        tcp.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
        match tcp.read(&mut rbuf) {
            Ok(0) => conn.handle_eof(Instant::now()),
            Ok(n) => conn.handle_input(Instant::now(), &rbuf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
