//! # 6. TLS (`wss://`)
//!
//! TLS comes with the `rustls` feature:
//!
//! ```toml
//! [dependencies]
//! ws = { version = "0.1", features = ["rustls"] }
//! ```
//!
//! It uses rustls with its `ring` crypto provider, on both runtimes (on
//! mio the event loop drives rustls's own sans-IO connection, on tokio it
//! is tokio-rustls), and needs nothing beyond a C compiler to build.
//! Without the feature, a `wss://` URL and
//! [`Settings::encrypt_server`](crate::Settings::encrypt_server) fail with
//! an error that names it, rather than connecting in the clear.
//!
//! ## Clients
//!
//! A `wss://` URL is all a client needs: [`connect`](crate::connect)`("wss://example.com/feed", ...)`
//! verifies the server's certificate chain and host name and sends the
//! name by SNI. By default it trusts the Mozilla root certificates
//! compiled in by `webpki-roots`: the same on every platform, and no
//! system files read. To trust a private CA, the platform's roots, or to
//! send a client certificate, build a `rustls::ClientConfig` (with
//! [`tls::crypto_provider`], so that no
//! process-wide provider has to be installed) and give it to
//! [`WebSocket::with_tls_client`]. A
//! handler may choose another per connection in
//! [`Handler::upgrade_ssl_client`].
//!
//! ## Servers
//!
//! A server needs a certificate and its key, as a
//! `rustls::ServerConfig`, given to
//! [`WebSocket::with_tls_server`] before
//! it binds; that turns TLS on for the listener by itself.
//! [`tls::server_config_from_pem_files`]
//! reads a PEM certificate chain and key, as made by openssl, certbot or
//! rcgen. [`Handler::upgrade_ssl_server`]
//! may choose another configuration per connection. In ws-rs these two
//! hooks wrapped an OpenSSL stream; here they only choose a configuration,
//! and the runtime does the I/O.
//!
//! ## Both ends
//!
//! A certificate for `localhost` made on the spot with rcgen, a server
//! that uses it, and a client that trusts it and nothing else. (This
//! example runs when the `rustls` feature is on.)
//!
//! ```
//! # #[cfg(feature = "rustls")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::{Arc, mpsc};
//! use ws::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
//! use ws::tls::rustls::{ClientConfig, RootCertStore, ServerConfig};
//! use ws::{CloseCode, Message, Sender, WebSocket};
//!
//! let key = rcgen::KeyPair::generate()?;
//! let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])?.self_signed(&key)?;
//!
//! let server_tls = ServerConfig::builder_with_provider(ws::tls::crypto_provider())
//!     .with_safe_default_protocol_versions()?
//!     .with_no_client_auth()
//!     .with_single_cert(
//!         vec![cert.der().clone()],
//!         PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
//!     )?;
//!
//! let mut roots = RootCertStore::empty();
//! roots.add(cert.der().clone())?;
//! let client_tls = ClientConfig::builder_with_provider(ws::tls::crypto_provider())
//!     .with_safe_default_protocol_versions()?
//!     .with_root_certificates(roots)
//!     .with_no_client_auth();
//!
//! # use std::{thread, time::Duration};
//! # let (tx, rx) = mpsc::channel();
//! let server = thread::spawn(move || -> ws::Result<()> {
//!     let ws = WebSocket::new(|out: Sender| move |msg| out.send(msg))?
//!         .with_tls_server(Arc::new(server_tls))
//!         .bind("127.0.0.1:0")?;
//! #   tx.send((ws.local_addr()?, ws.broadcaster())).unwrap();
//!     ws.run().map(drop)
//! });
//! # let (addr, server_out) = rx.recv_timeout(Duration::from_secs(10))?;
//!
//! let (got, replies) = mpsc::channel();
//! let mut client = WebSocket::new(|out: Sender| {
//!     out.send("over TLS").unwrap();
//!     let got = got.clone();
//!     move |msg: Message| {
//!         got.send(msg.into_text()?).unwrap();
//!         out.close(CloseCode::Normal)
//!     }
//! })?
//! .with_tls_client(Arc::new(client_tls));
//! // The name in the URL is the one the certificate must carry.
//! client.connect(format!("wss://localhost:{}/", addr.port()).parse()?)?;
//! client.run()?;
//! assert_eq!(replies.try_recv()?, "over TLS");
//! # server_out.shutdown()?;
//! # server.join().unwrap()?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "rustls"))]
//! # fn main() {}
//! ```
//!
//! The repository's `ssl_server` and `wss_client` examples do the same as
//! two programs, and its `examples/README.md` shows how to make a
//! certificate for local testing with openssl or rcgen.
//!
//! Next: [back-pressure](super::backpressure).
//!
//! (In docs built without the `rustls` feature the TLS items named above
//! are missing, and their links lead to the nearest item that is there.)
//!
// The TLS items exist only with the `rustls` feature; without it, the links
// above go to the nearest item that exists, so that the docs build either way.
#![cfg_attr(
    feature = "rustls",
    doc = "[`tls::crypto_provider`]: crate::tls::crypto_provider
[`tls::server_config_from_pem_files`]: crate::tls::server_config_from_pem_files
[`WebSocket::with_tls_client`]: crate::WebSocket::with_tls_client
[`WebSocket::with_tls_server`]: crate::WebSocket::with_tls_server
[`Handler::upgrade_ssl_client`]: crate::Handler::upgrade_ssl_client
[`Handler::upgrade_ssl_server`]: crate::Handler::upgrade_ssl_server"
)]
#![cfg_attr(
    not(feature = "rustls"),
    doc = "[`tls::crypto_provider`]: crate
[`tls::server_config_from_pem_files`]: crate
[`WebSocket::with_tls_client`]: crate::WebSocket
[`WebSocket::with_tls_server`]: crate::WebSocket
[`Handler::upgrade_ssl_client`]: crate::Handler
[`Handler::upgrade_ssl_server`]: crate::Handler"
)]
