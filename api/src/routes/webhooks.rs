//! Provider webhooks. Each is verified before its content is read or stored: Telegram's
//! secret header (compared in constant time), Twilio's signature. A missing proof answers
//! 401, a wrong one 403, and nothing is stored. An update we cannot parse is logged without
//! its content and acknowledged, so one bad update never blocks a channel.

use actix_web::{HttpRequest, HttpResponse, web};
use relais_bots::ingest::{Inbound, Ingested};
use relais_bots::metrics::Stage;
use relais_bots::{telegram, twilio};
use relais_core::helpline::model::Channel;
use relais_core::helpline::outbox;

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

async fn read_body(state: &AppState, payload: web::Payload) -> ApiResult<web::Bytes> {
    match payload.to_bytes_limited(state.settings.server.body_limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ApiError::BadRequest("the body could not be read".into())),
        Err(_) => Err(ApiError::PayloadTooLarge {
            limit: state.settings.server.body_limit,
        }),
    }
}

fn unverified(presented: bool) -> ApiError {
    if presented {
        ApiError::Forbidden("the webhook's proof does not match".into())
    } else {
        ApiError::Unauthenticated
    }
}

fn log_outcome(channel: Channel, outcome: &Ingested) {
    match outcome {
        Ingested::Stored { replies, .. } => tracing::info!(%channel, replies, "inbound message stored"),
        Ingested::Duplicate => tracing::info!(%channel, "inbound message already received"),
        Ingested::Dropped => tracing::info!(%channel, "inbound message from a blocked contact dropped"),
        Ingested::Erased => tracing::info!(%channel, "contact erased at their request"),
    }
}

/// Stores one inbound message: the time until a blocking thread holds a connection is the
/// `queue` stage; the transaction's own stages are timed inside.
async fn ingest(state: &web::Data<AppState>, inbound: Inbound) -> ApiResult<Ingested> {
    let shared = state.clone();
    let asked = std::time::Instant::now();
    state
        .db(move |conn| {
            let stages = &shared.line.text_line.stages;
            stages.observe(Stage::Queue, asked.elapsed());
            shared.line.text_line.ingest(conn, &inbound, shared.clock.now())
        })
        .await
}

pub async fn telegram(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let line = &state.line;
    let secret = line
        .telegram
        .as_ref()
        .and_then(|t| t.webhook_secret.clone())
        .ok_or(ApiError::NotFound)?;
    let presented = req
        .headers()
        .get(telegram::SECRET_HEADER)
        .map(|v| v.as_bytes().to_vec());
    let stages = &line.text_line.stages;
    if !stages.time(Stage::Verify, || telegram::secret_ok(&secret, presented.as_deref())) {
        return Err(unverified(presented.is_some()));
    }
    let body = read_body(&state, payload).await?;
    let update = match stages.time(Stage::Parse, || telegram::parse(&body)) {
        Ok(update) => update,
        Err(e) => {
            tracing::warn!(
                line = e.line(),
                column = e.column(),
                "unreadable telegram update acknowledged"
            );
            return Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true })));
        }
    };
    let Some((inbound, callback)) = telegram::to_inbound(&update) else {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true })));
    };
    line.metrics.inbound(Channel::Telegram);
    let outcome = ingest(&state, inbound).await?;
    log_outcome(Channel::Telegram, &outcome);
    if matches!(outcome, Ingested::Stored { live: true, .. }) {
        state.live.signal().await;
    }
    line.wake.notify_one();
    if let (Some(id), Some(bot)) = (callback, line.telegram_bot.clone()) {
        tokio::spawn(async move { telegram::answer_callback(&bot, id).await });
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true })))
}

fn twiml_ok() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")
}

/// Reads a Twilio webhook's form and checks its signature; nothing is acted on before.
async fn verified_form(state: &AppState, req: &HttpRequest, payload: web::Payload) -> ApiResult<Vec<(String, String)>> {
    let config = state.line.sms.as_ref().ok_or(ApiError::NotFound)?;
    let presented = req
        .headers()
        .get(twilio::SIGNATURE_HEADER)
        .map(|v| v.as_bytes().to_vec());
    if presented.is_none() {
        return Err(unverified(false));
    }
    // The signature covers the form parameters: they must be read, but nothing is kept
    // or acted on before it matches.
    let body = read_body(state, payload).await?;
    let params = twilio::form(&body);
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let verified = state.line.text_line.stages.time(Stage::Verify, || {
        twilio::verify(config, &path, &params, presented.as_deref())
    });
    if !verified {
        return Err(unverified(true));
    }
    Ok(params)
}

pub async fn sms(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let params = verified_form(&state, &req, payload).await?;
    let Some(inbound) = twilio::to_inbound(&params) else {
        tracing::warn!("sms webhook without its fields acknowledged");
        return Ok(twiml_ok());
    };
    state.line.metrics.inbound(Channel::Sms);
    let outcome = ingest(&state, inbound).await?;
    log_outcome(Channel::Sms, &outcome);
    if matches!(outcome, Ingested::Stored { live: true, .. }) {
        state.live.signal().await;
    }
    state.line.wake.notify_one();
    Ok(twiml_ok())
}

pub async fn sms_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let params = verified_form(&state, &req, payload).await?;
    if let Some((sid, delivery)) = twilio::to_status(&params) {
        let report = state
            .db(move |conn| outbox::delivery_report(conn, Channel::Sms, &sid, delivery))
            .await?;
        if report == outbox::Report::Published {
            state.live.signal().await;
        }
        tracing::info!(
            delivery,
            known = report != outbox::Report::Unknown,
            "sms delivery report"
        );
    }
    Ok(HttpResponse::NoContent().finish())
}
