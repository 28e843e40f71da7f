//! The text line in tests: an app wired to the fake providers, and the person's side of a
//! conversation (`app.telegram_says(chat, "Bonjour")`, `app.sms_says(number, "1")`).

use std::sync::atomic::{AtomicI64, Ordering};

use base64::Engine as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::{Value, json};

use crate::fakes::{Call, Fake};
use crate::wait::{BOUND, TimedOut};
use crate::{Reply, TestApp};

pub const TELEGRAM_SECRET: &str = "telegram-webhook-secret-for-tests";
pub const TWILIO_TOKEN: &str = "twilio-auth-token-for-tests";
pub const PUBLIC_URL: &str = "https://relais.example.org";

static NEXT_UPDATE: AtomicI64 = AtomicI64::new(1000);

/// Starts the app with Telegram (webhook mode) and SMS pointed at fresh fakes, listeners
/// always on duty unless `extra` says otherwise.
pub async fn spawn_line_app(extra: &[(&str, &str)]) -> TestApp {
    let admin = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty());
    spawn_line_app_on(admin.as_deref(), extra).await
}

/// As [`spawn_line_app`], on a fresh database of the PostgreSQL server at `admin`.
pub async fn spawn_line_app_on(admin: Option<&str>, extra: &[(&str, &str)]) -> TestApp {
    let telegram = Fake::telegram();
    let sms = Fake::twilio();
    let mut settings: Vec<(&str, &str)> = vec![
        ("RELAIS_TELEGRAM_TOKEN", "123456:TEST-TOKEN"),
        ("RELAIS_TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET),
        ("RELAIS_TWILIO_ACCOUNT_SID", "ACtest"),
        ("RELAIS_TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
        ("RELAIS_TWILIO_FROM", "+33100000000"),
        ("RELAIS_PUBLIC_URL", PUBLIC_URL),
        ("RELAIS_SMS_PER_SECOND", "50"),
        ("RELAIS_HELPLINE_HOURS", "mon-sun 00:00-24:00"),
    ];
    let telegram_url = telegram.url.clone();
    let sms_url = sms.url.clone();
    settings.push(("RELAIS_TELEGRAM_API_URL", &telegram_url));
    settings.push(("RELAIS_TWILIO_API_URL", &sms_url));
    settings.extend_from_slice(extra);
    let mut app = crate::spawn_app_on(admin, &settings).await;
    app.telegram = Some(telegram);
    app.sms = Some(sms);
    app
}

pub fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TWILIO_TOKEN.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub fn form_body(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

impl TestApp {
    pub fn telegram_fake(&self) -> &Fake {
        self.telegram.as_ref().expect("a line app")
    }
    pub fn sms_fake(&self) -> &Fake {
        self.sms.as_ref().expect("a line app")
    }

    pub fn telegram_update(chat: i64, text: &str) -> Value {
        let id = NEXT_UPDATE.fetch_add(1, Ordering::Relaxed);
        json!({
            "update_id": id,
            "message": {
                "message_id": id,
                "date": chrono::Utc::now().timestamp(),
                "chat": { "id": chat, "type": "private", "first_name": "Jean", "last_name": "Dupont", "username": "jean_dupont_75" },
                "from": { "id": chat, "is_bot": false, "first_name": "Jean", "last_name": "Dupont", "username": "jean_dupont_75" },
                "text": text
            }
        })
    }

    pub fn telegram_button(chat: i64, data: &str) -> Value {
        let id = NEXT_UPDATE.fetch_add(1, Ordering::Relaxed);
        json!({
            "update_id": id,
            "callback_query": {
                "id": format!("cb{id}"),
                "from": { "id": chat, "is_bot": false, "first_name": "Jean", "username": "jean_dupont_75" },
                "chat_instance": "instance",
                "data": data,
                "message": {
                    "message_id": 1, "date": chrono::Utc::now().timestamp(),
                    "chat": { "id": chat, "type": "private", "first_name": "Jean" },
                    "from": { "id": 42, "is_bot": true, "first_name": "Relais" },
                    "text": "question"
                }
            }
        })
    }

    /// Posts a raw update to the webhook with the right secret.
    pub async fn telegram_post(&self, update: &Value) -> Reply {
        self.post("/webhooks/telegram")
            .header("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET)
            .json(update)
            .send()
            .await
    }

    pub async fn telegram_says(&self, chat: i64, text: &str) -> Reply {
        let reply = self.telegram_post(&Self::telegram_update(chat, text)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply
    }

    pub async fn telegram_presses(&self, chat: i64, data: &str) -> Reply {
        let reply = self.telegram_post(&Self::telegram_button(chat, data)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply
    }

    /// Every message sent to a Telegram chat so far, without waiting.
    pub fn telegram_sent(&self, chat: i64) -> Vec<Call> {
        self.telegram_fake()
            .recorder
            .calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" && c.body["chat_id"].as_i64() == Some(chat))
            .collect()
    }

    /// Every SMS sent to a number so far, without waiting.
    pub fn sms_sent(&self, to: &str) -> Vec<Call> {
        self.sms_fake()
            .recorder
            .calls()
            .into_iter()
            .filter(|c| c.body["To"].as_str() == Some(to))
            .collect()
    }

    /// Waits for at least `count` messages sent to a Telegram chat; Ok with them all, Err at
    /// the bound with every call the fake received.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn telegram_received(&self, chat: i64, count: usize) -> Result<Vec<Call>, TimedOut<Call>> {
        self.telegram_fake()
            .recorder
            .wait_for(count, BOUND, |c| {
                c.method == "sendMessage" && c.body["chat_id"].as_i64() == Some(chat)
            })
            .await
    }

    pub async fn sms_post(&self, params: &[(&str, &str)], signature: Option<&str>) -> Reply {
        let mut call = self
            .post("/webhooks/sms/twilio")
            .raw("application/x-www-form-urlencoded", form_body(params));
        if let Some(sig) = signature {
            call = call.header("X-Twilio-Signature", sig);
        }
        call.send().await
    }

    pub async fn sms_says(&self, from: &str, body: &str) -> Reply {
        let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
        let params = [
            ("MessageSid", sid.as_str()),
            ("From", from),
            ("To", "+33100000000"),
            ("Body", body),
            ("FromCity", "PARIS"),
            ("FromZip", "75011"),
        ];
        let sig = twilio_signature(&format!("{PUBLIC_URL}/webhooks/sms/twilio"), &params);
        let reply = self.sms_post(&params, Some(&sig)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply
    }

    /// Waits for at least `count` SMS sent to a number; Ok with them all, Err at the bound.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn sms_received(&self, to: &str, count: usize) -> Result<Vec<Call>, TimedOut<Call>> {
        self.sms_fake()
            .recorder
            .wait_for(count, BOUND, |c| c.body["To"].as_str() == Some(to))
            .await
    }
}

/// A second instance on the same database and the same fake providers as `a`.
pub async fn spawn_line_instance_sharing(a: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    let telegram_url = a.telegram_fake().url.clone();
    let sms_url = a.sms_fake().url.clone();
    let mut settings: Vec<(&str, &str)> = vec![
        ("RELAIS_TELEGRAM_TOKEN", "123456:TEST-TOKEN"),
        ("RELAIS_TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET),
        ("RELAIS_TWILIO_ACCOUNT_SID", "ACtest"),
        ("RELAIS_TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
        ("RELAIS_TWILIO_FROM", "+33100000000"),
        ("RELAIS_PUBLIC_URL", PUBLIC_URL),
        ("RELAIS_HELPLINE_HOURS", "mon-sun 00:00-24:00"),
        ("RELAIS_TELEGRAM_API_URL", &telegram_url),
        ("RELAIS_TWILIO_API_URL", &sms_url),
    ];
    settings.extend_from_slice(extra);
    crate::spawn_instance_sharing(a, &settings).await
}

impl TestApp {
    /// Waits until a message containing `needle` reached a Telegram chat; Ok with every such
    /// message, Err at the bound with every call the fake received.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn telegram_wait_text(&self, chat: i64, needle: &str) -> Result<Vec<Call>, TimedOut<Call>> {
        self.telegram_fake()
            .recorder
            .wait_for(1, BOUND, |c| {
                c.method == "sendMessage"
                    && c.body["chat_id"].as_i64() == Some(chat)
                    && c.body["text"].as_str().is_some_and(|t| t.contains(needle))
            })
            .await
    }
}

impl TestApp {
    /// Waits for an SMS to a number holding `needle`; Ok with the matches, Err at the bound.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn sms_wait_text(&self, to: &str, needle: &str) -> Result<Vec<Call>, TimedOut<Call>> {
        self.sms_fake()
            .recorder
            .wait_for(1, BOUND, |c| {
                c.body["To"].as_str() == Some(to) && c.body["Body"].as_str().is_some_and(|t| t.contains(needle))
            })
            .await
    }

    /// Waits until the line's outbox is drained (nothing pending or being sent).
    pub async fn outbox_drained(&self) {
        crate::wait::until(
            "the line's outbox to drain",
            || {
                let state = self.state.clone();
                async move {
                    tokio::task::spawn_blocking(move || {
                        let mut conn = state.database.get().expect("connection");
                        let now = state.clock.now();
                        relais_core::helpline::outbox::depth(&mut conn, now)
                            .expect("outbox depth")
                            .0
                    })
                    .await
                    .expect("depth task")
                }
            },
            |pending| *pending == 0,
        )
        .await;
    }

    /// The positive signal that no queue place is still on its way: the background round, run
    /// once more here, finds nobody to tell, and the outbox is drained.
    pub async fn queue_places_settled(&self) {
        let state = self.state.clone();
        let told = tokio::task::spawn_blocking(move || {
            let mut conn = state.database.get().expect("connection");
            let now = state.clock.now();
            state
                .line
                .text_line
                .tell_queue_places(&mut conn, now)
                .expect("a queue-place round")
        })
        .await
        .expect("round task");
        assert_eq!(told, 0, "a further queue-place round found someone to tell");
        self.outbox_drained().await;
    }

    /// The positive signal that no reminder is still on its way: the background round, run
    /// once more here at the server's time, finds nothing due, and the outbox is drained.
    pub async fn reminders_settled(&self) {
        let state = self.state.clone();
        let sent = tokio::task::spawn_blocking(move || {
            let mut conn = state.database.get().expect("connection");
            let now = state.clock.now();
            state
                .line
                .text_line
                .send_reminders(&mut conn, now)
                .expect("a reminder round")
        })
        .await
        .expect("round task");
        assert_eq!(sent, 0, "a further reminder round found a reminder due");
        self.outbox_drained().await;
    }
}
