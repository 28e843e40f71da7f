//! The delivery worker: drains the outbox on every instance. Per channel it keeps the
//! provider's pace (Telegram: one message a second per chat, 30 a second per bot; SMS: the
//! configured messages per second), honours a provider's 429 and `retry_after`, retries
//! other failures with exponential backoff, and marks a message failed after its last try.
//! Order within a chat and "never twice" come from the outbox's claim rules.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use relais_core::crypto::Secrets;
use relais_core::db::Db;
use relais_core::helpline::contacts;
use relais_core::helpline::model::Channel;
use relais_core::helpline::outbox::{self, Claimed, Payload};
use tokio::sync::{Mutex, Notify, broadcast, mpsc};

use crate::telegram;
use crate::twilio::{self, TwilioConfig};

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the provider asks to wait {0:?}")]
    RetryAfter(Duration),
    #[error("the recipient has blocked the bot or is unreachable for good")]
    Gone,
    #[error("refused: {0}")]
    Permanent(String),
    #[error("failed for now: {0}")]
    Transient(String),
}

/// Something for a web chat session's open WebSocket(s): a message of the line, or the
/// listener typing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebChatEvent {
    /// The session's keyed HMAC (never the session token).
    pub chat_key: String,
    pub frame: WebChatFrame,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WebChatFrame {
    Message {
        message_id: Option<String>,
        payload: Payload,
    },
    Typing,
}

/// Where the web chat's deliveries go. Every open socket of this instance listens to the
/// local stream; with several instances a relay (Redis) carries each event to all of them,
/// since the person's socket may be open on another instance than the one delivering.
#[derive(Clone)]
pub struct WebChatHub {
    sender: broadcast::Sender<WebChatEvent>,
    relay: Arc<std::sync::OnceLock<mpsc::UnboundedSender<WebChatEvent>>>,
}

impl Default for WebChatHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            relay: Arc::default(),
        }
    }
}

impl WebChatHub {
    pub fn subscribe(&self) -> broadcast::Receiver<WebChatEvent> {
        self.sender.subscribe()
    }
    /// Sends to every instance (through the relay when there is one).
    pub fn publish(&self, event: WebChatEvent) {
        match self.relay.get() {
            Some(relay) => {
                if let Err(mpsc::error::SendError(event)) = relay.send(event) {
                    self.deliver_local(event);
                }
            }
            None => self.deliver_local(event),
        }
    }
    /// Hands an event to this instance's sockets.
    pub fn deliver_local(&self, event: WebChatEvent) {
        let _ = self.sender.send(event);
    }
    /// From now on, [`publish`](Self::publish) goes through `relay`, which must bring each
    /// event back to [`deliver_local`](Self::deliver_local) on every instance.
    pub fn set_relay(&self, relay: mpsc::UnboundedSender<WebChatEvent>) {
        let _ = self.relay.set(relay);
    }
}

/// Counters of the text line, rendered on `/metrics`.
#[derive(Default)]
pub struct LineMetrics {
    inbound: [AtomicU64; 3],
    outbound: [AtomicU64; 3],
    failures: [AtomicU64; 3],
}

fn index(channel: Channel) -> usize {
    match channel {
        Channel::Telegram => 0,
        Channel::Sms => 1,
        Channel::WebChat => 2,
    }
}

impl LineMetrics {
    pub fn inbound(&self, channel: Channel) {
        self.inbound[index(channel)].fetch_add(1, Ordering::Relaxed);
    }
    /// (channel, messages in, messages out, delivery failures).
    pub fn snapshot(&self) -> Vec<(Channel, u64, u64, u64)> {
        [Channel::Telegram, Channel::Sms, Channel::WebChat]
            .into_iter()
            .map(|c| {
                let i = index(c);
                (
                    c,
                    self.inbound[i].load(Ordering::Relaxed),
                    self.outbound[i].load(Ordering::Relaxed),
                    self.failures[i].load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub max_attempts: i32,
    pub lease: Duration,
    pub batch: i64,
    pub idle_poll: Duration,
    pub telegram_per_chat_gap: Duration,
    pub telegram_per_second: u32,
    pub sms_per_second: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            lease: Duration::from_secs(60),
            batch: 32,
            idle_poll: Duration::from_millis(500),
            telegram_per_chat_gap: Duration::from_secs(1),
            telegram_per_second: 30,
            sms_per_second: 1,
        }
    }
}

/// The providers this instance can send through.
pub struct Senders {
    pub telegram: Option<teloxide::Bot>,
    pub sms: Option<TwilioConfig>,
    pub webchat: WebChatHub,
    pub http: reqwest::Client,
}

impl Senders {
    async fn send(&self, item: &Claimed) -> Result<Option<String>, SendError> {
        match item.channel {
            Channel::Telegram => match &self.telegram {
                Some(bot) => telegram::send(bot, &item.destination, &item.payload).await,
                None => Err(SendError::Transient(
                    "telegram is not configured on this instance".into(),
                )),
            },
            Channel::Sms => match &self.sms {
                Some(config) => twilio::send(&self.http, config, &item.destination, &item.payload.text).await,
                None => Err(SendError::Transient("sms is not configured on this instance".into())),
            },
            Channel::WebChat => {
                self.webchat.publish(WebChatEvent {
                    chat_key: item.chat_key.clone(),
                    frame: WebChatFrame::Message {
                        message_id: item.message_id.clone(),
                        payload: item.payload.clone(),
                    },
                });
                Ok(None)
            }
        }
    }
}

impl Senders {
    /// Tells the person a listener is typing, where the channel can show it (Telegram, web
    /// chat; SMS cannot). Best effort and never stored: returns whether it was shown.
    pub async fn typing(&self, channel: Channel, chat_key: &str, destination: &str) -> bool {
        match channel {
            Channel::Telegram => match &self.telegram {
                Some(bot) => telegram::typing(bot, destination).await.is_ok(),
                None => false,
            },
            Channel::WebChat => {
                self.webchat.publish(WebChatEvent {
                    chat_key: chat_key.to_owned(),
                    frame: WebChatFrame::Typing,
                });
                true
            }
            Channel::Sms => false,
        }
    }
}

/// Paces sends per channel on this instance.
struct Pacer {
    next: HashMap<Channel, Instant>,
}

impl Pacer {
    async fn wait(&mut self, channel: Channel, per_second: u32) {
        if per_second == 0 {
            return;
        }
        let gap = Duration::from_secs_f64(1.0 / f64::from(per_second));
        let now = Instant::now();
        let at = self.next.get(&channel).copied().unwrap_or(now).max(now);
        if at > now {
            tokio::time::sleep(at - now).await;
        }
        self.next.insert(channel, at + gap);
    }
}

pub struct Worker {
    pub id: String,
    pub db: Db,
    pub secrets: Secrets,
    pub senders: Arc<Senders>,
    pub config: DeliveryConfig,
    pub wake: Arc<Notify>,
    pub metrics: Arc<LineMetrics>,
    /// Notified when a settled message recorded a live event (its delivery state).
    pub published: Arc<Notify>,
}

fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 10)).unwrap_or(10);
    Duration::from_secs((1u64 << exponent).min(600))
}

impl Worker {
    /// Runs until the task is dropped.
    pub async fn run(self) {
        let pacer = Mutex::new(Pacer { next: HashMap::new() });
        loop {
            let handled = match self.round(&pacer).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed");
                    0
                }
            };
            if handled == 0 {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                }
            }
        }
    }

    /// Claims a batch and sends it; returns how many rows it handled.
    async fn round(&self, pacer: &Mutex<Pacer>) -> Result<usize, relais_core::Error> {
        let db = self.db.clone();
        let secrets = self.secrets.clone();
        let worker = self.id.clone();
        let config = self.config.clone();
        let claimed = tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            let gap = |c: Channel| match c {
                Channel::Telegram => chrono::Duration::from_std(config.telegram_per_chat_gap).unwrap_or_default(),
                _ => chrono::Duration::zero(),
            };
            outbox::claim_batch(
                &mut conn,
                &secrets,
                &worker,
                config.batch,
                chrono::Duration::from_std(config.lease).unwrap_or_default(),
                &gap,
            )
        })
        .await
        .map_err(|e| relais_core::Error::Internal(e.to_string()))??;
        let count = claimed.len();
        for item in claimed {
            let rate = match item.channel {
                Channel::Telegram => self.config.telegram_per_second,
                Channel::Sms => self.config.sms_per_second,
                Channel::WebChat => 0,
            };
            pacer.lock().await.wait(item.channel, rate).await;
            let result = self.senders.send(&item).await;
            self.settle(item, result).await?;
        }
        Ok(count)
    }

    async fn settle(&self, item: Claimed, result: Result<Option<String>, SendError>) -> Result<(), relais_core::Error> {
        let db = self.db.clone();
        let worker = self.id.clone();
        let max_attempts = self.config.max_attempts;
        let metrics = self.metrics.clone();
        let published = tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            let now = relais_core::time::now();
            match result {
                Ok(provider_id) => {
                    metrics.outbound[index(item.channel)].fetch_add(1, Ordering::Relaxed);
                    outbox::mark_sent(&mut conn, &item.id, &worker, provider_id.as_deref())
                }
                Err(SendError::RetryAfter(wait)) => {
                    tracing::info!(channel = %item.channel, wait_ms = wait.as_millis() as u64, "provider asked to slow down");
                    let at = now + chrono::Duration::from_std(wait).unwrap_or_default();
                    outbox::retry_later(&mut conn, &item.id, &worker, at, "rate limited by the provider", false)
                        .map(|()| false)
                }
                Err(SendError::Gone) => {
                    metrics.failures[index(item.channel)].fetch_add(1, Ordering::Relaxed);
                    tracing::info!(channel = %item.channel, "recipient unreachable for good; contact marked stopped");
                    relais_core::db::write_tx(&mut conn, |conn| contacts::mark_stopped_by_key(conn, &item.chat_key))?;
                    outbox::mark_failed(&mut conn, &item.id, &worker, "recipient has blocked the bot")
                }
                Err(SendError::Permanent(reason)) => {
                    metrics.failures[index(item.channel)].fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(channel = %item.channel, reason = %reason, "delivery refused");
                    outbox::mark_failed(&mut conn, &item.id, &worker, &reason)
                }
                Err(SendError::Transient(reason)) => {
                    if item.attempts + 1 >= max_attempts {
                        metrics.failures[index(item.channel)].fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(channel = %item.channel, attempts = item.attempts + 1, "delivery failed after its last try");
                        outbox::mark_failed(&mut conn, &item.id, &worker, &reason)
                    } else {
                        let at = now + chrono::Duration::from_std(backoff(item.attempts)).unwrap_or_default();
                        outbox::retry_later(&mut conn, &item.id, &worker, at, &reason, true).map(|()| false)
                    }
                }
            }
        })
        .await
        .map_err(|e| relais_core::Error::Internal(e.to_string()))??;
        if published {
            self.published.notify_one();
        }
        Ok(())
    }
}
