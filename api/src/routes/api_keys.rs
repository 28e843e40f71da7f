//! Partner API keys, managed by administrators.

use actix_web::{HttpResponse, web};
use relais_core::accounts::{api_keys, organisations};
use relais_core::ids::{ApiKeyId, OrganisationId};

use crate::auth::Auth;
use crate::auth::policy::{ADMIN, ANY_STAFF};
use crate::body::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyBody {
    name: String,
}

pub async fn list(state: web::Data<AppState>, auth: Auth, path: web::Path<OrganisationId>) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let org = path.into_inner();
    let visible = caller.clone();
    state.db(move |conn| organisations::get(conn, &visible, org)).await?;
    auth.require(ADMIN)?;
    let items = state.db(move |conn| api_keys::list(conn, &caller, org)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<OrganisationId>,
    body: Body<NewApiKeyBody>,
) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let org = path.into_inner();
    let visible = caller.clone();
    state.db(move |conn| organisations::get(conn, &visible, org)).await?;
    auth.require(ADMIN)?;
    let name = body.into_inner().name;
    let created = state
        .db(move |conn| api_keys::create(conn, &caller, org, &name))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(created))
}

pub async fn revoke(state: web::Data<AppState>, auth: Auth, path: web::Path<ApiKeyId>) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let id = path.into_inner();
    let visible = caller.clone();
    state.db(move |conn| api_keys::get(conn, &visible, id)).await?;
    auth.require(ADMIN)?;
    state.db(move |conn| api_keys::revoke(conn, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
