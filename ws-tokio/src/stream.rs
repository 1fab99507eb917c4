//! [`WebSocketStream`]: one connection as a `Stream` of messages and a
//! `Sink` of messages.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker, ready};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite};
use ws_proto::{
    CloseCode, CloseFrame, Closed, Config, Connection, Event, Opened, PreparedMessage, Request,
    Role,
};

use crate::engine::{Engine, now};
use crate::error::{Error, copy_io};
use crate::message::Message;
use crate::upgrade::Negotiated;

/// `poll_ready` waits for the transport, and reading pauses, while more
/// than this many bytes are queued for it (the engine's and the core's):
/// [`ws_proto::backpressure::READ_PAUSE`], as on ws-mio.
pub(crate) const WRITE_HIGH_WATER: usize = ws_proto::backpressure::READ_PAUSE;

/// A WebSocket connection over any tokio byte stream (`TcpStream`, a TLS
/// stream, hyper's `Upgraded`, `tokio::io::duplex` ...), after the opening
/// handshake.
///
/// It owns the stream and the protocol core ([`ws_proto::Connection`]); no
/// lock is taken on any path. Obtain one with [`accept`](crate::accept),
/// [`connect`](crate::connect), [`client`](crate::client),
/// [`WebSocketStream::from_upgrade`] or [`WebSocketStream::from_raw`].
///
/// - As a [`Stream`] it yields every [`Message`]: `Text` and `Binary`, the
///   `Ping`s and `Pong`s that arrive (pings are answered automatically),
///   and, for a clean close, the peer's `Close` frame. After the close it
///   ends (`None`). A connection that ends any other way yields one `Err`
///   (a protocol violation, a timeout, an I/O error ...) and then ends.
/// - As a [`Sink`] it takes a [`Message`]. Sends are queued and written
///   together: several messages fed before a flush go out in one write.
///   `poll_ready` waits only while more than 128 KiB are queued.
///   That is the back-pressure: when the peer stops reading, `poll_ready`
///   (and so `send`, `feed`, `send_all`) waits until it reads again, so a
///   writer that goes through it holds at most about 128 KiB plus one
///   message per connection. A `start_send` without `poll_ready` (which
///   the `Sink` contract forbids) still cannot take more than
///   [`Config::max_write_buffer`]: past it, it fails with
///   [`Error::Send`](crate::Error::Send).
///   [`SinkExt::close`](futures_util::SinkExt::close) sends a 1000 close
///   frame and flushes; keep reading the stream to its end to finish the
///   handshake. (The inherent `close` shadows it: call it as
///   `SinkExt::close(&mut ws)`.)
/// - The inherent [`recv`](Self::recv), [`send`](Self::send),
///   [`ping`](Self::ping) and [`close`](Self::close) do the same without
///   importing a trait; `close` waits for the whole close handshake.
///
/// ```
/// use futures_util::{SinkExt, StreamExt, stream};
/// use ws_tokio::{Message, Role, WebSocketStream};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), ws_tokio::Error> {
/// let (a, b) = tokio::io::duplex(64 * 1024);
/// let mut server = WebSocketStream::from_raw(a, Role::Server);
/// let mut client = WebSocketStream::from_raw(b, Role::Client);
/// // Three messages, one write.
/// let mut batch = stream::iter(["a", "b", "c"].map(|s| Ok(Message::text(s))));
/// client.send_all(&mut batch).await?;
/// let got: Vec<Message> = server.by_ref().take(3).map(Result::unwrap).collect().await;
/// assert_eq!(got, ["a", "b", "c"].map(Message::text));
/// # Ok(())
/// # }
/// ```
///
/// Reading drives everything else: automatic pongs, the close echo, and
/// the core's deadlines (keepalive pings, close and idle timeouts) happen
/// while the stream (or its read half) is being polled. Keep polling it.
///
/// Reads go into one reused 64 KiB buffer; writes go out from one reused
/// buffer (the core's, swapped in without a copy).
#[derive(Debug)]
pub struct WebSocketStream<S> {
    pub(crate) shared: Shared<S>,
}

/// Which party is polling: the reading side or the writing side. Each has
/// its own waker slot; the transport and the timer see one waker that
/// wakes both, so two tasks (split halves, or `StreamExt::split`) never
/// steal each other's wake-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Reader,
    Writer,
}

#[derive(Debug, Default)]
pub(crate) struct Wakers {
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl Wakers {
    fn slot(&self, side: Side) -> &AtomicWaker {
        match side {
            Side::Reader => &self.reader,
            Side::Writer => &self.writer,
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.reader.wake();
        self.writer.wake();
    }
}

/// What the stream remembers of its opening handshake.
#[derive(Debug)]
struct Opening {
    opened: Opened,
    /// A client's: the URL it connected to, after any redirects.
    url: Option<url::Url>,
}

/// The state behind a stream or both of its halves.
#[derive(Debug)]
pub(crate) struct Shared<S> {
    pub(crate) state: StreamState<S>,
    /// The opening handshake, when this crate ran it.
    handshake: Option<Box<Opening>>,
    wakers: Arc<Wakers>,
    /// Wakes both slots; the only waker the transport and timer ever see.
    fan: Waker,
}

/// The message stream over the engine, polled by a [`WebSocketStream`] or
/// by either of its halves: the `Stream` and `Sink` steps and what they
/// remember about the end of the connection. (Not the protocol core: that
/// is the engine's [`Connection`].)
#[derive(Debug)]
pub(crate) struct StreamState<S> {
    pub(crate) engine: Engine<S>,
    pub(crate) closed: Option<Closed>,
    /// The error that ended the connection, kept by [`StreamState::poll_until_done`].
    close_error: Option<Error>,
    /// The stream has yielded `None`.
    terminated: bool,
    /// The sink's `poll_close` has sent its close frame.
    sink_closed: bool,
    /// Nobody will read events any more (the read half was dropped).
    pub(crate) discard_events: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Shared<S> {
    pub(crate) fn new(engine: Engine<S>, handshake: Option<Opened>) -> Self {
        let wakers = Arc::new(Wakers::default());
        Self {
            handshake: handshake.map(|opened| Box::new(Opening { opened, url: None })),
            state: StreamState {
                engine,
                closed: None,
                close_error: None,
                terminated: false,
                sink_closed: false,
                discard_events: false,
            },
            fan: Waker::from(wakers.clone()),
            wakers,
        }
    }

    /// Runs `f` on behalf of `side`: registers the caller's waker in the
    /// side's slot and polls with the waker that wakes both sides. When the
    /// call moved data or fired a timer, the other side is woken, since it
    /// may have been waiting for exactly that.
    pub(crate) fn with<R>(
        &mut self,
        side: Side,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut StreamState<S>, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        let (mine, other) = match side {
            Side::Reader => (Side::Reader, Side::Writer),
            Side::Writer => (Side::Writer, Side::Reader),
        };
        self.wakers.slot(mine).register(cx.waker());
        let mut fan_cx = Context::from_waker(&self.fan);
        // The connection's span, entered around the poll (a handle taken
        // each time, so that the stream holds one pointer for it; nothing
        // without the `tracing` feature or with the span off).
        let scope = self.state.engine.trace.scope();
        let state = &mut self.state;
        let result = scope.run(|| f(state, &mut fan_cx));
        if result.is_ready() {
            self.wakers.slot(mine).take();
        }
        if self.state.engine.take_activity() {
            self.wakers.slot(other).wake();
        }
        result
    }
}

impl<S> Shared<S> {
    /// Wakes whoever waits on `side`.
    pub(crate) fn wake(&self, side: Side) {
        self.wakers.slot(side).wake();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> StreamState<S> {
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        if self.terminated {
            return Poll::Ready(None);
        }
        loop {
            while let Some(event) = self.engine.conn.poll_event() {
                if let Some(item) = self.on_event(event) {
                    // The core answers pings, close frames and violations
                    // as their events are polled: send the answer now.
                    self.engine.write_opportunistically(cx);
                    return Poll::Ready(Some(item));
                }
            }
            if self.engine.is_done() {
                self.terminated = true;
                return Poll::Ready(None);
            }
            ready!(self.engine.poll_progress(cx, usize::MAX, None));
        }
    }

    fn on_event(&mut self, event: Event) -> Option<Result<Message, Error>> {
        match event {
            Event::Message(m) => Some(Ok(m.into())),
            Event::Ping(p) => Some(Ok(Message::Ping(p))),
            Event::Pong(p) => Some(Ok(Message::Pong(p))),
            Event::Closed(closed) => Some(self.on_closed(closed)),
            // Handled by the handshake functions before the stream exists.
            Event::Request(_) | Event::Open(_) => None,
        }
    }

    /// What the stream yields for the core's `Closed`: the peer's close
    /// frame after a clean close handshake, the error otherwise.
    fn on_closed(&mut self, closed: Closed) -> Result<Message, Error> {
        self.engine.closed_seen();
        self.engine
            .trace
            .closed(&closed, self.engine.io_error.as_ref());
        let item = if let Some(e) = self.engine.io_error.take() {
            Err(Error::Io(e))
        } else {
            match &closed.error {
                None if closed.code == CloseCode::NO_STATUS => Ok(Message::Close(None)),
                None => Ok(Message::Close(Some(CloseFrame {
                    code: closed.code,
                    reason: closed.reason.clone(),
                }))),
                Some(e) => Err(e.clone().into()),
            }
        };
        self.closed = Some(closed);
        item
    }

    /// Drives the connection until it is over. With `discard` (or once the
    /// read half is gone) events are dropped, except that `Closed` is
    /// recorded; otherwise they are left for the reader.
    pub(crate) fn poll_until_done(
        &mut self,
        cx: &mut Context<'_>,
        discard: bool,
    ) -> Poll<Result<(), Error>> {
        loop {
            if discard || self.discard_events {
                while let Some(event) = self.engine.conn.poll_event() {
                    if let Event::Closed(closed) = event {
                        if let Err(e) = self.on_closed(closed) {
                            self.close_error = Some(e);
                        }
                    }
                }
            }
            if self.engine.is_done() {
                if discard {
                    self.terminated = true;
                }
                return Poll::Ready(match self.close_error.take() {
                    Some(e) => Err(e),
                    None => Ok(()),
                });
            }
            ready!(self.engine.poll_progress(cx, usize::MAX, None));
        }
    }

    pub(crate) fn start_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.engine.conn.close(now(), code, reason)?;
        self.engine.trace.note_close(&self.engine.conn);
        Ok(())
    }

    /// Why nothing more can be sent on a dead transport.
    fn dead_error(&self) -> Error {
        match &self.engine.io_error {
            Some(e) => Error::Io(copy_io(e)),
            None => Error::Closed,
        }
    }

    fn write_failed(&mut self, cx: &mut Context<'_>, e: std::io::Error) -> Error {
        self.engine.fail_write(cx, e);
        self.dead_error()
    }

    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.engine.is_dead() {
            return Poll::Ready(Err(self.dead_error()));
        }
        if self.engine.output_pending() < WRITE_HIGH_WATER {
            return Poll::Ready(Ok(()));
        }
        match self.engine.poll_write_out(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.write_failed(cx, e))),
            Poll::Pending if self.engine.output_pending() < WRITE_HIGH_WATER => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    pub(crate) fn start_send(&mut self, item: Message) -> Result<(), Error> {
        if self.engine.is_dead() {
            return Err(self.dead_error());
        }
        let now = now();
        let conn = &mut self.engine.conn;
        match item {
            Message::Text(s) => conn.send(now, ws_proto::Message::Text(s))?,
            Message::Binary(b) => conn.send(now, ws_proto::Message::Binary(b))?,
            Message::Ping(p) => conn.ping(now, &p)?,
            Message::Pong(p) => conn.pong(now, &p)?,
            Message::Close(Some(frame)) => conn.close(now, frame.code, &frame.reason)?,
            Message::Close(None) => conn.close(now, CloseCode::NORMAL, "")?,
        }
        self.engine.trace.note_close(&self.engine.conn);
        Ok(())
    }

    pub(crate) fn start_send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        if self.engine.is_dead() {
            return Err(self.dead_error());
        }
        self.engine.conn.send_prepared(now(), message)?;
        Ok(())
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.engine.is_dead() && self.engine.io_error.is_some() {
            return Poll::Ready(Err(self.dead_error()));
        }
        match ready!(self.engine.poll_write_out(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(self.write_failed(cx, e))),
        }
    }

    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if !self.sink_closed {
            self.sink_closed = true;
            // Closing twice is a no-op in the core; 1000 is always allowed.
            let _ = self.engine.conn.close(now(), CloseCode::NORMAL, "");
            self.engine.trace.note_close(&self.engine.conn);
        }
        self.poll_flush(cx)
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Wraps a stream whose opening handshake was done elsewhere (a hyper or
    /// axum upgrade, for example), with the default [`Config`]: no
    /// handshake bytes are exchanged, and messages flow at once. `role` is
    /// this end's role: [`Role::Server`] for an upgraded server request.
    ///
    /// The stream must start right after the handshake: bytes the HTTP
    /// layer read ahead must still be readable from it (hyper's `Upgraded`
    /// takes care of that; otherwise see
    /// [`from_partially_read`](Self::from_partially_read)).
    ///
    /// ```
    /// use ws_tokio::{Role, WebSocketStream};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), ws_tokio::Error> {
    /// let (a, b) = tokio::io::duplex(4096);
    /// let mut server = WebSocketStream::from_raw(a, Role::Server);
    /// let mut client = WebSocketStream::from_raw(b, Role::Client);
    /// client.send("hi").await?;
    /// assert_eq!(server.recv().await.unwrap()?.as_text(), Some("hi"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When the OS random source fails ([`ws_proto::os_seed`]): no connection
    /// is made with predictable keys. The handshake functions (`accept`,
    /// `connect`, ...) return that failure as an error instead.
    pub fn from_raw(stream: S, role: Role) -> Self {
        Self::from_raw_with_config(stream, role, Arc::default())
    }

    /// [`from_raw`](Self::from_raw) with a [`Config`] (limits and deadlines).
    ///
    /// # Panics
    ///
    /// When the OS random source fails ([`ws_proto::os_seed`]): no connection
    /// is made with predictable keys. The handshake functions (`accept`,
    /// `connect`, ...) return that failure as an error instead.
    pub fn from_raw_with_config(stream: S, role: Role, config: Arc<Config>) -> Self {
        Self::from_partially_read(stream, Vec::new(), role, config)
    }

    /// [`from_raw_with_config`](Self::from_raw_with_config) for a stream of
    /// which the HTTP layer already read `read_ahead`: the bytes that
    /// followed the handshake, which are fed to the connection first.
    ///
    /// # Panics
    ///
    /// When the OS random source fails ([`ws_proto::os_seed`]): no connection
    /// is made with predictable keys. The handshake functions (`accept`,
    /// `connect`, ...) return that failure as an error instead.
    pub fn from_partially_read(
        stream: S,
        read_ahead: Vec<u8>,
        role: Role,
        config: Arc<Config>,
    ) -> Self {
        let now = now();
        let seed = ws_proto::os_seed().expect("the OS random source failed");
        let mut conn = Connection::established(config, role, now, seed);
        conn.handle_input(now, &read_ahead);
        Self::from_engine(Engine::new(stream, conn), None)
    }

    /// Wraps the stream of a server upgrade that an HTTP server (hyper,
    /// axum ...) answered with the 101 of `negotiated`
    /// ([`upgrade::negotiate`](crate::upgrade::negotiate)): the connection
    /// runs with the permessage-deflate parameters agreed there, if any,
    /// and [`protocol`](Self::protocol) and [`handshake`](Self::handshake)
    /// report that response. `config` should be the one given to
    /// `negotiate`; compression's level and threshold come from its
    /// [`Config::deflate`].
    ///
    /// As with [`from_raw`](Self::from_raw), the stream must start right
    /// after the handshake (hyper's `Upgraded` does).
    ///
    /// # Panics
    ///
    /// When the OS random source fails ([`ws_proto::os_seed`]): no connection
    /// is made with predictable keys. The handshake functions (`accept`,
    /// `connect`, ...) return that failure as an error instead.
    pub fn from_upgrade(stream: S, negotiated: Negotiated, config: Arc<Config>) -> Self {
        let now = now();
        let seed = ws_proto::os_seed().expect("the OS random source failed");
        let (response, deflate) = negotiated.into_parts();
        let conn = match deflate {
            Some(params) => {
                Connection::established_with_deflate(config, Role::Server, now, seed, params)
            }
            None => Connection::established(config, Role::Server, now, seed),
        };
        let opened = Opened {
            request: None,
            response,
        };
        Self::from_engine(Engine::new(stream, conn), Some(opened))
    }

    pub(crate) fn from_engine(engine: Engine<S>, handshake: Option<Opened>) -> Self {
        let protocol = handshake.as_ref().and_then(|o| o.response.protocol());
        engine.trace.established(&engine.conn, protocol);
        Self {
            shared: Shared::new(engine, handshake),
        }
    }

    /// The next message: [`StreamExt::next`](futures_util::StreamExt::next)
    /// without the import. `None` once the connection is over.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.shared.with(Side::Reader, cx, StreamState::poll_next)).await
    }

    /// Queues a message (or control frame, see [`Message`]) and writes
    /// everything queued.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        poll_fn(|cx| self.shared.with(Side::Writer, cx, StreamState::poll_ready)).await?;
        self.shared.state.start_send(message)?;
        self.flush().await
    }

    /// Queues a [`PreparedMessage`] (server only) and writes everything
    /// queued, as [`send`](Self::send) does: the same back-pressure, the
    /// same order. The frames are not copied: the write queue holds a
    /// reference to the prepared message's own bytes (see
    /// [`topics`](crate::topics)). Fails with [`Error::Send`] on a client
    /// (`SendError::PreparedOnClient`) and once the connection is closing.
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.shared.with(Side::Writer, cx, StreamState::poll_ready)).await?;
        self.shared.state.start_send_prepared(message)?;
        self.flush().await
    }

    /// Sends a ping (at most 125 bytes). The peer's pong arrives as
    /// [`Message::Pong`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send(Message::Ping(payload.to_vec())).await
    }

    /// Writes everything queued to the transport and flushes it; resolves
    /// once the transport took it all. Fails when writing to the transport
    /// fails, now or earlier (the error says how).
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.shared.with(Side::Writer, cx, StreamState::poll_flush)).await
    }

    /// Performs the close handshake: sends a close frame with `code` and
    /// `reason` (cut to 123 bytes), waits for the peer's, and closes the
    /// transport (waiting, within `Config::close_timeout`, for the peer to
    /// close its end too). Resolves `Ok` after a clean close; the peer's
    /// answer is then in [`closed`](Self::closed), and the stream ends.
    ///
    /// Messages that arrive while closing are dropped. To read them, send
    /// the close with [`SinkExt::close`](futures_util::SinkExt::close) or
    /// [`Message::Close`] instead and read the stream to its end.
    ///
    /// When the peer already closed, this only finishes the handshake.
    /// Fails with [`Error::Send`] for a code that may not be sent
    /// ([`CloseCode::is_allowed`]), with [`Error::Timeout`] when the peer
    /// did not answer in time, and with the connection's error when it
    /// ended otherwise while closing.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.shared.state.start_close(code, reason)?;
        poll_fn(|cx| {
            self.shared.with(Side::Reader, cx, |state, cx| {
                state.poll_until_done(cx, true)
            })
        })
        .await
    }

    /// How the connection ended, once the stream has reported it: the close
    /// code and reason (the peer's, after a close handshake) and the error
    /// if it was not a clean close.
    pub fn closed(&self) -> Option<&Closed> {
        self.shared.state.closed.as_ref()
    }

    /// The opening handshake, when [`accept`](crate::accept) or
    /// [`client`](crate::client) ran it (not for
    /// [`from_raw`](Self::from_raw)): the request and the 101 response.
    /// For [`from_upgrade`](Self::from_upgrade), the 101 response alone.
    pub fn handshake(&self) -> Option<&Opened> {
        self.shared.handshake.as_deref().map(|o| &o.opened)
    }

    /// The URL a client connected to with [`connect`](crate::connect) or a
    /// [`Connector`](crate::Connector): the one it was given or, after
    /// redirects, the last one. `None` on a server and for a stream whose
    /// handshake was run otherwise ([`client`](crate::client), say).
    pub fn url(&self) -> Option<&url::Url> {
        self.shared.handshake.as_ref()?.url.as_ref()
    }

    pub(crate) fn set_url(&mut self, url: url::Url) {
        if let Some(opening) = self.shared.handshake.as_mut() {
            opening.url = Some(url);
        }
    }

    /// The client's upgrade request (received on a server, sent by a
    /// client), when this crate ran the handshake.
    pub fn request(&self) -> Option<&Request> {
        self.shared.handshake.as_ref()?.opened.request.as_ref()
    }

    /// The subprotocol the server chose (its `Sec-WebSocket-Protocol`), if
    /// any; `None` also for a stream made with [`from_raw`](Self::from_raw)
    /// (not for one made with [`from_upgrade`](Self::from_upgrade)).
    pub fn protocol(&self) -> Option<&str> {
        self.shared.handshake.as_ref()?.opened.response.protocol()
    }

    /// The protocol core, for inspection (`role`, `is_open`,
    /// `buffered_amount` ...).
    pub fn connection(&self) -> &Connection {
        &self.shared.state.engine.conn
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.connection().role()
    }

    /// The underlying stream, to look at (its addresses, its TLS state).
    pub fn get_ref(&self) -> &S {
        &self.shared.state.engine.io
    }

    /// The underlying stream, mutably. Reading or writing it directly
    /// corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.shared.state.engine.io
    }

    /// Gives the underlying stream back, dropping whatever was read and
    /// not yet delivered or queued and not yet written.
    pub fn into_inner(self) -> S {
        self.shared.state.engine.into_io()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .shared
            .with(Side::Reader, cx, StreamState::poll_next)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FusedStream for WebSocketStream<S> {
    fn is_terminated(&self) -> bool {
        self.shared.state.is_terminated()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut()
            .shared
            .with(Side::Writer, cx, StreamState::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().shared.state.start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut()
            .shared
            .with(Side::Writer, cx, StreamState::poll_flush)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut()
            .shared
            .with(Side::Writer, cx, StreamState::poll_close)
    }
}
