//! Attacks on staff accounts, written as an attacker would run them: parallel bursts against
//! the password and the one-time code, enrolment takeover, raced refresh tokens, ended
//! sessions. Each runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

use futures_util::future::join_all;
use relais_tests::{Reply, TestApp, spawn_app_with};
use serde_json::json;

fn totp_code(secret_base32: &str, at: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(at).to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn login_with_code(app: &TestApp, email: &str, password: &str, code: &str) -> Reply {
    app.post("/v1/auth/login")
        .json(&json!({ "email": email, "password": password, "totp": code }))
        .send()
        .await
}

fn count(replies: &[Reply], status: u16) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

#[tokio::test]
async fn a_parallel_burst_of_wrong_passwords_is_counted_one_by_one_and_the_lock_survives_more_failures() {
    let app = spawn_app_with(&[
        ("RELAIS_LOGIN_FREE_FAILURES", "10"),
        ("RELAIS_LOGIN_LOCKOUT_AFTER", "10"),
        ("RELAIS_LOGIN_ADDRESS_LOCKOUT_AFTER", "1000"),
    ])
    .await;
    let account = app.account("listener").clone();
    let guesses: Vec<String> = (0..40).map(|i| format!("wrong password {i}")).collect();
    let burst = join_all(guesses.iter().map(|g| app.login_reply(&account.email, g))).await;
    assert_eq!(
        count(&burst, 401),
        10,
        "exactly the allowed attempts reach the password check"
    );
    assert_eq!(count(&burst, 429), 30);
    for reply in burst.iter().filter(|r| r.status == 429) {
        assert_eq!(reply.problem(), "too-many-requests");
        assert!(reply.header("retry-after").is_some());
    }
    // The right password is refused while locked, and failing again never lifts the lock.
    assert_eq!(app.login_reply(&account.email, &account.password).await.status, 429);
    for i in 0..5 {
        assert_eq!(app.login_reply(&account.email, &format!("again {i}")).await.status, 429);
    }
    let still = app.login_reply(&account.email, &account.password).await;
    assert_eq!(still.status, 429);
    let retry: i64 = still.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
    // Unknown emails are throttled alike: the lock says nothing about who has an account.
    let ghost = join_all(guesses.iter().map(|g| app.login_reply("ghost@demo.relais.example", g))).await;
    assert_eq!(count(&ghost, 401), 10);
    assert_eq!(count(&ghost, 429), 30);
}

#[tokio::test]
async fn one_client_address_is_locked_whatever_emails_it_tries() {
    let app = spawn_app_with(&[("RELAIS_LOGIN_ADDRESS_LOCKOUT_AFTER", "6")]).await;
    let emails: Vec<String> = (0..20).map(|i| format!("spray{i}@demo.relais.example")).collect();
    let burst = join_all(emails.iter().map(|e| app.login_reply(e, "Summer2026!"))).await;
    assert!(count(&burst, 401) <= 6, "{}", count(&burst, 401));
    assert!(count(&burst, 429) >= 14);
    // The address is locked for every account now, even with the right password.
    let other = app.account("supervisor").clone();
    assert_eq!(app.login_reply(&other.email, &other.password).await.status, 429);
}

/// Enrols the demo account's second factor; returns its secret and the session that did it.
async fn enrol(app: &TestApp, who: &str) -> (String, String) {
    let (access, _) = app.login(who).await;
    let enrolment = app.post("/v1/auth/totp/enrol").bearer(&access).send().await;
    assert_eq!(enrolment.status, 200, "{}", enrolment.text());
    let secret = enrolment.json()["secret"].as_str().unwrap().to_owned();
    let confirmed = app
        .post("/v1/auth/totp/confirm")
        .bearer(&access)
        .json(&json!({ "code": totp_code(&secret, now()) }))
        .send()
        .await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.text());
    (secret, access)
}

#[tokio::test]
async fn a_parallel_burst_of_wrong_codes_is_throttled_apart_from_passwords_and_the_lock_holds() {
    let app = spawn_app_with(&[
        ("RELAIS_LOGIN_FREE_FAILURES", "1000"),
        ("RELAIS_LOGIN_LOCKOUT_AFTER", "1000"),
        ("RELAIS_LOGIN_ADDRESS_LOCKOUT_AFTER", "1000"),
        ("RELAIS_TOTP_LOCKOUT_AFTER", "5"),
    ])
    .await;
    let account = app.account("practitioner").clone();
    let (secret, _) = enrol(&app, "practitioner").await;
    let right = totp_code(&secret, now() + 30);
    let wrong: Vec<String> = (0..30)
        .map(|i| format!("{:06}", (right.parse::<u32>().unwrap() + 1 + i) % 1_000_000))
        .collect();
    let burst = join_all(
        wrong
            .iter()
            .map(|code| login_with_code(&app, &account.email, &account.password, code)),
    )
    .await;
    // Two codes are free, then each waits 1 s, 2 s, … : the burst meets the first wait.
    let mut checked = count(&burst, 401);
    assert!((3..=4).contains(&checked), "{checked} codes checked in the burst");
    assert_eq!(count(&burst, 429), 30 - checked);
    // Waiting out each backoff reaches the lock at the fifth code checked, never later.
    loop {
        let reply = login_with_code(&app, &account.email, &account.password, &wrong[1]).await;
        if reply.status == 401 {
            assert_eq!(reply.problem(), "totp-invalid");
            checked += 1;
            continue;
        }
        assert_eq!(reply.status, 429);
        let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        if retry > 60 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(retry * 1000 + 100)).await;
    }
    assert_eq!(checked, 5, "the lock falls at the limit");
    // The right code is refused while locked, and further failures keep the lock.
    assert_eq!(
        login_with_code(&app, &account.email, &account.password, &right)
            .await
            .status,
        429
    );
    assert_eq!(
        login_with_code(&app, &account.email, &account.password, &wrong[0])
            .await
            .status,
        429
    );
    // Passwords are counted apart: another account's login from here is untouched.
    let other = app.account("supervisor").clone();
    assert_eq!(app.login_reply(&other.email, &other.password).await.status, 200);
}

#[tokio::test]
async fn sixteen_parallel_refreshes_of_one_token_give_one_200_and_revoke_the_family() {
    let app = spawn_app_with(&[]).await;
    let (_, refresh) = app.login("listener").await;
    let body = json!({ "refresh_token": refresh });
    let replies = join_all((0..16).map(|_| app.post("/v1/auth/refresh").json(&body).send())).await;
    assert_eq!(count(&replies, 200), 1, "one refresh wins");
    assert_eq!(count(&replies, 401), 15);
    // The losers were reuses: the winner's new token is dead too.
    let winner = replies.iter().find(|r| r.status == 200).unwrap().json();
    let next = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": winner["refresh_token"] }))
        .send()
        .await;
    assert_eq!(next.status, 401);
    let access = winner["access_token"].as_str().unwrap();
    assert_eq!(app.get("/v1/me").bearer(access).send().await.status, 401);
}

#[tokio::test]
async fn the_calendar_feed_ends_with_the_account() {
    let app = spawn_app_with(&[]).await;
    let practitioner = app.token("practitioner").await;
    let feed = app.post("/v1/me/calendar-feed").bearer(&practitioner).send().await;
    assert_eq!(feed.status, 201);
    let url = feed.json()["url"].as_str().unwrap().to_owned();
    let path = url[url.find("/calendar/").unwrap()..].to_owned();
    assert_eq!(app.get(&path).send().await.status, 200);
    let id = app.get("/v1/me").bearer(&practitioner).send().await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manager = app.token("manager").await;
    let off = app
        .patch(&format!("/v1/users/{id}"))
        .bearer(&manager)
        .json(&json!({ "active": false }))
        .send()
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(app.get(&path).send().await.status, 404);
}
