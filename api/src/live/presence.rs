//! Listener presence (available, busy, away), kept with a time-to-live: an app that stops
//! sending its heartbeat goes away by itself. In-process by default; in Redis (one key per
//! listener with an expiry) when `RELAIS_REDIS_URL` is set, so every instance sees it.

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

#[derive(Clone)]
pub enum PresenceStore {
    InProcess(Arc<Mutex<HashMap<String, (Presence, Instant)>>>),
    Redis(redis::aio::ConnectionManager),
}

impl PresenceStore {
    pub fn in_process() -> Self {
        Self::InProcess(Arc::new(Mutex::new(HashMap::new())))
    }

    /// Records a heartbeat; returns the previous status, if any was still alive.
    pub async fn set(&self, presence: Presence) -> Result<Option<Status>, String> {
        match self {
            Self::InProcess(map) => {
                let mut map = map.lock().map_err(|e| e.to_string())?;
                let now = Instant::now();
                let previous = map
                    .get(&presence.listener_id)
                    .filter(|(_, until)| *until > now)
                    .map(|(p, _)| p.status);
                map.insert(presence.listener_id.clone(), (presence, now + TTL));
                Ok(previous)
            }
            Self::Redis(manager) => {
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
        }
    }

    /// Everyone whose heartbeat is still alive.
    pub async fn list(&self) -> Result<Vec<Presence>, String> {
        match self {
            Self::InProcess(map) => {
                let map = map.lock().map_err(|e| e.to_string())?;
                let now = Instant::now();
                Ok(map
                    .values()
                    .filter(|(_, until)| *until > now)
                    .map(|(p, _)| p.clone())
                    .collect())
            }
            Self::Redis(manager) => {
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
    }
}
