//! The halves of a split [`WebSocketStream`].
//!
//! Both halves drive the same engine (one transport, one core), so they
//! share it the way `futures`' `BiLock` would: behind a lock taken for the
//! duration of one `poll` of one half and never held across an `.await`.
//! A plain `std::sync::Mutex` does that soundly and without `unsafe`; the
//! two halves rarely contend, and when they do the wait is one poll. The
//! unsplit [`WebSocketStream`] takes no lock at all. Each half keeps its own
//! waker (see `Side` in `stream.rs`), so neither steals the other's wake-ups.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use ws_proto::{CloseCode, Closed, PreparedMessage};

use crate::error::Error;
use crate::message::Message;
use crate::stream::{Shared, Side, StreamState, WebSocketStream};

type Inner<S> = Arc<Mutex<Shared<S>>>;

fn lock<S>(inner: &Inner<S>) -> MutexGuard<'_, Shared<S>> {
    // A panic while polling leaves the state consistent enough to go on
    // (every step leaves the core and the buffers in a valid state).
    inner
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Splits into a read half (a [`Stream`]) and a write half (a [`Sink`])
    /// that can be used from two tasks, on any runtime flavour. They share
    /// the connection behind a mutex held only for the duration of a poll.
    ///
    /// The read half keeps answering pings and running the core's timers
    /// while the write half is idle; the write half can close the
    /// connection ([`WriteHalf::close`]), and the read half then yields the
    /// peer's close frame and ends. If the read half is dropped, incoming
    /// messages are dropped too.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use ws_tokio::CloseCode;
    ///
    /// # async fn run() -> Result<(), ws_tokio::Error> {
    /// let ws = ws_tokio::connect("ws://127.0.0.1:9001/").await?;
    /// let (mut read, mut write) = ws.split();
    /// let reader = tokio::spawn(async move {
    ///     while let Some(msg) = read.next().await {
    ///         println!("{:?}", msg?);
    ///     }
    ///     Ok::<_, ws_tokio::Error>(())
    /// });
    /// for i in 0..10 {
    ///     write.send(format!("tick {i}")).await?;
    /// }
    /// write.close(CloseCode::NORMAL, "").await?;
    /// reader.await.unwrap()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        split(self.shared)
    }
}

fn split<S>(shared: Shared<S>) -> (ReadHalf<S>, WriteHalf<S>) {
    let inner = Arc::new(Mutex::new(shared));
    (
        ReadHalf {
            inner: inner.clone(),
        },
        WriteHalf { inner },
    )
}

/// The reading half of a [`WebSocketStream`], from
/// [`WebSocketStream::split`]: a [`Stream`] of [`Message`]s.
///
/// Polling it also writes automatic replies (pongs, the close echo) and
/// runs the core's timers, so keep it polled even when the write half is
/// idle. Dropping it makes the connection drop incoming messages.
pub struct ReadHalf<S> {
    inner: Inner<S>,
}

/// The writing half of a [`WebSocketStream`], from
/// [`WebSocketStream::split`]: a [`Sink`] of [`Message`]s.
pub struct WriteHalf<S> {
    inner: Inner<S>,
}

impl<S> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<S> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    fn poll(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        lock(&self.inner).with(Side::Reader, cx, StreamState::poll_next)
    }

    /// The next message; `None` once the connection is over.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.poll(cx)).await
    }

    /// How the connection ended, once this half has reported it.
    pub fn closed(&self) -> Option<Closed> {
        lock(&self.inner).state.closed.clone()
    }

    /// Puts the halves back together. Fails, giving them back, when they
    /// come from different streams.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<WebSocketStream<S>, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.inner, &write.inner) {
            return Err(ReuniteError(self, write));
        }
        drop(write);
        // `self` has a Drop impl, so take the Arc out by hand.
        let inner = self.inner.clone();
        drop(self);
        let mutex = Arc::try_unwrap(inner).unwrap_or_else(|_| unreachable!("both halves are gone"));
        let mut shared = mutex.into_inner().unwrap_or_else(|p| p.into_inner());
        shared.state.discard_events = false;
        Ok(WebSocketStream { shared })
    }
}

impl<S> Drop for ReadHalf<S> {
    fn drop(&mut self) {
        if let Ok(mut shared) = self.inner.lock() {
            shared.state.discard_events = true;
            // A close waiting on the write half now drains the events.
            shared.wake(Side::Writer);
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FusedStream for ReadHalf<S> {
    fn is_terminated(&self) -> bool {
        lock(&self.inner).state.is_terminated()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Queues a message (or control frame) and writes everything queued.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        poll_fn(|cx| lock(&self.inner).with(Side::Writer, cx, StreamState::poll_ready)).await?;
        lock(&self.inner).state.start_send(message)?;
        self.flush().await
    }

    /// Queues a [`PreparedMessage`] without copying it and writes
    /// everything queued: [`WebSocketStream::send_prepared`].
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.inner).with(Side::Writer, cx, StreamState::poll_ready)).await?;
        lock(&self.inner).state.start_send_prepared(message)?;
        self.flush().await
    }

    /// Sends a ping (at most 125 bytes); the pong arrives on the read half.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send(Message::Ping(payload.to_vec())).await
    }

    /// Writes everything queued to the transport and flushes it; resolves
    /// once the transport took it all. Fails when writing to the transport
    /// fails, now or earlier (the error says how).
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.inner).with(Side::Writer, cx, StreamState::poll_flush)).await
    }

    /// Performs the close handshake from this half: sends the close frame
    /// and resolves once the connection is over (the peer answered and the
    /// transport is closed, or the close timeout passed).
    ///
    /// Unlike [`WebSocketStream::close`] it drops nothing: messages that
    /// arrive meanwhile, and then the peer's close frame (or the error),
    /// are yielded by the read half, which reports how the close went. So
    /// the read half must be read meanwhile (as it is when a task loops on
    /// it): the core acts on the peer's close frame when the read half
    /// reaches it. If the read half was dropped, this drains and reports it
    /// instead.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        lock(&self.inner).state.start_close(code, reason)?;
        poll_fn(|cx| {
            lock(&self.inner).with(Side::Writer, cx, |state, cx| {
                state.poll_until_done(cx, false)
            })
        })
        .await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.inner).with(Side::Writer, cx, StreamState::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        lock(&self.inner).state.start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.inner).with(Side::Writer, cx, StreamState::poll_flush)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.inner).with(Side::Writer, cx, StreamState::poll_close)
    }
}

/// [`ReadHalf::reunite`] was given halves of two different streams; here
/// they are back.
pub struct ReuniteError<S>(pub ReadHalf<S>, pub WriteHalf<S>);

impl<S> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the halves come from different WebSocket streams")
    }
}

impl<S> std::error::Error for ReuniteError<S> {}
