//! A `wss://` echo server with rustls (feature `rustls`).
//!
//!     cargo run --example ssl_server --features rustls -- --cert cert.pem --key key.pem [ADDR] [--runtime tokio]
//!     cargo run --example ssl_server --features rustls -- --generate DIR
//!     cargo run --example ssl_server --features rustls -- --self-test
//!
//! ADDR defaults to 127.0.0.1:3443. The certificate file holds the chain
//! (the server's certificate first), the key file its private key (PKCS#8,
//! PKCS#1 or SEC1), both PEM. `--generate DIR` writes a throwaway CA
//! (`ca.pem`) and a certificate for localhost and 127.0.0.1 it signed
//! (`cert.pem`, `key.pem`) into DIR, for local testing only; see
//! examples/README.md for doing the same with openssl. `--self-test` does
//! that in memory, serves on a free port, connects with a client that
//! trusts the CA, checks the echo and exits.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use ws::tls::rustls::{
    self, ClientConfig, RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use ws::{Builder, CloseCode, Handler, Handshake, Message, Result, Runtime, Sender};
use ws_examples::ConnectionLog;

/// A server configuration from a certificate chain and a key.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> std::result::Result<Arc<ServerConfig>, rustls::Error> {
    let config = ServerConfig::builder_with_provider(ws::tls::crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// A throwaway CA and a certificate for localhost / 127.0.0.1 it signed:
/// (CA certificate, server chain, server key).
fn generate() -> (
    CertificateDer<'static>,
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("no names");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ws example CA (local testing only)");
    let ca_key = KeyPair::generate().expect("a key");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("the CA certificate");
    let key = KeyPair::generate().expect("a key");
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let cert = CertificateParams::new(names)
        .expect("valid names")
        .signed_by(&key, &ca)
        .expect("the server certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (
        ca.der().clone(),
        vec![cert.der().clone(), ca.der().clone()],
        key,
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    use std::fmt::Write;
    // Base64 by hand keeps the example's dependencies to the crates it shows.
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        let _ = writeln!(out, "{}", std::str::from_utf8(line).expect("ASCII"));
    }
    let _ = writeln!(out, "-----END {label}-----");
    out
}

/// Echoes, and logs a line when a connection opens and one when it closes
/// (with how much it echoed), never the payloads.
struct Echo {
    out: Sender,
    log: ConnectionLog,
}

impl Echo {
    fn new(out: Sender) -> Echo {
        Echo {
            out,
            log: ConnectionLog::default(),
        }
    }
}

impl Handler for Echo {
    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        self.log.opened(self.out.connection_id(), &shake);
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.log.echoed(&msg);
        self.out.send(msg)
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        self.log.closed(self.out.connection_id(), code, reason);
    }

    fn on_error(&mut self, err: ws::Error) {
        // A client that does not trust the certificate, or speaks plain
        // ws://, ends up here.
        println!("[{}] error: {err}", self.out.connection_id());
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: ssl_server --cert CERT.pem --key KEY.pem [ADDR] [--runtime mio|tokio]\n       \
         ssl_server --generate DIR\n       ssl_server --self-test"
    );
    std::process::exit(2)
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut cert, mut key, mut addr) = (None, None, "127.0.0.1:3443".to_owned());
    let mut runtime = Runtime::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cert" => cert = Some(args.next().unwrap_or_else(|| usage())),
            "--key" => key = Some(args.next().unwrap_or_else(|| usage())),
            "--runtime" => runtime = args.next().unwrap_or_else(|| usage()).parse()?,
            "--generate" => {
                let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| usage()));
                let (ca, chain, key) = generate();
                std::fs::create_dir_all(&dir)?;
                std::fs::write(dir.join("ca.pem"), pem("CERTIFICATE", &ca))?;
                let chain: String = chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
                std::fs::write(dir.join("cert.pem"), chain)?;
                std::fs::write(dir.join("key.pem"), pem("PRIVATE KEY", key.secret_der()))?;
                println!("wrote ca.pem, cert.pem and key.pem to {}", dir.display());
                return Ok(());
            }
            "--self-test" => return self_test(runtime),
            other if other.starts_with("--") => usage(),
            other => addr = other.to_owned(),
        }
    }
    let (Some(cert), Some(key)) = (cert, key) else {
        usage()
    };
    // Loads the chain and the key from PEM files (the crate's helper).
    let tls = ws::tls::server_config_from_pem_files(&cert, &key)?;
    let ws = Builder::new()
        .with_runtime(runtime)
        .build(Echo::new)?
        .with_tls_server(tls)
        .bind(addr.as_str())?;
    println!("listening on wss://{}", ws.local_addr()?);
    ws.run()?;
    Ok(())
}

/// Serves on a free port and talks to itself over wss://.
fn self_test(runtime: Runtime) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let (ca, chain, key) = generate();
    let server = Builder::new()
        .with_runtime(runtime)
        .build(Echo::new)?
        .with_tls_server(server_config(chain, key)?)
        .bind("127.0.0.1:0")?;
    let port = server.local_addr()?.port();
    let stop = server.broadcaster();
    let thread = std::thread::spawn(move || server.run().map(|_| ()));

    let mut roots = RootCertStore::empty();
    roots.add(ca)?;
    let client_tls = ClientConfig::builder_with_provider(ws::tls::crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let reply = Arc::new(std::sync::Mutex::new(None));
    let got = reply.clone();
    let mut client = Builder::new()
        .with_runtime(runtime)
        .build(move |out: Sender| {
            out.send("hello over TLS").expect("queued");
            let got = got.clone();
            move |msg: Message| {
                *got.lock().expect("not poisoned") = Some(msg.to_string());
                out.close(CloseCode::Normal)
            }
        })?
        .with_tls_client(Arc::new(client_tls));
    client.connect(url::Url::parse(&format!("wss://localhost:{port}/"))?)?;
    client.run()?;
    stop.shutdown()?;
    thread.join().expect("the server thread")?;
    let reply = reply.lock().expect("not poisoned").clone();
    if reply.as_deref() == Some("hello over TLS") {
        println!("self-test passed");
        Ok(())
    } else {
        Err(format!("self-test failed: got {reply:?}").into())
    }
}
