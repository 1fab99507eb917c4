//! `wss://` through the facade on each runtime. A throwaway CA and a leaf
//! certificate for "localhost" are generated at test time with rcgen.
#![cfg(feature = "rustls")]

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use support::{Log, Server, within};
use ws::tls::rustls::{
    ClientConfig, RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use ws::{Builder, CloseCode, Handler, Handshake, Message, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(30);

/// A CA and a server configuration with a certificate for "localhost" it signed.
struct Pki {
    ca: CertificateDer<'static>,
    server: Arc<ServerConfig>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ws facade test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let server = ServerConfig::builder_with_provider(ws::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
        .unwrap();
    Pki {
        ca: ca.der().clone(),
        server: Arc::new(server),
    }
}

fn client_trusting(ca: &CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let config = ClientConfig::builder_with_provider(ws::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// An echo server over TLS.
fn tls_server(runtime: Runtime, pki: &Pki, log: &Log) -> Server {
    let config = pki.server.clone();
    let log = log.clone();
    Server::start_with(
        runtime,
        Settings::default(),
        move |ws| ws.with_tls_server(config),
        move || {
            move |out: Sender| {
                let log = log.clone();
                move |msg: Message| {
                    log.push(format!("server got {msg}"));
                    out.send(msg)
                }
            }
        },
    )
}

/// A client that sends one message, logs the echo and closes.
struct Client {
    out: Sender,
    log: Log,
    message: Message,
}

impl Handler for Client {
    fn on_open(&mut self, _: Handshake) -> ws::Result<()> {
        self.log.push("open");
        self.out.send(self.message.clone())
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        if msg == self.message {
            self.log.push(format!("echo {} bytes", msg.len()));
        } else {
            self.log.push(format!("wrong echo of {} bytes", msg.len()));
        }
        self.out.close(CloseCode::Normal)
    }

    fn on_error(&mut self, err: ws::Error) {
        self.log.push(format!("error {err}"));
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.push(format!("close {code:?}"));
    }
}

/// Runs a client to `url` until its loop returns, with `tls` as its client
/// configuration (the default one when `None`).
fn run_client(runtime: Runtime, url: &str, tls: Option<Arc<ClientConfig>>, log: &Log) {
    send_from_client(runtime, url, tls, log, Message::text("hello over TLS"));
}

fn send_from_client(
    runtime: Runtime,
    url: &str,
    tls: Option<Arc<ClientConfig>>,
    log: &Log,
    message: Message,
) {
    let settings = Settings {
        handshake_timeout: Duration::from_secs(2),
        ..Settings::default()
    };
    let mut ws = Builder::new()
        .with_settings(settings)
        .with_runtime(runtime)
        .build(|out: Sender| Client {
            out,
            log: log.clone(),
            message: message.clone(),
        })
        .unwrap();
    if let Some(tls) = tls {
        ws = ws.with_tls_client(tls);
    }
    ws.connect(url::Url::parse(url).unwrap()).unwrap();
    ws.run().unwrap();
}

fn echo_over_wss(runtime: Runtime) {
    let pki = pki();
    let server_log = Log::default();
    let server = tls_server(runtime, &pki, &server_log);
    let log = Log::default();
    let url = format!("wss://localhost:{}/", server.addr.port());
    run_client(runtime, &url, Some(client_trusting(&pki.ca)), &log);
    assert_eq!(
        log.entries(),
        ["open", "echo 14 bytes", "close Normal"],
        "{:?}",
        log.entries()
    );
    assert_eq!(server_log.entries(), ["server got hello over TLS"]);
    server.stop().unwrap();
}

/// Several megabytes each way: rustls's buffers fill and drain while the
/// socket blocks.
fn a_large_message_over_wss(runtime: Runtime) {
    let pki = pki();
    let server = tls_server(runtime, &pki, &Log::default());
    let log = Log::default();
    let url = format!("wss://localhost:{}/", server.addr.port());
    let big: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let tls = Some(client_trusting(&pki.ca));
    send_from_client(runtime, &url, tls, &log, Message::binary(big));
    assert_eq!(
        log.entries(),
        ["open", "echo 4000000 bytes", "close Normal"]
    );
    server.stop().unwrap();
}

/// A server on one runtime, a client on the other.
#[cfg(all(feature = "mio", feature = "tokio"))]
fn across_runtimes(runtime: Runtime) {
    let other = match runtime {
        Runtime::Mio => Runtime::Tokio,
        _ => Runtime::Mio,
    };
    let pki = pki();
    let server = tls_server(runtime, &pki, &Log::default());
    let log = Log::default();
    let url = format!("wss://localhost:{}/", server.addr.port());
    run_client(other, &url, Some(client_trusting(&pki.ca)), &log);
    assert_eq!(log.entries(), ["open", "echo 14 bytes", "close Normal"]);
    server.stop().unwrap();
}

/// The client's log shows a TLS error and nothing opened.
fn assert_refused(log: &Log, what: &str) {
    let entries = log.entries();
    assert!(!entries.iter().any(|e| e == "open"), "{entries:?}");
    assert!(
        entries
            .iter()
            .any(|e| e.starts_with("error") && e.contains(what)),
        "expected an error mentioning {what:?}: {entries:?}"
    );
}

fn a_certificate_for_another_name_is_refused(runtime: Runtime) {
    let pki = pki();
    let server = tls_server(runtime, &pki, &Log::default());
    let log = Log::default();
    // The certificate names "localhost", not 127.0.0.1.
    let url = format!("wss://127.0.0.1:{}/", server.addr.port());
    run_client(runtime, &url, Some(client_trusting(&pki.ca)), &log);
    assert_refused(&log, "certificate");
    server.stop().unwrap();
}

fn an_untrusted_certificate_is_refused(runtime: Runtime) {
    let pki = pki();
    let server = tls_server(runtime, &pki, &Log::default());
    let log = Log::default();
    // The default configuration trusts the webpki roots, not our CA.
    let url = format!("wss://localhost:{}/", server.addr.port());
    run_client(runtime, &url, None, &log);
    assert_refused(&log, "certificate");
    server.stop().unwrap();
}

fn a_plaintext_client_gets_a_clean_error(runtime: Runtime) {
    let pki = pki();
    let server_log = Log::default();
    let server = tls_server(runtime, &pki, &server_log);
    let log = Log::default();
    let url = format!("ws://localhost:{}/", server.addr.port());
    run_client(runtime, &url, None, &log);
    let entries = log.entries();
    assert!(!entries.iter().any(|e| e == "open"), "{entries:?}");
    assert!(
        entries.iter().any(|e| e.starts_with("error")),
        "{entries:?}"
    );
    assert!(server_log.entries().is_empty());
    server.stop().unwrap();
}

fn a_tls_client_against_a_plaintext_server_ends(runtime: Runtime) {
    let server = Server::start(runtime, Settings::default(), || {
        |out: Sender| move |msg| out.send(msg)
    });
    let log = Log::default();
    let url = format!("wss://localhost:{}/", server.addr.port());
    // The server waits for an HTTP head, the client for a ServerHello: the
    // client's handshake timeout (2 s) ends it.
    run_client(runtime, &url, None, &log);
    let entries = log.entries();
    assert!(!entries.iter().any(|e| e == "open"), "{entries:?}");
    assert!(
        entries.iter().any(|e| e.starts_with("error")),
        "{entries:?}"
    );
    server.stop().unwrap();
}

/// A server whose handler refuses TLS in `upgrade_ssl_server`.
struct Refusing {
    log: Log,
}

impl Handler for Refusing {
    fn upgrade_ssl_server(&mut self, _: &Arc<ServerConfig>) -> ws::Result<Arc<ServerConfig>> {
        Err(ws::Error::new(ws::ErrorKind::Internal, "not today"))
    }

    fn on_error(&mut self, err: ws::Error) {
        self.log.push(format!("server error {err}"));
    }
}

fn upgrade_ssl_server_may_refuse(runtime: Runtime) {
    let pki = pki();
    let config = pki.server.clone();
    let server_log = Log::default();
    let log = server_log.clone();
    let server = Server::start_with(
        runtime,
        Settings::default(),
        move |ws| ws.with_tls_server(config),
        move || move |_: Sender| Refusing { log: log.clone() },
    );
    let log = Log::default();
    let url = format!("wss://localhost:{}/", server.addr.port());
    run_client(runtime, &url, Some(client_trusting(&pki.ca)), &log);
    assert_refused(&log, "");
    server_log.wait_for("the hook's error", |e| !e.is_empty());
    let entries = server_log.entries();
    assert!(
        entries.len() == 1 && entries[0].ends_with("not today"),
        "{entries:?}"
    );
    server.stop().unwrap();
}

/// A client whose handler picks its own TLS configuration.
struct Picking {
    inner: Client,
    tls: Arc<ClientConfig>,
}

impl Handler for Picking {
    fn upgrade_ssl_client(
        &mut self,
        url: &url::Url,
        _default: &Arc<ClientConfig>,
    ) -> ws::Result<Arc<ClientConfig>> {
        assert_eq!(url.scheme(), "wss");
        Ok(self.tls.clone())
    }

    fn on_open(&mut self, shake: Handshake) -> ws::Result<()> {
        self.inner.on_open(shake)
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        self.inner.on_message(msg)
    }

    fn on_error(&mut self, err: ws::Error) {
        self.inner.on_error(err);
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        self.inner.on_close(code, reason);
    }
}

fn upgrade_ssl_client_picks_the_configuration(runtime: Runtime) {
    let pki = pki();
    let server = tls_server(runtime, &pki, &Log::default());
    let log = Log::default();
    let tls = client_trusting(&pki.ca);
    // The WebSocket's own configuration is the default (webpki roots),
    // which would refuse this server; the handler's hook trusts our CA.
    let mut ws = Builder::new()
        .with_runtime(runtime)
        .build(|out: Sender| Picking {
            inner: Client {
                out,
                log: log.clone(),
                message: Message::text("hello over TLS"),
            },
            tls: tls.clone(),
        })
        .unwrap();
    let url = format!("wss://localhost:{}/", server.addr.port());
    ws.connect(url::Url::parse(&url).unwrap()).unwrap();
    ws.run().unwrap();
    assert_eq!(log.entries(), ["open", "echo 14 bytes", "close Normal"]);
    server.stop().unwrap();
}

/// The certificate and key as PEM files, loaded by the crate's helper.
fn a_configuration_from_pem_files(runtime: Runtime) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ws-tls-pem-{}-{runtime:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem() + &ca.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let config = ws::tls::server_config_from_pem_files(&cert_path, &key_path).unwrap();
    let missing = ws::tls::server_config_from_pem_files(dir.join("nope.pem"), &key_path);
    assert!(missing.unwrap_err().to_string().contains("nope.pem"));
    std::fs::remove_dir_all(&dir).unwrap();

    let server = Server::start_with(
        runtime,
        Settings::default(),
        move |ws| ws.with_tls_server(config),
        || |out: Sender| move |msg| out.send(msg),
    );
    let log = Log::default();
    let url = format!("wss://localhost:{}/", server.addr.port());
    run_client(runtime, &url, Some(client_trusting(ca.der())), &log);
    assert_eq!(log.entries(), ["open", "echo 14 bytes", "close Normal"]);
    server.stop().unwrap();
}

fn encrypt_server_without_a_configuration_fails_to_bind(runtime: Runtime) {
    let settings = Settings {
        encrypt_server: true,
        ..Settings::default()
    };
    let err = Builder::new()
        .with_settings(settings)
        .with_runtime(runtime)
        .build(|out: Sender| move |msg| out.send(msg))
        .unwrap()
        .bind("127.0.0.1:0")
        .unwrap_err();
    assert!(err.to_string().contains("with_tls_server"), "{err}");
}

/// A TLS client over a blocking socket that sends an upgrade request and
/// returns everything the server sent inside TLS until it closed; `None`
/// when the TLS handshake itself failed (the server closed unanswered).
fn tls_request(
    addr: std::net::SocketAddr,
    ca: &CertificateDer<'static>,
) -> Option<(String, std::net::TcpStream)> {
    use std::io::{Read, Write};
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = "localhost".try_into().unwrap();
    let tls = ws::tls::rustls::ClientConnection::new(client_trusting(ca), name).unwrap();
    let mut stream = ws::tls::rustls::StreamOwned::new(tls, tcp);
    let request = support::upgrade_request("localhost");
    stream.write_all(request.as_bytes()).ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                // A 101 is not followed by an end: stop after its head.
                if got.starts_with(b"HTTP/1.1 101") && got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            // The server closed TCP after its answer without waiting for
            // ours: what was read is the answer.
            Err(_) if !got.is_empty() => break,
            Err(_) => return None,
        }
    }
    Some((String::from_utf8(got).unwrap(), stream.sock))
}

fn expect_503_inside_tls(addr: std::net::SocketAddr, ca: &CertificateDer<'static>) {
    let (answer, _) = tls_request(addr, ca).expect("the TLS handshake failed");
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer:?}"
    );
    assert!(answer.contains("\r\nRetry-After: "), "{answer:?}");
    assert!(answer.contains("server full"), "{answer:?}");
}

/// A full TLS server answers a new client with a 503 inside TLS (before,
/// it only closed the socket), and keeps serving the open connection. The
/// refusals in progress are bounded: sockets that never start their TLS
/// handshake take at most `MAX_TLS_REFUSALS` places, the clients past them
/// are closed unanswered, and the places free themselves at
/// `TLS_REFUSAL_TIMEOUT`.
fn a_full_tls_server_answers_503_inside_tls(runtime: Runtime) {
    use ws_proto::admission::{MAX_TLS_REFUSALS, TLS_REFUSAL_TIMEOUT};
    let pki = pki();
    let config = pki.server.clone();
    let settings = Settings {
        max_connections: 1,
        ..Settings::default()
    };
    let server = Server::start_with(
        runtime,
        settings,
        move |ws| ws.with_tls_server(config),
        || |out: Sender| move |msg| out.send(msg),
    );
    let (head, _open) = tls_request(server.addr, &pki.ca).expect("the first client");
    assert!(head.starts_with("HTTP/1.1 101"), "{head:?}");
    for _ in 0..3 {
        expect_503_inside_tls(server.addr, &pki.ca);
    }
    // Sockets that never send a ClientHello, more than the refusals' cap.
    let silent: Vec<_> = (0..MAX_TLS_REFUSALS + 8)
        .map(|_| std::net::TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        tls_request(server.addr, &pki.ca).is_none(),
        "a client past MAX_TLS_REFUSALS was answered"
    );
    // Their refusals time out, and new clients are answered again.
    std::thread::sleep(TLS_REFUSAL_TIMEOUT);
    expect_503_inside_tls(server.addr, &pki.ca);
    drop(silent);
    drop(_open);
    server.stop().unwrap();
}

#[cfg(all(feature = "mio", feature = "tokio"))]
mod both {
    #[test]
    fn mio_server_tokio_client() {
        super::within(super::LIMIT, || super::across_runtimes(ws::Runtime::Mio));
    }

    #[test]
    fn tokio_server_mio_client() {
        super::within(super::LIMIT, || super::across_runtimes(ws::Runtime::Tokio));
    }
}

runtimes!(
    echo_over_wss,
    a_large_message_over_wss,
    a_certificate_for_another_name_is_refused,
    an_untrusted_certificate_is_refused,
    a_plaintext_client_gets_a_clean_error,
    a_tls_client_against_a_plaintext_server_ends,
    upgrade_ssl_server_may_refuse,
    upgrade_ssl_client_picks_the_configuration,
    a_configuration_from_pem_files,
    encrypt_server_without_a_configuration_fails_to_bind,
    a_full_tls_server_answers_503_inside_tls,
);
