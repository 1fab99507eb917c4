//! Autobahn|Testsuite testee: an echo server.
//!
//!     autobahn_server [--runtime mio|tokio] [ADDR]      (ADDR defaults to 127.0.0.1:9001)
//!
//! Every text and binary message is sent back unchanged. permessage-deflate
//! is on (the 12.* and 13.* cases), the other settings are the defaults.
//! `autobahn/run.sh` starts this program and points wstest's fuzzing client
//! at it.

use std::process::exit;

fn usage(msg: &str) -> ! {
    eprintln!("autobahn_server: {msg}");
    eprintln!("usage: autobahn_server [--runtime mio|tokio] [ADDR]");
    exit(2);
}

fn main() {
    let mut runtime = String::from("mio");
    let mut addr = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime" => {
                runtime = args
                    .next()
                    .unwrap_or_else(|| usage("--runtime needs a value"))
            }
            "-h" | "--help" => usage("echo server for the Autobahn|Testsuite"),
            s if s.starts_with('-') => usage(&format!("unknown option {s}")),
            _ if addr.is_none() => addr = Some(arg),
            _ => usage("too many arguments"),
        }
    }
    let runtime: ws::Runtime = runtime
        .parse()
        .unwrap_or_else(|e: ws::Error| usage(&e.to_string()));
    let addr = addr.unwrap_or_else(|| String::from("127.0.0.1:9001"));

    // Default settings on purpose: the gate checks the library's defaults
    // (e.g. its maximum message size must let the 9.* cases through), plus
    // permessage-deflate, off by default, for the 12.* and 13.* cases.
    let settings = ws::Settings {
        permessage_deflate: true,
        ..ws::Settings::default()
    };
    let served = ws::Builder::new()
        .with_settings(settings)
        .with_runtime(runtime)
        .build(|out: ws::Sender| move |msg| out.send(msg))
        .and_then(|ws| ws.listen(addr.as_str()));
    if let Err(err) = served {
        eprintln!("autobahn_server: {err}");
        exit(1);
    }
}
