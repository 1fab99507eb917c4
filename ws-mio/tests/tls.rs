//! TLS as a transport of the bare event loop: a listener and a client in
//! one loop, rustls's sans-IO connections handed over by the sessions.
#![cfg(feature = "rustls")]

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use ws_mio::ws_proto::{Accept, CloseCode, Config, Connection, Event, Message, Request, Role};
use ws_mio::{Clock, ConnInfo, Control, Endpoint, EventLoop, LoopConfig, Session, Start};

type Log = Arc<Mutex<Vec<String>>>;

struct Echo {
    role: Role,
    log: Log,
    message: Vec<u8>,
}

impl Session for Echo {
    type Command = ();

    fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event) {
        let now = clock.now();
        match (self.role, event) {
            (Role::Server, Event::Request(_)) => conn.accept(now, Accept::default()).unwrap(),
            (Role::Server, Event::Message(msg)) => conn.send(now, msg).unwrap(),
            (Role::Client, Event::Open(_)) => {
                conn.send(now, Message::Binary(self.message.clone()))
                    .unwrap();
            }
            (Role::Client, Event::Message(msg)) => {
                let ok = msg == Message::Binary(self.message.clone());
                self.log.lock().unwrap().push(format!("echo ok: {ok}"));
                conn.close(now, CloseCode::NORMAL, "").unwrap();
            }
            (Role::Client, Event::Closed(closed)) => {
                self.log
                    .lock()
                    .unwrap()
                    .push(format!("closed {:?}", closed.code));
            }
            _ => {}
        }
    }

    fn on_command(&mut self, _: &mut dyn Clock, _: &mut Connection, (): ()) {}

    fn on_io_error(&mut self, _: &mut dyn Clock, _: &mut Connection, e: &std::io::Error) {
        if self.role == Role::Client {
            self.log.lock().unwrap().push(format!("io error: {e}"));
        }
    }
}

struct Hub {
    server: Arc<ServerConfig>,
    log: Log,
}

impl Endpoint for Hub {
    type Session = Echo;

    fn accept(&mut self, _: &mut Control<'_, Echo>, _: &ConnInfo) -> Option<Start<Echo>> {
        let tls = rustls::ServerConnection::new(self.server.clone()).unwrap();
        let session = Echo {
            role: Role::Server,
            log: self.log.clone(),
            message: Vec::new(),
        };
        Some(Start::new(session).with_tls(tls.into()))
    }

    fn on_command(&mut self, _: &mut Control<'_, Echo>, (): ()) {}

    /// The client's connection is gone (closed, or failed): the test is over.
    fn on_session_end(&mut self, ctl: &mut Control<'_, Echo>, info: &ConnInfo, _: Echo) {
        if info.role == Role::Client {
            ctl.shutdown();
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration for "localhost" and the CA that signed it.
fn pki() -> (Arc<ServerConfig>, CertificateDer<'static>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let server = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    (Arc::new(server), ca.der().clone())
}

/// Runs one loop with a TLS listener and a client to it that asks for
/// `name` and trusts the CA or not; returns the client's log.
fn run(name: &'static str, trust_the_ca: bool, message: Vec<u8>) -> Vec<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (server, ca) = pki();
        let mut roots = RootCertStore::empty();
        if trust_the_ca {
            roots.add(ca).unwrap();
        }
        let client = Arc::new(
            ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        );
        let log = Log::default();
        let config = Arc::new(Config {
            handshake_timeout: Duration::from_secs(5),
            ..Config::default()
        });
        let hub = Hub {
            server,
            log: log.clone(),
        };
        let mut event_loop = EventLoop::new(hub, config, LoopConfig::default()).unwrap();
        let addr = event_loop.listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let url = format!("wss://localhost:{}/", addr.port());
        let client_log = log.clone();
        event_loop
            .with_control(|_, ctl| {
                ctl.connect("127.0.0.1", addr.port(), |_| {
                    let name = ServerName::try_from(name).unwrap();
                    let tls = rustls::ClientConnection::new(client, name).unwrap();
                    let session = Echo {
                        role: Role::Client,
                        log: client_log,
                        message,
                    };
                    let start = Start::new(session).with_tls(tls.into());
                    Some((start, Request::client(&url).unwrap()))
                })
            })
            .unwrap();
        event_loop.run().unwrap();
        let entries = log.lock().unwrap().clone();
        let _ = tx.send(entries);
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the loop did not end within 30 s")
}

#[test]
fn echo_over_tls() {
    let log = run("localhost", true, b"hello".to_vec());
    assert_eq!(log, ["echo ok: true", "closed CloseCode(1000)"], "{log:?}");
}

#[test]
fn a_large_message_over_tls() {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let log = run("localhost", true, big);
    assert_eq!(log, ["echo ok: true", "closed CloseCode(1000)"], "{log:?}");
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let log = run("localhost", false, b"hello".to_vec());
    assert!(log[0].contains("UnknownIssuer"), "{log:?}");
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let log = run("example.com", true, b"hello".to_vec());
    assert!(log[0].contains("certificate"), "{log:?}");
}
