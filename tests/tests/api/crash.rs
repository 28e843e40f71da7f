//! `kill -9` while webhooks arrive: after a restart every acknowledged message is stored and
//! every queued reply is sent; a reply goes out twice only if it was in flight at the kill.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use relais_core::db::{DatabaseUrl, Db};
use relais_tests::TestApp;
use relais_tests::fakes::Fake;
use relais_tests::line::TELEGRAM_SECRET;
use relais_tests::process::Server;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(db: &Db, sql: &str) -> i64 {
    let mut conn = db.get().unwrap();
    diesel::sql_query(sql).get_result::<Count>(&mut *conn).unwrap().n
}

#[tokio::test]
async fn a_kill_9_loses_no_acknowledged_message_and_no_queued_reply() {
    let telegram = Fake::telegram();
    let data = tempfile::tempdir().unwrap();
    let pg = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| relais_tests::postgres::TestDatabase::create(&u));
    let database_url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}/relais.sqlite3", data.path().display()),
    };
    let env: Vec<(String, String)> = [
        ("RELAIS_DATA_DIR", data.path().display().to_string()),
        ("RELAIS_DATABASE_URL", database_url.clone()),
        ("RELAIS_TELEGRAM_TOKEN", "123456:TEST-TOKEN".into()),
        ("RELAIS_TELEGRAM_API_URL", telegram.url.clone()),
        ("RELAIS_TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET.into()),
        ("RELAIS_HELPLINE_HOURS", "mon-sun 00:00-24:00".into()),
        ("RELAIS_DELIVERY_LEASE_SECONDS", "2".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let mut server = Server::start(&env).await;
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for sender in 0..4i64 {
        let client = client.clone();
        let url = format!("{}/webhooks/telegram", server.url);
        let acknowledged = acknowledged.clone();
        let stop = stop.clone();
        senders.push(tokio::spawn(async move {
            for i in 0..40i64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let chat = 10_000 + sender * 100 + (i % 10);
                let update = TestApp::telegram_update(chat, "Bonjour");
                let id = update["update_id"].as_i64().unwrap();
                let reply = client
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET)
                    .json(&update)
                    .send()
                    .await;
                if reply.is_ok_and(|r| r.status().is_success()) {
                    acknowledged.lock().unwrap().push(id);
                }
            }
        }));
    }
    // Let work pile up and deliveries start, then pull the plug.
    // (A generous bound: on a loaded machine the senders may be slow; the kill waits for them.)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline
        && (acknowledged.lock().unwrap().len() < 30 || telegram.recorder.calls().is_empty())
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        let _ = s.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 30,
        "webhooks were acknowledged before the kill: {}",
        acknowledged.len()
    );

    let _restarted = Server::start(&env).await;
    let db = Db::connect(&DatabaseUrl::parse(&database_url).unwrap(), 2).unwrap();
    let mut drained = false;
    for _ in 0..600 {
        if count(
            &db,
            "SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')",
        ) == 0
        {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(drained, "every queued reply was sent after the restart");

    // Every acknowledged update is stored.
    for id in &acknowledged {
        let stored = count(
            &db,
            &format!("SELECT COUNT(*) AS n FROM inbound_receipts WHERE channel = 'telegram' AND provider_id = 'u{id}'"),
        );
        assert_eq!(stored, 1, "acknowledged update {id} was stored");
    }
    let inbound = count(&db, "SELECT COUNT(*) AS n FROM messages WHERE direction = 'in'");
    assert!(inbound >= acknowledged.len() as i64);

    // Every reply went out; one more only if it was in flight at the kill (one worker).
    let sent_rows = count(&db, "SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'");
    let failed = count(&db, "SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'");
    assert_eq!(failed, 0);
    let calls = telegram
        .recorder
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage")
        .count() as i64;
    let twice = calls - sent_rows;
    assert!(
        (0..=1).contains(&twice),
        "{calls} sends for {sent_rows} replies: {twice} sent twice"
    );
}
