//! The listener's desk over HTTP: take the next conversation or a chosen one, assign
//! (supervisors), reply, private notes, transfer, close with an outcome. Helpline staff
//! only; anyone else gets 404, as for every helpline object.

use actix_web::{HttpResponse, web};
use relais_core::accounts::model::Role;
use relais_core::helpline::{conversations, desk};
use relais_core::ids::ConversationId;

use crate::auth::HelplineStaff;
use crate::body::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

const LISTENERS: &[Role] = &[Role::Listener];
const SUPERVISORS: &[Role] = &[Role::HelplineSupervisor];

/// After a change of hands: tells the listeners' apps (live events), then answers with the
/// conversation as it is now.
async fn view(state: &web::Data<AppState>, id: String) -> ApiResult<HttpResponse> {
    state.live.signal().await;
    let view = state.db(move |conn| conversations::view(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn take_next(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
) -> ApiResult<HttpResponse> {
    auth.require(LISTENERS)?;
    let (capacity, now) = (state.settings.helpline.listener_capacity, state.clock.now());
    let taken = state
        .db(move |conn| desk::take_next(conn, &caller, capacity, now))
        .await?;
    match taken {
        Some(c) => view(&state, c.id).await,
        None => Ok(HttpResponse::NoContent().finish()),
    }
}

pub async fn take(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    auth.require(LISTENERS)?;
    let id = path.to_string();
    let (capacity, now) = (state.settings.helpline.listener_capacity, state.clock.now());
    let c = state
        .db(move |conn| desk::take(conn, &caller, &id, capacity, now))
        .await?;
    view(&state, c.id).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    listener_id: uuid::Uuid,
}

pub async fn assign(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<ConversationId>,
    body: Body<AssignBody>,
) -> ApiResult<HttpResponse> {
    auth.require(SUPERVISORS)?;
    let id = path.to_string();
    let listener = body.into_inner().listener_id.to_string();
    let (capacity, now) = (state.settings.helpline.listener_capacity, state.clock.now());
    let c = state
        .db(move |conn| desk::assign(conn, &caller, &id, &listener, capacity, now))
        .await?;
    view(&state, c.id).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    text: String,
}

pub async fn reply(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<ConversationId>,
    body: Body<ReplyBody>,
) -> ApiResult<HttpResponse> {
    auth.require(LISTENERS)?;
    let id = path.to_string();
    let text = body.into_inner().text;
    let now = state.clock.now();
    let message = state
        .db_sealed(move |conn, secrets| desk::reply(conn, secrets, &caller, &id, &text, now))
        .await?;
    state.line.wake.notify_one();
    state.live.signal().await;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": message })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// Another listener, or null to put the conversation back in the queue.
    #[serde(default)]
    listener_id: Option<uuid::Uuid>,
    #[serde(default)]
    note: Option<String>,
}

pub async fn transfer(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<ConversationId>,
    body: Body<TransferBody>,
) -> ApiResult<HttpResponse> {
    auth.require(LISTENERS)?;
    let id = path.to_string();
    let body = body.into_inner();
    let (capacity, now) = (state.settings.helpline.listener_capacity, state.clock.now());
    let c = state
        .db_sealed(move |conn, secrets| {
            let to = body.listener_id.map(|u| u.to_string());
            desk::transfer(
                conn,
                &caller,
                &id,
                to.as_deref(),
                body.note.as_deref(),
                secrets,
                capacity,
                now,
            )
        })
        .await?;
    view(&state, c.id).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    outcome: String,
    #[serde(default)]
    summary: Option<String>,
}

pub async fn close(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<ConversationId>,
    body: Body<CloseBody>,
) -> ApiResult<HttpResponse> {
    auth.require(LISTENERS)?;
    let id = path.to_string();
    let body = body.into_inner();
    let now = state.clock.now();
    let c = state
        .db_sealed(move |conn, secrets| {
            desk::close(
                conn,
                secrets,
                &caller,
                &id,
                &body.outcome,
                body.summary.as_deref().unwrap_or_default(),
                now,
            )
        })
        .await?;
    view(&state, c.id).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    body: String,
}

pub async fn notes(
    state: web::Data<AppState>,
    HelplineStaff { caller, .. }: HelplineStaff,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let items = state
        .db_sealed(move |conn, secrets| desk::notes(conn, secrets, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn add_note(
    state: web::Data<AppState>,
    HelplineStaff { caller, .. }: HelplineStaff,
    path: web::Path<ConversationId>,
    body: Body<NoteBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let text = body.into_inner().body;
    let note = state
        .db_sealed(move |conn, secrets| desk::add_note(conn, secrets, &caller, &id, &text))
        .await?;
    Ok(HttpResponse::Created().json(note))
}

/// "The listener is typing", shown to the person where the channel can (Telegram, web
/// chat). Ephemeral: nothing is stored or queued. The app calls it at most every few seconds
/// while the listener types.
pub async fn typing(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    auth.require(LISTENERS)?;
    let id = path.to_string();
    let (channel, key, address) = state
        .db_sealed(move |conn, secrets| desk::typing_target(conn, secrets, &caller, &id))
        .await?;
    let shown = state.line.senders.typing(channel, &key, &address).await;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "shown": shown })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrientBody {
    centre_id: uuid::Uuid,
    summary: String,
}

/// The listener orients the person to a centre: the bot asks their consent; on yes the
/// centre receives a referral and the person is offered its free slots.
pub async fn orient(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    req: actix_web::HttpRequest,
    path: web::Path<ConversationId>,
    body: Body<OrientBody>,
) -> ApiResult<HttpResponse> {
    auth.require(LISTENERS)?;
    let (scope, key) = super::idempotency_key(&req, &auth)?;
    let id = path.to_string();
    let b = body.into_inner();
    let shared = state.clone();
    let orientation = state
        .db(move |conn| {
            relais_core::idempotency::once(conn, &scope, key.as_deref(), "orientations.create", |conn| {
                let orientation = shared.line.text_line.orient(
                    conn,
                    &caller,
                    &id,
                    relais_core::ids::OrganisationId::from(b.centre_id),
                    &b.summary,
                )?;
                serde_json::to_value(orientation).map_err(|e| relais_core::Error::Internal(e.to_string()))
            })
        })
        .await?;
    state.line.wake.notify_one();
    Ok(HttpResponse::Created().json(orientation))
}

/// The person's place in the queue, for the listener app's display.
pub async fn position(
    state: web::Data<AppState>,
    _: HelplineStaff,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let position = state.db(move |conn| desk::queue_position(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "position": position })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    status: crate::live::presence::Status,
}

/// The app's heartbeat: the listener's status, alive for 90 seconds.
pub async fn set_presence(
    state: web::Data<AppState>,
    HelplineStaff { caller, .. }: HelplineStaff,
    body: Body<PresenceBody>,
) -> ApiResult<HttpResponse> {
    let me = caller.user_id().map(|u| u.to_string()).unwrap_or_default();
    let presence = crate::live::presence::Presence {
        listener_id: me.clone(),
        status: body.into_inner().status,
        updated_at: state.clock.now(),
    };
    let previous = state
        .live
        .presence
        .set(presence.clone())
        .await
        .map_err(crate::problem::ApiError::Unavailable)?;
    if previous != Some(presence.status) {
        state
            .db(move |conn| {
                relais_core::db::write_tx(conn, |conn| {
                    relais_core::helpline::events::record(
                        conn,
                        relais_core::helpline::events::kind::PRESENCE,
                        None,
                        None,
                        Some(&me),
                    )
                })
            })
            .await?;
        state.live.signal().await;
    }
    Ok(HttpResponse::Ok().json(presence))
}

pub async fn list_presence(state: web::Data<AppState>, _: HelplineStaff) -> ApiResult<HttpResponse> {
    let items = state
        .live
        .presence
        .list()
        .await
        .map_err(crate::problem::ApiError::Unavailable)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}
