//! Security alerts (probing noticed), for administrators and national coordinators.

use actix_web::{HttpResponse, web};

use crate::auth::Staff;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    #[serde(default)]
    limit: Option<i64>,
}

pub async fn alerts(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    query: crate::query::Query<AlertQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(super::invalid_parameter("limit", "1 to 500"));
    }
    let items = state
        .db(move |conn| relais_core::security::list(conn, &caller, limit))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}
