//! Liveness, readiness and metrics: public, no personal data.

use actix_web::{HttpResponse, web};

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let database = state.database.clone();
    let up = tokio::task::spawn_blocking(move || database.ping())
        .await
        .unwrap_or(false);
    if !up {
        return Err(ApiError::Unavailable("database unreachable".into()));
    }
    // Redis away is not a reason to take the instance out of the load balancer: it serves
    // alone (events by polling the database), so it is ready, degraded, and says why.
    Ok(HttpResponse::Ok().json(match state.live.redis_up().await {
        None => serde_json::json!({ "status": "ready", "database": "ok" }),
        Some(true) => serde_json::json!({ "status": "ready", "database": "ok", "redis": "ok" }),
        Some(false) => serde_json::json!({
            "status": "degraded",
            "database": "ok",
            "redis": "unreachable",
            "reason": "Redis does not answer: listeners on other instances see new events within \
                       seconds (by polling the database), presence shows this instance's listeners, \
                       and web chat messages for other instances wait until Redis returns",
        }),
    }))
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let database = state.database.clone();
    let up = tokio::task::spawn_blocking(move || database.ping())
        .await
        .unwrap_or(false);
    let mut text = state.metrics.render(up, state.database.backend());
    text.push_str(&line_metrics(&state).await);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// The text line: messages in and out and delivery failures by channel (this instance),
/// outbox depth and the age of its oldest row, conversations by state (the database).
/// (channel, messages in, messages out, delivery failures).
type ChannelCounts = (relais_core::helpline::model::Channel, u64, u64, u64);

async fn line_metrics(state: &web::Data<AppState>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    out.push_str(&state.line.text_line.stages.render());
    if let Some((commits, writes)) = state.database.group_commits() {
        let _ = writeln!(
            out,
            "# HELP relais_sqlite_commits_total Transactions committed by SQLite's writer (group commit)."
        );
        let _ = writeln!(out, "# TYPE relais_sqlite_commits_total counter");
        let _ = writeln!(out, "relais_sqlite_commits_total {commits}");
        let _ = writeln!(
            out,
            "# HELP relais_sqlite_writes_total Writes those transactions held (several per commit under load)."
        );
        let _ = writeln!(out, "# TYPE relais_sqlite_writes_total counter");
        let _ = writeln!(out, "relais_sqlite_writes_total {writes}");
    }
    if let Some(bytes) = state.database.wal_bytes() {
        let _ = writeln!(out, "# HELP relais_sqlite_wal_bytes Size of SQLite's write-ahead log.");
        let _ = writeln!(out, "# TYPE relais_sqlite_wal_bytes gauge");
        let _ = writeln!(out, "relais_sqlite_wal_bytes {bytes}");
    }
    let snapshot = state.line.metrics.snapshot();
    type Counter = fn(&ChannelCounts) -> u64;
    let families: [(&str, &str, Counter); 3] = [
        (
            "relais_messages_in_total",
            "Inbound messages received, by channel.",
            |s| s.1,
        ),
        (
            "relais_messages_out_total",
            "Outbound messages accepted by the provider, by channel.",
            |s| s.2,
        ),
        (
            "relais_delivery_failures_total",
            "Outbound messages given up on, by channel.",
            |s| s.3,
        ),
    ];
    for (name, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        for entry in &snapshot {
            let _ = writeln!(out, "{name}{{channel=\"{}\"}} {}", entry.0, value(entry));
        }
    }
    let now = state.clock.now();
    let stats = state
        .db(move |conn| {
            let depth = relais_core::helpline::outbox::depth(conn, now)?;
            let states = relais_core::helpline::conversations::count_by_state(conn)?;
            Ok::<_, relais_core::Error>((depth, states))
        })
        .await;
    if let Ok(((depth, oldest), states)) = stats {
        let _ = writeln!(
            out,
            "# HELP relais_outbox_depth Outbound messages not yet sent or failed."
        );
        let _ = writeln!(out, "# TYPE relais_outbox_depth gauge");
        let _ = writeln!(out, "relais_outbox_depth {depth}");
        let _ = writeln!(
            out,
            "# HELP relais_outbox_oldest_age_seconds Age of the oldest unsent outbound message."
        );
        let _ = writeln!(out, "# TYPE relais_outbox_oldest_age_seconds gauge");
        let _ = writeln!(out, "relais_outbox_oldest_age_seconds {oldest}");
        let _ = writeln!(out, "# HELP relais_conversations Conversations by state.");
        let _ = writeln!(out, "# TYPE relais_conversations gauge");
        for s in relais_core::helpline::model::ConversationState::ALL {
            let n = states
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            let _ = writeln!(out, "relais_conversations{{state=\"{s}\"}} {n}");
        }
    }
    let partners = state
        .db(|conn| {
            let deliveries = relais_core::partners::webhooks::count_by_status(conn)?;
            let alerts = relais_core::security::count_by_kind(conn)?;
            let notifications = relais_core::push::count_by_status(conn)?;
            Ok::<_, relais_core::Error>((deliveries, alerts, notifications))
        })
        .await;
    if let Ok((deliveries, alerts, notifications)) = partners {
        let _ = writeln!(
            out,
            "# HELP relais_push_notifications Notifications to staff devices (Web Push) by status (failed: given up on; purged after a day)."
        );
        let _ = writeln!(out, "# TYPE relais_push_notifications gauge");
        for status in ["pending", "sending", "sent", "failed"] {
            let n = notifications.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "relais_push_notifications{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP relais_webhook_deliveries Partner webhook messages by status (dead: given up on, until replayed)."
        );
        let _ = writeln!(out, "# TYPE relais_webhook_deliveries gauge");
        for status in ["pending", "sending", "delivered", "dead"] {
            let n = deliveries.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "relais_webhook_deliveries{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP relais_security_alerts Security alerts raised, by kind.");
        let _ = writeln!(out, "# TYPE relais_security_alerts gauge");
        for kind in ["offer_cluster", "offer_moves", "proposal_probing", "placement_refusals"] {
            let n = alerts.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "relais_security_alerts{{kind=\"{kind}\"}} {n}");
        }
    }
    if let Some(up) = state.live.redis_up().await {
        let _ = writeln!(
            out,
            "# HELP relais_redis_up Whether Redis answered a PING within a second and this instance listens to it."
        );
        let _ = writeln!(out, "# TYPE relais_redis_up gauge");
        let _ = writeln!(out, "relais_redis_up {}", u8::from(up));
    }
    out
}
