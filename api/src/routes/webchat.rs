//! The web chat: an anonymous session (a random token the server issues, nothing else),
//! messages over HTTP and a WebSocket, and a small page at `/chat` with no third-party
//! script. The token is the session's channel address: it is stored only as its keyed HMAC,
//! a token the server did not issue, or one idle past `RELAIS_WEBCHAT_SESSION_IDLE_SECONDS`,
//! is refused (401), and the page then starts a new chat.

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use relais_bots::dialogue::Input;
use relais_bots::ingest::{Inbound, Ingested};
use relais_bots::webchat::WebChatFrame;
use relais_core::helpline::model::{Author, Channel, ConversationState};
use relais_core::helpline::{contacts, conversations, messages, webchat_sessions};

use crate::body::Body;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

const PAGE: &str = include_str!("../../assets/chat.html");
const SCRIPT: &str = include_str!("../../assets/chat.js");
pub const SESSION_HEADER: &str = "X-Chat-Session";

/// The page, with the line's hours as configured (`RELAIS_HELPLINE_HOURS`), in both languages.
pub async fn page(state: web::Data<AppState>) -> HttpResponse {
    use relais_core::helpline::model::Language;
    let hours = &state.line.text_line.hours;
    let escape = |text: String| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let page = PAGE
        .replace("{{hours_fr}}", &escape(hours.describe(Language::French)))
        .replace("{{hours_en}}", &escape(hours.describe(Language::English)));
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ))
        .body(page)
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}

fn idle(state: &AppState) -> chrono::Duration {
    chrono::Duration::seconds(state.settings.text_line.webchat_session_idle_seconds)
}

/// The chat key of a live session we issued, extending it; `None` for anything else.
async fn live_session(state: &web::Data<AppState>, token: &str) -> ApiResult<Option<String>> {
    if !webchat_sessions::well_formed(token) {
        return Ok(None);
    }
    let shared = state.clone();
    let token = token.to_owned();
    state
        .db(move |conn| webchat_sessions::touch(conn, &shared.secrets, &token, idle(&shared), shared.clock.now()))
        .await
}

/// The request's session token, once checked: 401 when missing, forged or expired.
async fn session(state: &web::Data<AppState>, req: &HttpRequest) -> ApiResult<String> {
    let token = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthenticated)?;
    match live_session(state, token).await? {
        Some(_) => Ok(token.to_owned()),
        None => Err(ApiError::Unauthenticated),
    }
}

pub async fn create_session(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let shared = state.clone();
    let token = state
        .db(move |conn| webchat_sessions::issue(conn, &shared.secrets, idle(&shared), shared.clock.now()))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "token": token })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// The client's id for this message, so a retry on a bad network counts once.
    id: uuid::Uuid,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    choice: Option<String>,
}

fn inbound(token: &str, message: ChatMessage) -> ApiResult<Inbound> {
    let input = match (message.text, message.choice) {
        (Some(text), None) if text.chars().count() <= 4000 => Input::Text(text),
        (None, Some(choice)) if choice.len() <= 64 => Input::Choice(choice),
        _ => {
            return Err(super::invalid(
                "text",
                "send either a text (at most 4000 characters) or a choice",
            ));
        }
    };
    Ok(Inbound {
        channel: Channel::WebChat,
        address: token.to_owned(),
        provider_id: format!(
            "{}:{}",
            &relais_core::crypto::sha256_hex(token.as_bytes())[..16],
            message.id
        ),
        input,
    })
}

async fn ingest(state: &web::Data<AppState>, inbound: Inbound) -> ApiResult<Ingested> {
    state.line.metrics.inbound(Channel::WebChat);
    let shared = state.clone();
    let outcome = state
        .db(move |conn| shared.line.text_line.ingest(conn, &inbound, shared.clock.now()))
        .await?;
    state.line.wake.notify_one();
    if matches!(outcome, Ingested::Stored { live: true, .. }) {
        state.live.signal().await;
    }
    Ok(outcome)
}

pub async fn post_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<ChatMessage>,
) -> ApiResult<HttpResponse> {
    let token = session(&state, &req).await?;
    let outcome = ingest(&state, inbound(&token, body.into_inner())?).await?;
    let status = match outcome {
        Ingested::Duplicate => "duplicate",
        _ => "received",
    };
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "status": status })))
}

/// The session's current conversation, for a page that (re)loads or a client catching up.
pub async fn list_messages(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let token = session(&state, &req).await?;
    let shared = state.clone();
    let items = state
        .db(move |conn| {
            let secrets = &shared.secrets;
            let key = contacts::address_key(secrets, Channel::WebChat, &token);
            let Some(contact) = contacts::find_by_key(conn, &key)? else {
                return Ok(Vec::new());
            };
            let Some(conversation) = conversations::latest_for_contact(conn, &contact.id)? else {
                return Ok(Vec::new());
            };
            let list = messages::list(conn, secrets, &conversation.id)?;
            // The last message's buttons still apply when it is the line's (earlier ones no
            // longer do): a page reloaded can answer it as before.
            let buttons = match list.last() {
                Some(last) if last.author != Author::Contact => {
                    relais_core::helpline::outbox::choices_of(conn, secrets, &last.id)?
                }
                _ => Vec::new(),
            };
            let count = list.len();
            Ok::<_, relais_core::Error>(
                list.into_iter()
                    .enumerate()
                    .map(|(i, m)| {
                        let mut item = serde_json::json!({
                            "id": m.id,
                            "from": if m.author == Author::Contact { "you" } else { "line" },
                            "text": m.body,
                            "at": m.created_at,
                        });
                        if i + 1 == count && !buttons.is_empty() {
                            item["choices"] = serde_json::json!(buttons);
                        }
                        item
                    })
                    .collect(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// `{"type": "typing"}` from the person's page.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TypingFrame {
    #[serde(rename = "type")]
    _kind: TypingTag,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum TypingTag {
    Typing,
}

/// Tells the listener holding the person's conversation, if any, that the person types.
async fn person_typing(state: &web::Data<AppState>, key: String) {
    let found = state
        .db(move |conn| {
            let Some(contact) = contacts::find_by_key(conn, &key)? else {
                return Ok(None);
            };
            let Some(conversation) = conversations::latest_for_contact(conn, &contact.id)? else {
                return Ok(None);
            };
            Ok::<_, relais_core::Error>(
                (conversation.state() == ConversationState::Active)
                    .then_some((conversation.id, conversation.listener_id)),
            )
        })
        .await;
    if let Ok(Some((conversation_id, listener_id))) = found {
        state
            .live
            .typing(crate::live::Typing {
                conversation_id,
                listener_id,
            })
            .await;
    }
}

#[derive(serde::Deserialize)]
struct Hello {
    session: String,
}

/// WebSocket: the first frame names the session (`{"session": token}`); then the server
/// pushes the line's messages and the client sends `{"id", "text"}` or `{"id", "choice"}`.
pub async fn socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(async move {
        let first = tokio::time::timeout(
            std::time::Duration::from_millis(state.settings.server.socket_hello_timeout_ms),
            stream.next(),
        )
        .await;
        let token = match first {
            Ok(Some(Ok(actix_ws::Message::Text(text)))) => match serde_json::from_str::<Hello>(&text) {
                Ok(hello) if matches!(live_session(&state, &hello.session).await, Ok(Some(_))) => hello.session,
                _ => {
                    // Forged or expired: the page starts a new chat.
                    let _ = session.text(serde_json::json!({ "type": "expired" }).to_string()).await;
                    let _ = session.close(None).await;
                    return;
                }
            },
            _ => {
                let _ = session.close(None).await;
                return;
            }
        };
        let key = contacts::address_key(&state.secrets, Channel::WebChat, &token);
        // While this socket lives, the chat's messages are delivered by this instance.
        let (mut events, _held) = state.line.webchat.hold(&key);
        // From now on this socket gets every message of its chat: the page may send.
        if session
            .text(serde_json::json!({ "type": "ready" }).to_string())
            .await
            .is_err()
        {
            return;
        }
        let mut last_typing: Option<std::time::Instant> = None;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) if event.chat_key == key || event.frame == WebChatFrame::Resync => {
                        let frame = match event.frame {
                            WebChatFrame::Message { payload, message_id } => serde_json::json!({ "type": "message", "id": message_id, "from": "line", "text": payload.text, "choices": payload.choices }),
                            WebChatFrame::Typing => serde_json::json!({ "type": "typing", "from": "line" }),
                            // The page fetches the history and shows what it has not shown.
                            WebChatFrame::Resync => serde_json::json!({ "type": "resync" }),
                        };
                        if session.text(frame.to_string()).await.is_err() { break; }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = session.text(serde_json::json!({ "type": "resync" }).to_string()).await;
                    }
                    Err(_) => break,
                },
                frame = stream.next() => match frame {
                    Some(Ok(actix_ws::Message::Text(text))) => {
                        if serde_json::from_str::<TypingFrame>(&text).is_ok() {
                            // At most one every two seconds reaches the listener.
                            if last_typing.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(2)) {
                                last_typing = Some(std::time::Instant::now());
                                person_typing(&state, key.clone()).await;
                            }
                            continue;
                        }
                        let Ok(message) = serde_json::from_str::<ChatMessage>(&text) else { continue };
                        if !matches!(live_session(&state, &token).await, Ok(Some(_))) {
                            let _ = session.text(serde_json::json!({ "type": "expired" }).to_string()).await;
                            break;
                        }
                        let Ok(inbound) = inbound(&token, message) else { continue };
                        if ingest(&state, inbound).await.is_err() {
                            let _ = session.text(serde_json::json!({ "type": "error" }).to_string()).await;
                        }
                    }
                    Some(Ok(actix_ws::Message::Ping(bytes))) => { let _ = session.pong(&bytes).await; }
                    Some(Ok(actix_ws::Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}
