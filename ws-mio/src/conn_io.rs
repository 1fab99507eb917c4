//! A connection's transport: reading into the core, writing its output,
//! lingering and closing, and its deadline in the timer heap.

use std::cmp::Reverse;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token};
use ws_proto::{OutputQueue, Transmit, TransportClose};

use ws_proto::session::Session;

use crate::control::SessionClock;
use crate::endpoint::{ConnInfo, Endpoint};
use crate::event_loop::{Entry, EventLoop, READ_BUDGET, TAKE_AHEAD, TimerKey};
use crate::start::Start;
use crate::transport::Transport;
use crate::tunnel::Tunnel;

/// A connection's transport state.
pub(crate) struct Io {
    pub(crate) transport: Transport,
    pub(crate) info: ConnInfo,
    /// Output on its way to the socket.
    pub(crate) wq: OutputQueue,
    /// Interest currently registered includes WRITABLE.
    pub(crate) writable: bool,
    /// Addresses left to try while connecting; `Some` until connected.
    /// Boxed so that a connected socket's state stays small.
    #[allow(clippy::box_collection)]
    pub(crate) connecting: Option<Box<Vec<SocketAddr>>>,
    /// The negotiation with a proxy; `Some` until the tunnel is open.
    pub(crate) tunnel: Option<Box<Tunnel>>,
    /// The core asked for the transport to be closed after the write buffer.
    pub(crate) close_requested: bool,
    /// Our write side is shut down; reading until EOF or `linger_until`.
    pub(crate) linger_until: Option<Instant>,
    /// Set with `close_requested`: if what is left cannot be written by
    /// then (the peer stopped reading), it is dropped with the transport.
    pub(crate) finish_by: Option<Instant>,
    pub(crate) eof: bool,
    /// Reading stopped for back-pressure: the output (the loop's and the
    /// core's) is over `write_high_water`.
    pub(crate) read_paused: bool,
    /// Reading stopped on the per-wake-up budget ([`READ_BUDGET`]) with
    /// input left: the connection is in `Inner::read_again`.
    pub(crate) read_again: bool,
    /// The earliest deadline with an entry in the timer heap.
    pub(crate) registered: Option<Instant>,
}

impl Io {
    pub(crate) fn new(stream: TcpStream, info: ConnInfo) -> Self {
        Self {
            transport: Transport::new(stream),
            info,
            wq: OutputQueue::default(),
            writable: false,
            connecting: None,
            tunnel: None,
            close_requested: false,
            linger_until: None,
            finish_by: None,
            eof: false,
            read_paused: false,
            read_again: false,
            registered: None,
        }
    }

    pub(crate) fn pending_write(&self) -> usize {
        self.wq.pending()
    }

    /// Gives the TLS connection of `start`, if any, to the transport; the
    /// session.
    pub(crate) fn start<S>(&mut self, start: Start<S>) -> S {
        #[cfg(feature = "rustls")]
        if let Some(tls) = start.tls {
            self.transport.set_tls(tls);
        }
        start.session
    }
}

impl<E: Endpoint> EventLoop<E> {
    pub(crate) fn on_readable(&mut self, token: usize, hup: bool) {
        let Some(mut entry) = self.take(token) else {
            return;
        };
        self.read(&mut entry, hup);
        self.put(token, entry);
        self.inner.dirty.push(token);
    }

    /// Reads until the socket is drained. `hup`: the peer's end of stream
    /// (or an error) was signalled, so read until it shows.
    pub(crate) fn read(&mut self, entry: &mut Entry<E::Session>, hup: bool) {
        if entry.io.connecting.is_some() {
            return;
        }
        if let Some(tunnel) = entry.io.tunnel.as_mut() {
            match tunnel.read(&mut entry.io.transport.wire(), &mut self.rbuf) {
                Ok(true) => entry.io.tunnel = None,
                Ok(false) => return,
                // TLS with an https:// proxy failed.
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    let e = tunnel.tls_failed(&e);
                    return self.connect_failed(entry, e);
                }
                Err(e) => return self.connect_failed(entry, e),
            }
        }
        let high_water = self.inner.loop_config.write_high_water;
        let mut budget = READ_BUDGET;
        while !entry.io.eof {
            // The output waiting for this peer, wherever it waits: an echo
            // of what is read next would only add to it.
            if entry.io.pending_write() + entry.conn.buffered_amount() > high_water {
                entry.io.read_paused = true;
                return;
            }
            if budget == 0 {
                if !entry.io.read_again {
                    entry.io.read_again = true;
                    self.inner.read_again.push(entry.io.info.token);
                }
                return;
            }
            match entry.io.transport.read(&mut self.rbuf) {
                Ok(0) => {
                    entry.io.eof = true;
                    entry.conn.handle_eof(self.inner.now);
                    self.dispatch(entry);
                }
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    if entry.io.linger_until.is_none() {
                        entry.conn.handle_input(self.inner.now, &self.rbuf[..n]);
                        self.dispatch(entry);
                        // Replies the session queued through its handle go
                        // out with this batch.
                        self.run_commands_for(entry);
                    }
                    if n < self.rbuf.len() && !hup && entry.io.transport.short_read_drains() {
                        // A short read drained the socket: a TCP socket
                        // returns all it holds, and later data raises a new
                        // edge. This saves a read that would block. Not so
                        // when end of stream was signalled: no new edge
                        // would come for it.
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.io_failed(entry, &e),
            }
        }
    }

    /// A write failed. A peer that sent its Close and closed its socket at
    /// once (browsers and Node do) makes the write fail while its Close
    /// still waits in the receive buffer, and the loop handles writability
    /// before readability: what is readable now (up to [`READ_BUDGET`])
    /// goes to the core first, so that the close is seen as the clean one
    /// it was (see [`io_failed`](Self::io_failed)).
    pub(crate) fn write_failed(&mut self, entry: &mut Entry<E::Session>, error: &io::Error) {
        let mut left = READ_BUDGET;
        while left > 0 && !entry.io.eof && entry.io.linger_until.is_none() {
            match entry.io.transport.read(&mut self.rbuf) {
                Ok(0) => break,
                Ok(n) => {
                    left = left.saturating_sub(n);
                    entry.conn.handle_input(self.inner.now, &self.rbuf[..n]);
                    self.dispatch(entry);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.io_failed(entry, error);
    }

    /// The transport failed: the core is told end of stream. The session
    /// hears of the error unless the peer's Close had come: a peer that
    /// closes its socket right after its Close (with our output unread, so
    /// that its system answers with a reset) ended the connection cleanly.
    pub(crate) fn io_failed(&mut self, entry: &mut Entry<E::Session>, error: &io::Error) {
        entry.io.eof = true;
        entry.io.wq.clear();
        if entry.conn.close_received() {
            log::debug!("transport failed after the peer's close: {error}");
            entry.conn.handle_eof(self.inner.now);
            self.dispatch(entry);
            return;
        }
        let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
        entry
            .session
            .on_io_error(&mut clock, &mut entry.conn, error);
        entry.conn.handle_eof(self.inner.now);
        self.dispatch(entry);
    }

    pub(crate) fn on_writable(&mut self, token: usize) {
        let Some(mut entry) = self.take(token) else {
            return;
        };
        if let Some(rest) = entry.io.connecting.as_mut() {
            match entry.io.transport.stream.take_error() {
                Ok(None) => match entry.io.transport.stream.peer_addr() {
                    Ok(peer) => {
                        entry.io.connecting = None;
                        entry.io.info.peer_addr = peer;
                        entry.io.info.local_addr = entry.io.transport.stream.local_addr().ok();
                        if self.inner.loop_config.nodelay {
                            let _ = entry.io.transport.stream.set_nodelay(true);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                    Err(e) => self.connect_failed(&mut entry, e),
                },
                Ok(Some(e)) | Err(e) => {
                    if let Some(next) = rest.pop() {
                        // Try the next address with a fresh socket.
                        if let Ok(mut stream) = TcpStream::connect(next) {
                            let _ = self
                                .inner
                                .registry
                                .deregister(&mut entry.io.transport.stream);
                            let ok = self
                                .inner
                                .registry
                                .register(
                                    &mut stream,
                                    Token(token),
                                    Interest::READABLE | Interest::WRITABLE,
                                )
                                .is_ok();
                            if ok {
                                entry.io.transport.stream = stream;
                                entry.io.info.peer_addr = next;
                                self.put(token, entry);
                                return;
                            }
                        }
                    }
                    self.connect_failed(&mut entry, e);
                }
            }
        }
        self.put(token, entry);
        self.inner.dirty.push(token);
    }

    pub(crate) fn connect_failed(&mut self, entry: &mut Entry<E::Session>, error: io::Error) {
        let error = match entry.io.tunnel.take() {
            // The TCP connect to the proxy failed.
            Some(tunnel) if entry.io.connecting.is_some() => tunnel.unreachable(&error),
            _ => error,
        };
        entry.io.connecting = None;
        self.io_failed(entry, &error);
        entry.io.close_requested = true;
    }

    pub(crate) fn flush_dirty(&mut self) {
        while let Some(token) = self.inner.dirty.pop() {
            let Some(mut entry) = self.take(token) else {
                continue;
            };
            let resume_reading = self.flush(&mut entry);
            if resume_reading {
                self.read(&mut entry, true);
                // Reading may have queued more output.
                self.flush(&mut entry);
            }
            let pending = entry.io.pending_write();
            let mut clock = SessionClock::of(&mut self.inner, &entry.io.info);
            if entry
                .session
                .on_flushed(&mut clock, &mut entry.conn, pending)
            {
                self.dispatch(&mut entry);
                self.inner.dirty.push(token);
            }
            if self.finished(&entry) {
                self.put(token, entry);
                self.remove(token);
                continue;
            }
            self.schedule(&mut entry);
            self.put(token, entry);
        }
    }

    /// Moves the core's output to the socket. Returns true when reading was
    /// paused for back-pressure and can resume.
    pub(crate) fn flush(&mut self, entry: &mut Entry<E::Session>) -> bool {
        let now = self.inner.now;
        let high_water = self.inner.loop_config.write_high_water.min(TAKE_AHEAD);
        loop {
            let io = &mut entry.io;
            // Take the core's output only while the socket keeps up: past
            // `TAKE_AHEAD` it stays in the core, which refuses sends beyond
            // its `max_write_buffer`, and reading stops once the whole
            // backlog passes `write_high_water`, so memory plateaus when a
            // peer stops reading.
            // Once the transport is gone (`eof`: nothing is written after
            // it), the core's output is taken and dropped, all of it, so
            // that its request to close the transport is seen.
            while io.eof || io.pending_write() <= high_water {
                match io.wq.take_from(&mut entry.conn, now) {
                    Some(Transmit::Close) => {
                        io.close_requested = true;
                        let limit = self.inner.config.close_timeout;
                        io.finish_by.get_or_insert(now + limit);
                        if entry.conn.transport_close() == TransportClose::Abort {
                            io.eof = true;
                        }
                    }
                    Some(Transmit::Data(_)) => {}
                    None => break,
                }
                if io.eof {
                    io.wq.clear();
                }
            }
            let held_back = io.pending_write() > high_water;
            if io.connecting.is_some() {
                return false;
            }
            if let Some(tunnel) = io.tunnel.as_mut() {
                if io.close_requested {
                    // The handshake timed out while the proxy negotiated.
                    io.tunnel = None;
                    io.eof = true;
                    io.wq.clear();
                } else if let Err(e) = tunnel.write(&mut io.transport.wire()) {
                    self.connect_failed(entry, e);
                }
                return false;
            }
            // What was just taken waits for the socket (the writes below
            // report what it takes).
            entry.conn.handle_written(now, 0, io.pending_write());
            while !io.wq.is_empty() && !io.eof {
                match write_queue(&mut io.wq, &mut io.transport) {
                    Ok(0) => break,
                    Ok(n) => entry.conn.handle_written(now, n, io.pending_write()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.write_failed(entry, &e);
                        entry.io.close_requested = true;
                        return false;
                    }
                }
            }
            if !entry.io.eof {
                if let Err(e) = entry.io.transport.flush() {
                    self.write_failed(entry, &e);
                    entry.io.close_requested = true;
                    return false;
                }
            }
            let io = &mut entry.io;
            if !(held_back && io.wq.is_empty()) || io.eof {
                break;
            }
            // Everything written and the core may hold more: go again.
        }
        let lingers = entry.conn.transport_close() == TransportClose::Linger;
        let io = &mut entry.io;
        let mut drained = io.wq.is_empty() && !io.transport.pending();
        if drained && io.close_requested && io.linger_until.is_none() {
            if !lingers {
                // Nothing to wait for from this peer: the transport is done.
                io.eof = true;
            } else if io.eof || io.transport.shutdown_write() {
                io.linger_until =
                    Some(now + self.inner.config.close_timeout.min(Duration::from_secs(5)));
            } else {
                // TLS: the close_notify waits for the socket.
                drained = false;
            }
        }
        let want_writable = !drained;
        if want_writable != io.writable {
            let interest = if want_writable {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if self
                .inner
                .registry
                .reregister(&mut io.transport.stream, Token(io.info.token), interest)
                .is_ok()
            {
                io.writable = want_writable;
            }
        }
        let backlog = io.pending_write() + entry.conn.buffered_amount();
        if io.read_paused && backlog <= self.inner.loop_config.write_high_water / 2 {
            io.read_paused = false;
            return true;
        }
        false
    }

    pub(crate) fn finished(&self, entry: &Entry<E::Session>) -> bool {
        let io = &entry.io;
        let transport_done =
            io.eof && (io.linger_until.is_some() || io.close_requested || io.pending_write() == 0);
        transport_done && entry.conn.is_finished() || io.eof && io.linger_until.is_some()
    }

    /// Puts the connection's next deadline in the timer heap.
    pub(crate) fn schedule(&mut self, entry: &mut Entry<E::Session>) {
        let mut next = entry.conn.poll_timeout();
        for t in [entry.io.linger_until, entry.io.finish_by]
            .into_iter()
            .flatten()
        {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        let Some(at) = next else { return };
        // Keep only the earliest entry per connection: a later deadline is
        // picked up when the earlier one fires (spurious calls are harmless).
        if entry.io.registered.is_none_or(|r| at < r) {
            entry.io.registered = Some(at);
            let key = TimerKey::Conn {
                token: entry.io.info.token,
                id: entry.io.info.id,
            };
            self.inner.timers.push(Reverse((at, key)));
            self.inner.compact_timers();
        }
    }
}

/// One write of as much of `queue` as the transport takes (one vectored
/// write when it holds several buffers); the bytes written.
pub(crate) fn write_queue(queue: &mut OutputQueue, transport: &mut Transport) -> io::Result<usize> {
    let n = if queue.buffers() == 1 {
        transport.write(queue.front())?
    } else {
        let mut slices = [io::IoSlice::new(&[]); 16];
        let count = queue.io_slices(&mut slices);
        transport.write_vectored(&slices[..count])?
    };
    queue.advance(n);
    Ok(n)
}
