//! The audit trail: logins and account changes recorded, hash chain verified, tampering found.

use diesel::connection::SimpleConnection as _;
use relais_tests::{TestApp, spawn_app};
use serde_json::json;

fn actions(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    use relais_core::db::schema::audit_log;
    let mut conn = app.conn();
    audit_log::table
        .select(audit_log::action)
        .order(audit_log::seq.asc())
        .load(&mut *conn)
        .unwrap()
}

fn drop_append_only_guard(app: &TestApp) {
    // What someone with direct database access could do; the chain must still tell.
    let sql = match app.app_state().database.backend() {
        "postgres" => "DROP TRIGGER audit_log_no_change ON audit_log",
        _ => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
    };
    app.conn().batch_execute(sql).unwrap();
}

async fn verify(app: &TestApp) -> serde_json::Value {
    let admin = app.token("admin").await;
    let reply = app.get("/v1/audit/verify").bearer(&admin).send().await;
    assert_eq!(reply.status, 200);
    reply.json()
}

#[tokio::test]
async fn logins_failures_and_account_changes_are_audited() {
    let app = spawn_app().await;
    let listener = app.account("listener").clone();
    app.login_reply(&listener.email, "a wrong password").await;
    app.login("listener").await;
    let manager = app.token("supervisor").await;
    let me = app
        .get("/v1/me")
        .bearer(&app.token("listener").await)
        .send()
        .await
        .json();
    let id = me["user"]["id"].as_str().unwrap();
    app.patch(&format!("/v1/users/{id}"))
        .bearer(&manager)
        .json(&json!({ "display_name": "Léa É." }))
        .send()
        .await;
    let recorded = actions(&app);
    for expected in [
        "organisation.create",
        "user.create",
        "auth.login_failed",
        "auth.login",
        "user.update",
    ] {
        assert!(
            recorded.iter().any(|a| a == expected),
            "{expected} missing from {recorded:?}"
        );
    }
}

#[tokio::test]
async fn audit_entries_hold_no_credentials_or_emails() {
    let app = spawn_app().await;
    let listener = app.account("listener").clone();
    app.login_reply(&listener.email, "my secret attempt").await;
    app.login_reply("unknown.person@example.org", "another secret").await;
    let mut conn = app.conn();
    use diesel::prelude::*;
    use relais_core::db::schema::audit_log;
    let details: Vec<String> = audit_log::table.select(audit_log::details).load(&mut *conn).unwrap();
    let all = details.join("\n");
    for secret in [
        "my secret attempt",
        "another secret",
        "unknown.person",
        &listener.email,
        &listener.password,
    ] {
        assert!(!all.contains(secret), "{secret} leaked into the audit trail");
    }
}

#[tokio::test]
async fn the_trail_is_append_only_for_the_application() {
    let app = spawn_app().await;
    let err = app.conn().batch_execute("UPDATE audit_log SET action = 'nothing'");
    assert!(err.is_err(), "updates are refused by the database");
    let err = app.conn().batch_execute("DELETE FROM audit_log");
    assert!(err.is_err(), "deletes are refused by the database");
}

#[tokio::test]
async fn verify_reports_an_intact_chain() {
    let app = spawn_app().await;
    app.login("listener").await;
    let report = verify(&app).await;
    assert!(report["first_broken"].is_null(), "{report}");
    assert!(report["entries_checked"].as_u64().unwrap() > 10);
}

#[tokio::test]
async fn verify_finds_an_edited_entry() {
    let app = spawn_app().await;
    app.login("listener").await;
    drop_append_only_guard(&app);
    app.conn()
        .batch_execute("UPDATE audit_log SET action = 'auth.logout' WHERE seq = 5")
        .unwrap();
    let report = verify(&app).await;
    assert_eq!(report["first_broken"]["seq"], 5, "{report}");
    assert_eq!(report["entries_checked"], 4);
}

#[tokio::test]
async fn verify_finds_a_deleted_entry() {
    let app = spawn_app().await;
    app.login("listener").await;
    drop_append_only_guard(&app);
    app.conn().batch_execute("DELETE FROM audit_log WHERE seq = 7").unwrap();
    let report = verify(&app).await;
    assert_eq!(report["first_broken"]["seq"], 7, "{report}");
}

#[tokio::test]
async fn verify_finds_a_rewritten_chain_tail() {
    // Deleting a row and renumbering the rest breaks the links instead.
    let app = spawn_app().await;
    drop_append_only_guard(&app);
    app.conn()
        .batch_execute("DELETE FROM audit_log WHERE seq = 3; UPDATE audit_log SET seq = seq - 1 WHERE seq > 3;")
        .unwrap();
    let report = verify(&app).await;
    assert_eq!(report["first_broken"]["seq"], 3, "{report}");
}

#[tokio::test]
async fn only_administrators_verify() {
    let app = spawn_app().await;
    let practitioner = app.token("practitioner").await;
    assert_eq!(
        app.get("/v1/audit/verify").bearer(&practitioner).send().await.status,
        403
    );
}

#[tokio::test]
async fn parallel_reads_and_writes_of_one_case_never_collide_on_the_chain() {
    // Every read of a case writes an audit entry: appends from many requests at once must
    // queue on the chain, never fail the request (they once answered 409 "already exists").
    use futures_util::StreamExt as _;
    let app = spawn_app().await;
    let practitioner = app.token("practitioner").await;
    let case = app
        .post("/v1/cases")
        .bearer(&practitioner)
        .json(&json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": "Marc Dupont" } }))
        .send()
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let case = case.json()["id"].as_str().unwrap().to_owned();
    let before = verify(&app).await["entries_checked"].as_u64().unwrap();
    let sections = ["", "/measures", "/sessions", "/certificates", "/notes", "/tasks"];
    let calls: Vec<usize> = (0..256).collect();
    let statuses: Vec<(usize, u16, String)> = futures_util::stream::iter(calls)
        .map(|i| {
            let (app, token, case) = (&app, &practitioner, &case);
            async move {
                let reply = if i % 8 == 7 {
                    app.post(&format!("/v1/cases/{case}/tasks"))
                        .bearer(token)
                        .json(&json!({ "title": format!("Rappeler {i}"), "due_on": "2026-12-15" }))
                        .send()
                        .await
                } else {
                    let section = sections[i % sections.len()];
                    app.get(&format!("/v1/cases/{case}{section}"))
                        .bearer(token)
                        .send()
                        .await
                };
                (i, reply.status, reply.text())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert_eq!(statuses.len(), 256);
    let failed: Vec<_> = statuses
        .iter()
        .filter(|(i, status, _)| *status != if i % 8 == 7 { 201 } else { 200 })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 256 failed, the first: {:?}",
        failed.len(),
        failed.iter().take(3).collect::<Vec<_>>()
    );
    let report = verify(&app).await;
    assert!(report["first_broken"].is_null(), "{report}");
    let after = report["entries_checked"].as_u64().unwrap();
    assert!(after >= before + 256, "every call is audited: {before} then {after}");
}
