//! What travels on the backplane: a message and the node that published
//! it, so that a node can drop its own messages when they come back (it
//! delivered them to its own subscribers when they were published).
//!
//! The layout is `WSB1`, the 16-byte node id, one byte for the kind (0 for
//! text, 1 for binary), then the payload. Anything else on a channel (a
//! `PUBLISH` from `redis-cli`, say) is not an envelope and is dropped.

use ws_proto::Message;

const MAGIC: &[u8; 4] = b"WSB1";
const HEADER: usize = 4 + 16 + 1;

/// A node's identity on the backplane: random, made once per bridge.
pub(crate) type NodeId = [u8; 16];

/// The envelope of `message` published by `node`.
pub(crate) fn encode(node: &NodeId, message: &Message) -> Vec<u8> {
    let (kind, payload) = match message {
        Message::Text(text) => (0, text.as_bytes()),
        Message::Binary(bytes) => (1, &bytes[..]),
    };
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(node);
    out.push(kind);
    out.extend_from_slice(payload);
    out
}

/// The node and message of an envelope; `None` when `bytes` is not one
/// (or says text and is not UTF-8).
pub(crate) fn decode(bytes: &[u8]) -> Option<(NodeId, Message)> {
    if bytes.len() < HEADER || &bytes[..4] != MAGIC {
        return None;
    }
    let node: NodeId = bytes[4..20].try_into().ok()?;
    let payload = &bytes[HEADER..];
    let message = match bytes[20] {
        0 => Message::Text(ws_proto::string_from_utf8(payload.to_vec()).ok()?),
        1 => Message::Binary(payload.to_vec()),
        _ => return None,
    };
    Some((node, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_an_envelope() {
        let node = [7; 16];
        for message in [
            Message::Text("héllo".into()),
            Message::Binary(vec![0, 1, 2]),
            Message::Text(String::new()),
        ] {
            assert_eq!(decode(&encode(&node, &message)), Some((node, message)));
        }
        assert_eq!(decode(b"hello from redis-cli"), None);
        let mut bad = encode(&node, &Message::Text("x".into()));
        bad[20] = 9;
        assert_eq!(decode(&bad), None);
        let mut not_utf8 = encode(&node, &Message::Text(String::new()));
        not_utf8.push(0xff);
        assert_eq!(decode(&not_utf8), None);
    }
}
