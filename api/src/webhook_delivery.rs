//! Posts the messages owed to partners, signed with the Standard Webhooks scheme, from any
//! instance: claim (compare-and-set and a lease), post, log the attempt, schedule the next
//! or give up (dead letter). The partner's URL and the payload never reach the log.

use std::time::Duration;

use actix_web::web;
use relais_core::partners::signature;
use relais_core::partners::webhooks::{self, Attempt, Outgoing};

use crate::outbound::{Outbound, OutboundError, Policy};
use crate::state::AppState;

/// How long one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

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

pub async fn run(state: web::Data<AppState>) {
    let policy = Policy {
        allow: state.settings.webhooks.outbound_allow.clone(),
    };
    let client = match client(policy) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "webhook client unavailable; partners' messages wait");
            return;
        }
    };
    let schedule: Vec<chrono::Duration> = state
        .settings
        .webhooks
        .retry_seconds
        .iter()
        .map(|s| chrono::Duration::seconds(i64::try_from(*s).unwrap_or(86_400)))
        .collect();
    let lease = chrono::Duration::seconds(i64::try_from(ATTEMPT_TIMEOUT.as_secs() * 3).unwrap_or(30));
    loop {
        let shared = state.clone();
        let claimed = state
            .db(move |conn| webhooks::claim(conn, &shared.secrets, 16, lease, chrono::Utc::now()))
            .await;
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "webhook outbox unavailable");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        let attempts = futures_util::future::join_all(claimed.iter().map(|m| post(&client, m))).await;
        for (message, attempt) in claimed.into_iter().zip(attempts) {
            let schedule = schedule.clone();
            let id = message.id.clone();
            let recorded = state
                .db(move |conn| webhooks::record(conn, &message, &attempt, &schedule, chrono::Utc::now()))
                .await;
            match recorded {
                Ok(status) => tracing::info!(delivery = %id, status = status.as_str(), "webhook attempt"),
                Err(e) => tracing::warn!(delivery = %id, error = %e, "webhook attempt not recorded"),
            }
        }
    }
}
