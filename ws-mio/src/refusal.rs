//! Clients the loop answers without serving them (a `503` when the server
//! is full; see [`Endpoint::refuse`](crate::Endpoint::refuse)).
//!
//! Over plain TCP the answer is written at once, on the accepted socket,
//! and the socket is closed: no session, no core connection. Over TLS
//! (feature `rustls`) the answer can only be read after a TLS handshake,
//! which takes round trips, so the loop keeps the socket a little while
//! in [`TlsRefusals`]: the handshake runs, the answer goes out as the first
//! application data, then `close_notify` and the end of our side. What
//! the client sends (its request) is read and dropped.
//!
//! A refusal costs the server little, since it is made when the server is
//! already full: at most [`MAX_TLS_REFUSALS`] are in progress at once (past
//! that, a TLS client is only closed), each with a rustls connection of a
//! few tens of KiB, and each ends within [`TLS_REFUSAL_TIMEOUT`].
//!
//! [`MAX_TLS_REFUSALS`]: ws_proto::admission::MAX_TLS_REFUSALS
//! [`TLS_REFUSAL_TIMEOUT`]: ws_proto::admission::TLS_REFUSAL_TIMEOUT

/// How the loop answers a client it will not serve: what
/// [`Endpoint::refuse`](crate::Endpoint::refuse) returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Refusal {
    /// Write these bytes (an HTTP response) on the socket as they are, and
    /// close it.
    Plain(Vec<u8>),
    /// Run a TLS handshake with this server connection, send these bytes
    /// inside it, and close (feature `rustls`).
    #[cfg(feature = "rustls")]
    Tls {
        /// A new rustls server connection, from the listener's config.
        tls: Box<rustls::ServerConnection>,
        /// The answer, as plaintext.
        answer: Vec<u8>,
    },
}

/// Answers a plain socket the loop does not serve, and leaves it to be
/// closed. The answer is a few hundred bytes, which a fresh socket's
/// buffer takes in one write.
pub(crate) fn refuse_plain(stream: &mut mio::net::TcpStream, answer: &[u8], scratch: &mut [u8]) {
    use std::io::{Read, Write};
    for _ in 0..ws_proto::admission::REFUSE_READS {
        match stream.read(scratch) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    if let Err(e) = stream.write_all(answer) {
        log::debug!("refusal not written: {e}");
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

#[cfg(feature = "rustls")]
pub(crate) use tls::TlsRefusals;

#[cfg(feature = "rustls")]
mod tls {
    use crate::transport::Transport;
    use mio::net::TcpStream;
    use mio::{Interest, Registry, Token};
    use slab::Slab;
    use std::io;
    use std::time::Instant;
    use ws_proto::admission::{TLS_REFUSAL_READ_LIMIT, TLS_REFUSAL_TIMEOUT};

    /// The TLS refusals of one loop, addressed by their slab key. The loop
    /// maps keys to its own range of tokens.
    #[derive(Default)]
    pub(crate) struct TlsRefusals {
        slab: Slab<TlsRefusal>,
        next_id: u64,
    }

    struct TlsRefusal {
        transport: Transport,
        id: u64,
        /// Bytes read from the client so far.
        read: usize,
        /// Our side is shut (close_notify sent, FIN sent): waiting for the
        /// client to close, which lets the close be clean.
        shut: bool,
    }

    impl TlsRefusals {
        pub(crate) fn len(&self) -> usize {
            self.slab.len()
        }

        /// Starts a refusal: registers `stream` under the token `token_of`
        /// gives its key. Returns the key, its id and its deadline, or
        /// `None` when it could not start (the socket is then dropped).
        pub(crate) fn start(
            &mut self,
            registry: &Registry,
            token_of: impl FnOnce(usize) -> Token,
            mut stream: TcpStream,
            tls: Box<rustls::ServerConnection>,
            answer: &[u8],
            now: Instant,
        ) -> Option<(usize, u64, Instant)> {
            let entry = self.slab.vacant_entry();
            let key = entry.key();
            registry
                .register(
                    &mut stream,
                    token_of(key),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .ok()?;
            let mut transport = Transport::new(stream);
            transport.set_tls(Box::new(rustls::Connection::Server(*tls)));
            // rustls keeps plaintext written before the handshake ends
            // and sends it as soon as it may.
            if transport.write(answer).ok() != Some(answer.len()) {
                let _ = registry.deregister(&mut transport.stream);
                return None;
            }
            self.next_id += 1;
            let id = self.next_id;
            entry.insert(TlsRefusal {
                transport,
                id,
                read: 0,
                shut: false,
            });
            Some((key, id, now + TLS_REFUSAL_TIMEOUT))
        }

        /// The socket of refusal `key` is ready: moves it on, and ends it
        /// when it is done or failed.
        pub(crate) fn on_ready(&mut self, registry: &Registry, key: usize, scratch: &mut [u8]) {
            let Some(refusal) = self.slab.get_mut(key) else {
                return;
            };
            if !refusal.drive(scratch) {
                self.end(registry, key);
            }
        }

        /// The deadline of refusal `key` (`id`) passed: ends it if it is
        /// still there.
        pub(crate) fn expire(&mut self, registry: &Registry, key: usize, id: u64) {
            if self.slab.get(key).is_some_and(|r| r.id == id) {
                log::debug!("a TLS refusal timed out");
                self.end(registry, key);
            }
        }

        fn end(&mut self, registry: &Registry, key: usize) {
            let mut refusal = self.slab.remove(key);
            let _ = registry.deregister(&mut refusal.transport.stream);
        }
    }

    impl TlsRefusal {
        /// Reads (the handshake, then the request, dropped), writes, and
        /// shuts our side once the answer is out. False when it is over:
        /// the client closed, failed, or sent too much.
        fn drive(&mut self, scratch: &mut [u8]) -> bool {
            loop {
                match self.transport.read(scratch) {
                    Ok(0) => return false,
                    Ok(n) => {
                        self.read += n;
                        if self.read > TLS_REFUSAL_READ_LIMIT {
                            return false;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        log::debug!("a TLS refusal failed: {e}");
                        return false;
                    }
                }
            }
            if self.transport.flush().is_err() {
                return false;
            }
            if !self.shut && !self.transport.handshaking() && !self.transport.pending() {
                // The answer has gone: close_notify, then FIN (again on
                // the next writable event if the alert did not fit).
                self.shut = self.transport.shutdown_write();
            }
            true
        }
    }
}
