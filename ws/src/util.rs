//! Handles for user timeouts: [`Token`] and [`Timeout`].
//!
//! `Sender::timeout(ms, token)` schedules a timeout; when it fires, `Handler::on_timeout(token)`
//! runs with the same [`Token`], and `Handler::on_new_timeout(token, timeout)` receives the
//! [`Timeout`] handle that `Sender::cancel(timeout)` takes.
//!
//! Differences from ws-rs: ws-rs re-exported `mio::Token` and `mio_extras::timer::Timeout`
//! here (plus `Slab` and, with its `ssl` feature, mio's `TcpStream`). This crate defines its own
//! `Token` and `Timeout` so that no mio type is part of its API, whichever runtime runs the
//! connections; `Token` keeps mio's shape (a public `usize` field), so `Token(1)` and `token.0`
//! still work. There is no `Slab` alias and no `TcpStream`.

/// An identifier chosen by the application for one of its timeouts.
///
/// The library never interprets it: it hands the token given to `Sender::timeout` back to
/// `Handler::on_timeout`, so the handler can tell its timeouts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Token(pub usize);

impl From<usize> for Token {
    fn from(value: usize) -> Token {
        Token(value)
    }
}

impl From<Token> for usize {
    fn from(token: Token) -> usize {
        token.0
    }
}

/// A handle to one scheduled timeout, used to cancel it with `Sender::cancel`.
///
/// The library creates these when it schedules a timeout and passes them to
/// `Handler::on_new_timeout`; applications cannot create one themselves. Each handle is unique
/// within the `WebSocket` that created it. Cancelling a timeout that already fired or was
/// already cancelled does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeout {
    id: u64,
}

impl Timeout {
    /// Creates the handle for the timeout with this runtime-assigned id.
    pub(crate) fn new(id: u64) -> Timeout {
        Timeout { id }
    }

    /// The runtime-assigned id of this timeout.
    pub(crate) fn id(self) -> u64 {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn token_converts_both_ways() {
        let token = Token::from(7);
        assert_eq!(token, Token(7));
        assert_eq!(token.0, 7);
        assert_eq!(usize::from(token), 7);
        let value: usize = Token(usize::MAX).into();
        assert_eq!(value, usize::MAX);
    }

    #[test]
    fn timeouts_compare_by_id() {
        let a = Timeout::new(1);
        let b = Timeout::new(2);
        assert_eq!(a, Timeout::new(1));
        assert_ne!(a, b);
        assert_eq!(b.id(), 2);
        let set: HashSet<Timeout> = [a, b, Timeout::new(1)].into_iter().collect();
        assert_eq!(set.len(), 2);
    }
}
