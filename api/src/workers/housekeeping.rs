//! The periodic workers: silent listeners, reminders, queue places, the weekly inventory and
//! the purge. Each reads the server's clock (`state.clock`), so tests that move it reach
//! every deadline.

use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Datelike as _, Timelike as _, Utc};

use super::{Next, Stop, Worker};
use crate::state::AppState;

/// `silent-listeners`: conversations whose listener went silent go back to the queue at
/// their old place.
pub struct SilentListeners {
    silence: chrono::Duration,
    period: Duration,
}

impl SilentListeners {
    pub fn new(state: &web::Data<AppState>) -> Self {
        let silence = state.settings.helpline.listener_silence_seconds.max(1);
        Self {
            silence: chrono::Duration::seconds(silence),
            period: Duration::from_secs(u64::try_from((silence / 4).clamp(1, 30)).unwrap_or(30)),
        }
    }
}

impl Worker for SilentListeners {
    fn name(&self) -> &'static str {
        "silent-listeners"
    }

    async fn step(&mut self, state: &web::Data<AppState>, _stop: &Stop) -> Next {
        let (silence, now) = (self.silence, state.clock.now());
        let result = state
            .db(move |conn| relais_core::helpline::desk::requeue_silent(conn, now, silence))
            .await;
        match result {
            Ok(moved) if !moved.is_empty() => {
                state.live.signal().await;
                tracing::warn!(
                    conversations = moved.len(),
                    "silent listeners: conversations back in the queue"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "silent-listener check failed"),
        }
        Next::Wait(self.period)
    }
}

/// A round of the text line at the server's time that queues messages: how many.
type LineRoundFn = fn(
    &relais_bots::ingest::TextLine,
    &mut relais_core::db::DbConn,
    DateTime<Utc>,
) -> Result<usize, relais_core::Error>;

/// `reminders` (appointment reminders through each person's own channel) and `queue-places`
/// (people waiting hear of their new place when it changed a lot): rounds of the text line.
pub struct LineRound {
    name: &'static str,
    round: LineRoundFn,
    period: Duration,
}

impl LineRound {
    pub fn reminders(state: &web::Data<AppState>) -> Self {
        Self {
            name: "reminders",
            round: |line, conn, now| line.send_reminders(conn, now),
            period: Duration::from_secs(state.settings.centres.reminder_seconds),
        }
    }

    pub fn queue_places(state: &web::Data<AppState>) -> Self {
        Self {
            name: "queue-places",
            round: |line, conn, now| line.tell_queue_places(conn, now),
            period: Duration::from_secs(state.settings.text_line.queue_place_seconds),
        }
    }
}

impl Worker for LineRound {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn step(&mut self, state: &web::Data<AppState>, _stop: &Stop) -> Next {
        let (now, round, shared) = (state.clock.now(), self.round, state.clone());
        match state.db(move |conn| round(&shared.line.text_line, conn, now)).await {
            Ok(0) => {}
            Ok(queued) => tracing::info!(worker = self.name, queued, "messages queued"),
            Err(e) => tracing::warn!(worker = self.name, error = %e, "round failed"),
        }
        Next::Wait(self.period)
    }
}

/// `weekly-inventory`: the national housing inventory, every Monday from 07:00 (Paris), once
/// across instances.
pub struct WeeklyInventory;

impl Worker for WeeklyInventory {
    fn name(&self) -> &'static str {
        "weekly-inventory"
    }

    async fn step(&mut self, state: &web::Data<AppState>, _stop: &Stop) -> Next {
        let next = Next::Wait(Duration::from_secs(900));
        let now = state.clock.now();
        let paris = now.with_timezone(&chrono_tz::Europe::Paris);
        if paris.weekday() != chrono::Weekday::Mon || paris.hour() < 7 {
            return next;
        }
        let geo = state.geo.clone();
        let recipients = state.settings.housing.inventory_recipients.clone();
        match state
            .db(move |conn| relais_core::housing::inventory::send_weekly(conn, &geo, &recipients, now))
            .await
        {
            Ok(true) => tracing::info!("weekly housing inventory queued"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "weekly housing inventory failed"),
        }
        next
    }
}

/// `purge`: the text line's retention, idempotency keys, and the finished rows of the three
/// outboxes, each after its configured delay.
pub struct Purge;

/// A purge of finished rows older than a time.
type PurgeFn = fn(&mut relais_core::db::DbConn, chrono::DateTime<chrono::Utc>) -> relais_core::Result<usize>;

/// What one purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub line: relais_core::helpline::retention::Purged,
    pub idempotency_keys: usize,
    pub line_outbox: usize,
    pub emails: usize,
    pub webhooks: usize,
    pub notifications: usize,
}

impl Purge {
    pub fn new(_state: &web::Data<AppState>) -> Self {
        Self
    }

    /// One purge at the server's time.
    pub async fn run_once(state: &AppState) -> Purged {
        let now = state.clock.now();
        let settings = &state.settings;
        let days = chrono::Duration::days;
        let mut purged = Purged::default();
        let retention = days(settings.text_line.retention_days);
        match state
            .db(move |conn| relais_core::helpline::retention::purge(conn, now, retention))
            .await
        {
            Ok(line) => {
                purged.line = line;
                tracing::info!(
                    conversations = line.conversations,
                    contacts = line.contacts,
                    "retention purge"
                );
            }
            Err(e) => tracing::warn!(error = %e, "retention purge failed"),
        }
        let purges: [(&str, chrono::Duration, PurgeFn); 5] = [
            ("idempotency keys", days(1), relais_core::idempotency::purge),
            (
                "line outbox",
                days(settings.text_line.outbox_purge_days),
                relais_core::helpline::outbox::purge_finished,
            ),
            ("emails", days(settings.mail.purge_days), relais_core::email::purge),
            // Partners' messages and their delivery logs.
            (
                "webhook messages",
                days(settings.webhooks.purge_days),
                relais_core::partners::webhooks::purge,
            ),
            // Devices' notifications: fixed words, kept a day for the metrics.
            ("push notifications", days(1), relais_core::push::purge),
        ];
        let mut counts = [0usize; 5];
        for (count, (what, delay, purge)) in counts.iter_mut().zip(purges) {
            match state.db(move |conn| purge(conn, now - delay)).await {
                Ok(n) => *count = n,
                Err(e) => tracing::warn!(error = %e, what, "purge failed"),
            }
        }
        [
            purged.idempotency_keys,
            purged.line_outbox,
            purged.emails,
            purged.webhooks,
            purged.notifications,
        ] = counts;
        purged
    }
}

impl Worker for Purge {
    fn name(&self) -> &'static str {
        "purge"
    }

    async fn step(&mut self, state: &web::Data<AppState>, _stop: &Stop) -> Next {
        Self::run_once(state).await;
        Next::Wait(Duration::from_secs(3600))
    }
}
