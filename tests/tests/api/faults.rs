//! Faults injected against the running server (issue 18). Each test ends by counting: every
//! acknowledged inbound message is stored exactly once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use relais_tests::TestApp;
use relais_tests::line::{TELEGRAM_SECRET, spawn_line_app};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// PostgreSQL restarts under the server (every backend of its database terminated, three times)
/// while webhooks flow: requests in the gap answer 503 problem+json so the provider retries,
/// never 500 and never 200 for an unstored update; the pool recovers by itself within seconds;
/// every acknowledged update is stored once.
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo nextest run --run-ignored all"]
async fn terminated_database_connections_answer_503_and_the_pool_recovers() {
    let admin = std::env::var("TEST_DATABASE_URL").expect("a PostgreSQL test: set TEST_DATABASE_URL");
    let app = spawn_line_app(&[]).await;
    let url = app.database_url.clone().expect("the app runs on PostgreSQL");
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let answers = Arc::new(Mutex::new(Vec::<(i64, u16, String)>::new()));
    let mut senders = Vec::new();
    for sender in 0..4i64 {
        let answers = answers.clone();
        let url = format!("{}/webhooks/telegram", app.address);
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..40i64 {
                let update = TestApp::telegram_update(60_000 + sender * 100 + i % 10, "Bonjour");
                let id = update["update_id"].as_i64().unwrap();
                let reply = client
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET)
                    .json(&update)
                    .send()
                    .await
                    .expect("the server answers (no dropped connection)");
                let status = reply.status().as_u16();
                let content_type = reply
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                answers.lock().unwrap().push((id, status, content_type));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    while answers.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..3 {
        let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap();
        conn.batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    for s in senders {
        s.await.unwrap();
    }
    // The pool recovers by itself: the next webhook is stored.
    let recovered = {
        let mut ok = false;
        for _ in 0..50 {
            if app
                .telegram_post(&TestApp::telegram_update(69_999, "Bonjour"))
                .await
                .status
                == 200
            {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ok
    };
    assert!(recovered, "the pool recovered within five seconds");

    let answers = answers.lock().unwrap().clone();
    let wrong: Vec<_> = answers
        .iter()
        .filter(|(_, status, ct)| *status != 200 && !(*status == 503 && ct.starts_with("application/problem+json")))
        .collect();
    assert!(
        wrong.is_empty(),
        "answers other than 200 or 503 problem+json: {wrong:?}"
    );
    let db = relais_core::db::Db::connect(&relais_core::db::DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    let mut conn = db.get().unwrap();
    for (id, status, _) in &answers {
        let stored = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM inbound_receipts WHERE channel = 'telegram' AND provider_id = 'u{id}'"
        ))
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n;
        if *status == 200 {
            assert_eq!(stored, 1, "acknowledged update {id} is stored once");
        }
    }
    let unavailable = answers.iter().filter(|(_, s, _)| *s == 503).count();
    eprintln!(
        "{} webhooks: {} acknowledged, {unavailable} answered 503",
        answers.len(),
        answers.len() - unavailable
    );
}
