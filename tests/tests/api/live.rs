//! Live events at `/v1/live`: authenticated by the first frame, replayed from a cursor on
//! reconnect without loss or repetition, and carried across instances by Redis.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use relais_tests::TestApp;
use relais_tests::line::{spawn_line_app, spawn_line_instance_sharing};
use relais_tests::webchat::WebChat;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(app: &TestApp, token: &str, after: Option<i64>) -> Socket {
    let url = format!("{}/v1/live", app.address.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("websocket");
    let mut hello = json!({ "token": token });
    if let Some(after) = after {
        hello["after"] = json!(after);
    }
    socket.send(Message::Text(hello.to_string().into())).await.unwrap();
    socket
}

/// The next JSON frame, or None at close or after the timeout.
pub(crate) async fn next(socket: &mut Socket, timeout: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(timeout, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Some(json!({ "type": "closed", "code": frame.map(|f| u16::from(f.code)) }));
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Events until `count` of them arrived (after "ready"), or the timeout.
async fn events(socket: &mut Socket, count: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < count {
        match next(socket, Duration::from_secs(10)).await {
            Some(frame) if frame["type"] == "event" => out.push(frame),
            Some(frame) if frame["type"] == "ready" => {}
            _ => break,
        }
    }
    out
}

/// A listener's presence heartbeat on `app`; asserts 200.
pub(crate) async fn set_presence(app: &TestApp, token: &str, status: &str) {
    let set = app
        .post("/v1/presence")
        .bearer(token)
        .json(&json!({ "status": status }))
        .send()
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
}

pub(crate) async fn ready(socket: &mut Socket) -> Value {
    loop {
        let frame = next(socket, Duration::from_secs(10)).await.expect("a frame");
        if frame["type"] == "ready" {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_listener_hears_of_the_queue_and_new_messages_and_catches_up_after_a_reconnect() {
    let app = spawn_line_app(&[]).await;
    let token = app.token("listener").await;
    let mut socket = connect(&app, &token, None).await;
    let start = ready(&mut socket).await["seq"].as_i64().unwrap();

    // Danger words: queued at once and flagged, so queue.changed, conversation.flagged, message.new.
    app.telegram_says(30001, "j'ai une arme").await;
    let got = events(&mut socket, 3).await;
    let mut kinds: Vec<&str> = got.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["conversation.flagged", "message.new", "queue.changed"],
        "{got:?}"
    );
    let flagged = got.iter().find(|e| e["kind"] == "conversation.flagged").unwrap();
    assert_eq!(flagged["detail"], "danger", "the flag says why, never the words");
    let new = got.iter().find(|e| e["kind"] == "message.new").unwrap();
    let conversation = new["conversation_id"].as_str().unwrap().to_owned();
    assert!(
        got.iter().all(|e| e.get("text").is_none()),
        "events carry ids, never content"
    );
    let last = got.iter().map(|e| e["seq"].as_i64().unwrap()).max().unwrap();
    assert!(last > start);
    drop(socket);

    // While away: two messages of the person, and the conversation taken.
    app.telegram_says(30001, "vous êtes là ?").await;
    app.telegram_says(30001, "allô").await;
    let taken = app
        .post(&format!("/v1/conversations/{conversation}/take"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(taken.status, 200);

    let mut socket = connect(&app, &token, Some(last)).await;
    let missed = events(&mut socket, 3).await;
    let kinds: Vec<&str> = missed.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["message.new", "message.new", "conversation.assigned"]);
    let seqs: Vec<i64> = missed.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (last + 1..=last + 3).collect::<Vec<_>>(),
        "nothing lost, nothing repeated"
    );
    assert_eq!(ready(&mut socket).await["seq"], last + 3);

    // Live again: the listener's own reply is an event too, and nothing else arrives twice.
    app.post(&format!("/v1/conversations/{conversation}/messages"))
        .bearer(&token)
        .json(&json!({ "text": "Je suis là." }))
        .send()
        .await;
    let more = events(&mut socket, 1).await;
    assert_eq!(more[0]["seq"], last + 4);
    assert!(
        next(&mut socket, Duration::from_millis(500)).await.is_none(),
        "no duplicate"
    );
}

#[tokio::test]
async fn only_staff_with_a_valid_token_may_listen() {
    let app = spawn_line_app(&[]).await;
    // The housing platform's operators hear their platform's events (placements that no
    // longer comply), not the helpline's.
    let housing = app.token("housing").await;
    let mut socket = connect(&app, &housing, None).await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await.unwrap()["type"],
        "ready"
    );
    let mut socket = connect(&app, "not-a-token", None).await;
    assert_eq!(next(&mut socket, Duration::from_secs(5)).await.unwrap()["code"], 4001);
}

/// Why the two-instance tests are ignored by default: they need PostgreSQL and Redis. The
/// PostgreSQL pass (`.ci/run`, and the README) runs them with `--run-ignored all`; run
/// without the services, they fail. Elsewhere they show as skipped, never as a green no-op.
const NEEDS_TWO: &str = "needs TEST_DATABASE_URL and TEST_REDIS_URL (run with --run-ignored all)";

/// Two instances on one PostgreSQL and one Redis; fails when either is not configured.
async fn two_instances() -> (TestApp, TestApp) {
    let (Ok(_), Ok(redis)) = (std::env::var("TEST_DATABASE_URL"), std::env::var("TEST_REDIS_URL")) else {
        panic!("two instances {NEEDS_TWO}");
    };
    two_instances_on(&redis).await
}

/// Two instances of the line on one PostgreSQL database (TEST_DATABASE_URL) and the given Redis.
pub(crate) async fn two_instances_on(redis: &str) -> (TestApp, TestApp) {
    two_instances_with(redis, &[]).await
}

/// As [`two_instances_on`], both with the `extra` settings.
pub(crate) async fn two_instances_with(redis: &str, extra: &[(&str, &str)]) -> (TestApp, TestApp) {
    let mut settings = vec![("RELAIS_REDIS_URL", redis)];
    settings.extend_from_slice(extra);
    let a = spawn_line_app(&settings).await;
    // Instances behind one load balancer share the database, Redis and the secrets.
    use base64::Engine as _;
    let key = |k: &relais_core::crypto::SecretKey| base64::engine::general_purpose::STANDARD.encode(k.expose());
    let secrets = &a.app_state().secrets;
    let (jwt, pepper, field) = (
        key(&secrets.jwt_key),
        key(&secrets.hmac_pepper),
        key(&secrets.field_key),
    );
    let mut settings = vec![
        ("RELAIS_REDIS_URL", redis),
        ("RELAIS_JWT_KEY", jwt.as_str()),
        ("RELAIS_HMAC_PEPPER", pepper.as_str()),
        ("RELAIS_FIELD_KEY", field.as_str()),
    ];
    settings.extend_from_slice(extra);
    let b = spawn_line_instance_sharing(&a, &settings).await;
    (a, b)
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (run with --run-ignored all)"]
async fn two_instances_a_message_on_one_reaches_a_listener_on_another() {
    let (a, b) = two_instances().await;
    let token = b.token("listener").await;
    let mut socket = connect(&b, &token, None).await;
    ready(&mut socket).await;

    a.telegram_says(31001, "j'ai une arme").await;
    let got = events(&mut socket, 2).await;
    assert_eq!(got.len(), 2, "the listener on B heard of A's message: {got:?}");
    let conversation = got[1]["conversation_id"].as_str().unwrap().to_owned();

    // The reply, given on B, reaches the person once, whichever instance delivers it.
    assert_eq!(
        b.post(&format!("/v1/conversations/{conversation}/take"))
            .bearer(&token)
            .send()
            .await
            .status,
        200
    );
    let reply = b
        .post(&format!("/v1/conversations/{conversation}/messages"))
        .bearer(&token)
        .json(&json!({ "text": "Ici Léa." }))
        .send()
        .await;
    assert_eq!(reply.status, 201);
    a.telegram_wait_text(31001, "Ici Léa.").await.expect("waited for");
    a.outbox_drained().await; // one outbox in the shared database: nothing else on its way
    let replies = a
        .telegram_sent(31001)
        .into_iter()
        .filter(|c| c.body["text"] == "Ici Léa.")
        .count();
    assert_eq!(replies, 1, "sent once across two instances");
}

/// Frames until one matches (events, typing, anything), within ten seconds.
pub(crate) async fn until(socket: &mut Socket, matches: impl Fn(&Value) -> bool) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(tokio::time::Instant::now()) {
        match next(socket, left).await {
            Some(frame) if matches(&frame) => return Some(frame),
            Some(frame) if frame["type"] == "closed" => return None,
            Some(_) => {}
            None => return None,
        }
    }
    None
}

#[tokio::test]
async fn typing_shows_at_both_ends_and_the_listener_sees_a_reply_leave() {
    let app = spawn_line_app(&[]).await;
    let token = app.token("listener").await;
    let mut socket = connect(&app, &token, None).await;
    ready(&mut socket).await;
    let mut person = WebChat::open(&app).await;
    person.say("j'ai une arme").await;
    person
        .wait_text("prochaine personne dans la file")
        .await
        .expect("waited for");
    let queued = until(&mut socket, |f| f["kind"] == "message.new")
        .await
        .expect("the message event");
    let conversation = queued["conversation_id"].as_str().unwrap().to_owned();
    let taken = app
        .post(&format!("/v1/conversations/{conversation}/take"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(taken.status, 200);

    // The listener types: the person's page shows it.
    let typing = app
        .post(&format!("/v1/conversations/{conversation}/typing"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(typing.status, 200);
    assert_eq!(typing.json()["shown"], true);
    person.wait_for(|f| f["type"] == "typing").await.expect("waited for");

    // The person types: the listener's app shows it, for that conversation, with no number.
    person.send(json!({ "type": "typing" })).await;
    let frame = until(&mut socket, |f| f["type"] == "typing")
        .await
        .expect("a typing frame");
    assert_eq!(frame["conversation_id"], conversation.as_str());
    assert!(frame.get("seq").is_none(), "ephemeral: not replayed after a reconnect");

    // The reply leaves: message.new, then message.status "sent" for that message.
    let reply = app
        .post(&format!("/v1/conversations/{conversation}/messages"))
        .bearer(&token)
        .json(&json!({ "text": "Je suis là, je vous écoute." }))
        .send()
        .await;
    assert_eq!(reply.status, 201);
    let message = reply.json()["id"].as_str().unwrap().to_owned();
    person.wait_text("je vous écoute").await.expect("waited for");
    let status = until(&mut socket, |f| f["kind"] == "message.status")
        .await
        .expect("a delivery event");
    assert_eq!(status["message_id"], message.as_str());
    assert_eq!(status["detail"], "sent");
    assert_eq!(status["conversation_id"], conversation.as_str());

    // Only listeners type to people; supervisors do not.
    let supervisor = app.token("supervisor").await;
    let refused = app
        .post(&format!("/v1/conversations/{conversation}/typing"))
        .bearer(&supervisor)
        .send()
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (run with --run-ignored all)"]
async fn two_instances_a_web_chat_reply_given_on_one_reaches_the_person_on_another() {
    let (a, b) = two_instances().await;
    let mut person = WebChat::open(&a).await;
    person.say("j'ai une arme").await;
    person
        .wait_text("prochaine personne dans la file")
        .await
        .expect("waited for");

    // Whatever crosses Redis is sealed: a spy on the relay channel never reads the reply.
    let redis = redis::Client::open(std::env::var("TEST_REDIS_URL").unwrap()).unwrap();
    let mut spy = redis.get_async_pubsub().await.unwrap();
    spy.subscribe("relais:webchat").await.unwrap();
    let spied = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let recorder = spied.clone();
    tokio::spawn(async move {
        let mut messages = spy.on_message();
        while let Some(message) = messages.next().await {
            recorder.lock().unwrap().push(message.get_payload_bytes().to_vec());
        }
    });

    let token = b.token("listener").await;
    let taken = b.post("/v1/queue/take-next").bearer(&token).send().await;
    assert_eq!(taken.status, 200);
    let conversation = taken.json()["id"].as_str().unwrap().to_owned();
    let reply = b
        .post(&format!("/v1/conversations/{conversation}/messages"))
        .bearer(&token)
        .json(&json!({ "text": "Ici Léa, sur l'autre instance." }))
        .send()
        .await;
    assert_eq!(reply.status, 201);
    person
        .wait_text("Ici Léa")
        .await
        .expect("the socket on A got B's reply");
    let typing = b
        .post(&format!("/v1/conversations/{conversation}/typing"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(typing.json()["shown"], true);
    let mut frames = Vec::new();
    while let Some(frame) = person.next(Duration::from_millis(1500)).await {
        frames.push(frame);
    }
    assert!(frames.iter().any(|f| f["type"] == "typing"), "{frames:?}");
    assert!(
        !frames
            .iter()
            .any(|f| f["text"].as_str().is_some_and(|t| t.contains("Ici Léa"))),
        "the reply arrived once: {frames:?}"
    );
    let spied = spied.lock().unwrap().clone();
    assert!(spied.len() >= 2, "the reply and the typing crossed Redis");
    for payload in spied {
        let text = String::from_utf8_lossy(&payload);
        assert!(
            !text.contains("Ici L") && !text.contains("typing") && !text.contains(&person.session),
            "sealed on the wire: {text}"
        );
    }
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (run with --run-ignored all)"]
async fn two_instances_presence_is_shared_and_a_change_is_a_live_event_on_the_other() {
    let (a, b) = two_instances().await;
    let supervisor = b.token("supervisor").await;
    let mut socket = connect(&b, &supervisor, None).await;
    ready(&mut socket).await;

    let listener = a.token("listener").await;
    let me = a.get("/v1/me").bearer(&listener).send().await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    set_presence(&a, &listener, "available").await;

    // The supervisor's socket on B hears of the change made on A, naming the listener only.
    let changed = until(&mut socket, |f| f["kind"] == "presence.changed")
        .await
        .expect("presence.changed on the other instance");
    assert_eq!(changed["listener_id"], me.as_str(), "{changed}");
    // And B's list, read from Redis, shows it.
    let list = b.get("/v1/presence").bearer(&supervisor).send().await.json();
    let items = list["items"].as_array().unwrap();
    let mine: Vec<&Value> = items.iter().filter(|p| p["listener_id"] == me.as_str()).collect();
    assert_eq!(mine.len(), 1, "{list}");
    assert_eq!(mine[0]["status"], "available");

    // The same status again is a heartbeat, not a change; a new status is one more event.
    for status in ["available", "busy"] {
        set_presence(&a, &listener, status).await;
    }
    let next_change = until(&mut socket, |f| f["kind"] == "presence.changed")
        .await
        .expect("a second presence.changed");
    assert_eq!(
        next_change["seq"],
        changed["seq"].as_i64().unwrap() + 1,
        "one event per change, none for the heartbeat"
    );
    let list = b.get("/v1/presence").bearer(&supervisor).send().await.json();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["listener_id"] == me.as_str() && p["status"] == "busy"),
        "{list}"
    );
}

/// Waits for the socket to close, returning its code and how long it took.
async fn closed_within(socket: &mut Socket, started: std::time::Instant) -> (Value, Duration) {
    loop {
        let frame = next(socket, Duration::from_secs(5)).await.expect("the socket closes");
        if frame["type"] == "closed" {
            return (frame["code"].clone(), started.elapsed());
        }
    }
}

async fn user_id(app: &TestApp, token: &str) -> String {
    app.get("/v1/me").bearer(token).send().await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn ended_sessions_close_their_sockets_at_once() {
    let app = spawn_line_app(&[]).await;
    // Logout.
    let token = app.token("listener").await;
    let mut socket = connect(&app, &token, None).await;
    ready(&mut socket).await;
    let started = std::time::Instant::now();
    assert_eq!(app.post("/v1/auth/logout").bearer(&token).send().await.status, 204);
    let (code, took) = closed_within(&mut socket, started).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "{took:?}");
    // A role change, then a deactivation, by the supervisor.
    let supervisor = app.token("supervisor").await;
    let token = app.token("listener").await;
    let id = user_id(&app, &token).await;
    let mut socket = connect(&app, &token, None).await;
    ready(&mut socket).await;
    // Someone else's logout closes nothing.
    let other = app.token("listener").await;
    assert_eq!(app.post("/v1/auth/logout").bearer(&other).send().await.status, 204);
    let started = std::time::Instant::now();
    let changed = app
        .patch(&format!("/v1/users/{id}"))
        .bearer(&supervisor)
        .json(&json!({ "roles": ["listener", "helpline_supervisor"] }))
        .send()
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    let (code, took) = closed_within(&mut socket, started).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "{took:?}");
    let token = app.token("listener").await;
    let mut socket = connect(&app, &token, None).await;
    ready(&mut socket).await;
    let started = std::time::Instant::now();
    let off = app
        .patch(&format!("/v1/users/{id}"))
        .bearer(&supervisor)
        .json(&json!({ "active": false }))
        .send()
        .await;
    assert_eq!(off.status, 200);
    let (code, took) = closed_within(&mut socket, started).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (run with --run-ignored all)"]
async fn two_instances_a_logout_on_one_closes_the_socket_on_another() {
    let (a, b) = two_instances().await;
    let token = b.token("listener").await;
    let mut socket = connect(&b, &token, None).await;
    ready(&mut socket).await;
    let started = std::time::Instant::now();
    assert_eq!(a.post("/v1/auth/logout").bearer(&token).send().await.status, 204);
    let (code, took) = closed_within(&mut socket, started).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn a_deactivated_organisation_is_refused_at_once_staff_keys_and_sockets() {
    let app = spawn_line_app(&[]).await;
    let admin = app.token("admin").await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let practitioner = app.token("practitioner").await;
    let mut socket = connect(&app, &practitioner, None).await;
    ready(&mut socket).await;
    // A manager may not deactivate their own organisation; only an administrator may.
    let manager = app.token("manager").await;
    let refused = app
        .patch(&format!("/v1/organisations/{centre}"))
        .bearer(&manager)
        .json(&json!({ "active": false }))
        .send()
        .await;
    assert_eq!(refused.status, 403);
    let started = std::time::Instant::now();
    let off = app
        .patch(&format!("/v1/organisations/{centre}"))
        .bearer(&admin)
        .json(&json!({ "active": false }))
        .send()
        .await;
    assert_eq!(off.status, 200, "{}", off.text());
    assert_eq!(off.json()["active"], false);
    let (code, took) = closed_within(&mut socket, started).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "{took:?}");
    // Its staff are refused: tokens, logins and refreshes.
    assert_eq!(app.get("/v1/me").bearer(&practitioner).send().await.status, 401);
    assert_eq!(app.get("/v1/me").bearer(&manager).send().await.status, 401);
    let account = app.account("practitioner").clone();
    assert_eq!(app.login_reply(&account.email, &account.password).await.status, 401);
    // A partner organisation's API keys too.
    let key = app.partner_key().await;
    let partner = app.organisation_id("SPIP de Paris").await;
    assert_eq!(app.get("/v1/organisations").bearer(&key).send().await.status, 200);
    let off = app
        .patch(&format!("/v1/organisations/{partner}"))
        .bearer(&admin)
        .json(&json!({ "active": false }))
        .send()
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(app.get("/v1/organisations").bearer(&key).send().await.status, 401);
    // Active again: the key and the logins work again. Both changes are audited.
    let on = app
        .patch(&format!("/v1/organisations/{partner}"))
        .bearer(&admin)
        .json(&json!({ "active": true }))
        .send()
        .await;
    assert_eq!(on.status, 200);
    assert_eq!(app.get("/v1/organisations").bearer(&key).send().await.status, 200);
    let stored = app.stored_text();
    assert!(stored.contains("organisation.deactivate"));
    assert!(stored.contains("organisation.reactivate"));
}

/// Two instances send through one SMS account: together they keep the account's pace (the
/// soak saw two instances send 56 Telegram messages a second, where Telegram allows 30 per
/// bot). At 4 a second, n answers take (n - 8) / 4 s at least: a
/// count window of Redis's clock lets at most twice the pace through across a second's edge.
#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (run with --run-ignored all)"]
async fn two_instances_keep_one_providers_pace_between_them() {
    let (Ok(_), Ok(redis)) = (std::env::var("TEST_DATABASE_URL"), std::env::var("TEST_REDIS_URL")) else {
        panic!("two instances {NEEDS_TWO}");
    };
    let (a, b) = two_instances_with(
        &redis,
        &[("RELAIS_SMS_PER_SECOND", "4"), ("RELAIS_SMS_MAX_SEGMENTS", "1")],
    )
    .await;
    // Each message answered; the answers queue on both instances' workers.
    let phones: Vec<String> = (0..12).map(|i| format!("+336780002{i:02}")).collect();
    for (i, phone) in phones.iter().enumerate() {
        let instance = if i % 2 == 0 { &a } else { &b };
        instance.sms_says(phone, "Bonjour").await;
    }
    let started = std::time::Instant::now();
    let sent_at_start = a.sms_fake().recorder.calls().len();
    a.outbox_drained().await;
    let elapsed = started.elapsed().as_secs_f64();
    let sent = a.sms_fake().recorder.calls().len() - sent_at_start;
    assert!(sent >= 12, "a backlog to pace: {sent} sent after the last message");
    // At 4 a second across both instances, `sent` messages need (sent - 8) / 4 seconds at the
    // least (a burst of twice the pace at a second's edge); each instance alone at 4 a second
    // would send them in half that.
    let floor = (sent as f64 - 8.0) / 4.0;
    assert!(
        elapsed >= floor,
        "{sent} answers went in {elapsed:.2} s: faster than one account's pace of 4 a second allows ({floor:.2} s)"
    );
}
