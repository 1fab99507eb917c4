//! The server's check of a browser's `Origin` (RFC 6455 section 10.2),
//! against cross-site WebSocket hijacking.
//!
//! A browser lets any page open a WebSocket to any server, and sends the
//! cookies and HTTP authentication it holds for that server with the
//! upgrade. Same-origin policy does not apply to WebSockets: a hostile page
//! can talk to a server in the user's name unless the server looks at
//! `Origin`, which browsers always send and pages cannot forge. So a server
//! that relies on cookies or other ambient credentials must check it.
//! Clients other than browsers usually send no `Origin`; they cannot be
//! used for this attack, so a request without one passes the check.

use crate::error::HandshakeError;
use crate::handshake::Request;

/// Which `Origin` values a server accepts; anything else is refused with
/// 403 ([`HandshakeError::Origin`]).
///
/// The default accepts every origin (no check), as RFC 6455 leaves the
/// policy to the server. With [`same_host`](Self::same_host) or a
/// non-empty [`allowed`](Self::allowed) list, a request that has an
/// `Origin` must match one of them; a request without `Origin` (not from a
/// browser) is accepted.
///
/// ```
/// let policy = ws_proto::OriginPolicy {
///     same_host: true,
///     allowed: vec!["https://app.example.com".into()],
/// };
/// # let _ = policy;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OriginPolicy {
    /// Accept an origin whose host and port are those of the `Host` header
    /// (a page served by this same server). A default port (`:80` for
    /// `http`, `:443` for `https`) may be written or left out on either
    /// side. Default false.
    pub same_host: bool,
    /// Origins accepted as written, such as `https://app.example.com`
    /// (scheme, host and port if not the default; compared ignoring ASCII
    /// case). Default: empty.
    pub allowed: Vec<String>,
}

impl OriginPolicy {
    /// Whether any check is configured.
    pub fn is_enabled(&self) -> bool {
        self.same_host || !self.allowed.is_empty()
    }

    /// Checks a request's `Origin` against the policy.
    pub fn check(&self, request: &Request) -> Result<(), HandshakeError> {
        self.check_parts(request.header("Origin"), request.header_str("Host"))
    }

    /// [`check`](Self::check) on the values themselves: the `Origin`
    /// header and the host the request is for (`Host` in HTTP/1.1,
    /// `:authority` in HTTP/2).
    pub(crate) fn check_parts(
        &self,
        origin: Option<&[u8]>,
        host: Option<&str>,
    ) -> Result<(), HandshakeError> {
        if !self.is_enabled() {
            return Ok(());
        }
        let Some(origin) = origin else {
            return Ok(());
        };
        let origin = String::from_utf8_lossy(origin.trim_ascii());
        let allowed = self
            .allowed
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(&origin));
        let same = self.same_host && host.is_some_and(|host| same_host(&origin, host.trim()));
        if allowed || same {
            Ok(())
        } else {
            Err(HandshakeError::Origin(origin.into_owned()))
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the host and port of a
/// `Host` header value.
fn same_host(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let strip = |s: &str| -> String {
        let s = s.to_ascii_lowercase();
        match s.strip_suffix(default) {
            Some(rest) => rest.to_owned(),
            None => s,
        }
    };
    !authority.is_empty() && !authority.contains('/') && strip(authority) == strip(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: Option<&str>, host: &str) -> Request {
        let mut headers = vec![("Host".to_owned(), host.as_bytes().to_vec())];
        if let Some(o) = origin {
            headers.push(("Origin".to_owned(), o.as_bytes().to_vec()));
        }
        Request {
            method: "GET".into(),
            path: "/".into(),
            headers,
        }
    }

    #[test]
    fn the_default_accepts_every_origin() {
        let policy = OriginPolicy::default();
        assert!(!policy.is_enabled());
        assert_eq!(
            policy.check(&request(Some("https://evil.example"), "a")),
            Ok(())
        );
    }

    #[test]
    fn same_host_and_allowed_lists() {
        let same = OriginPolicy {
            same_host: true,
            allowed: Vec::new(),
        };
        let list = OriginPolicy {
            same_host: false,
            allowed: vec!["https://app.example.com".into()],
        };
        let cases: &[(&OriginPolicy, Option<&str>, &str, bool)] = &[
            (&same, Some("http://127.0.0.1:3012"), "127.0.0.1:3012", true),
            (&same, Some("http://Example.com"), "example.com:80", true),
            (&same, Some("https://example.com:443"), "example.com", true),
            (&same, Some("https://example.com"), "example.com:80", false),
            (&same, Some("http://evil.example"), "127.0.0.1:3012", false),
            (
                &same,
                Some("http://127.0.0.1:3013"),
                "127.0.0.1:3012",
                false,
            ),
            (&same, Some("null"), "127.0.0.1:3012", false),
            (&same, Some("file://"), "x", false),
            (&same, None, "127.0.0.1:3012", true),
            (
                &list,
                Some("https://APP.example.com"),
                "ws.example.com",
                true,
            ),
            (&list, Some("https://app.example.com:8443"), "x", false),
            (&list, Some("https://evil.example"), "x", false),
            (&list, None, "x", true),
        ];
        for (policy, origin, host, ok) in cases {
            let got = policy.check(&request(*origin, host));
            if *ok {
                assert_eq!(got, Ok(()), "{origin:?} {host}");
            } else {
                let err = got.expect_err(&format!("{origin:?} {host}"));
                assert_eq!(err.status(), 403);
            }
        }
    }
}
