//! Every error leaves as RFC 9457 `application/problem+json`. A 5xx body never carries
//! internal detail; the log does (without personal data: causes here are database and
//! pool errors, which hold no request content).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use relais_core::Error as CoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One thing wrong with a request, named (an RFC 9457 extension member, `errors`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FieldError {
    /// Where: a JSON Pointer (RFC 6901) into the request body, such as `/coverage/0` (`""`
    /// for the body as a whole), or the name of the query parameter or header at fault,
    /// such as `limit` or `Idempotency-Key` (never starting with `/`).
    pub pointer: String,
    /// What is wrong there.
    pub detail: String,
}

impl FieldError {
    /// At a place in the body, given as a JSON Pointer.
    pub fn at(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }

    /// At a query parameter or a header, by its name.
    pub fn parameter(name: &str, detail: impl Into<String>) -> Self {
        Self::at(name.trim_start_matches('/'), detail)
    }

    /// At a body member named as core names it: `coverage`, or `zone.communes` for a nested
    /// member (a name with a `-` or a capital is a header: `Idempotency-Key`).
    pub fn field(name: &str, detail: impl Into<String>) -> Self {
        if name.contains('-') || name.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Self::parameter(name, detail);
        }
        let pointer: String = name.split('.').map(|segment| format!("/{}", escape(segment))).collect();
        Self::at(pointer, detail)
    }

    /// The problem for this one error: `detail` says where and what, `errors` holds it.
    pub fn problem(self) -> ApiError {
        let place = if self.pointer.is_empty() {
            "the body"
        } else {
            self.pointer.as_str()
        };
        ApiError::Validation {
            detail: format!("{place}: {}", self.detail),
            errors: vec![self],
        }
    }
}

/// One JSON Pointer reference token: `~` and `/` escaped (RFC 6901, section 3).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("a one-time code is required")]
    TotpRequired,
    #[error("the one-time code is not valid")]
    TotpInvalid,
    #[error("enrolment refused")]
    EnrolmentRefused,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("second factor required")]
    SecondFactorRequired,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: i64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A service this request needs (the address search) is off or does not answer: 503,
    /// with a detail for the person (never the cause, logged apart by the caller).
    #[error("a service this needs is unavailable: {0}")]
    Dependency(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn slug_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::Validation { .. } => ("validation", "The request is not valid"),
            Self::BadRequest(_) => ("bad-request", "The request could not be read"),
            Self::Unauthenticated => ("unauthenticated", "Authentication is required"),
            Self::InvalidCredentials => ("invalid-credentials", "Invalid email or password"),
            Self::TotpRequired => ("totp-required", "A one-time code is required"),
            Self::TotpInvalid => ("totp-invalid", "The one-time code is not valid"),
            Self::EnrolmentRefused => ("enrolment-refused", "Wrong password or enrolment code"),
            Self::Forbidden(_) => ("forbidden", "This action is not allowed for your account"),
            Self::SecondFactorRequired => ("second-factor-required", "Set up and use a second factor to continue"),
            Self::NotFound => ("not-found", "Not found"),
            Self::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "The request conflicts with the current state"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "The request body is too large"),
            Self::UnsupportedMediaType => ("unsupported-media-type", "The request body must be application/json"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many attempts, try again later"),
            Self::Unavailable(_) => ("unavailable", "The service is not ready"),
            Self::Dependency(_) => ("dependency-unavailable", "A service this request needs does not answer"),
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            Self::Validation { detail, .. } => Some(detail.clone()),
            Self::BadRequest(d) | Self::Forbidden(d) | Self::Conflict(d) | Self::Dependency(d) => Some(d.clone()),
            Self::PayloadTooLarge { limit } => Some(format!("the body must not exceed {limit} bytes")),
            Self::EnrolmentRefused => Some(
                "Mot de passe ou code d'enrôlement incorrect, ou code déjà utilisé ou expiré : demandez un nouveau code \
                 à votre responsable. / Wrong password or enrolment code, or the code is used or expired: ask your \
                 manager for a new code."
                    .into(),
            ),
            Self::SecondFactorRequired => {
                Some("this account must confirm a one-time code (POST /v1/auth/totp/enrol with the password and the enrolment code given by a manager, then confirm)".into())
            }
            _ => None,
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => Self::NotFound,
            CoreError::Invalid { field, message } => FieldError::field(&field, message).problem(),
            CoreError::Conflict(m) => Self::Conflict(m),
            CoreError::Forbidden(m) => Self::Forbidden(m),
            CoreError::TooManyRequests { retry_after_secs } => Self::TooManyRequests { retry_after_secs },
            CoreError::Db(e) if e.is_unavailable() => Self::Unavailable(e.to_string()),
            CoreError::Db(e) => Self::Internal(e.to_string()),
            CoreError::Internal(m) => Self::Internal(m),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation { .. } | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials | Self::TotpRequired | Self::TotpInvalid => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) | Self::SecondFactorRequired | Self::EnrolmentRefused => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Dependency(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let Self::Internal(cause) | Self::Unavailable(cause) = self {
            tracing::error!(status = status.as_u16(), cause = %cause, "request failed");
        }
        let (slug, title) = self.slug_title();
        let mut body = serde_json::json!({
            "type": format!("urn:relais:problem:{slug}"),
            "title": title,
            "status": status.as_u16(),
        });
        if let Some(detail) = self.detail() {
            body["detail"] = detail.into();
        }
        if let Self::Validation { errors, .. } = self
            && !errors.is_empty()
        {
            body["errors"] = serde_json::to_value(errors).unwrap_or_default();
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Self::TooManyRequests { retry_after_secs } = self {
            body["retry_after"] = (*retry_after_secs).into();
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"relais\""),
            ));
        }
        response.body(body.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
