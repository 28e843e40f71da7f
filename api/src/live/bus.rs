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
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use relais_bots::webchat::{WebChatEvent, WebChatHub};
use relais_core::crypto::{self, Secrets};
use relais_core::db::Db;
use relais_core::helpline::events::{self, LiveEvent};
use tokio::sync::{Notify, broadcast, mpsc};

const CHANNEL: &str = "relais:live";
const TYPING_CHANNEL: &str = "relais:live:typing";
const WEBCHAT_CHANNEL: &str = "relais:webchat";
const ENDED_CHANNEL: &str = "relais:live:sessions-ended";
const WEBCHAT_CONTEXT: &str = "webchat.relay";

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
    /// The last event number this instance has pumped.
    pumped: Arc<AtomicI64>,
    pub presence: super::presence::PresenceStore,
}

impl LiveHub {
    /// Starts the pump (and, with Redis, the subscriber and the web chat relay). Needs a
    /// Tokio runtime.
    pub async fn start(db: Db, redis_url: Option<&str>, webchat: WebChatHub, secrets: Secrets) -> anyhow::Result<Self> {
        let typing = broadcast::channel(1024).0;
        let ended = broadcast::channel(1024).0;
        let redis = match redis_url {
            Some(url) => {
                let client = redis::Client::open(url)?;
                let manager = redis::aio::ConnectionManager::new(client.clone()).await?;
                let wake = Arc::new(Notify::new());
                let (relay, outgoing) = mpsc::unbounded_channel();
                webchat.set_relay(relay);
                spawn_webchat_publisher(manager.clone(), outgoing, secrets.clone());
                spawn_subscriber(
                    client,
                    Inbox {
                        wake: wake.clone(),
                        typing: typing.clone(),
                        ended: ended.clone(),
                        webchat,
                        secrets,
                    },
                );
                Some((manager, wake))
            }
            None => None,
        };
        let wake = redis
            .as_ref()
            .map(|(_, w)| w.clone())
            .unwrap_or_else(|| Arc::new(Notify::new()));
        let start = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || db.get().ok().and_then(|mut c| events::latest(&mut c).ok()))
                .await?
                .unwrap_or(0)
        };
        let redis = redis.map(|(m, _)| m);
        let presence = match &redis {
            Some(manager) => super::presence::PresenceStore::Redis(manager.clone()),
            None => super::presence::PresenceStore::in_process(),
        };
        let hub = Self {
            local: broadcast::channel(4096).0,
            typing,
            ended,
            wake,
            redis,
            pumped: Arc::new(AtomicI64::new(start)),
            presence,
        };
        tokio::spawn(hub.clone().pump(db));
        Ok(hub)
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

    /// Tells every instance that new events are in the database.
    pub async fn signal(&self) {
        self.wake.notify_one();
        if let Some(redis) = &self.redis
            && let Err(e) = publish(redis, CHANNEL, b"1".to_vec()).await
        {
            tracing::warn!(error = %e, "live events: Redis publish failed; other instances will catch up by polling");
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

async fn publish(redis: &redis::aio::ConnectionManager, channel: &str, payload: Vec<u8>) -> redis::RedisResult<i64> {
    let mut redis = redis.clone();
    redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async(&mut redis)
        .await
}

/// Where the subscriber hands what arrives from Redis.
struct Inbox {
    wake: Arc<Notify>,
    typing: broadcast::Sender<Typing>,
    ended: broadcast::Sender<SessionsEnded>,
    webchat: WebChatHub,
    secrets: Secrets,
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
                let event = crypto::open(&self.secrets.field_key, WEBCHAT_CONTEXT, payload)
                    .ok()
                    .and_then(|json| serde_json::from_slice::<WebChatEvent>(&json).ok());
                match event {
                    Some(event) => self.webchat.deliver_local(event),
                    None => tracing::warn!(
                        "web chat relay: a frame could not be opened (do the instances share RELAIS_FIELD_KEY?)"
                    ),
                }
            }
            _ => {}
        }
    }
}

/// Carries this instance's web chat frames to every instance (itself included), sealed.
fn spawn_webchat_publisher(
    manager: redis::aio::ConnectionManager,
    mut outgoing: mpsc::UnboundedReceiver<WebChatEvent>,
    secrets: Secrets,
) {
    tokio::spawn(async move {
        while let Some(event) = outgoing.recv().await {
            let Ok(json) = serde_json::to_vec(&event) else { continue };
            let sealed = crypto::seal(&secrets.field_key, WEBCHAT_CONTEXT, &json);
            if let Err(e) = publish(&manager, WEBCHAT_CHANNEL, sealed).await {
                // The message stays in the conversation: the page shows it when it reloads.
                tracing::warn!(error = %e, "web chat relay: Redis publish failed");
            }
        }
    });
}

fn spawn_subscriber(client: redis::Client, inbox: Inbox) {
    tokio::spawn(async move {
        loop {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if let Err(e) = pubsub
                        .subscribe(&[CHANNEL, TYPING_CHANNEL, WEBCHAT_CHANNEL, ENDED_CHANNEL])
                        .await
                    {
                        tracing::warn!(error = %e, "live events: Redis subscribe failed");
                    } else {
                        use futures_util::StreamExt as _;
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            inbox.receive(message.get_channel_name(), message.get_payload_bytes());
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live events: Redis unreachable; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}
