//! The echo servers of the load harness (`benches/load.sh`): one program,
//! one implementation chosen on the command line, so that every server is
//! started, pinned and measured the same way.
//!
//!     load_server --impl IMPL [--addr 127.0.0.1:0] [--threads N]
//!
//! IMPL is one of:
//!
//! - `raw`: TCP echo of whatever bytes arrive, on one mio loop (the ceiling);
//! - `facade-mio`, `facade-tokio`: this project's `ws` facade (the ws-rs API)
//!   on its mio and tokio runtimes;
//! - `native`: this project's native async API, `ws_tokio::accept`;
//! - `tungstenite`: tokio-tungstenite;
//! - `fastwebsockets`: fastwebsockets with its hyper 1 upgrade;
//! - `tokio-websockets`: tokio-websockets, set up as its own echo example
//!   and benchmark set it up;
//! - `ws-rs`: the original ws-rs, version 0.9.2;
//! - `native-publish`, `native-loop`, `tungstenite-broadcast`: the servers
//!   of the fan-out load only, which publish what they receive to every
//!   connection instead of echoing it (see [`fanout`]).
//!
//! Every WebSocket server echoes each text or binary message back with the
//! same opcode, takes messages of up to 64 MiB (frames too), serves at least
//! 20,000 connections, compresses nothing, sets `TCP_NODELAY` on every
//! connection and sends each message as one frame. The tokio-based ones run
//! a current-thread runtime: the harness pins the server to one core anyway.
//! `--describe` prints these settings per implementation (the harness copies
//! them into RESULTS.md).
//!
//! `--threads N` (the facade only) serves with `Builder::build_threaded`:
//! N event loops on N threads behind the address (default 1, the plain
//! `WebSocket`). The harness itself always runs one; this is for scaling
//! runs by hand.
//!
//! Once it listens the program prints `listening on ADDR` on stdout (with the
//! port the system chose when ADDR's port is 0); it runs until killed.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::exit;

use ws_benches::fanout::FANOUT_SERVERS;
use ws_benches::load::SERVERS;

mod fanout;

/// Largest message and frame every server accepts: 16 MiB (load d) and
/// plenty of slack.
const MAX_MESSAGE: usize = 64 << 20;
/// Connections every server serves at once (load e opens 10,000).
const MAX_CONNECTIONS: usize = 20_000;

fn usage(msg: &str) -> ! {
    eprintln!("load_server: {msg}");
    eprintln!(
        "usage: load_server --impl {} [--addr ADDR] [--threads N]",
        SERVERS.join("|")
    );
    eprintln!("       (fan-out load only: {})", FANOUT_SERVERS.join("|"));
    eprintln!("       load_server --describe");
    exit(2);
}

/// What each server is configured with, for RESULTS.md.
fn describe(name: &str) -> &'static str {
    if let Some(text) = fanout::describe(name) {
        return text;
    }
    match name {
        "raw" => {
            "mio 1 loop, one thread; 256 KiB shared read buffer, write back at once, \
             a per-connection buffer only for what a write did not take; TCP_NODELAY"
        }
        "facade-mio" | "facade-tokio" => {
            "ws::Settings { max_connections: 20_000, max_message_size: 64 MiB, \
             max_frame_size: 64 MiB, max_fragment_size: 64 MiB, fragment_size: 64 MiB \
             (one frame per message), tcp_nodelay: true, frame_hooks: false, \
             permessage_deflate: false, ..default }; handler: on_message(msg) => \
             self.out.send(msg)"
        }
        "native" => {
            "ws_tokio::accept_with_config, Config { max_message_size: 64 MiB, \
             max_frame_size: 64 MiB, ..default } (no fragmentation, no deflate); \
             tokio current-thread runtime, a task per connection: while let Some(msg) = \
             ws.next().await { if data: ws.send(msg).await }; TCP_NODELAY"
        }
        "tungstenite" => {
            "tokio_tungstenite::accept_async_with_config, WebSocketConfig::default() \
             .max_message_size(Some(64 MiB)).max_frame_size(Some(64 MiB)) (read and \
             write buffers 128 KiB, the defaults); tokio current-thread runtime, a task \
             per connection: while let Some(msg) = ws.next().await { if data: \
             ws.send(msg).await }; TCP_NODELAY"
        }
        "fastwebsockets" => {
            "hyper 1 http1 server with upgrades, fastwebsockets::upgrade::upgrade, \
             set_max_message_size(64 MiB), FragmentCollector, echo of every text or \
             binary frame with write_frame, as in its echo_server example (task run \
             under tokio::task::unconstrained); auto pong and close on; tokio \
             current-thread runtime; TCP_NODELAY"
        }
        "tokio-websockets" => {
            "tokio_websockets::ServerBuilder with Config::default().frame_size(usize::MAX) \
             (one frame per message) and Limits max_payload_len 64 MiB, as in its \
             echo_server example; a task per connection run under \
             tokio::task::unconstrained: while let Some(msg) = ws.next().await { if text or \
             binary: ws.send(msg).await }; tokio current-thread runtime; TCP_NODELAY"
        }
        "ws-rs" => {
            "ws 0.9.2 Settings { max_connections: 20_000, fragment_size: 64 MiB (one \
             frame per message), max_fragment_size: usize::MAX (its default), \
             tcp_nodelay: true, ..default } (buffers 2 KiB, growing); handler: \
             on_message(msg) => out.send(msg); no permessage-deflate feature"
        }
        _ => usage(&format!("unknown implementation {name:?}")),
    }
}

fn main() {
    let mut imp = None;
    let mut addr = String::from("127.0.0.1:0");
    let mut threads = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--impl" => imp = Some(args.next().unwrap_or_else(|| usage("--impl needs a value"))),
            "--addr" => addr = args.next().unwrap_or_else(|| usage("--addr needs a value")),
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage("--threads needs a number"));
            }
            "--describe" => {
                for name in SERVERS.iter().chain(&FANOUT_SERVERS) {
                    println!("{name}\t{}", describe(name));
                }
                return;
            }
            "-h" | "--help" => usage("echo servers for benches/load.sh"),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let imp = imp.unwrap_or_else(|| usage("--impl is required"));
    describe(&imp);
    let addr: SocketAddr = addr
        .parse()
        .unwrap_or_else(|e| usage(&format!("bad address: {e}")));
    let result = match imp.as_str() {
        "raw" => raw::serve(addr),
        "facade-mio" => facade::serve(addr, ws::Runtime::Mio, threads),
        "facade-tokio" => facade::serve(addr, ws::Runtime::Tokio, threads),
        _ if threads != 1 => usage("--threads is for facade-mio and facade-tokio"),
        "native" => tokio_servers::serve(addr, tokio_servers::native),
        "tungstenite" => tokio_servers::serve(addr, tokio_servers::tungstenite),
        "fastwebsockets" => tokio_servers::serve(addr, tokio_servers::fastwebsockets),
        "tokio-websockets" => tokio_servers::serve(addr, tokio_servers::tokio_websockets),
        "ws-rs" => ws_rs_server::serve(addr),
        name if FANOUT_SERVERS.contains(&name) => fanout::serve(addr, name),
        _ => unreachable!("checked by describe"),
    };
    if let Err(e) = result {
        eprintln!("load_server {imp}: {e}");
        exit(1);
    }
}

/// Tells the harness where the server listens.
fn ready(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

mod raw {
    use std::io::{self, Read, Write};
    use std::net::SocketAddr;

    use mio::net::{TcpListener, TcpStream};
    use mio::{Events, Interest, Poll, Token};

    use super::BoxError;

    const LISTENER: Token = Token(usize::MAX);

    struct Conn {
        tcp: TcpStream,
        /// What a write did not take; reading waits until it is written.
        pending: Vec<u8>,
    }

    pub(crate) fn serve(addr: SocketAddr) -> Result<(), BoxError> {
        let mut poll = Poll::new()?;
        let mut listener = TcpListener::bind(addr)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        super::ready(listener.local_addr()?);
        let mut conns: slab::Slab<Conn> = slab::Slab::new();
        let mut events = Events::with_capacity(1024);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            if let Err(e) = poll.poll(&mut events, None) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.into());
            }
            for event in &events {
                if event.token() == LISTENER {
                    loop {
                        match listener.accept() {
                            Ok((mut tcp, _)) => {
                                tcp.set_nodelay(true)?;
                                let entry = conns.vacant_entry();
                                poll.registry().register(
                                    &mut tcp,
                                    Token(entry.key()),
                                    Interest::READABLE | Interest::WRITABLE,
                                )?;
                                entry.insert(Conn {
                                    tcp,
                                    pending: Vec::new(),
                                });
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(e) => return Err(e.into()),
                        }
                    }
                    continue;
                }
                let key = event.token().0;
                let done = match conns.get_mut(key) {
                    Some(conn) => pump(conn, &mut buf).is_err(),
                    None => false,
                };
                if done {
                    let mut conn = conns.remove(key);
                    let _ = poll.registry().deregister(&mut conn.tcp);
                }
            }
        }
    }

    /// Writes what is pending, then echoes what can be read, until the
    /// socket would block either way. An error (or EOF) ends the connection.
    fn pump(conn: &mut Conn, buf: &mut [u8]) -> io::Result<()> {
        loop {
            while !conn.pending.is_empty() {
                match conn.tcp.write(&conn.pending) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        conn.pending.drain(..n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            let n = match conn.tcp.read(buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let mut written = 0;
            while written < n {
                match conn.tcp.write(&buf[written..n]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(w) => written += w,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            conn.pending.extend_from_slice(&buf[written..n]);
        }
    }
}

mod facade {
    use std::net::SocketAddr;

    use super::{BoxError, MAX_CONNECTIONS, MAX_MESSAGE};

    pub(crate) fn serve(
        addr: SocketAddr,
        runtime: ws::Runtime,
        threads: usize,
    ) -> Result<(), BoxError> {
        let settings = ws::Settings {
            max_connections: MAX_CONNECTIONS,
            max_message_size: MAX_MESSAGE,
            max_frame_size: MAX_MESSAGE,
            max_fragment_size: MAX_MESSAGE,
            // One frame per message, as the other servers send.
            fragment_size: MAX_MESSAGE,
            tcp_nodelay: true,
            // The handler has no on_frame / on_send_frame.
            frame_hooks: false,
            permessage_deflate: false,
            ..ws::Settings::default()
        };
        let mut builder = ws::Builder::new();
        builder.with_settings(settings).with_runtime(runtime);
        if threads != 1 {
            let server = builder
                .build_threaded(threads, || |out: ws::Sender| move |msg| out.send(msg))?
                .bind(addr)?;
            super::ready(server.local_addr()?);
            server.run()?;
            return Ok(());
        }
        let server = builder
            .build(|out: ws::Sender| move |msg| out.send(msg))?
            .bind(addr)?;
        super::ready(server.local_addr()?);
        server.run()?;
        Ok(())
    }
}

mod tokio_servers {
    use std::future::Future;
    use std::net::SocketAddr;
    use std::sync::Arc;

    use futures_util::{SinkExt, StreamExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::{BoxError, MAX_MESSAGE};

    /// Accepts on a current-thread runtime, one task per connection running
    /// `handle`; a connection's error ends only that connection.
    pub(crate) fn serve<F, Fut>(addr: SocketAddr, handle: F) -> Result<(), BoxError>
    where
        F: Fn(TcpStream) -> Fut,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let listener = TcpListener::bind(addr).await?;
            super::ready(listener.local_addr()?);
            loop {
                let (tcp, _) = listener.accept().await?;
                tcp.set_nodelay(true)?;
                let conn = handle(tcp);
                tokio::spawn(async move {
                    // Peers vanish at the end of every run: nothing to report.
                    let _ = conn.await;
                });
            }
        })
    }

    pub(crate) async fn native(tcp: TcpStream) -> Result<(), BoxError> {
        let config = Arc::new(ws_tokio::Config {
            max_message_size: MAX_MESSAGE,
            max_frame_size: MAX_MESSAGE,
            ..ws_tokio::Config::default()
        });
        let mut ws = ws_tokio::accept_with_config(tcp, config).await?;
        while let Some(msg) = ws.next().await {
            let msg = msg?;
            if msg.is_data() {
                ws.send(msg).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn tungstenite(tcp: TcpStream) -> Result<(), BoxError> {
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let mut ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await?;
        while let Some(msg) = ws.next().await {
            let msg = msg?;
            if msg.is_text() || msg.is_binary() {
                ws.send(msg).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn fastwebsockets(tcp: TcpStream) -> Result<(), BoxError> {
        use fastwebsockets::upgrade;
        use http_body_util::Empty;
        use hyper::body::{Bytes, Incoming};
        use hyper::{Request, Response};

        async fn echo(fut: upgrade::UpgradeFut) -> Result<(), fastwebsockets::WebSocketError> {
            let mut ws = fut.await?;
            ws.set_max_message_size(MAX_MESSAGE);
            let mut ws = fastwebsockets::FragmentCollector::new(ws);
            loop {
                let frame = ws.read_frame().await?;
                match frame.opcode {
                    fastwebsockets::OpCode::Close => break,
                    fastwebsockets::OpCode::Text | fastwebsockets::OpCode::Binary => {
                        ws.write_frame(frame).await?;
                    }
                    _ => {}
                }
            }
            Ok(())
        }

        async fn upgrade(
            mut req: Request<Incoming>,
        ) -> Result<Response<Empty<Bytes>>, fastwebsockets::WebSocketError> {
            let (response, fut) = upgrade::upgrade(&mut req)?;
            tokio::spawn(async move {
                let _ = tokio::task::unconstrained(echo(fut)).await;
            });
            Ok(response)
        }

        let io = hyper_util::rt::TokioIo::new(tcp);
        hyper::server::conn::http1::Builder::new()
            .serve_connection(io, hyper::service::service_fn(upgrade))
            .with_upgrades()
            .await?;
        Ok(())
    }

    pub(crate) async fn tokio_websockets(tcp: TcpStream) -> Result<(), BoxError> {
        // As in its examples/echo_server.rs: every message one frame
        // (frame_size usize::MAX), the echo run unconstrained by tokio's
        // cooperative budget; the payload limit raised to this harness's.
        tokio::task::unconstrained(async move {
            let (_request, mut ws) = tokio_websockets::ServerBuilder::new()
                .config(tokio_websockets::Config::default().frame_size(usize::MAX))
                .limits(tokio_websockets::Limits::default().max_payload_len(Some(MAX_MESSAGE)))
                .accept(tcp)
                .await?;
            while let Some(msg) = ws.next().await {
                let msg = msg?;
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).await?;
                }
            }
            Ok(())
        })
        .await
    }
}

mod ws_rs_server {
    use std::net::SocketAddr;

    use super::{BoxError, MAX_CONNECTIONS, MAX_MESSAGE};

    // The handler's result type is ws-rs's own (a large error).
    #[allow(clippy::result_large_err)]
    pub(crate) fn serve(addr: SocketAddr) -> Result<(), BoxError> {
        let settings = ws_rs::Settings {
            max_connections: MAX_CONNECTIONS,
            // One frame per message (its default splits at 64 KiB).
            fragment_size: MAX_MESSAGE,
            tcp_nodelay: true,
            ..ws_rs::Settings::default()
        };
        let server = ws_rs::Builder::new()
            .with_settings(settings)
            .build(|out: ws_rs::Sender| move |msg| out.send(msg))?
            .bind(addr)?;
        super::ready(server.local_addr()?);
        server.run()?;
        Ok(())
    }
}
