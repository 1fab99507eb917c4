//! The runner of `benches/load.sh`: starts each echo server in turn (pinned
//! to CPU 0), drives it with `load_gen` (pinned to CPU 1) under each load,
//! and writes the medians to a markdown file.
//!
//!     load_runner [--servers LIST] [--loads LIST] [--runs N] [--duration S]
//!                 [--warmup S] [--idle-conns N] [--out FILE] [--jsonl FILE]
//!                 [--bin-dir DIR] [--no-pin] [--command TEXT] [--smoke]
//!
//! Servers: raw, facade-mio, facade-tokio, native, tungstenite,
//! fastwebsockets, tokio-websockets, ws-rs (`load_server --impl`). Loads:
//! a (100 connections x 20 B text), b (100 x 1 KiB binary), c (10 x 64 KiB
//! binary), d (1 x 16 MiB binary), e (RSS per idle connection, 10,000
//! connections), t (10 x 64 KiB text of mixed one- to four-byte UTF-8
//! characters) and u (100 x 1 KiB of the same text).
//!
//! For each load, run 1 measures every server, then run 2 every server
//! again, and so on, so that drift on a shared machine hits all alike. Each
//! measurement gets a fresh server process.
//!
//! `--smoke` is the CI check: tiny loads, one run, short windows; it fails
//! (exit status 1) if any server under any load echoes nothing, echoes wrong
//! bytes, leaves a connection without an echo, or dies. A full run also
//! exits with 1 if any measurement failed, after writing its file.
//!
//! Binaries are looked for beside this one: `load_gen`, and `load_server`
//! in `examples/` (what `cargo build --release -p ws-benches --bins
//! --examples` produces); `--bin-dir` points elsewhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio, exit};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ws_benches::load::{Report, SERVERS, median};

const PEERS: [&str; 4] = ["tungstenite", "fastwebsockets", "tokio-websockets", "ws-rs"];
const OURS: [&str; 3] = ["facade-mio", "facade-tokio", "native"];
const LOADS: [&str; 7] = ["a", "b", "c", "d", "t", "u", "e"];

#[derive(Clone, Debug)]
struct Load {
    key: &'static str,
    conns: usize,
    size: usize,
    text: bool,
    /// Text of mixed one- to four-byte characters (`load_gen --utf8`), not
    /// ASCII.
    utf8: bool,
    idle: bool,
    min_messages: u64,
}

impl Load {
    fn title(&self) -> String {
        if self.idle {
            format!(
                "({}) RSS per idle connection, {} connections",
                self.key,
                group(self.conns as f64)
            )
        } else {
            format!(
                "({}) {} connection{} x {} {}",
                self.key,
                group(self.conns as f64),
                if self.conns == 1 { "" } else { "s" },
                bytes(self.size),
                match (self.text, self.utf8) {
                    (true, true) => "text, mixed UTF-8",
                    (true, false) => "text",
                    (false, _) => "binary",
                }
            )
        }
    }
}

fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

struct Opts {
    servers: Vec<String>,
    loads: Vec<String>,
    runs: usize,
    duration: f64,
    warmup: f64,
    idle_conns: usize,
    idle_secs: f64,
    max_window: f64,
    smoke: bool,
    out: Option<PathBuf>,
    jsonl: Option<PathBuf>,
    bin_dir: PathBuf,
    pin: bool,
    command: Option<String>,
}

fn usage(msg: &str) -> ! {
    eprintln!("load_runner: {msg}");
    eprintln!(
        "usage: load_runner [--servers LIST] [--loads LIST] [--runs N] [--duration S] \
         [--warmup S] [--idle-conns N] [--out FILE] [--jsonl FILE] [--bin-dir DIR] \
         [--no-pin] [--command TEXT] [--smoke]\n\
         servers: {}\nloads: {}",
        SERVERS.join(","),
        LOADS.join(",")
    );
    exit(2);
}

fn list(v: &str, allowed: &[&str], what: &str) -> Vec<String> {
    let items: Vec<String> = v.split(',').map(str::trim).map(String::from).collect();
    for item in &items {
        if !allowed.contains(&item.as_str()) {
            usage(&format!("unknown {what} {item:?}"));
        }
    }
    // Keep the canonical order, whatever order they were given in.
    allowed
        .iter()
        .filter(|a| items.iter().any(|i| i == *a))
        .map(|a| a.to_string())
        .collect()
}

fn parse_opts() -> Opts {
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut o = Opts {
        servers: SERVERS.iter().map(|s| s.to_string()).collect(),
        loads: LOADS.iter().map(|s| s.to_string()).collect(),
        runs: 3,
        duration: 3.0,
        warmup: 0.5,
        idle_conns: 10_000,
        idle_secs: 2.0,
        max_window: 60.0,
        smoke: false,
        out: None,
        jsonl: None,
        bin_dir,
        pin: true,
        command: None,
    };
    let (mut runs, mut duration, mut warmup, mut idle_conns) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        fn num<T: std::str::FromStr>(v: String) -> T {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("bad number {v:?}")))
        }
        match arg.as_str() {
            "--servers" => o.servers = list(&value(), &SERVERS, "server"),
            "--loads" => o.loads = list(&value(), &LOADS, "load"),
            "--runs" => runs = Some(num(value())),
            "--duration" => duration = Some(num(value())),
            "--warmup" => warmup = Some(num(value())),
            "--idle-conns" => idle_conns = Some(num(value())),
            "--out" => o.out = Some(PathBuf::from(value())),
            "--jsonl" => o.jsonl = Some(PathBuf::from(value())),
            "--bin-dir" => o.bin_dir = PathBuf::from(value()),
            "--no-pin" => o.pin = false,
            "--command" => o.command = Some(value()),
            "--smoke" => o.smoke = true,
            "-h" | "--help" => usage("end-to-end load harness"),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if o.smoke {
        o.runs = 1;
        o.duration = 0.3;
        o.warmup = 0.1;
        o.idle_conns = 50;
        o.idle_secs = 0.2;
        o.max_window = 20.0;
    }
    o.runs = runs.unwrap_or(o.runs).max(1);
    o.duration = duration.unwrap_or(o.duration);
    o.warmup = warmup.unwrap_or(o.warmup);
    o.idle_conns = idle_conns.unwrap_or(o.idle_conns).max(1);
    if o.servers.is_empty() || o.loads.is_empty() {
        usage("nothing to run");
    }
    o
}

fn loads(o: &Opts) -> Vec<Load> {
    let l = |key, conns, size, text| Load {
        key,
        conns,
        size,
        text,
        utf8: false,
        idle: false,
        min_messages: 5,
    };
    let utf8 = |key, conns, size| Load {
        utf8: true,
        ..l(key, conns, size, true)
    };
    let mut all = if o.smoke {
        vec![
            l("a", 4, 20, true),
            l("b", 4, 1024, false),
            l("c", 2, 64 << 10, false),
            Load {
                min_messages: 2,
                ..l("d", 1, 16 << 20, false)
            },
            utf8("t", 2, 64 << 10),
            utf8("u", 4, 1024),
        ]
    } else {
        vec![
            l("a", 100, 20, true),
            l("b", 100, 1024, false),
            l("c", 10, 64 << 10, false),
            l("d", 1, 16 << 20, false),
            utf8("t", 10, 64 << 10),
            utf8("u", 100, 1024),
        ]
    };
    all.push(Load {
        idle: true,
        ..l("e", o.idle_conns, 20, true)
    });
    all.retain(|load| o.loads.iter().any(|k| k == load.key));
    all
}

/// Runs a program with the soft limit on open files raised to the hard one
/// (load e needs some 10,000 per process), pinned to `cpu` if asked.
fn command(program: &Path, cpu: Option<u32>) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$@\"")
        .arg("sh");
    if let Some(cpu) = cpu {
        cmd.args(["taskset", "-c", &cpu.to_string()]);
    }
    cmd.arg(program);
    cmd
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for a child up to `limit`; kills it past that.
fn wait_for(child: &mut Child, limit: Duration) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                kill(child);
                return Err(format!("no result within {} s", limit.as_secs()));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

struct Harness {
    o: Opts,
    load_server: PathBuf,
    load_gen: PathBuf,
    pin: bool,
}

impl Harness {
    /// One measurement: a fresh server, one generator run.
    fn measure(&self, server: &str, load: &Load) -> Result<Report, String> {
        let mut cmd = command(&self.load_server, self.pin.then_some(0));
        cmd.args(["--impl", server, "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting load_server: {e}"))?;
        let result = self.drive(&mut child, server, load);
        let died = child.try_wait().ok().flatten();
        kill(&mut child);
        match (result, died) {
            (Ok(_), Some(status)) => Err(format!("the server exited during the run ({status})")),
            (result, _) => result,
        }
    }

    fn drive(&self, child: &mut Child, server: &str, load: &Load) -> Result<Report, String> {
        // The server says where it listens; its stdout stays open (and
        // unread) until it is killed.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout);
            let mut line = String::new();
            let _ = tx.send(lines.read_line(&mut line).map(|_| line));
            // Hold the pipe until the server is gone.
            let _ = lines.read_to_end(&mut Vec::new());
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| "the server did not say where it listens".to_string())?
            .map_err(|e| e.to_string())?;
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?
            .to_string();
        let mut cmd = command(&self.load_gen, self.pin.then_some(1));
        cmd.args(["--addr", &addr, "--server-pid", &child.id().to_string()])
            .args(["--conns", &load.conns.to_string()])
            .args(["--size", &load.size.to_string()]);
        match (load.text, load.utf8) {
            (true, true) => _ = cmd.arg("--utf8"),
            (true, false) => _ = cmd.arg("--text"),
            (false, _) => {}
        }
        if server == "raw" {
            cmd.arg("--raw");
        }
        let limit = if load.idle {
            cmd.args(["--idle", "--idle-secs", &self.o.idle_secs.to_string()]);
            Duration::from_secs(300)
        } else {
            cmd.args(["--warmup", &self.o.warmup.to_string()])
                .args(["--duration", &self.o.duration.to_string()])
                .args(["--min-messages", &load.min_messages.to_string()])
                .args(["--max-window", &self.o.max_window.to_string()]);
            Duration::from_secs_f64(self.o.warmup + self.o.max_window + 120.0)
        };
        let mut gen_child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting load_gen: {e}"))?;
        let mut out = gen_child.stdout.take().expect("piped stdout");
        let reader = thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let status = wait_for(&mut gen_child, limit)?;
        let out = reader.join().unwrap_or_default();
        if !status.success() {
            return Err(format!("load_gen failed ({status})"));
        }
        let line = out.lines().last().unwrap_or("");
        Report::from_json(line).map_err(|e| format!("load_gen's report {line:?}: {e}"))
    }

    /// Why a report is not a success, if it is not.
    fn verdict(&self, r: &Report) -> Option<String> {
        let error = r.get_str("error").unwrap_or("");
        if r.get_num("ok") != Some(1.0) {
            return Some(if error.is_empty() {
                format!(
                    "no echo ({} messages)",
                    r.get_num("messages").unwrap_or(0.0)
                )
            } else {
                error.to_string()
            });
        }
        if r.get_num("messages").unwrap_or(0.0) < 1.0 {
            return Some("no echo".into());
        }
        if self.o.smoke && r.get_num("starved").unwrap_or(0.0) > 0.0 {
            return Some(format!(
                "{} connections got no echo",
                r.get_num("starved").unwrap_or(0.0)
            ));
        }
        None
    }
}

fn read_trim(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn run_text(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn main() {
    let o = parse_opts();
    let load_server = o.bin_dir.join("examples").join("load_server");
    let load_gen = o.bin_dir.join("load_gen");
    for bin in [&load_server, &load_gen] {
        if !bin.is_file() {
            eprintln!(
                "load_runner: {} not found; build with `cargo build --release -p ws-benches \
                 --bins --examples` or pass --bin-dir",
                bin.display()
            );
            exit(2);
        }
    }
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let taskset_ok = Command::new("taskset")
        .args(["-c", "1", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let pin = o.pin && taskset_ok && cpus >= 2;
    if o.pin && !pin {
        eprintln!(
            "load_runner: WARNING: cannot pin (taskset {}, {cpus} CPUs): server and generator \
             share the CPUs as the scheduler likes",
            if taskset_ok {
                "works"
            } else {
                "missing or failing"
            }
        );
    }
    let h = Harness {
        load_server,
        load_gen,
        pin,
        o,
    };
    let loads = loads(&h.o);
    let started = run_text("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let load_before = read_trim("/proc/loadavg");
    let clock = Instant::now();
    let mut jsonl = h.o.jsonl.as_ref().map(|p| {
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::File::create(p).unwrap_or_else(|e| {
            eprintln!("load_runner: {}: {e}", p.display());
            exit(2)
        })
    });

    let mut results: BTreeMap<(String, String), Vec<Report>> = BTreeMap::new();
    let mut failures = Vec::new();
    for load in &loads {
        for run in 1..=h.o.runs {
            for server in &h.o.servers {
                let outcome = h.measure(server, load);
                let (summary, failure) = match &outcome {
                    Ok(r) => (summarize(r, load), h.verdict(r)),
                    Err(e) => (String::new(), Some(e.clone())),
                };
                match &failure {
                    None => eprintln!(
                        "[{} run {run}/{}] {server:>14}: {summary}",
                        load.key, h.o.runs
                    ),
                    Some(why) => {
                        eprintln!(
                            "[{} run {run}/{}] {server:>14}: FAILED: {why}",
                            load.key, h.o.runs
                        );
                        failures.push(format!(
                            "{server} under load {} (run {run}): {why}",
                            load.key
                        ));
                    }
                }
                if let Ok(mut r) = outcome {
                    if let Some(f) = jsonl.as_mut() {
                        let mut line = Report::default();
                        line.str("server", server)
                            .str("load", load.key)
                            .num("run", run as f64);
                        line.fields.append(&mut r.fields.clone());
                        use std::io::Write;
                        let _ = writeln!(f, "{}", line.to_json());
                    }
                    if failure.is_none() {
                        r.fields.retain(|(k, _)| k != "error");
                        results
                            .entry((load.key.to_string(), server.clone()))
                            .or_default()
                            .push(r);
                    }
                }
            }
        }
    }
    let elapsed = clock.elapsed().as_secs();
    let load_after = read_trim("/proc/loadavg");
    eprintln!("load_runner: done in {elapsed} s");

    if let Some(out) = &h.o.out {
        let md = render(
            &h,
            &loads,
            &results,
            &failures,
            &started,
            &load_before,
            &load_after,
            elapsed,
        );
        if let Err(e) = std::fs::write(out, md) {
            eprintln!("load_runner: {}: {e}", out.display());
            exit(2);
        }
        eprintln!("load_runner: wrote {}", out.display());
    }
    if !failures.is_empty() {
        eprintln!("load_runner: {} failed measurement(s):", failures.len());
        for f in &failures {
            eprintln!("  {f}");
        }
        exit(1);
    }
    if h.o.smoke {
        eprintln!(
            "load_runner: smoke passed: {} servers x {} loads echo correctly",
            h.o.servers.len(),
            loads.len()
        );
    }
}

fn summarize(r: &Report, load: &Load) -> String {
    let n = |k| r.get_num(k).unwrap_or(f64::NAN);
    if load.idle {
        format!(
            "{} connections, RSS {} -> {} KiB, {} B/connection",
            n("opened"),
            n("rss_before_kib"),
            n("rss_after_kib"),
            fmt(n("rss_per_conn_bytes"))
        )
    } else {
        format!(
            "{} msg/s, {} MiB/s, {} us CPU/msg, p50 {} us, p99 {} us ({} messages); \
             busy: server {:.0}%, gen {:.0}%, other {:.0}%",
            fmt(n("msgs_per_s")),
            fmt(n("mib_per_s")),
            fmt(n("cpu_us_per_msg")),
            fmt(n("p50_us")),
            fmt(n("p99_us")),
            n("messages"),
            n("server_cpu_util") * 100.0,
            n("gen_cpu_util") * 100.0,
            n("other_cpu_util") * 100.0
        )
    }
}

/// Three significant digits, with k and M for thousands and millions.
fn fmt(v: f64) -> String {
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
fn group(v: f64) -> String {
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

struct Metric {
    key: &'static str,
    name: &'static str,
    higher_is_better: bool,
    ratios: bool,
}

const THROUGHPUT: [Metric; 6] = [
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

const IDLE: [Metric; 4] = [
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

type Results = BTreeMap<(String, String), Vec<Report>>;

/// Median, min and max of a metric over a server's successful runs.
fn stats(results: &Results, load: &str, server: &str, key: &str) -> Option<(f64, f64, f64)> {
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

/// The best peer's median for a metric, and which peer it is.
fn best_peer(results: &Results, load: &str, m: &Metric) -> Option<(f64, &'static str)> {
    PEERS
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

fn ratio(v: f64, reference: Option<f64>) -> String {
    match reference {
        Some(r) if r.abs() > f64::EPSILON && v.is_finite() => format!("{:.2}", v / r),
        _ => "–".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
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
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let nproc = run_text("nproc", &[]);
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
    let _ = writeln!(
        w,
        "- Command: `{}`",
        o.command
            .clone()
            .unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" "))
    );
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
    let mut cols: Vec<(&str, &Metric)> = Vec::new();
    for load in loads {
        if load.idle {
            cols.push((load.key, &IDLE[0]));
        } else {
            cols.push((load.key, &THROUGHPUT[0]));
            cols.push((load.key, &THROUGHPUT[2]));
        }
    }
    for (key, m) in &cols {
        let short = match m.key {
            "msgs_per_s" => "msg/s",
            "cpu_us_per_msg" => "CPU/msg",
            _ => "RSS/conn",
        };
        let _ = write!(header, " {key} {short} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(w, "{header}\n{rule}");
    for server in OURS.iter().filter(|s| o.servers.iter().any(|x| x == *s)) {
        let mut row = format!("| {server} |");
        for (key, m) in &cols {
            let cell = match stats(results, key, server, m.key) {
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
         cheaper.\n"
    );

    for load in loads {
        let _ = writeln!(w, "## {}\n", load.title());
        let metrics: &[Metric] = if load.idle { &IDLE } else { &THROUGHPUT };
        let mut header = String::from("| server |");
        let mut rule = String::from("|---|");
        for m in metrics {
            let _ = write!(header, " {} |", m.name);
            rule.push_str("---:|");
        }
        let _ = writeln!(w, "{header}\n{rule}");
        for server in &o.servers {
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
                        if m.ratios {
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
        if !best.is_empty() {
            let _ = writeln!(w, "\nBest peer: {}.", best.join("; "));
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
        "All from `benches/examples/load_server.rs` (`load_server --describe`). Every \
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

/// The versions of the peers in Cargo.lock, if it is at hand.
fn peer_versions() -> String {
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
