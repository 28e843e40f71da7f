//! The email outbox: a notification to a centre is a row here, written in the transaction
//! of what it tells (a referral, a booking, a cancellation, a no-show), then sent by a worker
//! on any instance. Bodies carry an alias and a link, never a person's detail. `{base}` in
//! a body is the public URL, filled in when the mail is sent.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::email_outbox;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::time;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_outbox)]
pub struct Email {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: chrono::NaiveDateTime,
    pub locked_until: Option<chrono::NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub sent_at: Option<chrono::NaiveDateTime>,
}

/// Queues a mail. Call inside the transaction of its cause.
pub fn enqueue(conn: &mut DbConn, to: &str, subject: &str, body: &str) -> Result<()> {
    let now = time::to_db(time::now());
    diesel::insert_into(email_outbox::table)
        .values(&Email {
            id: uuid::Uuid::new_v4().to_string(),
            to_address: to.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// Claims up to `limit` due mails for `lease` (a crashed sender's mails come back after it).
pub fn claim(conn: &mut DbConn, limit: i64, lease: Duration) -> Result<Vec<Email>> {
    write_tx(conn, |conn| {
        let now = time::now();
        let due: Vec<Email> = email_outbox::table
            .filter(
                email_outbox::status
                    .eq("pending")
                    .and(email_outbox::next_attempt_at.le(time::to_db(now)))
                    .or(email_outbox::status
                        .eq("sending")
                        .and(email_outbox::locked_until.lt(time::to_db(now)))),
            )
            .order(email_outbox::created_at.asc())
            .limit(limit)
            .select(Email::as_select())
            .load(conn)?;
        let mut claimed = Vec::new();
        for mail in due {
            let updated = diesel::update(
                email_outbox::table
                    .find(&mail.id)
                    .filter(email_outbox::status.eq(&mail.status))
                    .filter(email_outbox::attempts.eq(mail.attempts)),
            )
            .set((
                email_outbox::status.eq("sending"),
                email_outbox::locked_until.eq(Some(time::to_db(now + lease))),
                email_outbox::attempts.eq(mail.attempts + 1),
            ))
            .execute(conn)?;
            if updated == 1 {
                claimed.push(mail);
            }
        }
        Ok(claimed)
    })
}

pub fn mark_sent(conn: &mut DbConn, id: &str) -> Result<()> {
    diesel::update(email_outbox::table.find(id))
        .set((
            email_outbox::status.eq("sent"),
            email_outbox::sent_at.eq(Some(time::to_db(time::now()))),
            email_outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Tries again at `at`, or gives up after `max_attempts`.
pub fn retry_or_fail(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    max_attempts: i32,
    at: DateTime<Utc>,
    error: &str,
) -> Result<()> {
    let status = if attempts >= max_attempts { "failed" } else { "pending" };
    diesel::update(email_outbox::table.find(id))
        .set((
            email_outbox::status.eq(status),
            email_outbox::next_attempt_at.eq(time::to_db(at)),
            email_outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
            email_outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}
