//! The markdown of `RESULTS.md`: the medians of every server under every
//! load, with their ratios to raw TCP and to the best peer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use ws_benches::load::{Report, median};

use ws_benches::fanout::{FANOUT_PEER, WINDOW};

use crate::{FANOUT_LOAD, FANOUT_OURS, Harness, Load, OURS, Opts, PEERS, read_trim, run_text};

/// Three significant digits, with k and M for thousands and millions.
pub(crate) fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let sig = |x: f64| {
        let a = x.abs();
        if a >= 100.0 {
            format!("{x:.0}")
        } else if a >= 10.0 {
            format!("{x:.1}")
        } else {
            format!("{x:.2}")
        }
    };
    match v.abs() {
        a if a >= 1e6 => format!("{}M", sig(v / 1e6)),
        a if a >= 1e4 => format!("{}k", sig(v / 1e3)),
        _ => sig(v),
    }
}

/// Thousands separated by commas.
pub(crate) fn group(v: f64) -> String {
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

pub(crate) struct Metric {
    pub(crate) key: &'static str,
    pub(crate) name: &'static str,
    pub(crate) higher_is_better: bool,
    pub(crate) ratios: bool,
}

pub(crate) const THROUGHPUT: [Metric; 6] = [
    Metric {
        key: "msgs_per_s",
        name: "messages/s",
        higher_is_better: true,
        ratios: true,
    },
    Metric {
        key: "mib_per_s",
        name: "MiB/s",
        higher_is_better: true,
        ratios: true,
    },
    Metric {
        key: "cpu_us_per_msg",
        name: "server CPU µs/msg",
        higher_is_better: false,
        ratios: true,
    },
    Metric {
        key: "p50_us",
        name: "p50 RTT µs",
        higher_is_better: false,
        ratios: true,
    },
    Metric {
        key: "p99_us",
        name: "p99 RTT µs",
        higher_is_better: false,
        ratios: true,
    },
    // Medians of server_cpu_util, gen_cpu_util and other_cpu_util.
    Metric {
        key: "busy",
        name: "cores busy: server / gen / other",
        higher_is_better: false,
        ratios: false,
    },
];

pub(crate) const IDLE: [Metric; 4] = [
    Metric {
        key: "rss_per_conn_bytes",
        name: "RSS per idle connection, bytes",
        higher_is_better: false,
        ratios: true,
    },
    Metric {
        key: "rss_before_kib",
        name: "RSS before, KiB",
        higher_is_better: false,
        ratios: false,
    },
    Metric {
        key: "rss_after_kib",
        name: "RSS after, KiB",
        higher_is_better: false,
        ratios: false,
    },
    Metric {
        key: "connect_secs",
        name: "connect + echo, s",
        higher_is_better: false,
        ratios: false,
    },
];

pub(crate) const SLOW: [Metric; 4] = [
    Metric {
        key: "growth_per_reader_mib",
        name: "peak RSS growth per slow reader, MiB",
        higher_is_better: false,
        ratios: true,
    },
    Metric {
        key: "rss_peak_kib",
        name: "peak RSS, KiB",
        higher_is_better: false,
        ratios: false,
    },
    Metric {
        key: "healthy_p99_us",
        name: "healthy client p99 RTT µs",
        higher_is_better: false,
        ratios: true,
    },
    Metric {
        key: "healthy_max_us",
        name: "healthy client worst RTT µs",
        higher_is_better: false,
        ratios: false,
    },
];

/// The figures of the fan-out load (f).
pub(crate) const FANOUT: [Metric; 5] = [
    Metric {
        key: "deliveries_per_s",
        name: "deliveries/s",
        higher_is_better: true,
        ratios: true,
    },
    Metric {
        key: "cpu_us_per_delivery",
        name: "server CPU µs/delivery",
        higher_is_better: false,
        ratios: true,
    },
    Metric {
        key: "deliveries_per_cpu_s",
        name: "deliveries per server CPU-second",
        higher_is_better: true,
        ratios: true,
    },
    Metric {
        key: "rss_end_kib",
        name: "server RSS at the end, KiB",
        higher_is_better: false,
        ratios: true,
    },
    Metric {
        key: "busy",
        name: "cores busy: server / gen / other",
        higher_is_better: false,
        ratios: false,
    },
];

pub(crate) type Results = BTreeMap<(String, String), Vec<Report>>;

/// Median, min and max of a metric over a server's successful runs.
pub(crate) fn stats(
    results: &Results,
    load: &str,
    server: &str,
    key: &str,
) -> Option<(f64, f64, f64)> {
    let values: Vec<f64> = results
        .get(&(load.to_string(), server.to_string()))?
        .iter()
        .filter_map(|r| r.get_num(key))
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return None;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((median(&values), min, max))
}

/// The best peer's median for a metric, and which peer it is (for the
/// fan-out load, the one peer that serves it).
pub(crate) fn best_peer(results: &Results, load: &str, m: &Metric) -> Option<(f64, &'static str)> {
    let peers: &[&'static str] = if load == FANOUT_LOAD {
        &[FANOUT_PEER]
    } else {
        &PEERS
    };
    peers
        .iter()
        .filter_map(|p| stats(results, load, p, m.key).map(|s| (s.0, *p)))
        .reduce(|a, b| {
            let b_better = if m.higher_is_better {
                b.0 > a.0
            } else {
                b.0 < a.0
            };
            if b_better { b } else { a }
        })
}

pub(crate) fn ratio(v: f64, reference: Option<f64>) -> String {
    match reference {
        Some(r) if r.abs() > f64::EPSILON && v.is_finite() => format!("{:.2}", v / r),
        _ => "–".into(),
    }
}

/// The number of CPUs and their model name.
pub(crate) fn machine() -> (String, String) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    (run_text("nproc", &[]), model)
}

/// The command that started the run, as the user typed it.
pub(crate) fn command_line(o: &Opts) -> String {
    o.command
        .clone()
        .unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" "))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn render(
    h: &Harness,
    loads: &[Load],
    results: &Results,
    failures: &[String],
    started: &str,
    load_before: &str,
    load_after: &str,
    elapsed: u64,
) -> String {
    let o = &h.o;
    let mut md = String::new();
    let w = &mut md;
    let (nproc, model) = machine();
    let _ = writeln!(w, "# End-to-end load results\n");
    let _ = writeln!(
        w,
        "Written by `benches/load.sh` (issue 8). Do not edit by hand: run it again.\n"
    );
    let _ = writeln!(w, "- Date: {started} (took {elapsed} s)");
    let _ = writeln!(
        w,
        "- Machine: `nproc` = {nproc}, {model}, Linux {}",
        read_trim("/proc/sys/kernel/osrelease")
    );
    let _ = writeln!(
        w,
        "- Load average (/proc/loadavg) before: `{load_before}`, after: `{load_after}`"
    );
    let _ = writeln!(w, "- Command: `{}`", command_line(o));
    let _ = writeln!(w, "- Toolchain: {}", run_text("rustc", &["--version"]));
    let versions = peer_versions();
    if !versions.is_empty() {
        let _ = writeln!(w, "- Peers: {versions}");
    }
    let _ = writeln!(
        w,
        "- Method: {} run{} per server and load, servers interleaved (run 1 of every \
         server, then run 2 ...), a fresh server process per measurement; {}; \
         closed loop, one message in flight per connection; warm-up {} s, then a window of \
         {} s (longer until at least 5 messages are back, for load d); every echo is \
         compared with what was sent, byte for byte.",
        o.runs,
        if o.runs == 1 { "" } else { "s" },
        if h.pin {
            "server pinned to CPU 0 and generator to CPU 1 (`taskset -c`)"
        } else {
            "NOT pinned (taskset unavailable or fewer than 2 CPUs)"
        },
        o.warmup,
        o.duration
    );
    let _ = writeln!(
        w,
        "- Figures: messages/s and MiB/s of payload echoed (one direction); server CPU per \
         message = the server's on-CPU time (sum of `/proc/PID/task/*/schedstat` field 1, \
         sampled by the generator at the window's start and end) / messages; round-trip \
         p50/p99 as the generator sees them. RSS per idle connection = (server VmRSS after \
         every connection did the handshake, echoed one 20 B text message and idled {} s) \
         minus (VmRSS before they connected), / connections.",
        o.idle_secs
    );
    let _ = writeln!(
        w,
        "- Each cell: **median** (min–max) · ratio of the median to the raw TCP ceiling's / \
         to the best peer's (best of tokio-tungstenite, fastwebsockets, tokio-websockets \
         and ws-rs for that \
         figure). For CPU, latency and memory, lower is better, so a ratio below 1 beats \
         the reference.\n"
    );
    let _ = writeln!(
        w,
        "How to read it: with one message in flight per connection the server and the \
         generator mostly take turns (a batch of echoes, then a batch of new messages), so \
         messages/s is about 1 / (server + generator time per message) and neither core \
         need be full; the generator's share is the same for every server. **Server CPU \
         per message** isolates the server and is the steadiest figure here (on-CPU time \
         does not count time lost to other processes). The last column gives how much of \
         its core the server and the generator used, and how many cores everything else \
         kept busy (other processes, hypervisor steal; /proc/stat, 10 ms ticks): a large \
         'other' marks a run disturbed by the rest of the machine, which shows first in \
         messages/s and p99.\n"
    );

    // Summary: our three against the best peer.
    let _ = writeln!(
        w,
        "## Summary: this project's servers, as a ratio to the best peer\n"
    );
    let mut header = String::from("| server |");
    let mut rule = String::from("|---|");
    let mut cols: Vec<(&Load, &Metric)> = Vec::new();
    for load in loads {
        if load.fanout {
            cols.push((load, &FANOUT[2]));
            cols.push((load, &FANOUT[0]));
        } else if load.slow {
            cols.push((load, &SLOW[0]));
        } else if load.idle {
            cols.push((load, &IDLE[0]));
        } else {
            cols.push((load, &THROUGHPUT[0]));
            cols.push((load, &THROUGHPUT[2]));
        }
    }
    for (load, m) in &cols {
        let short = match m.key {
            "msgs_per_s" => "msg/s",
            "cpu_us_per_msg" => "CPU/msg",
            "growth_per_reader_mib" => "RSS/reader",
            "deliveries_per_cpu_s" => "deliveries/CPU-s",
            "deliveries_per_s" => "deliveries/s",
            _ => "RSS/conn",
        };
        let _ = write!(header, " {} {short} |", load.key);
        rule.push_str("---:|");
    }
    let _ = writeln!(w, "{header}\n{rule}");
    let ours = OURS.iter().chain(&FANOUT_OURS);
    for server in ours.filter(|s| o.servers.iter().any(|x| x == *s)) {
        if !cols.iter().any(|(load, _)| load.measures(server)) {
            continue;
        }
        let mut row = format!("| {server} |");
        for (load, m) in &cols {
            let key = load.key;
            let cell = match stats(results, key, server, m.key) {
                _ if !load.measures(server) => "·".into(),
                Some((med, _, _)) => ratio(med, best_peer(results, key, m).map(|b| b.0)),
                None => "failed".into(),
            };
            let _ = write!(row, " {cell} |");
        }
        let _ = writeln!(w, "{row}");
    }
    let _ = writeln!(
        w,
        "\nmsg/s: above 1 is faster than the best peer; CPU/msg and RSS/conn: below 1 is \
         cheaper. Load f is measured by its own servers, against tokio-tungstenite with a \
         `tokio::sync::broadcast` fan-out (·: a server that does not serve that load); \
         deliveries/CPU-s: above 1 is cheaper.\n"
    );

    for load in loads {
        let _ = writeln!(w, "## {}\n", load.title());
        let metrics: &[Metric] = if load.fanout {
            &FANOUT
        } else if load.slow {
            &SLOW
        } else if load.idle {
            &IDLE
        } else {
            &THROUGHPUT
        };
        let mut header = String::from("| server |");
        let mut rule = String::from("|---|");
        for m in metrics {
            let _ = write!(header, " {} |", m.name);
            rule.push_str("---:|");
        }
        let _ = writeln!(w, "{header}\n{rule}");
        for server in o.servers.iter().filter(|s| load.measures(s)) {
            let mut row = format!("| {server} |");
            let runs = results
                .get(&(load.key.to_string(), server.clone()))
                .map_or(0, Vec::len);
            for m in metrics {
                if m.key == "busy" {
                    let pct = |k| {
                        stats(results, load.key, server, k)
                            .map_or("–".to_string(), |s| format!("{:.0}%", s.0 * 100.0))
                    };
                    let _ = write!(
                        row,
                        " {} / {} / {} |",
                        pct("server_cpu_util"),
                        pct("gen_cpu_util"),
                        pct("other_cpu_util")
                    );
                    continue;
                }
                let cell = match stats(results, load.key, server, m.key) {
                    None => format!("failed ({}/{} runs)", o.runs - runs, o.runs),
                    Some((med, min, max)) => {
                        let mut c = if m.key == "rss_per_conn_bytes" || m.key.ends_with("_kib") {
                            format!("**{}** ({}–{})", group(med), group(min), group(max))
                        } else {
                            format!("**{}** ({}–{})", fmt(med), fmt(min), fmt(max))
                        };
                        if m.ratios && load.fanout {
                            let peer = best_peer(results, load.key, m).map(|b| b.0);
                            let _ = write!(c, " · {}", ratio(med, peer));
                        } else if m.ratios {
                            let raw = stats(results, load.key, "raw", m.key).map(|s| s.0);
                            let peer = best_peer(results, load.key, m).map(|b| b.0);
                            let _ = write!(c, " · {} / {}", ratio(med, raw), ratio(med, peer));
                        }
                        if runs < o.runs && m.key == metrics[0].key {
                            let _ = write!(c, " ({}/{} runs failed)", o.runs - runs, o.runs);
                        }
                        c
                    }
                };
                let _ = write!(row, " {cell} |");
            }
            let _ = writeln!(w, "{row}");
        }
        let best: Vec<String> = metrics
            .iter()
            .filter(|m| m.ratios)
            .filter_map(|m| best_peer(results, load.key, m).map(|b| format!("{} {}", m.name, b.1)))
            .collect();
        if !best.is_empty() && !load.fanout {
            let _ = writeln!(w, "\nBest peer: {}.", best.join("; "));
        }
        if load.fanout {
            fanout_notes(w, results, load);
        }
        if load.slow {
            let _ = writeln!(
                w,
                "\n{} peers each send {} binary messages as fast as the server takes them \
                 (at most 64 MiB each) and never read; one more client echoes a 20 B text \
                 message in a closed loop beside them. The server's VmRSS is sampled every \
                 100 ms for {} s (the chart `load-{}.svg`); growth is the peak minus the \
                 RSS before the peers connected. The raw TCP echo has no back-pressure and \
                 is left out.",
                load.conns,
                crate::bytes(load.size),
                o.slow_secs,
                load.key
            );
        }
        let _ = writeln!(w);
    }

    if !failures.is_empty() {
        let _ = writeln!(w, "## Failed measurements\n");
        for f in failures {
            let _ = writeln!(w, "- {f}");
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Server settings\n");
    let _ = writeln!(
        w,
        "All from `benches/examples/load_server/main.rs` (`load_server --describe`). Every \
         WebSocket server echoes text and binary messages with their opcode, takes messages \
         and frames of up to 64 MiB, serves at least 20,000 connections, sends each echo as \
         one frame and compresses nothing. The facade servers run with `frame_hooks: false` \
         (the hooks re-check UTF-8 per message for ws-rs's on_frame API, which an echo does \
         not use).\n"
    );
    let describe = Command::new(&h.load_server)
        .arg("--describe")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    for line in describe.lines() {
        if let Some((name, text)) = line.split_once('\t')
            && o.servers.iter().any(|s| s == name)
        {
            let _ = writeln!(w, "- `{name}`: {text}");
        }
    }
    let _ = writeln!(
        w,
        "\nThe generator (`load_gen`) is the same for every server: one mio loop, handshakes \
         written by hand, one masked frame per load encoded once and written again and \
         again, echoes parsed by their headers and compared with what was sent; for the \
         raw TCP server the echo is the frame's own bytes."
    );
    md
}

/// What load f measures, and the goal as measured.
fn fanout_notes(w: &mut String, results: &Results, load: &Load) {
    let _ = writeln!(
        w,
        "\nEach cell: **median** (min–max) · ratio to {FANOUT_PEER}. {} connections \
         subscribe to one topic (each before its handshake is answered); the first one \
         also publishes: it sends {} binary messages numbered in their first 8 bytes, and \
         the server publishes each binary message it receives to every connection, the \
         publisher included. Closed loop: message k is sent only once every subscriber \
         has received message k - {WINDOW}, so at most {WINDOW} messages are outstanding \
         and a server never holds more than {WINDOW} x {} deliveries; every subscriber \
         checks that each message arrives whole, binary and numbered one more than the \
         one before (a lost, repeated or corrupt message fails the run). A delivery is one \
         message received by one subscriber; server CPU as for the other loads (on-CPU \
         time over the window), RSS at the window's end.",
        group(load.conns as f64),
        crate::bytes(load.size),
        group(load.conns as f64),
    );
    let key = "deliveries_per_cpu_s";
    let median = |s: &str| stats(results, load.key, s, key).map(|v| v.0);
    if let (Some(publish), loop_, peer) = (
        median("native-publish"),
        median("native-loop"),
        median(FANOUT_PEER),
    ) {
        let _ = writeln!(
            w,
            "\nGoal (issue 20), in deliveries per server CPU-second: native-publish at least \
             3x native-loop and ahead of {FANOUT_PEER}. Measured: {} x native-loop, {} x \
             {FANOUT_PEER}.",
            ratio(publish, loop_),
            ratio(publish, peer)
        );
    }
}

/// The versions of the peers in Cargo.lock, if it is at hand.
pub(crate) fn peer_versions() -> String {
    let Ok(lock) = std::fs::read_to_string("Cargo.lock") else {
        return String::new();
    };
    let mut found = Vec::new();
    for block in lock.split("[[package]]") {
        let field = |name: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|r| r.trim().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            continue;
        };
        let registry = field("source").is_some_and(|s| s.starts_with("registry"));
        let wanted = [
            "tokio-tungstenite",
            "tungstenite",
            "fastwebsockets",
            "tokio-websockets",
            "hyper",
            "tokio",
            "mio",
        ];
        if wanted.contains(&name.as_str()) || (name == "ws" && registry) {
            let label = if name == "ws" { "ws (ws-rs)" } else { &name };
            found.push(format!("{label} {version}"));
        }
    }
    found.join(", ")
}
