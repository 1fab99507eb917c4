//! A tunnel through an HTTP proxy: `CONNECT host:port` (RFC 9110 section
//! 9.3.6), with Basic `Proxy-Authorization` (RFC 7617) when the proxy URL
//! has credentials.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Proxy, ProxyError, Status, Target};

/// The longest response head accepted from a proxy: 16 KiB, twice what
/// common servers allow for a request head (nginx's default
/// `large_client_header_buffers` is 8 KiB), and far more than any
/// `200 Connection established` needs. A longer head is
/// [`ProxyError::TooLarge`], so a hostile proxy cannot make the client
/// buffer without bound.
pub const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// Most header lines parsed in a proxy's response head.
const MAX_HEADERS: usize = 64;

/// The `CONNECT` negotiation with an HTTP proxy.
///
/// Its `Debug` shows the proxy and the state, never the request (which
/// carries the credentials).
pub struct HttpConnect {
    proxy: String,
    output: Option<Vec<u8>>,
    head: Vec<u8>,
    done: bool,
}

impl HttpConnect {
    /// Builds the `CONNECT` request for `target`.
    pub fn new(proxy: &Proxy, target: &Target) -> Self {
        let authority = match target {
            Target::Domain(host, port) if host.contains(':') => format!("[{host}]:{port}"),
            Target::Domain(host, port) => format!("{host}:{port}"),
            Target::Addr(addr) => addr.to_string(),
        };
        let mut request =
            format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
        if let Some(c) = proxy.credentials() {
            let token = BASE64.encode(format!("{}:{}", c.username, c.password));
            request.extend_from_slice(b"Proxy-Authorization: Basic ");
            request.extend_from_slice(token.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        Self {
            proxy: proxy.to_string(),
            output: Some(request),
            head: Vec::new(),
            done: false,
        }
    }

    /// The request, once.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.output.take()
    }

    /// Takes bytes of the proxy's response.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Status, ProxyError> {
        if self.done {
            return if data.is_empty() {
                Ok(Status::Done)
            } else {
                Err(self.malformed("bytes after the response to CONNECT"))
            };
        }
        self.head.extend_from_slice(data);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let parsed = response.parse(&self.head);
        match parsed {
            Ok(httparse::Status::Partial) => {
                if self.head.len() > MAX_RESPONSE_HEAD {
                    return Err(ProxyError::TooLarge {
                        proxy: self.proxy.clone(),
                        max: MAX_RESPONSE_HEAD,
                    });
                }
                Ok(Status::Pending)
            }
            Ok(httparse::Status::Complete(len)) => {
                if len > MAX_RESPONSE_HEAD {
                    return Err(ProxyError::TooLarge {
                        proxy: self.proxy.clone(),
                        max: MAX_RESPONSE_HEAD,
                    });
                }
                let status = response.code.unwrap_or(0);
                if !(200..300).contains(&status) {
                    let reason: String = response
                        .reason
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(100)
                        .collect();
                    return Err(ProxyError::Refused {
                        proxy: self.proxy.clone(),
                        status,
                        reason,
                    });
                }
                if len != self.head.len() {
                    // The client speaks first in the tunnel (TLS
                    // ClientHello, the upgrade request): a 2xx with a body
                    // or early bytes is not a tunnel.
                    return Err(self.malformed("bytes after the response to CONNECT"));
                }
                self.done = true;
                self.head = Vec::new();
                Ok(Status::Done)
            }
            Err(_) => Err(self.malformed("not an HTTP response")),
        }
    }

    /// The proxy closed the connection.
    pub fn handle_eof(&self) -> ProxyError {
        ProxyError::Closed {
            proxy: self.proxy.clone(),
        }
    }

    fn malformed(&self, what: &'static str) -> ProxyError {
        ProxyError::Malformed {
            proxy: self.proxy.clone(),
            what,
        }
    }
}

impl fmt::Debug for HttpConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConnect")
            .field("proxy", &self.proxy)
            .field("done", &self.done)
            .field("head_bytes", &self.head.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(url: &str, target: Target) -> HttpConnect {
        HttpConnect::new(&Proxy::parse(url).unwrap(), &target)
    }

    /// Feeds `bytes` split at every position, checking each gives `want`.
    fn every_split(url: &str, bytes: &[u8], want: &Result<Status, ProxyError>) {
        for cut in 0..=bytes.len() {
            let mut c = connect(url, Target::domain("example.com", 443));
            let _ = c.poll_transmit();
            let first = c.handle_input(&bytes[..cut]);
            let got = match first {
                Ok(Status::Pending) => c.handle_input(&bytes[cut..]),
                Ok(Status::Done) if cut == bytes.len() => Ok(Status::Done),
                other => other,
            };
            assert_eq!(&got, want, "split at {cut}");
        }
    }

    #[test]
    fn the_request_names_the_target_and_authenticates() {
        let mut c = connect(
            "http://Aladdin:open%20sesame@p:3128",
            Target::domain("example.com", 443),
        );
        let request = c.poll_transmit().unwrap();
        assert_eq!(
            request,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
              Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        assert!(c.poll_transmit().is_none());
        assert!(!format!("{c:?}").contains("QWxh"));
    }

    #[test]
    fn ipv6_targets_are_bracketed() {
        let mut c = connect("http://p:1", Target::domain("::1", 9001));
        let request = c.poll_transmit().unwrap();
        assert!(request.starts_with(b"CONNECT [::1]:9001 HTTP/1.1\r\nHost: [::1]:9001\r\n\r\n"));
        let mut c = connect("http://p:1", Target::Addr("[::1]:80".parse().unwrap()));
        assert!(c.poll_transmit().unwrap().starts_with(b"CONNECT [::1]:80 "));
    }

    #[test]
    fn a_2xx_opens_the_tunnel_at_any_split() {
        let ok = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n";
        every_split("http://p:1", ok, &Ok(Status::Done));
        every_split("http://p:1", b"HTTP/1.0 204 OK\r\n\r\n", &Ok(Status::Done));
    }

    #[test]
    fn a_407_is_a_refusal_with_its_reason() {
        let head = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                     Proxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n";
        let refused = ProxyError::Refused {
            proxy: "http://p:1".into(),
            status: 407,
            reason: "Proxy Authentication Required".into(),
        };
        every_split("http://u:secret@p:1", head, &Err(refused.clone()));
        let text = refused.to_string();
        assert!(
            text.contains("407") && text.contains("http://p:1"),
            "{text}"
        );
        assert!(!text.contains("secret"));
    }

    #[test]
    fn garbage_and_early_bytes_are_malformed() {
        let mut c = connect("http://p:1", Target::domain("h", 1));
        assert!(matches!(
            c.handle_input(b"SSH-2.0-OpenSSH\r\n"),
            Err(ProxyError::Malformed { .. })
        ));
        let mut c = connect("http://p:1", Target::domain("h", 1));
        assert!(matches!(
            c.handle_input(b"HTTP/1.1 200 OK\r\n\r\nextra"),
            Err(ProxyError::Malformed { .. })
        ));
        let mut c = connect("http://p:1", Target::domain("h", 1));
        assert_eq!(c.handle_input(b"HTTP/1.1 200 OK\r\n\r\n"), Ok(Status::Done));
        assert!(c.handle_input(b"x").is_err());
    }

    #[test]
    fn an_endless_head_stops_at_the_limit() {
        let mut c = connect("http://p:1", Target::domain("h", 1));
        assert_eq!(c.handle_input(b"HTTP/1.1 200 OK\r\n"), Ok(Status::Pending));
        let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut result = Ok(Status::Pending);
        for _ in 0..(2 * MAX_RESPONSE_HEAD / line.len()) {
            result = c.handle_input(line);
            if result.is_err() {
                break;
            }
        }
        assert!(
            matches!(
                result,
                Err(ProxyError::TooLarge { .. } | ProxyError::Malformed { .. })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn eof_names_the_proxy() {
        let c = connect("http://u:pw@p:1", Target::domain("h", 1));
        assert_eq!(
            c.handle_eof().to_string(),
            "proxy http://p:1 closed the connection before the tunnel opened"
        );
    }
}
