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
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(up, state.database.backend()))
}
