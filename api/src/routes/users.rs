//! Staff accounts: colleagues see each other; managers (and administrators) manage them.

use actix_web::{HttpResponse, web};
use relais_core::accounts::model::Role;
use relais_core::accounts::organisations;
use relais_core::accounts::users::{self, NewUser, UserChanges};
use relais_core::auth::{enrolment, totp};
use relais_core::ids::{OrganisationId, UserId};
use relais_core::values::{NewPassword, parse_label};

use crate::auth::Staff;
use crate::auth::policy::STAFF_MANAGERS;
use crate::body::Body;
use crate::live::SessionsEnded;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    email: String,
    display_name: String,
    password: String,
    roles: Vec<Role>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChangesBody {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    roles: Option<Vec<Role>>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    password: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<OrganisationId>,
) -> ApiResult<HttpResponse> {
    let org = path.into_inner();
    let items = state.db(move |conn| users::list(conn, &caller, org)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn create(
    state: web::Data<AppState>,
    Staff { caller, auth }: Staff,
    path: web::Path<OrganisationId>,
    body: Body<NewUserBody>,
) -> ApiResult<HttpResponse> {
    let org = path.into_inner();
    let visible = caller.clone();
    state.db(move |conn| organisations::get(conn, &visible, org)).await?;
    auth.require(STAFF_MANAGERS)?;
    let body = body.into_inner();
    let new = NewUser::parse(&body.email, &body.display_name, &body.password, body.roles)?;
    let user = state.db(move |conn| users::create(conn, &caller, org, new)).await?;
    Ok(HttpResponse::Created().json(user))
}

pub async fn get(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let user = state.db(move |conn| users::get(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(user))
}

pub async fn update(
    state: web::Data<AppState>,
    Staff { caller, auth }: Staff,
    path: web::Path<UserId>,
    body: Body<UserChangesBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let visible = caller.clone();
    state.db(move |conn| users::get(conn, &visible, id)).await?;
    auth.require(STAFF_MANAGERS)?;
    let body = body.into_inner();
    let changes = UserChanges {
        display_name: body
            .display_name
            .map(|n| parse_label("display_name", &n, 120))
            .transpose()?,
        roles: body.roles,
        active: body.active,
        password: body.password.map(|p| NewPassword::parse(&p)).transpose()?,
    };
    let ends_sessions = changes.active.is_some() || changes.roles.is_some() || changes.password.is_some();
    let user = state
        .db(move |conn| relais_core::auth::sessions::update_user(conn, &caller, id, changes))
        .await?;
    if ends_sessions {
        state.live.sessions_ended(SessionsEnded::user(id)).await;
    }
    Ok(HttpResponse::Ok().json(user))
}

pub async fn totp_reset(
    state: web::Data<AppState>,
    Staff { caller, auth }: Staff,
    path: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let visible = caller.clone();
    state.db(move |conn| users::get(conn, &visible, id)).await?;
    auth.require(STAFF_MANAGERS)?;
    let issued = state
        .db_sealed(move |conn, secrets| totp::reset(conn, secrets, &caller, id))
        .await?;
    state.live.sessions_ended(SessionsEnded::user(id)).await;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(issued))
}

/// Issues the account's enrolment code (replacing any earlier one), shown once.
pub async fn enrolment_code(
    state: web::Data<AppState>,
    Staff { caller, auth }: Staff,
    path: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let visible = caller.clone();
    state.db(move |conn| users::get(conn, &visible, id)).await?;
    auth.require(STAFF_MANAGERS)?;
    let issued = state
        .db_sealed(move |conn, secrets| enrolment::issue(conn, secrets, &caller, id))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(issued))
}
