//! Admitting sockets from the listener: the batch per wake-up, the
//! endpoint's and the loop's refusals, and retrying when accept fails for
//! want of resources.

use std::cmp::Reverse;
use std::io;
use std::time::Duration;

#[cfg(feature = "rustls")]
use mio::net::TcpStream;
use mio::{Interest, Token};
use ws_proto::{Connection, Response, Role};

use crate::conn_io::Io;
use crate::control::Control;
use crate::endpoint::{ConnInfo, Endpoint};
#[cfg(feature = "rustls")]
use crate::event_loop::REFUSALS;
use crate::event_loop::{ACCEPT_BATCH, ACCEPT_RETRY, Entry, EventLoop, TimerKey};
use crate::refusal::{Refusal, refuse_plain};

impl<E: Endpoint> EventLoop<E> {
    pub(crate) fn accept_all(&mut self) {
        for _ in 0..ACCEPT_BATCH {
            if self.listener.is_none() {
                return;
            }
            let wait = self.endpoint.hold_off(&mut Control {
                inner: &mut self.inner,
            });
            if let Some(wait) = wait {
                self.accept_later(wait);
                return;
            }
            let Some(listener) = &self.listener else {
                return;
            };
            let (mut stream, peer) = match listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The client gave up while in the backlog: the next one may
                // be fine.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue;
                }
                // Out of descriptors or memory: the backlog stays where it
                // is, and no new readiness event would come for it, so come
                // back on a timer.
                Err(e) => {
                    if !self.accept_retry_armed {
                        log::warn!(
                            "accept failed ({e}); accepting again in {} ms",
                            ACCEPT_RETRY.as_millis()
                        );
                    }
                    self.accept_later(ACCEPT_RETRY);
                    return;
                }
            };
            if self.inner.shutdown {
                continue;
            }
            // The endpoint first: it knows the form of its answer (TLS or
            // not); the loop's own cap is the backstop.
            let refusal = self
                .endpoint
                .refuse(
                    &mut Control {
                        inner: &mut self.inner,
                    },
                    peer,
                )
                .or_else(|| {
                    let max = self.inner.loop_config.max_connections;
                    (self.inner.entries.len() >= max).then(|| {
                        log::warn!(
                            "refused a connection from {peer} with 503: {max} connections (max_connections)"
                        );
                        let mut out = Vec::new();
                        Response::service_unavailable(self.inner.config.handshake_timeout)
                            .write_to(&mut out);
                        Refusal::Plain(out)
                    })
                });
            match refusal {
                None => {}
                Some(Refusal::Plain(answer)) => {
                    refuse_plain(&mut stream, &answer, &mut self.rbuf);
                    continue;
                }
                #[cfg(feature = "rustls")]
                Some(Refusal::Tls { tls, answer }) => {
                    self.refuse_tls(stream, tls, &answer);
                    continue;
                }
            }
            let Ok(seed) = ws_proto::os_seed().inspect_err(|e| log::error!("refused {peer}: {e}"))
            else {
                continue; // Its keys would be predictable: refused, the socket closes.
            };
            let inner = &mut self.inner;
            if inner.loop_config.nodelay {
                let _ = stream.set_nodelay(true);
            }
            let token = inner.entries.vacant_key();
            if inner
                .registry
                .register(&mut stream, Token(token), Interest::READABLE)
                .is_err()
            {
                continue;
            }
            inner.next_id += 1;
            let info = ConnInfo {
                token,
                id: inner.next_id,
                role: Role::Server,
                peer_addr: peer,
                local_addr: stream.local_addr().ok(),
            };
            let start = self.endpoint.accept(
                &mut Control {
                    inner: &mut self.inner,
                },
                &info,
            );
            let inner = &mut self.inner;
            match start {
                Some(mut start) => {
                    let config = start.config.take().unwrap_or_else(|| inner.config.clone());
                    let conn = Connection::server(config, inner.now, seed);
                    let mut io = Io::new(stream, info);
                    let session = io.start(start);
                    let key = inner.entries.insert(Some(Entry { io, conn, session }));
                    debug_assert_eq!(key, token);
                    inner.dirty.push(token);
                }
                None => {
                    let _ = inner.registry.deregister(&mut stream);
                }
            }
        }
        // The batch is spent and the backlog may hold more.
        self.accept_again = true;
    }

    /// Starts refusing `stream` inside TLS, or closes it when too many
    /// refusals are under way already.
    #[cfg(feature = "rustls")]
    pub(crate) fn refuse_tls(
        &mut self,
        stream: TcpStream,
        tls: Box<rustls::ServerConnection>,
        answer: &[u8],
    ) {
        if self.refusals.len() >= ws_proto::admission::MAX_TLS_REFUSALS {
            log::debug!(
                "{} TLS refusals under way (MAX_TLS_REFUSALS): a client is closed unanswered",
                ws_proto::admission::MAX_TLS_REFUSALS
            );
            return;
        }
        let started = self.refusals.start(
            &self.inner.registry,
            |key| Token(REFUSALS + key),
            stream,
            tls,
            answer,
            self.inner.now,
        );
        if let Some((key, id, at)) = started {
            self.inner
                .timers
                .push(Reverse((at, TimerKey::Refusal { key, id })));
        }
    }

    /// Accepts again after `wait` (the backlog raises no new readiness
    /// event for what it already holds).
    pub(crate) fn accept_later(&mut self, wait: Duration) {
        if !self.accept_retry_armed {
            self.accept_retry_armed = true;
            let at = self.inner.now + wait;
            self.inner.timers.push(Reverse((at, TimerKey::AcceptRetry)));
        }
    }
}
