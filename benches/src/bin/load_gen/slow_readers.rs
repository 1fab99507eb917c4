//! `--slow-readers`: `--conns` connections send `--size`-byte binary
//! messages as fast as the server takes them and never read an echo, while
//! one more connection echoes a 20 B text message in a closed loop beside
//! them. For `--duration` seconds the server's VmRSS is sampled every
//! 100 ms. A server that bounds what it holds for a peer that does not read
//! levels off; one that does not grows until the readers' bytes run out
//! (each sends at most `MAX_PER_READER`).

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ws_benches::load::{self, EchoReader, Report};

use crate::{Opts, echo_once, open, usage};

/// What one slow reader sends at the most, so that a server that holds
/// everything cannot take the machine's memory.
const MAX_PER_READER: usize = 64 << 20;
/// How often the server's RSS is sampled.
const SAMPLE: Duration = Duration::from_millis(100);

pub(crate) fn run(o: &Opts, report: &mut Report) {
    let pid = o
        .server_pid
        .unwrap_or_else(|| usage("--slow-readers needs --server-pid"));
    let rss = || load::rss_kib(pid).unwrap_or(0);
    let before = rss();
    let small = load::payload(20, load::TEXT);
    let small_frame = load::masked_frame(load::TEXT, &small, load::MASK);
    let mut reader = EchoReader::websocket(load::TEXT, small, true);
    let setup = open(o).and_then(|healthy| {
        // One echo before the readers start: the connection works.
        echo_once(&healthy, &small_frame, &mut reader)?;
        let readers = (0..o.conns)
            .map(|_| open(o))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((healthy, readers))
    });
    let (healthy, readers) = match setup {
        Ok(conns) => conns,
        Err(e) => {
            report
                .bool("ok", false)
                .num("messages", 0.0)
                .str("error", &e);
            return;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let payload = load::payload(o.size.max(1), load::BINARY);
    let frame = Arc::new(load::masked_frame(load::BINARY, &payload, load::MASK));
    for tcp in readers {
        let (stop, frame) = (stop.clone(), frame.clone());
        thread::spawn(move || flood(tcp, &frame, &stop));
    }
    let echoes = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut rtts = Vec::new();
            let mut error = None;
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                reader.reset();
                match echo_once(&healthy, &small_frame, &mut reader) {
                    Ok(()) => rtts.push(sent.elapsed().as_nanos() as u64),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            (rtts, error)
        })
    };
    let start = Instant::now();
    let mut series = Vec::new();
    let mut peak = before;
    while start.elapsed().as_secs_f64() < o.duration {
        thread::sleep(SAMPLE);
        let kib = rss();
        peak = peak.max(kib);
        series.push(format!("{:.1}:{kib}", start.elapsed().as_secs_f64()));
    }
    stop.store(true, Ordering::Relaxed);
    let (mut rtts, error) = echoes.join().unwrap_or_default();
    rtts.sort_unstable();
    let growth = peak.saturating_sub(before) as f64 * 1024.0;
    report
        .bool("ok", error.is_none())
        .num("messages", rtts.len() as f64)
        .num("readers", o.conns as f64)
        .num("rss_before_kib", before as f64)
        .num("rss_peak_kib", peak as f64)
        .num(
            "growth_per_reader_mib",
            growth / o.conns as f64 / f64::from(1 << 20),
        )
        .num("healthy_msgs_per_s", rtts.len() as f64 / o.duration)
        .num("healthy_p99_us", load::percentile(&rtts, 99.0) as f64 / 1e3)
        .num(
            "healthy_max_us",
            rtts.last().copied().unwrap_or(0) as f64 / 1e3,
        )
        .str("rss_series", &series.join(" "))
        .str("error", error.as_deref().unwrap_or(""));
}

/// Writes `frame` again and again, never reading, until `stop`, an error,
/// or `MAX_PER_READER` bytes.
fn flood(mut tcp: TcpStream, frame: &[u8], stop: &AtomicBool) {
    // Short write timeouts, so that a blocked writer sees `stop`.
    let _ = tcp.set_write_timeout(Some(Duration::from_millis(200)));
    let mut sent = 0;
    let mut at = 0;
    while sent < MAX_PER_READER && !stop.load(Ordering::Relaxed) {
        match tcp.write(&frame[at..]) {
            Ok(0) => return,
            Ok(n) => {
                sent += n;
                at = (at + n) % frame.len();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
    // Hold the connection open, still not reading, until the end.
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(50));
    }
}
