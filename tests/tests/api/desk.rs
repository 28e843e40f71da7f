//! The listener's desk through the real HTTP stack: priority order, "take the next one",
//! capacity, replies reaching the person's channel, private notes, transfer, close, the
//! silent-listener requeue, and need-to-know.

use std::time::Duration;

use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use serde_json::json;

/// A normal conversation (menu → listener) and an urgent one (danger words).
async fn two_waiting(app: &TestApp) {
    app.telegram_says(20001, "Bonjour").await;
    app.telegram_presses(20001, "no").await;
    app.telegram_presses(20001, "author").await;
    app.telegram_presses(20001, "listener").await;
    app.telegram_says(20002, "j'ai une arme").await;
    app.telegram_received(20002, 2).await.expect("waited for");
}

async fn queue(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let reply = app.get("/v1/conversations?state=waiting").bearer(token).send().await;
    assert_eq!(reply.status, 200);
    reply.json()["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn take_next_serves_the_most_urgent_first_within_capacity() {
    let app = spawn_line_app(&[("RELAIS_LISTENER_CAPACITY", "1")]).await;
    two_waiting(&app).await;
    let listener = app.token("listener").await;
    let waiting = queue(&app, &listener).await;
    assert_eq!(waiting.len(), 2);
    assert_eq!(waiting[0]["priority"], 100, "the urgent one is listed first");

    let taken = app.post("/v1/queue/take-next").bearer(&listener).send().await;
    assert_eq!(taken.status, 200);
    assert_eq!(taken.json()["priority"], 100);
    assert_eq!(taken.json()["state"], "active");
    let full = app.post("/v1/queue/take-next").bearer(&listener).send().await;
    assert_eq!(full.status, 409, "capacity of one");

    let other = waiting[1]["id"].as_str().unwrap();
    let position = app
        .get(&format!("/v1/conversations/{other}/queue-position"))
        .bearer(&listener)
        .send()
        .await;
    assert_eq!(position.json()["position"], 1);
}

#[tokio::test]
async fn a_listener_replies_notes_transfers_and_closes() {
    let app = spawn_line_app(&[]).await;
    two_waiting(&app).await;
    let listener = app.token("listener").await;
    let taken = app.post("/v1/queue/take-next").bearer(&listener).send().await.json();
    let id = taken["id"].as_str().unwrap().to_owned();

    let reply = app
        .post(&format!("/v1/conversations/{id}/messages"))
        .bearer(&listener)
        .json(&json!({ "text": "Bonjour, je suis Léa, écoutante. Êtes-vous en sécurité ?" }))
        .send()
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(
        app.telegram_wait_text(20002, "je suis Léa")
            .await
            .expect("waited for")
            .len(),
        1
    );

    let note = app
        .post(&format!("/v1/conversations/{id}/notes"))
        .bearer(&listener)
        .json(&json!({ "body": "Note privée : mentionne une arme." }))
        .send()
        .await;
    assert_eq!(note.status, 201);
    // A later reply reaches the person: had the note been sent, it would have gone before it.
    let later = app
        .post(&format!("/v1/conversations/{id}/messages"))
        .bearer(&listener)
        .json(&json!({ "text": "Je reste avec vous." }))
        .send()
        .await;
    assert_eq!(later.status, 201, "{}", later.text());
    app.telegram_wait_text(20002, "Je reste avec vous")
        .await
        .expect("the later reply");
    app.outbox_drained().await;
    assert!(
        !app.telegram_sent(20002)
            .iter()
            .any(|c| c.body["text"].as_str().unwrap_or_default().contains("Note privée")),
        "a note is never sent to the person"
    );
    let notes = app
        .get(&format!("/v1/conversations/{id}/notes"))
        .bearer(&listener)
        .send()
        .await
        .json();
    assert_eq!(notes["items"].as_array().unwrap().len(), 1);

    // Back to the queue: it keeps its place (still first, being urgent and older).
    let back = app
        .post(&format!("/v1/conversations/{id}/transfer"))
        .bearer(&listener)
        .json(&json!({ "listener_id": null, "note": "Je dois partir." }))
        .send()
        .await;
    assert_eq!(back.status, 200);
    assert_eq!(back.json()["state"], "waiting");
    assert_eq!(queue(&app, &listener).await[0]["id"], id.as_str());

    // Someone else can no longer act on it; the listener takes it again and closes it.
    let not_held = app
        .post(&format!("/v1/conversations/{id}/messages"))
        .bearer(&listener)
        .json(&json!({ "text": "x" }))
        .send()
        .await;
    assert_eq!(not_held.status, 409);
    assert_eq!(
        app.post(&format!("/v1/conversations/{id}/take"))
            .bearer(&listener)
            .send()
            .await
            .status,
        200
    );
    let bad = app
        .post(&format!("/v1/conversations/{id}/close"))
        .bearer(&listener)
        .json(&json!({ "outcome": "solved" }))
        .send()
        .await;
    assert_eq!(bad.status, 400);
    let closed = app
        .post(&format!("/v1/conversations/{id}/close"))
        .bearer(&listener)
        .json(&json!({ "outcome": "emergency_redirected", "summary": "Orienté vers le 17." }))
        .send()
        .await;
    assert_eq!(closed.status, 200);
    assert_eq!(closed.json()["state"], "closed");
    assert_eq!(closed.json()["outcome"], "emergency_redirected");
}

#[tokio::test]
async fn a_supervisor_assigns_and_a_listener_transfers_to_a_colleague() {
    let app = spawn_line_app(&[]).await;
    two_waiting(&app).await;
    let supervisor = app.token("supervisor").await;
    let helpline = app.organisation_id("Ne frappez pas (ligne d'écoute)").await;
    let colleague = app
        .post(&format!("/v1/organisations/{helpline}/users"))
        .bearer(&supervisor)
        .json(&json!({ "email": "paul.ecoutant@demo.relais.example", "display_name": "Paul", "password": "a long enough password", "roles": ["listener"] }))
        .send()
        .await
        .json();
    let colleague_id = colleague["id"].as_str().unwrap().to_owned();
    let listener = app.token("listener").await;
    let me = app.get("/v1/me").bearer(&listener).send().await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let waiting = queue(&app, &supervisor).await;
    assert_eq!(waiting.len(), 2);
    let id = waiting[1]["id"].as_str().unwrap().to_owned();

    let assigned = app
        .post(&format!("/v1/conversations/{id}/assign"))
        .bearer(&supervisor)
        .json(&json!({ "listener_id": me }))
        .send()
        .await;
    assert_eq!(assigned.status, 200);
    assert_eq!(assigned.json()["listener_id"], me.as_str());
    let not_a_supervisor = app
        .post(&format!("/v1/conversations/{id}/assign"))
        .bearer(&listener)
        .json(&json!({ "listener_id": me }))
        .send()
        .await;
    assert_eq!(not_a_supervisor.status, 403);

    let moved = app
        .post(&format!("/v1/conversations/{id}/transfer"))
        .bearer(&listener)
        .json(&json!({ "listener_id": colleague_id }))
        .send()
        .await;
    assert_eq!(moved.status, 200);
    assert_eq!(moved.json()["listener_id"], colleague_id.as_str());
}

#[tokio::test]
async fn a_silent_listener_loses_the_conversation_back_to_the_queue() {
    let app = spawn_line_app(&[("RELAIS_LISTENER_SILENCE_SECONDS", "1")]).await;
    two_waiting(&app).await;
    let listener = app.token("listener").await;
    let taken = app.post("/v1/queue/take-next").bearer(&listener).send().await.json();
    let id = taken["id"].as_str().unwrap().to_owned();
    relais_tests::wait::until(
        "the conversation back in the queue",
        || async {
            app.get(&format!("/v1/conversations/{id}"))
                .bearer(&listener)
                .send()
                .await
                .json()
        },
        |view| view["conversation"]["state"] == "waiting",
    )
    .await;
    assert_eq!(queue(&app, &listener).await[0]["id"], id.as_str(), "at its old place");
}

#[tokio::test]
async fn the_helplines_queue_and_notes_are_out_of_reach_of_other_organisations() {
    let app = spawn_line_app(&[]).await;
    two_waiting(&app).await;
    let listener = app.token("listener").await;
    let id = queue(&app, &listener).await[0]["id"].as_str().unwrap().to_owned();
    for who in ["practitioner", "manager", "housing", "admin"] {
        let token = app.token(who).await;
        let paths = [
            format!("/v1/conversations/{id}"),
            format!("/v1/conversations/{id}/notes"),
            "/v1/conversations".to_owned(),
        ];
        for path in &paths {
            assert_eq!(
                app.get(path).bearer(&token).send().await.status,
                404,
                "{who} GET {path}"
            );
        }
        assert_eq!(
            app.post("/v1/queue/take-next").bearer(&token).send().await.status,
            404,
            "{who} take-next"
        );
    }
}

#[tokio::test]
async fn presence_is_set_validated_listed_and_out_of_reach_of_other_organisations() {
    // Shared across instances and sent as a live event: live::two_instances.
    let app = spawn_line_app(&[]).await;
    let listener = app.token("listener").await;
    let me = app.get("/v1/me").bearer(&listener).send().await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = app
        .post("/v1/presence")
        .bearer(&listener)
        .json(&json!({ "status": "available" }))
        .send()
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    let supervisor = app.token("supervisor").await;
    let list = app.get("/v1/presence").bearer(&supervisor).send().await.json();
    let mine = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["listener_id"] == me.as_str())
        .cloned()
        .unwrap();
    assert_eq!(mine["status"], "available");
    let bad = app
        .post("/v1/presence")
        .bearer(&listener)
        .json(&json!({ "status": "asleep" }))
        .send()
        .await;
    assert_eq!(bad.status, 400);
    let practitioner = app.token("practitioner").await;
    assert_eq!(app.get("/v1/presence").bearer(&practitioner).send().await.status, 404);
}

#[tokio::test]
async fn people_waiting_hear_of_their_place_when_it_changes_a_lot() {
    let app = spawn_line_app(&[("RELAIS_QUEUE_PLACE_SECONDS", "1")]).await;
    for chat in [20101, 20102, 20103] {
        app.telegram_says(chat, "j'ai une arme").await;
    }
    assert_eq!(
        app.telegram_wait_text(20101, "prochaine personne dans la file")
            .await
            .expect("waited for")
            .len(),
        1
    );
    assert_eq!(
        app.telegram_wait_text(20102, "n° 2 dans la file")
            .await
            .expect("waited for")
            .len(),
        1
    );
    assert_eq!(
        app.telegram_wait_text(20103, "n° 3 dans la file")
            .await
            .expect("waited for")
            .len(),
        1
    );
    let places = |chat: i64| {
        app.telegram_sent(chat)
            .iter()
            .filter(|c| c.body["text"].as_str().unwrap_or_default().contains("dans la file"))
            .count()
    };

    let listener = app.token("listener").await;
    let taken = app.post("/v1/queue/take-next").bearer(&listener).send().await;
    assert_eq!(taken.status, 200);
    // 2 → 1: next in line, told; 3 → 2: one place is not worth a message.
    assert_eq!(
        app.telegram_wait_text(20102, "prochaine personne dans la file")
            .await
            .expect("waited for")
            .len(),
        1
    );
    app.queue_places_settled().await;
    assert_eq!(places(20103), 1, "a one-place move is not told");
    assert_eq!(places(20102), 2, "told once, not at every round");

    let second = app.post("/v1/queue/take-next").bearer(&listener).send().await;
    assert_eq!(second.status, 200);
    assert_eq!(
        app.telegram_wait_text(20103, "prochaine personne dans la file")
            .await
            .expect("waited for")
            .len(),
        1
    );
    app.queue_places_settled().await;
    assert_eq!(places(20103), 2);
    assert_eq!(places(20101), 1, "the person being answered hears no more of the queue");
}

#[tokio::test]
async fn typing_shows_in_telegram_and_not_over_sms() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(20201, "j'ai une arme").await;
    app.telegram_wait_text(20201, "prochaine personne dans la file")
        .await
        .expect("waited for");
    let listener = app.token("listener").await;
    let taken = app.post("/v1/queue/take-next").bearer(&listener).send().await.json();
    let id = taken["id"].as_str().unwrap().to_owned();
    let typing = app
        .post(&format!("/v1/conversations/{id}/typing"))
        .bearer(&listener)
        .send()
        .await;
    assert_eq!(typing.json()["shown"], true);
    let actions = app
        .telegram_fake()
        .recorder
        .wait_for(1, Duration::from_secs(10), |c| c.method == "sendChatAction")
        .await
        .expect("a typing action");
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].body["chat_id"], 20201);
    assert_eq!(actions[0].body["action"], "typing");

    app.sms_says("+33611111111", "j'ai une arme").await;
    app.sms_received("+33611111111", 2).await.expect("waited for");
    let taken = app.post("/v1/queue/take-next").bearer(&listener).send().await.json();
    let sms = taken["id"].as_str().unwrap().to_owned();
    let typing = app
        .post(&format!("/v1/conversations/{sms}/typing"))
        .bearer(&listener)
        .send()
        .await;
    assert_eq!(typing.json()["shown"], false, "SMS cannot show typing");

    let practitioner = app.token("practitioner").await;
    let hidden = app
        .post(&format!("/v1/conversations/{id}/typing"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(hidden.status, 404);
}

/// Issue 20: the buttons a person pressed read as the person saw them, in their language
/// ("J'ai été violent·e dans mon couple"), not as keys (`author`, `listener`).
#[tokio::test]
async fn the_listener_reads_the_buttons_pressed_as_their_labels() {
    let app = spawn_line_app(&[]).await;
    two_waiting(&app).await;
    let listener = app.token("listener").await;
    let waiting = queue(&app, &listener).await;
    let normal = waiting
        .iter()
        .find(|c| c["priority"] == 0)
        .expect("the menu conversation");
    let id = normal["id"].as_str().unwrap();
    let detail = app
        .get(&format!("/v1/conversations/{id}"))
        .bearer(&listener)
        .send()
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text());
    let said: Vec<String> = detail.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "in")
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        said,
        [
            "Bonjour",
            "Non",
            "J'ai été violent·e dans mon couple",
            "Parler à un·e écoutant·e"
        ],
        "{said:?}"
    );
}
