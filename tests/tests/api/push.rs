//! Notifications when the app is closed (Web Push, issue 20), against a push service on
//! loopback that checks the VAPID token and decrypts what it receives with the device's keys.

use chrono::Utc;
use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use relais_tests::push::{Device, PushService};
use serde_json::json;

const PARIS_CENTRE: &str = "CPCA Île-de-France Est";

async fn spawn_with_push() -> (TestApp, PushService) {
    let service = PushService::start();
    let app = spawn_line_app(&[
        ("RELAIS_PUSH_SERVICES", "127.0.0.1"),
        ("RELAIS_OUTBOUND_ALLOW", "127.0.0.0/8"),
        ("RELAIS_PUSH_CONTACT", "mailto:ops@relais.example"),
    ])
    .await;
    (app, service)
}

async fn subscribe(app: &TestApp, token: &str, device: &Device, name: &str) -> serde_json::Value {
    let mut body = device.subscription();
    body["device"] = json!(name);
    let reply = app
        .post("/v1/push/subscriptions")
        .bearer(token)
        .json(&body)
        .send()
        .await;
    assert!(matches!(reply.status, 200 | 201), "{} {}", reply.status, reply.text());
    reply.json()
}

async fn referral_to(app: &TestApp, centre: &str) {
    let key = app.partner_key().await;
    let centre = app.organisation_id(centre).await;
    let created = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. Durand", "summary": "Obligation de soins après des violences.", "legal_basis": "voluntary", "consent_at": Utc::now() }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
}

/// A listener's, a practitioner's and a housing operator's devices are each woken by what
/// their role hears, and only by that; what the push service and the device get names no one
/// and quotes nothing; every notification has one length, one topic, one urgency.
#[tokio::test]
async fn each_role_is_woken_by_its_own_events_and_the_words_name_no_one() {
    let captured = relais_tests::logs::capture();
    let (app, service) = spawn_with_push().await;
    let listener = app.token("listener").await;
    let practitioner = app.token("practitioner").await;
    let reunion = app.token("practitioner.reunion").await;
    let housing = app.token("housing").await;

    let key = app.get("/v1/push/key").bearer(&listener).send().await;
    assert_eq!(key.status, 200);
    assert_eq!(
        key.json()["public_key"].as_str().unwrap().len(),
        87,
        "65 bytes, base64url"
    );

    let listener_phone = service.device();
    let practitioner_phone = service.device();
    let reunion_phone = service.device();
    let operator_phone = service.device();
    let first = subscribe(&app, &listener, &listener_phone, "Pixel de l'écoute").await;
    // The same device again: its row is renewed, not doubled.
    let again = subscribe(&app, &listener, &listener_phone, "Pixel").await;
    assert_eq!(first["id"], again["id"]);
    subscribe(&app, &practitioner, &practitioner_phone, "iPhone").await;
    subscribe(&app, &reunion, &reunion_phone, "iPhone").await;
    subscribe(&app, &housing, &operator_phone, "Poste").await;

    // A person asks for a listener: the conversation waits in the queue.
    app.telegram_says(
        77_001,
        "Bonjour, je m'appelle Karim Benali, je voudrais parler à un écoutant",
    )
    .await;
    let woken = service.wait_for(&listener_phone, 1).await;
    assert_eq!(woken[0].payload["body"], "Nouvelle conversation en attente");
    assert_eq!(woken[0].payload["body_en"], "A new conversation is waiting");
    assert_eq!(woken[0].payload["url"], "/app#/queue");

    // A referral to the Paris centre wakes its practitioner, not La Réunion's.
    referral_to(&app, PARIS_CENTRE).await;
    let woken = service.wait_for(&practitioner_phone, 1).await;
    assert_eq!(woken[0].payload["body"], "Nouvelle orientation");

    // A housing request for tonight wakes the platform's operator.
    let case = crate::housing::case(&app, &practitioner).await;
    let today = Utc::now().date_naive();
    let request = app
        .post(&format!("/v1/cases/{case}/housing-requests"))
        .bearer(&practitioner)
        .json(&json!({ "first_night": today, "last_night": today + chrono::Duration::days(2), "urgency": "tonight" }))
        .send()
        .await;
    assert_eq!(request.status, 201, "{}", request.text());
    let woken = service.wait_for(&operator_phone, 1).await;
    assert_eq!(woken[0].payload["body"], "Nouvelle demande d'hébergement");

    app.outbox_drained().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(service.received(&reunion_phone).len(), 0, "another centre's referral");
    let listener_got = service.received(&listener_phone);
    assert!(
        listener_got.iter().all(|r| r.payload["topic"] == "queue"),
        "a listener hears the queue only: {:?}",
        listener_got.iter().map(|r| r.payload.clone()).collect::<Vec<_>>()
    );
    assert!(
        service
            .received(&practitioner_phone)
            .iter()
            .all(|r| r.payload["topic"] == "referral")
    );
    assert!(
        service
            .received(&operator_phone)
            .iter()
            .all(|r| r.payload["topic"] == "housing")
    );
    assert!(service.refused().is_empty(), "{:?}", service.refused());
    let metrics = app.get("/metrics").send().await.text();
    let sent = metrics
        .lines()
        .find_map(|l| l.strip_prefix("relais_push_notifications{status=\"sent\"} "))
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or_default();
    assert!(sent >= 3, "the metrics count what was sent: {sent}");

    // What the push service sees: one length, one topic, one urgency, one TTL for every kind.
    let all: Vec<_> = [&listener_phone, &practitioner_phone, &operator_phone]
        .iter()
        .flat_map(|d| service.received(d))
        .collect();
    for r in &all {
        assert_eq!(r.length, all[0].length, "every notification has one length");
        assert_eq!(r.headers["topic"], "relais");
        assert_eq!(r.headers["urgency"], "high");
        assert_eq!(r.headers["ttl"], "3600");
        let text = r.payload.to_string();
        for word in ["Karim", "Benali", "écoutant", "Durand", "77001", "Obligation"] {
            assert!(!text.contains(word), "{word} in a notification: {text}");
        }
    }
    // Nor does the log hold a device's endpoint.
    let log = captured.text();
    for device in [&listener_phone, &practitioner_phone, &operator_phone] {
        assert!(!log.contains(&device.id), "an endpoint in the log");
        assert!(!log.contains(&device.p256dh), "a device key in the log");
    }
}

/// A device is its owner's alone; endpoints outside the push services, bad keys and partner
/// keys are refused; a device the push service says is gone is forgotten; an unsubscribed one
/// gets nothing more, nor does one whose session ended.
#[tokio::test]
async fn a_device_is_its_owners_alone_and_a_gone_one_is_forgotten() {
    let (app, service) = spawn_with_push().await;
    let listener = app.token("listener").await;
    let supervisor = app.token("supervisor").await;
    let phone = service.device();
    let mine = subscribe(&app, &listener, &phone, "Téléphone").await;
    let id = mine["id"].as_str().unwrap().to_owned();
    assert!(
        mine.get("endpoint").is_none() && !mine.to_string().contains(&phone.id),
        "the endpoint is never shown"
    );

    // Someone else's device: absent from their list, 404 to remove.
    let theirs = app.get("/v1/push/subscriptions").bearer(&supervisor).send().await;
    assert_eq!(theirs.status, 200);
    assert_eq!(theirs.json()["items"].as_array().unwrap().len(), 0);
    let remove = app
        .delete(&format!("/v1/push/subscriptions/{id}"))
        .bearer(&supervisor)
        .send()
        .await;
    assert_eq!(remove.status, 404);
    let listed = app.get("/v1/push/subscriptions").bearer(&listener).send().await.json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(listed["items"][0]["device"], "Téléphone");

    // Refused: a host that is not a push service, bad keys, a partner key.
    let mut elsewhere = phone.subscription();
    elsewhere["endpoint"] = json!("http://localhost:9/push/x");
    let mut bad_key = phone.subscription();
    bad_key["keys"]["p256dh"] = json!("AAAA");
    let mut bad_auth = phone.subscription();
    bad_auth["keys"]["auth"] = json!("c2hvcnQ");
    for body in [elsewhere, bad_key, bad_auth] {
        let reply = app
            .post("/v1/push/subscriptions")
            .bearer(&listener)
            .json(&body)
            .send()
            .await;
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(reply.problem(), "validation");
    }
    let partner = app.partner_key().await;
    let reply = app
        .post("/v1/push/subscriptions")
        .bearer(&partner)
        .json(&phone.subscription())
        .send()
        .await;
    assert_eq!(reply.status, 403);

    // The push service says the device is gone: it is forgotten.
    service.answer(&phone, 410);
    app.telegram_says(77_002, "je voudrais parler à un écoutant").await;
    for _ in 0..100 {
        let items = app.get("/v1/push/subscriptions").bearer(&listener).send().await.json()["items"].clone();
        if items.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let items = app.get("/v1/push/subscriptions").bearer(&listener).send().await.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 0, "a gone device is forgotten");

    // Unsubscribed: nothing more.
    let tablet = service.device();
    let sub = subscribe(&app, &listener, &tablet, "Tablette").await;
    let removed = app
        .delete(&format!("/v1/push/subscriptions/{}", sub["id"].as_str().unwrap()))
        .bearer(&listener)
        .send()
        .await;
    assert_eq!(removed.status, 204);
    app.telegram_says(77_003, "je voudrais parler à un écoutant").await;
    app.outbox_drained().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(service.received(&tablet).len(), 0);

    // A device belongs to its session: logged out (or suspended, or twelve hours away), it is
    // woken no more, though it is still listed until removed; logged in again, the app's
    // renewal moves it to the new session.
    let (access, _) = app.login("listener").await;
    let laptop = service.device();
    subscribe(&app, &access, &laptop, "Portable").await;
    assert_eq!(app.post("/v1/auth/logout").bearer(&access).send().await.status, 204);
    app.telegram_says(77_004, "je voudrais parler à un écoutant").await;
    app.outbox_drained().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        service.received(&laptop).len(),
        0,
        "a logged-out session's device is not woken"
    );
    let (again, _) = app.login("listener").await;
    subscribe(&app, &again, &laptop, "Portable").await;
    app.telegram_says(77_005, "je voudrais parler à un écoutant").await;
    service.wait_for(&laptop, 1).await;
    assert_eq!(
        app.delete(&format!("/v1/push/subscriptions/{}", sub["id"].as_str().unwrap()))
            .bearer(&listener)
            .send()
            .await
            .status,
        404
    );
}

fn waiting_notifications(app: &TestApp) -> Vec<(String, i32)> {
    use diesel::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
    }
    diesel::sql_query("SELECT status, attempts FROM push_outbox")
        .load::<Row>(&mut *app.conn())
        .unwrap()
        .into_iter()
        .map(|r| (r.status, r.attempts))
        .collect()
}

fn metric(app_metrics: &str, status: &str) -> i64 {
    app_metrics
        .lines()
        .find_map(|l| l.strip_prefix(&format!("relais_push_notifications{{status=\"{status}\"}} ")))
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1)
}

/// What a push service's refusal, a name that does not resolve and a session that ends while
/// a notification waits do: a refusal (403) gives the notification up and keeps the device; a
/// lookup that fails is retried and keeps the device (a resolver's hiccup used to remove it);
/// a notification owed before a logout is never sent after it; a device the service says is
/// gone is not counted as a failure; the purge forgets devices of revoked sessions.
#[tokio::test]
async fn failures_keep_the_device_and_a_session_that_ends_stops_what_waits() {
    let service = PushService::start();
    let app = spawn_line_app(&[
        ("RELAIS_PUSH_SERVICES", "127.0.0.1,nowhere.invalid"),
        ("RELAIS_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ])
    .await;
    let listener = app.token("listener").await;
    let list = async |token: &str| app.get("/v1/push/subscriptions").bearer(token).send().await.json()["items"].clone();

    // 403: given up at once, the device kept.
    let refused = service.device();
    subscribe(&app, &listener, &refused, "Refusé").await;
    service.answer(&refused, 403);
    app.telegram_says(77_101, "je voudrais parler à un écoutant").await;
    for _ in 0..100 {
        if waiting_notifications(&app).iter().any(|(s, _)| s == "failed") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(service.attempts(&refused), 1, "a refusal is not tried again");
    assert_eq!(
        list(&listener).await.as_array().unwrap().len(),
        1,
        "a refusal keeps the device"
    );
    relais_core::push::purge(&mut app.conn(), Utc::now() + chrono::Duration::days(2)).unwrap();
    let rid = list(&listener).await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete(&format!("/v1/push/subscriptions/{rid}"))
            .bearer(&listener)
            .send()
            .await
            .status,
        204
    );

    // A host that does not resolve: retried, the device kept.
    let mut unresolved = service.device().subscription();
    unresolved["endpoint"] = json!("http://push.nowhere.invalid/push/abc");
    let reply = app
        .post("/v1/push/subscriptions")
        .bearer(&listener)
        .json(&unresolved)
        .send()
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let unresolved_id = reply.json()["id"].as_str().unwrap().to_owned();
    app.telegram_says(77_102, "je voudrais parler à un écoutant").await;
    for _ in 0..100 {
        if waiting_notifications(&app)
            .iter()
            .any(|(s, a)| s == "pending" && *a >= 1)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        waiting_notifications(&app)
            .iter()
            .any(|(s, a)| s == "pending" && *a >= 1),
        "a failed lookup is retried: {:?}",
        waiting_notifications(&app)
    );
    assert_eq!(
        list(&listener).await[0]["id"],
        unresolved_id.as_str(),
        "the device is kept"
    );
    app.delete(&format!("/v1/push/subscriptions/{unresolved_id}"))
        .bearer(&listener)
        .send()
        .await;

    // Owed while the push service fails, then the session ends: never sent after the logout.
    let (session, _) = app.login("listener").await;
    let phone = service.device();
    subscribe(&app, &session, &phone, "Téléphone").await;
    service.answer(&phone, 500);
    app.telegram_says(77_103, "je voudrais parler à un écoutant").await;
    for _ in 0..100 {
        if service.attempts(&phone) >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(service.attempts(&phone), 1);
    assert_eq!(app.post("/v1/auth/logout").bearer(&session).send().await.status, 204);
    service.answer_normally(&phone);
    app.app_state().clock.advance(chrono::Duration::seconds(30));
    app.app_state().workers.wakers.push.notify_one();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(service.received(&phone).len(), 0, "nothing sent after the logout");
    assert!(
        waiting_notifications(&app)
            .iter()
            .all(|(s, _)| s != "pending" && s != "sending"),
        "what waited for the ended session is dropped: {:?}",
        waiting_notifications(&app)
    );
    // The purge forgets the devices of revoked sessions.
    relais_core::push::purge(&mut app.conn(), Utc::now()).unwrap();
    let listener = app.token("listener").await;
    assert_eq!(
        list(&listener).await.as_array().unwrap().len(),
        0,
        "a revoked session's device is purged"
    );

    // A device gone (410) is not a failure: the metrics count only the 403 above.
    let gone = service.device();
    subscribe(&app, &listener, &gone, "Parti").await;
    service.answer(&gone, 410);
    app.telegram_says(77_104, "je voudrais parler à un écoutant").await;
    for _ in 0..100 {
        if list(&listener).await.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(list(&listener).await.as_array().unwrap().is_empty());
    let metrics = app.get("/metrics").send().await.text();
    assert_eq!(
        metric(&metrics, "failed"),
        0,
        "the 403 was purged, and a gone device is no failure"
    );
}
