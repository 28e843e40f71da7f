//! Listener presence (available, busy, away), kept with a time-to-live: an app that stops
//! sending its heartbeat goes away by itself. In-process by default; in Redis (one key per
//! listener with an expiry) when `RELAIS_REDIS_URL` is set, so every instance sees it. While
//! Redis is away, each instance keeps and shows the presence of its own listeners (the
//! in-process copy every heartbeat also writes); the next heartbeat after Redis returns
//! shares it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub const TTL: Duration = Duration::from_secs(90);
const PREFIX: &str = "relais:presence:";

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Available,
    Busy,
    Away,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Presence {
    pub listener_id: String,
    pub status: Status,
    pub updated_at: DateTime<Utc>,
}

/// How long a presence call waits on Redis before using this instance's own copy.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

type Local = Arc<Mutex<HashMap<String, (Presence, Instant)>>>;

#[derive(Clone)]
pub enum PresenceStore {
    InProcess(Local),
    Redis {
        manager: redis::aio::ConnectionManager,
        /// This instance's listeners, for when Redis is away.
        local: Local,
    },
}

fn set_local(map: &Local, presence: Presence) -> Result<Option<Status>, String> {
    let mut map = map.lock().map_err(|e| e.to_string())?;
    let now = Instant::now();
    let previous = map
        .get(&presence.listener_id)
        .filter(|(_, until)| *until > now)
        .map(|(p, _)| p.status);
    map.insert(presence.listener_id.clone(), (presence, now + TTL));
    Ok(previous)
}

fn list_local(map: &Local) -> Result<Vec<Presence>, String> {
    let map = map.lock().map_err(|e| e.to_string())?;
    let now = Instant::now();
    Ok(map
        .values()
        .filter(|(_, until)| *until > now)
        .map(|(p, _)| p.clone())
        .collect())
}

/// A Redis call given up after [`REDIS_TIMEOUT`].
async fn within<T>(call: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(REDIS_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| Err("Redis did not answer in time".to_owned()))
}

impl PresenceStore {
    pub fn in_process() -> Self {
        Self::InProcess(Arc::default())
    }

    pub fn redis(manager: redis::aio::ConnectionManager) -> Self {
        Self::Redis {
            manager,
            local: Arc::default(),
        }
    }

    /// Records a heartbeat; returns the previous status, if any was still alive.
    pub async fn set(&self, presence: Presence) -> Result<Option<Status>, String> {
        match self {
            Self::InProcess(map) => set_local(map, presence),
            Self::Redis { manager, local } => {
                let previous_here = set_local(local, presence.clone())?;
                match within(Self::set_redis(manager, presence)).await {
                    Ok(previous) => Ok(previous),
                    Err(e) => {
                        tracing::warn!(error = %e, "presence: Redis away; kept on this instance");
                        Ok(previous_here)
                    }
                }
            }
        }
    }

    /// Everyone whose heartbeat is still alive (while Redis is away: on this instance).
    pub async fn list(&self) -> Result<Vec<Presence>, String> {
        match self {
            Self::InProcess(map) => list_local(map),
            Self::Redis { manager, local } => match within(Self::list_redis(manager)).await {
                Ok(list) => Ok(list),
                Err(e) => {
                    tracing::warn!(error = %e, "presence: Redis away; listing this instance's listeners");
                    list_local(local)
                }
            },
        }
    }

    async fn set_redis(manager: &redis::aio::ConnectionManager, presence: Presence) -> Result<Option<Status>, String> {
        let mut conn = manager.clone();
        let key = format!("{PREFIX}{}", presence.listener_id);
        let value = serde_json::to_string(&presence).map_err(|e| e.to_string())?;
        let previous: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("EX")
            .arg(TTL.as_secs())
            .arg("GET")
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(previous
            .and_then(|p| serde_json::from_str::<Presence>(&p).ok())
            .map(|p| p.status))
    }

    async fn list_redis(manager: &redis::aio::ConnectionManager) -> Result<Vec<Presence>, String> {
        let mut conn = manager.clone();
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{PREFIX}*"))
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(values
            .into_iter()
            .flatten()
            .filter_map(|v| serde_json::from_str(&v).ok())
            .collect())
    }
}
