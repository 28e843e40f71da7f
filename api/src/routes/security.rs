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
    #[serde(default)]
    cursor: Option<String>,
}

/// The alerts raised, newest first, by pages.
pub async fn alerts(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    query: crate::query::Query<AlertQuery>,
) -> ApiResult<HttpResponse> {
    let page = super::page_request(query.limit, query.cursor.as_deref())?;
    let page = state
        .db(move |conn| relais_core::security::list(conn, &caller, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
