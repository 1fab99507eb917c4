//! The `WebSocket`-wide half of the dispatch: the `Factory`, who is
//! admitted, and the handlers of connections that never started. A
//! runtime keeps one `Hub` per loop beside its connections' [`Conn`]s.

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use ws_proto::Role;

use crate::admission::Admission;
use crate::dispatch::Conn;
use crate::handler::{Factory, Handler};
use crate::result::Error;
use crate::sender::{Sender, WriteLimits};
use crate::settings::Settings;

/// The `WebSocket`-wide half: the factory, and who is admitted.
pub(crate) struct Hub<F: Factory> {
    pub(crate) factory: F,
    pub(crate) settings: Arc<Settings>,
    pub(crate) admission: Admission,
}

impl<F: Factory> Hub<F> {
    pub(crate) fn new(factory: F, settings: Settings) -> Self {
        Self {
            admission: Admission::new(&settings),
            factory,
            settings: Arc::new(settings),
        }
    }

    /// Decides on a connection just accepted from `peer`, while the runtime
    /// holds `total` connections. `None`: serve it. Otherwise the server is
    /// full: the returned bytes (a 503) are for the runtime to write before
    /// it closes the socket, and a handler made for the refused client has
    /// heard why in `on_error` (as for a connection that never started).
    pub(crate) fn refuse(&mut self, total: usize, peer: Option<SocketAddr>) -> Option<Vec<u8>> {
        let refusal = self.admission.check(total).err()?;
        let error = self.admission.refused(refusal, peer);
        self.never_started(Role::Server, peer, error);
        Some(self.admission.response())
    }

    /// No connection could be started (a connect failed): as in ws-rs, a
    /// handler is made so that the error has somewhere to go.
    pub(crate) fn connect_failed(&mut self, error: Error) {
        self.never_started(Role::Client, None, error);
    }

    /// Whether a new client connection may start while the runtime holds
    /// `total` connections; when not, the failed connect is reported.
    pub(crate) fn may_connect(&mut self, total: usize) -> bool {
        let may = self.admission.may_connect(total);
        if !may {
            self.connect_failed(Error::from(io::Error::other("too many connections")));
        }
        may
    }

    /// A dial failed before its connection started: the handler of the
    /// connection it was to continue (a redirect's next hop) hears why and
    /// goes back to the factory; with none, as [`connect_failed`](Self::connect_failed).
    pub(crate) fn dial_failed(&mut self, existing: Option<Conn<F::Handler>>, error: Error) {
        match existing {
            Some(mut conn) => {
                conn.report(error);
                self.connection_lost(conn);
            }
            None => self.connect_failed(error),
        }
    }

    /// Makes a handler for a connection that never started, with a
    /// `Sender` whose commands go nowhere, and tells it `error`.
    fn never_started(&mut self, role: Role, peer: Option<SocketAddr>, error: Error) {
        let sender = Sender::never_started(WriteLimits::new(&self.settings));
        if let Some(mut conn) = self.make(role, sender) {
            conn.set_addrs(peer, None);
            conn.report(error);
            self.connection_lost(conn);
        }
    }

    /// Makes the handler of a new connection; `None` when the factory panicked.
    pub(crate) fn make(&mut self, role: Role, sender: Sender) -> Option<Conn<F::Handler>> {
        let factory = &mut self.factory;
        let key = sender.key();
        let outbox = sender.outbox();
        let handler = catch_unwind(AssertUnwindSafe(|| match role {
            Role::Server => factory.server_connected(sender),
            Role::Client => factory.client_connected(sender),
        }))
        .ok()?;
        let deflate = catch_unwind(AssertUnwindSafe(|| handler.permessage_deflate())).ok()?;
        let mut conn = Conn::new(handler, Arc::clone(&self.settings), key, outbox, None, None);
        if role == Role::Server {
            conn.set_handshaking(self.admission.handshaking());
        }
        if let Some(deflate) = deflate {
            log::trace!("permessage-deflate chosen by the handler: {deflate:?}");
            let mut config = self.settings.core_config();
            config.deflate = Some(deflate.core_config(&self.settings));
            conn.set_core_config(Arc::new(config));
        }
        Some(conn)
    }

    pub(crate) fn connection_lost(&mut self, conn: Conn<F::Handler>) {
        let handler = conn.into_handler();
        let factory = &mut self.factory;
        let _ = catch_unwind(AssertUnwindSafe(|| factory.connection_lost(handler)));
    }

    pub(crate) fn on_shutdown(&mut self) {
        let factory = &mut self.factory;
        let _ = catch_unwind(AssertUnwindSafe(|| factory.on_shutdown()));
    }
}
