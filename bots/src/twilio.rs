//! SMS through a Twilio-compatible provider. Webhooks are verified with
//! `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the auth token, over the public URL
//! of the webhook followed by every form parameter (name then value) sorted by name. Only
//! `MessageSid`, `From` and `Body` are read; `FromCity`, `FromZip` and the like are dropped.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use relais_core::crypto::constant_time_eq;
use relais_core::helpline::model::Channel;
use sha1::Sha1;

use crate::channel::{Provider, SendError, Sending};
use crate::dialogue::Input;
use crate::ingest::Inbound;

pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

#[derive(Clone, Debug)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: String,
    pub api_url: String,
    pub from: String,
    /// `RELAIS_PUBLIC_URL`: the base URL the provider calls (signatures cover it).
    pub public_url: String,
}

pub fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether a webhook's signature is genuine for `path` (path and query as received).
pub fn verify(
    config: &TwilioConfig,
    path_and_query: &str,
    params: &[(String, String)],
    presented: Option<&[u8]>,
) -> bool {
    let url = format!("{}{}", config.public_url.trim_end_matches('/'), path_and_query);
    let expected = signature(&config.auth_token, &url, params);
    presented.is_some_and(|p| !expected.is_empty() && constant_time_eq(p, expected.as_bytes()))
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The inbound message of an incoming-SMS webhook, or `None` if it lacks its fields.
pub fn to_inbound(params: &[(String, String)]) -> Option<Inbound> {
    let sid = field(params, "MessageSid").or_else(|| field(params, "SmsSid"))?;
    let from = field(params, "From")?;
    if from.trim().is_empty() || sid.trim().is_empty() {
        return None;
    }
    let body = field(params, "Body").unwrap_or_default();
    Some(Inbound {
        channel: Channel::Sms,
        address: from.trim().to_owned(),
        provider_id: sid.to_owned(),
        input: Input::Text(body.to_owned()),
    })
}

/// (MessageSid, our delivery word) of a status callback.
pub fn to_status(params: &[(String, String)]) -> Option<(String, &'static str)> {
    let sid = field(params, "MessageSid")?;
    let delivery = match field(params, "MessageStatus")? {
        "delivered" => "delivered",
        "undelivered" | "failed" => "failed",
        "sent" => "sent",
        "read" => "read",
        _ => return None,
    };
    Some((sid.to_owned(), delivery))
}

#[derive(serde::Deserialize)]
struct Created {
    sid: Option<String>,
}

#[derive(serde::Deserialize)]
struct ProviderError {
    code: Option<i64>,
}

/// SMS as a channel provider.
pub struct SmsSender {
    pub http: reqwest::Client,
    pub config: TwilioConfig,
}

impl Provider for SmsSender {
    fn send<'a>(&'a self, destination: &'a str, payload: &'a relais_core::helpline::outbox::Payload) -> Sending<'a> {
        Box::pin(send(&self.http, &self.config, destination, &payload.text))
    }
}

/// Sends one SMS through the provider's REST API; returns its message sid.
pub async fn send(
    http: &reqwest::Client,
    config: &TwilioConfig,
    to: &str,
    text: &str,
) -> Result<Option<String>, SendError> {
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        config.api_url.trim_end_matches('/'),
        config.account_sid
    );
    let callback = format!("{}/webhooks/sms/twilio/status", config.public_url.trim_end_matches('/'));
    let response = http
        .post(url)
        .basic_auth(&config.account_sid, Some(&config.auth_token))
        .form(&[
            ("To", to),
            ("From", config.from.as_str()),
            ("Body", text),
            ("StatusCallback", callback.as_str()),
        ])
        .send()
        .await
        .map_err(|e| SendError::Transient(format!("sms provider unreachable: {}", e.without_url())))?;
    let status = response.status();
    if status.as_u16() == 429 {
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        return Err(SendError::RetryAfter(Duration::from_secs(wait)));
    }
    if status.is_server_error() {
        return Err(SendError::Transient(format!("sms provider answered {status}")));
    }
    if status.is_client_error() {
        let code = response.json::<ProviderError>().await.ok().and_then(|e| e.code);
        // 21610: the recipient replied STOP to the number; 21614: not a mobile number.
        return Err(match code {
            Some(21610) | Some(21614) => SendError::Gone,
            _ => SendError::Permanent(format!("sms provider refused: {status} {}", code.unwrap_or_default())),
        });
    }
    let created = response.json::<Created>().await.ok();
    Ok(created.and_then(|c| c.sid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_twilios_documented_example() {
        // From Twilio's request-validation documentation (twilio-php's validation guide).
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let sig = signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params);
        assert_eq!(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    #[test]
    fn locating_extras_are_never_read() {
        let params = form(b"MessageSid=SM1&From=%2B33600000000&Body=Bonjour&FromCity=PARIS&FromZip=75011");
        let inbound = to_inbound(&params).expect("valid");
        assert_eq!(inbound.address, "+33600000000");
        assert_eq!(inbound.input, Input::Text("Bonjour".into()));
    }
}
