//! What a client connects to, read from its `ws://` or `wss://` URL.

use crate::result::{Error, ErrorKind, Result};

/// Host and port of a `ws://` or `wss://` URL, and whether it is `wss://`.
/// Without the `rustls` feature, `wss://` is an error that names it.
fn host_port(url: &url::Url) -> Result<(String, u16, bool)> {
    let secure = match url.scheme() {
        "ws" => false,
        "wss" if cfg!(feature = "rustls") => true,
        "wss" => {
            return Err(Error::new(
                ErrorKind::Protocol,
                "wss:// needs TLS: enable the `rustls` feature of the `ws` crate",
            ));
        }
        other => {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("unsupported URL scheme {other:?}"),
            ));
        }
    };
    let host = url
        .host_str()
        .ok_or_else(|| Error::new(ErrorKind::Internal, "URL has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    Ok((host, port, secure))
}

/// `url` without its credentials, for logs and errors.
pub(crate) fn redacted(url: &url::Url) -> url::Url {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

/// Where a client connection goes and through what, worked out once from
/// its URL and the proxy setting for either runtime, which then only binds
/// the transports (TCP, the tunnel, TLS) to it.
pub(crate) struct Destination {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The proxy to tunnel through, if any.
    pub(crate) proxy: Option<ws_proto::proxy::Proxy>,
    /// The server's name for TLS, for a `wss://` URL.
    #[cfg(feature = "rustls")]
    pub(crate) tls_name: Option<rustls::pki_types::ServerName<'static>>,
}

impl Destination {
    /// The destination of `url`, or why it cannot be dialled (a scheme we
    /// do not speak, no host, a host TLS cannot name, a bad proxy).
    pub(crate) fn of(url: &url::Url, proxy: &crate::proxy::ProxySetting) -> Result<Self> {
        let (host, port, secure) = host_port(url)?;
        #[cfg(feature = "rustls")]
        let tls_name = secure
            .then(|| crate::tls_config::server_name(url))
            .transpose()?;
        let proxy = crate::proxy::choose(secure, &host, proxy)?;
        Ok(Self {
            host,
            port,
            proxy,
            #[cfg(feature = "rustls")]
            tls_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wss_needs_the_rustls_feature_and_says_so() {
        let url = url::Url::parse("wss://example.com/chat").unwrap();
        if cfg!(feature = "rustls") {
            let hp = host_port(&url).unwrap();
            assert_eq!(hp, ("example.com".to_owned(), 443, true));
        } else {
            let e = host_port(&url).unwrap_err();
            assert!(e.to_string().contains("`rustls` feature"), "{e}");
        }
        let url = url::Url::parse("ws://[::1]:9001/").unwrap();
        assert_eq!(host_port(&url).unwrap(), ("::1".to_owned(), 9001, false));
    }

    #[test]
    fn redacted_urls_have_no_credentials() {
        let url = url::Url::parse("ws://user:secret@example.com:81/chat?x=1").unwrap();
        assert_eq!(redacted(&url).as_str(), "ws://example.com:81/chat?x=1");
    }
}
