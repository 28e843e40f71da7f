//! Justice partners' webhooks: signed with the Standard Webhooks scheme (checked here with the
//! reference algorithm, itself checked against the specification's example), sent for what
//! follows from the partner's own referrals only, retried, dead-lettered and replayed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use relais_tests::TestApp;
use relais_tests::hooks::{Received, WebhookSink};
use relais_tests::line::spawn_line_app;
use serde_json::{Value, json};
use sha2::Sha256;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// (every webhook message stored, those not yet delivered or dead): the positive sign that
/// nothing more is on its way to any partner.
fn deliveries(app: &TestApp) -> (i64, i64) {
    use diesel::RunQueryDsl as _;
    let count = |sql: &str| diesel::sql_query(sql).get_result::<Count>(&mut *app.conn()).unwrap().n;
    (
        count("SELECT COUNT(*) AS n FROM webhook_deliveries"),
        count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status NOT IN ('delivered', 'dead')"),
    )
}

/// Standard Webhooks verification, as its reference libraries do it: the key is the base64
/// after `whsec_`; the signed content is `id.timestamp.body`; the header holds space-separated
/// `v1,<base64>` signatures, any of which may match.
fn verify(secret: &str, id: &str, timestamp: &str, body: &str, header: &str) -> bool {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|sig| sig == expected)
}

#[test]
fn the_reference_verification_matches_the_specification_example() {
    let (secret, id, ts) = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
    );
    let sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert!(verify(secret, id, ts, r#"{"test": 2432232314}"#, sig));
    assert!(verify(
        secret,
        id,
        ts,
        r#"{"test": 2432232314}"#,
        &format!("v1,bm90IGl0 {sig}")
    ));
    assert!(!verify(secret, id, ts, r#"{"test": 2432232315}"#, sig));
    assert!(!verify(secret, id, "1614265331", r#"{"test": 2432232314}"#, sig));
}

/// The contract's example message is the one a partner can check its code against: its
/// `webhook-signature` example is the true signature of the `referral.accepted` example body
/// under the secret the description names; and the webhook check refuses what the section
/// does not describe.
#[test]
fn the_contract_webhook_examples_verify_and_the_check_has_teeth() {
    let spec = relais_tests::Contract::raw();
    let parameters = &spec["components"]["parameters"];
    let id = parameters["WebhookId"]["example"].as_str().unwrap();
    let timestamp = parameters["WebhookTimestamp"]["example"].as_str().unwrap();
    let signature = parameters["WebhookSignature"]["example"].as_str().unwrap();
    let described = parameters["WebhookSignature"]["description"].as_str().unwrap();
    let secret = described
        .split('`')
        .find(|s| s.starts_with("whsec_") && s.len() > 6)
        .expect("the description names the example's secret");
    let body = serde_json::to_string(&spec["components"]["schemas"]["ReferralAcceptedEvent"]["examples"][0]).unwrap();
    assert!(verify(secret, id, timestamp, &body, signature), "{body}");
    assert!(!verify(
        secret,
        id,
        timestamp,
        &body.replace("accepted", "rejected"),
        signature
    ));

    let contract = relais_tests::contract();
    let headers = [
        ("webhook-id", id),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", signature),
    ];
    for (name, _) in spec["webhooks"].as_object().unwrap() {
        let schema = spec["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        let example = &spec["components"]["schemas"][schema]["examples"][0];
        assert_eq!(example["type"], name.as_str());
        let body = serde_json::to_vec(example).unwrap();
        contract.check_webhook(&headers, &body).unwrap();
    }
    let mut named = spec["components"]["schemas"]["ReferralAcceptedEvent"]["examples"][0].clone();
    assert!(contract.check_webhook(&headers, named.to_string().as_bytes()).is_ok());
    named["data"]["name"] = "Jean Dupont".into();
    assert!(
        contract.check_webhook(&headers, named.to_string().as_bytes()).is_err(),
        "a name in data"
    );
    let mut unknown = spec["components"]["schemas"]["ReferralAcceptedEvent"]["examples"][0].clone();
    unknown["type"] = "referral.lost".into();
    assert!(
        contract
            .check_webhook(&headers, unknown.to_string().as_bytes())
            .is_err()
    );
    let ok = serde_json::to_vec(&spec["components"]["schemas"]["ReferralAcceptedEvent"]["examples"][0]).unwrap();
    assert!(
        contract.check_webhook(&headers[..2], &ok).is_err(),
        "no signature header"
    );
    assert!(
        contract
            .check_webhook(&[("webhook-id", "42"), headers[1], headers[2]], &ok)
            .is_err(),
        "a malformed id"
    );
}

/// `now`: the server's clock, which stamps each message; a test that moves it forward receives
/// messages stamped before the move (the real time) and after it.
fn check_signed(secret: &str, message: &Received, now: i64) {
    assert!(
        verify(
            secret,
            &message.id,
            &message.timestamp,
            &message.body,
            &message.signature
        ),
        "a bad signature on {}",
        message.body
    );
    let at: i64 = message.timestamp.parse().unwrap();
    let real = chrono::Utc::now().timestamp();
    assert!(
        (now - at).abs() < 300 || (real - at).abs() < 300,
        "a fresh timestamp by the server's clock"
    );
    assert!(message.id.starts_with("msg_"));
    check_against_the_contract(message);
}

/// Every delivered message is one the contract's `webhooks` section describes, headers and body.
fn check_against_the_contract(message: &Received) {
    let headers = [
        ("webhook-id", message.id.as_str()),
        ("webhook-timestamp", message.timestamp.as_str()),
        ("webhook-signature", message.signature.as_str()),
    ];
    if let Err(e) = relais_tests::contract().check_webhook(&headers, message.body.as_bytes()) {
        panic!("{e}");
    }
}

pub(crate) async fn set_endpoint(app: &TestApp, key: &str, url: &str) -> String {
    let set = app
        .put("/v1/webhook-endpoint")
        .bearer(key)
        .json(&json!({ "url": url }))
        .send()
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    let secret = set.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    secret
}

pub(crate) async fn court_referral(app: &TestApp, key: &str) -> Value {
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let referral = app
        .post("/v1/referrals")
        .bearer(key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. Bertin", "summary": "Obligation de soins après des violences.", "legal_basis": "court_ordered", "authority": "jap", "decision_reference": "JAP-2026-77", "order_ends_on": "2027-06-30" }))
        .send()
        .await;
    assert_eq!(referral.status, 201, "{}", referral.text());
    referral.json()
}

#[tokio::test]
async fn a_partner_hears_signed_what_follows_from_its_own_referral() {
    let captured = relais_tests::logs::capture();
    let sink = WebhookSink::start();
    let app = spawn_line_app(&[
        ("RELAIS_WEBHOOK_RETRY_SECONDS", "1,1"),
        ("RELAIS_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ])
    .await;
    let key = app.partner_key().await;
    let practitioner = app.token("practitioner").await;
    // Another partner, with its own endpoint.
    let other_sink = WebhookSink::start();
    let other_key = other_partner_key(&app).await;
    set_endpoint(&app, &other_key, &other_sink.url).await;

    // The endpoint is the partner's own: staff cannot set it; a bad URL changes nothing.
    let staff = app
        .put("/v1/webhook-endpoint")
        .bearer(&practitioner)
        .json(&json!({ "url": sink.url }))
        .send()
        .await;
    assert_eq!(staff.status, 403);
    assert_eq!(app.get("/v1/webhook-endpoint").bearer(&key).send().await.status, 404);
    for bad in ["ftp://127.0.0.1/hooks", "http://user:pw@127.0.0.1/hooks", "hooks"] {
        let reply = app
            .put("/v1/webhook-endpoint")
            .bearer(&key)
            .json(&json!({ "url": bad }))
            .send()
            .await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    let first = set_endpoint(&app, &key, &sink.url).await;
    let secret = set_endpoint(&app, &key, &sink.url).await;
    assert_ne!(first, secret, "each setting gives a new secret");
    let shown = app.get("/v1/webhook-endpoint").bearer(&key).send().await;
    assert_eq!(shown.json()["url"], sink.url.as_str());
    assert!(!shown.text().contains(&secret), "the secret is shown once");

    // The centre accepts; opens the case; records a session kept and one missed; certifies.
    let referral = court_referral(&app, &key).await;
    let r = referral["id"].as_str().unwrap();
    let accepted = app
        .post(&format!("/v1/referrals/{r}/accept"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    let case = app
        .post("/v1/cases")
        .bearer(&practitioner)
        .json(&json!({ "referral_id": r, "identity": { "name": "Paul Bertin" } }))
        .send()
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let case = case.json()["id"].as_str().unwrap().to_owned();
    // An appointment booked for the referral, and the person came.
    let slot = app
        .post("/v1/availabilities")
        .bearer(&practitioner)
        .json(&json!({ "modality": "on_site", "location": "Bureau 2", "starts_at": chrono::Utc::now() + chrono::Duration::days(3), "duration_minutes": 60 }))
        .send()
        .await;
    assert_eq!(slot.status, 201, "{}", slot.text());
    let booked = app
        .post("/v1/appointments")
        .bearer(&practitioner)
        .json(&json!({ "slot_id": slot.json()["slots"][0]["id"], "subject_alias": "M. B.", "referral_id": r }))
        .send()
        .await;
    assert_eq!(booked.status, 201, "{}", booked.text());
    let appointment = booked.json()["id"].as_str().unwrap().to_owned();
    // Three days ahead, the person cannot have come yet: refused, and nothing is told.
    let early = app
        .post(&format!("/v1/appointments/{appointment}/status"))
        .bearer(&practitioner)
        .json(&json!({ "status": "arrived" }))
        .send()
        .await;
    assert_eq!(early.status, 409, "{}", early.text());
    app.app_state()
        .clock
        .advance(chrono::Duration::days(3) + chrono::Duration::minutes(5));
    // Access tokens end by the server's clock: a new one at the moved time.
    let practitioner = app.token("practitioner").await;
    for status in ["arrived", "fulfilled"] {
        let moved = app
            .post(&format!("/v1/appointments/{appointment}/status"))
            .bearer(&practitioner)
            .json(&json!({ "status": status }))
            .send()
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text());
    }
    // The person was marked by mistake (another one came): corrected, the partner hears it;
    // a correction between two ways of having come (fulfilled, arrived) tells it nothing new.
    for (status, reason) in [
        ("arrived", "Entretien interrompu, non terminé"),
        ("noshow", "Confusion avec une autre personne"),
    ] {
        let corrected = app
            .post(&format!("/v1/appointments/{appointment}/corrections"))
            .bearer(&practitioner)
            .json(&json!({ "status": status, "reason": reason }))
            .send()
            .await;
        assert_eq!(corrected.status, 201, "{}", corrected.text());
        assert_eq!(corrected.json()["appointment"]["status"], status);
    }
    let mut sessions = Vec::new();
    for (at, status) in [
        ("2026-03-02T09:00:00Z", "attended"),
        ("2026-03-09T09:00:00Z", "unexcused"),
    ] {
        let s = app
            .post(&format!("/v1/cases/{case}/sessions"))
            .bearer(&practitioner)
            .json(&json!({ "kind": "individual", "planned_at": at }))
            .send()
            .await
            .json();
        let id = s["id"].as_str().unwrap().to_owned();
        let marked = app
            .patch(&format!("/v1/sessions/{id}"))
            .bearer(&practitioner)
            .json(&json!({ "status": status }))
            .send()
            .await;
        assert_eq!(marked.status, 200);
        sessions.push(id);
    }
    let certificate = app
        .post(&format!("/v1/cases/{case}/certificates"))
        .bearer(&practitioner)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(certificate.status, 201, "{}", certificate.text());
    let code = certificate.json()["verification_code"].as_str().unwrap().to_owned();
    // The missed session was excused after all: the partner hears of the correction.
    let excused = app
        .patch(&format!("/v1/sessions/{}", sessions[1]))
        .bearer(&practitioner)
        .json(&json!({ "status": "excused" }))
        .send()
        .await;
    assert_eq!(excused.status, 200);
    // A session for another court's measure on the same case is not this partner's business.
    let other_measure = app
        .post(&format!("/v1/cases/{case}/measures"))
        .bearer(&practitioner)
        .json(&json!({ "kind": "care_obligation", "authority": "procureur", "decision_reference": "PR-2026-3", "starts_on": "2026-01-01", "sessions_required": 2 }))
        .send()
        .await
        .json();
    let theirs = app
        .post(&format!("/v1/cases/{case}/sessions"))
        .bearer(&practitioner)
        .json(&json!({ "kind": "group", "planned_at": "2026-03-20T09:00:00Z", "measure_id": other_measure["id"] }))
        .send()
        .await
        .json();
    let marked = app
        .patch(&format!("/v1/sessions/{}", theirs["id"].as_str().unwrap()))
        .bearer(&practitioner)
        .json(&json!({ "status": "attended" }))
        .send()
        .await;
    assert_eq!(marked.status, 200);

    let received = sink.wait_for(7).await.expect("waited for");
    assert_eq!(received.len(), 7, "{received:?}");
    let mut by_type = std::collections::BTreeMap::new();
    let mut types = Vec::new();
    for message in &received {
        check_signed(&secret, message, app.app_state().clock.now().timestamp());
        assert!(
            !check_signed_with(&first, message),
            "the replaced secret no longer signs"
        );
        let body = message.json();
        assert_eq!(body["data"]["referral_id"], r);
        assert_eq!(body["data"]["decision_reference"], "JAP-2026-77");
        for private in [
            "Bertin",
            "Obligation de soins",
            "violences",
            code.as_str(),
            "PR-2026-3",
            "Confusion",
        ] {
            assert!(!message.body.contains(private), "{private} sent to the partner");
        }
        let kind = body["type"].as_str().unwrap().to_owned();
        types.push(kind.clone());
        let key = match body["data"]["appointment_id"].as_str() {
            Some(_) => format!("{kind} (appointment)"),
            None => kind,
        };
        by_type.insert(key, body);
    }
    types.sort();
    // Kept is told once for the appointment (at arrival, not again when fulfilled).
    assert_eq!(
        types,
        [
            "appointment.kept",
            "appointment.kept",
            "appointment.missed",
            "attendance.corrected",
            "attendance.corrected",
            "certificate.issued",
            "referral.accepted"
        ]
    );
    assert_eq!(
        by_type["attendance.corrected"]["data"]["session_id"],
        sessions[1].as_str()
    );
    assert_eq!(by_type["attendance.corrected"]["data"]["status"], "excused");
    assert_eq!(
        by_type["attendance.corrected (appointment)"]["data"]["appointment_id"],
        appointment.as_str()
    );
    assert_eq!(
        by_type["attendance.corrected (appointment)"]["data"]["status"],
        "noshow"
    );
    assert_eq!(
        by_type["appointment.kept (appointment)"]["data"]["appointment_id"],
        appointment.as_str()
    );
    assert_eq!(by_type["appointment.kept"]["data"]["session_id"], sessions[0].as_str());
    assert_eq!(
        by_type["appointment.missed"]["data"]["session_id"],
        sessions[1].as_str()
    );
    assert!(
        by_type["certificate.issued"]["data"].get("verification_code").is_none(),
        "the code is read on the certificate, and kept nowhere in clear"
    );
    assert_eq!(
        by_type["certificate.issued"]["data"]["dates_attended"],
        json!(["2026-03-02"])
    );
    let ids: std::collections::BTreeSet<_> = received.iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids.len(), 7, "one id per message");

    // The partner's log shows them delivered, once each.
    let delivered = relais_tests::wait::until(
        "seven delivered messages",
        || async {
            app.get("/v1/webhook-deliveries?status=delivered")
                .bearer(&key)
                .send()
                .await
                .json()
        },
        |delivered| delivered["items"].as_array().map(Vec::len) == Some(7),
    )
    .await;
    assert!(
        delivered["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["attempts"] == 1)
    );

    // A case that did not come from the partner tells it nothing.
    let own = app
        .post("/v1/cases")
        .bearer(&practitioner)
        .json(&json!({ "origin": "self", "legal_basis": "voluntary" }))
        .send()
        .await
        .json();
    let s = app
        .post(&format!("/v1/cases/{}/sessions", own["id"].as_str().unwrap()))
        .bearer(&practitioner)
        .json(&json!({ "kind": "group", "planned_at": "2026-03-03T09:00:00Z" }))
        .send()
        .await
        .json();
    let attended = app
        .patch(&format!("/v1/sessions/{}", s["id"].as_str().unwrap()))
        .bearer(&practitioner)
        .json(&json!({ "status": "attended" }))
        .send()
        .await;
    assert_eq!(attended.status, 200, "{}", attended.text());
    // Messages are stored with the event that makes them: seven stored, none still to send.
    assert_eq!(deliveries(&app), (7, 0), "nothing stored for the case of no partner");
    assert_eq!(sink.received().len(), 7);
    assert!(
        other_sink.received().is_empty(),
        "another partner hears nothing of this referral"
    );
    assert!(!captured.read(5).contains(&sink.url), "the partner's URL is not logged");
    assert!(!captured.read(5).contains(&secret));
}

/// A key of a second justice partner (created here).
async fn other_partner_key(app: &TestApp) -> String {
    let admin = app.token("admin").await;
    let other = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!({ "kind": "partner", "name": "SPIP de Lyon", "timezone": "Europe/Paris" }))
        .send()
        .await;
    assert_eq!(other.status, 201, "{}", other.text());
    let key = app
        .post(&format!(
            "/v1/organisations/{}/api-keys",
            other.json()["id"].as_str().unwrap()
        ))
        .bearer(&admin)
        .json(&json!({ "name": "Lyon" }))
        .send()
        .await;
    assert_eq!(key.status, 201);
    key.json()["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_partner_endpoint_cannot_point_inside_the_operators_network() {
    let app = relais_tests::line::spawn_line_app(&[]).await;
    let key = app.partner_key().await;
    for inside in [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://localhost.:8080/hooks",
        "http://[::127.0.0.1]/hooks",
        "http://[64:ff9b::7f00:1]/hooks",
        "http://[2002:7f00:1::1]/hooks",
        "http://198.18.0.1/hooks",
    ] {
        let reply = app
            .put("/v1/webhook-endpoint")
            .bearer(&key)
            .json(&json!({ "url": inside }))
            .send()
            .await;
        assert_eq!(reply.status, 400, "{inside}");
    }
    assert_eq!(
        app.get("/v1/webhook-endpoint").bearer(&key).send().await.status,
        404,
        "nothing was set"
    );
}

fn check_signed_with(secret: &str, message: &Received) -> bool {
    verify(
        secret,
        &message.id,
        &message.timestamp,
        &message.body,
        &message.signature,
    )
}

#[tokio::test]
async fn a_failing_partner_endpoint_gets_retries_then_a_dead_letter_it_can_replay() {
    let sink = WebhookSink::start();
    sink.set_failing(true);
    let app = spawn_line_app(&[
        ("RELAIS_WEBHOOK_RETRY_SECONDS", "1,1"),
        ("RELAIS_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ])
    .await;
    let key = app.partner_key().await;
    let secret = set_endpoint(&app, &key, &sink.url).await;
    let practitioner = app.token("practitioner").await;
    let referral = court_referral(&app, &key).await;
    let r = referral["id"].as_str().unwrap();
    let rejected = app
        .post(&format!("/v1/referrals/{r}/reject"))
        .bearer(&practitioner)
        .json(&json!({ "reason": "Hors de notre ressort" }))
        .send()
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text());

    // Three attempts (the first and two retries a second apart), the same message each time.
    let tries = sink.wait_for(3).await.expect("waited for");
    assert_eq!(tries.len(), 3);
    assert!(
        tries
            .iter()
            .all(|t| t.id == tries[0].id && t.body == tries[0].body && t.answered == 500)
    );
    for t in &tries {
        check_signed(&secret, t, app.app_state().clock.now().timestamp());
    }
    assert_eq!(tries[0].json()["type"], "referral.rejected");
    assert_eq!(tries[0].json()["data"]["rejection_reason"], "Hors de notre ressort");
    let id = tries[0].id.clone();
    let dead = relais_tests::wait::until(
        "one dead letter",
        || async {
            app.get("/v1/webhook-deliveries?status=dead")
                .bearer(&key)
                .send()
                .await
                .json()
        },
        |dead| dead["items"].as_array().map(Vec::len) == Some(1),
    )
    .await;
    assert_eq!(dead["items"][0]["id"], id.as_str());
    assert_eq!(dead["items"][0]["attempts"], 3);
    assert_eq!(dead["items"][0]["last_status"], 500);
    let (stored, unsettled) = deliveries(&app);
    assert_eq!(unsettled, 0, "a dead letter is not scheduled again ({stored} stored)");
    assert_eq!(sink.received().len(), 3, "a dead letter is not retried by itself");
    let log = app
        .get(&format!("/v1/webhook-deliveries/{id}"))
        .bearer(&key)
        .send()
        .await
        .json();
    let log = log["log"].as_array().unwrap().clone();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|a| a["status_code"] == 500));
    assert!(
        log.iter()
            .all(|a| a["error"] == "failed" && a.get("duration_ms").is_none()),
        "the partner learns the status code, not why nor how long"
    );

    // Another partner, or staff, cannot see or replay it.
    let other_key = other_partner_key(&app).await;
    assert_eq!(
        app.get(&format!("/v1/webhook-deliveries/{id}"))
            .bearer(&other_key)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        app.post(&format!("/v1/webhook-deliveries/{id}/replay"))
            .bearer(&other_key)
            .send()
            .await
            .status,
        404
    );
    let theirs = app.get("/v1/webhook-deliveries").bearer(&other_key).send().await.json();
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(
        app.post(&format!("/v1/webhook-deliveries/{id}/replay"))
            .bearer(&practitioner)
            .send()
            .await
            .status,
        403
    );

    // Replayed: same id, the schedule starts over; once the endpoint is back, it is delivered.
    let replayed = app
        .post(&format!("/v1/webhook-deliveries/{id}/replay"))
        .bearer(&key)
        .send()
        .await;
    assert_eq!(replayed.status, 202, "{}", replayed.text());
    let twice = app
        .post(&format!("/v1/webhook-deliveries/{id}/replay"))
        .bearer(&key)
        .send()
        .await;
    assert_eq!(twice.status, 409, "already on its way");
    assert_eq!(sink.wait_for(4).await.expect("waited for").len(), 4);
    sink.set_failing(false);
    let all = sink.wait_for(5).await.expect("waited for");
    assert_eq!(all.len(), 5);
    assert_eq!((all[4].id.as_str(), all[4].answered), (id.as_str(), 204));
    check_signed(&secret, &all[4], app.app_state().clock.now().timestamp());
    let status = relais_tests::wait::until(
        "the replayed message delivered",
        || async {
            app.get(&format!("/v1/webhook-deliveries/{id}"))
                .bearer(&key)
                .send()
                .await
                .json()
        },
        |status| status["status"] == "delivered",
    )
    .await;
    assert_eq!(
        status["log"].as_array().unwrap().len(),
        5,
        "the log keeps every attempt"
    );
}

/// `relais demo` prints a sandbox API key of the demo SPIP, and the README's first calls of a
/// justice service work with it against the real binary: who am I, which centre covers a postal
/// code, send a court-ordered referral (retried with the same Idempotency-Key), read it back.
/// Running `relais demo` again revokes the previous sandbox key.
#[tokio::test]
async fn relais_demo_prints_a_partner_sandbox_key_that_makes_the_first_calls() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_string_lossy().into_owned();
    let demo = || {
        let output = std::process::Command::new(relais_tests::process::relais_binary())
            .arg("demo")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RELAIS_DATA_DIR", &data_dir)
            .env("RELAIS_LOG", "warn")
            .output()
            .expect("relais demo runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8(output.stdout).unwrap();
        let row = stdout
            .lines()
            .find(|l| l.starts_with("partner_api_key\t"))
            .unwrap_or_else(|| panic!("no partner_api_key row in:\n{stdout}"))
            .to_owned();
        let cells: Vec<&str> = row.split('\t').collect();
        assert_eq!(cells.len(), 5, "{row}");
        assert_eq!(cells[1], "SPIP de Paris");
        assert!(cells[3].starts_with("relais_pk_"), "{row}");
        cells[3].to_owned()
    };
    let old = demo();
    let key = demo();
    assert_ne!(old, key);
    let server = relais_tests::process::Server::start(&[("RELAIS_DATA_DIR".to_owned(), data_dir.clone())]).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);

    let me = client.get(url("/v1/me")).bearer_auth(&old).send().await.unwrap();
    assert_eq!(me.status(), 401, "the previous sandbox key is revoked");
    // 1. Who am I.
    let me: Value = client
        .get(url("/v1/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "partner");
    assert_eq!(me["organisation"]["name"], "SPIP de Paris");
    // 2. The centre that covers the person's postal code.
    let centres: Value = client
        .get(url("/v1/centres?postal_code=75011"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let centre = centres["items"][0]["id"]
        .as_str()
        .expect("a centre covers 75011")
        .to_owned();
    // 3. A court-ordered referral, sent twice with one Idempotency-Key: one referral.
    let body = json!({
        "centre_id": centre,
        "subject_alias": "Dossier 2026-0142",
        "summary": "Obligation de soins prononcée par le JAP ; suivi individuel demandé.",
        "legal_basis": "court_ordered",
        "authority": "jap",
        "decision_reference": "JAP-2026-142",
        "order_ends_on": "2027-03-31"
    });
    let mut ids = Vec::new();
    for _ in 0..2 {
        let sent = client
            .post(url("/v1/referrals"))
            .bearer_auth(&key)
            .header("Idempotency-Key", "spip-paris-2026-0142")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 201);
        let sent: Value = sent.json().await.unwrap();
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids[0], ids[1], "a retry gets the first answer");
    // 4. Its status, read back.
    let read: Value = client
        .get(url(&format!("/v1/referrals/{}", ids[0])))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "pending");
    assert_eq!(read["decision_reference"], "JAP-2026-142");
    // 5. The messages owed to the partner (none until the centre decides).
    let deliveries = client
        .get(url("/v1/webhook-deliveries"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deliveries.status(), 200);
}

/// Issue 21: a partner walks its referrals by pages and finds one by its own reference; pages
/// hold still while referrals are added; references are searched only among the caller's own
/// referrals (another organisation, the receiving centre included, learns nothing from them).
#[tokio::test]
async fn a_partner_pages_through_its_referrals_and_finds_one_by_its_own_reference() {
    let app = spawn_line_app(&[]).await;
    let key = app.partner_key().await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let refer = |reference: String| {
        let (app, key, centre) = (&app, key.clone(), centre.clone());
        async move {
            let made = app
                .post("/v1/referrals")
                .bearer(&key)
                .json(&json!({ "centre_id": centre, "subject_alias": "M. Bertin", "summary": "Obligation de soins.", "legal_basis": "court_ordered", "authority": "jap", "decision_reference": "JAP-2026-77", "order_ends_on": "2027-06-30", "partner_reference": reference }))
                .send()
                .await;
            assert_eq!(made.status, 201, "{}", made.text());
            assert_eq!(made.json()["partner_reference"], reference.as_str());
            made.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(refer(format!("SPIP75-2026-{n:04}")).await);
    }
    let everything = app
        .get("/v1/referrals?direction=outgoing&limit=500")
        .bearer(&key)
        .send()
        .await
        .json();
    let total = everything["items"].as_array().unwrap().len();
    assert!(everything["next_cursor"].is_null());

    // Two at a time; a referral made during the walk is newer than the cursor: not in later pages.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/referrals?direction=outgoing&limit=2&cursor={c}"),
            None => "/v1/referrals?direction=outgoing&limit=2".to_owned(),
        };
        let page = app.get(&path).bearer(&key).send().await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        if pages == 1 {
            refer("SPIP75-2026-LATE".into()).await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no referral twice");
    assert_eq!(seen.len(), total, "none skipped");
    assert!(made.iter().all(|id| seen.contains(id)));

    // By its reference, and by when it was made.
    let found = app
        .get("/v1/referrals?direction=outgoing&partner_reference=SPIP75-2026-0003")
        .bearer(&key)
        .send()
        .await
        .json();
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["id"], made[3].as_str());
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let none = app
        .get(&format!("/v1/referrals?direction=outgoing&from={later}"))
        .bearer(&key)
        .send()
        .await
        .json();
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "{none}");

    // The receiving centre, and another partner, learn nothing from a reference.
    let manager = app.token("manager").await;
    for token in [manager, other_partner_key(&app).await] {
        let probe = app
            .get("/v1/referrals?partner_reference=SPIP75-2026-0003")
            .bearer(&token)
            .send()
            .await
            .json();
        assert_eq!(probe["items"].as_array().unwrap().len(), 0, "{probe}");
    }

    // A cursor or a limit that is not valid is named.
    for (query, name) in [
        ("cursor=nope", "cursor"),
        ("limit=0", "limit"),
        ("from=yesterday", "from"),
    ] {
        let bad = app.get(&format!("/v1/referrals?{query}")).bearer(&key).send().await;
        assert_eq!(bad.status, 400, "{query}");
        assert_eq!(bad.json()["errors"][0]["pointer"], name, "{query}: {}", bad.text());
    }
}

/// A partner walks the messages owed to it by pages: every message once, none skipped, in
/// the order newest first; a cursor that is not one this list gave is a 400 naming it.
#[tokio::test]
async fn a_partner_pages_through_the_messages_owed_to_it() {
    let sink = WebhookSink::start();
    let app = spawn_line_app(&[("RELAIS_OUTBOUND_ALLOW", "127.0.0.0/8")]).await;
    let key = app.partner_key().await;
    let practitioner = app.token("practitioner").await;
    set_endpoint(&app, &key, &sink.url).await;
    for _ in 0..5 {
        let referral = court_referral(&app, &key).await;
        let accepted = app
            .post(&format!("/v1/referrals/{}/accept", referral["id"].as_str().unwrap()))
            .bearer(&practitioner)
            .send()
            .await;
        assert_eq!(accepted.status, 200, "{}", accepted.text());
    }
    let everything = app.get("/v1/webhook-deliveries?limit=500").bearer(&key).send().await;
    assert_eq!(everything.status, 200, "{}", everything.text());
    let everything = everything.json();
    let all: Vec<String> = everything["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 5, "{everything}");
    assert!(everything["next_cursor"].is_null());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/webhook-deliveries?limit=2&cursor={c}"),
            None => "/v1/webhook-deliveries?limit=2".to_owned(),
        };
        let page = app.get(&path).bearer(&key).send().await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|d| d["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen, all,
        "the pages, end to end, are the whole list in its order, once each"
    );

    let forged = app
        .get("/v1/webhook-deliveries?cursor=bm90LWEtY3Vyc29y")
        .bearer(&key)
        .send()
        .await;
    assert_eq!(forged.status, 400);
    assert_eq!(forged.json()["errors"][0]["pointer"], "cursor", "{}", forged.text());
}
