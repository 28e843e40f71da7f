//! Login, refresh, logout, throttling, enumeration and the second factor.

use relais_tests::{spawn_app, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn login_returns_tokens_that_reach_me() {
    let app = spawn_app().await;
    let (access, refresh) = app.login("practitioner").await;
    assert!(!refresh.is_empty());
    let me = app.get("/v1/me").bearer(&access).send().await;
    assert_eq!(me.status, 200);
    let body = me.json();
    assert_eq!(body["kind"], "staff");
    assert_eq!(body["user"]["email"], "practitioner@demo.relais.example");
    assert_eq!(body["roles"], json!(["practitioner"]));
    assert_eq!(body["organisation"]["name"], "CPCA Île-de-France Est");
}

#[tokio::test]
async fn requests_without_a_token_are_refused() {
    let app = spawn_app().await;
    let reply = app.get("/v1/me").send().await;
    assert_eq!(reply.status, 401);
    assert!(reply.header("www-authenticate").is_some());
}

#[tokio::test]
async fn a_wrong_email_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let known = app.account("listener").email.clone();
    // Both paths run one argon2 verification (an unknown email against a decoy hash:
    // relais_core::auth::login); timing them here would flake on a loaded machine.
    for i in 0..3 {
        let a = app.login_reply(&known, &format!("not-the-password-{i}")).await;
        let b = app
            .login_reply(
                &format!("nobody{i}@demo.relais.example"),
                &format!("not-the-password-{i}"),
            )
            .await;
        assert_eq!(a.status, 401);
        assert_eq!(a.status, b.status);
        assert_eq!(a.json(), b.json(), "identical bodies");
        assert_eq!(a.header("retry-after"), b.header("retry-after"), "identical headers");
    }
}

#[tokio::test]
async fn repeated_failures_slow_down_then_lock_the_account_and_unknown_emails_alike() {
    let app = spawn_app_with(&[("RELAIS_LOGIN_FREE_FAILURES", "2"), ("RELAIS_LOGIN_LOCKOUT_AFTER", "3")]).await;
    let account = app.account("listener").clone();
    for email in [account.email.as_str(), "ghost@demo.relais.example"] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(app.login_reply(email, "wrong password!!").await.status);
        }
        assert_eq!(&statuses[..3], &[401, 401, 401], "{email}: {statuses:?}");
        assert!(statuses[3..].iter().all(|s| *s == 429), "{email}: {statuses:?}");
    }
    // Locked: even the right password is refused now, with a Retry-After.
    let locked = app.login_reply(&account.email, &account.password).await;
    assert_eq!(locked.status, 429);
    let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 60 && retry <= 900, "{retry}");
    // Another account is unaffected.
    let other = app.account("supervisor");
    assert_eq!(app.login_reply(&other.email, &other.password).await.status, 200);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_family() {
    let app = spawn_app().await;
    let (access, first) = app.login("listener").await;

    let rotated = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": first }))
        .send()
        .await;
    assert_eq!(rotated.status, 200);
    let second = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
    let second_access = rotated.json()["access_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);

    // The first token again: theft is assumed, the whole family dies.
    let reuse = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": first }))
        .send()
        .await;
    assert_eq!(reuse.status, 401);
    let next = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": second }))
        .send()
        .await;
    assert_eq!(next.status, 401, "the newest token of the family is revoked too");
    assert_eq!(app.get("/v1/me").bearer(&second_access).send().await.status, 401);
    assert_eq!(app.get("/v1/me").bearer(&access).send().await.status, 401);

    // Another session of the same person is untouched.
    let (other, _) = app.login("listener").await;
    assert_eq!(app.get("/v1/me").bearer(&other).send().await.status, 200);
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = spawn_app().await;
    let (access, refresh) = app.login("practitioner").await;
    assert_eq!(app.post("/v1/auth/logout").bearer(&access).send().await.status, 204);
    assert_eq!(app.get("/v1/me").bearer(&access).send().await.status, 401);
    let reply = app
        .post("/v1/auth/refresh")
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn deactivating_an_account_ends_its_sessions() {
    let app = spawn_app().await;
    let (practitioner, _) = app.login("practitioner").await;
    let me = app.get("/v1/me").bearer(&practitioner).send().await.json();
    let id = me["user"]["id"].as_str().unwrap().to_owned();
    let manager = app.token("manager").await;
    let reply = app
        .patch(&format!("/v1/users/{id}"))
        .bearer(&manager)
        .json(&json!({ "active": false }))
        .send()
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["active"], false);
    assert_eq!(app.get("/v1/me").bearer(&practitioner).send().await.status, 401);
    let account = app.account("practitioner");
    assert_eq!(app.login_reply(&account.email, &account.password).await.status, 401);
}

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

#[tokio::test]
async fn the_second_factor_is_required_enrolled_confirmed_and_checked_at_login() {
    let app = spawn_app_with(&[("RELAIS_REQUIRE_TOTP", "true")]).await;
    let account = app.account("practitioner").clone();
    let (access, _) = app.login("practitioner").await;

    // Without a second factor, personal data is out of reach; `me` says why.
    let me = app.get("/v1/me").bearer(&access).send().await.json();
    assert_eq!(me["second_factor_required"], true);
    assert_eq!(me["second_factor"], false);
    let org = me["organisation"]["id"].as_str().unwrap().to_owned();
    let blocked = app
        .get(&format!("/v1/organisations/{org}/users"))
        .bearer(&access)
        .send()
        .await;
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.problem(), "second-factor-required");

    // Enrol, then a wrong code is refused, then the right code confirms.
    let enrolment_code = account.enrolment_code.clone().unwrap();
    let enrolment = app
        .post("/v1/auth/totp/enrol")
        .bearer(&access)
        .json(&json!({ "password": account.password, "enrolment_code": enrolment_code }))
        .send()
        .await;
    assert_eq!(enrolment.status, 200, "{}", enrolment.text());
    let secret = enrolment.json()["secret"].as_str().unwrap().to_owned();
    assert!(
        enrolment.json()["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let wrong = app
        .post("/v1/auth/totp/confirm")
        .bearer(&access)
        .json(&json!({ "code": "000000", "enrolment_code": enrolment_code }))
        .send()
        .await;
    assert_eq!(wrong.status, 400);
    let t = now();
    let code = totp_code(&secret, t);
    let confirmed = app
        .post("/v1/auth/totp/confirm")
        .bearer(&access)
        .json(&json!({ "code": code, "enrolment_code": enrolment_code }))
        .send()
        .await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.text());
    assert_eq!(
        app.get(&format!("/v1/organisations/{org}/users"))
            .bearer(&access)
            .send()
            .await
            .status,
        200
    );

    // From now on the password alone is not enough.
    let without = app.login_reply(&account.email, &account.password).await;
    assert_eq!(without.status, 401);
    assert_eq!(without.problem(), "totp-required");
    // The code just used cannot be replayed.
    let replay = app
        .post("/v1/auth/login")
        .json(&json!({ "email": account.email, "password": account.password, "totp": code }))
        .send()
        .await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.problem(), "totp-invalid");
    // The next code works, and the session has passed the second factor.
    let next = totp_code(&secret, t + 30);
    let ok = app
        .post("/v1/auth/login")
        .json(&json!({ "email": account.email, "password": account.password, "totp": next }))
        .send()
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let token = ok.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/v1/me").bearer(&token).send().await.json()["second_factor"],
        true
    );
}

#[tokio::test]
async fn roles_without_personal_data_need_no_second_factor() {
    let app = spawn_app_with(&[("RELAIS_REQUIRE_TOTP", "true")]).await;
    let coordinator = app.token("coordinator").await;
    let me = app.get("/v1/me").bearer(&coordinator).send().await.json();
    assert_eq!(me["second_factor_required"], false);
    assert_eq!(
        app.get("/v1/organisations").bearer(&coordinator).send().await.status,
        200
    );
}

#[tokio::test]
async fn partner_api_keys_are_scoped_to_their_organisation_and_revocable() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let partner = app.organisation_id("SPIP de Paris").await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;

    let refused = app
        .post(&format!("/v1/organisations/{centre}/api-keys"))
        .bearer(&admin)
        .json(&json!({ "name": "x" }))
        .send()
        .await;
    assert_eq!(refused.status, 400, "keys are for partner organisations only");

    let created = app
        .post(&format!("/v1/organisations/{partner}/api-keys"))
        .bearer(&admin)
        .json(&json!({ "name": "SPIP integration" }))
        .send()
        .await;
    assert_eq!(created.status, 201);
    let key = created.json()["secret"].as_str().unwrap().to_owned();
    let key_id = created.json()["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("relais_pk_"));

    // The key is stored hashed: the database never holds it.
    let listed = app
        .get(&format!("/v1/organisations/{partner}/api-keys"))
        .bearer(&admin)
        .send()
        .await
        .json();
    assert!(!listed.to_string().contains(&key));
    {
        use diesel::prelude::*;
        let mut conn = app.conn();
        let stored: Vec<String> = diesel::sql_query("SELECT key_hash AS value FROM api_keys")
            .load::<Text>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|t| t.value)
            .collect();
        assert!(!stored.iter().any(|h| h.contains(&key[10..])));
    }

    let me = app.get("/v1/me").bearer(&key).send().await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["kind"], "partner");
    assert_eq!(me.json()["organisation"]["id"], partner.as_str());
    assert_eq!(
        app.get(&format!("/v1/organisations/{partner}"))
            .bearer(&key)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/v1/organisations/{centre}"))
            .bearer(&key)
            .send()
            .await
            .status,
        404
    );
    let orgs = app.get("/v1/organisations").bearer(&key).send().await.json();
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1);

    assert_eq!(
        app.delete(&format!("/v1/api-keys/{key_id}"))
            .bearer(&admin)
            .send()
            .await
            .status,
        204
    );
    assert_eq!(app.get("/v1/me").bearer(&key).send().await.status, 401);
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}
