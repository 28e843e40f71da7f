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
