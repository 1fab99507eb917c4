//! The runner of `benches/load.sh`: starts each echo server in turn (pinned
//! to CPU 0), drives it with `load_gen` (pinned to CPU 1) under each load,
//! and writes the medians to a markdown file.
//!
//!     load_runner [--servers LIST] [--loads LIST] [--runs N] [--duration S]
//!                 [--warmup S] [--idle-conns N] [--out FILE] [--charts DIR]
//!                 [--jsonl FILE] [--fanout-conns N]
//!                 [--bin-dir DIR] [--no-pin] [--command TEXT] [--smoke]
//!
//! Servers: raw, facade-mio, facade-tokio, native, tungstenite,
//! fastwebsockets, tokio-websockets, ws-rs (`load_server --impl`). Loads:
//! a (100 connections x 20 B text), b (100 x 1 KiB binary), c (10 x 64 KiB
//! binary), d (1 x 16 MiB binary), e (RSS per idle connection, 10,000
//! connections), t (10 x 64 KiB text of mixed one- to four-byte UTF-8
//! characters) and u (100 x 1 KiB of the same text), s (slow readers) and
//! f (fan-out: 10,000 subscribers of one topic, 1 KiB binary messages
//! published as fast as they are delivered; see `ws_benches::fanout`).
//! Load f has servers of its own (native-publish, native-loop,
//! tungstenite-broadcast), which serve no other load; `--servers` takes
//! either kind, and each load runs the ones it has.
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
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio, exit};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ws_benches::fanout::FANOUT_SERVERS;
use ws_benches::load::{Report, SERVERS};

mod charts;
mod progress;
mod report;

use progress::Progress;
use report::{fmt, group, render};

const PEERS: [&str; 4] = ["tungstenite", "fastwebsockets", "tokio-websockets", "ws-rs"];
const OURS: [&str; 3] = ["facade-mio", "facade-tokio", "native"];
/// This project's servers of the fan-out load; the facade's
/// `facade-mio-publish` joins them (and `FANOUT_SERVERS`) once it exists.
const FANOUT_OURS: [&str; 2] = ["native-publish", "native-loop"];
/// The key of the fan-out load.
const FANOUT_LOAD: &str = "f";
const LOADS: [&str; 9] = ["a", "b", "c", "d", "t", "u", "e", "s", "f"];

/// Every server name `--servers` takes: the echo servers, then the fan-out
/// ones.
fn all_servers() -> Vec<&'static str> {
    SERVERS.iter().chain(&FANOUT_SERVERS).copied().collect()
}

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
    /// `conns` peers send `size`-byte messages and never read
    /// (`load_gen --slow-readers`): the server's RSS over time.
    slow: bool,
    /// `conns` subscribers of one topic (`load_gen --fanout`): deliveries/s
    /// and server CPU per delivery.
    fanout: bool,
    min_messages: u64,
}

impl Load {
    /// Whether `server` is measured under this load: the raw TCP echo has
    /// no back-pressure at all, so slow readers would make it hold all they
    /// send; it is left out of load s.
    /// Load f runs the fan-out servers only, and they run no other load.
    fn measures(&self, server: &str) -> bool {
        if self.fanout != FANOUT_SERVERS.contains(&server) {
            return false;
        }
        !(self.slow && server == "raw")
    }

    fn title(&self) -> String {
        if self.fanout {
            format!(
                "({}) fan-out: {} subscribers of one topic x {} binary, published as fast \
                 as delivered",
                self.key,
                group(self.conns as f64),
                bytes(self.size)
            )
        } else if self.slow {
            format!(
                "({}) {} slow readers sending {} messages, and a healthy client",
                self.key,
                self.conns,
                bytes(self.size)
            )
        } else if self.idle {
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
    /// Subscribers of load f.
    fanout_conns: usize,
    /// How long load s samples the server's RSS.
    slow_secs: f64,
    max_window: f64,
    smoke: bool,
    out: Option<PathBuf>,
    /// Where the charts go (one SVG per load).
    charts: Option<PathBuf>,
    jsonl: Option<PathBuf>,
    bin_dir: PathBuf,
    pin: bool,
    command: Option<String>,
}

fn usage(msg: &str) -> ! {
    eprintln!("load_runner: {msg}");
    eprintln!(
        "usage: load_runner [--servers LIST] [--loads LIST] [--runs N] [--duration S] \
         [--warmup S] [--idle-conns N] [--fanout-conns N] [--out FILE] [--charts DIR] [--jsonl FILE] \
         [--bin-dir DIR] \
         [--no-pin] [--command TEXT] [--smoke]\n\
         servers: {}\nloads: {}",
        all_servers().join(","),
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
        servers: all_servers().iter().map(|s| s.to_string()).collect(),
        loads: LOADS.iter().map(|s| s.to_string()).collect(),
        runs: 3,
        duration: 3.0,
        warmup: 0.5,
        idle_conns: 10_000,
        idle_secs: 2.0,
        fanout_conns: 10_000,
        slow_secs: 8.0,
        max_window: 60.0,
        smoke: false,
        out: None,
        charts: None,
        jsonl: None,
        bin_dir,
        pin: true,
        command: None,
    };
    let (mut runs, mut duration, mut warmup, mut idle_conns) = (None, None, None, None);
    let mut fanout_conns = None;
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
            "--servers" => o.servers = list(&value(), &all_servers(), "server"),
            "--loads" => o.loads = list(&value(), &LOADS, "load"),
            "--runs" => runs = Some(num(value())),
            "--duration" => duration = Some(num(value())),
            "--warmup" => warmup = Some(num(value())),
            "--idle-conns" => idle_conns = Some(num(value())),
            "--fanout-conns" => fanout_conns = Some(num(value())),
            "--out" => o.out = Some(PathBuf::from(value())),
            "--charts" => o.charts = Some(PathBuf::from(value())),
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
        o.fanout_conns = 200;
        o.slow_secs = 1.0;
        o.max_window = 20.0;
    }
    o.runs = runs.unwrap_or(o.runs).max(1);
    o.duration = duration.unwrap_or(o.duration);
    o.warmup = warmup.unwrap_or(o.warmup);
    o.idle_conns = idle_conns.unwrap_or(o.idle_conns).max(1);
    o.fanout_conns = fanout_conns.unwrap_or(o.fanout_conns).max(1);
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
        slow: false,
        fanout: false,
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
    let (readers, size) = if o.smoke {
        (2, 64 << 10)
    } else {
        (16, 1 << 20)
    };
    all.push(Load {
        slow: true,
        ..l("s", readers, size, false)
    });
    all.push(Load {
        fanout: true,
        ..l("f", o.fanout_conns, 1024, false)
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
        let limit = if load.fanout {
            cmd.arg("--fanout")
                .args(["--warmup", &self.o.warmup.to_string()])
                .args(["--duration", &self.o.duration.to_string()])
                .args(["--min-messages", &load.min_messages.to_string()])
                .args(["--max-window", &self.o.max_window.to_string()]);
            // Opening the connections, one after the other, takes a while.
            Duration::from_secs_f64(
                self.o.warmup + self.o.max_window + 120.0 + load.conns as f64 / 200.0,
            )
        } else if load.slow {
            cmd.args([
                "--slow-readers",
                "--duration",
                &self.o.slow_secs.to_string(),
            ]);
            Duration::from_secs_f64(self.o.slow_secs + 120.0)
        } else if load.idle {
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
    let total: usize = loads
        .iter()
        .map(|load| h.o.runs * h.o.servers.iter().filter(|s| load.measures(s)).count())
        .sum();
    // Servers that some load runs (load f has servers of its own).
    let active =
        h.o.servers
            .iter()
            .filter(|s| loads.iter().any(|l| l.measures(s)))
            .count();
    let mut progress = Progress::start(
        &format!(
            "{} servers x {} loads x {} run{}",
            active,
            loads.len(),
            h.o.runs,
            if h.o.runs == 1 { "" } else { "s" }
        ),
        total,
        estimate(&h.o, &loads),
    );
    for load in &loads {
        for run in 1..=h.o.runs {
            for server in h.o.servers.iter().filter(|s| load.measures(s)) {
                let outcome = h.measure(server, load);
                let (summary, failure) = match &outcome {
                    Ok(r) => (summarize(r, load), h.verdict(r)),
                    Err(e) => (String::new(), Some(e.clone())),
                };
                match &failure {
                    None => progress.done(&format!(
                        "[{} run {run}/{}] {server:>16}: {summary}",
                        load.key, h.o.runs
                    )),
                    Some(why) => {
                        progress.done(&format!(
                            "[{} run {run}/{}] {server:>16}: FAILED: {why}",
                            load.key, h.o.runs
                        ));
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
    progress.finish();
    let elapsed = clock.elapsed().as_secs();
    let load_after = read_trim("/proc/loadavg");
    eprintln!("load_runner: done in {elapsed} s");

    // The charts, from the same medians as the tables. A chart that fails
    // to render fails the run (and CI's smoke run).
    if let Some(dir) = &h.o.charts {
        match charts::write(dir, &charts::charts(&h, &loads, &results, &started)) {
            Ok(paths) => eprintln!(
                "load_runner: wrote {} charts in {}",
                paths.len(),
                dir.display()
            ),
            Err(e) => {
                eprintln!("load_runner: charts: {e}");
                exit(2);
            }
        }
    }

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
            "load_runner: smoke passed: {} servers x {} loads echo (or deliver) correctly",
            active,
            loads.len()
        );
    }
}

/// How long the run should take: each measurement starts a server, warms
/// up and measures; the idle load opens its connections and idles.
fn estimate(o: &Opts, loads: &[Load]) -> Duration {
    let secs: f64 = loads
        .iter()
        .map(|load| {
            let each = if load.fanout {
                1.0 + o.warmup + o.duration + load.conns as f64 / 2_000.0
            } else if load.slow {
                1.5 + o.slow_secs
            } else if load.idle {
                1.0 + o.idle_secs + load.conns as f64 / 2_000.0
            } else {
                1.0 + o.warmup + o.duration
            };
            let servers = o.servers.iter().filter(|s| load.measures(s)).count();
            each * (o.runs * servers) as f64
        })
        .sum();
    Duration::from_secs_f64(secs)
}

fn summarize(r: &Report, load: &Load) -> String {
    let n = |k| r.get_num(k).unwrap_or(f64::NAN);
    if load.fanout {
        format!(
            "{} deliveries/s, {} us CPU/delivery, {} deliveries/CPU-s, RSS {} KiB at the end \
             ({} deliveries); busy: server {:.0}%, gen {:.0}%, other {:.0}%",
            fmt(n("deliveries_per_s")),
            fmt(n("cpu_us_per_delivery")),
            fmt(n("deliveries_per_cpu_s")),
            n("rss_end_kib"),
            n("deliveries"),
            n("server_cpu_util") * 100.0,
            n("gen_cpu_util") * 100.0,
            n("other_cpu_util") * 100.0
        )
    } else if load.slow {
        format!(
            "RSS {} -> peak {} KiB, {} MiB/reader; healthy client {} msg/s, p99 {} us, max {} us",
            n("rss_before_kib"),
            n("rss_peak_kib"),
            fmt(n("growth_per_reader_mib")),
            fmt(n("healthy_msgs_per_s")),
            fmt(n("healthy_p99_us")),
            fmt(n("healthy_max_us"))
        )
    } else if load.idle {
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
