//! Sending the centres' notifications: the email outbox drained by every instance, through
//! SMTP when `RELAIS_SMTP_URL` is set, else as `.eml` files under the data folder (the
//! embedded default: nothing to configure, every mail kept for reading).

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use relais_core::email;

use crate::state::AppState;

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

/// Drains the email outbox on this instance until the task is dropped.
pub async fn run(state: actix_web::web::Data<AppState>, transport: Transport) {
    let from: Mailbox = match state.settings.mail.from.parse() {
        Ok(from) => from,
        Err(_) => {
            tracing::error!("RELAIS_MAIL_FROM is not a mailbox; centres' emails are not sent");
            return;
        }
    };
    let base = state.public_base();
    loop {
        let claimed = state
            .db(|conn| email::claim(conn, 16, chrono::Duration::minutes(5)))
            .await
            .unwrap_or_default();
        if claimed.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        for mail in claimed {
            let outcome = match message(&from, &mail, &base) {
                Ok(m) => transport.send(m).await,
                Err(e) => Err(e),
            };
            let id = mail.id.clone();
            let attempts = mail.attempts + 1;
            let settled = match outcome {
                Ok(()) => state.db(move |conn| email::mark_sent(conn, &id)).await,
                Err(error) => {
                    // The error may name the recipient: it stays in the outbox row, not the log.
                    tracing::warn!(attempts, "a centre's email could not be sent");
                    let wait = chrono::Duration::seconds(30 * i64::from(attempts.min(20)));
                    let at = chrono::Utc::now() + wait;
                    state
                        .db(move |conn| email::retry_or_fail(conn, &id, attempts, 10, at, &error))
                        .await
                }
            };
            if let Err(e) = settled {
                tracing::warn!(error = %e, "email outbox update failed");
            }
        }
    }
}
