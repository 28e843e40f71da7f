//! `mail`: the centres' notifications, the email outbox drained by every instance, through
//! SMTP when `RELAIS_SMTP_URL` is set, else as `.eml` files under the data folder (the
//! embedded default: nothing to configure, every mail kept for reading).

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use relais_core::email;
use relais_core::outbox::{Outcome, RetryPolicy};
use tokio::sync::Notify;

use super::{Next, Stop, Worker, idle};
use crate::state::AppState;

/// How long a sender owns a mail it claimed.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
const BATCH: i64 = 16;
const FLOOR: Duration = Duration::from_secs(1);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    pub fn build(smtp_url: Option<&str>, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => Ok(Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("RELAIS_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            )),
            None => {
                let folder = data_dir.join("mail");
                std::fs::create_dir_all(&folder)?;
                Ok(Self::Files(AsyncFileTransport::<Tokio1Executor>::new(folder)))
            }
        }
    }

    async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Self::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Self::Files(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

fn message(from: &Mailbox, mail: &email::Email, base: &str) -> Result<Message, String> {
    let to: Mailbox = mail.to_address.parse().map_err(|_| "bad recipient".to_owned())?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.replace("{base}", base))
        .map_err(|e| e.to_string())
}

pub struct Mail {
    transport: Transport,
    from: Mailbox,
    base: String,
    retry: RetryPolicy,
    waker: Arc<Notify>,
}

impl Mail {
    pub fn new(state: &web::Data<AppState>) -> anyhow::Result<Self> {
        let from: Mailbox = state
            .settings
            .mail
            .from
            .parse()
            .map_err(|_| anyhow::anyhow!("RELAIS_MAIL_FROM is not a mailbox; centres' emails are not sent"))?;
        let settings = &state.settings;
        Ok(Self {
            transport: Transport::build(
                crate::config::exposed(&settings.mail.smtp_url),
                &settings.server.data_dir,
            )?,
            from,
            base: state.public_base(),
            retry: RetryPolicy::exponential(
                chrono::Duration::seconds(settings.mail.retry_seconds),
                chrono::Duration::seconds(settings.mail.retry_cap_seconds),
                settings.mail.max_attempts,
            ),
            waker: state.workers.wakers.mail.clone(),
        })
    }
}

impl Worker for Mail {
    fn name(&self) -> &'static str {
        "mail"
    }

    fn waker(&self) -> Option<Arc<Notify>> {
        Some(self.waker.clone())
    }

    async fn step(&mut self, state: &web::Data<AppState>, stop: &Stop) -> Next {
        let now = state.clock.now();
        let claimed = match state.db(move |conn| email::claim(conn, now, LEASE, BATCH)).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "email outbox unavailable");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            return idle(state, &email::TABLE, FLOOR).await;
        }
        for (claim, mail) in claimed {
            if stop.requested() {
                // Handed back untried: another instance sends it without waiting the lease.
                let _ = state
                    .db(move |conn| relais_core::outbox::release(conn, &email::TABLE, &claim))
                    .await;
                continue;
            }
            let sent = match message(&self.from, &mail, &self.base) {
                Ok(m) => self.transport.send(m).await,
                Err(e) => Err(e),
            };
            let now = state.clock.now();
            let outcome = match sent {
                Ok(()) => Outcome::Sent,
                Err(error) => {
                    // The error may name the recipient: it stays in the outbox row, not the log.
                    tracing::warn!(attempts = claim.attempts + 1, "a centre's email could not be sent");
                    self.retry.failed(&claim, now, &error)
                }
            };
            let record = move |conn: &mut relais_core::db::DbConn| email::settle(conn, &claim, &outcome, now);
            // Half a minute: well within the five minutes of the lease.
            match super::record_patiently(state, std::time::Duration::from_secs(30), record).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!("an email's claim ran out before it was settled"),
                Err(e) => tracing::warn!(error = %e, "email outbox update failed"),
            }
        }
        Next::Again
    }
}
