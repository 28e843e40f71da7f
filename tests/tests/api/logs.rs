//! Nothing that identifies a person, and no credential, goes into a log.

use relais_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn logs_hold_no_email_password_token_or_body() {
    let captured = relais_tests::logs::capture();

    let app = spawn_app().await;
    let listener = app.account("listener").clone();
    app.login_reply(&listener.email, "wrong-password-typed-by-a-person")
        .await;
    app.login_reply("someone.unknown@example.org", "another-password-attempt")
        .await;
    let (access, refresh) = app.login("listener").await;
    let rotated = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .json();
    app.get("/v1/me").bearer(&access).send().await;
    let admin = app.token("admin").await;
    let key = app.partner_key().await;
    app.get("/v1/me").bearer(&key).send().await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    app.post(&format!("/v1/organisations/{centre}/users"))
        .bearer(&admin)
        .json(&json!({ "email": "jeanne.martin@example.org", "display_name": "Jeanne Martin", "password": "her very own password", "roles": ["practitioner"] }))
        .send()
        .await;
    app.post("/v1/organisations")
        .bearer(&admin)
        .raw("application/json", "{\"name\": \"Jeanne Martin\", ")
        .send()
        .await;

    let text = captured.text();
    assert!(text.contains("request handled"), "the capture works: {text}");
    let forbidden = [
        listener.email.as_str(),
        listener.password.as_str(),
        "wrong-password-typed-by-a-person",
        "someone.unknown",
        "another-password-attempt",
        access.as_str(),
        refresh.as_str(),
        rotated["refresh_token"].as_str().unwrap(),
        key.as_str(),
        "jeanne",
        "Jeanne",
        "her very own password",
    ];
    for value in forbidden {
        assert!(!text.contains(value), "the log contains {value:?}:\n{text}");
    }
}
