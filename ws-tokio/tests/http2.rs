//! WebSockets over HTTP/2 (RFC 8441), loopback only: our client and our
//! server, many WebSockets on one HTTP/2 connection, a reset stream, a
//! limit per stream, compression, the fallback to HTTP/1.1, and peers that
//! send a malformed extended CONNECT. A certificate for "localhost" is
//! made at test time with rcgen.
#![cfg(feature = "http2")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::bounded;
use futures_util::future::join_all;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use ws_tokio::http2::{self, Body, ClientStream, Http2Client, HttpVersion};
use ws_tokio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_tokio::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use ws_tokio::{CloseCode, Config, DeflateConfig, Message};

/// What the server saw of each WebSocket.
#[derive(Clone, Debug)]
struct Seen {
    version: HttpVersion,
    deflate: bool,
    path: String,
    /// How it ended: the close code, and the error when not clean.
    end: Option<(CloseCode, Option<String>)>,
}

#[derive(Default)]
struct Server {
    /// TCP connections accepted.
    connections: AtomicUsize,
    websockets: Mutex<Vec<Seen>>,
}

fn certificate() -> (CertificateDer<'static>, Arc<ServerConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let der = cert.cert.der().clone();
    let server = ServerConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    (der, Arc::new(server))
}

fn client_tls(ca: &CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    Arc::new(
        ClientConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// The echo handler: every request that opens a WebSocket is upgraded
/// with `config`; each WebSocket echoes until it ends, and is recorded.
fn handler(
    server: Arc<Server>,
    config: Arc<Config>,
) -> impl Fn(http::Request<hyper::body::Incoming>) -> std::future::Ready<http::Response<Body>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |mut request| {
        if !http2::is_websocket(&request) && request.method() != http::Method::CONNECT {
            return std::future::ready(http::Response::new(Body::from("a page")));
        }
        let path = request.uri().path().to_owned();
        let response = match http2::upgrade(&mut request, config.clone(), &["echo"]) {
            Ok((response, pending)) => {
                let server = server.clone();
                tokio::spawn(async move {
                    let version = pending.version();
                    let Ok(mut ws) = pending.await else { return };
                    let index = {
                        let mut seen = server.websockets.lock().unwrap();
                        seen.push(Seen {
                            version,
                            deflate: ws.connection().deflate().is_some(),
                            path,
                            end: None,
                        });
                        seen.len() - 1
                    };
                    while let Some(Ok(message)) = ws.recv().await {
                        if ws.send(message).await.is_err() {
                            break;
                        }
                    }
                    let closed = ws
                        .closed()
                        .map(|c| (c.code, c.error.as_ref().map(|e| e.to_string())));
                    server.websockets.lock().unwrap()[index].end = closed;
                });
                response
            }
            Err(refusal) => refusal.response(),
        };
        std::future::ready(response)
    }
}

/// Starts a server on a free loopback port: `serve_connection` per
/// accepted TLS connection (ALPN `h2` and `http/1.1`), or, with
/// `extended_connect` false, hyper's HTTP/2 without
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (as most HTTP/2 servers are).
async fn start(
    config: Arc<Config>,
    extended_connect: bool,
) -> (u16, Arc<Server>, Arc<ClientConfig>) {
    let (ca, tls) = certificate();
    let mut tls = (*tls).clone();
    tls.alpn_protocols = http2::ALPN.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Arc::new(Server::default());
    let handle = handler(server.clone(), config);
    let counts = server.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            counts.connections.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let handle = handle.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                if h2 && !extended_connect {
                    let service = hyper::service::service_fn(move |r| {
                        let f = handle(r);
                        async move { Ok::<_, std::convert::Infallible>(f.await) }
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                } else {
                    let _ = http2::serve_connection(tls, h2, handle).await;
                }
            });
        }
    });
    (port, server, client_tls(&ca))
}

fn url(port: u16) -> String {
    format!("wss://localhost:{port}/")
}

/// Waits until the server has recorded the end of `n` WebSockets.
async fn ended(server: &Server, n: usize) -> Vec<Seen> {
    loop {
        {
            let seen = server.websockets.lock().unwrap();
            if seen.iter().filter(|s| s.end.is_some()).count() >= n {
                return seen.clone();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_websockets_echo_on_one_http2_connection() {
    bounded(async {
        let (port, server, tls) = start(Arc::default(), true).await;
        let client = Http2Client::connect(&url(port), Some(tls), Arc::default())
            .await
            .unwrap();
        assert!(client.is_http2());
        let opened = join_all((0..100).map(|i| {
            let client = client.clone();
            async move {
                let mut ws = client.open(&format!("/ws/{i}"), &["echo"]).await.unwrap();
                assert_eq!(ws.protocol(), Some("echo"));
                assert!(matches!(ws.get_ref(), ClientStream::Http2(_)));
                // A text, and a binary message larger than a stream's
                // initial window (65,535 bytes): flow control in both
                // directions.
                let text = Message::text(format!("hello {i}"));
                let big = Message::binary(vec![i as u8; 100_000]);
                for message in [text, big] {
                    ws.send(message.clone()).await.unwrap();
                    assert_eq!(ws.recv().await.unwrap().unwrap(), message);
                }
                ws
            }
        }))
        .await;
        // All open at once, then all closed.
        for mut ws in opened {
            ws.close(CloseCode::NORMAL, "").await.unwrap();
            while ws.recv().await.is_some() {}
        }
        let seen = ended(&server, 100).await;
        assert_eq!(seen.len(), 100);
        assert!(seen.iter().all(|s| s.version == HttpVersion::Http2));
        assert!(
            seen.iter()
                .all(|s| s.end == Some((CloseCode::NORMAL, None)))
        );
        let mut paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), 100);
        assert_eq!(
            server.connections.load(Ordering::SeqCst),
            1,
            "one TCP connection"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_reset_mid_message_leaves_its_siblings_alone() {
    bounded(async {
        let (port, server, tls) = start(Arc::default(), true).await;
        let client = Http2Client::connect(&url(port), Some(tls), Arc::default())
            .await
            .unwrap();
        let mut before = client.open("/before", &[]).await.unwrap();
        let mut victim = client.open("/victim", &[]).await.unwrap();
        let mut after = client.open("/after", &[]).await.unwrap();
        for ws in [&mut before, &mut victim, &mut after] {
            ws.send("ready").await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap().as_text(), Some("ready"));
        }
        // Half of a masked binary frame of 1,000 bytes, straight on the
        // stream, then RST_STREAM.
        let ClientStream::Http2(stream) = victim.get_mut() else {
            panic!("not over HTTP/2")
        };
        let mut partial = vec![0x82, 0x80 | 126, 0x03, 0xE8, 1, 2, 3, 4];
        partial.extend_from_slice(&[0x55; 500]);
        stream.write_all(&partial).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        stream.reset();
        let seen = ended(&server, 1).await;
        let victim_seen = seen.iter().find(|s| s.path == "/victim").unwrap();
        let (code, error) = victim_seen.end.clone().unwrap();
        assert_eq!(code, CloseCode::ABNORMAL, "{error:?}");
        assert!(error.is_some());
        // The siblings, one opened before and one after, still echo, and
        // so does a new stream.
        let mut late = client.open("/late", &[]).await.unwrap();
        for ws in [&mut before, &mut after, &mut late] {
            ws.send(Message::binary(vec![7; 70_000])).await.unwrap();
            assert_eq!(
                ws.recv().await.unwrap().unwrap(),
                Message::binary(vec![7; 70_000])
            );
        }
        assert!(
            server
                .websockets
                .lock()
                .unwrap()
                .iter()
                .filter(|s| s.end.is_some())
                .count()
                == 1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_applies_to_its_own_stream_only() {
    bounded(async {
        let config = Arc::new(Config {
            max_message_size: 1024,
            ..Config::default()
        });
        let (port, server, tls) = start(config, true).await;
        let client = Http2Client::connect(&url(port), Some(tls), Arc::default())
            .await
            .unwrap();
        let mut big = client.open("/big", &[]).await.unwrap();
        let mut small = client.open("/small", &[]).await.unwrap();
        big.send(Message::binary(vec![0; 2000])).await.unwrap();
        // The server fails that WebSocket with 1009 (message too big).
        while let Some(Ok(_)) = big.recv().await {}
        assert_eq!(big.closed().unwrap().code, CloseCode::TOO_BIG);
        let seen = ended(&server, 1).await;
        let big_seen = seen.iter().find(|s| s.path == "/big").unwrap();
        assert_eq!(big_seen.end.as_ref().unwrap().0, CloseCode::TOO_BIG);
        small.send(Message::binary(vec![1; 1000])).await.unwrap();
        assert_eq!(
            small.recv().await.unwrap().unwrap(),
            Message::binary(vec![1; 1000])
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permessage_deflate_is_negotiated_over_http2_and_http11() {
    bounded(async {
        let config = Arc::new(Config {
            deflate: Some(DeflateConfig::default()),
            ..Config::default()
        });
        let (port, server, tls) = start(config.clone(), true).await;
        let client = Http2Client::connect(&url(port), Some(tls.clone()), config.clone())
            .await
            .unwrap();
        let mut ws = client.open("/h2", &[]).await.unwrap();
        assert!(ws.connection().deflate().is_some());
        let text = "compressible ".repeat(5000);
        ws.send(text.as_str()).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap().as_text(),
            Some(text.as_str())
        );
        // The same listener, an HTTP/1.1 upgrade (no ALPN), compressed too.
        let mut old = ws_tokio::connect_with_tls(&url(port), config, tls)
            .await
            .unwrap();
        assert!(old.connection().deflate().is_some());
        old.send(text.as_str()).await.unwrap();
        assert_eq!(
            old.recv().await.unwrap().unwrap().as_text(),
            Some(text.as_str())
        );
        let seen = server.websockets.lock().unwrap().clone();
        let versions: Vec<HttpVersion> = seen.iter().map(|s| s.version).collect();
        assert_eq!(versions, [HttpVersion::Http2, HttpVersion::Http11]);
        assert!(seen.iter().all(|s| s.deflate));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_falls_back_to_http11_without_extended_connect() {
    bounded(async {
        let (port, server, tls) = start(Arc::default(), false).await;
        let client = Http2Client::connect(&url(port), Some(tls), Arc::default())
            .await
            .unwrap();
        assert!(!client.is_http2());
        let mut a = client.open("/a", &["echo"]).await.unwrap();
        let mut b = client.open("/b", &[]).await.unwrap();
        assert!(matches!(a.get_ref(), ClientStream::Http11(_)));
        assert_eq!(a.protocol(), Some("echo"));
        for ws in [&mut a, &mut b] {
            ws.send("over HTTP/1.1").await.unwrap();
            assert_eq!(
                ws.recv().await.unwrap().unwrap().as_text(),
                Some("over HTTP/1.1")
            );
        }
        let seen = server.websockets.lock().unwrap().clone();
        assert!(
            seen.iter().all(|s| s.version == HttpVersion::Http11),
            "{seen:?}"
        );
        // The probe, then one connection per WebSocket.
        assert_eq!(server.connections.load(Ordering::SeqCst), 3);
    })
    .await;
}

/// Sends an extended CONNECT of our own making on a raw h2 connection and
/// returns the answer's status and headers.
async fn raw_connect(
    port: u16,
    tls: Arc<ClientConfig>,
    method: http::Method,
    protocol: Option<&'static str>,
    headers: &[(&'static str, &'static str)],
) -> (u16, http::HeaderMap, String) {
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await
        .unwrap();
    let (send, connection) = h2::client::handshake(stream).await.unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("https://localhost:{port}/chat"))
        .version(http::Version::HTTP_2);
    if let Some(protocol) = protocol {
        request = request.extension(h2::ext::Protocol::from(protocol));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut send = send.ready().await.unwrap();
    let (response, _stream) = send.send_request(request.body(()).unwrap(), false).unwrap();
    let response = response.await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = response.into_body();
    let mut text = Vec::new();
    // A 200's body is the WebSocket: not read here.
    while let Some(Ok(chunk)) = match status {
        200 => None,
        _ => body.data().await,
    } {
        let _ = body.flow_control().release_capacity(chunk.len());
        text.extend_from_slice(&chunk);
    }
    (status, headers, String::from_utf8(text).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_extended_connect_gets_a_clear_status() {
    bounded(async {
        let (port, server, tls) = start(Arc::default(), true).await;
        // Wrong version: 426 and the version we speak.
        let (status, headers, body) = raw_connect(
            port,
            tls.clone(),
            http::Method::CONNECT,
            Some("websocket"),
            &[("sec-websocket-version", "8")],
        )
        .await;
        assert_eq!(status, 426);
        assert_eq!(headers["sec-websocket-version"], "13");
        assert!(body.contains("unsupported WebSocket version"), "{body}");
        // No version at all: 400.
        let (status, _, body) = raw_connect(
            port,
            tls.clone(),
            http::Method::CONNECT,
            Some("websocket"),
            &[],
        )
        .await;
        assert_eq!(status, 400);
        assert!(body.contains("sec-websocket-version"), "{body}");
        // Another protocol: 400, naming it.
        let (status, _, body) = raw_connect(
            port,
            tls.clone(),
            http::Method::CONNECT,
            Some("webtransport"),
            &[("sec-websocket-version", "13")],
        )
        .await;
        assert_eq!(status, 400);
        assert!(body.contains("webtransport"), "{body}");
        // A valid one is accepted.
        let (status, _, _) = raw_connect(
            port,
            tls,
            http::Method::CONNECT,
            Some("websocket"),
            &[("sec-websocket-version", "13")],
        )
        .await;
        assert_eq!(status, 200);
        assert!(server.websockets.lock().unwrap().len() <= 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_open_is_a_handshake_error() {
    bounded(async {
        let config = Arc::new(Config {
            origins: ws_tokio::ws_proto::OriginPolicy {
                same_host: false,
                allowed: vec!["https://allowed.example".into()],
            },
            ..Config::default()
        });
        let (port, _server, tls) = start(config, true).await;
        // An origin the server refuses: 403, an error value on the client.
        let (status, _, body) = raw_connect(
            port,
            tls.clone(),
            http::Method::CONNECT,
            Some("websocket"),
            &[
                ("sec-websocket-version", "13"),
                ("origin", "https://evil.example"),
            ],
        )
        .await;
        assert_eq!(status, 403);
        assert!(body.contains("evil.example"), "{body}");
        let client = Http2Client::connect(&url(port), Some(tls), Arc::default())
            .await
            .unwrap();
        // Our client sends no origin: accepted.
        let mut ws = client.open("/", &[]).await.unwrap();
        ws.send("hi").await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap().as_text(), Some("hi"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tls_answers_pages_and_websockets_on_one_listener() {
    bounded(async {
        let (ca, tls) = certificate();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Arc::new(Server::default());
        let serving = tokio::spawn(http2::serve_tls(
            listener,
            tls,
            handler(server.clone(), Arc::default()),
        ));
        let client = Http2Client::connect(&url(port), Some(client_tls(&ca)), Arc::default())
            .await
            .unwrap();
        assert!(client.is_http2());
        let mut ws = client.open("/", &[]).await.unwrap();
        ws.send("h2").await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap().as_text(), Some("h2"));
        let mut old = ws_tokio::connect_with_tls(&url(port), Arc::default(), client_tls(&ca))
            .await
            .unwrap();
        old.send("h1").await.unwrap();
        assert_eq!(old.recv().await.unwrap().unwrap().as_text(), Some("h1"));
        serving.abort();
    })
    .await;
}

/// One WebSocket whose client stops reading fills its own stream's flow
/// control windows, in both directions (the server stops reading it when
/// its echoes cannot leave), and only its own: a sibling on the same
/// HTTP/2 connection keeps echoing large messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_websocket_holds_back_only_its_own_stream() {
    bounded(async {
        let (port, server, tls) = start(Arc::default(), true).await;
        let client = Http2Client::connect(&url(port), Some(tls), Arc::default())
            .await
            .unwrap();
        let mut stalled = client.open("/stalled", &[]).await.unwrap();
        let mut live = client.open("/live", &[]).await.unwrap();
        // Sends 16 MiB and never reads the echoes.
        let sender = tokio::spawn(async move {
            for _ in 0..32 {
                stalled.send(Message::binary(vec![9; 512 * 1024])).await?;
            }
            Ok::<_, ws_tokio::Error>(stalled)
        });
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        for i in 0..20u8 {
            let message = Message::binary(vec![i; 200 * 1024]);
            live.send(message.clone()).await.unwrap();
            assert_eq!(live.recv().await.unwrap().unwrap(), message);
        }
        assert!(!sender.is_finished(), "the stalled WebSocket is held back");
        sender.abort();
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    })
    .await;
}

/// Timeouts are per stream too: the server's idle timeout closes the quiet
/// WebSocket (1001) while its busy sibling on the same connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_timeout_closes_only_the_idle_stream() {
    bounded(async {
        let config = Arc::new(Config {
            idle_timeout: Some(std::time::Duration::from_millis(300)),
            ..Config::default()
        });
        let (port, server, tls) = start(config, true).await;
        let client = Http2Client::connect(&url(port), Some(tls), Arc::default())
            .await
            .unwrap();
        let mut quiet = client.open("/quiet", &[]).await.unwrap();
        let mut busy = client.open("/busy", &[]).await.unwrap();
        let started = tokio::time::Instant::now();
        for i in 0..10 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            busy.send(format!("{i}")).await.unwrap();
            assert_eq!(
                busy.recv().await.unwrap().unwrap().as_text(),
                Some(format!("{i}").as_str())
            );
        }
        assert!(started.elapsed() >= std::time::Duration::from_secs(1));
        while let Some(Ok(_)) = quiet.recv().await {}
        assert_eq!(quiet.closed().unwrap().code, CloseCode::AWAY);
        let seen = ended(&server, 1).await;
        let ended: Vec<&str> = seen
            .iter()
            .filter(|s| s.end.is_some())
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(ended, ["/quiet"]);
    })
    .await;
}
