//! Autobahn|Testsuite testee for ws-tokio's native async API: an echo client.
//!
//!     autobahn_native_client [--runtime IGNORED] URL AGENT
//!
//! Asks URL/getCaseCount for the number of cases, runs each case
//! (URL/runCase?case=N&agent=AGENT) echoing every text and binary message,
//! then asks URL/updateReports?agent=AGENT for the reports. The `--runtime`
//! option is taken (and ignored) so that `autobahn/run.sh` can run it in
//! place of `autobahn_client` (set `AUTOBAHN_CLIENT_BIN`). permessage-deflate
//! is on (the 12.* and 13.* cases), the other settings are the defaults.

use std::process::exit;
use std::sync::Arc;

use futures_util::StreamExt;
use ws_tokio::{CloseCode, Config, DeflateConfig, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--runtime") {
        args.drain(..2.min(args.len()));
    }
    let [url, agent] = <[String; 2]>::try_from(args).unwrap_or_else(|_| {
        eprintln!("usage: autobahn_native_client [--runtime IGNORED] URL AGENT");
        exit(2)
    });
    let url = url.trim_end_matches('/');
    let config = Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    });

    let count = match ws_tokio::connect(&format!("{url}/getCaseCount")).await {
        Ok(mut ws) => {
            let count = match ws.next().await {
                Some(Ok(Message::Text(t))) => t.trim().parse::<u32>().unwrap_or(0),
                _ => 0,
            };
            let _ = ws.close(CloseCode::NORMAL, "").await;
            count
        }
        Err(e) => {
            eprintln!("autobahn_native_client: {url}: {e}");
            exit(1)
        }
    };
    if count == 0 {
        eprintln!("autobahn_native_client: no cases to run");
        exit(1);
    }
    eprintln!("autobahn_native_client: running {count} cases");
    for case in 1..=count {
        let case_url = format!("{url}/runCase?case={case}&agent={agent}");
        let Ok(mut ws) = ws_tokio::connect_with_config(&case_url, config.clone()).await else {
            continue;
        };
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_data() && ws.send(msg).await.is_err() {
                break;
            }
        }
        while ws.next().await.is_some() {}
    }
    match ws_tokio::connect(&format!("{url}/updateReports?agent={agent}")).await {
        Ok(mut ws) => while ws.next().await.is_some() {},
        Err(e) => {
            eprintln!("autobahn_native_client: updateReports: {e}");
            exit(1)
        }
    }
}
