//! The caller's own account, organisation and roles.

use actix_web::{HttpResponse, web};
use relais_core::accounts::{organisations, users};

use crate::auth::Auth;
use crate::problem::ApiResult;
use crate::state::AppState;

pub async fn me(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let caller = auth.caller().clone();
    let second_factor = matches!(
        &caller.principal,
        relais_core::access::Principal::Staff {
            second_factor: true,
            ..
        }
    );
    let required = auth.second_factor_required();
    let (user, organisation) = state
        .db(move |conn| {
            let user = if caller.is_partner() {
                None
            } else {
                Some(users::me(conn, &caller)?)
            };
            let organisation = organisations::find(conn, caller.organisation_id)?;
            Ok::<_, relais_core::Error>((user, organisation))
        })
        .await?;
    let roles = user.as_ref().map(|u| u.roles.as_slice().to_vec()).unwrap_or_default();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "kind": if user.is_some() { "staff" } else { "partner" },
        "user": user,
        "organisation": organisation,
        "roles": roles,
        "second_factor": second_factor,
        "second_factor_required": required,
    })))
}
