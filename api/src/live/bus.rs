//! The event-bus port. A signal carries nothing but "look again"; the events themselves
//! come from the database, so an instance that misses a signal loses nothing (it also
//! looks every few seconds).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use relais_core::db::Db;
use relais_core::helpline::events::{self, LiveEvent};
use tokio::sync::{Notify, broadcast};

const CHANNEL: &str = "relais:live";

#[derive(Clone)]
pub struct LiveHub {
    local: broadcast::Sender<LiveEvent>,
    wake: Arc<Notify>,
    redis: Option<redis::aio::ConnectionManager>,
    /// The last event number this instance has pumped.
    pumped: Arc<AtomicI64>,
    pub presence: super::presence::PresenceStore,
}

impl LiveHub {
    /// Starts the pump (and, with Redis, the subscriber). Needs a Tokio runtime.
    pub async fn start(db: Db, redis_url: Option<&str>) -> anyhow::Result<Self> {
        let redis = match redis_url {
            Some(url) => {
                let client = redis::Client::open(url)?;
                let manager = redis::aio::ConnectionManager::new(client.clone()).await?;
                let wake = Arc::new(Notify::new());
                spawn_subscriber(client, wake.clone());
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

    /// Tells every instance that new events are in the database.
    pub async fn signal(&self) {
        self.wake.notify_one();
        if let Some(mut redis) = self.redis.clone() {
            let published: Result<i64, redis::RedisError> = redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg("1")
                .query_async(&mut redis)
                .await;
            if let Err(e) = published {
                tracing::warn!(error = %e, "live events: Redis publish failed; other instances will catch up by polling");
            }
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

fn spawn_subscriber(client: redis::Client, wake: Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if let Err(e) = pubsub.subscribe(CHANNEL).await {
                        tracing::warn!(error = %e, "live events: Redis subscribe failed");
                    } else {
                        use futures_util::StreamExt as _;
                        let mut messages = pubsub.on_message();
                        while messages.next().await.is_some() {
                            wake.notify_one();
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live events: Redis unreachable; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}
