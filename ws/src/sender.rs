//! [`Sender`]: the handle through which an application acts on a connection
//! (or, for a broadcaster, on all of them).

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

pub(crate) use ws_proto::session::Route;

use crate::message::Message;
use crate::protocol::CloseCode;
use crate::result::{Error, ErrorKind, QueueError, Result};
use crate::settings::Settings;
use crate::util::{Timeout, Token};

/// The token of a broadcaster: a `Sender` whose messages go to every connection.
pub(crate) const ALL: Token = Token(usize::MAX);

/// The token of a `Sender` whose connection never started: a client the
/// server refused, or a connect that failed. Its handler is made only to
/// hear why (as in ws-rs); the `Sender`'s commands go nowhere.
pub(crate) const NEVER_STARTED: Token = Token(usize::MAX - 1);

/// Where the commands of a [`NEVER_STARTED`] `Sender` go: nowhere, with an
/// error; also the queue of a loop not made yet.
pub(crate) struct Nowhere;

impl CommandQueue for Nowhere {
    fn push(&self, _: Route, _: Command) -> std::result::Result<(), QueueError> {
        Err(QueueError::Disconnected)
    }
}

/// What a [`Sender`] asks of the event loop.
#[derive(Clone, Debug)]
pub(crate) enum Command {
    /// A message for one connection, already counted in its [`Outbox`].
    Send(Message),
    /// A message not counted anywhere yet (a broadcast): the connection
    /// checks it against its cap when it takes it.
    Broadcast(Message),
    /// The connection's cap refused a send and `Settings::close_on_write_cap`
    /// is set: close with 1008.
    WriteCap,
    /// Nothing to do but look at the outbox again (see [`Outbox::refuse`]).
    Nudge,
    Close(CloseCode, Cow<'static, str>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Timeout {
        delay: Duration,
        event: Token,
        timeout: Timeout,
    },
    Cancel(Timeout),
    Connect(url::Url),
    Shutdown,
}

/// A runtime's way of delivering commands to its event loop.
pub(crate) trait CommandQueue: Send + Sync {
    fn push(&self, route: Route, command: Command) -> std::result::Result<(), QueueError>;
}

static NEXT_TIMEOUT: AtomicU64 = AtomicU64::new(1);

/// Which loop and which connection a `Sender` speaks to.
pub(crate) type SenderKey = (usize, Route);

/// The connection whose handler runs on this thread right now, and the
/// commands its own `Sender` gave meanwhile. They are carried out as soon as
/// the handler returns, without a trip through the loop's queue, so a reply
/// goes out before the core acts on the next frame (the pong of a later
/// ping, the close frame of a later protocol error), and the common echo
/// costs no lock.
struct Direct {
    key: SenderKey,
    commands: Vec<Command>,
    /// A command of the same loop went through the queue: later ones follow
    /// it there, so that commands stay in order.
    spilled: bool,
}

thread_local! {
    static DIRECT: RefCell<Option<Direct>> = const { RefCell::new(None) };
    /// Command lists kept between scopes, so that a handler's replies cost
    /// no allocation: the collecting one and the one being carried out.
    static SPARE: RefCell<[Vec<Command>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Lists longer than this are not kept for the next scope.
const SPARE_KEEP: usize = 64;

/// Collects, while it lives, the commands the connection `key`'s own
/// `Sender` gives on this thread.
pub(crate) struct DirectScope {
    /// False for a scope opened inside another (which keeps collecting).
    outer: bool,
}

impl DirectScope {
    pub(crate) fn begin(key: SenderKey) -> DirectScope {
        let outer = DIRECT.with(|d| {
            let mut d = d.borrow_mut();
            if d.is_some() {
                return false;
            }
            *d = Some(Direct {
                key,
                commands: SPARE.with(|s| std::mem::take(&mut s.borrow_mut()[0])),
                spilled: false,
            });
            true
        });
        DirectScope { outer }
    }

    /// An empty list for [`DirectScope::swap`], with the capacity of
    /// earlier ones.
    pub(crate) fn batch(&self) -> Vec<Command> {
        SPARE.with(|s| std::mem::take(&mut s.borrow_mut()[1]))
    }

    /// Trades `batch` (empty) for the commands collected since the last
    /// call; `batch` stays empty for an inner scope, whose commands the
    /// outer one carries out.
    pub(crate) fn swap(&self, batch: &mut Vec<Command>) {
        debug_assert!(batch.is_empty());
        if !self.outer {
            return;
        }
        DIRECT.with(|d| {
            if let Some(d) = d.borrow_mut().as_mut() {
                std::mem::swap(&mut d.commands, batch);
            }
        });
    }

    /// Gives back a list from [`DirectScope::batch`] for the next scope.
    pub(crate) fn recycle(&self, mut batch: Vec<Command>) {
        batch.clear();
        if batch.capacity() <= SPARE_KEEP {
            SPARE.with(|s| s.borrow_mut()[1] = batch);
        }
    }
}

impl Drop for DirectScope {
    /// Stops collecting, even when unwinding.
    fn drop(&mut self) {
        if self.outer {
            if let Some(mut d) = DIRECT.with(|d| d.borrow_mut().take()) {
                d.commands.clear();
                if d.commands.capacity() <= SPARE_KEEP {
                    SPARE.with(|s| s.borrow_mut()[0] = d.commands);
                }
            }
        }
    }
}

/// A connection's write limits, from the [`Settings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WriteLimits {
    /// The hard cap: a send that would take the buffered amount past it fails.
    pub(crate) cap: usize,
    /// Past this, `Handler::on_drain` is owed.
    pub(crate) high: usize,
    /// At or below this, `Handler::on_drain` is called when owed.
    pub(crate) low: usize,
    /// Close with 1008 instead of only refusing the send.
    pub(crate) close: bool,
}

impl WriteLimits {
    pub(crate) fn new(settings: &Settings) -> WriteLimits {
        let cap = settings.write_cap();
        let high = settings.out_buffer_high_water.min(cap);
        WriteLimits {
            cap,
            high,
            low: settings.out_buffer_low_water.min(high / 2),
            close: settings.close_on_write_cap,
        }
    }
}

/// What a connection holds for its peer, shared by its `Sender`s (any
/// thread) and the runtime that writes it.
///
/// `buffered` is the length of the messages its `Sender`s queued and the
/// connection has not taken yet, plus what the connection and the runtime
/// hold for the socket as of the runtime's last write: a send adds to it,
/// and after each write the runtime adds the change in what it holds minus
/// the messages it took meanwhile (see `dispatch::Conn::on_flushed`). One
/// atomic add on each side; no lock.
#[derive(Debug)]
pub(crate) struct Outbox {
    buffered: AtomicUsize,
    /// The buffered amount passed the high-water mark, or a send was
    /// refused, since the last `on_drain`.
    armed: AtomicBool,
    /// The close policy has been applied: the connection is closing.
    capped: AtomicBool,
    pub(crate) limits: WriteLimits,
}

impl Outbox {
    pub(crate) fn new(limits: WriteLimits) -> Outbox {
        Outbox {
            buffered: AtomicUsize::new(0),
            armed: AtomicBool::new(false),
            capped: AtomicBool::new(false),
            limits,
        }
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buffered.load(Ordering::Relaxed)
    }

    /// Counts `len` more bytes if they fit under the cap. When they do not,
    /// nothing is counted, `on_drain` becomes owed, and the error says how
    /// full the buffer is.
    fn reserve(&self, len: usize) -> std::result::Result<(), usize> {
        let before = self.buffered.fetch_add(len, Ordering::Relaxed);
        let after = before.saturating_add(len);
        if after > self.limits.cap {
            self.buffered.fetch_sub(len, Ordering::Relaxed);
            return Err(before);
        }
        if after > self.limits.high && !self.armed.load(Ordering::Relaxed) {
            self.armed.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Gives back what [`Outbox::reserve`] counted for a message that was
    /// not queued after all.
    fn release(&self, len: usize) {
        self.buffered.fetch_sub(len, Ordering::Relaxed);
    }

    /// A send was refused: `on_drain` is owed. Returns true when the
    /// buffer may have drained already, before the runtime could see that
    /// it was owed: then the connection needs a look (a [`Command::Nudge`]).
    fn refuse(&self) -> bool {
        self.armed.store(true, Ordering::SeqCst);
        self.buffered.load(Ordering::SeqCst) <= self.limits.low
    }

    /// Adds `delta` (wrapping: a negative change is a large one) and
    /// returns the new amount.
    pub(crate) fn adjust(&self, delta: usize) -> usize {
        if delta == 0 {
            return self.buffered.load(Ordering::SeqCst);
        }
        self.buffered
            .fetch_add(delta, Ordering::SeqCst)
            .wrapping_add(delta)
    }

    /// Counts a broadcast message the connection took under the cap (it
    /// is then handled like a message from the connection's own `Sender`).
    pub(crate) fn admit(&self, len: usize) -> bool {
        self.reserve(len).is_ok()
    }

    /// Marks `on_drain` as owed when `amount` is past the high-water mark;
    /// or, when it is at or below the low-water mark and `on_drain` was
    /// owed, takes the debt and returns true.
    pub(crate) fn drained(&self, amount: usize) -> bool {
        if amount > self.limits.high {
            if !self.armed.load(Ordering::Relaxed) {
                self.armed.store(true, Ordering::SeqCst);
            }
            false
        } else {
            amount <= self.limits.low && self.armed.swap(false, Ordering::SeqCst)
        }
    }

    /// Records that the close policy was applied; true the first time.
    pub(crate) fn cap_reached(&self) -> bool {
        !self.capped.swap(true, Ordering::Relaxed)
    }

    /// Undoes [`Outbox::cap_reached`].
    fn cap_unreached(&self) {
        self.capped.store(false, Ordering::Relaxed);
    }

    /// Whether the close policy was applied.
    pub(crate) fn capped(&self) -> bool {
        self.capped.load(Ordering::Relaxed)
    }
}

/// Sends messages and commands to one connection, or to all of them.
///
/// `Clone + Send + Sync`: keep a copy in the handler, pass one to another
/// thread. Every method queues a command for the event loop and returns at
/// once; `Ok` means the command was queued, not that it was carried out.
/// Commands from one thread are carried out in order.
///
/// # Back-pressure
///
/// Each connection has a bounded outgoing buffer (an addition over ws-rs,
/// whose buffers grew without bound): the messages its `Sender`s queued
/// and what the connection holds for the socket, which
/// [`buffered_amount`](Sender::buffered_amount) reports. Its cap is
/// [`Settings::out_buffer_capacity`](crate::Settings::out_buffer_capacity)
/// when [`out_buffer_grow`](crate::Settings::out_buffer_grow) is false,
/// else 64 MiB. When a peer stops reading, [`send`](Sender::send) fails
/// with [`ErrorKind::Capacity`] as soon as the message would take the
/// buffer past the cap, and nothing is queued; with
/// [`Settings::close_on_write_cap`](crate::Settings::close_on_write_cap)
/// the connection is also closed with 1008. Once the peer has read enough,
/// [`Handler::on_drain`](crate::Handler::on_drain) says so. A broadcast
/// message is checked against each connection's cap when that connection
/// takes it: a connection over its cap reports a Capacity error to its
/// handler (and closes with 1008 under the close policy) while the others
/// still receive the message.
#[derive(Clone)]
pub struct Sender {
    token: Token,
    connection_id: u64,
    queue: Arc<dyn CommandQueue>,
    /// The connection's outbox; `None` for a broadcaster.
    outbox: Option<Arc<Outbox>>,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("token", &self.token)
            .field("connection_id", &self.connection_id)
            .finish_non_exhaustive()
    }
}

/// Two `Sender`s are equal when they reach the same connection: the same
/// event loop, token and connection id (clones are equal to their
/// original; a new connection that reuses a token has a new id). All
/// broadcasters are equal to each other.
impl PartialEq for Sender {
    fn eq(&self, other: &Sender) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for Sender {}

/// Hashes what [`PartialEq`] compares (loop, token and connection id), so that
/// `Sender`s can be kept in sets and as map keys, as in ws-rs. None of them
/// changes during a `Sender`'s life, so clippy's `mutable_key_type` lint (set
/// off by the outbox counter inside) does not apply and may be allowed.
impl std::hash::Hash for Sender {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl Sender {
    pub(crate) fn new(token: Token, connection_id: u64, queue: Arc<dyn CommandQueue>) -> Sender {
        Sender {
            token,
            connection_id,
            queue,
            outbox: None,
        }
    }

    /// The `Sender` of a connection, with its outbox.
    pub(crate) fn with_limits(
        token: Token,
        connection_id: u64,
        queue: Arc<dyn CommandQueue>,
        limits: WriteLimits,
    ) -> Sender {
        Sender {
            outbox: Some(Arc::new(Outbox::new(limits))),
            ..Sender::new(token, connection_id, queue)
        }
    }

    /// The `Sender` of a connection that never started (see
    /// [`NEVER_STARTED`]).
    pub(crate) fn never_started(limits: WriteLimits) -> Sender {
        Sender::with_limits(NEVER_STARTED, 0, Arc::new(Nowhere), limits)
    }

    /// The connection's outbox, for its runtime.
    pub(crate) fn outbox(&self) -> Option<Arc<Outbox>> {
        self.outbox.clone()
    }

    /// The connection's token: its slot in the event loop, reused after it closes.
    pub fn token(&self) -> Token {
        self.token
    }

    /// The connection's id, unique within its `WebSocket` until 2^32
    /// connections have been made (a `u32`, as in ws-rs).
    pub fn connection_id(&self) -> u32 {
        self.connection_id as u32
    }

    /// The loop (by its queue; none for a broadcaster), token and id.
    fn identity(&self) -> (usize, Token, u64) {
        let queue = if self.token == ALL {
            0
        } else {
            Arc::as_ptr(&self.queue) as *const () as usize
        };
        (queue, self.token, self.connection_id)
    }

    fn route(&self) -> Route {
        if self.token == ALL {
            Route::All
        } else {
            Route::Conn {
                token: self.token.0,
                id: self.connection_id,
            }
        }
    }

    pub(crate) fn key(&self) -> SenderKey {
        (Arc::as_ptr(&self.queue) as *const () as usize, self.route())
    }

    fn push(&self, route: Route, command: Command) -> Result<()> {
        let queue = Arc::as_ptr(&self.queue) as *const () as usize;
        let command = DIRECT.with(|d| {
            let mut d = d.borrow_mut();
            match d.as_mut() {
                Some(d) if d.key.0 == queue && !d.spilled => {
                    if d.key.1 == route {
                        d.commands.push(command);
                        return None;
                    }
                    d.spilled = true;
                    Some(command)
                }
                _ => Some(command),
            }
        });
        let Some(command) = command else {
            return Ok(());
        };
        self.queue
            .push(route, command)
            .map_err(|e| Error::new(ErrorKind::Queue(e), "unable to queue the command"))
    }

    /// Sends a message. Before the opening handshake completes the message is
    /// held and sent once the connection opens.
    ///
    /// Fails with [`ErrorKind::Capacity`], queuing nothing, when the message
    /// would take the connection's outgoing buffer past its cap (see
    /// [Back-pressure](#back-pressure)); with
    /// [`Settings::close_on_write_cap`](crate::Settings::close_on_write_cap)
    /// the connection is then also closed with 1008 (going on with `?`
    /// from a handler keeps that code). ws-rs never refused a send.
    /// For a broadcaster, the same as [`broadcast`](Sender::broadcast).
    pub fn send<M: Into<Message>>(&self, msg: M) -> Result<()> {
        let msg = msg.into();
        let route = self.route();
        let Some(outbox) = self.outbox.as_deref().filter(|_| route != Route::All) else {
            return self.push(route, Command::Broadcast(msg));
        };
        let len = msg.len();
        if let Err(buffered) = outbox.reserve(len) {
            return Err(self.refused(outbox, route, buffered, len));
        }
        self.push(route, Command::Send(msg)).inspect_err(|_| {
            outbox.release(len);
        })
    }

    /// The error of a refused send, after applying the policy.
    fn refused(&self, outbox: &Outbox, route: Route, buffered: usize, len: usize) -> Error {
        let cap = outbox.limits.cap;
        let mut details = format!(
            "{buffered} bytes wait to be written to this connection: \
             {len} more would pass its cap of {cap}"
        );
        if outbox.limits.close {
            details.push_str("; closing it with 1008");
            if outbox.cap_reached() && self.push(route, Command::WriteCap).is_err() {
                // Not queued: the next refusal tries again.
                outbox.cap_unreached();
            }
        } else if outbox.refuse() {
            let _ = self.push(route, Command::Nudge);
        }
        Error::new(ErrorKind::Capacity, details)
    }

    /// Bytes accepted by [`send`](Sender::send) and not yet written to the
    /// socket: messages waiting to be taken by the connection, and the
    /// frames it and the runtime hold for the socket, as of the runtime's
    /// last write. 0 for a broadcaster. New in this crate (see
    /// [Back-pressure](#back-pressure)).
    pub fn buffered_amount(&self) -> usize {
        self.outbox.as_deref().map_or(0, Outbox::buffered)
    }

    /// Sends a message to every connection of the `WebSocket`. Each
    /// connection checks it against its own cap (see
    /// [Back-pressure](#back-pressure)).
    pub fn broadcast<M: Into<Message>>(&self, msg: M) -> Result<()> {
        self.push(Route::All, Command::Broadcast(msg.into()))
    }

    /// Starts the closing handshake with `code`: a close frame goes out after
    /// the messages queued before it, nothing can be sent after it, and the
    /// handler's `on_close` runs once the peer has answered (or after
    /// [`Settings::close_timeout`](crate::Settings::close_timeout), 10 s by
    /// default, with [`CloseCode::Abnormal`] if it never does). Before the
    /// connection opens, the close is held like a message. Closing again, or
    /// a connection that is closed already, does nothing.
    ///
    /// Returns an error only when the command cannot be queued
    /// ([`ErrorKind::Queue`]). A code that may not be sent on the wire
    /// (1004 to 1006, 1015 to 2999, or outside 1000-4999) is reported to the handler's
    /// `on_error` when the event loop carries the command out; `Empty` and
    /// `Status` send 1000 instead.
    pub fn close(&self, code: CloseCode) -> Result<()> {
        self.close_with_reason(code, "")
    }

    /// Starts the closing handshake with `code` and a reason (at most 123
    /// bytes are sent, cut at a character boundary); otherwise as
    /// [`close`](Sender::close).
    pub fn close_with_reason<S: Into<Cow<'static, str>>>(
        &self,
        code: CloseCode,
        reason: S,
    ) -> Result<()> {
        self.push(self.route(), Command::Close(code, reason.into()))
    }

    /// Sends a ping (at most 125 bytes of payload), after the messages queued
    /// before it; the peer's pong reaches
    /// [`Handler::on_frame`](crate::Handler::on_frame). A longer payload is
    /// not sent: the event loop reports it to the handler's `on_error`
    /// (the call itself fails only when the command cannot be queued). To
    /// detect dead peers without code, see
    /// [`Settings::keepalive_interval`](crate::Settings::keepalive_interval).
    pub fn ping(&self, data: Vec<u8>) -> Result<()> {
        self.push(self.route(), Command::Ping(data))
    }

    /// Sends a pong (at most 125 bytes of payload), unsolicited; as
    /// [`ping`](Sender::ping) for a longer payload. Pings from the peer are
    /// answered by the library itself.
    pub fn pong(&self, data: Vec<u8>) -> Result<()> {
        self.push(self.route(), Command::Pong(data))
    }

    /// Opens a new client connection to `url`, served by the same `WebSocket`
    /// and factory.
    pub fn connect(&self, url: url::Url) -> Result<()> {
        self.push(Route::Endpoint, Command::Connect(url))
    }

    /// Shuts the `WebSocket` down: every connection is closed with 1001,
    /// handshakes in progress are dropped, and `run` returns once all are
    /// gone (within the close timeout).
    pub fn shutdown(&self) -> Result<()> {
        self.push(Route::Endpoint, Command::Shutdown)
    }

    /// Schedules `Handler::on_timeout(event)` in `ms` milliseconds. The
    /// handle to cancel it comes through `Handler::on_new_timeout`.
    pub fn timeout(&self, ms: u64, event: Token) -> Result<()> {
        let timeout = Timeout::new(NEXT_TIMEOUT.fetch_add(1, Ordering::Relaxed));
        let delay = Duration::from_millis(ms);
        self.push(
            self.route(),
            Command::Timeout {
                delay,
                event,
                timeout,
            },
        )
    }

    /// Cancels a timeout. Cancelling one that fired already does nothing.
    pub fn cancel(&self, timeout: Timeout) -> Result<()> {
        self.push(self.route(), Command::Cancel(timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(Route, String)>>, bool);

    impl CommandQueue for Recorder {
        fn push(&self, route: Route, command: Command) -> std::result::Result<(), QueueError> {
            if self.1 {
                return Err(QueueError::Full);
            }
            self.0.lock().unwrap().push((route, format!("{command:?}")));
            Ok(())
        }
    }

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn routes_and_errors() {
        assert_send_sync::<Sender>();
        let rec = Arc::new(Recorder::default());
        let out = Sender::new(Token(3), 7, rec.clone());
        out.send("hi").unwrap();
        out.broadcast("all").unwrap();
        out.shutdown().unwrap();
        let all = Sender::new(ALL, 0, rec.clone());
        all.send("b").unwrap();
        let routes: Vec<Route> = rec.0.lock().unwrap().iter().map(|(r, _)| *r).collect();
        assert_eq!(
            routes,
            [
                Route::Conn { token: 3, id: 7 },
                Route::All,
                Route::Endpoint,
                Route::All
            ]
        );

        let full = Sender::new(Token(1), 1, Arc::new(Recorder(Mutex::default(), true)));
        let err = full.send("x").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Queue(QueueError::Full)));
    }

    fn limits(close: bool) -> WriteLimits {
        WriteLimits {
            cap: 100,
            high: 60,
            low: 20,
            close,
        }
    }

    fn commands(rec: &Recorder) -> Vec<String> {
        rec.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, c)| c.clone())
            .collect()
    }

    #[test]
    fn sends_past_the_cap_are_refused_and_nothing_is_queued() {
        let rec = Arc::new(Recorder::default());
        let out = Sender::with_limits(Token(3), 7, rec.clone(), limits(false));
        out.send(vec![0u8; 60]).unwrap();
        out.send(vec![0u8; 40]).unwrap();
        assert_eq!(out.buffered_amount(), 100);
        let err = out.send("x").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Capacity), "{err}");
        assert!(err.details.contains("100 bytes wait"), "{err}");
        assert_eq!(out.buffered_amount(), 100);
        assert_eq!(commands(&rec).len(), 2);
        // A failed push gives its bytes back.
        let full = Sender::with_limits(
            Token(1),
            1,
            Arc::new(Recorder(Mutex::default(), true)),
            limits(false),
        );
        assert!(full.send("abc").is_err());
        assert_eq!(full.buffered_amount(), 0);
        // A broadcaster counts nothing and refuses nothing.
        let all = Sender::new(ALL, 0, rec.clone());
        all.send(vec![0u8; 1000]).unwrap();
        assert_eq!(all.buffered_amount(), 0);
    }

    #[test]
    fn the_close_policy_queues_one_write_cap() {
        let rec = Arc::new(Recorder::default());
        let out = Sender::with_limits(Token(3), 7, rec.clone(), limits(true));
        out.send(vec![0u8; 100]).unwrap();
        for _ in 0..3 {
            let err = out.send("x").unwrap_err();
            assert!(err.details.ends_with("closing it with 1008"), "{err}");
        }
        let queued = commands(&rec);
        assert_eq!(queued.len(), 2);
        assert_eq!(queued[1], "WriteCap");
        assert!(out.outbox().unwrap().capped());
    }

    #[test]
    fn write_limits_come_from_the_settings_clamped() {
        let defaults = WriteLimits::new(&Settings::default());
        assert_eq!(
            defaults,
            WriteLimits {
                cap: 64 << 20,
                high: 1 << 20,
                low: 256 << 10,
                close: false,
            }
        );
        let small = Settings {
            out_buffer_grow: false,
            out_buffer_capacity: 64 << 10,
            close_on_write_cap: true,
            ..Settings::default()
        };
        assert_eq!(
            WriteLimits::new(&small),
            WriteLimits {
                cap: 64 << 10,
                high: 64 << 10,
                low: 32 << 10,
                close: true,
            }
        );
    }

    #[test]
    fn on_drain_is_owed_past_high_water_or_after_a_refusal() {
        let outbox = Outbox::new(limits(false));
        // Below the high-water mark: nothing owed.
        outbox.reserve(50).unwrap();
        assert!(!outbox.drained(outbox.adjust(50usize.wrapping_neg())));
        // Past it: owed once, paid at or below the low-water mark.
        outbox.reserve(61).unwrap();
        assert!(!outbox.drained(outbox.adjust(0)));
        assert!(!outbox.drained(outbox.adjust(40usize.wrapping_neg())));
        assert!(outbox.drained(outbox.adjust(1usize.wrapping_neg())));
        assert_eq!(outbox.buffered(), 20);
        assert!(!outbox.drained(outbox.adjust(20usize.wrapping_neg())));
        // A refusal makes it owed even below the high-water mark.
        outbox.reserve(50).unwrap();
        assert_eq!(outbox.reserve(51), Err(50));
        assert!(!outbox.refuse());
        assert!(outbox.drained(outbox.adjust(50usize.wrapping_neg())));
        // A refusal that finds the buffer drained already asks for a look.
        assert!(outbox.refuse());
        // The runtime's own count: what it holds, plus and minus.
        assert_eq!(outbox.adjust(30), 30);
        assert!(outbox.admit(70));
        assert!(!outbox.admit(1));
    }
}
