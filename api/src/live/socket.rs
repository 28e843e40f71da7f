//! `GET /v1/live`: the listeners' WebSocket. The first frame authenticates:
//! `{"token": "<access token>", "after": <last event number seen, optional>}`. The server
//! replays what the app missed from the database, then streams new events. When the access
//! token expires the server closes with code 4001; the app reconnects with a fresh token and
//! its last number, and loses nothing. When the session ends (logout, deactivation of the
//! account or its organisation, a role, password or second-factor change), the bus says so
//! and the socket closes at once with 4001, on whichever instance holds it.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use relais_core::access::{Caller, Principal};
use relais_core::accounts::model::{OrganisationKind, Role};
use relais_core::auth::{login, sessions};
use relais_core::helpline::events::{self, LiveEvent};

use crate::state::AppState;

#[derive(serde::Deserialize)]
struct Hello {
    token: String,
    #[serde(default)]
    after: Option<i64>,
}

fn frame(event: &LiveEvent) -> String {
    serde_json::json!({
        "type": "event",
        "seq": event.seq,
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "message_id": event.message_id,
        "listener_id": event.listener_id,
        "detail": event.detail,
        "object_id": event.object_id,
        "at": event.at.and_utc(),
    })
    .to_string()
}

/// Helpline staff (the helpline's events) and centre staff (their centre's events), with
/// their second factor where it is required.
fn admitted(state: &AppState, caller: &Caller) -> bool {
    let Principal::Staff {
        roles, second_factor, ..
    } = &caller.principal
    else {
        return false;
    };
    let role = match caller.organisation_kind {
        OrganisationKind::Helpline => roles.contains(Role::Listener) || roles.contains(Role::HelplineSupervisor),
        OrganisationKind::Centre => roles.contains(Role::Practitioner) || roles.contains(Role::CentreManager),
        OrganisationKind::HousingPlatform => roles.contains(Role::HousingOperator),
        _ => false,
    } || security_reader(caller);
    role && (*second_factor || !login::needs_second_factor(state.settings.auth.require_totp, roles))
}

/// Administrators and national coordinators hear security alerts.
fn security_reader(caller: &Caller) -> bool {
    caller.has_any_role(&[Role::Admin, Role::NationalCoordinator])
}

/// Whether an event is the caller's to see: security alerts for administrators and national
/// coordinators only, the helpline's events for helpline staff, an organisation's (a centre,
/// the housing platform) for its own staff.
fn theirs(caller: &Caller, event: &LiveEvent) -> bool {
    if event.kind == events::kind::SECURITY_ALERT {
        return security_reader(caller);
    }
    match &event.organisation_id {
        None => caller.organisation_kind == OrganisationKind::Helpline,
        Some(org) => *org == caller.organisation_id.to_string(),
    }
}

pub async fn socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(async move {
        let close = |code: u16, why: &'static str| actix_ws::CloseReason {
            code: actix_ws::CloseCode::Other(code),
            description: Some(why.to_owned()),
        };
        let first = tokio::time::timeout(
            Duration::from_millis(state.settings.server.socket_hello_timeout_ms),
            stream.next(),
        )
        .await;
        let Ok(Some(Ok(actix_ws::Message::Text(text)))) = first else {
            let _ = session.close(Some(close(4000, "authenticate first"))).await;
            return;
        };
        let Ok(hello) = serde_json::from_str::<Hello>(&text) else {
            let _ = session.close(Some(close(4000, "authenticate first"))).await;
            return;
        };
        let Some(verified) = state.tokens.verify(&hello.token, state.clock.now()) else {
            let _ = session.close(Some(close(4001, "token invalid or expired"))).await;
            return;
        };
        let caller = state
            .db(move |conn| sessions::caller_for_session(conn, verified.session, verified.user))
            .await;
        let Ok(Some(caller)) = caller else {
            let _ = session.close(Some(close(4001, "session ended"))).await;
            return;
        };
        if !admitted(&state, &caller) {
            let _ = session
                .close(Some(close(4003, "not a role that hears live events")))
                .await;
            return;
        }
        // Subscribe before reading the backlog, so nothing falls between the two.
        let mut live = state.live.subscribe();
        let mut typing = state.live.subscribe_typing();
        let mut ended = state.live.subscribe_ended();
        let me = caller.user_id().map(|u| u.to_string());
        let my_user = me.clone().unwrap_or_default();
        let my_org = caller.organisation_id.to_string();
        let supervisor =
            matches!(&caller.principal, Principal::Staff { roles, .. } if roles.contains(Role::HelplineSupervisor));
        let mut last = match hello.after {
            Some(after) => after,
            None => state.db(events::latest).await.unwrap_or(0),
        };
        loop {
            let from = last;
            let backlog = state
                .db(move |conn| events::since(conn, from, 500))
                .await
                .unwrap_or_default();
            let full = backlog.len() == 500;
            for event in backlog {
                if theirs(&caller, &event) && session.text(frame(&event)).await.is_err() {
                    return;
                }
                last = event.seq;
            }
            if !full {
                break;
            }
        }
        let _ = session
            .text(serde_json::json!({ "type": "ready", "seq": last }).to_string())
            .await;
        let expires_in = (verified.expires_at - state.clock.now().timestamp()).max(0) as u64;
        let expiry = tokio::time::sleep(Duration::from_secs(expires_in));
        tokio::pin!(expiry);
        loop {
            tokio::select! {
                _ = &mut expiry => {
                    let _ = session.close(Some(close(4001, "token expired: reconnect with a fresh token and your last seq"))).await;
                    return;
                }
                event = live.recv() => match event {
                    Ok(event) if event.seq > last => {
                        if theirs(&caller, &event) && session.text(frame(&event)).await.is_err() { return; }
                        last = event.seq;
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Fell behind the local stream: read what was missed from the database.
                        let from = last;
                        let missed = state.db(move |conn| events::since(conn, from, 5000)).await.unwrap_or_default();
                        for event in missed {
                            if theirs(&caller, &event) && session.text(frame(&event)).await.is_err() { return; }
                            last = event.seq;
                        }
                    }
                    Err(_) => return,
                },
                signal = ended.recv() => {
                    let look = match signal {
                        Ok(signal) => signal.concerns(&my_user, &my_org),
                        // Missed signals: look again, to be safe.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => true,
                        Err(_) => return,
                    };
                    if look {
                        let (id, user) = (verified.session, verified.user);
                        let still = state
                            .db(move |conn| sessions::caller_for_session(conn, id, user))
                            .await;
                        if !matches!(still, Ok(Some(_))) {
                            let _ = session.close(Some(close(4001, "session ended"))).await;
                            return;
                        }
                    }
                }
                typing_now = typing.recv() => match typing_now {
                    // Ephemeral, no number: for the listener holding the conversation (and supervisors).
                    Ok(t) if supervisor || (t.listener_id.is_some() && t.listener_id == me) => {
                        let frame = serde_json::json!({ "type": "typing", "conversation_id": t.conversation_id });
                        if session.text(frame.to_string()).await.is_err() { return; }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                },
                incoming = stream.next() => match incoming {
                    Some(Ok(actix_ws::Message::Ping(bytes))) => { let _ = session.pong(&bytes).await; }
                    Some(Ok(actix_ws::Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    });
    Ok(response)
}
