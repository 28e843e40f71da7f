//! Backups and restores: a drill against the real binary. Serve and write text-line traffic,
//! cases and housing requests; back up while writing; restore into a fresh folder (and a fresh
//! database on PostgreSQL); start the restored instance and check that the audit chain
//! verifies, sealed fields read back, every conversation and case of the backup is there, and
//! the outbox resumes without resending what was sent. A restore over live data is refused.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use relais_core::db::{DatabaseUrl, Db};
use relais_tests::TestApp;
use relais_tests::fakes::Fake;
use relais_tests::line::{TELEGRAM_SECRET, spawn_line_app};
use relais_tests::process::{Server, relais_binary};
use serde_json::json;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

fn ids(url: &str, sql: &str) -> BTreeSet<String> {
    let db = Db::connect(&DatabaseUrl::parse(url).unwrap(), 1).unwrap();
    let mut conn = db.get().unwrap();
    diesel::sql_query(sql)
        .load::<Id>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Runs `relais ARGS` with only these settings; returns (success, stdout + stderr).
pub fn relais(env: &[(String, String)], args: &[&str]) -> (bool, String) {
    let output = Command::new(relais_binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RELAIS_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("relais runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The settings of an instance on this data folder and database.
pub fn instance_env(data_dir: &std::path::Path, database_url: &str) -> Vec<(String, String)> {
    vec![
        ("RELAIS_DATA_DIR".into(), data_dir.display().to_string()),
        ("RELAIS_DATABASE_URL".into(), database_url.to_owned()),
    ]
}

async fn created(app: &TestApp, token: &str, path: &str, body: serde_json::Value) -> String {
    let reply = app.post(path).bearer(token).json(&body).send().await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.text());
    reply.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_backup_taken_while_writing_restores_into_a_working_instance() {
    // Replies in flight at the backup are claimed in the copy: short leases bring them back.
    let app = spawn_line_app(&[("RELAIS_DELIVERY_LEASE_SECONDS", "2")]).await;
    let source_url = app.state.settings.database.url.clone();
    let source_env = instance_env(app.data_dir.path(), &source_url);
    let practitioner = app.token("practitioner").await;

    // A day's worth, in small: conversations, cases with sealed identities and notes, housing.
    for chat in 0..12i64 {
        app.telegram_says(70_000 + chat, "Bonjour").await;
    }
    let mut cases = Vec::new();
    for i in 0..4 {
        let case = created(
            &app,
            &practitioner,
            "/v1/cases",
            json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": format!("Marc Dupont {i}"), "date_of_birth": "1980-04-02" } }),
        )
        .await;
        created(
            &app,
            &practitioner,
            &format!("/v1/cases/{case}/notes"),
            json!({ "body": format!("Note de suivi {i}") }),
        )
        .await;
        cases.push(case);
    }
    let housed = created(
        &app,
        &practitioner,
        "/v1/cases",
        json!({ "origin": "justice", "legal_basis": "court_ordered" }),
    )
    .await;
    let request = created(
        &app,
        &practitioner,
        &format!("/v1/cases/{housed}/housing-requests"),
        json!({ "first_night": "2027-01-10", "last_night": "2027-01-12", "urgency": "tonight" }),
    )
    .await;
    app.outbox_drained().await;
    let sent_before = app.telegram_fake().recorder.calls().len();
    assert!(
        sent_before >= 12,
        "the greetings went out before the backup: {sent_before}"
    );
    let conversations_before = ids(&source_url, "SELECT id FROM conversations");
    let cases_before = ids(&source_url, "SELECT id FROM cases");
    assert_eq!(conversations_before.len(), 12);

    // Writers keep going while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let url = format!("{}/webhooks/telegram", app.address);
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acknowledged = 0;
            let mut chat = 80_000i64;
            while !stop.load(Ordering::Relaxed) {
                let update = TestApp::telegram_update(chat, "Bonjour");
                let reply = client
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET)
                    .json(&update)
                    .send()
                    .await;
                if reply.is_ok_and(|r| r.status().is_success()) {
                    acknowledged += 1;
                }
                chat += 1;
                // A steady flow, not a flood: what the copy leaves pending drains in seconds.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let backup = tempfile::tempdir().unwrap();
    let folder = backup.path().join("b1");
    let (ok, out) = {
        let env = source_env.clone();
        let folder = folder.display().to_string();
        tokio::task::spawn_blocking(move || relais(&env, &["backup", &folder]))
            .await
            .unwrap()
    };
    assert!(ok, "relais backup: {out}");
    stop.store(true, Ordering::Relaxed);
    let during = writer.await.unwrap();
    assert!(during > 0, "messages were acknowledged while backing up");

    // The keys are in their own file, never in the database copy.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("manifest.json")).unwrap()).unwrap();
    let secrets_text = std::fs::read_to_string(folder.join("SECRETS-keep-apart.keys")).unwrap();
    assert!(secrets_text.starts_with("# RELAIS SECRETS"));
    let field_key = std::fs::read_to_string(app.data_dir.path().join("secrets/field.key")).unwrap();
    assert!(secrets_text.contains(field_key.trim()));
    let copy = std::fs::read(folder.join(manifest["database_file"].as_str().unwrap())).unwrap();
    for key in ["jwt.key", "hmac_pepper.key", "field.key"] {
        let key = std::fs::read_to_string(app.data_dir.path().join("secrets").join(key)).unwrap();
        let needle = key.trim().as_bytes();
        assert!(
            !copy.windows(needle.len()).any(|w| w == needle),
            "a key is inside the database copy"
        );
    }
    assert!(manifest["audit_head"]["seq"].as_i64().unwrap() > 0);

    // A restore over live data is refused and changes nothing.
    let (ok, out) = relais(&source_env, &["restore", &folder.display().to_string()]);
    assert!(!ok, "a restore over the live instance was refused");
    assert!(out.contains("holds"), "{out}");

    // Restore into a fresh folder (and a fresh database on PostgreSQL).
    let fresh = tempfile::tempdir().unwrap();
    let fresh_pg = app
        .database_url
        .as_ref()
        .map(|_| relais_tests::postgres::TestDatabase::create(&std::env::var("TEST_DATABASE_URL").unwrap()));
    let restored_url = match &fresh_pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}/relais.sqlite3", fresh.path().display()),
    };
    let restored_env = instance_env(fresh.path(), &restored_url);
    let (ok, out) = relais(&restored_env, &["restore", &folder.display().to_string()]);
    assert!(ok, "relais restore: {out}");
    let (ok, out) = relais(&restored_env, &["audit", "verify"]);
    assert!(ok && out.contains("intact"), "{out}");

    // Every conversation and case of the backup is there, and nothing that was not written.
    let conversations_after = ids(&restored_url, "SELECT id FROM conversations");
    let cases_after = ids(&restored_url, "SELECT id FROM cases");
    assert!(conversations_before.is_subset(&conversations_after));
    assert!(conversations_after.is_subset(&ids(&source_url, "SELECT id FROM conversations")));
    assert_eq!(cases_before, cases_after);

    // Start it: sealed fields read back through the API, and the outbox sends only what was
    // still pending in the copy, never a reply the original had already sent.
    let telegram = Fake::telegram();
    let mut env = restored_env.clone();
    env.extend(
        [
            ("RELAIS_TELEGRAM_TOKEN", "123456:TEST-TOKEN".to_owned()),
            ("RELAIS_TELEGRAM_API_URL", telegram.url.clone()),
            ("RELAIS_TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET.to_owned()),
            ("RELAIS_HELPLINE_HOURS", "mon-sun 00:00-24:00".to_owned()),
            ("RELAIS_DELIVERY_LEASE_SECONDS", "2".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let server = Server::start(&env).await;
    let client = reqwest::Client::new();
    let account = app.account("practitioner");
    let login: serde_json::Value = client
        .post(format!("{}/v1/auth/login", server.url))
        .json(&json!({ "email": account.email, "password": account.password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("the restored instance logs in");
    for (i, case) in cases.iter().enumerate() {
        let read: serde_json::Value = client
            .get(format!("{}/v1/cases/{case}", server.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(read["identity"]["name"], format!("Marc Dupont {i}"));
        let notes = client
            .get(format!("{}/v1/cases/{case}/notes", server.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(notes.contains(&format!("Note de suivi {i}")), "{notes}");
    }
    let housing = client
        .get(format!("{}/v1/housing/requests/{request}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(housing.status(), 200);

    let db = Db::connect(&DatabaseUrl::parse(&restored_url).unwrap(), 1).unwrap();
    let mut drained = false;
    for _ in 0..600 {
        let (pending, _) = relais_core::helpline::outbox::depth(&mut db.get().unwrap(), chrono::Utc::now()).unwrap();
        if pending == 0 {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    #[derive(QueryableByName, Debug)]
    #[allow(dead_code)]
    struct Left {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        last_error: Option<String>,
    }
    let left: Vec<Left> =
        diesel::sql_query("SELECT status, attempts, last_error FROM outbox WHERE status IN ('pending', 'sending')")
            .load(&mut *db.get().unwrap())
            .unwrap();
    assert!(drained, "the restored outbox drained: {left:?}");
    let resent: Vec<_> = telegram
        .recorder
        .calls()
        .into_iter()
        .filter(|c| c.method == "sendMessage")
        .filter(|c| (70_000..70_012).contains(&c.body["chat_id"].as_i64().unwrap_or(0)))
        .collect();
    assert!(
        resent.is_empty(),
        "replies sent before the backup went out again: {resent:?}"
    );
    drop(server);
    drop(fresh_pg);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(url: &str, sql: &str) -> i64 {
    let db = Db::connect(&DatabaseUrl::parse(url).unwrap(), 1).unwrap();
    let mut conn = db.get().unwrap();
    diesel::sql_query(sql).get_result::<Count>(&mut *conn).unwrap().n
}

#[tokio::test]
async fn an_anchor_shows_a_truncated_trail_and_a_forged_line() {
    let app = relais_tests::spawn_app_with(&[
        ("RELAIS_AUDIT_ANCHOR_SECONDS", "1"),
        ("RELAIS_AUDIT_ANCHOR_RECIPIENTS", "audit@example.org"),
    ])
    .await;
    let url = app.state.settings.database.url.clone();
    let env = instance_env(app.data_dir.path(), &url);
    let practitioner = app.token("practitioner").await;
    for i in 0..3 {
        created(
            &app,
            &practitioner,
            "/v1/cases",
            json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": format!("Anchored {i}") } }),
        )
        .await;
    }
    // The server anchors the head by itself and mails the line.
    let file = app.data_dir.path().join("audit-anchors.txt");
    let head = count(&url, "SELECT MAX(seq) AS n FROM audit_log");
    let mut anchored = String::new();
    for _ in 0..100 {
        anchored = std::fs::read_to_string(&file).unwrap_or_default();
        if anchored.contains(&format!(" seq={head} ")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        anchored.contains(&format!(" seq={head} ")),
        "the head {head} was anchored: {anchored}"
    );
    assert!(
        count(
            &url,
            "SELECT COUNT(*) AS n FROM email_outbox WHERE to_address = 'audit@example.org'"
        ) >= 1
    );
    let (ok, out) = relais(&env, &["audit", "anchor"]);
    assert!(ok, "{out}");
    let file_arg = file.display().to_string();
    let (ok, out) = relais(&env, &["audit", "verify", "--anchor", &file_arg]);
    assert!(ok && out.contains("anchor(s) hold"), "{out}");

    // A forged line: a later sequence with a made-up signature.
    let forged_file = app.data_dir.path().join("forged.txt");
    let last = anchored.lines().last().unwrap().to_owned();
    let forged = last.replace(&format!(" seq={head} "), &format!(" seq={} ", head - 1));
    std::fs::write(&forged_file, format!("{anchored}{forged}\n")).unwrap();
    let (ok, out) = relais(
        &env,
        &["audit", "verify", "--anchor", &forged_file.display().to_string()],
    );
    assert!(!ok && out.contains("signature does not hold"), "{out}");

    // Deleting the tail: the chain alone still verifies, the anchor does not.
    {
        let db = Db::connect(&DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
        let mut conn = db.direct().unwrap();
        // As someone with the database's own rights would: the guard goes first.
        let drop_guard = if url.starts_with("postgres") {
            "DROP TRIGGER audit_log_no_change ON audit_log"
        } else {
            "DROP TRIGGER audit_log_no_delete"
        };
        diesel::sql_query(drop_guard).execute(&mut *conn).unwrap();
        diesel::sql_query(format!("DELETE FROM audit_log WHERE seq > {}", head - 2))
            .execute(&mut *conn)
            .unwrap();
    }
    let (ok, out) = relais(&env, &["audit", "verify"]);
    assert!(ok, "tail deletion is invisible to the chain alone: {out}");
    let (ok, out) = relais(&env, &["audit", "verify", "--anchor", &file_arg]);
    assert!(!ok && out.contains("truncated"), "{out}");
}

#[tokio::test]
async fn rotated_keys_read_the_data_back_find_the_contact_and_end_old_tokens() {
    let app = spawn_line_app(&[]).await;
    let url = app.state.settings.database.url.clone();
    let env = instance_env(app.data_dir.path(), &url);
    let practitioner = app.token("practitioner").await;
    app.telegram_says(91_001, "Bonjour").await;
    let case = created(
        &app,
        &practitioner,
        "/v1/cases",
        json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": "Rotated Dupont" } }),
    )
    .await;
    created(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/notes"),
        json!({ "body": "Note scellée" }),
    )
    .await;
    app.outbox_drained().await;
    let (ok, out) = relais(&env, &["audit", "anchor"]);
    assert!(ok, "{out}");
    let before = std::fs::read(app.data_dir.path().join("secrets/field.key")).unwrap();
    let lookup_before = ids(&url, "SELECT address_hmac AS id FROM contacts");

    let (ok, out) = relais(&env, &["rotate-keys"]);
    assert!(ok, "relais rotate-keys: {out}");
    assert_ne!(
        std::fs::read(app.data_dir.path().join("secrets/field.key")).unwrap(),
        before
    );
    assert!(
        !ids(&url, "SELECT address_hmac AS id FROM contacts")
            .iter()
            .any(|k| lookup_before.contains(k))
    );
    let anchors = app.data_dir.path().join("audit-anchors.txt").display().to_string();
    let (ok, out) = relais(&env, &["audit", "verify", "--anchor", &anchors]);
    assert!(ok, "the chain and the re-signed anchors hold: {out}");
    assert!(
        count(
            &url,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'keys.resealed'"
        ) > 5
    );

    // A new instance on the new keys.
    let telegram = Fake::telegram();
    let mut server_env = env.clone();
    server_env.extend(
        [
            ("RELAIS_TELEGRAM_TOKEN", "123456:TEST-TOKEN".to_owned()),
            ("RELAIS_TELEGRAM_API_URL", telegram.url.clone()),
            ("RELAIS_TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET.to_owned()),
            ("RELAIS_HELPLINE_HOURS", "mon-sun 00:00-24:00".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let server = Server::start(&server_env).await;
    let client = reqwest::Client::new();
    let old_token = client
        .get(format!("{}/v1/me", server.url))
        .bearer_auth(&practitioner)
        .send()
        .await
        .unwrap();
    assert_eq!(old_token.status(), 401, "a token signed with the old key ends");
    let account = app.account("practitioner");
    let login: serde_json::Value = client
        .post(format!("{}/v1/auth/login", server.url))
        .json(&json!({ "email": account.email, "password": account.password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("login after rotation");
    let read: serde_json::Value = client
        .get(format!("{}/v1/cases/{case}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["identity"]["name"], "Rotated Dupont");
    let notes = client
        .get(format!("{}/v1/cases/{case}/notes", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(notes.contains("Note scellée"), "{notes}");

    // The same person writes again: found by the new lookup, answered at the same address.
    let contacts = count(&url, "SELECT COUNT(*) AS n FROM contacts");
    let reply = client
        .post(format!("{}/webhooks/telegram", server.url))
        .header("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET)
        .json(&TestApp::telegram_update(91_001, "Je voudrais parler à quelqu'un"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM contacts"),
        contacts,
        "no new contact"
    );
    telegram
        .recorder
        .wait_for(1, relais_tests::wait::BOUND, |c| {
            c.method == "sendMessage" && c.body["chat_id"].as_i64() == Some(91_001)
        })
        .await
        .expect("the reply reaches the same chat");
    drop(server);
}
