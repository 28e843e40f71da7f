//! `telegram-poll`: Telegram long polling, on an instance with a bot and no webhook secret.

use actix_web::web;
use relais_bots::telegram;
use relais_core::helpline::model::Channel;

use super::{Next, Stop, Worker};
use crate::state::AppState;

pub struct TelegramPoll {
    bot: teloxide::Bot,
    state: web::Data<AppState>,
}

impl TelegramPoll {
    pub fn new(state: &web::Data<AppState>) -> Option<Self> {
        let (Some(config), Some(bot)) = (&state.line.telegram, &state.line.telegram_bot) else {
            return None;
        };
        if config.webhook_secret.is_some() {
            return None;
        }
        tracing::info!("telegram: long polling (no webhook secret configured)");
        Some(Self {
            bot: bot.clone(),
            state: state.clone(),
        })
    }
}

impl Worker for TelegramPoll {
    fn name(&self) -> &'static str {
        "telegram-poll"
    }

    /// Polls until shutdown. Nothing is claimed: an update not yet stored is fetched again.
    async fn step(&mut self, _state: &web::Data<AppState>, stop: &Stop) -> Next {
        let shared = self.state.clone();
        let polling = telegram::poll(self.bot.clone(), move |update| {
            let shared = shared.clone();
            async move {
                let Some((inbound, _)) = telegram::to_inbound(&update) else {
                    return true;
                };
                shared.line.metrics.inbound(Channel::Telegram);
                let inner = shared.clone();
                let now = shared.clock.now();
                let outcome = shared
                    .db(move |conn| inner.line.text_line.ingest(conn, &inbound, now))
                    .await;
                if matches!(outcome, Ok(relais_bots::ingest::Ingested::Stored { live: true, .. })) {
                    shared.live.signal().await;
                }
                outcome.is_ok()
            }
        });
        let mut stop = stop.clone();
        tokio::select! {
            () = polling => {}
            () = stop.wait() => {}
        }
        Next::Done
    }
}
