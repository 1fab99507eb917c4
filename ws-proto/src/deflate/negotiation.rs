//! Negotiating permessage-deflate in the opening handshake: the
//! configuration, the offer, the server's choice, the client's check of the
//! response, and the window sizes and context rules that follow for each role.

use std::fmt;

use super::{EXTENSION_NAME, MAX_WINDOW_BITS, MIN_WINDOW_BITS, budget};
use crate::error::HandshakeError;

/// How permessage-deflate is offered, accepted and used.
///
/// The same configuration serves both roles; the fields say what this end
/// does ("this end" compresses what it sends, "the peer" compresses what it
/// sends to this end). Window sizes are base-2 logarithms, 8 to 15; values
/// outside that range are clamped.
///
/// ```
/// let config = ws_proto::Config {
///     deflate: Some(ws_proto::DeflateConfig {
///         max_window_bits: 12,
///         peer_max_window_bits: 12,
///         ..Default::default()
///     }),
///     ..Default::default()
/// };
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeflateConfig {
    /// The compression level, 0 (no compression, stored blocks) to 9
    /// (best); larger values are taken as 9. Default 6, zlib's default.
    pub level: u32,
    /// Messages shorter than this many bytes are sent uncompressed. Default 64.
    pub threshold: usize,
    /// The largest window this end compresses with. A server tells the
    /// client with `server_max_window_bits` when it is below 15; a client
    /// offers it as the `client_max_window_bits` hint. Default 15.
    pub max_window_bits: u8,
    /// The largest window the peer may compress with. A client asks for it
    /// with `server_max_window_bits`; a server answers with
    /// `client_max_window_bits`, and declines an offer that does not let it
    /// (one without `client_max_window_bits`) when this is below 15. A
    /// smaller window saves the peer's memory, not this end's: the
    /// decompressor allocates 32 KiB whatever the window. Default 15.
    pub peer_max_window_bits: u8,
    /// This end starts every compressed message from an empty window
    /// instead of the previous messages (a server says so with
    /// `server_no_context_takeover`; a client offers
    /// `client_no_context_takeover`). Compresses less, and makes each
    /// message's compressed size independent of the earlier ones. Default false.
    pub no_context_takeover: bool,
    /// Ask the peer to start every compressed message from an empty window
    /// (`server_no_context_takeover` in a client's offer,
    /// `client_no_context_takeover` in a server's answer). Default false.
    pub peer_no_context_takeover: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 6,
            threshold: 64,
            max_window_bits: MAX_WINDOW_BITS,
            peer_max_window_bits: MAX_WINDOW_BITS,
            no_context_takeover: false,
            peer_no_context_takeover: false,
        }
    }
}

fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// The parameters of an accepted permessage-deflate, exactly as the
/// server's response states them (RFC 7692 section 7.1). A window size left
/// out is 15.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server starts every message from an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts every message from an empty window.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with, if stated.
    pub server_max_window_bits: Option<u8>,
    /// The largest window the client compresses with, if stated.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// Parses a server's response element, such as
    /// `permessage-deflate; server_no_context_takeover; client_max_window_bits=10`.
    /// Unknown or repeated parameters, missing or out-of-range values, and a
    /// bare `client_max_window_bits` (allowed only in offers) are errors.
    ///
    /// ```
    /// let p = ws_proto::DeflateParams::parse("permessage-deflate; server_max_window_bits=10").unwrap();
    /// assert_eq!(p.server_max_window_bits, Some(10));
    /// assert!(ws_proto::DeflateParams::parse("permessage-deflate; server_max_window_bits=16").is_err());
    /// ```
    pub fn parse(element: &str) -> Result<Self, HandshakeError> {
        let offer = match parse_element(element) {
            None => {
                return Err(HandshakeError::Extension(format!(
                    "{:?} is not {EXTENSION_NAME}",
                    element.trim()
                )));
            }
            Some(Err(why)) => return Err(HandshakeError::Extension(why)),
            Some(Ok(offer)) => offer,
        };
        let client_max_window_bits = match offer.client_max_window_bits {
            None => None,
            Some(Some(bits)) => Some(bits),
            Some(None) => {
                return Err(HandshakeError::Extension(
                    "client_max_window_bits without a value in a response".into(),
                ));
            }
        };
        Ok(Self {
            server_no_context_takeover: offer.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover,
            server_max_window_bits: offer.server_max_window_bits,
            client_max_window_bits,
        })
    }

    /// The window the server compresses with at most: the stated size, or 15.
    pub fn server_window_bits(&self) -> u8 {
        self.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS)
    }

    /// The window the client compresses with at most: the stated size, or 15.
    pub fn client_window_bits(&self) -> u8 {
        self.client_max_window_bits.unwrap_or(MAX_WINDOW_BITS)
    }
}

/// Writes the response element, the value of the server's
/// `Sec-WebSocket-Extensions` header.
impl fmt::Display for DeflateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXTENSION_NAME)?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        if let Some(bits) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={bits}")?;
        }
        Ok(())
    }
}

/// One parsed offer (or response) element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in offers only).
    client_max_window_bits: Option<Option<u8>>,
}

/// Parses one element of `Sec-WebSocket-Extensions`. `None` when it is
/// another extension; `Some(Err)` when it is permessage-deflate with
/// parameters RFC 7692 does not allow (section 7: unknown or repeated
/// parameters, values out of range or where none is allowed).
fn parse_element(element: &str) -> Option<Result<Offer, String>> {
    let mut parts = element.split(';');
    let name = parts.next().unwrap_or("").trim();
    if !name.eq_ignore_ascii_case(EXTENSION_NAME) {
        return None;
    }
    Some(parse_params(parts))
}

fn parse_params<'a>(parts: impl Iterator<Item = &'a str>) -> Result<Offer, String> {
    let mut offer = Offer::default();
    let mut seen = [false; 4];
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()))),
            None => (part.trim(), None),
        };
        let index = match key.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            _ => return Err(format!("unknown parameter {key:?}")),
        };
        // Section 7: "A server MUST decline an extension negotiation offer
        // for this extension if ... the offer has more than one parameter of
        // the same name."
        if std::mem::replace(&mut seen[index], true) {
            return Err(format!("parameter {key} appears twice"));
        }
        match (index, value) {
            (0, None) => offer.server_no_context_takeover = true,
            (1, None) => offer.client_no_context_takeover = true,
            (0 | 1, Some(_)) => return Err(format!("parameter {key} takes no value")),
            (2, Some(v)) => offer.server_max_window_bits = Some(window_bits(key, v)?),
            (2, None) => return Err(format!("parameter {key} needs a value")),
            (_, Some(v)) => offer.client_max_window_bits = Some(Some(window_bits(key, v)?)),
            (_, None) => offer.client_max_window_bits = Some(None),
        }
    }
    Ok(offer)
}

/// The value of a quoted-string, or the token itself (RFC 7692 section 7.1
/// allows either; the unquoted value must match the same syntax).
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// Section 7.1.2: "a decimal integer value without leading zeroes between
/// 8 to 15, inclusive".
fn window_bits(key: &str, value: &str) -> Result<u8, String> {
    let valid =
        !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0');
    match value.parse::<u8>() {
        Ok(bits) if valid && (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) => Ok(bits),
        _ => Err(format!(
            "parameter {key} has the invalid value {value:?} (8 to 15)"
        )),
    }
}

impl DeflateConfig {
    /// The client's offer: the value of its `Sec-WebSocket-Extensions`
    /// header. It always says `client_max_window_bits` (without a value
    /// when this end allows 15 bits), so that the server may limit the
    /// window this end compresses with.
    ///
    /// ```
    /// let offer = ws_proto::DeflateConfig::default().offer();
    /// assert_eq!(offer, "permessage-deflate; client_max_window_bits");
    /// ```
    pub fn offer(&self) -> String {
        let mut offer = String::from(EXTENSION_NAME);
        if self.peer_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        if self.no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        let peer = clamp_bits(self.peer_max_window_bits);
        if peer < MAX_WINDOW_BITS {
            offer.push_str(&format!("; server_max_window_bits={peer}"));
        }
        let own = clamp_bits(self.max_window_bits);
        if own < MAX_WINDOW_BITS {
            offer.push_str(&format!("; client_max_window_bits={own}"));
        } else {
            offer.push_str("; client_max_window_bits");
        }
        offer
    }

    /// Server: chooses the first offer among `offers` (the elements of the
    /// request's `Sec-WebSocket-Extensions` headers, in order, as
    /// [`Request::extensions`](crate::Request::extensions) gives them) that
    /// this configuration can accept, and returns the parameters to answer
    /// with; their `to_string()` is the response header's value. `None` when no offer is acceptable:
    /// accept the connection without the extension.
    ///
    /// An offer with unknown or repeated parameters or invalid values is
    /// declined and the next one tried (RFC 7692 section 7); so is one that
    /// does not let this end limit the peer's window to
    /// [`peer_max_window_bits`](DeflateConfig::peer_max_window_bits).
    /// Every offer is declined while the process-wide
    /// [`budget`](crate::deflate_budget) has no room for one more
    /// connection's compressor and decompressor.
    ///
    /// ```
    /// let config = ws_proto::DeflateConfig { peer_max_window_bits: 10, ..Default::default() };
    /// let offers = ["permessage-deflate; foo", "permessage-deflate; client_max_window_bits"];
    /// let params = config.negotiate(offers).unwrap();
    /// assert_eq!(params.to_string(), "permessage-deflate; client_max_window_bits=10");
    /// ```
    pub fn negotiate<'a>(
        &self,
        offers: impl IntoIterator<Item = &'a str>,
    ) -> Option<DeflateParams> {
        let params = offers
            .into_iter()
            .filter_map(parse_element)
            .filter_map(Result::ok)
            .find_map(|offer| self.accept_offer(&offer))?;
        let compressor = match params.server_max_window_bits {
            _ if self.threshold == usize::MAX => 0,
            Some(bits) => budget::deflater_bytes(bits),
            None => budget::deflater_bytes(MAX_WINDOW_BITS),
        };
        budget::has_room(compressor + budget::INFLATER_BYTES).then_some(params)
    }

    fn accept_offer(&self, offer: &Offer) -> Option<DeflateParams> {
        let own = clamp_bits(self.max_window_bits);
        // Section 7.1.2.1: accept server_max_window_bits with the same or a
        // smaller value; state a smaller window of our own unasked.
        let server_max_window_bits = match offer.server_max_window_bits {
            Some(asked) => Some(asked.min(own)),
            None if own < MAX_WINDOW_BITS => Some(own),
            None => None,
        };
        // Section 7.1.2.2: client_max_window_bits may be answered only when
        // offered; without it the client may use 15 bits.
        let peer = clamp_bits(self.peer_max_window_bits);
        let client_max_window_bits = match offer.client_max_window_bits {
            _ if peer == MAX_WINDOW_BITS => None,
            Some(hint) => Some(hint.map_or(peer, |h| h.min(peer))),
            None => return None,
        };
        Some(DeflateParams {
            // Section 7.1.1.1: an offer with server_no_context_takeover is
            // accepted by answering with it.
            server_no_context_takeover: offer.server_no_context_takeover
                || self.no_context_takeover,
            client_no_context_takeover: self.peer_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        })
    }

    /// Client: checks the server's response element against the offers the
    /// request made (`offers`, the elements of its `Sec-WebSocket-Extensions`
    /// headers) and returns the agreed parameters. Fails, as RFC 7692
    /// section 7 requires of a client, when the response has an unknown,
    /// repeated or invalid parameter, or parameters that accept none of the
    /// offers (a window larger than the one asked for, a
    /// `client_max_window_bits` that was not offered, a missing
    /// `server_no_context_takeover` or `server_max_window_bits` that was
    /// asked for).
    pub fn check_response<'a>(
        &self,
        offers: impl IntoIterator<Item = &'a str>,
        response: &str,
    ) -> Result<DeflateParams, HandshakeError> {
        let params = DeflateParams::parse(response)?;
        let accepts = |offer: &Offer| {
            (!offer.server_no_context_takeover || params.server_no_context_takeover)
                && match (offer.server_max_window_bits, params.server_max_window_bits) {
                    (Some(asked), Some(got)) => got <= asked,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
                && (params.client_max_window_bits.is_none()
                    || offer.client_max_window_bits.is_some())
        };
        let any = offers
            .into_iter()
            .filter_map(parse_element)
            .filter_map(Result::ok)
            .any(|offer| accepts(&offer));
        if any {
            Ok(params)
        } else {
            Err(HandshakeError::Extension(format!(
                "the server's {:?} accepts none of the offers",
                response.trim()
            )))
        }
    }
}

/// The window sizes and context rules of one connection, for its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Directions {
    /// What this end compresses with; `None` when it must not compress
    /// (an 8-bit window that zlib cannot honour).
    pub(crate) compress_bits: Option<u8>,
    pub(crate) compress_reset: bool,
}

impl Directions {
    pub(crate) fn new(params: &DeflateParams, config: &DeflateConfig, server: bool) -> Self {
        let (own, own_reset) = if server {
            (
                params.server_window_bits(),
                params.server_no_context_takeover,
            )
        } else {
            (
                params.client_window_bits(),
                params.client_no_context_takeover,
            )
        };
        let own = own.min(clamp_bits(config.max_window_bits));
        Self {
            compress_bits: (own > MIN_WINDOW_BITS).then_some(own),
            compress_reset: own_reset || config.no_context_takeover,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DeflateConfig {
        DeflateConfig::default()
    }

    #[test]
    fn offers_from_config() {
        let table: &[(DeflateConfig, &str)] = &[
            (config(), "permessage-deflate; client_max_window_bits"),
            (
                DeflateConfig {
                    max_window_bits: 10,
                    peer_max_window_bits: 9,
                    no_context_takeover: true,
                    peer_no_context_takeover: true,
                    ..config()
                },
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=10",
            ),
            (
                DeflateConfig {
                    max_window_bits: 40,
                    peer_max_window_bits: 0,
                    ..config()
                },
                "permessage-deflate; server_max_window_bits=8; client_max_window_bits",
            ),
        ];
        for (config, offer) in table {
            assert_eq!(config.offer(), *offer);
            // Our own offer is acceptable to our own server.
            assert!(config.negotiate([*offer]).is_some(), "{offer}");
        }
    }

    /// Server: a table of request headers (offers) to the response element
    /// (or `None`: accepted without the extension).
    #[test]
    fn server_negotiation_table() {
        let small = DeflateConfig {
            max_window_bits: 12,
            ..config()
        };
        let limited_peer = DeflateConfig {
            peer_max_window_bits: 10,
            ..config()
        };
        let strict = DeflateConfig {
            no_context_takeover: true,
            peer_no_context_takeover: true,
            ..config()
        };
        let table: &[(DeflateConfig, &[&str], Option<&str>)] = &[
            (
                config(),
                &["permessage-deflate"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["PerMessage-Deflate"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["permessage-deflate; client_no_context_takeover; client_max_window_bits"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &["permessage-deflate; server_no_context_takeover"],
                Some("permessage-deflate; server_no_context_takeover"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=10"],
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=\"9\""],
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=8"],
                Some("permessage-deflate; server_max_window_bits=8"),
            ),
            // Our smaller window is stated unasked, or wins over a larger ask.
            (
                small,
                &["permessage-deflate"],
                Some("permessage-deflate; server_max_window_bits=12"),
            ),
            (
                small,
                &["permessage-deflate; server_max_window_bits=14"],
                Some("permessage-deflate; server_max_window_bits=12"),
            ),
            (
                small,
                &["permessage-deflate; server_max_window_bits=9"],
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            // Limiting the client needs client_max_window_bits in the offer.
            (limited_peer, &["permessage-deflate"], None),
            (
                limited_peer,
                &["permessage-deflate; client_max_window_bits"],
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                limited_peer,
                &["permessage-deflate; client_max_window_bits=9"],
                Some("permessage-deflate; client_max_window_bits=9"),
            ),
            (
                limited_peer,
                &[
                    "permessage-deflate",
                    "permessage-deflate; client_max_window_bits=12",
                ],
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                strict,
                &["permessage-deflate"],
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
            // Invalid offers are declined and the next one is tried.
            (config(), &["permessage-deflate; foo"], None),
            (
                config(),
                &["permessage-deflate; foo=1", "permessage-deflate"],
                Some("permessage-deflate"),
            ),
            (
                config(),
                &[
                    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                    "permessage-deflate; server_max_window_bits=11",
                ],
                Some("permessage-deflate; server_max_window_bits=11"),
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=7"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=16"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=010"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=1x"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_max_window_bits=-9"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits=0"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits=99999999999"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_no_context_takeover=1"],
                None,
            ),
            (
                config(),
                &["permessage-deflate; server_no_context_takeover=\"\""],
                None,
            ),
            (
                config(),
                &["permessage-deflate; client_max_window_bits; client_max_window_bits=10"],
                None,
            ),
            (config(), &["x-webkit-deflate-frame", "foo; bar"], None),
            (
                config(),
                &["x-webkit-deflate-frame", "permessage-deflate"],
                Some("permessage-deflate"),
            ),
            (config(), &[], None),
        ];
        for (config, offers, expected) in table {
            let got = config
                .negotiate(offers.iter().copied())
                .map(|p| p.to_string());
            assert_eq!(got.as_deref(), *expected, "{offers:?}");
            // What the server answers, its client accepts.
            if let Some(response) = got {
                let params = config.check_response(offers.iter().copied(), &response);
                assert!(params.is_ok(), "{offers:?} -> {response}: {params:?}");
            }
        }
    }

    /// Client: a table of (offer, response) to Ok or the start of the error.
    #[test]
    fn client_response_table() {
        let plain = "permessage-deflate; client_max_window_bits";
        let asks = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
        let bare = "permessage-deflate";
        let table: &[(&str, &str, Result<DeflateParams, &str>)] = &[
            (plain, "permessage-deflate", Ok(DeflateParams::default())),
            (
                plain,
                "permessage-deflate; client_max_window_bits=9; server_max_window_bits=12",
                Ok(DeflateParams {
                    client_max_window_bits: Some(9),
                    server_max_window_bits: Some(12),
                    ..Default::default()
                }),
            ),
            (
                plain,
                " permessage-deflate ;server_no_context_takeover; client_no_context_takeover ",
                Ok(DeflateParams {
                    server_no_context_takeover: true,
                    client_no_context_takeover: true,
                    ..Default::default()
                }),
            ),
            (
                asks,
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
                Ok(DeflateParams {
                    server_no_context_takeover: true,
                    server_max_window_bits: Some(9),
                    ..Default::default()
                }),
            ),
            (
                asks,
                "permessage-deflate; server_max_window_bits=10",
                Err("extension negotiation failed: the server's"),
            ),
            (
                asks,
                "permessage-deflate; server_no_context_takeover",
                Err("extension negotiation failed: the server's"),
            ),
            (
                asks,
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
                Err("extension negotiation failed: the server's"),
            ),
            (
                bare,
                "permessage-deflate; client_max_window_bits=10",
                Err("extension negotiation failed: the server's"),
            ),
            (
                plain,
                "permessage-deflate; client_max_window_bits",
                Err("extension negotiation failed: client_max_window_bits without a value"),
            ),
            (
                plain,
                "permessage-deflate; server_max_window_bits",
                Err("extension negotiation failed: parameter server_max_window_bits needs a value"),
            ),
            (
                plain,
                "permessage-deflate; server_max_window_bits=16",
                Err(
                    "extension negotiation failed: parameter server_max_window_bits has the invalid value",
                ),
            ),
            (
                plain,
                "permessage-deflate; foo",
                Err("extension negotiation failed: unknown parameter \"foo\""),
            ),
            (
                plain,
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                Err(
                    "extension negotiation failed: parameter server_no_context_takeover appears twice",
                ),
            ),
            (
                plain,
                "x-other",
                Err("extension negotiation failed: \"x-other\" is not permessage-deflate"),
            ),
        ];
        for (offer, response, expected) in table {
            let got = config()
                .check_response([*offer], response)
                .map_err(|e| e.to_string());
            match (got, expected) {
                (Ok(got), Ok(expected)) => assert_eq!(got, *expected, "{response}"),
                (Err(got), Err(prefix)) => assert!(got.starts_with(prefix), "{response}: {got}"),
                (got, expected) => {
                    panic!("{offer} / {response}: got {got:?}, expected {expected:?}")
                }
            }
        }
    }

    #[test]
    fn directions_by_role() {
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: Some(8),
            client_max_window_bits: Some(11),
        };
        let server = Directions::new(&params, &config(), true);
        assert_eq!(
            server,
            Directions {
                compress_bits: None,
                compress_reset: true,
            }
        );
        let client = Directions::new(&params, &config(), false);
        assert_eq!(
            client,
            Directions {
                compress_bits: Some(11),
                compress_reset: false,
            }
        );
        let own = DeflateConfig {
            max_window_bits: 10,
            no_context_takeover: true,
            ..config()
        };
        let client = Directions::new(&DeflateParams::default(), &own, false);
        assert_eq!(client.compress_bits, Some(10));
        assert!(client.compress_reset);
    }
}
