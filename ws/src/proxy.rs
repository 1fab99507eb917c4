//! Client connections through a proxy: the settings, and the choice of
//! proxy for a URL.
//!
//! The negotiations themselves are the core's ([`ws_proto::proxy`]); a
//! runtime connects to the proxy, moves the negotiation's bytes, then runs
//! TLS (for `wss://`, checked for the server's name) and the upgrade
//! inside the tunnel, as over a direct connection.

pub use ws_proto::proxy::{Proxy, ProxyError, ProxySetting};

use crate::result::{Error, Result};

/// The proxy for a client connection to `host` (the URL's host, without
/// brackets), from `setting` and, for [`ProxySetting::Environment`], the
/// process environment.
pub(crate) fn choose(secure: bool, host: &str, setting: &ProxySetting) -> Result<Option<Proxy>> {
    ws_proto::proxy::proxy_for_url(secure, host, setting, |name| std::env::var(name).ok())
        .map_err(|e| Error::from(std::io::Error::other(e)))
}
