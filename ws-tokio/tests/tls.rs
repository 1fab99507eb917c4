//! `wss://` with rustls: a throwaway CA and a leaf certificate for
//! "localhost" are generated at test time with rcgen.
#![cfg(feature = "rustls")]

mod common;

use std::sync::Arc;

use common::{bounded, listener};
use futures_util::StreamExt;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use ws_tokio::rustls::{
    self, ClientConfig, RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use ws_tokio::{CloseCode, Error, Message};

/// A CA and a server configuration whose certificate it signed.
struct Pki {
    ca: CertificateDer<'static>,
    server: Arc<ServerConfig>,
}

fn pki(names: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ws-tokio test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let leaf = CertificateParams::new(names)
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let server = ServerConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
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

/// A client configuration trusting only `ca`.
fn client_trusting(ca: &CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let config = ClientConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// The rustls error inside a TLS failure.
fn rustls_error(e: &Error) -> &rustls::Error {
    match e {
        Error::Tls(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .unwrap_or_else(|| panic!("not a rustls error: {io:?}")),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_over_wss() {
    bounded(async {
        let pki = pki(&["localhost"]);
        let (listener, addr) = listener().await;
        let server_config = pki.server.clone();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ws_tokio::accept_tls(tcp, Arc::default(), server_config)
                .await
                .unwrap();
            assert_eq!(ws.request().unwrap().path, "/echo");
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_data() {
                    ws.send(msg).await.unwrap();
                }
            }
        });
        let url = format!("wss://localhost:{}/echo", addr.port());
        let mut ws = ws_tokio::connect_with_tls(&url, Arc::default(), client_trusting(&pki.ca))
            .await
            .unwrap();
        assert!(matches!(ws.get_ref(), ws_tokio::MaybeTlsStream::Rustls(_)));
        ws.send("hello over TLS").await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("hello over TLS")
        );
        let big = vec![7u8; 200_000];
        ws.send(Message::binary(big.clone())).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(big));
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        server.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_refused() {
    bounded(async {
        // The certificate names "localhost"; the client asks for 127.0.0.1.
        let pki = pki(&["localhost"]);
        let (listener, addr) = listener().await;
        let server_config = pki.server.clone();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            ws_tokio::accept_tls(tcp, Arc::default(), server_config)
                .await
                .map(|_| ())
        });
        let url = format!("wss://127.0.0.1:{}/", addr.port());
        let e = ws_tokio::connect_with_tls(&url, Arc::default(), client_trusting(&pki.ca))
            .await
            .unwrap_err();
        assert!(
            matches!(
                rustls_error(&e),
                rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
                    | rustls::Error::InvalidCertificate(
                        rustls::CertificateError::NotValidForNameContext { .. }
                    )
            ),
            "{e:?}"
        );
        assert!(matches!(server.await.unwrap(), Err(Error::Tls(_))));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused() {
    bounded(async {
        // The default configuration trusts the webpki roots, not our CA.
        let pki = pki(&["localhost"]);
        let (listener, addr) = listener().await;
        let server_config = pki.server.clone();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            ws_tokio::accept_tls(tcp, Arc::default(), server_config)
                .await
                .map(|_| ())
        });
        let url = format!("wss://localhost:{}/", addr.port());
        let e = ws_tokio::connect(&url).await.unwrap_err();
        assert!(
            matches!(
                rustls_error(&e),
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            ),
            "{e:?}"
        );
        assert!(matches!(server.await.unwrap(), Err(Error::Tls(_))));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_client_gets_a_clean_error_from_a_tls_server() {
    bounded(async {
        let pki = pki(&["localhost"]);
        let (listener, addr) = listener().await;
        let server_config = pki.server.clone();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            ws_tokio::accept_tls(tcp, Arc::default(), server_config)
                .await
                .map(|_| ())
        });
        let e = ws_tokio::connect(&format!("ws://{addr}/"))
            .await
            .unwrap_err();
        // The server answers the HTTP request with a TLS alert and closes:
        // not a valid HTTP response, or the end of the stream.
        assert!(
            matches!(e, Error::Handshake(_) | Error::UnexpectedEof | Error::Io(_)),
            "{e:?}"
        );
        assert!(matches!(server.await.unwrap(), Err(Error::Tls(_))));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_client_gets_a_clean_error_from_a_plaintext_server() {
    bounded(async {
        let pki = pki(&["localhost"]);
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            ws_tokio::accept(tcp).await.map(|_| ())
        });
        // The server waits for the end of an HTTP head that never comes and
        // the client for a ServerHello: the handshake timeout ends both.
        let config = Arc::new(ws_tokio::Config {
            handshake_timeout: std::time::Duration::from_millis(500),
            ..ws_tokio::Config::default()
        });
        let url = format!("wss://localhost:{}/", addr.port());
        let e = ws_tokio::connect_with_tls(&url, config, client_trusting(&pki.ca))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Tls(_)), "{e:?}");
        assert!(server.await.unwrap().is_err());
    })
    .await;
}

/// A full `Listener::with_tls` answers a new client with a 503 inside TLS,
/// and keeps serving the admitted one, upgraded by `handshake_tls`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_tls_listener_answers_503_inside_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    bounded(async {
        let pki = pki(&["localhost"]);
        let (tcp, addr) = listener().await;
        let listener = ws_tokio::Listener::from_tcp(tcp, ws_tokio::Limits::new(1))
            .with_tls(pki.server.clone());
        tokio::spawn(async move {
            loop {
                let (admitted, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let (mut ws, _permit) = admitted.handshake_tls(Arc::default()).await.unwrap();
                    while let Some(Ok(msg)) = ws.next().await {
                        if msg.is_data() {
                            ws.send(msg).await.unwrap();
                        }
                    }
                });
            }
        });
        let url = format!("wss://localhost:{}/", addr.port());
        let client = client_trusting(&pki.ca);
        let mut open = ws_tokio::connect_with_tls(&url, Arc::default(), client.clone())
            .await
            .unwrap();
        open.send("first").await.unwrap();
        assert_eq!(open.next().await.unwrap().unwrap(), Message::text("first"));
        for _ in 0..3 {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let name = "localhost".try_into().unwrap();
            let mut tls = ws_tokio::tokio_rustls::TlsConnector::from(client.clone())
                .connect(name, tcp)
                .await
                .expect("the refusal's TLS handshake");
            let request = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Sec-WebSocket-Version: 13\r\n\r\n";
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            let _ = tls.read_to_end(&mut answer).await;
            let answer = String::from_utf8(answer).unwrap();
            assert!(
                answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
                "{answer:?}"
            );
            assert!(answer.contains("\r\nRetry-After: 10\r\n"), "{answer:?}");
        }
        open.send("still served").await.unwrap();
        assert_eq!(
            open.next().await.unwrap().unwrap(),
            Message::text("still served")
        );
    })
    .await;
}

/// `handshake_tls` on a listener without TLS is an error, not a panic.
#[tokio::test]
async fn handshake_tls_needs_with_tls() {
    bounded(async {
        let (tcp, addr) = listener().await;
        let listener = ws_tokio::Listener::from_tcp(tcp, ws_tokio::Limits::default());
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (admitted, _) = listener.accept().await.unwrap();
        let err = admitted.handshake_tls(Arc::default()).await.unwrap_err();
        assert!(err.to_string().contains("with_tls"), "{err}");
    })
    .await;
}
