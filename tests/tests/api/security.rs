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

/// Enrols the demo account's second factor with its password and enrolment code; returns
/// its secret and the session that did it.
async fn enrol(app: &TestApp, who: &str) -> (String, String) {
    let account = app.account(who).clone();
    let code = account
        .enrolment_code
        .clone()
        .expect("a demo account without a factor has a code");
    let (access, _) = app.login(who).await;
    let secret = enrol_with(app, &access, &account.password, &code).await;
    (secret, access)
}

async fn start_enrolment(app: &TestApp, access: &str, password: &str, enrolment_code: &str) -> Reply {
    app.post("/v1/auth/totp/enrol")
        .bearer(access)
        .json(&json!({ "password": password, "enrolment_code": enrolment_code }))
        .send()
        .await
}

async fn confirm_enrolment(app: &TestApp, access: &str, secret: &str, enrolment_code: &str) -> Reply {
    app.post("/v1/auth/totp/confirm")
        .bearer(access)
        .json(&json!({ "code": totp_code(secret, now()), "enrolment_code": enrolment_code }))
        .send()
        .await
}

async fn enrol_with(app: &TestApp, access: &str, password: &str, enrolment_code: &str) -> String {
    let enrolment = start_enrolment(app, access, password, enrolment_code).await;
    assert_eq!(enrolment.status, 200, "{}", enrolment.text());
    let secret = enrolment.json()["secret"].as_str().unwrap().to_owned();
    let confirmed = confirm_enrolment(app, access, &secret, enrolment_code).await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.text());
    secret
}

async fn user_id(app: &TestApp, access: &str) -> String {
    app.get("/v1/me").bearer(access).send().await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_stolen_password_alone_cannot_enrol_the_second_factor() {
    let app = spawn_app_with(&[("RELAIS_REQUIRE_TOTP", "true")]).await;
    let account = app.account("practitioner").clone();
    let real_code = account.enrolment_code.clone().unwrap();
    // The thief logs in with the password: a session without a second factor.
    let (thief, _) = app.login("practitioner").await;
    let org = app.get("/v1/me").bearer(&thief).send().await.json()["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = format!("/v1/organisations/{org}/users");
    assert_eq!(app.get(&cases).bearer(&thief).send().await.status, 403);
    // Without a code, with a guessed one, or with the code and a wrong password: refused.
    let without = app
        .post("/v1/auth/totp/enrol")
        .bearer(&thief)
        .json(&json!({ "password": account.password }))
        .send()
        .await;
    assert_eq!(without.status, 400);
    let guessed = start_enrolment(&app, &thief, &account.password, "ABCDEFGHJKMNPQRS").await;
    assert_eq!(guessed.status, 403);
    assert_eq!(guessed.problem(), "enrolment-refused");
    assert!(guessed.json()["detail"].as_str().unwrap().starts_with("Mot de passe"));
    let wrong_password = start_enrolment(&app, &thief, "not the password", &real_code).await;
    assert_eq!(wrong_password.status, 403);
    // Confirming needs the code as well.
    let confirm = app
        .post("/v1/auth/totp/confirm")
        .bearer(&thief)
        .json(&json!({ "code": "123456", "enrolment_code": "ABCDEFGHJKMNPQRS" }))
        .send()
        .await;
    assert_eq!(confirm.status, 403);
    assert_eq!(confirm.problem(), "enrolment-refused");
    // The thief's session still reaches nothing.
    assert_eq!(app.get(&cases).bearer(&thief).send().await.status, 403);
    // The thief's failures count against the account: the owner waits out the short backoff,
    // then, with the code handed over by the manager, enrols.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (owner, _) = app.login("practitioner").await;
    enrol_with(&app, &owner, &account.password, &real_code).await;
    assert_eq!(app.get(&cases).bearer(&owner).send().await.status, 200);
}

#[tokio::test]
async fn wrong_enrolment_codes_are_counted_and_throttled() {
    let app = spawn_app_with(&[
        ("RELAIS_LOGIN_FREE_FAILURES", "1000"),
        ("RELAIS_LOGIN_LOCKOUT_AFTER", "1000"),
        ("RELAIS_LOGIN_ADDRESS_LOCKOUT_AFTER", "1000"),
        ("RELAIS_TOTP_LOCKOUT_AFTER", "5"),
    ])
    .await;
    let account = app.account("listener").clone();
    let (access, _) = app.login("listener").await;
    let guesses: Vec<String> = (0..20).map(|i| format!("ABCDEFGHJKMNP{:03}", 200 + i)).collect();
    let burst = join_all(
        guesses
            .iter()
            .map(|g| start_enrolment(&app, &access, &account.password, g)),
    )
    .await;
    let refused = count(&burst, 403);
    assert!((3..=4).contains(&refused), "{refused} guesses checked");
    assert_eq!(count(&burst, 429), 20 - refused);
}

#[tokio::test]
async fn an_enrolment_code_is_issued_by_a_manager_shown_once_used_once_and_expires() {
    let app = spawn_app_with(&[]).await;
    let practitioner = app.account("practitioner").clone();
    let (access, _) = app.login("practitioner").await;
    let id = user_id(&app, &access).await;
    let manager = app.token("manager").await;
    // A colleague who is no manager may not issue one.
    let colleague = app.token("practitioner").await;
    let path = format!("/v1/users/{id}/enrolment-code");
    assert_eq!(app.post(&path).bearer(&colleague).send().await.status, 403);
    let issued = app.post(&path).bearer(&manager).send().await;
    assert_eq!(issued.status, 201, "{}", issued.text());
    assert_eq!(issued.header("cache-control").as_deref(), Some("no-store"));
    let code = issued.json()["enrolment_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 16);
    assert!(code.chars().all(|c| "23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(c)));
    // The demo's earlier code is replaced: one live code per account.
    let old = start_enrolment(
        &app,
        &access,
        &practitioner.password,
        practitioner.enrolment_code.as_ref().unwrap(),
    )
    .await;
    assert_eq!(old.status, 403);
    // Typed in lower case with dashes, it works once.
    let typed = format!("{}-{}", code[..8].to_lowercase(), &code[8..]);
    enrol_with(&app, &access, &practitioner.password, &typed).await;
    // Never stored nor audited in clear.
    assert!(!app.stored_text().contains(&code));
    // Used: even with the factor gone again behind the server's back, the code is spent.
    use diesel::connection::SimpleConnection as _;
    app.conn()
        .batch_execute(&format!(
            "UPDATE users SET totp_enabled = FALSE, totp_secret = NULL, totp_last_step = NULL WHERE id = '{id}'"
        ))
        .unwrap();
    let (again, _) = app.login("practitioner").await;
    let reused = start_enrolment(&app, &again, &practitioner.password, &code).await;
    assert_eq!(reused.status, 403);
    assert_eq!(reused.problem(), "enrolment-refused");
    // A fresh code, past its 72 hours, is refused.
    let fresh = app.post(&path).bearer(&manager).send().await.json()["enrolment_code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.conn()
        .batch_execute(&format!(
            "UPDATE enrolment_codes SET expires_at = '2020-01-01 00:00:00' WHERE user_id = '{id}'"
        ))
        .unwrap();
    let expired = start_enrolment(&app, &again, &practitioner.password, &fresh).await;
    assert_eq!(expired.status, 403);
    assert_eq!(expired.problem(), "enrolment-refused");
}

#[tokio::test]
async fn confirming_a_factor_ends_every_other_session_of_the_account() {
    let app = spawn_app_with(&[]).await;
    let (other, other_refresh) = app.login("practitioner").await;
    assert_eq!(app.get("/v1/me").bearer(&other).send().await.status, 200);
    let (_, this) = enrol(&app, "practitioner").await;
    assert_eq!(app.get("/v1/me").bearer(&other).send().await.status, 401);
    let refreshed = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": other_refresh }))
        .send()
        .await;
    assert_eq!(refreshed.status, 401);
    let me = app.get("/v1/me").bearer(&this).send().await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["second_factor"], true);
}

#[tokio::test]
async fn a_totp_reset_ends_the_sessions_and_gives_a_new_enrolment_code() {
    let app = spawn_app_with(&[]).await;
    let account = app.account("practitioner").clone();
    let (_, access) = enrol(&app, "practitioner").await;
    let id = user_id(&app, &access).await;
    let manager = app.token("manager").await;
    let reset = app
        .post(&format!("/v1/users/{id}/totp-reset"))
        .bearer(&manager)
        .send()
        .await;
    assert_eq!(reset.status, 200, "{}", reset.text());
    assert_eq!(reset.header("cache-control").as_deref(), Some("no-store"));
    let code = reset.json()["enrolment_code"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/me").bearer(&access).send().await.status, 401);
    // The person logs in with the password alone and enrols again with the new code.
    let (fresh, _) = app.login("practitioner").await;
    enrol_with(&app, &fresh, &account.password, &code).await;
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

/// A new calendar feed for the caller: its path, checked to answer 200.
async fn calendar_feed(app: &relais_tests::TestApp, token: &str) -> String {
    let feed = app.post("/v1/me/calendar-feed").bearer(token).send().await;
    assert_eq!(feed.status, 201);
    let url = feed.json()["url"].as_str().unwrap().to_owned();
    let path = url[url.find("/calendar/").unwrap()..].to_owned();
    assert_eq!(app.get(&path).send().await.status, 200);
    path
}

#[tokio::test]
async fn the_calendar_feed_ends_with_the_account() {
    let app = spawn_app_with(&[]).await;
    let practitioner = app.token("practitioner").await;
    let path = calendar_feed(&app, &practitioner).await;
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

#[tokio::test]
async fn the_calendar_feed_ends_with_the_organisation() {
    let app = spawn_app_with(&[]).await;
    let practitioner = app.token("practitioner").await;
    let path = calendar_feed(&app, &practitioner).await;
    let centre = app.get("/v1/me").bearer(&practitioner).send().await.json()["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = app.token("admin").await;
    let set = |active: bool| {
        app.patch(&format!("/v1/organisations/{centre}"))
            .bearer(&admin)
            .json(&json!({ "active": active }))
            .send()
    };
    assert_eq!(set(false).await.status, 200);
    assert_eq!(app.get(&path).send().await.status, 404, "the centre is deactivated");
    assert_eq!(set(true).await.status, 200);
    assert_eq!(app.get(&path).send().await.status, 200, "the centre is back");
}
