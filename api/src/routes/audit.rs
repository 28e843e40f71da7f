//! The audit trail's integrity, for administrators.

use actix_web::{HttpResponse, web};

use crate::auth::Auth;
use crate::auth::policy::ADMIN;
use crate::problem::ApiResult;
use crate::state::AppState;

pub async fn verify(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    auth.admit(ADMIN)?;
    let report = state.db(relais_core::audit::verify).await?;
    Ok(HttpResponse::Ok().json(report))
}
