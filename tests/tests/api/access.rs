//! Need to know: a practitioner of centre A gets 404 for every object of centre B.

use relais_tests::{TestApp, spawn_app};
use serde_json::json;

struct Centres {
    a: String,
    b: String,
    b_user: String,
}

async fn centres(app: &TestApp) -> Centres {
    let a = app.organisation_id("CPCA Île-de-France Est").await;
    let b = app.organisation_id("CPCA La Réunion").await;
    let admin = app.token("admin").await;
    let users = app
        .get(&format!("/v1/organisations/{b}/users"))
        .bearer(&admin)
        .send()
        .await
        .json();
    let b_user = users["items"][0]["id"].as_str().unwrap().to_owned();
    Centres { a, b, b_user }
}

#[tokio::test]
async fn another_centres_objects_answer_404_in_reads_updates_and_lists() {
    let app = spawn_app().await;
    let c = centres(&app).await;
    for who in ["practitioner", "manager"] {
        let token = app.token(who).await;
        let reads = [
            format!("/v1/organisations/{}", c.b),
            format!("/v1/organisations/{}/users", c.b),
            format!("/v1/organisations/{}/api-keys", c.b),
            format!("/v1/users/{}", c.b_user),
        ];
        for path in &reads {
            let reply = app.get(path).bearer(&token).send().await;
            assert_eq!(reply.status, 404, "{who} GET {path}");
            assert_eq!(reply.problem(), "not-found");
        }
        let updates = [
            (
                "PATCH",
                format!("/v1/organisations/{}", c.b),
                json!({ "name": "Renamed" }),
            ),
            (
                "PATCH",
                format!("/v1/users/{}", c.b_user),
                json!({ "display_name": "Renamed" }),
            ),
            ("POST", format!("/v1/users/{}/totp-reset", c.b_user), json!(null)),
            ("POST", format!("/v1/users/{}/enrolment-code", c.b_user), json!(null)),
            (
                "POST",
                format!("/v1/organisations/{}/users", c.b),
                json!({ "email": "x@demo.relais.example", "display_name": "X", "password": "long enough password", "roles": ["practitioner"] }),
            ),
        ];
        for (method, path, body) in &updates {
            let call = app.call(method, path).bearer(&token);
            let call = if body.is_null() { call } else { call.json(body) };
            let reply = call.send().await;
            assert_eq!(reply.status, 404, "{who} {method} {path}");
        }
        let list = app.get("/v1/organisations").bearer(&token).send().await.json();
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![c.a.as_str()], "{who} lists only their own organisation");
    }
    // Nothing of centre B changed.
    let admin = app.token("admin").await;
    let b = app
        .get(&format!("/v1/organisations/{}", c.b))
        .bearer(&admin)
        .send()
        .await
        .json();
    assert_eq!(b["name"], "CPCA La Réunion");
    let user = app
        .get(&format!("/v1/users/{}", c.b_user))
        .bearer(&admin)
        .send()
        .await
        .json();
    assert_eq!(user["display_name"], "Nadia Praticienne");
    let users = app
        .get(&format!("/v1/organisations/{}/users", c.b))
        .bearer(&admin)
        .send()
        .await
        .json();
    assert_eq!(users["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn own_organisation_objects_are_visible_and_roles_decide_what_changes() {
    let app = spawn_app().await;
    let c = centres(&app).await;
    let practitioner = app.token("practitioner").await;
    let colleagues = app
        .get(&format!("/v1/organisations/{}/users", c.a))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(colleagues.status, 200);
    assert_eq!(colleagues.json()["items"].as_array().unwrap().len(), 2);
    let denied = app
        .patch(&format!("/v1/organisations/{}", c.a))
        .bearer(&practitioner)
        .json(&json!({ "name": "X" }))
        .send()
        .await;
    assert_eq!(denied.status, 403);

    let manager = app.token("manager").await;
    let renamed = app
        .patch(&format!("/v1/organisations/{}", c.a))
        .bearer(&manager)
        .json(&json!({ "coverage": ["75", "92", "93", "94"] }))
        .send()
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.json()["coverage"], json!(["75", "92", "93", "94"]));

    let created = app
        .post(&format!("/v1/organisations/{}/users", c.a))
        .bearer(&manager)
        .json(&json!({ "email": "New.Colleague@Demo.Relais.Example", "display_name": "Nouveau", "password": "a long enough password", "roles": ["practitioner"] }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["email"], "new.colleague@demo.relais.example");

    let duplicate = app
        .post(&format!("/v1/organisations/{}/users", c.a))
        .bearer(&manager)
        .json(&json!({ "email": "new.colleague@demo.relais.example", "display_name": "Twice", "password": "a long enough password", "roles": ["practitioner"] }))
        .send()
        .await;
    assert_eq!(duplicate.status, 409);

    let wrong_role = app
        .post(&format!("/v1/organisations/{}/users", c.a))
        .bearer(&manager)
        .json(&json!({ "email": "listener2@demo.relais.example", "display_name": "L", "password": "a long enough password", "roles": ["listener"] }))
        .send()
        .await;
    assert_eq!(wrong_role.status, 400, "a listener belongs to the helpline");
}

#[tokio::test]
async fn administrators_manage_every_organisation() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let created = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!({ "kind": "centre", "name": "CPCA Martinique", "timezone": "America/Martinique", "coverage": ["972"] }))
        .send()
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["timezone"], "America/Martinique");
    let bad_tz = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!({ "kind": "centre", "name": "CPCA Nowhere", "timezone": "Mars/Olympus" }))
        .send()
        .await;
    assert_eq!(bad_tz.status, 400);
    let practitioner = app.token("practitioner").await;
    let denied = app
        .post("/v1/organisations")
        .bearer(&practitioner)
        .json(&json!({ "kind": "centre", "name": "Mine" }))
        .send()
        .await;
    assert_eq!(denied.status, 403);
}
