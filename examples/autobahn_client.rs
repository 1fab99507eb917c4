//! Autobahn|Testsuite testee: an echo client.
//!
//!     autobahn_client [--runtime mio|tokio] URL AGENT
//!
//! URL is the fuzzing server, e.g. ws://127.0.0.1:9001. The client asks
//! URL/getCaseCount for the number of cases, runs every case
//! (URL/runCase?case=N&agent=AGENT) echoing each text and binary message, and
//! finally asks URL/updateReports?agent=AGENT to have the reports written.
//! `autobahn/run.sh` runs this program through the suite's `run-suite.sh client`.
//! permessage-deflate is on (the 12.* and 13.* cases), the other settings
//! are the defaults.

use std::process::exit;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ws::{CloseCode, Message};

fn usage(msg: &str) -> ! {
    eprintln!("autobahn_client: {msg}");
    eprintln!("usage: autobahn_client [--runtime mio|tokio] URL AGENT");
    exit(2);
}

/// Connects to `url` and runs the connection to its end; any failure is
/// reported and otherwise ignored (the suite judges each case itself).
fn run<F, H>(runtime: ws::Runtime, url: &str, factory: F) -> bool
where
    F: FnMut(ws::Sender) -> H,
    H: ws::Handler,
{
    let connected = url::Url::parse(url)
        .map_err(|e| ws::Error::new(ws::ErrorKind::Internal, e.to_string()))
        .and_then(|url| {
            // Default settings plus permessage-deflate (off by default), which
            // the 12.* and 13.* cases test.
            let settings = ws::Settings {
                permessage_deflate: true,
                ..ws::Settings::default()
            };
            let mut ws = ws::Builder::new()
                .with_settings(settings)
                .with_runtime(runtime)
                .build(factory)?;
            ws.connect(url)?;
            ws.run()
        });
    match connected.map(drop) {
        Ok(()) => true,
        Err(err) => {
            eprintln!("autobahn_client: {url}: {err}");
            false
        }
    }
}

fn main() {
    let mut runtime = String::from("mio");
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime" => {
                runtime = args
                    .next()
                    .unwrap_or_else(|| usage("--runtime needs a value"))
            }
            "-h" | "--help" => usage("echo client for the Autobahn|Testsuite"),
            s if s.starts_with('-') => usage(&format!("unknown option {s}")),
            _ => positional.push(arg),
        }
    }
    let runtime: ws::Runtime = runtime
        .parse()
        .unwrap_or_else(|e: ws::Error| usage(&e.to_string()));
    let [url, agent] =
        <[String; 2]>::try_from(positional).unwrap_or_else(|_| usage("expected URL and AGENT"));
    let url = url.trim_end_matches('/');

    // 1. How many cases? The server sends the count as one text message.
    let count = Arc::new(AtomicU32::new(0));
    let got = Arc::clone(&count);
    run(
        runtime,
        &format!("{url}/getCaseCount"),
        move |out: ws::Sender| {
            let got = Arc::clone(&got);
            move |msg: Message| {
                let n = msg
                    .as_text()
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok());
                match n {
                    Some(n) => got.store(n, Ordering::SeqCst),
                    None => eprintln!("autobahn_client: bad case count {msg:?}"),
                }
                out.close(CloseCode::Normal)
            }
        },
    );
    let count = count.load(Ordering::SeqCst);
    if count == 0 {
        eprintln!("autobahn_client: no cases to run");
        exit(1);
    }
    eprintln!("autobahn_client: running {count} cases");

    // 2. Every case: echo whatever arrives, let the fuzzer close.
    for case in 1..=count {
        run(
            runtime,
            &format!("{url}/runCase?case={case}&agent={agent}"),
            |out: ws::Sender| move |msg: Message| out.send(msg),
        );
    }

    // 3. Have the reports written; the server closes when it is done.
    let ok = run(
        runtime,
        &format!("{url}/updateReports?agent={agent}"),
        |_out: ws::Sender| |_msg: Message| Ok(()),
    );
    if !ok {
        exit(1);
    }
}
