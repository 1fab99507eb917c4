//! Runs the examples that stop by themselves and checks what they did.
//!
//! The examples are built once with `cargo build --workspace --all-features
//! --examples`, which selects the same features as `cargo test --workspace
//! --all-features` (so there is nothing left to do after it), and run from
//! `target/<profile>/examples`. Everything happens on 127.0.0.1 with ports
//! the system picks; a program still running after 30 s is killed and fails
//! its test.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// How long an example may run.
const LIMIT: Duration = Duration::from_secs(30);
/// How long building the examples may take (two shared cores, maybe cold).
const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// `target/<profile>/examples`: this test runs as `target/<profile>/deps/examples_run-<hash>`.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    profile_dir.join("examples")
}

/// Builds the examples, once per test run.
fn build_examples() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = examples_dir();
        let profile = dir.parent().unwrap().file_name().unwrap().to_str().unwrap();
        let mut cargo = Command::new(env!("CARGO"));
        let what = [
            "build",
            "--quiet",
            "--workspace",
            "--all-features",
            "--examples",
        ];
        cargo.args(what).current_dir(env!("CARGO_MANIFEST_DIR"));
        match profile {
            "debug" => {}
            "release" => {
                cargo.arg("--release");
            }
            other => {
                cargo.args(["--profile", other]);
            }
        }
        let child = cargo
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot run cargo");
        let (status, _, _) = wait(child, None, "cargo build --examples", BUILD_LIMIT);
        assert!(status.success(), "building the examples failed");
    });
}

/// A running example.
struct Example {
    name: String,
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
}

impl Example {
    /// Starts example `name` with `args`, `input` on its stdin.
    fn start(name: &str, args: &[&str], input: &str) -> Example {
        build_examples();
        let path = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut child = Command::new(&path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        // Small enough for the pipe's buffer; dropping stdin closes it.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        drop(stdin);
        let stdout = child.stdout.take().map(BufReader::new);
        Example {
            name: name.to_owned(),
            child: Some(child),
            stdout,
        }
    }

    /// The first line the example prints.
    fn first_line(&mut self) -> String {
        let mut stdout = self.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            let _ = tx.send((line, stdout));
        });
        let (line, stdout) = rx
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("{} printed nothing within {LIMIT:?}", self.name));
        self.stdout = Some(stdout);
        line.trim_end().to_owned()
    }

    /// Waits for the example to end and checks that it succeeded; returns its
    /// standard output.
    fn finish(mut self) -> String {
        let child = self.child.take().unwrap();
        let (status, stdout, stderr) = wait(child, self.stdout.take(), &self.name, LIMIT);
        assert!(
            status.success(),
            "{} failed ({status})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            self.name
        );
        stdout
    }
}

impl Drop for Example {
    /// A test that fails half-way leaves no example running.
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for `child` (killing it after `limit`), and collects its output.
fn wait(
    mut child: Child,
    stdout: Option<BufReader<ChildStdout>>,
    what: &str,
    limit: Duration,
) -> (ExitStatus, String, String) {
    fn collect<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
        thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    }
    let stdout = match stdout {
        Some(reader) => collect(Some(reader)),
        None => collect(child.stdout.take()),
    };
    let stderr = collect(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
            panic!(
                "{what} still running after {limit:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    (status, stdout.join().unwrap(), stderr.join().unwrap())
}

/// Runs `name --self-test` and checks that it passed.
fn self_test(name: &str) -> String {
    let stdout = Example::start(name, &["--self-test"], "").finish();
    assert!(stdout.contains("self-test passed"), "{name}:\n{stdout}");
    stdout
}

/// The URL in a server's first line, "listening on ws://...".
fn listening_url(line: &str) -> String {
    let url = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"));
    url.to_owned()
}

#[test]
fn server_echoes_what_cli_reads_from_stdin() {
    let mut server = Example::start("server", &["--once", "127.0.0.1:0"], "");
    let url = listening_url(&server.first_line());
    let cli = Example::start("cli", &["--url", &url], "hello\nworld\n").finish();
    assert_eq!(cli, "< hello\n< world\n");
    // `--once`: the server stops by itself once the client has left.
    let log = server.finish();
    // One line per connection, never the payloads.
    assert!(!log.contains("hello"), "a payload in the log:\n{log}");
    for line in [
        "open: /",
        "closed: Normal",
        "after 2 messages (10 bytes) echoed",
        "shutting down",
    ] {
        assert!(log.contains(line), "no {line:?} in:\n{log}");
    }
}

#[test]
fn bench_client_measures_bench_server() {
    let mut server = Example::start("bench_server", &["--once", "127.0.0.1:0"], "");
    let url = listening_url(&server.first_line());
    let args = ["--url", &url, "--connections", "8", "--messages", "200"];
    let report = Example::start("bench_client", &args, "").finish();
    assert!(report.contains("1600 round trips"), "{report}");
    server.finish();
}

#[test]
fn chat_serves_its_page_and_broadcasts() {
    self_test("chat");
}

#[test]
fn threaded_sender_ticks() {
    self_test("threaded");
}

#[test]
fn multicore_self_test() {
    self_test("multicore");
}

#[test]
fn channel_to_a_worker() {
    self_test("channel");
}

#[test]
fn shutdown_from_another_thread() {
    self_test("shutdown");
    let log = Example::start("shutdown", &["0.2", "127.0.0.1:0"], "").finish();
    assert!(log.contains("the event loop has returned"), "{log}");
}

#[test]
fn pingpong_times_pongs_and_expires() {
    let log = self_test("pingpong");
    assert!(log.contains("pong 3 after"), "{log}");
}

#[test]
fn router_dispatches_by_path() {
    self_test("router");
}

#[test]
fn peers_greet_each_other() {
    let log = self_test("peer2peer");
    for line in [
        r#"alice: got "hello from bob""#,
        r#"bob: got "hello from alice""#,
    ] {
        assert!(log.contains(line), "no {line:?} in:\n{log}");
    }
}

#[test]
fn shared_websocket_serves_its_own_clients() {
    let log = Example::start("shared", &["5"], "").finish();
    assert!(log.contains("5 of 5 clients got their echo"), "{log}");
}

#[test]
fn remote_addr_reads_proxy_headers() {
    self_test("remote_addr");
}

#[test]
fn std_echo_serves_cli_with_the_core_alone() {
    // std_echo runs until killed; dropping it at the end kills it.
    let mut server = Example::start("std_echo", &["127.0.0.1:0"], "");
    let url = listening_url(&server.first_line());
    let cli = Example::start("cli", &["--url", &url], "hello\nκόσμε\n").finish();
    assert_eq!(cli, "< hello\n< κόσμε\n");
}

#[test]
fn ssl_server_talks_to_itself_over_wss() {
    let log = self_test("ssl_server");
    // A line per connection with what it echoed, not the payload.
    assert!(log.contains("after 1 messages (14 bytes) echoed"), "{log}");
    assert!(
        !log.contains("hello over TLS"),
        "a payload in the log:\n{log}"
    );
}

#[test]
fn wss_client_trusts_the_ca_ssl_server_generated() {
    let dir = std::env::temp_dir().join(format!("ws-examples-tls-{}", std::process::id()));
    let dir_arg = dir.to_str().expect("a UTF-8 temporary directory");
    Example::start("ssl_server", &["--generate", dir_arg], "").finish();
    let (cert, key, ca) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    );
    let args = [
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "127.0.0.1:0",
    ];
    let mut server = Example::start("ssl_server", &args, "");
    let url = listening_url(&server.first_line()).replace("127.0.0.1", "localhost");
    let ca = ca.to_str().unwrap();
    let reply = Example::start("wss_client", &[&url, "--ca", ca], "").finish();
    assert_eq!(reply, "got: hello over TLS\n");
    // Without the CA, the webpki roots do not vouch for it.
    let refused = Example::start("wss_client", &[&url], "").finish();
    assert_eq!(refused, "");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
