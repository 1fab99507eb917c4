//! The facade's client through real proxies, on each runtime: tinyproxy
//! (HTTP CONNECT) and microsocks (SOCKS5), each on a free loopback port and
//! stopped by its pid. Without them the tests print why and pass, unless
//! `WS_REQUIRE_PROXIES=1` (as in CI).

#[macro_use]
mod support;
#[path = "../../tests/support/proxy_servers.rs"]
mod proxy_servers;

use std::time::Duration;

use support::*;
use ws::{CloseCode, Handler, Handshake, Message, Proxy, ProxySetting, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(30);

/// Sends one message once open, records the echo and closes; records
/// errors.
struct Client {
    out: Sender,
    log: Log,
}

impl Handler for Client {
    fn on_open(&mut self, _: Handshake) -> ws::Result<()> {
        self.log.push("open");
        self.out.send("through the proxy")
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        self.log.push(format!("echo: {msg}"));
        self.out.close(CloseCode::Normal)
    }

    fn on_error(&mut self, err: ws::Error) {
        self.log.push(format!("error: {err}"));
    }
}

fn echo_server(runtime: Runtime) -> Server {
    Server::start(runtime, Settings::default(), || {
        |out: Sender| move |msg: Message| out.send(msg)
    })
}

/// Runs a client to `url` through `proxy_url`; returns its log.
fn run_through(runtime: Runtime, proxy_url: &str, url: &str) -> Vec<String> {
    let log = Log::default();
    let record = log.clone();
    let mut ws = ws::Builder::new()
        .with_runtime(runtime)
        .build(move |out: Sender| Client {
            out,
            log: record.clone(),
        })
        .unwrap()
        .with_proxy(ProxySetting::Proxy(Proxy::parse(proxy_url).unwrap()));
    ws.connect(url::Url::parse(url).unwrap()).unwrap();
    ws.run().unwrap();
    log.entries()
}

fn assert_echoed(log: &[String]) {
    assert_eq!(log, ["open", "echo: through the proxy"], "{log:?}");
}

fn echo_through_http_connect(runtime: Runtime) {
    let Some(open) = proxy_servers::tinyproxy(None) else {
        return;
    };
    let Some(auth) = proxy_servers::tinyproxy(Some(("alice", "s3cret"))) else {
        return;
    };
    let server = echo_server(runtime);
    assert_echoed(&run_through(
        runtime,
        &open.url("http", None),
        &server.url(),
    ));
    let with_auth = auth.url("http", Some(("alice", "s3cret")));
    assert_echoed(&run_through(runtime, &with_auth, &server.url()));
}

fn echo_through_socks5(runtime: Runtime) {
    let Some(open) = proxy_servers::microsocks(None) else {
        return;
    };
    let Some(auth) = proxy_servers::microsocks(Some(("bob", "pw"))) else {
        return;
    };
    let server = echo_server(runtime);
    assert_echoed(&run_through(
        runtime,
        &open.url("socks5", None),
        &server.url(),
    ));
    // socks5h: the proxy resolves "localhost".
    let by_name = format!("ws://localhost:{}/", server.addr.port());
    let with_auth = auth.url("socks5h", Some(("bob", "pw")));
    assert_echoed(&run_through(runtime, &with_auth, &by_name));
}

fn refused_credentials_are_reported_without_them(runtime: Runtime) {
    let Some(http) = proxy_servers::tinyproxy(Some(("alice", "s3cret"))) else {
        return;
    };
    let Some(socks) = proxy_servers::microsocks(Some(("bob", "pw"))) else {
        return;
    };
    let server = echo_server(runtime);
    for (proxy_url, named, said) in [
        (
            http.url("http", Some(("alice", "wrong-pw"))),
            format!("http://{}", http.addr),
            "refused the tunnel",
        ),
        (
            socks.url("socks5", Some(("bob", "wrong-pw"))),
            format!("socks5://{}", socks.addr),
            "refused the username and password",
        ),
    ] {
        let log = run_through(runtime, &proxy_url, &server.url());
        assert_eq!(log.len(), 1, "{log:?}");
        assert!(log[0].contains(&named) && log[0].contains(said), "{log:?}");
        assert!(
            !log[0].contains("wrong-pw") && !log[0].contains("alice"),
            "{log:?}"
        );
    }
}

fn an_unreachable_proxy_is_reported(runtime: Runtime) {
    let port = proxy_servers::free_port();
    let server = echo_server(runtime);
    let log = run_through(
        runtime,
        &format!("socks5://u:hidden@127.0.0.1:{port}"),
        &server.url(),
    );
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].contains(&format!(
            "cannot connect to proxy socks5://127.0.0.1:{port}"
        )),
        "{log:?}"
    );
    assert!(!log[0].contains("hidden"), "{log:?}");
}

runtimes!(
    echo_through_http_connect,
    echo_through_socks5,
    refused_credentials_are_reported_without_them,
    an_unreachable_proxy_is_reported,
);
