//! The text line's delivery step: claims a batch of the outbox (head of each chat, within
//! the per-chat pace), sends each message through its channel at the provider's pace
//! (Telegram: one message a second per chat, 30 a second per bot; SMS: the configured
//! messages per second), and settles it through the one outbox protocol: a provider's 429
//! and `retry_after` defers it (not a failed attempt), other failures retry with the
//! configured policy, and a message is marked failed after its last try. Order within a
//! chat and "never twice" come from the outbox's claim rules and the claim's fencing token.
//! The loop that runs this step is a worker of the api's registry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use relais_core::crypto::Secrets;
use relais_core::db::Db;
use relais_core::helpline::contacts;
use relais_core::helpline::model::Channel;
use relais_core::helpline::outbox::{self, Claimed};
use relais_core::outbox::{Outcome, RetryPolicy};
use relais_core::time::Clock;
use tokio::sync::Mutex;

use crate::channel::{SendError, Senders};
use crate::metrics::LineMetrics;

/// How often a send's fate is offered again to a database out of reach.
const SETTLE_RETRY: Duration = Duration::from_millis(250);

/// How long a round sends before handing back what it has not sent yet: the next claim sorts
/// the outbox again, so a message that became urgent meanwhile (emergency numbers, a
/// listener's words) waits at most this long behind a batch claimed before it, even at an SMS
/// provider's pace of one a second.
const ROUND_SPAN: Duration = Duration::from_secs(1);

/// A provider's pace shared by every instance: Telegram allows 30 messages a second per bot
/// and an SMS account its own rate, whatever the number of instances sending. Takes one send
/// of `channel` within `per_second` for all of them: `Ok(None)` when taken, `Ok(Some(wait))`
/// when this second is spent (try again after `wait`), `Err` when the shared store is out of
/// reach (the instance then keeps its own pace only).
pub trait SharedPace: Send + Sync {
    fn take(
        &self,
        channel: Channel,
        per_second: u32,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<Duration>, String>> + Send + '_>>;
}

#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub retry: RetryPolicy,
    pub lease: Duration,
    pub batch: i64,
    pub telegram_per_chat_gap: Duration,
    pub telegram_per_second: u32,
    pub sms_per_second: u32,
}

impl DeliveryConfig {
    /// The defaults with `max_attempts` tries, waiting 1 s, then twice as long each time up
    /// to ten minutes.
    pub fn new(max_attempts: i32) -> Self {
        Self {
            retry: RetryPolicy::exponential(
                chrono::Duration::seconds(1),
                chrono::Duration::minutes(10),
                max_attempts,
            ),
            lease: Duration::from_secs(60),
            batch: 32,
            telegram_per_chat_gap: Duration::from_secs(1),
            telegram_per_second: 30,
            sms_per_second: 1,
        }
    }
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self::new(8)
    }
}

/// Paces sends per channel on this instance.
#[derive(Default)]
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

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Rows claimed (sent, retried, failed or handed back).
    pub handled: usize,
    /// Whether a settled message recorded a live event (its delivery state).
    pub published: bool,
}

/// The text line's delivery on this instance.
pub struct Delivery {
    pub db: Db,
    pub secrets: Secrets,
    pub senders: Arc<Senders>,
    pub config: DeliveryConfig,
    pub metrics: Arc<LineMetrics>,
    pacer: Mutex<Pacer>,
    shared_pace: Option<Arc<dyn SharedPace>>,
    /// Whether the shared pace is out of reach now (warned once per outage).
    pace_lost: std::sync::atomic::AtomicBool,
}

impl Delivery {
    pub fn new(
        db: Db,
        secrets: Secrets,
        senders: Arc<Senders>,
        config: DeliveryConfig,
        metrics: Arc<LineMetrics>,
    ) -> Self {
        Self {
            db,
            secrets,
            senders,
            config,
            metrics,
            pacer: Mutex::default(),
            shared_pace: None,
            pace_lost: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Paces sends across instances too (see [`SharedPace`]).
    #[must_use]
    pub fn with_shared_pace(mut self, pace: Option<Arc<dyn SharedPace>>) -> Self {
        self.shared_pace = pace;
        self
    }

    /// Waits for this instance's pace, then for a send within the pace shared by every
    /// instance.
    async fn paced(&self, channel: Channel, per_second: u32) {
        self.pacer.lock().await.wait(channel, per_second).await;
        let Some(shared) = &self.shared_pace else { return };
        if per_second == 0 {
            return;
        }
        use std::sync::atomic::Ordering;
        loop {
            match shared.take(channel, per_second).await {
                Ok(wait) => {
                    if self.pace_lost.swap(false, Ordering::Relaxed) {
                        tracing::info!("shared pace back: the instances keep the providers' pace together again");
                    }
                    match wait {
                        None => return,
                        Some(wait) => tokio::time::sleep(wait).await,
                    }
                }
                Err(e) => {
                    // Several instances may now send faster than the provider allows (it then
                    // answers 429, which defers): said once per outage.
                    if !self.pace_lost.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "shared pace out of reach: each instance keeps its own pace until it is back");
                    }
                    return;
                }
            }
        }
    }

    /// Claims a batch and sends it. When `stopping` turns true between two sends, or the round
    /// has sent for [`ROUND_SPAN`], the rest
    /// of the batch is handed back untried, for any instance to send.
    pub async fn round(
        &self,
        clock: &Clock,
        stopping: &(dyn Fn() -> bool + Sync),
    ) -> Result<Round, relais_core::Error> {
        let config = self.config.clone();
        let secrets = self.secrets.clone();
        let now = clock.now();
        let senders = self.senders.clone();
        let claimed = self
            .blocking(clock, move |conn| {
                let gap = |c: Channel| match c {
                    Channel::Telegram => chrono::Duration::from_std(config.telegram_per_chat_gap).unwrap_or_default(),
                    _ => chrono::Duration::zero(),
                };
                let lease = chrono::Duration::from_std(config.lease).unwrap_or_default();
                let can_send = |c: Channel, chat_key: &str| senders.can_send(c, chat_key);
                outbox::claim_batch(conn, &secrets, now, config.batch, lease, &gap, &can_send)
            })
            .await?;
        let mut round = Round {
            handled: claimed.len(),
            published: false,
        };
        let mut items = claimed.into_iter();
        let started = Instant::now();
        while let Some(item) = items.next() {
            if stopping() || started.elapsed() > ROUND_SPAN {
                let rest: Vec<Claimed> = std::iter::once(item).chain(items.by_ref()).collect();
                self.blocking(clock, move |conn| outbox::release(conn, &rest)).await?;
                break;
            }
            let rate = match item.channel {
                Channel::Telegram => self.config.telegram_per_second,
                Channel::Sms => self.config.sms_per_second,
                Channel::WebChat => 0,
            };
            self.paced(item.channel, rate).await;
            let result = self
                .senders
                .send(
                    item.channel,
                    &item.chat_key,
                    &item.destination,
                    item.message_id.as_deref(),
                    &item.payload,
                )
                .await;
            round.published |= self.settle(item, result, clock).await?;
        }
        Ok(round)
    }

    fn outcome(
        &self,
        item: &Claimed,
        result: &Result<Option<String>, SendError>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Outcome {
        match result {
            Ok(_) => {
                self.metrics.outbound(item.channel);
                Outcome::Sent
            }
            Err(SendError::RetryAfter(wait)) => {
                tracing::info!(channel = %item.channel, wait_ms = wait.as_millis() as u64, "provider asked to slow down");
                Outcome::Defer {
                    at: now + chrono::Duration::from_std(*wait).unwrap_or_default(),
                    error: "rate limited by the provider".into(),
                }
            }
            Err(SendError::Unavailable(wait, reason)) => {
                tracing::debug!(channel = %item.channel, reason = %reason, "delivery waits");
                Outcome::Defer {
                    at: now + chrono::Duration::from_std(*wait).unwrap_or_default(),
                    error: reason.clone(),
                }
            }
            Err(SendError::Gone) => {
                self.metrics.failure(item.channel);
                tracing::info!(channel = %item.channel, "recipient unreachable for good; contact marked stopped");
                Outcome::Dead("recipient has blocked the bot".into())
            }
            Err(SendError::Permanent(reason)) => {
                self.metrics.failure(item.channel);
                tracing::warn!(channel = %item.channel, reason = %reason, "delivery refused");
                Outcome::Dead(reason.clone())
            }
            Err(SendError::Transient(reason)) => {
                let outcome = self.config.retry.failed(&item.claim, now, reason);
                if matches!(outcome, Outcome::Dead(_)) {
                    self.metrics.failure(item.channel);
                    tracing::warn!(channel = %item.channel, attempts = item.claim.attempts + 1, "delivery failed after its last try");
                }
                outcome
            }
        }
    }

    /// Records the send's fate; true when a live event was recorded.
    async fn settle(
        &self,
        item: Claimed,
        result: Result<Option<String>, SendError>,
        clock: &Clock,
    ) -> Result<bool, relais_core::Error> {
        let now = clock.now();
        let outcome = self.outcome(&item, &result, now);
        let gone = matches!(result, Err(SendError::Gone));
        let provider_id = result.ok().flatten();
        // The message has left (or failed for good): its fate is kept here while the database
        // is out of reach (a restart), for up to half the lease, so that it is recorded once
        // the database returns instead of the row being claimed and sent again after the
        // lease, and the rest of the batch waits here instead of behind the lease.
        let patience = self.config.lease / 2;
        let started = tokio::time::Instant::now();
        loop {
            let (item, outcome, provider_id) = (item.clone(), outcome.clone(), provider_id.clone());
            let settled = self
                .blocking(clock, move |conn| {
                    if gone {
                        relais_core::db::write_tx(conn, |conn| contacts::mark_stopped_by_key(conn, &item.chat_key))?;
                    }
                    outbox::settle(conn, &item, &outcome, provider_id.as_deref(), now)
                })
                .await;
            match settled {
                Err(relais_core::Error::Db(e)) if e.is_unavailable() && started.elapsed() < patience => {
                    tokio::time::sleep(SETTLE_RETRY).await;
                }
                other => return other,
            }
        }
    }

    /// Runs storage work on a blocking thread, under the instance's clock.
    async fn blocking<T: Send + 'static>(
        &self,
        clock: &Clock,
        f: impl FnOnce(&mut relais_core::db::DbConn) -> Result<T, relais_core::Error> + Send + 'static,
    ) -> Result<T, relais_core::Error> {
        let db = self.db.clone();
        let clock = clock.clone();
        tokio::task::spawn_blocking(move || {
            clock.run(|| {
                let mut conn = db.get()?;
                f(&mut conn)
            })
        })
        .await
        .map_err(|e| relais_core::Error::Internal(e.to_string()))?
    }
}
