//! One task per connection, calling a [`Session`] object: the shape for
//! callback-based frameworks (the `ws` crate's tokio backend).
//!
//! [`drive`] owns the transport and the [`Connection`] and waits, in one
//! `poll`, on the transport (reading, and writing while output is
//! pending), the core's next deadline, the session's own timers and a
//! command channel. Each event of the core, each command and each due timer
//! is handed to the session with the connection, on which it can act at
//! once (`send`, `close`, `accept` ...); what it queued is written before
//! the task sleeps again. The session runs on the task that polls
//! [`drive`], so it needs no `Send` when that task is spawned with
//! [`tokio::task::spawn_local`] on a `LocalSet`.
//!
//! The driver does the opening handshake too, through the session: a
//! server connection reports [`Event::Request`], which the session answers
//! with [`Connection::accept`] or [`Connection::reject`].

use std::collections::{BTreeSet, HashMap};
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use ws_proto::{Connection, Event};

use crate::engine::{Engine, now};
use crate::stream::WRITE_HIGH_WATER;

/// Most commands taken from the channel before the transport is served again.
const COMMAND_BATCH: usize = 64;

/// What a connection driven by [`drive`] does with its inputs.
///
/// Every method gets the [`Connection`] to act on and a [`Control`] for the
/// time and the session's timers. Commands given to the connection are
/// carried out (written) after the method returns. The methods are never
/// called concurrently and never after `drive` returned.
pub trait Session {
    /// What the command channel carries.
    type Command;

    /// An event of the core: the request (server), `Open`, a message, a
    /// ping or pong, and last `Closed`.
    fn on_event(&mut self, ctl: &mut Control<'_>, conn: &mut Connection, event: Event);

    /// A command from the channel given to [`drive`].
    fn on_command(&mut self, ctl: &mut Control<'_>, conn: &mut Connection, command: Self::Command);

    /// A timer set with [`Control::set_timer`] is due.
    fn on_timer(&mut self, ctl: &mut Control<'_>, conn: &mut Connection, id: u64) {
        let _ = (ctl, conn, id);
    }

    /// The transport failed (reset, broken pipe ...). The core is told the
    /// transport is gone, so `Event::Closed` follows unless it came already.
    fn on_io_error(&mut self, ctl: &mut Control<'_>, conn: &mut Connection, error: &io::Error) {
        let _ = (ctl, conn, error);
    }

    /// Called after the other calls of each turn, and whenever the
    /// transport took some of the output: `pending` bytes wait in the
    /// driver's write buffer (the core may hold more, see
    /// [`Connection::buffered_amount`]). For tracking how much is
    /// buffered; what the session queues here is written like any other
    /// output.
    fn on_output(&mut self, ctl: &mut Control<'_>, conn: &mut Connection, pending: usize) {
        let _ = (ctl, conn, pending);
    }

    /// Whether the driver takes commands while output is backed up (see
    /// [`drive`]). Return true only when the senders of the channel bound
    /// what they queue by themselves. Default false.
    fn commands_while_backed_up(&self) -> bool {
        false
    }
}

/// A session's view of its task: the time and its timers.
#[derive(Debug)]
pub struct Control<'a> {
    now: Instant,
    timers: &'a mut Timers,
}

impl Control<'_> {
    /// The time of the input being handled (tokio's clock).
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Calls [`Session::on_timer`] with `id` at `at` (at once if it passed).
    /// Setting an `id` again moves its timer.
    pub fn set_timer(&mut self, id: u64, at: Instant) {
        self.timers.set(id, at);
    }

    /// Cancels the timer `id`; `false` when there was none.
    pub fn cancel_timer(&mut self, id: u64) -> bool {
        self.timers.cancel(id)
    }
}

/// A session's timers, earliest first.
#[derive(Debug, Default)]
struct Timers {
    by_time: BTreeSet<(Instant, u64)>,
    by_id: HashMap<u64, Instant>,
}

impl Timers {
    fn set(&mut self, id: u64, at: Instant) {
        if let Some(old) = self.by_id.insert(id, at) {
            self.by_time.remove(&(old, id));
        }
        self.by_time.insert((at, id));
    }

    fn cancel(&mut self, id: u64) -> bool {
        match self.by_id.remove(&id) {
            Some(at) => self.by_time.remove(&(at, id)),
            None => false,
        }
    }

    fn next(&self) -> Option<Instant> {
        self.by_time.first().map(|&(at, _)| at)
    }

    fn pop_due(&mut self, now: Instant) -> Option<u64> {
        let &(at, id) = self.by_time.first()?;
        if at > now {
            return None;
        }
        self.by_time.remove(&(at, id));
        self.by_id.remove(&id);
        Some(id)
    }
}

/// A source of commands for [`drive`]: implemented for tokio's bounded and
/// unbounded `mpsc` receivers.
pub trait Commands {
    /// The command type.
    type Item;

    /// The next command; `Ready(None)` once every sender is gone.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>>;
}

impl<T> Commands for mpsc::Receiver<T> {
    type Item = T;

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        mpsc::Receiver::poll_recv(self, cx)
    }
}

impl<T> Commands for mpsc::UnboundedReceiver<T> {
    type Item = T;

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        mpsc::UnboundedReceiver::poll_recv(self, cx)
    }
}

/// Runs one connection to its end, calling `session` with its inputs.
///
/// `conn` is a fresh [`Connection::server`] or [`Connection::client`]
/// (whose handshake the session then sees), or an
/// [`established`](Connection::established) one. Returns once the core
/// reported `Closed` and the transport is closed (or the close timeout
/// passed), with the transport.
///
/// While more than 128 KiB wait to be written, the driver neither reads
/// from the peer nor takes commands (unless
/// [`Session::commands_while_backed_up`] says otherwise), so a peer that
/// does not read cannot make it buffer without bound (a bounded channel
/// then fills up, and its senders see it). When every sender of the
/// channel is gone, the connection goes on until it ends by itself.
///
/// ```
/// use std::sync::Arc;
/// use ws_tokio::driver::{Control, Session, drive};
/// use ws_tokio::ws_proto::{Connection, Event};
///
/// /// Echoes messages; a command closes the connection.
/// struct Echo;
///
/// impl Session for Echo {
///     type Command = ();
///
///     fn on_event(&mut self, ctl: &mut Control<'_>, conn: &mut Connection, event: Event) {
///         match event {
///             Event::Request(_) => conn.accept(ctl.now(), Default::default()).unwrap(),
///             Event::Message(msg) => drop(conn.send(ctl.now(), msg)),
///             _ => {}
///         }
///     }
///
///     fn on_command(&mut self, ctl: &mut Control<'_>, conn: &mut Connection, _: ()) {
///         let _ = conn.close(ctl.now(), ws_tokio::CloseCode::NORMAL, "");
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let addr = listener.local_addr()?;
/// # tokio::spawn(async move {
/// #     let mut ws = ws_tokio::connect(&format!("ws://{addr}/")).await.unwrap();
/// #     ws.send("hi").await.unwrap();
/// #     ws.recv().await;
/// #     ws.close(ws_tokio::CloseCode::NORMAL, "").await.unwrap();
/// # });
/// let (tcp, _) = listener.accept().await?;
/// let seed = ws_tokio::ws_proto::os_seed()?;
/// let conn = Connection::server(Arc::default(), std::time::Instant::now(), seed);
/// let (_commands, rx) = tokio::sync::mpsc::unbounded_channel();
/// drive(tcp, conn, &mut Echo, rx).await;
/// # Ok(())
/// # }
/// ```
pub async fn drive<S, T, C>(stream: S, conn: Connection, session: &mut T, mut commands: C) -> S
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: Session,
    C: Commands<Item = T::Command>,
{
    let mut engine = Engine::new(stream, conn);
    let scope = engine.trace.scope();
    if engine.conn.is_open() {
        // An established connection: no `Open` event will say so.
        engine.trace.established(&engine.conn, None);
    }
    let mut timers = Timers::default();
    let mut commands_open = true;
    let eager = session.commands_while_backed_up();
    let mut batch = Vec::new();
    loop {
        let now = now();
        let mut ctl = Control {
            now,
            timers: &mut timers,
        };
        let written = engine.write_pending();
        let io_error = engine.io_error.take();
        let conn = &mut engine.conn;
        let trace = &mut engine.trace;
        scope.run(|| {
            for command in batch.drain(..) {
                session.on_command(&mut ctl, conn, command);
            }
            trace.note_close(conn);
            if let Some(e) = &io_error {
                session.on_io_error(&mut ctl, conn, e);
            }
        });
        let mut closed = false;
        scope.run(|| {
            loop {
                while let Some(event) = conn.poll_event() {
                    match &event {
                        Event::Open(opened) => trace.established(conn, opened.response.protocol()),
                        Event::Closed(c) => {
                            closed = true;
                            trace.closed(c, io_error.as_ref());
                        }
                        _ => {}
                    }
                    session.on_event(&mut ctl, conn, event);
                    trace.note_close(conn);
                }
                match ctl.timers.pop_due(now) {
                    Some(id) => {
                        session.on_timer(&mut ctl, conn, id);
                        trace.note_close(conn);
                    }
                    None => break,
                }
            }
            session.on_output(&mut ctl, conn, written);
        });
        if closed {
            engine.closed_seen();
        }
        if engine.is_done() {
            return engine.into_io();
        }
        let reported = engine.output_pending();
        poll_fn(|cx| {
            // Write first: whether there is room for more input and more
            // commands depends on what is still waiting to be written.
            let progressed = scope
                .run(|| engine.poll_progress(cx, WRITE_HIGH_WATER, timers.next()))
                .is_ready();
            // Some output went out: the session hears of it.
            let drained = engine.output_pending() < reported;
            if commands_open && (eager || engine.output_pending() < WRITE_HIGH_WATER) {
                while batch.len() < COMMAND_BATCH {
                    match commands.poll_recv(cx) {
                        Poll::Ready(Some(command)) => batch.push(command),
                        Poll::Ready(None) => {
                            commands_open = false;
                            break;
                        }
                        Poll::Pending => break,
                    }
                }
            }
            if progressed || drained || !batch.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timers_fire_in_order_and_move_and_cancel() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut timers = Timers::default();
        timers.set(1, ms(30));
        timers.set(2, ms(10));
        timers.set(3, ms(20));
        timers.set(1, ms(5));
        assert!(timers.cancel(3));
        assert!(!timers.cancel(3));
        assert_eq!(timers.next(), Some(ms(5)));
        assert_eq!(timers.pop_due(ms(4)), None);
        assert_eq!(timers.pop_due(ms(100)), Some(1));
        assert_eq!(timers.pop_due(ms(100)), Some(2));
        assert_eq!(timers.pop_due(ms(100)), None);
        assert_eq!(timers.next(), None);
    }
}
