//! The three outboxes (text line, email, partner webhooks) share one protocol: a claim is a
//! compare-and-set with a lease and a fencing token, and only the claim that holds the row
//! settles it; finished rows are purged after a configured delay.

use chrono::Duration;
use diesel::RunQueryDsl as _;
use relais_core::email;
use relais_core::outbox::Outcome;
use relais_tests::{TestApp, spawn_app, spawn_app_with};

#[derive(diesel::QueryableByName, Debug)]
struct Status {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
}

fn email_statuses(app: &TestApp) -> Vec<String> {
    diesel::sql_query("SELECT status FROM email_outbox ORDER BY created_at")
        .load::<Status>(&mut *app.conn())
        .unwrap()
        .into_iter()
        .map(|s| s.status)
        .collect()
}

#[tokio::test]
async fn a_stale_email_worker_cannot_settle_a_row_another_worker_reclaimed() {
    let app = spawn_app().await;
    // The mail falls due in ten days: this instance's own mail worker leaves it alone.
    let due = app.app_state().clock.now() + Duration::days(10);
    let mut conn = app.conn();
    email::enqueue_at(&mut conn, due, "centre@example.org", "Sujet", "Corps").unwrap();
    // Worker A claims it for five minutes, and is still sending when its lease runs out;
    // worker B then claims it again.
    let stale = email::claim(&mut conn, due, Duration::minutes(5), 16).unwrap();
    assert_eq!(stale.len(), 1);
    let later = due + Duration::minutes(6);
    let fresh = email::claim(&mut conn, later, Duration::minutes(5), 16).unwrap();
    assert_eq!(fresh.len(), 1, "the expired claim is taken again");
    assert_ne!(stale[0].0.token, fresh[0].0.token);

    let settled = email::settle(&mut conn, &stale[0].0, &Outcome::Sent, later).unwrap();
    assert!(!settled, "A no longer holds the row");
    let retried = Outcome::Retry {
        at: later,
        error: "x".into(),
    };
    assert!(!email::settle(&mut conn, &stale[0].0, &retried, later).unwrap());
    assert_eq!(email_statuses(&app), ["sending"], "worker B still owns the row");

    assert!(email::settle(&mut conn, &fresh[0].0, &Outcome::Sent, later).unwrap());
    assert_eq!(email_statuses(&app), ["sent"]);
}

#[tokio::test]
async fn sent_emails_are_purged_after_the_configured_delay() {
    let app = spawn_app_with(&[("RELAIS_MAIL_PURGE_DAYS", "2")]).await;
    let state = app.app_state();
    email::enqueue_at(
        &mut app.conn(),
        state.clock.now(),
        "centre@example.org",
        "Sujet",
        "Corps",
    )
    .unwrap();
    relais_tests::wait::until(
        "the mail to be sent",
        || async { email_statuses(&app) },
        |s| s == &["sent"],
    )
    .await;

    let purged = relais_api::workers::Purge::run_once(state).await;
    assert_eq!(purged.emails, 0, "kept for two days");
    assert_eq!(email_statuses(&app), ["sent"]);

    state.clock.advance(Duration::days(3));
    let purged = relais_api::workers::Purge::run_once(state).await;
    assert_eq!(purged.emails, 1);
    assert!(email_statuses(&app).is_empty());
}

#[derive(diesel::QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn outbox_count(app: &TestApp, status: &str) -> i64 {
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM outbox WHERE status = '{status}'"))
        .get_result::<Count>(&mut *app.conn())
        .unwrap()
        .n
}

#[tokio::test]
async fn stopping_the_workers_hands_back_the_claims_not_yet_sent() {
    // One SMS a second: a batch of several people takes seconds to send.
    let app = relais_tests::line::spawn_line_app(&[("RELAIS_SMS_PER_SECOND", "1")]).await;
    let people: Vec<String> = (0..6).map(|i| format!("+3361234560{i}")).collect();
    for person in &people {
        app.sms_says(person, "Bonjour").await;
    }
    app.sms_received(&people[0], 1)
        .await
        .expect("the first person's reply went out");

    app.app_state()
        .workers
        .shutdown(std::time::Duration::from_secs(20))
        .await;
    // Nothing is left claimed: what was not sent is pending again, at once, for any instance.
    assert_eq!(outbox_count(&app, "sending"), 0);
    let pending = outbox_count(&app, "pending");
    assert!(pending > 0, "the batch was cut short");
    let unclaimed: i64 = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND (claim_token IS NOT NULL OR locked_until IS NOT NULL)",
    )
    .get_result::<Count>(&mut *app.conn())
    .unwrap()
    .n;
    assert_eq!(unclaimed, 0);
    // Every message the provider got is recorded as sent, and none twice.
    let sent_calls = app.sms_fake().recorder.calls().len() as i64;
    assert_eq!(outbox_count(&app, "sent"), sent_calls);
}

#[derive(diesel::QueryableByName, Debug)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

#[derive(diesel::QueryableByName, Debug)]
struct PgPlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// Issue 19: the text line's claim sorted the whole pending outbox (93,000 rows in the
/// ingestion benchmark) on every claim. With 100,000 pending rows, the claim's query walks a
/// partial index of unfinished rows in claim order (no sort of the backlog), on both
/// databases, and still returns the oldest due rows in order.
#[tokio::test]
async fn the_claim_reads_an_index_of_unfinished_rows_whatever_the_backlog() {
    use relais_core::db::DbConn;
    use relais_core::outbox;
    let app = spawn_app().await;
    let mut conn = app.conn();
    let pg = matches!(&*conn, DbConn::Pg(_));
    // 100,000 pending rows over 5,000 chats, a minute apart per thousand, and 20,000 sent.
    let fill = if pg {
        "INSERT INTO outbox (id, channel, chat_key, destination_sealed, payload_sealed, status, next_attempt_at, created_at, position) \
         SELECT 'row-' || lpad(i::text, 6, '0'), 'telegram', 'chat-' || (i % 5000), '\\x00'::bytea, '\\x00'::bytea, \
                CASE WHEN i <= 20000 THEN 'sent' ELSE 'pending' END, \
                TIMESTAMP '2026-12-01 00:00:00' + i * INTERVAL '1 millisecond', \
                TIMESTAMP '2026-12-01 00:00:00' + i * INTERVAL '1 millisecond', 0 \
         FROM generate_series(1, 120000) AS i"
    } else {
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120000) \
         INSERT INTO outbox (id, channel, chat_key, destination_sealed, payload_sealed, status, next_attempt_at, created_at, position) \
         SELECT 'row-' || substr('000000' || i, -6), 'telegram', 'chat-' || (i % 5000), X'00', X'00', \
                CASE WHEN i <= 20000 THEN 'sent' ELSE 'pending' END, \
                strftime('%Y-%m-%d %H:%M:%f', '2026-12-01 00:00:00', '+' || (i / 1000.0) || ' seconds'), \
                strftime('%Y-%m-%d %H:%M:%f', '2026-12-01 00:00:00', '+' || (i / 1000.0) || ' seconds'), 0 \
         FROM n"
    };
    diesel::sql_query(fill).execute(&mut *conn).unwrap();
    diesel::sql_query("ANALYZE").execute(&mut *conn).unwrap();

    let query = outbox::due_query(&relais_core::helpline::outbox::TABLE);
    let plan: Vec<String> = if pg {
        let literal = query
            .replace("$1", "TIMESTAMP '2026-12-02 00:00:00'")
            .replace("$2", "128");
        diesel::sql_query(format!("EXPLAIN {literal}"))
            .load::<PgPlanLine>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect()
    } else {
        let literal = query.replace("$1", "'2026-12-02 00:00:00'").replace("$2", "128");
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {literal}"))
            .load::<PlanLine>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|l| l.detail)
            .collect()
    };
    let plan = plan.join("\n");
    assert!(
        plan.contains("outbox_unfinished"),
        "the claim does not use the index:\n{plan}"
    );
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "the claim sorts the backlog:\n{plan}"
    );

    // And it answers the oldest due rows, in order (the sent ones are never candidates).
    let due = outbox::due_ids(
        &mut conn,
        &relais_core::helpline::outbox::TABLE,
        chrono::DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
        3,
    )
    .unwrap();
    assert_eq!(due, ["row-020001", "row-020002", "row-020003"]);
}
