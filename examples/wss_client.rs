//! A `wss://` client with rustls (feature `rustls`): sends one message,
//! prints the answer and closes.
//!
//!     cargo run --example wss_client --features rustls -- wss://localhost:3443/ [--ca ca.pem] [--runtime tokio]
//!
//! Without `--ca`, the server's certificate must chain to one of the
//! webpki (Mozilla) roots, as a public server's does. `--ca ca.pem` trusts
//! that CA instead (the one `ssl_server --generate` writes, or your own).
//! The host name in the URL must be one the certificate names: rustls
//! checks it, and sends it as SNI.

use std::sync::Arc;

use ws::tls::rustls::{
    ClientConfig, RootCertStore,
    pki_types::{CertificateDer, pem::PemObject},
};
use ws::{Builder, CloseCode, Handler, Handshake, Message, Result, Runtime, Sender};

struct Client {
    out: Sender,
}

impl Handler for Client {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.send("hello over TLS")
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        println!("got: {msg}");
        self.out.close(CloseCode::Normal)
    }

    fn on_error(&mut self, err: ws::Error) {
        // An untrusted certificate or a wrong host name ends up here.
        eprintln!("error: {err}");
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut ca, mut runtime) =
        ("wss://localhost:3443/".to_owned(), None, Runtime::default());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => ca = args.next(),
            "--runtime" => runtime = args.next().unwrap_or_default().parse()?,
            other => url = other.to_owned(),
        }
    }
    let mut ws = Builder::new()
        .with_runtime(runtime)
        .build(|out| Client { out })?;
    if let Some(ca) = ca {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&ca)? {
            roots.add(cert?)?;
        }
        let config = ClientConfig::builder_with_provider(ws::tls::crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        ws = ws.with_tls_client(Arc::new(config));
    }
    ws.connect(url::Url::parse(&url)?)?;
    ws.run()?;
    Ok(())
}
