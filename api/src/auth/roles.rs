//! Role extractors: a handler states whom it admits by the type of one argument.
//!
//! - [`Staff`]: any staff member past the second factor where it is required (partner keys:
//!   403);
//! - [`CentreStaff`]: a centre's practitioners and managers; anyone else, partner keys
//!   included, gets 404, as if the centre's objects did not exist;
//! - [`HelplineStaff`]: the helpline's listeners and supervisors; staff of any other
//!   organisation get 404 (partner keys: 403).
//!
//! Each holds the caller and the [`Auth`] it came from (for `idempotency_key`, the session).
//! Finer rules on one object (another organisation's object answers 404 whatever the role)
//! stay in core.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use relais_core::access::Caller;
use relais_core::accounts::model::{OrganisationKind, Role};

use super::Auth;
use super::policy::ANY_STAFF;
use crate::problem::{ApiError, ApiResult};

const CENTRE_ROLES: &[Role] = &[Role::Practitioner, Role::CentreManager];
const HELPLINE_ROLES: &[Role] = &[Role::Listener, Role::HelplineSupervisor];

/// Staff of one kind of organisation holding one of its roles; anyone else 404s.
fn organisation_staff(auth: &Auth, kind: OrganisationKind, roles: &[Role]) -> ApiResult<Caller> {
    let caller = auth.admit(ANY_STAFF)?.clone();
    if caller.organisation_kind != kind {
        return Err(ApiError::NotFound);
    }
    auth.require(roles)?;
    Ok(caller)
}

macro_rules! role_extractor {
    ($(#[doc = $doc:literal])* $name:ident, $gate:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pub caller: Caller,
            pub auth: Auth,
        }

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let auth = Auth::from_request(req, payload);
                Box::pin(async move {
                    let auth = auth.await?;
                    let gate: fn(&Auth) -> ApiResult<Caller> = $gate;
                    let caller = gate(&auth)?;
                    Ok(Self { caller, auth })
                })
            }
        }
    };
}

role_extractor!(
    /// Any staff member, past the second factor where it is required.
    Staff,
    |auth| auth.admit(ANY_STAFF).cloned()
);

role_extractor!(
    /// A centre's practitioners and managers; anyone else, partner keys included, gets 404.
    CentreStaff,
    |auth| {
        if auth.caller().is_partner() {
            return Err(ApiError::NotFound);
        }
        organisation_staff(auth, OrganisationKind::Centre, CENTRE_ROLES)
    }
);

role_extractor!(
    /// The helpline's listeners and supervisors; staff of other organisations get 404.
    HelplineStaff,
    |auth| organisation_staff(auth, OrganisationKind::Helpline, HELPLINE_ROLES)
);
