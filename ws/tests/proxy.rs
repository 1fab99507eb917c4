//! The facade's client through real proxies, on each runtime: tinyproxy
//! (HTTP CONNECT) and microsocks (SOCKS5), each on a free loopback port and
//! stopped by its pid. Without them the tests print why and pass, unless
//! `WS_REQUIRE_PROXIES=1` (as in CI).

#[macro_use]
mod support;
#[path = "../../tests/support/proxy_servers.rs"]
mod proxy_servers;
#[cfg(feature = "rustls")]
use ws::tls::rustls;
#[cfg(feature = "rustls")]
#[path = "../../tests/support/localhost_tls.rs"]
mod localhost_tls;

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
    run_through_with(runtime, Settings::default(), proxy_url, url, |ws| ws)
}

/// [`run_through`] with `settings`, and `prepare` applied to the client's
/// `WebSocket`.
fn run_through_with<P>(
    runtime: Runtime,
    settings: Settings,
    proxy_url: &str,
    url: &str,
    prepare: P,
) -> Vec<String>
where
    P: FnOnce(
        ws::WebSocket<Box<dyn FnMut(Sender) -> Client>>,
    ) -> ws::WebSocket<Box<dyn FnMut(Sender) -> Client>>,
{
    let log = Log::default();
    let record = log.clone();
    let factory: Box<dyn FnMut(Sender) -> Client> = Box::new(move |out: Sender| Client {
        out,
        log: record.clone(),
    });
    let ws = ws::Builder::new()
        .with_runtime(runtime)
        .with_settings(settings)
        .build(factory)
        .unwrap();
    let mut ws = prepare(ws).with_proxy(ProxySetting::Proxy(Proxy::parse(proxy_url).unwrap()));
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

/// A raw loopback "proxy" that answers `answer` to the first bytes it
/// gets, or nothing when `None`; it holds the connection for 5 s.
fn raw_proxy(answer: Option<&'static [u8]>) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = tcp.read(&mut buf);
        if let Some(answer) = answer {
            let _ = tcp.write_all(answer);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    addr
}

fn garbage_from_the_proxy_is_reported(runtime: Runtime) {
    let server = echo_server(runtime);
    let proxy = raw_proxy(Some(b"220 smtp.example ESMTP ready\r\n\r\n"));
    let log = run_through(runtime, &format!("http://{proxy}"), &server.url());
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].contains(&format!("proxy http://{proxy} answered garbage")),
        "{log:?}"
    );
}

/// A proxy that reads the request and closes at once: a clear error that
/// names it, at once.
fn a_proxy_closing_mid_handshake_is_reported(runtime: Runtime) {
    use std::io::Read;
    let server = echo_server(runtime);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let _ = tcp.read(&mut [0u8; 512]);
    });
    for scheme in ["http", "socks5h"] {
        let started = std::time::Instant::now();
        let log = run_through(runtime, &format!("{scheme}://{proxy}"), &server.url());
        assert_eq!(log.len(), 1, "{log:?}");
        let said = format!("proxy {scheme}://{proxy} closed the connection");
        let failed = format!("cannot connect to proxy {scheme}://{proxy}");
        // The second attempt finds nobody listening any more.
        assert!(
            log[0].contains(&said) || log[0].contains(&failed),
            "{log:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(4));
    }
}

/// A proxy that never answers: the handshake timeout ends the attempt
/// (the whole `run` returns well before the proxy lets go after 5 s).
fn a_silent_proxy_ends_at_the_handshake_timeout(runtime: Runtime) {
    let server = echo_server(runtime);
    let proxy = raw_proxy(None);
    let settings = Settings {
        handshake_timeout: Duration::from_millis(300),
        ..Settings::default()
    };
    let started = std::time::Instant::now();
    let log = run_through_with(
        runtime,
        settings,
        &format!("socks5h://{proxy}"),
        &server.url(),
        |ws| ws,
    );
    let took = started.elapsed();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].starts_with("error: "), "{log:?}");
    assert!(took < Duration::from_secs(4), "run took {took:?}");
}

#[cfg(feature = "rustls")]
mod wss {
    use super::*;

    /// `wss://` through a CONNECT tunnel: TLS runs with the server inside the
    /// tunnel, and its certificate is checked for the server's name
    /// ("localhost"), not the proxy's (127.0.0.1, which it does not name).
    fn wss_through_a_tunnel_checks_the_servers_name(runtime: Runtime) {
        let Some(open) = proxy_servers::tinyproxy(None) else {
            return;
        };
        let (server_tls, client_tls) = localhost_tls::localhost_tls(ws::tls::crypto_provider());
        let settings = Settings {
            encrypt_server: true,
            ..Settings::default()
        };
        let server = Server::start_with(
            runtime,
            settings,
            move |ws| ws.with_tls_server(server_tls),
            || |out: Sender| move |msg: Message| out.send(msg),
        );
        let port = server.addr.port();
        let proxy_url = open.url("http", None);
        let tls = client_tls.clone();
        let log = run_through_with(
            runtime,
            Settings::default(),
            &proxy_url,
            &format!("wss://localhost:{port}/"),
            |ws| ws.with_tls_client(tls),
        );
        assert_echoed(&log);
        let log = run_through_with(
            runtime,
            Settings::default(),
            &proxy_url,
            &format!("wss://127.0.0.1:{port}/"),
            |ws| ws.with_tls_client(client_tls),
        );
        assert_eq!(log.len(), 1, "{log:?}");
        assert!(log[0].starts_with("error: "), "{log:?}");
    }

    /// An `https://` proxy (stunnel in front of tinyproxy, with
    /// authentication): TLS with the proxy, checked for the proxy's name
    /// ("localhost"), and `ws://` or `wss://` inside it; `wss://` is TLS
    /// inside TLS. Named by its IP, which its certificate does not name,
    /// the proxy is refused with an error that names it and not its
    /// credentials.
    fn through_an_https_proxy(runtime: Runtime) {
        let Some(inner) = proxy_servers::tinyproxy(Some(("alice", "s3cret"))) else {
            return;
        };
        let provider = ws::tls::crypto_provider();
        let (server_tls, client_tls, (cert, key)) = localhost_tls::localhost_tls_with_pem(provider);
        let Some(https) = proxy_servers::stunnel(inner, &cert, &key) else {
            return;
        };
        let plain = echo_server(runtime);
        let settings = Settings {
            encrypt_server: true,
            ..Settings::default()
        };
        let secure = Server::start_with(
            runtime,
            settings,
            move |ws| ws.with_tls_server(server_tls),
            || |out: Sender| move |msg: Message| out.send(msg),
        );
        let proxy_url = format!("https://alice:s3cret@localhost:{}", https.addr.port());
        for url in [
            plain.url(),
            format!("wss://localhost:{}/", secure.addr.port()),
        ] {
            let tls = client_tls.clone();
            let log = run_through_with(runtime, Settings::default(), &proxy_url, &url, |ws| {
                ws.with_tls_client(tls)
            });
            assert_echoed(&log);
        }
        // Without authentication.
        let Some(open) = proxy_servers::tinyproxy(None) else {
            return;
        };
        let Some(open) = proxy_servers::stunnel(open, &cert, &key) else {
            return;
        };
        let open_url = format!("https://localhost:{}", open.addr.port());
        let tls = client_tls.clone();
        let log = run_through_with(
            runtime,
            Settings::default(),
            &open_url,
            &plain.url(),
            |ws| ws.with_tls_client(tls),
        );
        assert_echoed(&log);
        let by_ip = https.url("https", Some(("alice", "s3cret")));
        let log = run_through_with(runtime, Settings::default(), &by_ip, &plain.url(), |ws| {
            ws.with_tls_client(client_tls)
        });
        assert_eq!(log.len(), 1, "{log:?}");
        let expected = format!("TLS with proxy https://{}", https.addr);
        assert!(log[0].contains(&expected), "{log:?}");
        assert!(!log[0].contains("s3cret"), "{log:?}");
    }

    runtimes!(
        wss_through_a_tunnel_checks_the_servers_name,
        through_an_https_proxy
    );
}

/// The environment: `HTTP_PROXY` names a dead proxy and `NO_PROXY` the
/// echo server, so a connect succeeds only by bypassing the proxy. The
/// variables are set on a child process (this test binary, running
/// `env_child`), never on this one, so parallel tests are not affected.
fn no_proxy_bypasses_the_environment_proxy(runtime: Runtime) {
    let dead = format!("http://127.0.0.1:{}", proxy_servers::free_port());
    let run = |no_proxy: &str| {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["env_child", "--exact", "--nocapture"])
            .env("WS_PROXY_ENV_CHILD", format!("{runtime:?}"))
            .env("HTTP_PROXY", &dead)
            .env("NO_PROXY", no_proxy)
            .env_remove("http_proxy")
            .env_remove("no_proxy")
            .env_remove("all_proxy")
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let bypassed = run("localhost,127.0.0.1");
    assert!(
        bypassed.contains("env_child: [\"open\", \"echo: through the proxy\"]"),
        "{bypassed}"
    );
    let proxied = run("other.example");
    assert!(
        proxied.contains("cannot connect to proxy http://127.0.0.1"),
        "{proxied}"
    );
}

/// Run by `no_proxy_bypasses_the_environment_proxy` in a child process,
/// with the environment's proxy setting (the default); does nothing
/// otherwise.
#[test]
fn env_child() {
    let runtime = match std::env::var("WS_PROXY_ENV_CHILD").as_deref() {
        #[cfg(feature = "mio")]
        Ok("Mio") => Runtime::Mio,
        #[cfg(feature = "tokio")]
        Ok("Tokio") => Runtime::Tokio,
        _ => return,
    };
    let server = echo_server(runtime);
    let log = Log::default();
    let record = log.clone();
    let ws = ws::Builder::new()
        .with_runtime(runtime)
        .build(move |out: Sender| Client {
            out,
            log: record.clone(),
        })
        .unwrap();
    let mut ws = ws;
    ws.connect(url::Url::parse(&server.url()).unwrap()).unwrap();
    ws.run().unwrap();
    println!("env_child: {:?}", log.entries());
}

runtimes!(
    echo_through_http_connect,
    echo_through_socks5,
    refused_credentials_are_reported_without_them,
    an_unreachable_proxy_is_reported,
    garbage_from_the_proxy_is_reported,
    a_proxy_closing_mid_handshake_is_reported,
    a_silent_proxy_ends_at_the_handshake_timeout,
    no_proxy_bypasses_the_environment_proxy,
);
