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
    if up {
        Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready", "database": "ok" })))
    } else {
        Err(ApiError::Unavailable("database unreachable".into()))
    }
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
    out
}
