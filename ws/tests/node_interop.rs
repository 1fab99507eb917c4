//! Interop with Node's `ws` (npm), a peer no one here wrote, on every
//! runtime: a 16 MiB message of random bytes, with and without
//! permessage-deflate, from a Node client echoed by our server, and from a
//! Node server echoed by our client. With deflate, Node sends it as one
//! compressed frame longer than the message (random data grows).
//!
//! Node runs on 127.0.0.1 (a free port), is stopped by its pid, and gives
//! up by itself after 120 s. `ws` is installed by `tests/node/install.sh`
//! into the git-ignored `target/node-interop`. Without `node` (or `npm` for
//! a first install) the tests print why and pass, unless
//! `WS_REQUIRE_NODE=1`, as CI sets it, which makes that a failure.

#[macro_use]
mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use support::{Server, within};
use ws::{Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(300);

/// One Node peer at a time: two cores shared by a 16 MiB deflate each.
static SERIAL: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `node_modules` holding `ws`, installed if need be; `None` (after
/// saying why) when Node cannot be had and CI does not require it.
fn node_modules() -> Option<PathBuf> {
    let required = std::env::var("WS_REQUIRE_NODE").is_ok_and(|v| v == "1");
    let skip = |why: String| {
        assert!(!required, "WS_REQUIRE_NODE=1 but {why}");
        eprintln!("node_interop: skipped: {why}");
        None
    };
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => return skip(format!("`node --version` failed: {:?}", out.status)),
        Err(e) => return skip(format!("node is not installed ({e})")),
    }
    let script = repo().join("ws/tests/node/install.sh");
    match Command::new("bash").arg(&script).status() {
        Ok(status) if status.success() => {}
        Ok(status) => return skip(format!("{} failed: {status}", script.display())),
        Err(e) => return skip(format!("cannot run {}: {e}", script.display())),
    }
    let dir = std::env::var_os("WS_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/node-interop"));
    Some(dir.join("node_modules"))
}

fn node(modules: &PathBuf, script: &str, args: &[&str]) -> Child {
    Command::new("node")
        .arg(repo().join("ws/tests/node").join(script))
        .args(args)
        .env("NODE_PATH", modules)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts")
}

/// Waits for `child` to exit (killing it by its pid after `limit`);
/// returns whether it succeeded and what it printed.
fn finish(
    mut child: Child,
    mut stdout: impl Read + Send + 'static,
    limit: Duration,
) -> (bool, String) {
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap_or_default();
    (status.is_some_and(|s| s.success()), out)
}

fn settings(deflate: bool) -> Settings {
    Settings {
        permessage_deflate: deflate,
        ..Settings::default()
    }
}

/// A Node client sends 16 MiB of random bytes; our server echoes them.
fn node_client_to_our_server(rt: Runtime) {
    // Serial from the start: the install step must not run twice at once
    // (concurrent `npm install`s into one directory break each other).
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(modules) = node_modules() else {
        return;
    };
    for mode in ["plain", "deflate"] {
        let server = Server::start(rt, settings(mode == "deflate"), || {
            |out: Sender| move |msg| out.send(msg)
        });
        let mut child = node(&modules, "echo_client.js", &[&server.url(), mode]);
        let stdout = child.stdout.take().expect("piped");
        let (ok, out) = finish(child, stdout, Duration::from_secs(150));
        assert!(ok && out.contains("echo ok"), "{mode}: node said {out:?}");
        if mode == "deflate" {
            assert!(out.contains("permessage-deflate"), "{out}");
        }
        server.stop().unwrap();
    }
}

/// A Node server sends 16 MiB of random bytes; our client echoes them.
fn node_server_to_our_client(rt: Runtime) {
    // Serial from the start: the install step must not run twice at once
    // (concurrent `npm install`s into one directory break each other).
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(modules) = node_modules() else {
        return;
    };
    for mode in ["plain", "deflate"] {
        let mut child = node(&modules, "echo_server.js", &[mode]);
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("node prints its port");
        let port: u16 = match line.trim().strip_prefix("port ").map(str::parse) {
            Some(Ok(port)) => port,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{mode}: node said {line:?}");
            }
        };
        let url = format!("ws://127.0.0.1:{port}/");
        let deflate = mode == "deflate";
        let client = thread::spawn(move || {
            support::run_client(rt, settings(deflate), &url, |out: Sender| {
                move |msg| out.send(msg)
            })
        });
        let (ok, out) = finish(child, stdout, Duration::from_secs(150));
        assert!(ok && out.contains("echo ok"), "{mode}: node said {out:?}");
        if deflate {
            assert!(out.contains("permessage-deflate"), "{out}");
        }
        client
            .join()
            .expect("the client thread")
            .expect("the client's loop");
    }
}

runtimes!(node_client_to_our_server, node_server_to_our_client);
