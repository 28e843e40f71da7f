//! Work every instance does besides answering requests: draining the outbox, polling
//! Telegram when no webhook is set, and the periodic retention purge.

use actix_web::web;
use relais_bots::telegram;

use crate::state::AppState;

pub fn start(state: &web::Data<AppState>) {
    let worker = state.line.worker(state.database.clone(), state.secrets.clone());
    tokio::spawn(worker.run());

    // Delivery states recorded by the worker reach the listeners' apps on every instance.
    let shared = state.clone();
    tokio::spawn(async move {
        loop {
            shared.line.published.notified().await;
            shared.live.signal().await;
        }
    });

    if let (Some(config), Some(bot)) = (&state.line.telegram, &state.line.telegram_bot)
        && config.webhook_secret.is_none()
    {
        let shared = state.clone();
        let bot = bot.clone();
        tracing::info!("telegram: long polling (no webhook secret configured)");
        tokio::spawn(telegram::poll(bot, move |update| {
            let shared = shared.clone();
            async move {
                let Some((inbound, _)) = telegram::to_inbound(&update) else {
                    return true;
                };
                shared
                    .line
                    .metrics
                    .inbound(relais_core::helpline::model::Channel::Telegram);
                let inner = shared.clone();
                let outcome = shared.db(move |conn| inner.line.text_line.ingest(conn, &inbound)).await;
                if matches!(outcome, Ok(relais_bots::ingest::Ingested::Stored { live: true, .. })) {
                    shared.live.signal().await;
                }
                let stored = outcome.is_ok();
                shared.line.wake.notify_one();
                stored
            }
        }));
    }

    // Conversations whose listener went silent go back to the queue at their old place.
    let shared = state.clone();
    tokio::spawn(async move {
        let silence = shared.settings.helpline.listener_silence_seconds.max(1);
        let period = std::time::Duration::from_secs(u64::try_from((silence / 4).clamp(1, 30)).unwrap_or(30));
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            let result = shared
                .db(move |conn| relais_core::helpline::desk::requeue_silent(conn, chrono::Duration::seconds(silence)))
                .await;
            match result {
                Ok(moved) if !moved.is_empty() => {
                    shared.live.signal().await;
                    tracing::warn!(
                        conversations = moved.len(),
                        "silent listeners: conversations back in the queue"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "silent-listener check failed"),
            }
        }
    });

    // Centres' emails.
    match crate::mail::Transport::build(
        crate::config::exposed(&state.settings.mail.smtp_url),
        &state.settings.server.data_dir,
    ) {
        Ok(transport) => {
            tokio::spawn(crate::mail::run(state.clone(), transport));
        }
        Err(e) => tracing::error!(error = %e, "email transport unavailable; centres' emails wait in the outbox"),
    }

    // Partners' signed webhooks.
    tokio::spawn(crate::webhook_delivery::run(state.clone()));

    // The national housing inventory, every Monday from 07:00 (Paris), once across instances.
    if !state.settings.housing.inventory_recipients.is_empty() {
        let shared = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(900));
            loop {
                tick.tick().await;
                use chrono::{Datelike as _, Timelike as _};
                let now = shared.line.text_line.clock.now();
                let paris = now.with_timezone(&chrono_tz::Europe::Paris);
                if paris.weekday() != chrono::Weekday::Mon || paris.hour() < 7 {
                    continue;
                }
                let inner = shared.clone();
                let recipients = shared.settings.housing.inventory_recipients.clone();
                match shared
                    .db(move |conn| relais_core::housing::inventory::send_weekly(conn, &inner.geo, &recipients, now))
                    .await
                {
                    Ok(true) => tracing::info!("weekly housing inventory queued"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "weekly housing inventory failed"),
                }
            }
        });
    }

    // Appointment reminders through each person's own channel, by the server's clock.
    let shared = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(shared.settings.centres.reminder_seconds));
        loop {
            tick.tick().await;
            let inner = shared.clone();
            let now = shared.line.text_line.clock.now();
            match shared
                .db(move |conn| inner.line.text_line.send_reminders(conn, now))
                .await
            {
                Ok(0) => {}
                Ok(sent) => {
                    tracing::info!(sent, "appointment reminders queued");
                    shared.line.wake.notify_one();
                }
                Err(e) => tracing::warn!(error = %e, "appointment reminders failed"),
            }
        }
    });

    // People waiting hear of their new place when it changed a lot.
    let shared = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(
            shared.settings.text_line.queue_place_seconds,
        ));
        loop {
            tick.tick().await;
            let inner = shared.clone();
            match shared
                .db(move |conn| inner.line.text_line.tell_queue_places(conn))
                .await
            {
                Ok(0) => {}
                Ok(told) => {
                    tracing::info!(told, "queue places told");
                    shared.line.wake.notify_one();
                }
                Err(e) => tracing::warn!(error = %e, "telling queue places failed"),
            }
        }
    });

    let shared = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let retention = chrono::Duration::days(shared.line.retention_days);
            let result = shared
                .db(move |conn| relais_core::helpline::retention::purge(conn, relais_core::time::now(), retention))
                .await;
            match result {
                Ok(purged) => tracing::info!(
                    conversations = purged.conversations,
                    contacts = purged.contacts,
                    "retention purge"
                ),
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
            let day_ago = relais_core::time::now() - chrono::Duration::days(1);
            if let Err(e) = shared
                .db(move |conn| relais_core::idempotency::purge(conn, day_ago))
                .await
            {
                tracing::warn!(error = %e, "idempotency keys purge failed");
            }
            // Partners' messages and their delivery logs are kept 90 days.
            let quarter_ago = relais_core::time::now() - chrono::Duration::days(90);
            if let Err(e) = shared
                .db(move |conn| relais_core::partners::webhooks::purge(conn, quarter_ago))
                .await
            {
                tracing::warn!(error = %e, "webhook messages purge failed");
            }
        }
    });
}
