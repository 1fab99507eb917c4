//! `--fanout`: `--conns` subscribers of one topic; the first connection
//! publishes `--size`-byte numbered binary messages, at most
//! [`WINDOW`] outstanding (message `k` goes out once every subscriber has
//! message `k - WINDOW`; see [`ws_benches::fanout`]), so the server
//! delivers as fast as its slowest subscriber reads and can never queue
//! more than `WINDOW x conns` deliveries. Every subscriber checks every
//! message: whole, binary, the expected bytes, numbered one more than the
//! one before.
//!
//! After the warm-up it measures for `--duration` seconds (longer, up to
//! `--max-window`, until `--min-messages` deliveries): deliveries/s, the
//! server's CPU time (its threads' schedstat) per delivery and deliveries
//! per CPU-second, and the server's VmRSS at the end. Any failed
//! subscriber, or no delivery for [`STALL`], ends the run with `ok` false.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use ws_benches::fanout::{FanoutReader, WINDOW, numbered_payload};
use ws_benches::load::{self, Report};

use crate::{Opts, open};

/// How long without any delivery before the run is given up: a server
/// that lost a message for a subscriber never lets the window move.
const STALL: Duration = Duration::from_secs(10);

struct Sub {
    tcp: TcpStream,
    reader: FanoutReader,
}

/// The publisher's pending bytes (on the first connection).
#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    at: usize,
}

impl Out {
    fn write(&mut self, tcp: &mut TcpStream) -> Result<(), String> {
        while self.at < self.buf.len() {
            match tcp.write(&self.buf[self.at..]) {
                Ok(0) => return Err("write returned 0".into()),
                Ok(n) => self.at += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("publisher write: {e}")),
            }
        }
        self.buf.clear();
        self.at = 0;
        Ok(())
    }
}

/// The closed loop's state: which messages every subscriber has.
struct Progress {
    conns: u32,
    /// Subscribers that have message `seq`, at `seq % WINDOW`, for `seq`
    /// in `complete..published`.
    have: [u32; WINDOW as usize],
    /// Messages every subscriber has.
    complete: u64,
    published: u64,
}

impl Progress {
    fn received(&mut self, seq: u64) {
        self.have[(seq % WINDOW) as usize] += 1;
        while self.complete < self.published
            && self.have[(self.complete % WINDOW) as usize] == self.conns
        {
            self.have[(self.complete % WINDOW) as usize] = 0;
            self.complete += 1;
        }
    }

    /// Frames the messages the window allows now onto the publisher.
    fn publish(&mut self, out: &mut Out, size: usize) {
        while self.published < self.complete + WINDOW {
            let p = numbered_payload(self.published, size);
            out.buf
                .extend(load::masked_frame(load::BINARY, &p, load::MASK));
            self.published += 1;
        }
    }
}

struct Window {
    start: Instant,
    cpu_start: Option<u64>,
    own_cpu_start: u64,
    busy_start: u64,
    deliveries: u64,
    complete_start: u64,
}

pub(crate) fn run(o: &Opts, report: &mut Report) {
    let mut error = String::new();
    let poll = Poll::new().expect("poll");
    let mut subs = Vec::with_capacity(o.conns);
    for i in 0..o.conns {
        match open(o) {
            Ok(tcp) => {
                tcp.set_nonblocking(true).expect("nonblocking");
                let mut tcp = TcpStream::from_std(tcp);
                poll.registry()
                    .register(&mut tcp, Token(i), Interest::READABLE | Interest::WRITABLE)
                    .expect("register");
                subs.push(Sub {
                    tcp,
                    reader: FanoutReader::new(o.size),
                });
            }
            Err(e) => {
                error = format!("connection {i}: {e}");
                break;
            }
        }
    }
    let opened = subs.len();
    let mut poll = poll;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    let mut progress = Progress {
        conns: opened as u32,
        have: [0; WINDOW as usize],
        complete: 0,
        published: 0,
    };
    let mut out = Out::default();
    let start = Instant::now();
    let warmup_end = start + Duration::from_secs_f64(o.warmup);
    let mut window: Option<Window> = None;
    let mut end = None;
    let mut last_delivery = Instant::now();
    if error.is_empty() {
        progress.publish(&mut out, o.size);
        if let Err(e) = out.write(&mut subs[0].tcp) {
            error = e;
        }
    }
    while error.is_empty() {
        let now = Instant::now();
        if window.is_none() && now >= warmup_end {
            window = Some(Window {
                start: now,
                cpu_start: o.server_pid.and_then(|p| load::cpu_ns(p).ok()),
                own_cpu_start: load::cpu_ns(std::process::id()).unwrap_or(0),
                busy_start: load::system_busy_ns().unwrap_or(0),
                deliveries: 0,
                complete_start: progress.complete,
            });
        }
        if let Some(w) = &window {
            let elapsed = now.duration_since(w.start).as_secs_f64();
            if (elapsed >= o.duration && w.deliveries >= o.min_messages) || elapsed >= o.max_window
            {
                end = Some(now);
                break;
            }
        }
        if now.duration_since(last_delivery) > STALL {
            let behind = subs
                .iter()
                .position(|s| s.reader.received() == progress.complete)
                .unwrap_or(0);
            error = format!(
                "stalled: no delivery for {} s; subscriber {behind} has {} of {} messages",
                STALL.as_secs(),
                progress.complete,
                progress.published
            );
            break;
        }
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_millis(100))) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            panic!("poll: {e}");
        }
        for event in &events {
            let i = event.token().0;
            let sub = &mut subs[i];
            let mut result = Ok(());
            if i == 0 && event.is_writable() {
                result = out.write(&mut sub.tcp);
            }
            if result.is_ok() && (event.is_readable() || event.is_read_closed() || event.is_error())
            {
                let before = sub.reader.received();
                result = receive(sub, &mut buf);
                let after = sub.reader.received();
                if after > before {
                    last_delivery = Instant::now();
                    if let Some(w) = &mut window {
                        w.deliveries += after - before;
                    }
                    for seq in before..after {
                        progress.received(seq);
                    }
                    progress.publish(&mut out, o.size);
                    if result.is_ok() {
                        result = out.write(&mut subs[0].tcp);
                    }
                }
            }
            if let Err(e) = result {
                error = format!("subscriber {i}: {e}");
                break;
            }
        }
    }
    let end = end.unwrap_or_else(Instant::now);
    let rss_end = o.server_pid.and_then(|p| load::rss_kib(p).ok());
    let starved = subs.iter().filter(|s| s.reader.received() == 0).count() + (o.conns - opened);
    let least = subs.iter().map(|s| s.reader.received()).min().unwrap_or(0);
    let (secs, deliveries, complete, cpu, own_cpu, busy) = match &window {
        Some(w) => {
            let cpu = match (w.cpu_start, o.server_pid.and_then(|p| load::cpu_ns(p).ok())) {
                (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                _ => None,
            };
            (
                end.duration_since(w.start).as_secs_f64(),
                w.deliveries,
                progress.complete - w.complete_start,
                cpu,
                load::cpu_ns(std::process::id())
                    .unwrap_or(0)
                    .saturating_sub(w.own_cpu_start),
                load::system_busy_ns()
                    .unwrap_or(0)
                    .saturating_sub(w.busy_start),
            )
        }
        None => (0.0, 0, 0, None, 0, 0),
    };
    let per_s = |v: f64| if secs > 0.0 { v / secs } else { 0.0 };
    report
        .bool(
            "ok",
            error.is_empty() && deliveries > 0 && opened == o.conns && least >= progress.complete,
        )
        .num("window", WINDOW as f64)
        .num("messages", deliveries as f64)
        .num("deliveries", deliveries as f64)
        .num("published_to_all", complete as f64)
        .num("least_received", least as f64)
        .num("secs", secs)
        .num("deliveries_per_s", per_s(deliveries as f64))
        .num("starved", starved as f64)
        .num(
            "other_cpu_util",
            per_s((busy as f64 - own_cpu as f64 - cpu.unwrap_or(0) as f64).max(0.0) / 1e9),
        )
        .num("gen_cpu_util", per_s(own_cpu as f64 / 1e9))
        .num("errors", f64::from(u8::from(!error.is_empty())))
        .str("error", &error);
    if let Some(kib) = rss_end {
        report.num("rss_end_kib", kib as f64);
    }
    if let Some(cpu) = cpu {
        let cpu_s = cpu as f64 / 1e9;
        report
            .num("server_cpu_s", cpu_s)
            .num("server_cpu_util", per_s(cpu_s))
            .num(
                "cpu_us_per_delivery",
                if deliveries > 0 {
                    cpu as f64 / 1e3 / deliveries as f64
                } else {
                    f64::NAN
                },
            )
            .num(
                "deliveries_per_cpu_s",
                if cpu_s > 0.0 {
                    deliveries as f64 / cpu_s
                } else {
                    f64::NAN
                },
            );
    }
}

/// Reads until the socket would block, checking every message.
fn receive(sub: &mut Sub, buf: &mut [u8]) -> Result<(), String> {
    loop {
        let n = match sub.tcp.read(buf) {
            Ok(0) => return Err("the server closed the connection".into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read: {e}")),
        };
        sub.reader.feed(&buf[..n])?;
        // A short read emptied the receive queue (see `receive` in main).
        if n < buf.len() {
            return Ok(());
        }
    }
}
