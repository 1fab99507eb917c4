//! The I/O plumbing around one [`Connection`], written once and shared by
//! [`WebSocketStream`](crate::WebSocketStream), its split halves, the
//! handshake functions and [`driver::drive`](crate::driver::drive).
//!
//! It is poll-based so that every user can wait on several things in one
//! `poll` (the stream, the driver's command channel, a session's timers)
//! without borrowing the transport twice. It never pops the core's events:
//! whoever owns the engine does.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;
use ws_proto::{Connection, OutputQueue, Transmit, TransportClose};

use crate::trace::ConnTrace;

/// Size of the one read buffer each connection reuses.
pub(crate) const READ_BUFFER_SIZE: usize = 64 * 1024;

thread_local! {
    /// The read buffer of every connection polled on this thread: a read
    /// and the core's handling of it happen within one poll, so one buffer
    /// per thread serves them all and an idle connection holds none.
    static READ_BUFFER: RefCell<Box<[u8]>> =
        RefCell::new(vec![0; READ_BUFFER_SIZE].into_boxed_slice());
}

/// The engine takes the core's output into its write buffer only while
/// less than this waits there (see `ws_proto::backpressure`). The rest
/// stays in the core, whose `Config::max_write_buffer` then refuses further
/// sends, so a peer that stops reading cannot make a connection buffer
/// without bound.
const PUMP_HIGH_WATER: usize = ws_proto::backpressure::TOKIO_TAKE_AHEAD;

/// Most bytes read, after a write failed, of what the peer sent before it
/// went (see [`Engine::fail_write`]): its Close frame is usually in the
/// first read; a bound keeps a flood from holding the task.
const SALVAGE_LIMIT: usize = 1 << 20;

/// The current time for the core, on tokio's clock (which tests may pause).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

#[derive(Debug)]
pub(crate) struct Engine<S> {
    pub(crate) io: S,
    pub(crate) conn: Connection,
    /// Bytes to write: the core's buffers, without a copy.
    out: OutputQueue,
    needs_flush: bool,
    /// The core asked for the transport to be closed (`Transmit::Close`).
    close_requested: bool,
    shutdown_done: bool,
    eof: bool,
    /// Nothing more will be done: an I/O error, or the finishing deadline passed.
    dead: bool,
    /// After `Transmit::Close`, or once the owner saw `Closed`: the limit
    /// for writing the rest, shutting down and waiting for the peer's end
    /// of stream.
    finish_deadline: Option<Instant>,
    /// Armed for the earliest deadline; its own `deadline()` says for when.
    timer: Option<Pin<Box<Sleep>>>,
    /// An I/O error that ended the connection before its close was reported.
    pub(crate) io_error: Option<io::Error>,
    /// Something was read or written, or a deadline fired, since the last
    /// [`Engine::take_activity`].
    activity: bool,
    /// The connection's `tracing` span and events (nothing without the
    /// `tracing` feature).
    pub(crate) trace: ConnTrace,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Engine<S> {
    pub(crate) fn new(io: S, conn: Connection) -> Self {
        let trace = ConnTrace::new(conn.role());
        Self {
            io,
            conn,
            out: OutputQueue::default(),
            needs_flush: false,
            close_requested: false,
            shutdown_done: false,
            eof: false,
            dead: false,
            finish_deadline: None,
            timer: None,
            io_error: None,
            activity: false,
            trace,
        }
    }

    /// Whether there is nothing more to do: the core closed the transport
    /// (written, shut down, and the peer's end of stream seen, or the
    /// finishing deadline passed), or the transport failed. The peer's end
    /// of stream is not awaited when the core says there is no reason to
    /// (a client whose opening handshake failed: see
    /// `Connection::transport_close`).
    pub(crate) fn is_done(&self) -> bool {
        let wait_for_eof = self.conn.transport_close() == TransportClose::Linger;
        self.dead || (self.shutdown_done && (self.eof || !wait_for_eof))
    }

    /// Whether the transport failed or gave up.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead
    }

    /// Bytes waiting in this engine's write buffer (not counting the core's).
    pub(crate) fn write_pending(&self) -> usize {
        self.out.pending()
    }

    /// Bytes waiting to be written, in this engine and in the core.
    pub(crate) fn output_pending(&self) -> usize {
        self.out.pending() + self.conn.buffered_amount()
    }

    pub(crate) fn take_activity(&mut self) -> bool {
        std::mem::take(&mut self.activity)
    }

    /// Moves the core's output into the write buffer. `timed_out`: the core
    /// just handled a deadline, so a close of the transport it asks for now
    /// is giving up on the peer, and waiting for its end of stream is
    /// pointless.
    fn pump(&mut self, now: Instant, timed_out: bool) {
        // After a deadline the core gave up on the peer: take everything,
        // so that its request to close the transport is seen at once.
        let limit = if timed_out {
            usize::MAX
        } else {
            PUMP_HIGH_WATER
        };
        while self.out.pending() < limit {
            let Some(t) = self.out.take_from(&mut self.conn, now) else {
                break;
            };
            if t == Transmit::Close && !self.close_requested {
                self.close_requested = true;
                if self.conn.transport_close() == TransportClose::Abort {
                    // The peer took nothing for the write timeout: what is
                    // left goes with the transport.
                    self.out.clear();
                    self.dead = true;
                    self.activity = true;
                    return;
                }
                let limit = if timed_out {
                    now
                } else {
                    now + self.conn.config().close_timeout
                };
                self.finish_deadline.get_or_insert(limit);
            }
        }
    }

    /// Writes everything the core has queued, in as few writes as the
    /// transport allows, then flushes and, when the core asked for it,
    /// shuts the write side down. `Ready(Ok)` when all of that is done.
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.dead {
            return Poll::Ready(Ok(()));
        }
        loop {
            let at = now();
            self.pump(at, false);
            if self.out.is_empty() {
                break;
            }
            // What was just taken waits for the transport (the writes below
            // report what it takes).
            self.conn.handle_written(at, 0, self.out.pending());
            while !self.out.is_empty() {
                let stream = Pin::new(&mut self.io);
                let n = if self.out.buffers() > 1 && stream.is_write_vectored() {
                    let mut slices = [io::IoSlice::new(&[]); 16];
                    let count = self.out.io_slices(&mut slices);
                    ready!(stream.poll_write_vectored(cx, &slices[..count]))?
                } else {
                    ready!(stream.poll_write(cx, self.out.front()))?
                };
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.out.advance(n);
                self.conn.handle_written(now(), n, self.out.pending());
                self.needs_flush = true;
                self.activity = true;
            }
        }
        if self.needs_flush {
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
            self.needs_flush = false;
        }
        if self.close_requested && !self.shutdown_done {
            // The peer may already be gone; there is nothing to do about a
            // failed shutdown but stop.
            let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
            self.shutdown_done = true;
            self.activity = true;
        }
        Poll::Ready(Ok(()))
    }

    /// Reads once and feeds the core. Never ready after end of stream.
    pub(crate) fn poll_read_in(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_read_some(cx).map_ok(|_| ())
    }

    /// Reads once and feeds the core; the bytes read (0 at end of stream).
    fn poll_read_some(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.eof || self.dead {
            return Poll::Pending;
        }
        READ_BUFFER.with(|shared| match shared.try_borrow_mut() {
            Ok(mut rbuf) => self.read_into(cx, &mut rbuf),
            // Not reachable (nothing in a read polls another engine), but a
            // buffer of its own keeps it correct if it ever is.
            Err(_) => self.read_into(cx, &mut vec![0; READ_BUFFER_SIZE]),
        })
    }

    fn read_into(&mut self, cx: &mut Context<'_>, rbuf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(rbuf);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        let now = now();
        self.activity = true;
        if n == 0 {
            self.eof = true;
            self.conn.handle_eof(now);
        } else {
            self.conn.handle_input(now, &rbuf[..n]);
        }
        Poll::Ready(Ok(n))
    }

    /// Sleeps until the earliest of the core's deadline, the finishing
    /// deadline and `extra`; then fires the core's timers and returns the
    /// time. Pending forever when there is no deadline.
    pub(crate) fn poll_timer(
        &mut self,
        cx: &mut Context<'_>,
        extra: Option<Instant>,
    ) -> Poll<Instant> {
        let finish = self.finish_deadline.filter(|_| !self.is_done());
        let deadline = [self.conn.poll_timeout(), finish, extra]
            .into_iter()
            .flatten()
            .min();
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        let at = tokio::time::Instant::from_std(deadline);
        let timer = match &mut self.timer {
            Some(timer) => {
                if timer.deadline() != at {
                    timer.as_mut().reset(at);
                }
                timer
            }
            None => self.timer.insert(Box::pin(tokio::time::sleep_until(at))),
        };
        ready!(timer.as_mut().poll(cx));
        self.activity = true;
        let now = now();
        // Only the core's own deadlines count as the core timing out (the
        // caller's `extra` ones are its business).
        let core_due = self.conn.poll_timeout().is_some_and(|d| d <= now);
        self.conn.handle_timeout(now);
        self.pump(now, core_due);
        if finish.is_some_and(|f| f <= now) {
            // The peer neither read the rest nor closed its end in time.
            self.dead = true;
        }
        Poll::Ready(now)
    }

    /// One step: write what is pending, fire due deadlines, and read once
    /// unless, after writing, `read_limit` bytes or more still wait to be
    /// written (then the write, not the peer, is what to wait for).
    /// `Ready` when something happened that may have produced events or finished the engine; the caller then drains the
    /// core's events and checks [`Engine::is_done`] before polling again.
    /// I/O errors end the engine (see [`Engine::fail`]) and count as progress.
    pub(crate) fn poll_progress(
        &mut self,
        cx: &mut Context<'_>,
        read_limit: usize,
        extra: Option<Instant>,
    ) -> Poll<()> {
        if self.is_done() {
            return Poll::Ready(());
        }
        if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
            self.fail_write(cx, e);
            return Poll::Ready(());
        }
        if self.is_done() {
            return Poll::Ready(());
        }
        if self.poll_timer(cx, extra).is_ready() {
            self.write_opportunistically(cx);
            return Poll::Ready(());
        }
        if self.output_pending() < read_limit {
            match self.poll_read_in(cx) {
                Poll::Ready(Ok(())) => {
                    self.write_opportunistically(cx);
                    return Poll::Ready(());
                }
                Poll::Ready(Err(e)) => {
                    self.fail(e);
                    return Poll::Ready(());
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    /// The owner saw the core's `Closed` event: whatever is left (writing
    /// the rest, the peer's end of stream) gets `Config::close_timeout`
    /// more at most, even if the peer stopped reading and the core never
    /// gets to ask for the transport to be closed.
    pub(crate) fn closed_seen(&mut self) {
        let limit = now() + self.conn.config().close_timeout;
        self.finish_deadline.get_or_insert(limit);
    }

    /// Writes what an input, a deadline or an event just polled made the
    /// core queue (a pong, a close echo or error close, a keepalive ping)
    /// without waiting, so it goes out even if the caller stops polling
    /// after the item it gets now.
    pub(crate) fn write_opportunistically(&mut self, cx: &mut Context<'_>) {
        if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
            self.fail_write(cx, e);
        }
    }

    /// A write failed. A peer that sent its Close and closed its socket at
    /// once (browsers and Node do) makes our next write fail while its
    /// Close still waits in the socket's receive buffer: what is readable
    /// now (up to [`SALVAGE_LIMIT`]) goes to the core first, so that the
    /// close is seen as the clean one it was; then as [`Engine::fail`].
    pub(crate) fn fail_write(&mut self, cx: &mut Context<'_>, e: io::Error) {
        let mut left = SALVAGE_LIMIT;
        while left > 0 {
            match self.poll_read_some(cx) {
                Poll::Ready(Ok(n)) if n > 0 => left = left.saturating_sub(n),
                _ => break,
            }
        }
        self.fail(e);
    }

    /// The transport failed: stop using it and tell the core it is gone
    /// (which reports `Closed` if it was not reported yet). The error is kept
    /// for the owner only if the connection was not already over, nor
    /// ending cleanly: a peer that closes its socket right after its Close
    /// (with our output unread, so that its system answers with a reset)
    /// ended the connection as it should.
    pub(crate) fn fail(&mut self, e: io::Error) {
        let matters = !self.conn.is_finished() && !self.conn.close_received();
        self.dead = true;
        self.activity = true;
        self.conn.handle_eof(now());
        if matters && self.io_error.is_none() {
            self.io_error = Some(e);
        }
    }

    /// Gives the transport back.
    pub(crate) fn into_io(self) -> S {
        self.io
    }
}
