//! The small moves every route file makes, in one place: the caller's idempotency key, a
//! field error as a problem, instants and dates a person could mean, a core value as JSON.

use actix_web::HttpRequest;
use relais_core::idempotency;

use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult, FieldError};

/// The caller's `Idempotency-Key`, if sent, and the scope it is unique in.
pub(crate) fn idempotency_key(req: &HttpRequest, auth: &Auth) -> ApiResult<(String, Option<String>)> {
    let caller = auth.caller();
    let who = match caller.user_id() {
        Some(user) => format!("user:{user}"),
        None => format!("org:{}", caller.organisation_id),
    };
    let key = match req.headers().get("Idempotency-Key") {
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| invalid_parameter("Idempotency-Key", "visible ASCII only"))?;
            Some(idempotency::parse_key(text)?)
        }
        None => None,
    };
    Ok((who, key))
}

pub(crate) fn to_json<T: serde::Serialize>(value: T) -> relais_core::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| relais_core::Error::Internal(e.to_string()))
}

/// A body member that is not valid (`field` as core names it: `coverage`, `zone.communes`).
pub(crate) fn invalid(field: &str, message: &str) -> ApiError {
    FieldError::field(field, message).problem()
}

/// A query parameter or a header that is not valid, by its name.
pub(crate) fn invalid_parameter(name: &str, message: &str) -> ApiError {
    FieldError::parameter(name, message).problem()
}

/// The same error, about a query parameter of that name rather than a body member.
pub(crate) fn in_query(error: ApiError) -> ApiError {
    match error {
        ApiError::Validation { errors, .. } if errors.len() == 1 => {
            let FieldError { pointer, detail } = errors.into_iter().next().unwrap_or_else(|| FieldError::at("", ""));
            FieldError::parameter(&pointer, detail).problem()
        }
        other => other,
    }
}

/// An instant a person could mean: between the years 2000 and 2199. Anything else (RFC 3339
/// allows year 262000) is refused before it reaches a computation or a response.
pub(crate) fn sane_instant(
    field: &str,
    t: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    use chrono::Datelike as _;
    if (2000..2200).contains(&t.year()) {
        Ok(t)
    } else {
        Err(invalid(field, "must be between the years 2000 and 2199"))
    }
}

/// As [`sane_instant`], for a calendar date.
pub(crate) fn sane_date(field: &str, d: chrono::NaiveDate) -> Result<chrono::NaiveDate, ApiError> {
    use chrono::Datelike as _;
    if (2000..2200).contains(&d.year()) {
        Ok(d)
    } else {
        Err(invalid(field, "must be between the years 2000 and 2199"))
    }
}

/// The page a list's `limit` and `cursor` parameters ask for.
pub(crate) fn page_request(
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<relais_core::page::PageRequest, ApiError> {
    relais_core::page::PageRequest::parse(limit, cursor).map_err(|e| in_query(e.into()))
}
