//! Reaching a WebSocket server through a proxy, without the I/O.
//!
//! A client behind a proxy first connects to the proxy, then asks it for a
//! tunnel to the server, then runs TLS (for `wss://`) and the WebSocket
//! handshake inside that tunnel exactly as it would over a direct
//! connection. This module is the middle step as sans-IO state machines
//! (bytes in, bytes out, `Done` or an error), plus the choice of proxy for a
//! URL:
//!
//! - [`Proxy`]: a proxy URL (`http://`, `https://`, `socks5://`,
//!   `socks5h://`), its credentials kept out of every `Display` and `Debug`.
//! - [`HttpConnect`]: an HTTP `CONNECT` request (RFC 9110 section 9.3.6) with
//!   Basic `Proxy-Authorization`, and the proxy's response head, bounded by
//!   [`MAX_RESPONSE_HEAD`].
//! - [`Socks5`]: SOCKS version 5 (RFC 1928), without authentication or with
//!   a username and password (RFC 1929).
//! - [`ProxyHandshake`]: either of the two, chosen by the proxy's scheme.
//! - [`ProxySetting`] and [`proxy_for_url`]: an explicit proxy, none, or
//!   the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`,
//!   as curl reads them).
//!
//! The runtime connects a socket to [`Proxy::host`] and [`Proxy::port`],
//! then drives a [`ProxyHandshake`]:
//!
//! ```
//! use ws_proto::proxy::{Proxy, ProxyHandshake, Status, Target};
//!
//! let proxy = Proxy::parse("http://user:secret@127.0.0.1:3128").unwrap();
//! let mut tunnel = ProxyHandshake::new(&proxy, Target::domain("example.com", 443)).unwrap();
//! let request = tunnel.poll_transmit().unwrap(); // write these bytes to the proxy
//! assert!(request.starts_with(b"CONNECT example.com:443 HTTP/1.1\r\n"));
//! // ... then feed what the proxy answers until Done:
//! let status = tunnel.handle_input(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
//! assert_eq!(status, Status::Done);
//! // The socket is now a tunnel to example.com:443.
//! ```

mod error;
mod handshake;
mod http_connect;
mod select;
mod socks5;
mod url;

pub use error::{ProxyError, Socks5Reply};
pub use handshake::{ProxyHandshake, Status, Target};
pub use http_connect::{HttpConnect, MAX_RESPONSE_HEAD};
pub use select::{ProxySetting, no_proxy_matches, proxy_for_url};
pub use socks5::Socks5;
pub use url::{Credentials, Proxy, ProxyKind};
