//! The `Auth` extractor: resolves `Authorization: Bearer …` to a caller (a staff session
//! from a JWT, or a partner from an API key). Handlers then state whom they admit.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use relais_core::access::{Caller, Principal};
use relais_core::accounts::api_keys;
use relais_core::accounts::model::Role;
use relais_core::auth::{login, sessions};
use relais_core::ids::SessionId;

use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Auth {
    caller: Caller,
    session: Option<SessionId>,
    /// The account must pass a second factor to reach personal data.
    second_factor_required: bool,
    /// … and this session has not passed it.
    second_factor_missing: bool,
}

impl Auth {
    /// Staff holding one of `roles`, with the second factor where it is required.
    pub fn admit(&self, roles: &[Role]) -> Result<&Caller, ApiError> {
        if self.caller.is_partner() {
            return Err(ApiError::Forbidden("partner keys cannot use this endpoint".into()));
        }
        if self.second_factor_missing {
            return Err(ApiError::SecondFactorRequired);
        }
        if !self.caller.has_any_role(roles) {
            return Err(ApiError::Forbidden("your role does not allow this action".into()));
        }
        Ok(&self.caller)
    }

    /// For routes on one object: `admit(ANY_STAFF)` first, then the object's visibility
    /// (another organisation's object answers 404 whatever the role), then this check of
    /// the roles the action needs (403).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        self.admit(roles).map(|_| ())
    }

    /// Like `admit`, and partner keys too.
    pub fn admit_with_partners(&self, roles: &[Role]) -> Result<&Caller, ApiError> {
        if self.caller.is_partner() {
            Ok(&self.caller)
        } else {
            self.admit(roles)
        }
    }

    /// Any authenticated staff member, even before the second factor: for the endpoints
    /// that set it up (enrol, confirm), `me` and logout.
    pub fn admit_before_second_factor(&self) -> Result<&Caller, ApiError> {
        if self.caller.is_partner() {
            return Err(ApiError::Forbidden("partner keys cannot use this endpoint".into()));
        }
        Ok(&self.caller)
    }

    /// Any authenticated caller, staff (before the second factor) or partner.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    pub fn session(&self) -> Option<SessionId> {
        self.session
    }

    pub fn second_factor_required(&self) -> bool {
        self.second_factor_required
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let token = token.ok_or(ApiError::Unauthenticated)?;
            if token.starts_with(api_keys::KEY_PREFIX) {
                let caller = state.db(move |conn| api_keys::authenticate(conn, &token)).await?;
                let caller = caller.ok_or(ApiError::Unauthenticated)?;
                return Ok(Auth {
                    caller,
                    session: None,
                    second_factor_required: false,
                    second_factor_missing: false,
                });
            }
            let verified = state
                .tokens
                .verify(&token, state.clock.now())
                .ok_or(ApiError::Unauthenticated)?;
            let caller = state
                .db(move |conn| sessions::caller_for_session(conn, verified.session, verified.user))
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            let (required, passed) = match &caller.principal {
                Principal::Staff {
                    roles, second_factor, ..
                } => (
                    login::needs_second_factor(state.settings.auth.require_totp, roles),
                    *second_factor,
                ),
                Principal::Partner { .. } => (false, false),
            };
            Ok(Auth {
                caller,
                session: Some(verified.session),
                second_factor_required: required,
                second_factor_missing: required && !passed,
            })
        })
    }
}
