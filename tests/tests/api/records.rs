//! Canned replies, the phone-call log and the helpline's statistics.

use diesel::connection::SimpleConnection as _;
use relais_tests::line::spawn_line_app;
use serde_json::json;

#[tokio::test]
async fn supervisors_manage_canned_replies_and_listeners_read_them() {
    let app = spawn_line_app(&[]).await;
    let supervisor = app.token("supervisor").await;
    let listener = app.token("listener").await;
    let created = app
        .post("/v1/canned-replies")
        .bearer(&supervisor)
        .json(&json!({ "language": "fr", "title": "Accueil", "body": "Bonjour, je suis écoutant·e. Je vous lis." }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let by_listener = app
        .post("/v1/canned-replies")
        .bearer(&listener)
        .json(&json!({ "language": "en", "title": "x", "body": "y" }))
        .send()
        .await;
    assert_eq!(by_listener.status, 403);
    let list = app
        .get("/v1/canned-replies?language=fr")
        .bearer(&listener)
        .send()
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let renamed = app
        .patch(&format!("/v1/canned-replies/{id}"))
        .bearer(&supervisor)
        .json(&json!({ "title": "Premier message" }))
        .send()
        .await;
    assert_eq!(renamed.json()["title"], "Premier message");
    assert_eq!(
        app.delete(&format!("/v1/canned-replies/{id}"))
            .bearer(&supervisor)
            .send()
            .await
            .status,
        204
    );
    assert_eq!(
        app.delete(&format!("/v1/canned-replies/{id}"))
            .bearer(&supervisor)
            .send()
            .await
            .status,
        404
    );
    let practitioner = app.token("practitioner").await;
    assert_eq!(
        app.get("/v1/canned-replies").bearer(&practitioner).send().await.status,
        404
    );
}

#[tokio::test]
async fn calls_and_texts_count_together_in_the_statistics() {
    let app = spawn_line_app(&[]).await;
    let listener = app.token("listener").await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let started = (chrono::Utc::now() - chrono::Duration::minutes(30)).to_rfc3339();
    for kind in ["author", "author", "relative"] {
        let call = app
            .post("/v1/phone-calls")
            .bearer(&listener)
            .json(&json!({ "started_at": started, "duration_seconds": 600, "caller_kind": kind, "topics": ["violence_in_couple"], "outcome": "oriented_to_centre", "centre_id": centre }))
            .send()
            .await;
        assert_eq!(call.status, 201, "{}", call.text());
    }
    let bad = app
        .post("/v1/phone-calls")
        .bearer(&listener)
        .json(&json!({ "started_at": started, "duration_seconds": 0, "caller_kind": "author", "outcome": "oriented_to_centre" }))
        .send()
        .await;
    assert_eq!(bad.status, 400);
    // One text conversation from an author, handed to a listener.
    app.telegram_says(40001, "Bonjour").await;
    app.telegram_presses(40001, "no").await;
    app.telegram_presses(40001, "author").await;
    app.telegram_presses(40001, "listener").await;
    app.post("/v1/queue/take-next").bearer(&listener).send().await;

    let supervisor = app.token("supervisor").await;
    let stats = app.get("/v1/helpline/statistics").bearer(&supervisor).send().await;
    assert_eq!(stats.status, 200, "{}", stats.text());
    let stats = stats.json();
    assert_eq!(stats["phone_calls"], 3);
    assert_eq!(stats["phone_call_minutes"], 30);
    assert_eq!(stats["conversations"], 1);
    assert_eq!(stats["handed_to_listener"], 1);
    assert_eq!(stats["by_person_kind"]["author"], 3, "two calls and one text");
    assert!(stats["wait_seconds_median"].is_i64());
    assert_eq!(stats["orientations"], 3, "three calls oriented to a centre");
    assert_eq!(stats["abandoned_before_answer"], 0);
    let hours: i64 = stats["by_hour"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(hours, 4, "three calls and one text");
    assert!(!stats.to_string().contains("40001"), "no person in statistics");

    // The ministry sees the same with small counts suppressed.
    let coordinator = app.token("coordinator").await;
    let national = app
        .get("/v1/helpline/statistics")
        .bearer(&coordinator)
        .send()
        .await
        .json();
    assert_eq!(national["suppressed_below"], 5);
    assert!(national["phone_calls"].is_null(), "3 < 5 is suppressed");
    assert!(national["by_person_kind"]["author"].is_null());
    let listener_stats = app.get("/v1/helpline/statistics").bearer(&listener).send().await;
    assert_eq!(listener_stats.status, 403);
    let practitioner = app.token("practitioner").await;
    assert_eq!(
        app.get("/v1/helpline/statistics")
            .bearer(&practitioner)
            .send()
            .await
            .status,
        404
    );
    let csv = app
        .get("/v1/helpline/statistics?format=csv")
        .bearer(&supervisor)
        .send()
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.text().starts_with("metric,key,value\n"));
    assert!(csv.text().contains("phone_calls,,3\n"), "{}", csv.text());
    assert!(csv.text().contains("by_weekday,"), "{}", csv.text());
    let national_csv = app
        .get("/v1/helpline/statistics?format=csv")
        .bearer(&coordinator)
        .send()
        .await
        .text();
    assert!(
        national_csv.contains("phone_calls,,\n"),
        "suppressed in the national view: {national_csv}"
    );
    let calls = app.get("/v1/phone-calls").bearer(&listener).send().await.json();
    assert_eq!(calls["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn statistics_are_read_from_the_replica_when_one_is_set() {
    // A "replica" holding three calls the primary does not have: the figures show which one
    // was read. (A real replica is a copy of the primary; this one differs on purpose.)
    let replica = relais_tests::ScratchDatabase::create();
    let plain = spawn_line_app(&[]).await;
    {
        let state = plain.app_state();
        let mut conn = replica.conn();
        relais_core::demo::load(&mut conn, &state.geo, &state.secrets).unwrap();
        let at = (chrono::Utc::now() - chrono::Duration::hours(1))
            .naive_utc()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        for n in 0..3 {
            conn.batch_execute(&format!(
                "INSERT INTO phone_calls (id, listener_id, started_at, duration_seconds, caller_kind, topics, outcome, centre_id, created_at) \
                 SELECT '00000000-0000-4000-8000-00000000000{n}', id, '{at}', 300, 'author', '[]', 'information_given', NULL, '{at}' FROM users WHERE email LIKE 'listener@%'"
            ))
            .unwrap();
        }
    }
    let app = spawn_line_app(&[("RELAIS_DATABASE_REPLICA_URL", &replica.url)]).await;
    let supervisor = app.token("supervisor").await;
    let stats = app
        .get("/v1/helpline/statistics")
        .bearer(&supervisor)
        .send()
        .await
        .json();
    assert_eq!(stats["phone_calls"], 3, "read from the replica: {stats}");
    let primary = plain
        .get("/v1/helpline/statistics")
        .bearer(&plain.token("supervisor").await)
        .send()
        .await
        .json();
    assert_eq!(primary["phone_calls"], 0);
}
