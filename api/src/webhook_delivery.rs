//! Posts the messages owed to partners, signed with the Standard Webhooks scheme, from any
//! instance: claim (compare-and-set and a lease), post, log the attempt, schedule the next
//! or give up (dead letter). The partner's URL and the payload never reach the log.

use std::time::{Duration, Instant};

use actix_web::web;
use relais_core::partners::signature;
use relais_core::partners::webhooks::{self, Attempt, Outgoing};

use crate::state::AppState;

/// How long one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Relais-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Loopback, private, link-local, shared (CGNAT), unspecified or multicast: not a partner's
/// server on the internet.
pub fn is_internal(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let v4 = |a: std::net::Ipv4Addr| {
        let o = a.octets();
        a.is_loopback()
            || a.is_private()
            || a.is_link_local()
            || a.is_unspecified()
            || a.is_broadcast()
            || a.is_multicast()
            || (o[0] == 100 && (o[1] & 0xc0) == 64)
    };
    match ip {
        IpAddr::V4(a) => v4(a),
        IpAddr::V6(a) => {
            let first = a.segments()[0];
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || a.to_ipv4_mapped().is_some_and(v4)
        }
    }
}

/// Whether the endpoint's host resolves to an internal address (one is enough to refuse).
/// Checked before each attempt, so a name that later points inside is caught; a resolver
/// that changes its answer between this check and the connection is not.
async fn resolves_inside(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return true;
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return true;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => addrs.into_iter().any(|a| is_internal(a.ip())),
        Err(_) => false,
    }
}

/// One signed POST.
async fn post(client: &reqwest::Client, message: &Outgoing, allow_internal: bool) -> Attempt {
    let started = Instant::now();
    if !allow_internal && resolves_inside(&message.url).await {
        return Attempt {
            status_code: None,
            error: Some("refused: the endpoint resolves to an internal address".into()),
            duration_ms: 0,
        };
    }
    let timestamp = chrono::Utc::now().timestamp();
    let key = signature::secret_bytes(&message.secret).unwrap_or_default();
    let outcome = client
        .post(&message.url)
        .header("content-type", "application/json")
        .header("webhook-id", &message.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(&key, &message.id, timestamp, &message.payload),
        )
        .body(message.payload.clone())
        .send()
        .await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match outcome {
        Ok(response) => {
            let code = response.status().as_u16();
            Attempt {
                status_code: Some(code),
                error: (!response.status().is_success()).then(|| format!("HTTP {code}")),
                duration_ms,
            }
        }
        Err(e) => Attempt {
            status_code: None,
            error: Some(if e.is_timeout() {
                "timed out".into()
            } else if e.is_connect() {
                "could not connect".into()
            } else {
                "request failed".into()
            }),
            duration_ms,
        },
    }
}

pub async fn run(state: web::Data<AppState>) {
    let client = match client() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "webhook client unavailable; partners' messages wait");
            return;
        }
    };
    let schedule: Vec<chrono::Duration> = state
        .settings
        .webhook_retry_seconds
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
        let allow_internal = state.settings.webhook_allow_private;
        let attempts = futures_util::future::join_all(claimed.iter().map(|m| post(&client, m, allow_internal))).await;
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
