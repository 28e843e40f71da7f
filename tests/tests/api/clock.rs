//! One clock (issue 17): every stamp and deadline of an instance follows its `AppState`
//! clock, which tests move forward, and no code reads the system time beside it.

use chrono::{DateTime, Duration, Utc};
use relais_tests::line::spawn_line_app;
use relais_tests::spawn_app;
use serde_json::json;

fn at(value: &serde_json::Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// Stamps written by core (a canned reply's creation and change) are the instance's clock's,
/// not the system time's.
#[tokio::test]
async fn stamps_written_by_core_follow_the_instance_clock() {
    let app = spawn_line_app(&[]).await;
    app.state.clock.advance(Duration::days(40));
    // (Logged in at the moved time: access tokens end by the instance's clock too.)
    let supervisor = app.token("supervisor").await;
    let created = app
        .post("/v1/canned-replies")
        .bearer(&supervisor)
        .json(&json!({ "language": "fr", "title": "Accueil", "body": "Bonjour." }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let ahead = at(&created.json()["created_at"]) - Utc::now();
    assert!(
        ahead > Duration::days(39) && ahead < Duration::days(41),
        "created_at is {ahead} from the system time, not the instance's 40 days"
    );
    let id = created.json()["id"].as_str().unwrap().to_owned();
    app.state.clock.advance(Duration::days(2));
    let supervisor = app.token("supervisor").await;
    let renamed = app
        .patch(&format!("/v1/canned-replies/{id}"))
        .bearer(&supervisor)
        .json(&json!({ "title": "Premier message" }))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let ahead = at(&renamed.json()["updated_at"]) - Utc::now();
    assert!(
        ahead > Duration::days(41) && ahead < Duration::days(43),
        "updated_at is {ahead} ahead"
    );
}

/// Deadlines follow it too: an access token (checked by the api) and a refresh token (checked
/// by core) expire when the instance's clock passes their end, not the system's.
#[tokio::test]
async fn tokens_expire_by_the_instance_clock() {
    let app = spawn_app().await;
    let (access, refresh) = app.login("practitioner").await;
    assert_eq!(app.get("/v1/me").bearer(&access).send().await.status, 200);

    // The access token lives 10 minutes by default.
    app.state.clock.advance(Duration::minutes(11));
    assert_eq!(
        app.get("/v1/me").bearer(&access).send().await.status,
        401,
        "an access token outlived its end on the instance's clock"
    );
    // The refresh token (12 hours) still works, and gives a token valid at the moved time.
    let renewed = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let fresh = renewed.json()["access_token"].as_str().unwrap().to_owned();
    let next_refresh = renewed.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/me").bearer(&fresh).send().await.status, 200);

    app.state.clock.advance(Duration::hours(13));
    let late = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": next_refresh }))
        .send()
        .await;
    assert_eq!(
        late.status, 401,
        "a refresh token outlived its end on the instance's clock"
    );
}

/// Only `core/src/time.rs` reads the system time; one other place does so on purpose (the
/// webhook signature's timestamp, checked by partners against their own clocks). A new read
/// of the system time elsewhere would escape the tests' clock: this lists them.
#[test]
fn nothing_reads_the_system_time_beside_the_clock() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let allowed = [
        "core/src/time.rs",
        // The Standard Webhooks timestamp is the wall clock's, by design.
        "api/src/workers/webhooks.rs",
        // So is a VAPID token's expiry: push services check it against their own clocks.
        "api/src/push/vapid.rs",
    ];
    // (`Instant` measures durations, timeouts and latencies, not dates: it is not listed.)
    // (Without the parenthesis: `unwrap_or_else(Utc::now)` reads it too.)
    let reads = ["Utc::now", "SystemTime::now", "Local::now"];
    let mut found = Vec::new();
    for crate_dir in ["core/src", "api/src", "bots/src"] {
        let mut stack = vec![root.join(crate_dir)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let relative = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                if allowed.contains(&relative.as_str()) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if reads.iter().any(|r| line.contains(r)) {
                        found.push(format!("{relative}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the system time read beside the clock:\n{}",
        found.join("\n")
    );
}
