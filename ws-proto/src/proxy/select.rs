//! Which proxy, if any, a client uses for a URL.

use std::net::IpAddr;

use super::{Proxy, ProxyError};

/// Where a client's proxy comes from.
///
/// The default is [`ProxySetting::Environment`], as curl, Python's
/// `websockets` (since 15.0), Go's `net/http` and most command-line tools
/// do: on networks that need a proxy, administrators set `HTTPS_PROXY` and
/// expect every client to follow it, and on others the variables are unset
/// so nothing changes. Setting [`Direct`](Self::Direct) or an explicit
/// [`Proxy`](Self::Proxy) turns the environment off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// Read the proxy from the environment, as [`proxy_for_url`] describes.
    #[default]
    Environment,
    /// Connect directly, whatever the environment says.
    Direct,
    /// Use this proxy for every URL (`NO_PROXY` is not read either).
    Proxy(Proxy),
}

/// The proxy for a `ws://` or `wss://` URL (`host` is the URL's host, an
/// IPv6 address with or without brackets), or `None` to connect directly.
///
/// With [`ProxySetting::Environment`], `env` is asked for variables (pass
/// `|name| std::env::var(name).ok()`; tests pass a map), following curl:
///
/// - `wss://` uses `https_proxy`, `ws://` uses `http_proxy`, both fall back
///   to `all_proxy`. Each name is read lower-case first, then upper-case
///   (the lower-case one wins when both are set); an empty value counts as
///   unset.
/// - `no_proxy` (then `NO_PROXY`) is a list separated by commas or spaces:
///   `*` bypasses the proxy for every host; a name matches itself and its
///   subdomains (`example.com` and `.example.com` both match
///   `example.com` and `a.example.com`, not `badexample.com`); an IP
///   address matches itself and `10.0.0.0/8`-style entries match a range.
///   Names are compared without case; ports in entries are ignored.
///
/// An invalid proxy URL in the environment is an error, not a silent
/// direct connection.
pub fn proxy_for_url(
    secure: bool,
    host: &str,
    setting: &ProxySetting,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    match setting {
        ProxySetting::Direct => Ok(None),
        ProxySetting::Proxy(p) => Ok(Some(p.clone())),
        ProxySetting::Environment => {
            let var = |name: &str| {
                env(name)
                    .or_else(|| env(&name.to_ascii_uppercase()))
                    .filter(|v| !v.trim().is_empty())
            };
            let scheme_var = if secure { "https_proxy" } else { "http_proxy" };
            let Some(url) = var(scheme_var).or_else(|| var("all_proxy")) else {
                return Ok(None);
            };
            if let Some(list) = var("no_proxy") {
                if no_proxy_matches(&list, host) {
                    return Ok(None);
                }
            }
            Proxy::parse(&url).map(Some)
        }
    }
}

/// Whether a `NO_PROXY` list (see [`proxy_for_url`]) names `host`.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ip = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = strip_port(entry).to_ascii_lowercase();
            if let Some((net, bits)) = entry.split_once('/') {
                return match (host_ip, net.parse::<IpAddr>(), bits.parse::<u8>()) {
                    (Some(ip), Ok(net), Ok(bits)) => in_range(ip, net, bits),
                    _ => false,
                };
            }
            if let (Some(ip), Ok(e)) = (host_ip, entry.parse::<IpAddr>()) {
                return ip == e;
            }
            let suffix = entry.trim_start_matches('.').trim_end_matches('.');
            !suffix.is_empty()
                && (host == suffix
                    || (host.ends_with(suffix)
                        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'))
        })
}

/// `host:port` -> `host`, `[v6]:port` or `[v6]` -> `v6`; a bare IPv6
/// address is kept whole.
fn strip_port(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
        _ => entry,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn pick(secure: bool, host: &str, vars: &[(&str, &str)]) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        proxy_for_url(secure, host, &ProxySetting::Environment, |k| {
            map.get(k).cloned()
        })
        .unwrap()
        .map(|p| p.to_string())
    }

    #[test]
    fn each_scheme_reads_its_variable_then_all_proxy() {
        let vars = [
            ("http_proxy", "http://h:1"),
            ("https_proxy", "http://s:2"),
            ("all_proxy", "socks5h://a:3"),
        ];
        assert_eq!(pick(false, "x", &vars).as_deref(), Some("http://h:1"));
        assert_eq!(pick(true, "x", &vars).as_deref(), Some("http://s:2"));
        let only_all = [("ALL_PROXY", "socks5h://a:3")];
        assert_eq!(pick(true, "x", &only_all).as_deref(), Some("socks5h://a:3"));
        assert_eq!(
            pick(false, "x", &only_all).as_deref(),
            Some("socks5h://a:3")
        );
        assert_eq!(pick(true, "x", &[("http_proxy", "http://h:1")]), None);
        assert_eq!(pick(true, "x", &[]), None);
    }

    #[test]
    fn lower_case_wins_and_empty_is_unset() {
        let vars = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
        ];
        assert_eq!(pick(true, "x", &vars).as_deref(), Some("http://lower:2"));
        let vars = [("HTTPS_PROXY", "http://upper:1")];
        assert_eq!(pick(true, "x", &vars).as_deref(), Some("http://upper:1"));
        let vars = [("https_proxy", " "), ("all_proxy", "http://all:3")];
        assert_eq!(pick(true, "x", &vars).as_deref(), Some("http://all:3"));
    }

    #[test]
    fn no_proxy_bypasses() {
        let base = ("https_proxy", "http://p:1");
        for (list, host, bypass) in [
            ("*", "anything.example", true),
            ("example.com", "example.com", true),
            ("example.com", "a.b.example.com", true),
            (".example.com", "example.com", true),
            ("example.com", "badexample.com", false),
            ("EXAMPLE.com:443", "Example.COM", true),
            ("localhost, 127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("10.0.0.0/8", "10.20.30.40", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("::1", "[::1]", true),
            ("[::1]:80", "::1", true),
            ("fd00::/8", "fd12::1", true),
            ("other.org", "example.com", false),
            ("", "example.com", false),
        ] {
            let got = pick(true, host, &[base, ("no_proxy", list)]);
            assert_eq!(got.is_none(), bypass, "{list:?} vs {host:?}");
        }
        let vars = [base, ("NO_PROXY", "example.com")];
        assert_eq!(pick(true, "example.com", &vars), None);
    }

    #[test]
    fn a_setting_turns_the_environment_off() {
        let env = |_: &str| Some("http://from-env:1".to_owned());
        assert_eq!(
            proxy_for_url(true, "x", &ProxySetting::Direct, env),
            Ok(None)
        );
        let explicit = Proxy::parse("socks5://mine:2").unwrap();
        let got = proxy_for_url(true, "x", &ProxySetting::Proxy(explicit.clone()), |k| {
            (k == "no_proxy").then(|| "*".to_owned()).or(env(k))
        });
        assert_eq!(got, Ok(Some(explicit)));
    }

    #[test]
    fn a_bad_environment_url_is_an_error() {
        let got = proxy_for_url(false, "x", &ProxySetting::Environment, |k| {
            (k == "http_proxy").then(|| "ftp://u:secret@p".to_owned())
        });
        let e = got.unwrap_err();
        assert!(matches!(e, ProxyError::UnsupportedScheme(_)));
        assert!(!e.to_string().contains("secret"));
    }
}
