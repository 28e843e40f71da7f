//! Web Push (RFC 8030, RFC 8291, RFC 8292): what the server needs to wake a staff member's
//! device with a notification. Subscriptions and the notifications owed are in
//! `relais_core::push`; the worker that sends them is `workers::push`.
//!
//! What a push service (Google's, Mozilla's, Apple's, Microsoft's) learns from us: that a
//! device got a notification, when, and nothing else. The words are encrypted for the
//! device alone and padded to one length; every notification has the same `Topic`,
//! `Urgency` and `TTL`, so the headers do not tell a waiting conversation from a referral.
//! The words themselves name no one ([`relais_core::push::Topic::words`]).
//!
//! A subscription's endpoint is a URL the device's browser chose: it must be `https` (or
//! `http` where partners' webhooks may be), on one of the configured push services
//! (`RELAIS_PUSH_SERVICES`), and it goes through the guarded client (`crate::outbound`), so
//! that it cannot point the server at a private address.

pub mod encrypt;
pub mod vapid;

use std::time::Duration;

use relais_core::push::{Delivery, Endpoint, Topic};

use crate::outbound::{Outbound, OutboundError, Policy};

/// How long a push service has to answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a push service keeps a notification for a device that is off (RFC 8030 §5.2).
/// One value for every topic, so that it says nothing of the topic.
const TTL_SECONDS: u32 = 3600;
/// The one `Topic` (RFC 8030 §5.4): a newer notification replaces one still undelivered.
const TOPIC: &str = "relais";

/// Why an endpoint is refused, said to the staff member's app.
pub fn check_endpoint(
    url: &str,
    services: &[String],
    allow_http: bool,
    policy: &Policy,
) -> Result<reqwest::Url, &'static str> {
    if url.len() > 2000 {
        return Err("a push endpoint of at most 2000 characters");
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| "an absolute URL")?;
    match parsed.scheme() {
        // The push services answer on 443 only.
        "https" if parsed.port().is_none() || allow_http => {}
        "https" => return Err("an https:// URL on the default port"),
        "http" if allow_http => {}
        _ => return Err("an https:// URL"),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() || parsed.fragment().is_some() {
        return Err("a push endpoint with no credentials and no fragment");
    }
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    let known = services
        .iter()
        .any(|s| host == *s || host.strip_suffix(s.as_str()).is_some_and(|rest| rest.ends_with('.')));
    if !known {
        return Err("an endpoint of a known push service (RELAIS_PUSH_SERVICES)");
    }
    if !policy.permits_host(&parsed) {
        return Err("a push service on the internet, not a loopback or private address");
    }
    Ok(parsed)
}

/// The notification as the app's service worker reads it.
pub fn payload(topic: Topic) -> Vec<u8> {
    let (fr, en) = topic.words();
    serde_json::json!({
        "title": "Relais",
        "body": fr,
        "body_en": en,
        "topic": topic.as_str(),
        "url": topic.path(),
    })
    .to_string()
    .into_bytes()
}

/// Sends notifications to push services.
pub struct Pusher {
    client: Outbound,
    vapid: vapid::Vapid,
    services: Vec<String>,
    allow_http: bool,
}

impl Pusher {
    pub fn new(vapid: vapid::Vapid, services: Vec<String>, allow_http: bool, policy: Policy) -> reqwest::Result<Self> {
        Ok(Self {
            client: Outbound::new(
                policy,
                ATTEMPT_TIMEOUT,
                concat!("Relais-Push/", env!("CARGO_PKG_VERSION")),
            )?,
            vapid,
            services,
            allow_http,
        })
    }

    /// The public key the app gives the browser (`applicationServerKey`), base64url.
    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// Checks a device's endpoint as it subscribes.
    pub fn accepts(&self, url: &str) -> Result<reqwest::Url, &'static str> {
        check_endpoint(url, &self.services, self.allow_http, self.client.policy())
    }

    /// One notification to one device, and what became of it. The endpoint is checked again
    /// (the services allowed may have changed since it subscribed).
    pub async fn send(&self, endpoint: &Endpoint, topic: Topic, now: chrono::DateTime<chrono::Utc>) -> Delivery {
        let failed = |why: &str| Delivery::Failed(relais_core::outbox::Outcome::Dead(why.to_owned()));
        let Ok(url) = check_endpoint(&endpoint.url, &self.services, self.allow_http, self.client.policy()) else {
            return Delivery::Gone;
        };
        let Ok(body) = encrypt::encrypt(&endpoint.p256dh, &endpoint.auth, &payload(topic)) else {
            return Delivery::Gone;
        };
        let request = self
            .client
            .post(url.as_str())
            .header("authorization", self.vapid.authorization(&url))
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("ttl", TTL_SECONDS.to_string())
            .header("urgency", "high")
            .header("topic", TOPIC)
            .body(body);
        match self.client.send(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                match status {
                    200..=299 => Delivery::Accepted,
                    // 404 and 410: the device unsubscribed or the subscription expired.
                    404 | 410 => Delivery::Gone,
                    429 => {
                        let wait = response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<i64>().ok())
                            .unwrap_or(60)
                            .clamp(1, 3600);
                        Delivery::Failed(relais_core::outbox::Outcome::Defer {
                            at: now + chrono::Duration::seconds(wait),
                            error: "429".into(),
                        })
                    }
                    500..=599 => Delivery::Failed(relais_core::outbox::Outcome::Retry {
                        at: now,
                        error: status.to_string(),
                    }),
                    // 400, 401, 403, 413: the push service refuses what we send (403: a token
                    // it does not accept, such as a subscription made under another VAPID key,
                    // or a contact address it refuses); trying again would not change it. The
                    // device is kept: the app subscribes again under the server's key when it
                    // next opens, and an operator sees the failures.
                    _ => failed(&status.to_string()),
                }
            }
            // Refused covers a failed name lookup as well as a private address: retried, never
            // taken for a device that is gone (a resolver's hiccup must not remove devices).
            Err(OutboundError::Refused) => Delivery::Failed(relais_core::outbox::Outcome::Retry {
                at: now,
                error: "refused".into(),
            }),
            Err(_) => Delivery::Failed(relais_core::outbox::Outcome::Retry {
                at: now,
                error: "failed".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_push_services_over_https_are_accepted() {
        let services = vec!["fcm.googleapis.com".to_owned(), "push.apple.com".to_owned()];
        let policy = Policy { allow: vec![] };
        let ok = |u: &str| check_endpoint(u, &services, false, &policy).is_ok();
        assert!(ok("https://fcm.googleapis.com/fcm/send/abc"));
        assert!(ok("https://web.push.apple.com/QGx"));
        assert!(!ok("https://fcm.googleapis.com:8443/fcm/send/abc"), "another port");
        assert!(
            !ok("https://evilpush.apple.com.example.org/x"),
            "a suffix is not a subdomain"
        );
        assert!(
            !ok("https://xpush.apple.com/x"),
            "a name that merely ends like a service"
        );
        assert!(
            !ok("http://fcm.googleapis.com/fcm/send/abc"),
            "http where it is not allowed"
        );
        assert!(!ok("https://user:pw@fcm.googleapis.com/x"));
        assert!(!ok("https://127.0.0.1/x"));
        assert!(!ok("not a url"));
    }

    #[test]
    fn every_payload_fits_the_padding() {
        for topic in Topic::ALL {
            let p = payload(topic);
            assert!(p.len() < encrypt::PADDED, "{}", String::from_utf8_lossy(&p));
        }
    }
}
