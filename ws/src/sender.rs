//! [`Sender`]: the handle through which an application acts on a connection
//! (or, for a broadcaster, on all of them).

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::message::Message;
use crate::protocol::CloseCode;
use crate::result::{Error, ErrorKind, QueueError, Result};
use crate::util::{Timeout, Token};

/// The token of a broadcaster: a `Sender` whose messages go to every connection.
pub(crate) const ALL: Token = Token(usize::MAX);

/// What a [`Sender`] asks of the event loop.
#[derive(Clone, Debug)]
pub(crate) enum Command {
    Send(Message),
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

/// Where a command goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// One connection: its slot and its unique id.
    Conn(usize, u64),
    /// Every connection.
    All,
    /// The `WebSocket` itself.
    Endpoint,
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

/// Sends messages and commands to one connection, or to all of them.
///
/// `Clone + Send + Sync`: keep a copy in the handler, pass one to another
/// thread. Every method queues a command for the event loop and returns at
/// once; `Ok` means the command was queued, not that it was carried out.
/// Commands from one thread are carried out in order.
#[derive(Clone)]
pub struct Sender {
    token: Token,
    connection_id: u64,
    queue: Arc<dyn CommandQueue>,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("token", &self.token)
            .field("connection_id", &self.connection_id)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Sender {
    fn eq(&self, other: &Sender) -> bool {
        self.token == other.token && self.connection_id == other.connection_id
    }
}

impl Sender {
    pub(crate) fn new(token: Token, connection_id: u64, queue: Arc<dyn CommandQueue>) -> Sender {
        Sender {
            token,
            connection_id,
            queue,
        }
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

    fn route(&self) -> Route {
        if self.token == ALL {
            Route::All
        } else {
            Route::Conn(self.token.0, self.connection_id)
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
    pub fn send<M: Into<Message>>(&self, msg: M) -> Result<()> {
        self.push(self.route(), Command::Send(msg.into()))
    }

    /// Sends a message to every connection of the `WebSocket`.
    pub fn broadcast<M: Into<Message>>(&self, msg: M) -> Result<()> {
        self.push(Route::All, Command::Send(msg.into()))
    }

    /// Starts the closing handshake with `code`.
    pub fn close(&self, code: CloseCode) -> Result<()> {
        self.close_with_reason(code, "")
    }

    /// Starts the closing handshake with `code` and a reason (at most 123
    /// bytes are sent).
    pub fn close_with_reason<S: Into<Cow<'static, str>>>(
        &self,
        code: CloseCode,
        reason: S,
    ) -> Result<()> {
        self.push(self.route(), Command::Close(code, reason.into()))
    }

    /// Sends a ping (at most 125 bytes of payload).
    pub fn ping(&self, data: Vec<u8>) -> Result<()> {
        self.push(self.route(), Command::Ping(data))
    }

    /// Sends a pong (at most 125 bytes of payload), unsolicited.
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
            [Route::Conn(3, 7), Route::All, Route::Endpoint, Route::All]
        );

        let full = Sender::new(Token(1), 1, Arc::new(Recorder(Mutex::default(), true)));
        let err = full.send("x").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Queue(QueueError::Full)));
    }
}
