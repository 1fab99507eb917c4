//! What the echo servers print about a connection: one line when it opens
//! and one when it closes, with how many messages and bytes it echoed. Never
//! the payloads themselves: a server logging every message would print a
//! 1 MiB message whole.

use ws::{CloseCode, Handshake, Message};

/// The echo count of one connection, and its two log lines.
#[derive(Debug, Default)]
pub struct ConnectionLog {
    messages: u64,
    bytes: u64,
}

impl ConnectionLog {
    /// Prints `[ID] open: RESOURCE from ADDRESS`.
    pub fn opened(&self, id: u32, shake: &Handshake) {
        let peer = shake.peer_addr.map(|addr| addr.to_string());
        println!(
            "[{id}] open: {} from {}",
            shake.request.resource(),
            peer.as_deref().unwrap_or("an unknown address"),
        );
    }

    /// Counts a message echoed on the connection.
    pub fn echoed(&mut self, msg: &Message) {
        self.messages += 1;
        self.bytes += msg.len() as u64;
    }

    /// Prints `[ID] closed: CODE "REASON" after N messages (B bytes) echoed`.
    pub fn closed(&self, id: u32, code: CloseCode, reason: &str) {
        println!(
            "[{id}] closed: {code:?} {reason:?} after {} messages ({} bytes) echoed",
            self.messages, self.bytes,
        );
    }
}
