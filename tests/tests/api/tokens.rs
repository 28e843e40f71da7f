//! Tampered access tokens are refused with 401.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use relais_tests::spawn_app;
use serde_json::{Value, json};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key)).unwrap()
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let token = app.token("admin").await;
    assert_eq!(app.get("/v1/me").bearer(&token).send().await.status, 200);
    let claims = claims_of(&token);
    let key = app.app_state().secrets.jwt_key.expose().to_vec();
    let now = chrono::Utc::now().timestamp();

    // The real key re-signs the unchanged claims: accepted (the test's own control).
    assert_eq!(app.get("/v1/me").bearer(&sign(&claims, &key)).send().await.status, 200);

    let mut cases: Vec<(&str, String)> = Vec::new();

    // alg: none, no signature.
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT" }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    cases.push(("alg none", format!("{header}.{payload}.")));

    // Another algorithm family with the same secret (HS512): the algorithm is pinned.
    let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(&key)).unwrap();
    cases.push(("HS512", hs512));

    // A wrong key.
    cases.push(("wrong key", sign(&claims, b"another key entirely, 32 bytes or more!!")));

    // Expired.
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 7200);
    expired["nbf"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    cases.push(("expired", sign(&expired, &key)));

    // Not yet valid.
    let mut early = claims.clone();
    early["nbf"] = json!(now + 3600);
    early["exp"] = json!(now + 7200);
    cases.push(("not before", sign(&early, &key)));

    // Wrong audience, wrong issuer.
    let mut audience = claims.clone();
    audience["aud"] = json!("someone-else");
    cases.push(("audience", sign(&audience, &key)));
    let mut issuer = claims.clone();
    issuer["iss"] = json!("someone-else");
    cases.push(("issuer", sign(&issuer, &key)));

    // Missing exp.
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    cases.push(("no exp", sign(&no_exp, &key)));

    // A flipped byte of the payload, signature kept.
    let parts: Vec<&str> = token.split('.').collect();
    let mut raw = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
    let i = raw.iter().position(|b| *b == b'r').unwrap();
    raw[i] = b's';
    cases.push((
        "flipped payload byte",
        format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(raw), parts[2]),
    ));

    // Garbage.
    cases.push(("garbage", "not.a.token".to_owned()));

    for (name, bad) in cases {
        let reply = app.get("/v1/me").bearer(&bad).send().await;
        assert_eq!(reply.status, 401, "{name} must be refused");
        assert_eq!(reply.problem(), "unauthenticated", "{name}");
    }
}

#[tokio::test]
async fn a_token_for_a_session_that_does_not_exist_is_refused() {
    let app = spawn_app().await;
    let token = app.token("admin").await;
    let mut claims = claims_of(&token);
    claims["sid"] = json!(uuid::Uuid::new_v4().to_string());
    let key = app.app_state().secrets.jwt_key.expose().to_vec();
    assert_eq!(app.get("/v1/me").bearer(&sign(&claims, &key)).send().await.status, 401);
}
