//! Reference geography: what a postal code covers, places by name, and addresses.

use actix_web::{HttpResponse, web};
use relais_core::geo::PostalCode;
use serde::Deserialize;

use crate::auth::roles::Staff;
use crate::geocoder::{GeocodeError, MAX_QUERY, MIN_QUERY};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn postal_code(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = PostalCode::parse(&path)?;
    let area = state.geo.postal_code(&code).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(area))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: String,
    #[serde(default)]
    limit: Option<u8>,
}

impl SearchQuery {
    /// The text searched, trimmed, within `min..=max` characters; the limit, 1 to 20 (10 by
    /// default).
    fn read(&self, min: usize, max: usize) -> ApiResult<(&str, u8)> {
        let q = self.q.trim();
        let n = q.chars().count();
        if n < min || n > max {
            return Err(super::invalid_parameter(
                "q",
                &format!("must have {min} to {max} characters"),
            ));
        }
        let limit = self.limit.unwrap_or(10);
        if !(1..=20).contains(&limit) {
            return Err(super::invalid_parameter("limit", "must be from 1 to 20"));
        }
        Ok((q, limit))
    }
}

/// Communes and départements by name or code, for choosing a ban zone or a place without
/// knowing INSEE codes. Public reference data, like postal codes.
pub async fn places(state: web::Data<AppState>, query: crate::query::Query<SearchQuery>) -> ApiResult<HttpResponse> {
    let (q, limit) = query.read(1, 100)?;
    let items = state.geo.search(q, usize::from(limit));
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// Addresses for what a staff member typed, through the configured geocoder. Staff only: the
/// geocoder is the operator's, and its use is not for the public. Nothing asked is logged.
pub async fn addresses(
    state: web::Data<AppState>,
    _staff: Staff,
    query: crate::query::Query<SearchQuery>,
) -> ApiResult<HttpResponse> {
    let (q, limit) = query.read(MIN_QUERY, MAX_QUERY)?;
    if !q.chars().next().is_some_and(char::is_alphanumeric) {
        return Err(super::invalid_parameter("q", "must start with a letter or a digit"));
    }
    match state.geocoder.search(&state.geo, q, limit).await {
        Ok(items) => Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items }))),
        Err(GeocodeError::NotConfigured) => Err(ApiError::Dependency(
            "Aucun service d'adresses n'est configuré : choisissez la commune, ou saisissez les coordonnées. / No \
             address service is configured: choose the commune, or enter the coordinates."
                .into(),
        )),
        Err(e @ GeocodeError::Failed(_)) => {
            tracing::warn!(error = %e, "address search failed");
            Err(ApiError::Dependency(
                "Le service d'adresses ne répond pas : réessayez, ou choisissez la commune. / The address service \
                 does not answer: try again, or choose the commune."
                    .into(),
            ))
        }
    }
}
