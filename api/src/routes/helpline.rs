//! The helpline staff's view of the text line: conversations (with the contact's alias,
//! never an address) and flagging a contact as abusive or blocked.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use relais_core::accounts::model::{OrganisationKind, Role};
use relais_core::audit::{self, Entry};
use relais_core::db::write_tx;
use relais_core::helpline::model::{ContactFlag, ConversationState};
use relais_core::helpline::{contacts, conversations, messages};

use crate::auth::Auth;
use crate::auth::policy::ANY_STAFF;
use crate::body::Body;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

const HELPLINE_STAFF: &[Role] = &[Role::Listener, Role::HelplineSupervisor];

/// Conversations belong to the helpline: staff of any other organisation get 404.
pub(super) fn helpline_only(auth: &Auth) -> ApiResult<relais_core::access::Caller> {
    let caller = auth.admit(ANY_STAFF)?.clone();
    if caller.organisation_kind != OrganisationKind::Helpline {
        return Err(ApiError::NotFound);
    }
    auth.require(HELPLINE_STAFF)?;
    Ok(caller)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<ConversationState>,
}

pub async fn list(state: web::Data<AppState>, auth: Auth, query: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    helpline_only(&auth)?;
    let filter = query.into_inner().state;
    let items = state
        .db(move |conn| conversations::list_for_staff(conn, filter, 200))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn get(state: web::Data<AppState>, auth: Auth, path: web::Path<String>) -> ApiResult<HttpResponse> {
    helpline_only(&auth)?;
    let id: uuid::Uuid = super::parse_id(&path)?;
    let shared = state.clone();
    let (conversation, list) = state
        .db(move |conn| {
            let conversation = conversations::view(conn, &id.to_string())?;
            let list = messages::list(conn, &shared.secrets, &conversation.id)?;
            Ok::<_, relais_core::Error>((conversation, list))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "conversation": conversation, "messages": list })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagBody {
    flag: Option<ContactFlag>,
    #[serde(default)]
    until: Option<DateTime<Utc>>,
}

pub async fn flag(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    body: Body<FlagBody>,
) -> ApiResult<HttpResponse> {
    let caller = helpline_only(&auth)?;
    let id: uuid::Uuid = super::parse_id(&path)?;
    let body = body.into_inner();
    if body.until.is_some_and(|u| u <= state.clock.now()) {
        return Err(super::invalid("until", "must be in the future"));
    }
    if body.flag.is_none() && body.until.is_some() {
        return Err(super::invalid("until", "only goes with a flag"));
    }
    let contact = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let contact = contacts::set_flag(conn, &id.to_string(), body.flag, body.until)?;
                audit::record(
                    conn,
                    &caller.actor(),
                    Entry::new("contact.flag")
                        .object("contact", id)
                        .details(serde_json::json!({
                            "flag": body.flag.map(|f| f.as_str()),
                            "until": body.until,
                        })),
                )?;
                Ok::<_, relais_core::Error>(contact)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(contact))
}
