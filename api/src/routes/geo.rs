//! Reference geography: what a postal code covers.

use actix_web::{HttpResponse, web};
use relais_core::geo::PostalCode;

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn postal_code(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = PostalCode::parse(&path)?;
    let area = state.geo.postal_code(&code).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(area))
}
