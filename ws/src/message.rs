//! A whole WebSocket message, as handed to `Handler::on_message` and taken by `Sender::send`.

use std::fmt;

use crate::protocol::OpCode;
use crate::result::Result;

/// A complete WebSocket message: text or binary.
///
/// Incoming messages arrive whole: the core reassembles fragments and checks that text is
/// valid UTF-8 before the handler sees a message, so a [`Message::Text`] always holds valid
/// UTF-8. Outgoing messages are split into frames of at most `Settings::fragment_size` bytes.
///
/// Anything that converts into a `Message` can be sent: `String`, `&str` and `&String`
/// become text, `Vec<u8>`, `&[u8]` and `&Vec<u8>` become binary.
///
/// ```
/// use ws::Message;
///
/// let msg = Message::from("hello");
/// assert!(msg.is_text());
/// assert_eq!(msg.len(), 5);
/// assert_eq!(msg.to_string(), "hello");
///
/// let msg = Message::binary(vec![0xFF, 0x00]);
/// assert!(msg.as_text().is_err());
/// assert_eq!(msg.to_string(), "Binary Data<length=2>");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message (opcode `0x1`); always valid UTF-8.
    Text(String),
    /// A binary message (opcode `0x2`).
    Binary(Vec<u8>),
}

impl Message {
    /// Creates a text message from anything that converts into a `String`.
    pub fn text<S>(string: S) -> Message
    where
        S: Into<String>,
    {
        Message::Text(string.into())
    }

    /// Creates a binary message from anything that converts into a `Vec<u8>`.
    pub fn binary<B>(bin: B) -> Message
    where
        B: Into<Vec<u8>>,
    {
        Message::Binary(bin.into())
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// The length of the payload in bytes (for text: of its UTF-8 encoding, not in
    /// characters).
    pub fn len(&self) -> usize {
        match self {
            Message::Text(string) => string.len(),
            Message::Binary(data) => data.len(),
        }
    }

    /// Whether the payload is empty, for example when the peer sent an empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The opcode of the first frame of this message: [`OpCode::Text`] or [`OpCode::Binary`].
    ///
    /// Hidden from the documentation in ws-rs; public and documented here.
    pub fn opcode(&self) -> OpCode {
        match self {
            Message::Text(_) => OpCode::Text,
            Message::Binary(_) => OpCode::Binary,
        }
    }

    /// Consumes the message and returns its payload as bytes (the UTF-8 bytes for text),
    /// without copying.
    pub fn into_data(self) -> Vec<u8> {
        match self {
            Message::Text(string) => string.into_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// Consumes the message and returns its payload as a `String`, without copying.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`](crate::ErrorKind::Encoding) when the message is binary and
    /// its payload is not valid UTF-8.
    pub fn into_text(self) -> Result<String> {
        match self {
            Message::Text(string) => Ok(string),
            Message::Binary(data) => Ok(String::from_utf8(data)?),
        }
    }

    /// Borrows the payload as text.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encoding`](crate::ErrorKind::Encoding) when the message is binary and
    /// its payload is not valid UTF-8.
    pub fn as_text(&self) -> Result<&str> {
        match self {
            Message::Text(string) => Ok(string),
            Message::Binary(data) => Ok(std::str::from_utf8(data)?),
        }
    }

    /// Borrows the payload as bytes (the UTF-8 bytes for text). Never fails.
    ///
    /// New in this crate: ws-rs had no borrowing byte accessor.
    pub fn as_binary(&self) -> &[u8] {
        match self {
            Message::Text(string) => string.as_bytes(),
            Message::Binary(data) => data,
        }
    }
}

impl From<String> for Message {
    /// A text message, without copying.
    fn from(string: String) -> Message {
        Message::Text(string)
    }
}

impl From<&str> for Message {
    /// A text message holding a copy of the string.
    fn from(string: &str) -> Message {
        Message::Text(string.to_owned())
    }
}

impl From<&String> for Message {
    /// A text message holding a copy of the string.
    fn from(string: &String) -> Message {
        Message::Text(string.clone())
    }
}

impl From<Vec<u8>> for Message {
    /// A binary message, without copying.
    fn from(data: Vec<u8>) -> Message {
        Message::Binary(data)
    }
}

impl From<&[u8]> for Message {
    /// A binary message holding a copy of the bytes.
    fn from(data: &[u8]) -> Message {
        Message::Binary(data.to_vec())
    }
}

impl From<&Vec<u8>> for Message {
    /// A binary message holding a copy of the bytes.
    fn from(data: &Vec<u8>) -> Message {
        Message::Binary(data.clone())
    }
}

impl From<Message> for Vec<u8> {
    /// The payload as bytes; same as [`Message::into_data`].
    fn from(msg: Message) -> Vec<u8> {
        msg.into_data()
    }
}

impl From<ws_proto::Message> for Message {
    /// The same message, without copying.
    fn from(msg: ws_proto::Message) -> Message {
        match msg {
            ws_proto::Message::Text(string) => Message::Text(string),
            ws_proto::Message::Binary(data) => Message::Binary(data),
        }
    }
}

impl From<Message> for ws_proto::Message {
    /// The same message, without copying.
    fn from(msg: Message) -> ws_proto::Message {
        match msg {
            Message::Text(string) => ws_proto::Message::Text(string),
            Message::Binary(data) => ws_proto::Message::Binary(data),
        }
    }
}

impl fmt::Display for Message {
    /// Writes the payload when it is valid UTF-8 (also for a binary message, as in ws-rs),
    /// and `Binary Data<length=N>` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_text() {
            Ok(text) => f.write_str(text),
            Err(_) => write!(f, "Binary Data<length={}>", self.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::ErrorKind;

    #[test]
    fn constructors_and_predicates() {
        let text = Message::text("kiwotsukete");
        assert!(text.is_text());
        assert!(!text.is_binary());
        assert_eq!(text.opcode(), OpCode::Text);
        assert_eq!(text.len(), 11);
        assert!(!text.is_empty());

        let bin = Message::binary(&b"\x00\x01"[..]);
        assert!(bin.is_binary());
        assert!(!bin.is_text());
        assert_eq!(bin.opcode(), OpCode::Binary);
        assert_eq!(bin.len(), 2);

        assert!(Message::text("").is_empty());
        assert!(Message::binary(Vec::new()).is_empty());
        // Length counts bytes, not characters.
        assert_eq!(Message::text("é").len(), 2);
    }

    #[test]
    fn from_conversions() {
        let owned = String::from("owned");
        assert_eq!(Message::from(&owned), Message::Text("owned".into()));
        assert_eq!(Message::from(owned), Message::Text("owned".into()));
        assert_eq!(Message::from("str"), Message::Text("str".into()));

        let bytes = vec![6u8, 7, 8, 241];
        assert_eq!(Message::from(&bytes), Message::Binary(bytes.clone()));
        assert_eq!(Message::from(&bytes[..]), Message::Binary(bytes.clone()));
        assert_eq!(Message::from(bytes.clone()), Message::Binary(bytes.clone()));
        assert_eq!(Vec::<u8>::from(Message::Binary(bytes.clone())), bytes);
    }

    #[test]
    fn text_round_trips() {
        let msg = Message::text("héllo");
        assert_eq!(msg.as_text().unwrap(), "héllo");
        assert_eq!(msg.as_binary(), "héllo".as_bytes());
        assert_eq!(msg.clone().into_data(), "héllo".as_bytes());
        assert_eq!(msg.into_text().unwrap(), "héllo");
    }

    #[test]
    fn binary_that_is_utf8_reads_as_text() {
        let msg = Message::binary("plain".as_bytes());
        assert_eq!(msg.as_text().unwrap(), "plain");
        assert_eq!(msg.to_string(), "plain");
        assert_eq!(msg.into_text().unwrap(), "plain");
    }

    #[test]
    fn binary_that_is_not_utf8_fails_as_text() {
        let msg = Message::binary(vec![0, 1, 3, 4, 241]);
        assert!(matches!(
            msg.as_text().map_err(|e| e.kind),
            Err(ErrorKind::Encoding(_))
        ));
        assert_eq!(msg.as_binary(), &[0, 1, 3, 4, 241]);
        assert_eq!(msg.to_string(), "Binary Data<length=5>");
        assert!(matches!(
            msg.into_text().map_err(|e| e.kind),
            Err(ErrorKind::Encoding(_))
        ));
    }

    #[test]
    fn core_message_round_trips() {
        for msg in [Message::text("t"), Message::binary(vec![0xFF])] {
            let core = ws_proto::Message::from(msg.clone());
            assert_eq!(core.as_bytes(), msg.as_binary());
            assert_eq!(Message::from(core), msg);
        }
        assert!(ws_proto::Message::from(Message::text("t")) == ws_proto::Message::Text("t".into()));
    }

    #[test]
    fn display_text() {
        assert_eq!(Message::text("test").to_string(), "test");
    }
}
