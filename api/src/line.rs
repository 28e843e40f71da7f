//! The text line's wiring at the edge: the configured channels, the ingestion service, the
//! delivery worker and its wake-up, the web chat hub and the line's metrics.

use std::sync::Arc;

use relais_bots::delivery::{DeliveryConfig, LineMetrics, Senders, WebChatHub, Worker};
use relais_bots::ingest::TextLine;
use relais_bots::script::Script;
use relais_bots::telegram::{self, TelegramConfig};
use relais_bots::twilio::TwilioConfig;
use relais_core::crypto::Secrets;
use relais_core::db::Db;
use relais_core::geo::Geography;
use tokio::sync::Notify;

use crate::config::Settings;

pub struct Line {
    pub text_line: TextLine,
    pub telegram: Option<TelegramConfig>,
    pub telegram_bot: Option<teloxide::Bot>,
    pub sms: Option<TwilioConfig>,
    pub webchat: WebChatHub,
    pub wake: Arc<Notify>,
    /// Notified by the delivery worker when a delivery state became a live event.
    pub published: Arc<Notify>,
    pub metrics: Arc<LineMetrics>,
    pub senders: Arc<Senders>,
    pub delivery: DeliveryConfig,
    pub retention_days: i64,
}

impl Line {
    pub fn build(settings: &Settings, secrets: &Secrets, geo: Arc<Geography>) -> anyhow::Result<Self> {
        let script = Script::load()?;
        let telegram = crate::config::exposed(&settings.telegram.token).map(|token| TelegramConfig {
            token: token.to_owned(),
            api_url: settings.telegram.api_url.clone(),
            webhook_secret: crate::config::exposed(&settings.telegram.webhook_secret).map(str::to_owned),
        });
        let telegram_bot = telegram
            .as_ref()
            .map(telegram::bot)
            .transpose()
            .map_err(|e| anyhow::anyhow!(e))?;
        let sms = match (
            &settings.twilio.account_sid,
            crate::config::exposed(&settings.twilio.auth_token),
            &settings.twilio.from,
            &settings.server.public_url,
        ) {
            (Some(sid), Some(token), Some(from), Some(public)) => Some(TwilioConfig {
                account_sid: sid.clone(),
                auth_token: token.to_owned(),
                api_url: settings.twilio.api_url.clone(),
                from: from.clone(),
                public_url: public.clone(),
            }),
            _ => None,
        };
        let webchat = WebChatHub::default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .build()?;
        let senders = Arc::new(Senders {
            telegram: telegram_bot.clone(),
            sms: sms.clone(),
            webchat: webchat.clone(),
            http,
        });
        let delivery = DeliveryConfig {
            max_attempts: settings.text_line.delivery_max_attempts,
            sms_per_second: settings.twilio.sms_per_second,
            lease: std::time::Duration::from_secs(settings.text_line.delivery_lease_seconds.max(1)),
            ..DeliveryConfig::default()
        };

        Ok(Self {
            text_line: TextLine {
                script,
                hours: settings.helpline.open.clone(),
                secrets: secrets.clone(),
                geo,
                sms_max_segments: settings.twilio.sms_max_segments,
                clock: relais_core::time::Clock::default(),
            },
            telegram,
            telegram_bot,
            sms,
            webchat,
            wake: Arc::new(Notify::new()),
            published: Arc::new(Notify::new()),
            metrics: Arc::new(LineMetrics::default()),
            senders,
            delivery,
            retention_days: settings.text_line.retention_days,
        })
    }

    /// The delivery worker of this instance, ready to be spawned.
    pub fn worker(&self, db: Db, secrets: Secrets) -> Worker {
        Worker {
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            db,
            secrets,
            senders: self.senders.clone(),
            config: self.delivery.clone(),
            wake: self.wake.clone(),
            metrics: self.metrics.clone(),
            published: self.published.clone(),
        }
    }
}
