//! Login, refresh, logout and the second factor.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use relais_core::auth::login::{self, LoginError, LoginSettings};
use relais_core::auth::sessions::{self, Issued, RefreshError};
use relais_core::auth::{throttle, totp};

use crate::auth::Auth;
use crate::body::Body;
use crate::live::SessionsEnded;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpEnrolRequest {
    password: String,
    enrolment_code: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirmRequest {
    code: String,
    enrolment_code: String,
}

#[derive(serde::Serialize)]
struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: i64,
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => Self::InvalidCredentials,
            LoginError::Throttled { retry_after_secs } => Self::TooManyRequests { retry_after_secs },
            LoginError::TotpRequired => Self::TotpRequired,
            LoginError::TotpInvalid => Self::TotpInvalid,
            LoginError::Other(e) => e.into(),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Invalid | RefreshError::Reused => Self::Unauthenticated,
            RefreshError::Other(e) => e.into(),
        }
    }
}

impl From<totp::EnrolError> for ApiError {
    fn from(e: totp::EnrolError) -> Self {
        match e {
            totp::EnrolError::Refused => Self::EnrolmentRefused,
            totp::EnrolError::Throttled { retry_after_secs } => Self::TooManyRequests { retry_after_secs },
            totp::EnrolError::Other(e) => e.into(),
        }
    }
}

fn settings(state: &AppState) -> LoginSettings {
    let s = &state.settings;
    LoginSettings {
        throttle: throttle::Policy {
            free_failures: s.auth.login_free_failures,
            lockout_after: s.auth.login_lockout_after,
            lockout: Duration::seconds(s.auth.login_lockout_seconds),
            window: Duration::hours(1),
        },
        address_throttle: throttle::Policy {
            free_failures: s.auth.login_address_lockout_after / 2,
            lockout_after: s.auth.login_address_lockout_after,
            lockout: Duration::seconds(s.auth.login_lockout_seconds),
            window: Duration::hours(1),
        },
        totp_throttle: throttle::Policy {
            free_failures: 2.min(s.auth.totp_lockout_after - 1),
            lockout_after: s.auth.totp_lockout_after,
            lockout: Duration::seconds(s.auth.login_lockout_seconds),
            window: Duration::hours(1),
        },
        refresh_ttl: Duration::seconds(s.auth.refresh_token_ttl_seconds),
    }
}

fn token_pair(state: &AppState, issued: Issued) -> ApiResult<HttpResponse> {
    let access_token = state
        .tokens
        .issue(issued.user_id, issued.session_id, state.clock.now())
        .map_err(|e| ApiError::Internal(format!("token signing failed: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenPair {
            access_token,
            refresh_token: issued.refresh_token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl_seconds(),
        }))
}

#[tracing::instrument(skip_all)]
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: Body<LoginRequest>) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    if body.email.len() > 320 || body.password.len() > 1024 || body.totp.as_ref().is_some_and(|t| t.len() > 16) {
        return Err(ApiError::InvalidCredentials);
    }
    let shared = state.clone();
    let email = body.email;
    let address = crate::client_address::of(&req, &state.settings);
    let attempt = state
        .db(move |conn| login::begin(conn, &shared.secrets, &settings(&shared), &email, &address))
        .await?;
    // The slow hash runs without a database connection.
    let password = body.password;
    let checked = tokio::task::spawn_blocking(move || {
        let ok = login::check_password(&attempt, &password);
        (attempt, ok)
    })
    .await;
    let (attempt, password_ok) = checked.map_err(|e| ApiError::Internal(format!("password check failed: {e}")))?;
    let shared = state.clone();
    let totp = body.totp;
    let issued = state
        .db(move |conn| {
            login::finish(
                conn,
                &shared.secrets,
                &settings(&shared),
                attempt,
                password_ok,
                totp.as_deref(),
            )
        })
        .await?;
    token_pair(&state, issued)
}

#[tracing::instrument(skip_all)]
pub async fn refresh(state: web::Data<AppState>, body: Body<RefreshRequest>) -> ApiResult<HttpResponse> {
    let token = body.into_inner().refresh_token;
    if token.len() > 256 {
        return Err(ApiError::Unauthenticated);
    }
    let ttl = Duration::seconds(state.settings.auth.refresh_token_ttl_seconds);
    let issued = state.db(move |conn| sessions::refresh(conn, &token, ttl)).await?;
    token_pair(&state, issued)
}

#[tracing::instrument(skip_all)]
pub async fn logout(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let caller = auth.admit_before_second_factor()?.clone();
    let session = auth.session().ok_or(ApiError::Unauthenticated)?;
    let user = caller.user_id().ok_or(ApiError::Unauthenticated)?;
    state.db(move |conn| sessions::logout(conn, &caller, session)).await?;
    state.live.sessions_ended(SessionsEnded::user(user)).await;
    Ok(HttpResponse::NoContent().finish())
}

#[tracing::instrument(skip_all)]
pub async fn totp_enrol(
    state: web::Data<AppState>,
    auth: Auth,
    body: Body<TotpEnrolRequest>,
) -> ApiResult<HttpResponse> {
    let caller = auth.admit_before_second_factor()?.clone();
    let body = body.into_inner();
    if body.password.len() > 1024 || body.enrolment_code.len() > 64 {
        return Err(ApiError::EnrolmentRefused);
    }
    let shared = state.clone();
    let started = caller.clone();
    let attempt = state
        .db(move |conn| totp::begin_enrolment(conn, &shared.secrets, &settings(&shared).totp_throttle, &started))
        .await?;
    // The slow hash runs without a database connection.
    let password = body.password;
    let (attempt, password_ok) = tokio::task::spawn_blocking(move || {
        let ok = totp::check_password(&attempt, &password);
        (attempt, ok)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password check failed: {e}")))?;
    let shared = state.clone();
    let code = body.enrolment_code;
    let enrolment = state
        .db(move |conn| totp::enrol(conn, &shared.secrets, &caller, attempt, password_ok, &code))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(enrolment))
}

#[tracing::instrument(skip_all)]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    auth: Auth,
    body: Body<TotpConfirmRequest>,
) -> ApiResult<HttpResponse> {
    let caller = auth.admit_before_second_factor()?.clone();
    let session = auth.session();
    let body = body.into_inner();
    if body.code.len() > 16 {
        return Err(super::invalid("code", "a one-time code has 6 digits"));
    }
    if body.enrolment_code.len() > 64 {
        return Err(ApiError::EnrolmentRefused);
    }
    let shared = state.clone();
    let user = caller.user_id().ok_or(ApiError::Unauthenticated)?;
    state
        .db(move |conn| {
            totp::confirm(
                conn,
                &shared.secrets,
                &settings(&shared).totp_throttle,
                &caller,
                session,
                &body.enrolment_code,
                &body.code,
            )
        })
        .await?;
    // The account's other sessions ended: their sockets close.
    state.live.sessions_ended(SessionsEnded::user(user)).await;
    Ok(HttpResponse::NoContent().finish())
}
