//! Following a server's redirect in the opening handshake.
//!
//! The core reports a 301, 302, 303, 307 or 308 with a `Location` as
//! [`HandshakeError::Redirect`]; a runtime that follows redirects computes
//! the next URL here and dials it, up to a limit. What is followed:
//!
//! - a relative `Location` is resolved against the URL of the request;
//! - `http://` and `https://` locations are read as `ws://` and `wss://`
//!   (the same transport, as Python's `websockets` does);
//! - never from `wss://` to `ws://` (the connection would lose its
//!   encryption without the application knowing);
//! - the URL's credentials (`user:pass@`, sent as `Authorization`) are kept
//!   only while the host and port stay the same;
//! - a URL already visited is a loop, and more than the limit is refused.
//!
//! The default limit, [`DEFAULT_MAX_REDIRECTS`], is Python `websockets`'s
//! (10). Browsers do not follow redirects of a WebSocket handshake at all
//! (the WHATWG fetch standard fails the connection); a limit of 0 does the
//! same.

use url::Url;

use crate::HandshakeError;

/// Why a redirect is not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The `Location` is not a valid URL.
    InvalidLocation,
    /// The `Location` is not a `ws://`, `wss://`, `http://` or `https://` URL.
    NotWebSocket,
    /// From `wss://` to `ws://`.
    Downgrade,
    /// Back to a URL already visited.
    Loop,
    /// One more than the limit.
    TooMany,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::InvalidLocation => "the Location is not a valid URL",
            Self::NotWebSocket => "the Location is not a ws:// or wss:// URL",
            Self::Downgrade => "a downgrade from wss:// to ws://",
            Self::Loop => "a redirect loop",
            Self::TooMany => "more redirects than the limit",
        })
    }
}

/// The number of redirects followed by default: 10, as Python
/// `websockets` (`WEBSOCKETS_MAX_REDIRECTS`).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// The URL to dial after `from` answered with a redirect to `location`,
/// given the URLs `visited` so far (`from` included) and the `max`
/// redirects allowed.
pub fn next_url(
    from: &Url,
    location: &str,
    visited: &[Url],
    max: usize,
) -> Result<Url, HandshakeError> {
    let refused = |reason| HandshakeError::RedirectRefused {
        reason,
        location: location.to_owned(),
    };
    let mut next = from
        .join(location)
        .map_err(|_| refused(Refusal::InvalidLocation))?;
    let scheme = match next.scheme() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(refused(Refusal::NotWebSocket)),
    };
    if next.scheme() != scheme {
        // `Url::set_scheme` refuses to move between "special" schemes and
        // others; rebuilding from text does not.
        let text = next.as_str().replacen(next.scheme(), scheme, 1);
        next = Url::parse(&text).map_err(|_| refused(Refusal::InvalidLocation))?;
    }
    if from.scheme() == "wss" && scheme == "ws" {
        return Err(refused(Refusal::Downgrade));
    }
    if next.host_str() != from.host_str()
        || next.port_or_known_default() != from.port_or_known_default()
    {
        // Credentials were for the old host.
        let _ = next.set_username("");
        let _ = next.set_password(None);
    }
    next.set_fragment(None);
    if visited.contains(&next) {
        return Err(refused(Refusal::Loop));
    }
    if visited.len() > max {
        return Err(refused(Refusal::TooMany));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn next(from: &str, location: &str) -> Result<String, HandshakeError> {
        next_url(&url(from), location, &[url(from)], DEFAULT_MAX_REDIRECTS).map(String::from)
    }

    #[test]
    fn relative_and_absolute_locations() {
        assert_eq!(next("ws://h:1/a/b?x", "c").unwrap(), "ws://h:1/a/c");
        assert_eq!(next("ws://h:1/a/b", "/root").unwrap(), "ws://h:1/root");
        assert_eq!(next("ws://h:1/a", "//other:2/p").unwrap(), "ws://other:2/p");
        assert_eq!(next("ws://h/a", "wss://s/p").unwrap(), "wss://s/p");
        assert_eq!(next("ws://h/a", "http://s:8/p").unwrap(), "ws://s:8/p");
        assert_eq!(next("wss://h/a", "https://s/p").unwrap(), "wss://s/p");
    }

    #[test]
    fn a_downgrade_is_refused() {
        for location in ["ws://h/a", "http://h/a"] {
            let e = next("wss://h/a", location).unwrap_err();
            assert!(e.to_string().contains("downgrade"), "{e}");
        }
        assert!(next("wss://h/a", "/b").is_ok());
    }

    #[test]
    fn credentials_stay_on_their_host() {
        assert_eq!(next("ws://u:p@h/a", "/b").unwrap(), "ws://u:p@h/b");
        assert_eq!(
            next("ws://u:p@h/a", "ws://other/b").unwrap(),
            "ws://other/b"
        );
        assert_eq!(next("ws://u:p@h:1/a", "ws://h:2/b").unwrap(), "ws://h:2/b");
    }

    #[test]
    fn loops_and_limits() {
        let a = url("ws://h/a");
        let b = url("ws://h/b");
        let e = next_url(&b, "/a", &[a.clone(), b.clone()], 10).unwrap_err();
        assert!(e.to_string().contains("loop"), "{e}");
        let visited: Vec<Url> = (0..3).map(|i| url(&format!("ws://h/{i}"))).collect();
        assert!(next_url(&visited[2], "/x", &visited, 2).is_err());
        assert!(next_url(&visited[2], "/x", &visited, 3).is_ok());
        let e = next_url(&a, "/x", std::slice::from_ref(&a), 0).unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(next("ws://h/a", "ftp://h/a").is_err());
        assert!(next("ws://h/a", "mailto:x@y").is_err());
    }
}
