//! Nothing that identifies a person, and no credential, goes into a log.

use std::io::Write;
use std::sync::{Arc, Mutex};

use relais_tests::spawn_app;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn logs_hold_no_email_password_token_or_body() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("info,relais_api=trace,relais_core=trace,actix_web=debug")
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    // Global: the server logs from its own worker threads. Only this test installs one.
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber in this process");

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
    let partner = app.organisation_id("SPIP de Paris").await;
    let key = app
        .post(&format!("/v1/organisations/{partner}/api-keys"))
        .bearer(&admin)
        .json(&json!({ "name": "k" }))
        .send()
        .await
        .json()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
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

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
