//! The text line's wiring at the edge: the configured channels, the ingestion service, the
//! delivery settings and the delivery worker's wake-up, the web chat hub and the line's
//! metrics.

use std::sync::Arc;

use relais_bots::channel::{Provider, Senders};
use relais_bots::delivery::DeliveryConfig;
use relais_bots::ingest::TextLine;
use relais_bots::metrics::{LineMetrics, StageMetrics};
use relais_bots::script::Script;
use relais_bots::telegram::{self, TelegramConfig};
use relais_bots::twilio::{SmsSender, TwilioConfig};
use relais_bots::webchat::WebChatHub;
use relais_core::crypto::Secrets;
use relais_core::geo::Geography;
use tokio::sync::Notify;

use crate::config::Settings;

pub struct Line {
    pub text_line: TextLine,
    pub telegram: Option<TelegramConfig>,
    pub telegram_bot: Option<teloxide::Bot>,
    pub sms: Option<TwilioConfig>,
    pub webchat: WebChatHub,
    /// Wakes this instance's delivery worker (the same waker as `workers.wakers.line`).
    pub wake: Arc<Notify>,
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
            telegram: telegram_bot
                .clone()
                .map(|bot| Arc::new(telegram::TelegramSender(bot)) as Arc<dyn Provider>),
            sms: sms
                .clone()
                .map(|config| Arc::new(SmsSender { http, config }) as Arc<dyn Provider>),
            webchat: webchat.clone(),
        });
        let delivery = DeliveryConfig {
            sms_per_second: settings.twilio.sms_per_second,
            lease: std::time::Duration::from_secs(settings.text_line.delivery_lease_seconds.max(1)),
            ..DeliveryConfig::new(settings.text_line.delivery_max_attempts)
        };

        Ok(Self {
            text_line: TextLine {
                script,
                hours: settings.helpline.open.clone(),
                secrets: secrets.clone(),
                geo,
                sms_max_segments: settings.twilio.sms_max_segments,
                stages: Arc::new(StageMetrics::default()),
            },
            telegram,
            telegram_bot,
            sms,
            webchat,
            wake: Arc::new(Notify::new()),
            metrics: Arc::new(LineMetrics::default()),
            senders,
            delivery,
            retention_days: settings.text_line.retention_days,
        })
    }
}
