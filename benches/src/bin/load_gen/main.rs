//! The load generator of `benches/load.sh`: drives one echo server with one
//! load and prints one line of JSON with what it measured.
//!
//!     load_gen --addr ADDR --conns N --size BYTES [--text | --utf8] [--raw]
//!              [--warmup S] [--duration S] [--min-messages N] [--max-window S]
//!              [--server-pid PID] [--no-verify]
//!     load_gen --idle --addr ADDR --conns N [--idle-secs S] [--raw] --server-pid PID
//!     load_gen --slow-readers --addr ADDR --conns N --size BYTES [--duration S]
//!              --server-pid PID
//!     load_gen --fanout --addr ADDR --conns N --size BYTES [--warmup S] [--duration S]
//!              [--min-messages N] [--max-window S] [--server-pid PID]
//!
//! Closed loop (default): N connections, each with one message in flight:
//! write the message, wait for the whole echo, record the round trip, write
//! it again. After the warm-up it measures for `--duration` seconds (longer,
//! up to `--max-window`, until `--min-messages` have come back): messages/s,
//! MiB/s of payload echoed, round-trip p50/p99, and the server's CPU time
//! (its threads' schedstat) over the window per message. It also reports
//! how busy the server and the generator kept their cores over the window
//! (`server_cpu_util`, `gen_cpu_util`: a generator near 1.0 set the pace)
//! and, roughly, how many cores everything else kept busy
//! (`other_cpu_util`, from /proc/stat: other processes, hypervisor steal).
//!
//! A text message (`--text`) is ASCII letters; `--utf8` sends a text message
//! of mixed one- to four-byte UTF-8 characters instead (Latin, Greek,
//! Cyrillic, CJK, emoji), which a server must validate character by
//! character.
//!
//! Idle (`--idle`): opens N connections one after the other, each doing the
//! handshake and echoing one 20 B text message, leaves them idle for
//! `--idle-secs`, and reports the server's VmRSS growth per connection.
//!
//! Slow readers (`--slow-readers`): see [`slow_readers`]; the server's RSS
//! over time while N peers send and never read, and how a healthy client
//! beside them fares.
//!
//! Fan-out (`--fanout`): see [`fanout`]; N subscribers of one topic, one
//! of them publishing numbered messages with a bounded window, every
//! delivery checked; deliveries/s and the server's CPU per delivery.
//!
//! The client does the same small work for every server: one frame per load
//! is encoded and masked once, then written again and again; echoes are
//! parsed (headers only) and compared with what was sent. With `--raw` the
//! server is a TCP echo: the handshake is skipped and a message is back when
//! all its bytes are.
//!
//! Errors (a refused handshake, a wrong or short echo, a closed connection)
//! end the connection, are counted in the report and make `ok` false; the
//! exit status is 0 whenever a report was printed.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::process::exit;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use ws_benches::load::{self, EchoReader, Report};

mod fanout;
mod slow_readers;

struct Opts {
    addr: SocketAddr,
    conns: usize,
    size: usize,
    opcode: u8,
    utf8: bool,
    raw: bool,
    verify: bool,
    warmup: f64,
    duration: f64,
    min_messages: u64,
    max_window: f64,
    server_pid: Option<u32>,
    idle: bool,
    idle_secs: f64,
    slow_readers: bool,
    fanout: bool,
}

fn usage(msg: &str) -> ! {
    eprintln!("load_gen: {msg}");
    eprintln!(
        "usage: load_gen --addr ADDR --conns N --size BYTES [--text | --utf8] [--raw] [--warmup S] \
         [--duration S] [--min-messages N] [--max-window S] [--server-pid PID] [--no-verify]\n\
         \x20      load_gen --idle --addr ADDR --conns N [--idle-secs S] [--raw] [--server-pid PID]\n\
         \x20      load_gen --slow-readers --addr ADDR --conns N --size BYTES [--duration S] \
         --server-pid PID\n\
         \x20      load_gen --fanout --addr ADDR --conns N --size BYTES [--warmup S] \
         [--duration S] [--min-messages N] [--max-window S] [--server-pid PID]"
    );
    exit(2);
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        addr: SocketAddr::from(([127, 0, 0, 1], 9002)),
        conns: 100,
        size: 20,
        opcode: load::BINARY,
        utf8: false,
        raw: false,
        verify: true,
        warmup: 0.5,
        duration: 3.0,
        min_messages: 5,
        max_window: 60.0,
        server_pid: None,
        idle: false,
        idle_secs: 2.0,
        slow_readers: false,
        fanout: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        fn num<T: std::str::FromStr>(name: &str, v: String) -> T {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("bad value for {name}: {v:?}")))
        }
        match arg.as_str() {
            "--addr" => o.addr = num(&arg, value(&arg)),
            "--conns" => o.conns = num(&arg, value(&arg)),
            "--size" => o.size = num(&arg, value(&arg)),
            "--text" => o.opcode = load::TEXT,
            "--utf8" => {
                o.opcode = load::TEXT;
                o.utf8 = true;
            }
            "--binary" => o.opcode = load::BINARY,
            "--raw" => o.raw = true,
            "--no-verify" => o.verify = false,
            "--warmup" => o.warmup = num(&arg, value(&arg)),
            "--duration" => o.duration = num(&arg, value(&arg)),
            "--min-messages" => o.min_messages = num(&arg, value(&arg)),
            "--max-window" => o.max_window = num(&arg, value(&arg)),
            "--server-pid" => o.server_pid = Some(num(&arg, value(&arg))),
            "--idle" => o.idle = true,
            "--idle-secs" => o.idle_secs = num(&arg, value(&arg)),
            "--slow-readers" => o.slow_readers = true,
            "--fanout" => o.fanout = true,
            "-h" | "--help" => usage("load generator for benches/load.sh"),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if o.conns == 0 {
        usage("--conns must be at least 1");
    }
    o
}

fn main() {
    let o = parse_opts();
    let payload = if o.utf8 {
        load::mixed_utf8(o.size)
    } else {
        load::payload(o.size, o.opcode)
    };
    let frame = load::masked_frame(o.opcode, &payload, load::MASK);
    let reader = if o.raw {
        EchoReader::raw(frame.clone(), o.verify)
    } else {
        EchoReader::websocket(o.opcode, payload, o.verify)
    };
    let mut report = Report::default();
    report
        .num("conns", o.conns as f64)
        .num("size", o.size as f64)
        .str(
            "opcode",
            match (o.opcode, o.utf8) {
                (load::TEXT, true) => "text, mixed UTF-8",
                (load::TEXT, false) => "text",
                _ => "binary",
            },
        );
    if o.fanout {
        fanout::run(&o, &mut report);
    } else if o.slow_readers {
        slow_readers::run(&o, &mut report);
    } else if o.idle {
        idle(&o, &frame, reader, &mut report);
    } else {
        closed_loop(&o, &frame, reader, &mut report);
    }
    println!("{}", report.to_json());
}

/// Connects and does the opening handshake (unless raw), blocking.
fn open(o: &Opts) -> Result<StdStream, String> {
    let tcp = StdStream::connect_timeout(&o.addr, Duration::from_secs(10))
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    if o.raw {
        return Ok(tcp);
    }
    (&tcp)
        .write_all(load::handshake_request(&o.addr.to_string()).as_bytes())
        .map_err(|e| format!("handshake write: {e}"))?;
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 1024];
    loop {
        let n = (&tcp)
            .read(&mut buf)
            .map_err(|e| format!("handshake read: {e}"))?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = load::head_end(&head) {
            load::check_response(&head[..end])?;
            if end != head.len() {
                return Err("data after the handshake response, before any message".into());
            }
            return Ok(tcp);
        }
        if head.len() > 16 * 1024 {
            return Err("handshake response too long".into());
        }
    }
}

/// One message on a blocking connection: write it, read the whole echo.
fn echo_once(tcp: &StdStream, frame: &[u8], reader: &mut EchoReader) -> Result<(), String> {
    let mut tcp = tcp;
    tcp.write_all(frame).map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before the echo".into());
        }
        match reader.feed(&buf[..n])? {
            0 => {}
            1 => return Ok(()),
            n => return Err(format!("{n} echoes for one message")),
        }
    }
}

fn idle(o: &Opts, frame: &[u8], mut reader: EchoReader, report: &mut Report) {
    let pid = o
        .server_pid
        .unwrap_or_else(|| usage("--idle needs --server-pid"));
    let before = load::rss_kib(pid).unwrap_or_else(|e| {
        eprintln!("load_gen: VmRSS of {pid}: {e}");
        exit(1)
    });
    let start = Instant::now();
    let mut open_conns = Vec::with_capacity(o.conns);
    let mut error = None;
    for _ in 0..o.conns {
        let conn = open(o).and_then(|tcp| {
            reader.reset();
            echo_once(&tcp, frame, &mut reader).map(|()| tcp)
        });
        match conn {
            Ok(tcp) => open_conns.push(tcp),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let opened = open_conns.len();
    let connect_secs = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs_f64(o.idle_secs));
    let after = load::rss_kib(pid).unwrap_or(0);
    let per_conn = (after as f64 - before as f64) * 1024.0 / opened.max(1) as f64;
    report
        .bool("ok", error.is_none() && opened == o.conns)
        .num("messages", opened as f64)
        .num("opened", opened as f64)
        .num("connect_secs", connect_secs)
        .num("rss_before_kib", before as f64)
        .num("rss_after_kib", after as f64)
        .num("rss_per_conn_bytes", per_conn)
        .num("errors", f64::from(u8::from(error.is_some())))
        .str("error", error.as_deref().unwrap_or(""));
    drop(open_conns);
}

struct Conn {
    tcp: TcpStream,
    reader: EchoReader,
    /// How much of the current message is written.
    written: usize,
    sent_at: Instant,
    echoes: u64,
    alive: bool,
}

struct Window {
    start: Instant,
    cpu_start: Option<u64>,
    own_cpu_start: u64,
    busy_start: u64,
    messages: u64,
    rtts: Vec<u64>,
}

fn closed_loop(o: &Opts, frame: &[u8], reader: EchoReader, report: &mut Report) {
    let mut conns = Vec::with_capacity(o.conns);
    let mut errors = 0u64;
    let mut first_error = String::new();
    let mut fail = |e: String, errors: &mut u64| {
        if first_error.is_empty() {
            first_error = e;
        }
        *errors += 1;
    };
    let poll = Poll::new().expect("poll");
    for i in 0..o.conns {
        match open(o) {
            Ok(tcp) => {
                tcp.set_nonblocking(true).expect("nonblocking");
                let mut tcp = TcpStream::from_std(tcp);
                poll.registry()
                    .register(&mut tcp, Token(i), Interest::READABLE | Interest::WRITABLE)
                    .expect("register");
                conns.push(Conn {
                    tcp,
                    reader: reader.clone(),
                    written: 0,
                    sent_at: Instant::now(),
                    echoes: 0,
                    alive: true,
                });
            }
            Err(e) => {
                fail(e, &mut errors);
                break;
            }
        }
    }
    let opened = conns.len();
    let mut poll = poll;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    let mut alive = 0;
    if opened == o.conns {
        for c in &mut conns {
            if let Err(e) = send(c, frame) {
                c.alive = false;
                fail(e, &mut errors);
            }
        }
        alive = conns.iter().filter(|c| c.alive).count();
    }
    let start = Instant::now();
    let warmup_end = start + Duration::from_secs_f64(o.warmup);
    let mut window: Option<Window> = None;
    let mut end = None;
    while alive > 0 {
        let now = Instant::now();
        if window.is_none() && now >= warmup_end {
            window = Some(Window {
                start: now,
                cpu_start: o.server_pid.and_then(|p| load::cpu_ns(p).ok()),
                own_cpu_start: load::cpu_ns(std::process::id()).unwrap_or(0),
                busy_start: load::system_busy_ns().unwrap_or(0),
                messages: 0,
                rtts: Vec::with_capacity(1 << 20),
            });
        }
        if let Some(w) = &window {
            let elapsed = now.duration_since(w.start).as_secs_f64();
            if (elapsed >= o.duration && w.messages >= o.min_messages) || elapsed >= o.max_window {
                end = Some(now);
                break;
            }
        }
        let timeout = match &window {
            None => warmup_end.saturating_duration_since(now),
            Some(w) => (w.start + Duration::from_secs_f64(o.duration))
                .saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        };
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            panic!("poll: {e}");
        }
        for event in &events {
            let c = &mut conns[event.token().0];
            if !c.alive {
                continue;
            }
            let result = if event.is_writable() && c.written < frame.len() {
                send(c, frame)
            } else {
                Ok(())
            };
            let result = result.and_then(|()| {
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    receive(c, frame, &mut buf, &mut window)
                } else {
                    Ok(())
                }
            });
            if let Err(e) = result {
                c.alive = false;
                alive -= 1;
                let _ = poll.registry().deregister(&mut c.tcp);
                fail(e, &mut errors);
            }
        }
    }
    let end = end.unwrap_or_else(Instant::now);
    let starved = conns.iter().filter(|c| c.echoes == 0).count() + (o.conns - opened);
    let (secs, messages, cpu, own_cpu, busy, mut rtts) = match window {
        Some(w) => {
            let cpu_end = o.server_pid.and_then(|p| load::cpu_ns(p).ok());
            let own_cpu = load::cpu_ns(std::process::id())
                .unwrap_or(0)
                .saturating_sub(w.own_cpu_start);
            let busy = load::system_busy_ns()
                .unwrap_or(0)
                .saturating_sub(w.busy_start);
            let cpu = match (w.cpu_start, cpu_end) {
                (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                _ => None,
            };
            (
                end.duration_since(w.start).as_secs_f64(),
                w.messages,
                cpu,
                own_cpu,
                busy,
                w.rtts,
            )
        }
        None => (0.0, 0, None, 0, 0, Vec::new()),
    };
    rtts.sort_unstable();
    let rate = if secs > 0.0 {
        messages as f64 / secs
    } else {
        0.0
    };
    report
        .bool("ok", errors == 0 && messages > 0 && opened == o.conns)
        .num("messages", messages as f64)
        .num("secs", secs)
        .num("msgs_per_s", rate)
        .num("mib_per_s", rate * o.size as f64 / f64::from(1 << 20))
        .num("p50_us", load::percentile(&rtts, 50.0) as f64 / 1e3)
        .num("p99_us", load::percentile(&rtts, 99.0) as f64 / 1e3)
        .num("starved", starved as f64)
        .num(
            // Cores kept busy by everything else on the machine (other
            // processes, steal by the hypervisor), roughly: /proc/stat counts
            // in 10 ms ticks.
            "other_cpu_util",
            if secs > 0.0 {
                (busy as f64 - own_cpu as f64 - cpu.unwrap_or(0) as f64).max(0.0) / 1e9 / secs
            } else {
                0.0
            },
        )
        .num(
            "gen_cpu_util",
            if secs > 0.0 {
                own_cpu as f64 / 1e9 / secs
            } else {
                0.0
            },
        )
        .num("errors", errors as f64)
        .str("error", &first_error);
    if let Some(cpu) = cpu {
        report
            .num("server_cpu_s", cpu as f64 / 1e9)
            .num(
                "server_cpu_util",
                if secs > 0.0 {
                    cpu as f64 / 1e9 / secs
                } else {
                    0.0
                },
            )
            .num(
                "cpu_us_per_msg",
                if messages > 0 {
                    cpu as f64 / 1e3 / messages as f64
                } else {
                    f64::NAN
                },
            );
    }
}

/// Writes as much of the current message as the socket takes.
fn send(c: &mut Conn, frame: &[u8]) -> Result<(), String> {
    while c.written < frame.len() {
        match c.tcp.write(&frame[c.written..]) {
            Ok(0) => return Err("write returned 0".into()),
            Ok(n) => c.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("write: {e}")),
        }
    }
    Ok(())
}

/// Reads until the socket would block; each complete echo is counted and
/// the next message is sent at once.
fn receive(
    c: &mut Conn,
    frame: &[u8],
    buf: &mut [u8],
    window: &mut Option<Window>,
) -> Result<(), String> {
    loop {
        let n = match c.tcp.read(buf) {
            Ok(0) => return Err("the server closed the connection".into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read: {e}")),
        };
        // A short read emptied the socket's receive queue: whatever comes
        // next raises a new (edge-triggered) event, so the read that would
        // only say WouldBlock is skipped, one system call per message less.
        let drained = n < buf.len();
        match c.reader.feed(&buf[..n])? {
            0 => {}
            1 => {
                if c.written < frame.len() {
                    return Err("echo complete before the message was written".into());
                }
                let now = Instant::now();
                c.echoes += 1;
                if let Some(w) = window {
                    w.messages += 1;
                    w.rtts.push(now.duration_since(c.sent_at).as_nanos() as u64);
                }
                c.written = 0;
                c.sent_at = now;
                send(c, frame)?;
            }
            n => return Err(format!("{n} echoes for one message")),
        }
        if drained {
            return Ok(());
        }
    }
}
