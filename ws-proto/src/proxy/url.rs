//! A proxy's URL: its kind, address and credentials.

use std::fmt;

use super::ProxyError;

/// The protocol spoken to a proxy, from its URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyKind {
    /// `http://`: an HTTP proxy asked for a tunnel with `CONNECT`.
    Http,
    /// `https://`: the same, over TLS to the proxy itself.
    Https,
    /// `socks5://`: SOCKS5, the client resolves the server's name and sends
    /// the proxy an IP address.
    Socks5,
    /// `socks5h://`: SOCKS5, the proxy resolves the server's name (the
    /// client sends it the name).
    Socks5h,
}

impl ProxyKind {
    fn scheme(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Socks5 => "socks5",
            Self::Socks5h => "socks5h",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            // curl's default for proxies without a port.
            Self::Http => 1080,
            Self::Https => 443,
            Self::Socks5 | Self::Socks5h => 1080,
        }
    }
}

/// A username and password for a proxy (Basic `Proxy-Authorization` for
/// HTTP, RFC 1929 for SOCKS5).
///
/// Its `Debug` shows neither: credentials must not reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username, percent-decoded from the URL.
    pub username: String,
    /// The password, percent-decoded from the URL (empty when the URL gave
    /// none).
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials { <redacted> }")
    }
}

/// A proxy, parsed from a URL such as `http://user:pass@proxy.example:3128`
/// or `socks5h://127.0.0.1:1080`.
///
/// A URL without a scheme (`proxy.example:3128`, as often found in
/// `HTTP_PROXY`) is an `http://` proxy, as curl reads it. Without a port,
/// `http://` and the SOCKS schemes use 1080 (curl's default) and
/// `https://` uses 443.
///
/// `Display` and `Debug` give `scheme://host:port` without the
/// credentials, so a `Proxy` can be put in an error or a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<Credentials>,
}

impl Proxy {
    /// Parses a proxy URL. The error never contains the URL itself (it may
    /// hold a password).
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let url = url.trim();
        let with_scheme;
        let text = if url.contains("://") {
            url
        } else {
            with_scheme = format!("http://{url}");
            &with_scheme
        };
        let parsed = ::url::Url::parse(text).map_err(|e| ProxyError::InvalidUrl(e.to_string()))?;
        let kind = match parsed.scheme() {
            "http" => ProxyKind::Http,
            "https" => ProxyKind::Https,
            "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            other => return Err(ProxyError::UnsupportedScheme(other.to_owned())),
        };
        let host = match parsed.host() {
            Some(::url::Host::Domain(d)) => d.to_owned(),
            Some(::url::Host::Ipv4(ip)) => ip.to_string(),
            Some(::url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(ProxyError::InvalidUrl("no host".into())),
        };
        let port = parsed.port().unwrap_or(kind.default_port());
        let credentials = if parsed.username().is_empty() && parsed.password().is_none() {
            None
        } else {
            Some(Credentials {
                username: percent_decode(parsed.username())?,
                password: percent_decode(parsed.password().unwrap_or(""))?,
            })
        };
        Ok(Self {
            kind,
            host,
            port,
            credentials,
        })
    }

    /// The protocol spoken to the proxy.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host name or IP address (an IPv6 address without
    /// brackets), to connect the socket to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The credentials from the URL's userinfo, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Whether the client must resolve the server's name itself before
    /// asking the proxy (`socks5://`): then the runtime resolves it and
    /// gives the [`Target`](super::Target) as an address.
    pub fn resolves_locally(&self) -> bool {
        self.kind == ProxyKind::Socks5
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.kind.scheme(), self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.kind.scheme(), self.host, self.port)
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({self}")?;
        if self.credentials.is_some() {
            f.write_str(", with credentials")?;
        }
        f.write_str(")")
    }
}

/// Decodes `%XX` escapes (the url crate leaves userinfo percent-encoded).
fn percent_decode(text: &str) -> Result<String, ProxyError> {
    String::from_utf8(crate::handshake::percent_decode(text))
        .map_err(|_| ProxyError::InvalidUrl("credentials are not UTF-8 once decoded".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme_with_defaults() {
        let p = Proxy::parse("http://proxy.example:3128").unwrap();
        assert_eq!(
            (p.kind(), p.host(), p.port()),
            (ProxyKind::Http, "proxy.example", 3128)
        );
        assert!(p.credentials().is_none());
        assert_eq!(Proxy::parse("https://p").unwrap().port(), 443);
        assert_eq!(Proxy::parse("socks5://p").unwrap().port(), 1080);
        let h = Proxy::parse("socks5h://[::1]:9050").unwrap();
        assert_eq!((h.kind(), h.host()), (ProxyKind::Socks5h, "::1"));
        assert_eq!(h.to_string(), "socks5h://[::1]:9050");
        assert!(!h.resolves_locally());
        assert!(Proxy::parse("socks5://p").unwrap().resolves_locally());
    }

    #[test]
    fn no_scheme_means_http() {
        let p = Proxy::parse("10.0.0.1:8080").unwrap();
        assert_eq!(
            (p.kind(), p.host(), p.port()),
            (ProxyKind::Http, "10.0.0.1", 8080)
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(matches!(
            Proxy::parse("socks4://p:1"),
            Err(ProxyError::UnsupportedScheme(s)) if s == "socks4"
        ));
        assert!(Proxy::parse("http://").is_err());
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let p = Proxy::parse("http://us%40er:p%3Ass%25w0rd@proxy:3128").unwrap();
        let c = p.credentials().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("us@er", "p:ss%w0rd")
        );
        for text in [p.to_string(), format!("{p:?}"), format!("{c:?}")] {
            assert!(
                !text.contains("us@er") && !text.contains("us%40er"),
                "{text}"
            );
            assert!(!text.contains("p:ss") && !text.contains("w0rd"), "{text}");
            assert!(!text.contains("%40") && !text.contains("%3A"), "{text}");
        }
        assert_eq!(p.to_string(), "http://proxy:3128");
        assert_eq!(
            format!("{p:?}"),
            "Proxy(http://proxy:3128, with credentials)"
        );
    }

    #[test]
    fn a_user_without_password_has_an_empty_one() {
        let p = Proxy::parse("socks5://alice@p:1").unwrap();
        let c = p.credentials().unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("alice", ""));
    }
}
