//! The helpline staff's view of the text line: conversations (with the contact's alias,
//! never an address) and flagging a contact as abusive or blocked.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use relais_core::audit::{self, Entry};
use relais_core::db::write_tx;
use relais_core::helpline::model::{ContactFlag, ConversationState};
use relais_core::helpline::{contacts, conversations, messages};
use relais_core::ids::{ContactId, ConversationId};

use crate::auth::HelplineStaff;
use crate::body::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<ConversationState>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    _: HelplineStaff,
    query: crate::query::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let filter = query.state;
    let page = super::page_request(query.limit, query.cursor.as_deref())?;
    let page = state
        .db(move |conn| conversations::list_for_staff(conn, filter, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn get(
    state: web::Data<AppState>,
    _: HelplineStaff,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let id = path.as_uuid();
    let (conversation, list) = state
        .db_sealed(move |conn, secrets| {
            let conversation = conversations::view(conn, &id.to_string())?;
            let list = messages::list(conn, secrets, &conversation.id)?;
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
    HelplineStaff { caller, .. }: HelplineStaff,
    path: web::Path<ContactId>,
    body: Body<FlagBody>,
) -> ApiResult<HttpResponse> {
    let id = path.as_uuid();
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
