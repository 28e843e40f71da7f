//! Canned replies: texts the supervisors prepare, in French and English, that listeners
//! send with one tap (edited or not).

use diesel::prelude::*;

use super::model::Language;
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::db::schema::canned_replies;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;
use crate::values::parse_label;

#[derive(Queryable, Selectable, Clone, Debug, serde::Serialize)]
#[diesel(table_name = canned_replies)]
pub struct Row {
    id: String,
    language: String,
    title: String,
    body: String,
    created_by: String,
    #[serde(with = "naive")]
    created_at: chrono::NaiveDateTime,
    #[serde(with = "naive")]
    updated_at: chrono::NaiveDateTime,
}

mod naive {
    pub fn serialize<S: serde::Serializer>(t: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    }
}

pub type CannedReply = Row;

fn body(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(Error::invalid("body", "1 to 2000 characters"));
    }
    Ok(text.to_owned())
}

pub fn list(conn: &mut DbConn, language: Option<Language>) -> Result<Vec<CannedReply>> {
    let mut query = canned_replies::table
        .order((canned_replies::language.asc(), canned_replies::title.asc()))
        .into_boxed();
    if let Some(l) = language {
        query = query.filter(canned_replies::language.eq(l.as_str()));
    }
    Ok(query.select(Row::as_select()).load(conn)?)
}

pub fn create(conn: &mut DbConn, caller: &Caller, language: Language, title: &str, text: &str) -> Result<CannedReply> {
    let title = parse_label("title", title, 120)?;
    let text = body(text)?;
    let author = caller.user_id().ok_or(Error::NotFound)?.to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let now = time::to_db(time::now());
    write_tx(conn, |conn| {
        diesel::insert_into(canned_replies::table)
            .values((
                canned_replies::id.eq(&id),
                canned_replies::language.eq(language.as_str()),
                canned_replies::title.eq(&title),
                canned_replies::body.eq(&text),
                canned_replies::created_by.eq(&author),
                canned_replies::created_at.eq(now),
                canned_replies::updated_at.eq(now),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("canned_reply.create").object("canned_reply", &id),
        )?;
        Ok(canned_replies::table.find(&id).select(Row::as_select()).first(conn)?)
    })
}

pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    title: Option<&str>,
    text: Option<&str>,
) -> Result<CannedReply> {
    let title = title.map(|t| parse_label("title", t, 120)).transpose()?;
    let text = text.map(body).transpose()?;
    write_tx(conn, |conn| {
        let mut row: Row = canned_replies::table.find(id).select(Row::as_select()).first(conn)?;
        if let Some(t) = title {
            row.title = t;
        }
        if let Some(b) = text {
            row.body = b;
        }
        row.updated_at = time::to_db(time::now());
        diesel::update(canned_replies::table.find(id))
            .set((
                canned_replies::title.eq(&row.title),
                canned_replies::body.eq(&row.body),
                canned_replies::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("canned_reply.update").object("canned_reply", id),
        )?;
        Ok(row)
    })
}

pub fn delete(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<()> {
    write_tx(conn, |conn| {
        let removed = diesel::delete(canned_replies::table.find(id)).execute(conn)?;
        if removed == 0 {
            return Err(Error::NotFound);
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("canned_reply.delete").object("canned_reply", id),
        )
    })
}
