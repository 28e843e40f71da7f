//! Phone calls of the line, logged by listeners so that the helpline's statistics cover
//! calls and texts alike. No caller number is ever recorded.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::ContactKind;
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::db::schema::{organisations, phone_calls};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::page::{Cursor, Page, PageRequest};
use crate::time;

pub const TOPICS: &[&str] = &[
    "violence_in_couple",
    "fear_of_acting_out",
    "court_measure",
    "housing",
    "addiction",
    "children",
    "mental_health",
    "information",
    "other",
];

#[derive(Clone, Debug, serde::Serialize)]
pub struct PhoneCall {
    pub id: String,
    pub listener_id: String,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: i32,
    pub caller_kind: ContactKind,
    pub topics: Vec<String>,
    pub outcome: String,
    pub centre_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub struct NewCall {
    pub started_at: DateTime<Utc>,
    pub duration_seconds: i32,
    pub caller_kind: ContactKind,
    pub topics: Vec<String>,
    pub outcome: String,
    pub centre_id: Option<String>,
}

/// A row of `phone_calls`, columns in table order (`phone_calls::all_columns`).
type Row = (
    String,
    String,
    chrono::NaiveDateTime,
    i32,
    String,
    String,
    String,
    Option<String>,
    chrono::NaiveDateTime,
);

fn to_model(r: Row) -> PhoneCall {
    PhoneCall {
        id: r.0,
        listener_id: r.1,
        started_at: time::from_db(r.2),
        duration_seconds: r.3,
        caller_kind: r.4.parse().unwrap_or(ContactKind::Unknown),
        topics: serde_json::from_str(&r.5).unwrap_or_default(),
        outcome: r.6,
        centre_id: r.7,
        created_at: time::from_db(r.8),
    }
}

pub fn log(conn: &mut DbConn, caller: &Caller, new: NewCall) -> Result<PhoneCall> {
    if !(1..=6 * 3600).contains(&new.duration_seconds) {
        return Err(Error::invalid("duration_seconds", "between 1 second and 6 hours"));
    }
    if new.started_at > time::now() + chrono::Duration::minutes(5) {
        return Err(Error::invalid("started_at", "a call logged cannot start in the future"));
    }
    if let Some(bad) = new.topics.iter().find(|t| !TOPICS.contains(&t.as_str())) {
        return Err(Error::invalid(
            "topics",
            format!("unknown topic {bad:?}; one of {}", TOPICS.join(", ")),
        ));
    }
    if !super::desk::OUTCOMES.contains(&new.outcome.as_str()) {
        return Err(Error::invalid(
            "outcome",
            format!("one of {}", super::desk::OUTCOMES.join(", ")),
        ));
    }
    let listener = caller.user_id().ok_or(Error::NotFound)?.to_string();
    write_tx(conn, |conn| {
        if let Some(centre) = &new.centre_id {
            let kind: Option<String> = organisations::table
                .find(centre)
                .select(organisations::kind)
                .first(conn)
                .optional()?;
            if kind.as_deref() != Some("centre") {
                return Err(Error::invalid("centre_id", "not a centre"));
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = time::to_db(time::now());
        let mut topics = new.topics.clone();
        topics.sort();
        topics.dedup();
        let topics_json = serde_json::to_string(&topics).map_err(|e| Error::Internal(e.to_string()))?;
        diesel::insert_into(phone_calls::table)
            .values((
                phone_calls::id.eq(&id),
                phone_calls::listener_id.eq(&listener),
                phone_calls::started_at.eq(time::to_db(new.started_at)),
                phone_calls::duration_seconds.eq(new.duration_seconds),
                phone_calls::caller_kind.eq(new.caller_kind.as_str()),
                phone_calls::topics.eq(&topics_json),
                phone_calls::outcome.eq(&new.outcome),
                phone_calls::centre_id.eq(&new.centre_id),
                phone_calls::created_at.eq(now),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("phone_call.log").object("phone_call", &id),
        )?;
        let row: Row = phone_calls::table
            .find(&id)
            .select(phone_calls::all_columns)
            .first(conn)?;
        Ok(to_model(row))
    })
}

/// The calls that started in a period, the latest first, one page at a time.
pub fn list(conn: &mut DbConn, from: DateTime<Utc>, to: DateTime<Utc>, page: &PageRequest) -> Result<Page<PhoneCall>> {
    let mut query = phone_calls::table
        .filter(phone_calls::started_at.ge(time::to_db(from)))
        .filter(phone_calls::started_at.lt(time::to_db(to)))
        .into_boxed();
    query = crate::after_cursor!(query, page, phone_calls::started_at, phone_calls::id, desc);
    let rows: Vec<Row> = query
        .order((phone_calls::started_at.desc(), phone_calls::id.desc()))
        .limit(page.fetch())
        .select(phone_calls::all_columns)
        .load(conn)?;
    Page::from_rows(rows, page, |r| Cursor::at(r.2, &r.0), |r| Ok(to_model(r)))
}
