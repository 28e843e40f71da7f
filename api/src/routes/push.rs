//! A staff member's devices for notifications when the app is closed (Web Push): the key
//! the browser subscribes with, and the devices subscribed (each one's own; anyone else's
//! answers 404). Notifications are off without a VAPID key (production without
//! `RELAIS_VAPID_KEY`): 503 `dependency-unavailable`.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use relais_core::Error;
use relais_core::push::{self, Endpoint};

use crate::auth::roles::Staff;
use crate::body::Body;
use crate::problem::{ApiError, ApiResult};
use crate::push::Pusher;
use crate::state::AppState;

fn pusher(state: &AppState) -> ApiResult<Arc<Pusher>> {
    state.pusher.clone().ok_or_else(|| {
        ApiError::Dependency(
            "Les notifications ne sont pas configurées sur ce serveur (RELAIS_VAPID_KEY). / \
             Notifications are not set up on this server (RELAIS_VAPID_KEY)."
                .into(),
        )
    })
}

/// The server's public key, for `PushManager.subscribe({ applicationServerKey })`.
pub async fn key(state: web::Data<AppState>, _staff: Staff) -> ApiResult<HttpResponse> {
    let pusher = pusher(&state)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "public_key": pusher.public_key() })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    p256dh: String,
    auth: String,
}

/// `PushSubscription.toJSON()` as the browser gives it, and the device's name.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    endpoint: String,
    /// As the browser gives it; not used.
    #[serde(default, rename = "expirationTime")]
    #[allow(dead_code)]
    expiration_time: Option<f64>,
    keys: Keys,
    #[serde(default)]
    device: Option<String>,
}

/// base64url of exactly `len` bytes: the text (unpadded) and the bytes.
fn key_of_length(field: &str, text: &str, len: usize) -> Result<(String, Vec<u8>), Error> {
    use base64::Engine as _;
    let trimmed = text.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .map_err(|_| Error::invalid(field, "base64url"))?;
    if bytes.len() != len {
        return Err(Error::invalid(field, format!("{len} bytes, base64url")));
    }
    Ok((trimmed.to_owned(), bytes))
}

pub async fn subscribe(state: web::Data<AppState>, staff: Staff, body: Body<SubscribeBody>) -> ApiResult<HttpResponse> {
    let pusher = pusher(&state)?;
    let body = body.into_inner();
    let url = pusher
        .accepts(body.endpoint.trim())
        .map_err(|why| Error::invalid("endpoint", why))?;
    let (p256dh, point) = key_of_length("keys.p256dh", &body.keys.p256dh, 65)?;
    if p256::PublicKey::from_sec1_bytes(&point).is_err() {
        return Err(Error::invalid("keys.p256dh", "a P-256 public key, uncompressed").into());
    }
    let (auth, _) = key_of_length("keys.auth", &body.keys.auth, 16)?;
    if body.device.as_ref().is_some_and(|d| d.chars().count() > 200) {
        return Err(Error::invalid("device", "at most 200 characters").into());
    }
    let device = body
        .device
        .map(|d| {
            d.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect::<String>()
        })
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "Appareil / Device".to_owned());
    let endpoint = Endpoint {
        url: url.to_string(),
        p256dh,
        auth,
    };
    let caller = staff.caller.clone();
    let session = staff
        .auth
        .session()
        .ok_or_else(|| ApiError::Forbidden("a device subscribes within a signed-in session".into()))?
        .to_string();
    let now = state.clock.now();
    let (subscription, created) = state
        .db_sealed(move |conn, secrets| push::subscribe(conn, secrets, &caller, &session, &endpoint, &device, now))
        .await?;
    Ok(if created {
        HttpResponse::Created().json(subscription)
    } else {
        HttpResponse::Ok().json(subscription)
    })
}

pub async fn list(state: web::Data<AppState>, staff: Staff) -> ApiResult<HttpResponse> {
    let caller = staff.caller.clone();
    let devices = state.db(move |conn| push::list(conn, &caller)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": devices })))
}

pub async fn unsubscribe(state: web::Data<AppState>, staff: Staff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let caller = staff.caller.clone();
    let id = path.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(ApiError::NotFound);
    }
    state.db(move |conn| push::unsubscribe(conn, &caller, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
