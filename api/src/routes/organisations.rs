//! Organisations: administrators manage all; staff see their own; managers edit their own.

use actix_web::{HttpResponse, web};
use relais_core::accounts::model::OrganisationKind;
use relais_core::accounts::organisations::{self, NewOrganisation, OrganisationChanges};
use relais_core::ids::OrganisationId;

use crate::auth::Auth;
use crate::auth::Staff;
use crate::auth::policy::{ADMIN, ANY_STAFF, STAFF_MANAGERS};
use crate::body::Body;
use crate::live::SessionsEnded;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    kind: Option<OrganisationKind>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisationBody {
    kind: OrganisationKind,
    name: String,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    coverage: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationChangesBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    coverage: Option<Vec<String>>,
    #[serde(default)]
    active: Option<bool>,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    query: crate::query::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let kind = query.into_inner().kind;
    let items = state.db(move |conn| organisations::list(conn, &caller, kind)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    body: Body<NewOrganisationBody>,
) -> ApiResult<HttpResponse> {
    let caller = auth.admit(ADMIN)?.clone();
    let body = body.into_inner();
    let new = NewOrganisation::parse(
        &state.geo,
        body.kind,
        &body.name,
        body.timezone.as_deref(),
        body.coverage.unwrap_or_default(),
    )?;
    let actor = caller.actor();
    let org = state.db(move |conn| organisations::create(conn, &actor, new)).await?;
    Ok(HttpResponse::Created().json(org))
}

pub async fn get(state: web::Data<AppState>, auth: Auth, path: web::Path<OrganisationId>) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let id = path.into_inner();
    let org = state.db(move |conn| organisations::get(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(org))
}

pub async fn update(
    state: web::Data<AppState>,
    Staff { caller, auth }: Staff,
    path: web::Path<OrganisationId>,
    body: Body<OrganisationChangesBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let body = body.into_inner();
    let shared = state.clone();
    let visible = caller.clone();
    let current = state.db(move |conn| organisations::get(conn, &visible, id)).await?;
    auth.require(STAFF_MANAGERS)?;
    if body.active.is_some() {
        auth.require(ADMIN)?;
    }
    let was_active = current.active;
    let org = state
        .db(move |conn| {
            let mut changes = OrganisationChanges::parse(
                &shared.geo,
                current.kind,
                body.name.as_deref(),
                body.timezone.as_deref(),
                body.coverage,
            )?;
            changes.active = body.active;
            organisations::update(conn, &caller, id, changes)
        })
        .await?;
    if was_active && !org.active {
        // Its staff's live sockets close on every instance.
        state.live.sessions_ended(SessionsEnded::organisation(id)).await;
    }
    Ok(HttpResponse::Ok().json(org))
}
