//! One task per connection, calling a [`Session`]: the shape for
//! callback-based frameworks (the `ws` crate's tokio backend). `Session` is
//! the workspace's one per-connection contract (`ws_proto::session`), the
//! same that `ws-mio`'s event loop drives: a session written once runs on
//! either runtime.
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
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use ws_proto::session::{Clock, Session};
use ws_proto::{Connection, Event};

use crate::engine::{Engine, now};
use crate::stream::WRITE_HIGH_WATER;

/// Most commands taken from the channel before the transport is served again.
const COMMAND_BATCH: usize = 64;

/// The driver's [`Clock`] for a session: tokio's time and the session's
/// timers.
#[derive(Debug)]
struct TaskClock<'a> {
    now: Instant,
    timers: &'a mut Timers,
}

impl Clock for TaskClock<'_> {
    fn now(&self) -> Instant {
        self.now
    }

    fn set_timer(&mut self, id: u64, at: Instant) {
        self.timers.set(id, at);
    }

    fn cancel_timer(&mut self, id: u64) -> bool {
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

/// What a [`Commands`] source delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<C> {
    /// A command for the session: [`Session::on_command`].
    Command(C),
    /// The runtime is shutting down: [`Session::on_shutdown`], once.
    Shutdown,
}

/// A source of commands for [`drive`]: implemented for tokio's bounded and
/// unbounded `mpsc` receivers of commands (which deliver no shutdown).
pub trait Commands {
    /// The command type.
    type Item;

    /// The next input; `Ready(None)` once every sender is gone.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Input<Self::Item>>>;

    /// Whether the driver takes inputs from this source while the output
    /// is backed up (see [`drive`]). Return true only when the senders
    /// bound what they queue by themselves. Default false.
    fn while_backed_up(&self) -> bool {
        false
    }
}

impl<T> Commands for mpsc::Receiver<T> {
    type Item = T;

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Input<T>>> {
        mpsc::Receiver::poll_recv(self, cx).map(|c| c.map(Input::Command))
    }
}

impl<T> Commands for mpsc::UnboundedReceiver<T> {
    type Item = T;

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Input<T>>> {
        mpsc::UnboundedReceiver::poll_recv(self, cx).map(|c| c.map(Input::Command))
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
/// [`Commands::while_backed_up`] says otherwise), so a peer that
/// does not read cannot make it buffer without bound (a bounded channel
/// then fills up, and its senders see it). When every sender of the
/// channel is gone, the connection goes on until it ends by itself.
///
/// ```
/// use std::sync::Arc;
/// use ws_tokio::driver::drive;
/// use ws_tokio::ws_proto::session::{Clock, Session};
/// use ws_tokio::ws_proto::{Connection, Event};
///
/// /// Echoes messages; a command closes the connection.
/// struct Echo;
///
/// impl Session for Echo {
///     type Command = ();
///
///     fn on_event(&mut self, clock: &mut dyn Clock, conn: &mut Connection, event: Event) {
///         match event {
///             Event::Request(_) => conn.accept(clock.now(), Default::default()).unwrap(),
///             Event::Message(msg) => drop(conn.send(clock.now(), msg)),
///             _ => {}
///         }
///     }
///
///     fn on_command(&mut self, clock: &mut dyn Clock, conn: &mut Connection, _: ()) {
///         let _ = conn.close(clock.now(), ws_tokio::CloseCode::NORMAL, "");
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
    T: Session + ?Sized,
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
    let eager = commands.while_backed_up();
    let mut batch = Vec::new();
    loop {
        let now = now();
        let mut clock = TaskClock {
            now,
            timers: &mut timers,
        };
        let written = engine.write_pending();
        let io_error = engine.io_error.take();
        let conn = &mut engine.conn;
        let trace = &mut engine.trace;
        scope.run(|| {
            for input in batch.drain(..) {
                match input {
                    Input::Command(command) => session.on_command(&mut clock, conn, command),
                    Input::Shutdown => session.on_shutdown(&mut clock, conn),
                }
            }
            trace.note_close(conn);
            if let Some(e) = &io_error {
                session.on_io_error(&mut clock, conn, e);
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
                    session.on_event(&mut clock, conn, event);
                    trace.note_close(conn);
                }
                match clock.timers.pop_due(now) {
                    Some(id) => {
                        session.on_timer(&mut clock, conn, id);
                        trace.note_close(conn);
                    }
                    None => break,
                }
            }
            // What it queues is written below like any other output.
            session.on_flushed(&mut clock, conn, written);
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
