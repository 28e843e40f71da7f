//! The event-bus port. A signal carries nothing but "look again"; the events themselves
//! come from the database, so an instance that misses a signal loses nothing (it also
//! looks every few seconds).
//!
//! Two ephemeral streams ride the same bus and are never stored: "the person is typing"
//! for the listeners' apps, and the web chat's frames (messages of the line, "the listener
//! is typing") for whichever instance holds the person's socket. With Redis each goes to
//! every instance; web chat frames are sealed with the field key on the way, so Redis never
//! holds a message in clear.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use relais_bots::webchat::{Relay, WebChatEvent, WebChatHub};
use relais_core::crypto::{self, Secrets};
use relais_core::db::Db;
use relais_core::helpline::events::{self, LiveEvent};
use tokio::sync::{Notify, broadcast, mpsc};

const CHANNEL: &str = "relais:live";
const TYPING_CHANNEL: &str = "relais:live:typing";
const WEBCHAT_CHANNEL: &str = "relais:webchat";
const ENDED_CHANNEL: &str = "relais:live:sessions-ended";
const WEBCHAT_CONTEXT: &str = "webchat.relay";
/// No request, socket or worker waits longer than this on Redis: past it, Redis counts as
/// away and the instance carries on alone (events by polling the database, presence of its
/// own listeners, web chat messages delivered by the instance that holds the page, or kept in
/// the outbox until Redis returns).
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// "The person is typing" in a conversation: ids only, never stored, never replayed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Typing {
    pub conversation_id: String,
    pub listener_id: Option<String>,
}

/// "Sessions have ended" for an account or a whole organisation (logout, deactivation, role,
/// password or second-factor change): every instance's sockets of that account or
/// organisation look at their session again at once and close (4001) if it is over. Ids
/// only; like the other signals, it means "look again", so a stray one closes nothing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionsEnded {
    pub user_id: Option<String>,
    pub organisation_id: Option<String>,
}

impl SessionsEnded {
    pub fn user(user: impl ToString) -> Self {
        Self {
            user_id: Some(user.to_string()),
            organisation_id: None,
        }
    }

    pub fn organisation(organisation: impl ToString) -> Self {
        Self {
            user_id: None,
            organisation_id: Some(organisation.to_string()),
        }
    }

    /// Whether the signal concerns a socket of this account in this organisation.
    pub fn concerns(&self, user: &str, organisation: &str) -> bool {
        self.user_id.as_deref() == Some(user) || self.organisation_id.as_deref() == Some(organisation)
    }
}

#[derive(Clone)]
pub struct LiveHub {
    local: broadcast::Sender<LiveEvent>,
    typing: broadcast::Sender<Typing>,
    ended: broadcast::Sender<SessionsEnded>,
    wake: Arc<Notify>,
    redis: Option<redis::aio::ConnectionManager>,
    /// Wakes the task that tells the other instances to look again (so that no request
    /// waits on Redis, and a burst of signals is one PUBLISH).
    outgoing: Arc<Notify>,
    /// Whether this instance's subscriber is listening to Redis.
    listening: Arc<AtomicBool>,
    /// The last event number this instance has pumped.
    pumped: Arc<AtomicI64>,
    pub presence: super::presence::PresenceStore,
}

impl LiveHub {
    /// Starts the pump (and, with Redis, the subscriber and the web chat relay). Needs a
    /// Tokio runtime. Redis is connected lazily: an instance starts, and serves, while Redis
    /// is away, and uses it from the moment it answers.
    pub async fn start(db: Db, redis_url: Option<&str>, webchat: WebChatHub, secrets: Secrets) -> anyhow::Result<Self> {
        let typing = broadcast::channel(1024).0;
        let ended = broadcast::channel(1024).0;
        let wake = Arc::new(Notify::new());
        let outgoing = Arc::new(Notify::new());
        let listening = Arc::new(AtomicBool::new(false));
        let redis = match redis_url {
            Some(url) => {
                let client = redis::Client::open(url)?;
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(REDIS_TIMEOUT))
                    .set_response_timeout(Some(REDIS_TIMEOUT))
                    .set_number_of_retries(2)
                    .set_max_delay(REDIS_TIMEOUT);
                let manager = redis::aio::ConnectionManager::new_lazy_with_config(client.clone(), config)?;
                // Frames carry this instance's name, so that the subscriber skips its own
                // (they were handed to this instance's sockets before being relayed).
                let origin = uuid::Uuid::new_v4().to_string();
                let (relay, frames) = mpsc::unbounded_channel();
                webchat.set_relay(relay, listening.clone());
                spawn_webchat_publisher(manager.clone(), frames, secrets.clone(), origin.clone());
                spawn_signaller(manager.clone(), outgoing.clone());
                spawn_subscriber(
                    client,
                    Inbox {
                        wake: wake.clone(),
                        typing: typing.clone(),
                        ended: ended.clone(),
                        webchat,
                        secrets,
                        origin,
                        listening: listening.clone(),
                    },
                );
                Some(manager)
            }
            None => None,
        };
        let start = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || db.get().ok().and_then(|mut c| events::latest(&mut c).ok()))
                .await?
                .unwrap_or(0)
        };
        if redis.is_some() {
            // Give the subscriber a moment, so that a fresh instance with Redis up says so.
            let deadline = tokio::time::Instant::now() + REDIS_TIMEOUT;
            while !listening.load(Ordering::Relaxed) && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let presence = match &redis {
            Some(manager) => super::presence::PresenceStore::redis(manager.clone()),
            None => super::presence::PresenceStore::in_process(),
        };
        let hub = Self {
            local: broadcast::channel(4096).0,
            typing,
            ended,
            wake,
            redis,
            outgoing,
            listening,
            pumped: Arc::new(AtomicI64::new(start)),
            presence,
        };
        tokio::spawn(hub.clone().pump(db));
        Ok(hub)
    }

    /// Whether Redis answers a PING within a second and this instance listens to it; None
    /// without Redis (in-process mode).
    pub async fn redis_up(&self) -> Option<bool> {
        let mut redis = self.redis.clone()?;
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut redis);
        let answers = matches!(tokio::time::timeout(REDIS_TIMEOUT, ping).await, Ok(Ok(_)));
        Some(answers && self.listening.load(Ordering::Relaxed))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.local.subscribe()
    }

    pub fn subscribe_typing(&self) -> broadcast::Receiver<Typing> {
        self.typing.subscribe()
    }

    /// Tells every instance's listeners that the person is typing.
    pub async fn typing(&self, typing: Typing) {
        let Some(redis) = &self.redis else {
            let _ = self.typing.send(typing);
            return;
        };
        let Ok(json) = serde_json::to_vec(&typing) else {
            return;
        };
        if let Err(e) = publish(redis, TYPING_CHANNEL, json).await {
            tracing::debug!(error = %e, "live events: typing not relayed");
        }
    }

    pub fn subscribe_ended(&self) -> broadcast::Receiver<SessionsEnded> {
        self.ended.subscribe()
    }

    /// The providers' pace shared with the other instances, when there is Redis to share it.
    pub fn shared_pace(&self) -> Option<Arc<dyn relais_bots::delivery::SharedPace>> {
        self.redis
            .clone()
            .map(|redis| Arc::new(super::pace::RedisPace::new(redis)) as Arc<dyn relais_bots::delivery::SharedPace>)
    }

    /// Tells every instance's sockets that sessions of an account (or an organisation) have
    /// ended. With Redis, the signal comes back to this instance through the subscriber too;
    /// it is also sent locally at once, so this instance never waits on Redis.
    pub async fn sessions_ended(&self, ended: SessionsEnded) {
        let _ = self.ended.send(ended.clone());
        let Some(redis) = &self.redis else { return };
        let Ok(json) = serde_json::to_vec(&ended) else { return };
        if let Err(e) = publish(redis, ENDED_CHANNEL, json).await {
            tracing::warn!(error = %e, "live events: sessions-ended not relayed; other instances close at token expiry");
        }
    }

    /// Tells every instance that new events are in the database. Never waits on Redis: the
    /// signaller publishes (one PUBLISH for a burst); if Redis is away, the other instances
    /// find the events by polling within two seconds.
    pub async fn signal(&self) {
        self.wake.notify_one();
        if self.redis.is_some() {
            self.outgoing.notify_one();
        }
    }

    async fn pump(self, db: Db) {
        loop {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            loop {
                let after = self.pumped.load(Ordering::Relaxed);
                let db = db.clone();
                let batch = tokio::task::spawn_blocking(move || {
                    let mut conn = db.get()?;
                    events::since(&mut conn, after, 500)
                })
                .await;
                let batch = match batch {
                    Ok(Ok(batch)) => batch,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "live events: reading new events failed");
                        break;
                    }
                    Err(_) => break,
                };
                let full = batch.len() == 500;
                for event in batch {
                    self.pumped.store(event.seq, Ordering::Relaxed);
                    let _ = self.local.send(event);
                }
                if !full {
                    break;
                }
            }
        }
    }
}

/// One PUBLISH, given up after [`REDIS_TIMEOUT`].
async fn publish(redis: &redis::aio::ConnectionManager, channel: &str, payload: Vec<u8>) -> redis::RedisResult<i64> {
    let mut redis = redis.clone();
    let cmd = redis::cmd("PUBLISH").arg(channel).arg(payload).to_owned();
    match tokio::time::timeout(REDIS_TIMEOUT, cmd.query_async(&mut redis)).await {
        Ok(result) => result,
        Err(_) => Err(redis::RedisError::from((
            redis::ErrorKind::Io,
            "Redis did not answer in time",
        ))),
    }
}

/// Publishes "look again" whenever [`LiveHub::signal`] was called since the last PUBLISH.
fn spawn_signaller(manager: redis::aio::ConnectionManager, outgoing: Arc<Notify>) {
    tokio::spawn(async move {
        let mut away = false;
        loop {
            outgoing.notified().await;
            match publish(&manager, CHANNEL, b"1".to_vec()).await {
                Ok(_) if away => {
                    away = false;
                    tracing::info!("live events: Redis is back");
                }
                Ok(_) => {}
                Err(e) if !away => {
                    away = true;
                    tracing::warn!(error = %e, "live events: Redis publish failed; other instances catch up by polling");
                }
                Err(_) => {}
            }
        }
    });
}

/// A web chat frame as it crosses Redis (sealed): which instance sent it, and the event.
#[derive(serde::Serialize, serde::Deserialize)]
struct Relayed {
    origin: String,
    event: WebChatEvent,
}

/// Where the subscriber hands what arrives from Redis.
struct Inbox {
    wake: Arc<Notify>,
    typing: broadcast::Sender<Typing>,
    ended: broadcast::Sender<SessionsEnded>,
    webchat: WebChatHub,
    secrets: Secrets,
    origin: String,
    /// Whether the subscriber is listening (what `redis_up` also asks).
    listening: Arc<AtomicBool>,
}

impl Inbox {
    fn receive(&self, channel: &str, payload: &[u8]) {
        match channel {
            CHANNEL => self.wake.notify_one(),
            TYPING_CHANNEL => {
                if let Ok(typing) = serde_json::from_slice::<Typing>(payload) {
                    let _ = self.typing.send(typing);
                }
            }
            ENDED_CHANNEL => {
                if let Ok(ended) = serde_json::from_slice::<SessionsEnded>(payload) {
                    let _ = self.ended.send(ended);
                }
            }
            WEBCHAT_CHANNEL => {
                let relayed = crypto::open(&self.secrets.field_key, WEBCHAT_CONTEXT, payload)
                    .ok()
                    .and_then(|json| serde_json::from_slice::<Relayed>(&json).ok());
                match relayed {
                    // This instance's own frames reached its sockets before they left.
                    Some(relayed) if relayed.origin == self.origin => {}
                    Some(relayed) => self.webchat.deliver_local(relayed.event),
                    None => tracing::warn!(
                        "web chat relay: a frame could not be opened (do the instances share RELAIS_FIELD_KEY?)"
                    ),
                }
            }
            _ => {}
        }
    }
}

/// Carries this instance's web chat frames to the other instances, sealed, and tells the
/// sender of a message whether it left (if not, the outbox tries again).
fn spawn_webchat_publisher(
    manager: redis::aio::ConnectionManager,
    mut frames: mpsc::UnboundedReceiver<Relay>,
    secrets: Secrets,
    origin: String,
) {
    tokio::spawn(async move {
        let mut away = false;
        while let Some(Relay { event, done }) = frames.recv().await {
            let relayed = Relayed {
                origin: origin.clone(),
                event,
            };
            let Ok(json) = serde_json::to_vec(&relayed) else {
                continue;
            };
            let sealed = crypto::seal(&secrets.field_key, WEBCHAT_CONTEXT, &json);
            let left = match publish(&manager, WEBCHAT_CHANNEL, sealed).await {
                Ok(_) => {
                    if std::mem::take(&mut away) {
                        tracing::info!("web chat relay: Redis is back");
                    }
                    true
                }
                Err(e) => {
                    if !std::mem::replace(&mut away, true) {
                        tracing::warn!(error = %e, "web chat relay: Redis is away; messages wait in the outbox");
                    }
                    false
                }
            };
            if let Some(done) = done {
                let _ = done.send(left);
            }
        }
    });
}

/// How often the subscriber checks that its connection still answers: a connection to a
/// Redis that went away does not always end the message stream by itself.
const SUBSCRIBER_PING: Duration = Duration::from_secs(3);

fn spawn_subscriber(client: redis::Client, inbox: Inbox) {
    tokio::spawn(async move {
        let mut away = false;
        loop {
            let listened = listen(&client, &inbox).await;
            inbox.listening.store(false, Ordering::Relaxed);
            match listened {
                Ok(()) => {
                    away = true;
                    tracing::warn!("live events: lost Redis; polling the database until it returns");
                }
                Err(e) if !away => {
                    away = true;
                    tracing::warn!(error = %e, "live events: Redis unreachable; polling the database until it returns");
                }
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Subscribes and hands every message to the inbox until the connection stops answering.
/// Err when it could not subscribe at all.
async fn listen(client: &redis::Client, inbox: &Inbox) -> redis::RedisResult<()> {
    use futures_util::StreamExt as _;
    let timed_out = || redis::RedisError::from((redis::ErrorKind::Io, "Redis did not answer in time"));
    let mut pubsub = tokio::time::timeout(REDIS_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| timed_out())??;
    tokio::time::timeout(
        REDIS_TIMEOUT,
        pubsub.subscribe(&[CHANNEL, TYPING_CHANNEL, WEBCHAT_CHANNEL, ENDED_CHANNEL]),
    )
    .await
    .map_err(|_| timed_out())??;
    tracing::info!("live events: listening to Redis");
    inbox.listening.store(true, Ordering::Relaxed);
    // Signals sent while this instance was not listening are lost: look now. So are web chat
    // frames relayed meanwhile (another instance counted them sent): its pages catch up.
    inbox.wake.notify_one();
    inbox.webchat.resync_local();
    let (mut sink, mut messages) = pubsub.split();
    let mut check = tokio::time::interval(SUBSCRIBER_PING);
    check.tick().await;
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(message) => inbox.receive(message.get_channel_name(), message.get_payload_bytes()),
                None => break,
            },
            _ = check.tick() => {
                // Subscribed, Redis answers PING with an array, not "PONG": any answer will do.
                let answered = tokio::time::timeout(REDIS_TIMEOUT, sink.ping::<redis::Value>()).await;
                if !matches!(answered, Ok(Ok(_))) {
                    break;
                }
            }
        }
    }
    Ok(())
}
