//! Concurrent writers on PostgreSQL, made deterministic: a second connection holds a lock the
//! way another transaction of the server would (a row being changed, a shared sequence being
//! appended to), and the request under test has to get past it. What the soak found under load:
//! a listener's change undone by the person's next message (or the reverse), and a deadlock
//! between the desk and housing answered 500.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use serde_json::json;

/// The advisory lock keys of the audit chain and of the live events (core/src/audit,
/// core/src/helpline/events.rs).
const AUDIT_CHAIN: i64 = 0x0061_7564_6974;
const LIVE_EVENTS: i64 = 0x0065_7665_6e74;

fn pg(app: &TestApp) -> PgConnection {
    let url = app.database_url.clone().expect("the app runs on PostgreSQL");
    PgConnection::establish(&url).expect("a second connection")
}

/// A person in danger waiting, taken by the listener: (token, conversation id).
async fn taken(app: &TestApp, chat: i64) -> (String, String) {
    app.telegram_says(chat, "il a un couteau, je crois qu'il va me tuer")
        .await;
    app.telegram_received(chat, 1).await.expect("answered");
    let listener = app.token("listener").await;
    let reply = app.post("/v1/queue/take-next").bearer(&listener).send().await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    (listener, reply.json()["id"].as_str().unwrap().to_owned())
}

fn row(conn: &mut PgConnection, id: &str) -> (String, Option<String>, i32) {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        state: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        flag: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        priority: i32,
    }
    let r: Row = diesel::sql_query("SELECT state, flag, priority FROM conversations WHERE id = $1")
        .bind::<diesel::sql_types::Text, _>(id)
        .get_result(conn)
        .unwrap();
    (r.state, r.flag, r.priority)
}

/// Runs `sql` in a transaction of its own connection, and commits it `hold` after it has run;
/// returns once `sql` has run (its locks taken).
fn hold_then_commit(mut conn: PgConnection, sql: String, hold: Duration) -> std::thread::JoinHandle<()> {
    let (ran, has_run) = mpsc::channel();
    let holder = std::thread::spawn(move || {
        conn.batch_execute("BEGIN").unwrap();
        conn.batch_execute(&sql).unwrap();
        ran.send(()).unwrap();
        std::thread::sleep(hold);
        conn.batch_execute("COMMIT").unwrap();
    });
    has_run.recv().expect("the holder ran its statement");
    holder
}

/// The person's message raises the conversation's flag while the listener closes it: the close
/// waits for that write and keeps it (it used to save the row it read before, wiping the flag).
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo nextest run --run-ignored all"]
async fn a_close_keeps_the_flag_the_persons_message_raised_meanwhile() {
    let app = spawn_line_app(&[]).await;
    let (listener, id) = taken(&app, 61_001).await;
    let mut conn = pg(&app);
    assert_eq!(row(&mut conn, &id).1.as_deref(), Some("danger"));

    // Another writer (the person's next message, read as suicidal) holds the row's new version.
    let holder = hold_then_commit(
        pg(&app),
        format!("UPDATE conversations SET flag = 'suicide', priority = 101 WHERE id = '{id}'"),
        Duration::from_millis(700),
    );
    let closed = app
        .post(&format!("/v1/conversations/{id}/close"))
        .bearer(&listener)
        .json(&json!({ "outcome": "emergency_redirected", "summary": "" }))
        .send()
        .await;
    holder.join().unwrap();
    assert_eq!(closed.status, 200, "{}", closed.text());
    assert_eq!(
        row(&mut conn, &id),
        ("closed".to_owned(), Some("suicide".to_owned()), 101),
        "the close is built on the row as the other writer left it"
    );
}

/// The listener closes the conversation as the person writes again: the close stays, and the
/// message opens a new conversation (it used to save the row it read before, reopening it).
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo nextest run --run-ignored all"]
async fn a_message_arriving_as_the_listener_closes_does_not_reopen_the_conversation() {
    let app = spawn_line_app(&[]).await;
    let (_listener, id) = taken(&app, 61_002).await;
    let mut conn = pg(&app);
    assert_eq!(row(&mut conn, &id).0, "active");

    let holder = hold_then_commit(
        pg(&app),
        format!(
            "UPDATE conversations SET state = 'closed', closed_at = now(), outcome = 'emergency_redirected' WHERE id = '{id}'"
        ),
        Duration::from_millis(700),
    );
    let stored = app
        .telegram_post(&TestApp::telegram_update(61_002, "allô ? vous êtes là ?"))
        .await;
    holder.join().unwrap();
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(row(&mut conn, &id).0, "closed", "the close stays");
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let open: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM conversations WHERE contact_id = (SELECT contact_id FROM conversations WHERE id = $1) AND state <> 'closed'",
    )
    .bind::<diesel::sql_types::Text, _>(&id)
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(open.n, 1, "the message opened a conversation of its own");
}

/// A transaction in flight holds the audit chain and then needs the live events, as the desk's
/// close does, while housing places an author (which records a live event and an audit entry):
/// both go through. Housing used to take the events' lock first, and PostgreSQL broke the
/// deadlock by failing one of them (the soak saw the close answer 500).
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo nextest run --run-ignored all"]
async fn housing_and_the_desk_append_to_the_audit_chain_and_the_events_in_one_order() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let offer = app
        .post("/v1/housing/offers")
        .bearer(&operator)
        .json(&json!({ "kind": "hotel", "name": "Hôtel de Versailles", "provider": "Hôtels Solidaires", "address": "1 rue de la Gare",
            "commune": "78646", "latitude": 48.805, "longitude": 2.12, "capacity": 2, "price_cents": 5500, "available_from": "2026-01-01" }))
        .send()
        .await;
    assert_eq!(offer.status, 201, "{}", offer.text());
    let case = app
        .post("/v1/cases")
        .bearer(&practitioner)
        .json(&json!({ "origin": "justice", "legal_basis": "court_ordered" }))
        .send()
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let request = app
        .post(&format!(
            "/v1/cases/{}/housing-requests",
            case.json()["id"].as_str().unwrap()
        ))
        .bearer(&practitioner)
        .json(&json!({ "first_night": "2026-12-10", "last_night": "2026-12-12", "urgency": "tonight" }))
        .send()
        .await;
    assert_eq!(request.status, 201, "{}", request.text());
    let body = json!({ "request_id": request.json()["id"], "offer_id": offer.json()["id"],
        "first_night": "2026-12-10", "last_night": "2026-12-12", "funding": "platform" });

    // The other transaction: the audit chain's lock now, the events' lock once housing is
    // under way, then commit.
    let (go, wait_go) = mpsc::channel::<()>();
    let (ran, has_run) = mpsc::channel();
    let other = std::thread::spawn({
        let mut conn = pg(&app);
        move || {
            conn.batch_execute("BEGIN").unwrap();
            conn.batch_execute(&format!("SELECT pg_advisory_xact_lock({AUDIT_CHAIN})"))
                .unwrap();
            ran.send(()).unwrap();
            wait_go.recv().unwrap();
            let events = conn.batch_execute(&format!("SELECT pg_advisory_xact_lock({LIVE_EVENTS})"));
            let committed = conn.batch_execute(if events.is_ok() { "COMMIT" } else { "ROLLBACK" });
            events
                .map_err(|e| e.to_string())
                .and(committed.map_err(|e| e.to_string()))
        }
    });
    has_run.recv().unwrap();
    let (placed, ()) = tokio::join!(
        app.post("/v1/housing/placements").bearer(&operator).json(&body).send(),
        async {
            // Housing's transaction reaches its appends meanwhile (the first lock it used to take).
            tokio::time::sleep(Duration::from_millis(600)).await;
            go.send(()).unwrap();
        }
    );
    let other = other.join().unwrap();
    assert_eq!(
        other,
        Ok(()),
        "the other transaction was not failed to break a deadlock"
    );
    assert_eq!(placed.status, 201, "{}", placed.text());
}

/// The same for an orientation: the listener proposes a centre (which saves the conversation)
/// while the person's message raises the flag; the flag stays.
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=… cargo nextest run --run-ignored all"]
async fn an_orientation_keeps_the_flag_the_persons_message_raised_meanwhile() {
    let app = spawn_line_app(&[]).await;
    let (listener, id) = taken(&app, 61_003).await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let mut conn = pg(&app);
    let holder = hold_then_commit(
        pg(&app),
        format!("UPDATE conversations SET flag = 'suicide', priority = 101 WHERE id = '{id}'"),
        Duration::from_millis(700),
    );
    let oriented = app
        .post(&format!("/v1/conversations/{id}/orientation"))
        .bearer(&listener)
        .json(&json!({ "centre_id": centre, "summary": "Souhaite être aidé." }))
        .send()
        .await;
    holder.join().unwrap();
    assert_eq!(oriented.status, 201, "{}", oriented.text());
    assert_eq!(
        row(&mut conn, &id),
        ("active".to_owned(), Some("suicide".to_owned()), 101),
        "the orientation is built on the row as the other writer left it"
    );
}
