//! The native client through real proxies: tinyproxy (HTTP CONNECT),
//! microsocks (SOCKS5) and stunnel in front of tinyproxy (an `https://`
//! proxy), each on a free loopback port, stopped by its pid.
//! Without them the tests print why and pass, unless `WS_REQUIRE_PROXIES=1`
//! (as in CI).

mod common;
#[path = "../../tests/support/proxy_servers.rs"]
mod proxy_servers;
#[cfg(feature = "rustls")]
use ws_tokio::rustls;
#[cfg(feature = "rustls")]
#[path = "../../tests/support/localhost_tls.rs"]
mod localhost_tls;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{bounded, echo_once, listener};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ws_tokio::{CloseCode, Config, Connector, Error, Message, Proxy, ProxyError};

fn proxy(url: &str) -> Proxy {
    Proxy::parse(url).unwrap()
}

/// Connects to an echo server through `proxy_url` and checks one round trip.
async fn echo_through(proxy_url: &str, host: &str) {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(echo_once(listener));
    let url = format!("ws://{host}:{}/through", addr.port());
    let mut ws = Connector::new()
        .proxy(proxy(proxy_url))
        .connect(&url)
        .await
        .unwrap();
    ws.send("via proxy").await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text("via proxy")
    );
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    server.await.unwrap();
}

fn proxy_error(e: Error) -> ProxyError {
    match e {
        Error::Proxy(p) => *p,
        other => panic!("not a proxy error: {other:?}"),
    }
}

#[tokio::test]
async fn http_connect_without_and_with_auth() {
    let Some(open) = proxy_servers::tinyproxy(None) else {
        return;
    };
    let Some(auth) = proxy_servers::tinyproxy(Some(("alice", "s3cret"))) else {
        return;
    };
    bounded(async {
        echo_through(&open.url("http", None), "127.0.0.1").await;
        echo_through(&auth.url("http", Some(("alice", "s3cret"))), "127.0.0.1").await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_naming_the_proxy_not_the_password() {
    let Some(auth) = proxy_servers::tinyproxy(Some(("alice", "s3cret"))) else {
        return;
    };
    bounded(async {
        let (_listener, addr) = listener().await;
        for creds in [Some(("alice", "wrong-pw")), None] {
            let e = Connector::new()
                .proxy(proxy(&auth.url("http", creds)))
                .connect(&format!("ws://127.0.0.1:{}/", addr.port()))
                .await
                .unwrap_err();
            let text = e.to_string();
            let debug = format!("{e:?}");
            let e = proxy_error(e);
            // tinyproxy 1.11 answers 401 where RFC 9110 says 407.
            let ProxyError::Refused { status, .. } = &e else {
                panic!("{e:?}")
            };
            assert!(matches!(status, 401 | 407), "{e:?}");
            assert!(text.contains(&format!("http://{}", auth.addr)), "{text}");
            assert!(text.contains(&status.to_string()), "{text}");
            for shown in [&text, &debug] {
                assert!(
                    !shown.contains("wrong-pw") && !shown.contains("alice"),
                    "{shown}"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn socks5_and_socks5h_without_and_with_auth() {
    let Some(open) = proxy_servers::microsocks(None) else {
        return;
    };
    let Some(auth) = proxy_servers::microsocks(Some(("bob", "pw"))) else {
        return;
    };
    bounded(async {
        echo_through(&open.url("socks5", None), "127.0.0.1").await;
        echo_through(&open.url("socks5h", None), "127.0.0.1").await;
        echo_through(&auth.url("socks5", Some(("bob", "pw"))), "127.0.0.1").await;
        // socks5h: the proxy resolves "localhost" (the echo server listens
        // on 127.0.0.1; microsocks tries each address of the name).
        echo_through(&auth.url("socks5h", Some(("bob", "pw"))), "localhost").await;
    })
    .await;
}

#[tokio::test]
async fn socks5_refused_credentials_are_a_clear_error() {
    let Some(auth) = proxy_servers::microsocks(Some(("bob", "pw"))) else {
        return;
    };
    bounded(async {
        let (_listener, addr) = listener().await;
        let url = format!("ws://127.0.0.1:{}/", addr.port());
        let e = Connector::new()
            .proxy(proxy(&auth.url("socks5", Some(("bob", "nope-pw")))))
            .connect(&url)
            .await
            .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("nope-pw"));
        let e = proxy_error(e);
        assert_eq!(
            e,
            ProxyError::AuthenticationFailed {
                proxy: format!("socks5://{}", auth.addr)
            }
        );
        // No credentials at all: the proxy accepts none of our methods.
        let e = Connector::new()
            .proxy(proxy(&auth.url("socks5", None)))
            .connect(&url)
            .await
            .unwrap_err();
        assert!(matches!(
            proxy_error(e),
            ProxyError::NoAcceptableMethod { .. }
        ),);
    })
    .await;
}

#[tokio::test]
async fn a_socks5_failure_reply_is_named() {
    let Some(open) = proxy_servers::microsocks(None) else {
        return;
    };
    bounded(async {
        // Nothing listens there: microsocks replies with a failure code.
        let port = proxy_servers::free_port();
        let e = Connector::new()
            .proxy(proxy(&open.url("socks5", None)))
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        let e = proxy_error(e);
        assert!(matches!(e, ProxyError::Socks5 { .. }), "{e:?}");
    })
    .await;
}

#[cfg(feature = "rustls")]
#[tokio::test]
async fn wss_through_a_connect_tunnel_checks_the_servers_name() {
    let Some(open) = proxy_servers::tinyproxy(None) else {
        return;
    };
    bounded(async {
        // A certificate for "localhost" only, trusted as its own root: the
        // proxy is 127.0.0.1, so a check against the proxy's name would fail.
        let (server_tls, client_tls) =
            localhost_tls::localhost_tls(ws_tokio::tls::crypto_provider());
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            for _ in 0..2 {
                let (tcp, _) = listener.accept().await.unwrap();
                if let Ok(mut ws) =
                    ws_tokio::accept_tls(tcp, Arc::default(), server_tls.clone()).await
                {
                    while let Some(Ok(msg)) = ws.next().await {
                        if msg.is_data() {
                            ws.send(msg).await.unwrap();
                        }
                    }
                }
            }
        });
        let connector = Connector::new()
            .proxy(proxy(&open.url("http", None)))
            .tls(client_tls);
        let mut ws = connector
            .connect(&format!("wss://localhost:{}/secure", addr.port()))
            .await
            .unwrap();
        assert!(matches!(ws.get_ref(), ws_tokio::MaybeTlsStream::Rustls(_)));
        ws.send("secret through the tunnel").await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("secret through the tunnel")
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        // The same server by its IP: the certificate does not name it.
        let e = connector
            .connect(&format!("wss://127.0.0.1:{}/secure", addr.port()))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Tls(_)), "{e:?}");
        server.await.unwrap();
    })
    .await;
}

/// An `https://` proxy (stunnel in front of tinyproxy, with
/// authentication): TLS with the proxy, checked for its name, then `ws://`
/// inside it, or `wss://` as TLS inside TLS. By its IP, which its
/// certificate does not name, the proxy is refused with a TLS error that
/// names it.
#[cfg(feature = "rustls")]
#[tokio::test]
async fn through_an_https_proxy() {
    let Some(inner) = proxy_servers::tinyproxy(Some(("alice", "s3cret"))) else {
        return;
    };
    let (server_tls, client_tls, (cert, key)) =
        localhost_tls::localhost_tls_with_pem(ws_tokio::tls::crypto_provider());
    let Some(https) = proxy_servers::stunnel(inner, &cert, &key) else {
        return;
    };
    bounded(async {
        let (plain, plain_addr) = listener().await;
        let plain_server = tokio::spawn(echo_once(plain));
        let (secure, secure_addr) = listener().await;
        let secure_server = tokio::spawn(async move {
            let (tcp, _) = secure.accept().await.unwrap();
            let mut ws = ws_tokio::accept_tls(tcp, Arc::default(), server_tls)
                .await
                .unwrap();
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_data() {
                    ws.send(msg).await.unwrap();
                }
            }
        });
        let proxy_url = format!("https://alice:s3cret@localhost:{}", https.addr.port());
        let connector = Connector::new()
            .proxy(proxy(&proxy_url))
            .tls(client_tls.clone());
        let urls = [
            format!("ws://127.0.0.1:{}/", plain_addr.port()),
            format!("wss://localhost:{}/", secure_addr.port()),
        ];
        for url in &urls {
            let mut ws = connector.clone().connect(url).await.unwrap();
            let layers = match ws.get_ref() {
                ws_tokio::MaybeTlsStream::ProxyTls(_) => "ws in tls",
                ws_tokio::MaybeTlsStream::RustlsInProxyTls(_) => "tls in tls",
                _ => "other",
            };
            let expected = if url.starts_with("wss") {
                "tls in tls"
            } else {
                "ws in tls"
            };
            assert_eq!(layers, expected);
            ws.send("through TLS with the proxy").await.unwrap();
            assert_eq!(
                ws.next().await.unwrap().unwrap(),
                Message::text("through TLS with the proxy")
            );
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
        plain_server.await.unwrap();
        secure_server.await.unwrap();
        // Without authentication.
        let open = proxy_servers::tinyproxy(None).expect("tinyproxy");
        let open = proxy_servers::stunnel(open, &cert, &key).expect("stunnel4");
        let (plain, plain_addr) = listener().await;
        let plain_server = tokio::spawn(echo_once(plain));
        let mut ws = Connector::new()
            .proxy(proxy(&format!("https://localhost:{}", open.addr.port())))
            .tls(client_tls.clone())
            .connect(&format!("ws://127.0.0.1:{}/", plain_addr.port()))
            .await
            .unwrap();
        ws.send("no credentials").await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("no credentials")
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        plain_server.await.unwrap();
        let e = Connector::new()
            .proxy(proxy(&https.url("https", Some(("alice", "s3cret")))))
            .tls(client_tls)
            .connect(&urls[0])
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = proxy_error(e);
        let name = format!("https://{}", https.addr);
        assert!(
            matches!(&e, ProxyError::Tls { proxy, .. } if proxy == &name),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_clear_error() {
    bounded(async {
        let port = proxy_servers::free_port();
        let e = Connector::new()
            .proxy(proxy(&format!("http://user:hidden@127.0.0.1:{port}")))
            .connect("ws://127.0.0.1:9/")
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("hidden"), "{text}");
        let e = proxy_error(e);
        assert!(matches!(&e, ProxyError::Unreachable { proxy, .. } if proxy == &format!("http://127.0.0.1:{port}")), "{e:?}");
    })
    .await;
}

/// A raw loopback "proxy" that answers `answer` to whatever it gets (and
/// then closes), or says nothing when `answer` is `None`.
async fn raw_proxy(answer: Option<&'static [u8]>) -> (String, tokio::task::JoinHandle<()>) {
    let (listener, addr) = listener().await;
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 512];
        let _ = tcp.read(&mut buf).await;
        match answer {
            Some(bytes) => {
                let _ = tcp.write_all(bytes).await;
            }
            None => tokio::time::sleep(Duration::from_secs(5)).await,
        }
    });
    (addr.to_string(), task)
}

#[tokio::test]
async fn garbage_a_close_and_silence_are_clear_errors() {
    bounded(async {
        let (addr, task) = raw_proxy(Some(b"\x00\x01garbage\r\n\r\n")).await;
        let e = Connector::new()
            .proxy(proxy(&format!("http://{addr}")))
            .connect("ws://127.0.0.1:9/")
            .await
            .unwrap_err();
        assert!(matches!(proxy_error(e), ProxyError::Malformed { .. }));
        task.await.unwrap();

        let (addr, task) = raw_proxy(Some(b"\x05")).await;
        let e = Connector::new()
            .proxy(proxy(&format!("socks5://{addr}")))
            .connect("ws://127.0.0.1:9/")
            .await
            .unwrap_err();
        assert!(matches!(proxy_error(e), ProxyError::Closed { .. }));
        task.await.unwrap();

        let (addr, task) = raw_proxy(None).await;
        let config = Arc::new(Config {
            handshake_timeout: Duration::from_millis(300),
            ..Config::default()
        });
        let started = Instant::now();
        let e = Connector::new()
            .config(config)
            .proxy(proxy(&format!("http://{addr}")))
            .connect("ws://127.0.0.1:9/")
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(4));
        assert!(matches!(proxy_error(e), ProxyError::Timeout { .. }));
        task.abort();
    })
    .await;
}

/// The environment: `HTTP_PROXY` names a dead proxy and `NO_PROXY` the
/// echo server, so a connect succeeds only by bypassing the proxy. The
/// variables are set on a child process (this test binary, running
/// `env_child`), never on this one, so parallel tests are not affected.
#[test]
fn no_proxy_bypasses_the_environment_proxy() {
    let dead = format!("http://127.0.0.1:{}", proxy_servers::free_port());
    let run = |no_proxy: &str| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["env_child", "--exact", "--nocapture"])
            .env("WS_PROXY_ENV_CHILD", "1")
            .env("HTTP_PROXY", &dead)
            .env("NO_PROXY", no_proxy)
            .env_remove("http_proxy")
            .env_remove("no_proxy")
            .env_remove("all_proxy")
            .output()
            .unwrap()
    };
    let bypassed = run("localhost,127.0.0.1");
    let text = String::from_utf8_lossy(&bypassed.stdout);
    assert!(text.contains("env_child: connected"), "{text}");
    let proxied = run("other.example");
    let text = String::from_utf8_lossy(&proxied.stdout);
    assert!(
        text.contains("env_child: proxy error: cannot connect to proxy"),
        "{text}"
    );
}

/// Run by `no_proxy_bypasses_the_environment_proxy` in a child process;
/// does nothing otherwise.
#[tokio::test]
async fn env_child() {
    if std::env::var("WS_PROXY_ENV_CHILD").is_err() {
        return;
    }
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(echo_once(listener));
        match ws_tokio::connect(&format!("ws://127.0.0.1:{}/", addr.port())).await {
            Ok(mut ws) => {
                println!("env_child: connected");
                ws.close(CloseCode::NORMAL, "").await.unwrap();
                server.await.unwrap();
            }
            Err(Error::Proxy(e)) => println!("env_child: proxy error: {e}"),
            Err(e) => println!("env_child: other error: {e}"),
        }
    })
    .await;
}
