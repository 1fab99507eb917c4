//! [`RedisBackplane`]: Redis pub/sub as the channel between nodes.
//!
//! Two connections per node: one multiplexed connection for `PUBLISH`,
//! and one in subscriber mode, kept by a task of its own. That task
//! connects, subscribes to every channel asked for, forwards what arrives
//! to the [`Inbox`], pings the server every
//! [`keepalive`](RedisConfig::keepalive) to notice a dead link, and on any
//! failure starts again after a backoff that doubles from
//! [`min_backoff`](RedisConfig::min_backoff) up to
//! [`max_backoff`](RedisConfig::max_backoff), subscribing again to
//! everything. What is published on another node while this one is
//! disconnected does not reach it (Redis pub/sub keeps nothing); a publish
//! from this node while Redis is unreachable fails, and the caller hears
//! of it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;

use crate::backplane::{Backplane, BackplaneError, Inbox};

/// The timeouts and backoff of a [`RedisBackplane`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// How long connecting may take. Default 1 s.
    pub connect_timeout: Duration,
    /// How long a command (a `PUBLISH`, a `SUBSCRIBE`, a keepalive `PING`)
    /// may wait for its answer. Default 1 s: a publish fails within about
    /// twice this while Redis is unreachable.
    pub response_timeout: Duration,
    /// The first wait before reconnecting. Default 100 ms.
    pub min_backoff: Duration,
    /// The longest wait before reconnecting. Default 5 s.
    pub max_backoff: Duration,
    /// How often the subscriber connection is pinged. Default 5 s.
    pub keepalive: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            keepalive: Duration::from_secs(5),
        }
    }
}

/// Makes a Redis client for each (re)connection: a fixed address, or one
/// found anew each time (the master a Sentinel names, say).
type MakeClient = dyn Fn() -> redis::RedisResult<redis::Client> + Send + Sync;

/// Redis pub/sub as a [`Backplane`]. Made with [`RedisBackplane::start`],
/// inside a tokio runtime (its subscriber task is spawned there); the task
/// ends when the backplane is dropped.
pub struct RedisBackplane {
    make_client: Arc<MakeClient>,
    config: RedisConfig,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    publisher: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl std::fmt::Debug for RedisBackplane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackplane")
            .field("config", &self.config)
            .field("connected", &self.is_subscribed())
            .finish_non_exhaustive()
    }
}

/// What the backplane and its task share.
#[derive(Default)]
struct Shared {
    /// Every channel asked for: subscribed again after each reconnection.
    channels: Mutex<BTreeSet<String>>,
    /// The subscriber connection is up and subscribed.
    subscribed: AtomicBool,
    /// How many times it has (re)connected and subscribed.
    sessions: AtomicU64,
}

enum Command {
    Subscribe(String),
    Unsubscribe(String),
}

impl RedisBackplane {
    /// A backplane on the Redis at `url` (`redis://host:port/`), delivering
    /// into `inbox`. Fails only for a URL that cannot be used; an
    /// unreachable server is retried in the background.
    pub fn start(url: &str, config: RedisConfig, inbox: Inbox) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        Ok(Self::start_with(move || Ok(client.clone()), config, inbox))
    }

    /// A backplane that asks `make_client` for a client at every
    /// (re)connection: for a Redis whose address changes, as behind
    /// Sentinel (resolve the current master there).
    pub fn start_with(
        make_client: impl Fn() -> redis::RedisResult<redis::Client> + Send + Sync + 'static,
        config: RedisConfig,
        inbox: Inbox,
    ) -> Self {
        let make_client: Arc<MakeClient> = Arc::new(make_client);
        let shared = Arc::new(Shared::default());
        let (commands, rx) = mpsc::unbounded_channel();
        tokio::spawn(subscriber(
            Arc::clone(&make_client),
            config,
            Arc::clone(&shared),
            rx,
            inbox,
        ));
        Self {
            make_client,
            config,
            shared,
            commands,
            publisher: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether the subscriber connection is up and subscribed.
    pub fn is_subscribed(&self) -> bool {
        self.shared.subscribed.load(Ordering::SeqCst)
    }

    /// How many times the subscriber connection has connected and
    /// subscribed (1 after the first time; more after reconnections).
    pub fn sessions(&self) -> u64 {
        self.shared.sessions.load(Ordering::SeqCst)
    }

    /// The publishing connection, made if there is none.
    async fn publisher(&self) -> Result<MultiplexedConnection, BackplaneError> {
        let mut slot = self.publisher.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let client = (self.make_client)()
            .map_err(|e| BackplaneError::new("no Redis client for publishing", e))?;
        let settings = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.config.connect_timeout))
            .set_response_timeout(Some(self.config.response_timeout));
        let connection = client
            .get_multiplexed_async_connection_with_config(&settings)
            .await
            .map_err(|e| BackplaneError::new("connecting to Redis to publish", e))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

impl Backplane for RedisBackplane {
    async fn publish(&self, channel: &str, bytes: Vec<u8>) -> Result<(), BackplaneError> {
        // A connection broken since its last use (Redis restarted) fails
        // once: then a new one is tried before the publish is reported.
        let mut last = None;
        for _ in 0..2 {
            let mut connection = self.publisher().await?;
            match connection.publish::<_, _, usize>(channel, &bytes).await {
                Ok(_receivers) => return Ok(()),
                Err(e) => {
                    *self.publisher.lock().await = None;
                    let retry = e.is_io_error() || e.is_connection_dropped();
                    last = Some(e);
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(BackplaneError::new(
            format!("publishing on Redis channel {channel:?}"),
            last.expect("an error was recorded"),
        ))
    }

    fn subscribe(&self, channel: &str) {
        let new = lock(&self.shared.channels).insert(channel.to_owned());
        if new {
            let _ = self.commands.send(Command::Subscribe(channel.to_owned()));
        }
    }

    fn unsubscribe(&self, channel: &str) {
        let had = lock(&self.shared.channels).remove(channel);
        if had {
            let _ = self.commands.send(Command::Unsubscribe(channel.to_owned()));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The subscriber connection's task: connect, subscribe, forward, and
/// start again after a failure, until the backplane is dropped.
async fn subscriber(
    make_client: Arc<MakeClient>,
    config: RedisConfig,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    inbox: Inbox,
) {
    let mut backoff = config.min_backoff;
    let mut failures = 0u64;
    loop {
        match session(&*make_client, &config, &shared, &mut commands, &inbox).await {
            Ended::Dropped => return,
            Ended::Lost(why) => {
                shared.subscribed.store(false, Ordering::SeqCst);
                if why.is_none() {
                    // It was up: back to the shortest wait.
                    backoff = config.min_backoff;
                    failures = 0;
                }
                failures += 1;
                // The first failure in a row is a warning; the rest,
                // until it is back, are quieter.
                let why = why.unwrap_or_else(|| "the connection ended".to_owned());
                if failures == 1 {
                    log::warn!("Redis subscriber: {why}; reconnecting");
                } else {
                    log::debug!("Redis subscriber: {why}; retrying in {backoff:?}");
                }
            }
        }
        // Wait, but end at once if the backplane is dropped meanwhile
        // (commands sent meanwhile are in `channels` already).
        let wait = tokio::time::sleep(backoff);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                command = commands.recv() => if command.is_none() {
                    return;
                },
            }
        }
        backoff = (backoff * 2).min(config.max_backoff);
    }
}

enum Ended {
    /// The backplane is gone.
    Dropped,
    /// The connection failed (`Some`: before it was up, and why) or ended.
    Lost(Option<String>),
}

async fn session(
    make_client: &MakeClient,
    config: &RedisConfig,
    shared: &Shared,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    inbox: &Inbox,
) -> Ended {
    let client = match make_client() {
        Ok(client) => client,
        Err(e) => return Ended::Lost(Some(format!("no client: {e}"))),
    };
    let connected = tokio::time::timeout(config.connect_timeout, client.get_async_pubsub()).await;
    let pubsub = match connected {
        Ok(Ok(pubsub)) => pubsub,
        Ok(Err(e)) => return Ended::Lost(Some(format!("connecting: {e}"))),
        Err(_) => return Ended::Lost(Some("connecting timed out".to_owned())),
    };
    let (mut sink, mut stream) = pubsub.split();
    let channels: Vec<String> = lock(&shared.channels).iter().cloned().collect();
    for channel in &channels {
        let done = tokio::time::timeout(config.response_timeout, sink.subscribe(channel)).await;
        if !matches!(done, Ok(Ok(()))) {
            return Ended::Lost(Some(format!("subscribing to {channel:?} failed")));
        }
    }
    shared.subscribed.store(true, Ordering::SeqCst);
    let sessions = shared.sessions.fetch_add(1, Ordering::SeqCst) + 1;
    if sessions > 1 {
        log::info!(
            "Redis subscriber: connected again, {} channels subscribed",
            channels.len()
        );
    }
    let mut keepalive = tokio::time::interval(config.keepalive);
    keepalive.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => inbox(message.get_channel_name(), message.get_payload_bytes()),
                None => return Ended::Lost(None),
            },
            command = commands.recv() => {
                let done = match command {
                    None => return Ended::Dropped,
                    Some(Command::Subscribe(channel)) => {
                        tokio::time::timeout(config.response_timeout, sink.subscribe(channel)).await
                    }
                    Some(Command::Unsubscribe(channel)) => {
                        tokio::time::timeout(config.response_timeout, sink.unsubscribe(channel)).await
                    }
                };
                if !matches!(done, Ok(Ok(()))) {
                    return Ended::Lost(None);
                }
            }
            _ = keepalive.tick() => {
                let pong = tokio::time::timeout(config.response_timeout, sink.ping::<String>()).await;
                if !matches!(pong, Ok(Ok(_))) {
                    return Ended::Lost(None);
                }
            }
        }
    }
}
