//! Telegram, through teloxide: webhook updates (secret header checked first, in constant
//! time), long polling for a machine without a public URL, `setWebhook`, and sending with
//! inline keyboards. Only the chat id and the text or button pressed are kept from an
//! update; names, usernames and everything else are dropped at the door.

use std::time::Duration;

use relais_core::crypto::constant_time_eq;
use relais_core::helpline::model::Channel;
use relais_core::helpline::outbox::Payload;
use teloxide::payloads::{GetUpdatesSetters as _, SetWebhookSetters as _};
use teloxide::prelude::Requester as _;
use teloxide::types::{AllowedUpdate, Update, UpdateKind};
use teloxide::{ApiError, Bot, RequestError};

use crate::channel::{Provider, SendError, Sending, Showing};
use crate::dialogue::Input;
use crate::ingest::Inbound;

pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

#[derive(Clone, Debug)]
pub struct TelegramConfig {
    pub token: String,
    pub api_url: String,
    /// Set for webhook mode; unset means long polling (when a token is set).
    pub webhook_secret: Option<String>,
}

pub fn bot(config: &TelegramConfig) -> Result<Bot, String> {
    let url = reqwest::Url::parse(&config.api_url).map_err(|e| format!("telegram API URL: {e}"))?;
    Ok(Bot::new(config.token.clone()).set_api_url(url))
}

/// Whether the presented secret header is the configured one (constant time).
pub fn secret_ok(expected: &str, presented: Option<&[u8]>) -> bool {
    presented.is_some_and(|p| constant_time_eq(p, expected.as_bytes()))
}

/// What an update means for the line. `None`: nothing for us (edits, channel posts, …).
pub fn to_inbound(update: &Update) -> Option<(Inbound, Option<String>)> {
    let provider_id = format!("u{}", update.id.0);
    match &update.kind {
        UpdateKind::Message(message) => {
            if !message.chat.is_private() {
                return None;
            }
            // A photo, a sticker, a voice note: no text, so the bot answers with help.
            let text = message.text().unwrap_or_default().to_owned();
            Some((
                Inbound {
                    channel: Channel::Telegram,
                    address: message.chat.id.0.to_string(),
                    provider_id,
                    input: Input::Text(text),
                },
                None,
            ))
        }
        UpdateKind::CallbackQuery(query) => {
            let chat = query
                .message
                .as_ref()
                .map(|m| m.chat().id.0)
                .unwrap_or(query.from.id.0 as i64);
            let data = query.data.clone().unwrap_or_default();
            Some((
                Inbound {
                    channel: Channel::Telegram,
                    address: chat.to_string(),
                    provider_id,
                    input: Input::Choice(data),
                },
                Some(query.id.0.clone()),
            ))
        }
        _ => None,
    }
}

/// Parses a webhook body. An update that cannot be parsed is an error the caller logs
/// (without content) and acknowledges.
pub fn parse(body: &[u8]) -> Result<Update, serde_json::Error> {
    serde_json::from_slice(body)
}

fn classify(error: RequestError) -> SendError {
    match error {
        RequestError::RetryAfter(seconds) => SendError::RetryAfter(Duration::from_secs(u64::from(seconds.seconds()))),
        RequestError::Api(ApiError::BotBlocked | ApiError::UserDeactivated | ApiError::ChatNotFound) => SendError::Gone,
        RequestError::Api(other) => SendError::Permanent(format!("telegram: {other}")),
        // The error's text would carry the URL, which holds the bot token: describe it instead.
        RequestError::Network(e) => SendError::Transient(format!(
            "telegram network error (timeout: {}, connect: {}, status: {:?})",
            e.is_timeout(),
            e.is_connect(),
            e.status()
        )),
        RequestError::MigrateToChatId(_) => SendError::Permanent("telegram: chat migrated".into()),
        RequestError::InvalidJson { .. } => SendError::Transient("telegram: unreadable answer".into()),
        RequestError::Io(e) => SendError::Transient(format!("telegram io: {e}")),
    }
}

/// Sends one message; returns Telegram's message id.
///
/// `sendMessage` is called on the Bot API directly (with teloxide's client, token and URL)
/// rather than through teloxide's request: teloxide sleeps ten seconds on every 5xx before it
/// answers, which stalled every channel's delivery behind one Telegram outage, and it hides
/// the HTTP status, which is what tells a failure worth retrying from a refusal.
pub async fn send(bot: &Bot, chat: &str, payload: &Payload) -> Result<Option<String>, SendError> {
    let chat: i64 = chat
        .parse()
        .map_err(|_| SendError::Permanent("telegram: bad chat id".into()))?;
    let mut body = serde_json::json!({ "chat_id": chat, "text": payload.text });
    if !payload.choices.is_empty() {
        let rows: Vec<serde_json::Value> = payload
            .choices
            .iter()
            .map(|c| serde_json::json!([{ "text": c.label, "callback_data": c.key }]))
            .collect();
        body["reply_markup"] = serde_json::json!({ "inline_keyboard": rows });
    }
    let (status, text) = call(bot, "sendMessage", &body, Duration::from_secs(30)).await?;
    answer(status, &text)
}

/// One Bot API method called directly: its HTTP status and body.
async fn call(
    bot: &Bot,
    method: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<(u16, String), SendError> {
    let mut url = bot.api_url();
    url.path_segments_mut()
        .map_err(|()| SendError::Permanent("telegram: the API URL cannot take a path".into()))?
        .push(&format!("bot{}", bot.token()))
        .push(method);
    let response = bot
        .client()
        .post(url)
        .json(body)
        .timeout(timeout)
        .send()
        .await
        // The error's text would carry the URL, which holds the bot token: describe it instead.
        .map_err(|e| {
            SendError::Transient(format!(
                "telegram unreachable (timeout: {}, connect: {})",
                e.is_timeout(),
                e.is_connect()
            ))
        })?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.unwrap_or_default()))
}

/// What Telegram's answer to `sendMessage` means, from its HTTP status and body.
fn answer(status: u16, text: &str) -> Result<Option<String>, SendError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        ok: bool,
        #[serde(default)]
        result: Option<serde_json::Value>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        parameters: Option<Parameters>,
    }
    #[derive(serde::Deserialize)]
    struct Parameters {
        #[serde(default)]
        retry_after: Option<u64>,
    }
    let parsed: Option<Answer> = serde_json::from_str(text).ok();
    if (200..300).contains(&status) {
        return match parsed {
            Some(Answer { ok: true, result, .. }) => Ok(result
                .and_then(|r| r.get("message_id").and_then(serde_json::Value::as_i64))
                .map(|id| id.to_string())),
            // Telegram answered 2xx, but not in a shape we can read: it most likely sent the
            // message. Sending again could send it twice; count it as sent.
            _ => {
                tracing::warn!("telegram accepted a message with an unreadable answer; counted as sent");
                Ok(None)
            }
        };
    }
    let description = parsed.as_ref().and_then(|a| a.description.clone()).unwrap_or_default();
    let lowered = description.to_lowercase();
    match status {
        429 => {
            let wait = parsed
                .and_then(|a| a.parameters)
                .and_then(|p| p.retry_after)
                .unwrap_or(1);
            Err(SendError::RetryAfter(Duration::from_secs(wait)))
        }
        // Telegram, or a proxy in front of it, failing: try again later.
        500..=599 => Err(SendError::Transient(format!("telegram answered {status}"))),
        403 if lowered.contains("blocked") || lowered.contains("deactivated") || lowered.contains("kicked") => {
            Err(SendError::Gone)
        }
        400 if lowered.contains("chat not found") => Err(SendError::Gone),
        400 if lowered.contains("migrate") => Err(SendError::Permanent("telegram: chat migrated".into())),
        // Anything else that says it failed is a refusal of this message: retrying sends the
        // same refused request.
        _ if parsed.is_some() => Err(SendError::Permanent(format!("telegram {status}: {description}"))),
        // Not Telegram's answer at all (an error page): try again later.
        _ => Err(SendError::Transient(format!(
            "telegram answered {status} without an answer"
        ))),
    }
}

/// Shows "typing…" in the person's chat for a few seconds. Best effort, and quick: called
/// directly, as `send` is (teloxide would sleep ten seconds on a Telegram 5xx while the
/// listener's request waits).
pub async fn typing(bot: &Bot, chat: &str) -> Result<(), SendError> {
    let chat: i64 = chat
        .parse()
        .map_err(|_| SendError::Permanent("telegram: bad chat id".into()))?;
    let body = serde_json::json!({ "chat_id": chat, "action": "typing" });
    let (status, text) = call(bot, "sendChatAction", &body, Duration::from_secs(5)).await?;
    answer(status, &text).map(|_| ())
}

/// Telegram as a channel provider.
pub struct TelegramSender(pub Bot);

impl Provider for TelegramSender {
    fn send<'a>(&'a self, destination: &'a str, payload: &'a Payload) -> Sending<'a> {
        Box::pin(send(&self.0, destination, payload))
    }

    fn typing<'a>(&'a self, destination: &'a str) -> Showing<'a> {
        Box::pin(async move { typing(&self.0, destination).await.is_ok() })
    }
}

/// Stops the spinner on a pressed button. Best effort: nothing depends on it. Posted to the Bot
/// API directly, like `sendMessage`, so an outage costs one five-second try, not teloxide's
/// ten-second sleep and retry.
pub async fn answer_callback(bot: &Bot, id: String) {
    let body = serde_json::json!({ "callback_query_id": id });
    let _ = call(bot, "answerCallbackQuery", &body, Duration::from_secs(5)).await;
}

/// Registers the webhook with its secret and the updates the line needs.
pub async fn set_webhook(bot: &Bot, url: &str, secret: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(url).map_err(|e| format!("webhook URL: {e}"))?;
    bot.set_webhook(url)
        .secret_token(secret.to_owned())
        .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
        .drop_pending_updates(false)
        .await
        .map(|_| ())
        .map_err(|e| format!("setWebhook failed: {e}"))
}

/// Long polling: fetches updates and hands each to `handle`, which must store it before
/// it returns; the offset only moves past updates that were handled.
pub async fn poll<F, Fut>(bot: Bot, mut handle: F)
where
    F: FnMut(Update) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut offset: i32 = 0;
    loop {
        let request = bot
            .get_updates()
            .offset(offset)
            .timeout(25)
            .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        match request.await {
            Ok(updates) => {
                for update in updates {
                    let next = update.id.0 as i32 + 1;
                    if handle(update).await {
                        offset = next;
                    } else {
                        break;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %classify(e), "telegram polling failed; retrying");
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        }
    }
}

#[cfg(test)]
mod answer_tests {
    use super::answer;
    use crate::channel::SendError;

    #[test]
    fn telegrams_answers_mean_sent_retry_wait_gone_or_refused() {
        assert_eq!(
            answer(200, r#"{"ok":true,"result":{"message_id":42}}"#).unwrap(),
            Some("42".to_owned())
        );
        assert_eq!(answer(200, "<html>").unwrap(), None, "2xx unreadable: counted as sent");
        for (status, body) in [
            (502, r#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#),
            (
                500,
                r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#,
            ),
            (502, "<html><body>502 Bad Gateway</body></html>"),
            (504, ""),
            (404, "<html>not found</html>"),
        ] {
            assert!(
                matches!(answer(status, body), Err(SendError::Transient(_))),
                "{status} {body}"
            );
        }
        assert!(matches!(
            answer(429, r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#),
            Err(SendError::RetryAfter(d)) if d.as_secs() == 7
        ));
        assert!(matches!(
            answer(
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#
            ),
            Err(SendError::Gone)
        ));
        assert!(matches!(
            answer(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#
            ),
            Err(SendError::Gone)
        ));
        assert!(matches!(
            answer(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}"#
            ),
            Err(SendError::Permanent(_))
        ));
    }
}
