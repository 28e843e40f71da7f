//! `webhooks`: posts the messages owed to partners, signed with the Standard Webhooks
//! scheme, from any instance: claim, post, log the attempt, schedule the next or give up
//! (dead letter). The partner's URL and the payload never reach the log.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use relais_core::outbox::RetryPolicy;
use relais_core::partners::signature;
use relais_core::partners::webhooks::{self, Attempt, Outgoing};
use tokio::sync::Notify;

use super::{Next, Stop, Worker, idle};
use crate::outbound::{Outbound, OutboundError, Policy};
use crate::state::AppState;

/// How long one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const BATCH: i64 = 16;
const FLOOR: Duration = Duration::from_secs(1);

/// The guarded client partners' messages go through.
pub fn client(policy: Policy) -> reqwest::Result<Outbound> {
    Outbound::new(
        policy,
        ATTEMPT_TIMEOUT,
        concat!("Relais-Webhooks/", env!("CARGO_PKG_VERSION")),
    )
}

/// One signed POST. The partner's log tells only the status code, or that the attempt failed:
/// not why (refused, could not connect, timed out) nor how long it took, which would make
/// webhooks a port scanner.
///
/// The signature's timestamp is the wall clock's, never the server's controlled clock: the
/// partner checks it against its own clock to refuse replays.
pub async fn post(client: &Outbound, message: &Outgoing) -> Attempt {
    let timestamp = chrono::Utc::now().timestamp();
    let key = signature::secret_bytes(&message.secret).unwrap_or_default();
    let request = client
        .post(&message.url)
        .header("content-type", "application/json")
        .header("webhook-id", &message.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(&key, &message.id, timestamp, &message.payload),
        )
        .body(message.payload.clone());
    match client.send(request).await {
        Ok(response) => {
            let code = response.status().as_u16();
            Attempt {
                status_code: Some(code),
                error: (!response.status().is_success()).then(|| "failed".to_owned()),
                duration_ms: 0,
            }
        }
        Err(e) => {
            if matches!(e, OutboundError::Refused) {
                tracing::info!(delivery = %message.id, "webhook: the endpoint's address is not allowed");
            }
            Attempt {
                status_code: None,
                error: Some("failed".to_owned()),
                duration_ms: 0,
            }
        }
    }
}

pub struct Webhooks {
    client: Outbound,
    retry: RetryPolicy,
    waker: Arc<Notify>,
}

impl Webhooks {
    pub fn new(state: &web::Data<AppState>) -> reqwest::Result<Self> {
        let policy = Policy {
            allow: state.settings.webhooks.outbound_allow.clone(),
        };
        let schedule = state
            .settings
            .webhooks
            .retry_seconds
            .iter()
            .map(|s| chrono::Duration::seconds(i64::try_from(*s).unwrap_or(86_400)))
            .collect();
        Ok(Self {
            client: client(policy)?,
            retry: RetryPolicy::schedule(schedule),
            waker: state.workers.wakers.webhooks.clone(),
        })
    }
}

impl Worker for Webhooks {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    fn waker(&self) -> Option<Arc<Notify>> {
        Some(self.waker.clone())
    }

    async fn step(&mut self, state: &web::Data<AppState>, _stop: &Stop) -> Next {
        let lease = chrono::Duration::from_std(ATTEMPT_TIMEOUT * 3).unwrap_or_default();
        let now = state.clock.now();
        let secrets = state.secrets.clone();
        let claimed = match state
            .db(move |conn| webhooks::claim(conn, &secrets, BATCH, lease, now))
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "webhook outbox unavailable");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            return idle(state, &webhooks::TABLE, FLOOR).await;
        }
        // The batch is posted at once, so it is always finished, never handed back.
        let attempts = futures_util::future::join_all(claimed.iter().map(|m| post(&self.client, m))).await;
        for (message, attempt) in claimed.into_iter().zip(attempts) {
            let retry = self.retry.clone();
            let id = message.id.clone();
            let now = state.clock.now();
            let record =
                move |conn: &mut relais_core::db::DbConn| webhooks::record(conn, &message, &attempt, &retry, now);
            let recorded = super::record_patiently(state, ATTEMPT_TIMEOUT * 3 / 2, record).await;
            match recorded {
                Ok(status) => tracing::info!(delivery = %id, status = status.as_str(), "webhook attempt"),
                Err(e) => tracing::warn!(delivery = %id, error = %e, "webhook attempt not recorded"),
            }
        }
        Next::Again
    }
}
