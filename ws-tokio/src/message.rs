//! What the stream yields and the sink takes.

use std::fmt;

use ws_proto::{CloseCode, CloseFrame};

/// A WebSocket message, or a control frame the application may care about.
///
/// The stream yields all five kinds; most applications match `Text` and
/// `Binary` and ignore the rest. Pings are answered by the protocol core
/// whether or not the application looks at them, so `Ping` is for
/// information only; `Pong` lets an application measure round trips of its
/// own [`Message::Ping`]s. `Close` is the last item of a cleanly closed
/// connection: the peer's close frame (`None` when it carried no code).
///
/// Given to the sink, `Text` and `Binary` send a message, `Ping` and `Pong`
/// send those control frames (at most 125 bytes of payload), and `Close`
/// starts the close handshake (`None` means 1000 with no reason).
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: always valid UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping with its payload.
    Ping(Vec<u8>),
    /// A pong with its payload.
    Pong(Vec<u8>),
    /// A close frame (see the type's docs for what `None` means each way).
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Vec<u8>>) -> Self {
        Self::Binary(data.into())
    }

    /// A close frame with a code and a reason (cut to 123 bytes when sent).
    pub fn close(code: CloseCode, reason: impl Into<String>) -> Self {
        Self::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    }

    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Self::Text(_) | Self::Binary(_))
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The payload bytes (the reason's bytes for a close frame).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(s) => s.as_bytes(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Close(Some(frame)) => frame.reason.as_bytes(),
            Self::Close(None) => &[],
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the payload bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Text(s) => s.into_bytes(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Close(Some(frame)) => frame.reason.into_bytes(),
            Self::Close(None) => Vec::new(),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 64;
        match self {
            Self::Text(s) if s.len() <= SHOWN => write!(f, "Text({s:?})"),
            Self::Text(s) => write!(f, "Text({} bytes)", s.len()),
            Self::Binary(b) if b.len() <= SHOWN => write!(f, "Binary({b:02x?})"),
            Self::Binary(b) => write!(f, "Binary({} bytes)", b.len()),
            Self::Ping(p) => write!(f, "Ping({p:02x?})"),
            Self::Pong(p) => write!(f, "Pong({p:02x?})"),
            Self::Close(frame) => write!(f, "Close({frame:?})"),
        }
    }
}

impl From<ws_proto::Message> for Message {
    fn from(m: ws_proto::Message) -> Self {
        match m {
            ws_proto::Message::Text(s) => Self::Text(s),
            ws_proto::Message::Binary(b) => Self::Binary(b),
        }
    }
}

impl TryFrom<Message> for ws_proto::Message {
    type Error = Message;

    /// Text and binary messages convert; control frames are given back.
    fn try_from(m: Message) -> Result<Self, Message> {
        match m {
            Message::Text(s) => Ok(Self::Text(s)),
            Message::Binary(b) => Ok(Self::Binary(b)),
            other => Err(other),
        }
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Self::Binary(b)
    }
}

impl From<&[u8]> for Message {
    fn from(b: &[u8]) -> Self {
        Self::Binary(b.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        let m: Message = ws_proto::Message::Text("hi".into()).into();
        assert_eq!(m, Message::text("hi"));
        assert_eq!(
            ws_proto::Message::try_from(Message::binary(vec![1, 2])),
            Ok(ws_proto::Message::Binary(vec![1, 2]))
        );
        assert_eq!(
            ws_proto::Message::try_from(Message::Ping(vec![1])),
            Err(Message::Ping(vec![1]))
        );
        assert_eq!(Message::close(CloseCode::NORMAL, "bye").as_bytes(), b"bye");
        assert!(Message::from("x").is_data());
        assert_eq!(format!("{:?}", Message::text("a")), "Text(\"a\")");
        assert_eq!(
            format!("{:?}", Message::binary(vec![0; 100])),
            "Binary(100 bytes)"
        );
    }
}
