//! A case's notes (sealed at rest) and tasks with due dates.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::centres::referrals::actor_label;
use crate::crypto::{self, Secrets};
use crate::db::schema::{case_notes, case_tasks};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Note {
    pub id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

fn note_context(id: &str) -> String {
    format!("case_notes.body:{id}")
}

pub fn add_note(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, case_id: &str, body: &str) -> Result<Note> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(Error::invalid("body", "a note has 1 to 10000 characters"));
    }
    let author = caller.user_id().ok_or(Error::NotFound)?.to_string();
    write_tx(conn, |conn| {
        super::owned(conn, caller, case_id)?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = time::to_db(time::now());
        diesel::insert_into(case_notes::table)
            .values((
                case_notes::id.eq(&id),
                case_notes::case_id.eq(case_id),
                case_notes::author_id.eq(&author),
                case_notes::body_sealed.eq(crypto::seal(&secrets.field_key, &note_context(&id), body.as_bytes())),
                case_notes::created_at.eq(now),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("case_note.create").object("case_note", &id),
        )?;
        Ok(Note {
            id,
            author_id: author.clone(),
            body: body.to_owned(),
            created_at: time::from_db(now),
        })
    })
}

pub fn notes(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, case_id: &str) -> Result<Vec<Note>> {
    super::owned(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("case_note.list").object("case", case_id),
    )?;
    let rows: Vec<(String, String, Vec<u8>, chrono::NaiveDateTime)> = case_notes::table
        .filter(case_notes::case_id.eq(case_id))
        .order(case_notes::created_at.asc())
        .select((
            case_notes::id,
            case_notes::author_id,
            case_notes::body_sealed,
            case_notes::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, author_id, sealed, at)| {
            let body = crypto::open(&secrets.field_key, &note_context(&id), &sealed)
                .map_err(|_| Error::Internal("a case note could not be opened".into()))?;
            Ok(Note {
                id,
                author_id,
                body: String::from_utf8_lossy(&body).into_owned(),
                created_at: time::from_db(at),
            })
        })
        .collect()
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
}

type TaskRow = (String, String, NaiveDate, Option<chrono::NaiveDateTime>);

fn task(r: TaskRow) -> Task {
    Task {
        id: r.0,
        title: r.1,
        due_on: r.2,
        done_at: r.3.map(time::from_db),
    }
}

fn load_task(conn: &mut DbConn, id: &str) -> Result<(String, TaskRow)> {
    let (case_id, a, b, c, d): (String, String, String, NaiveDate, Option<chrono::NaiveDateTime>) = case_tasks::table
        .find(id)
        .select((
            case_tasks::case_id,
            case_tasks::id,
            case_tasks::title,
            case_tasks::due_on,
            case_tasks::done_at,
        ))
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    Ok((case_id, (a, b, c, d)))
}

pub fn add_task(conn: &mut DbConn, caller: &Caller, case_id: &str, title: &str, due_on: NaiveDate) -> Result<Task> {
    let title = crate::values::parse_label("title", title, 200)?;
    write_tx(conn, |conn| {
        super::owned(conn, caller, case_id)?;
        let id = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(case_tasks::table)
            .values((
                case_tasks::id.eq(&id),
                case_tasks::case_id.eq(case_id),
                case_tasks::title.eq(&title),
                case_tasks::due_on.eq(due_on),
                case_tasks::created_by.eq(actor_label(&caller.actor())),
                case_tasks::created_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("case_task.create").object("case_task", &id),
        )?;
        Ok(task(load_task(conn, &id)?.1))
    })
}

pub fn tasks(conn: &mut DbConn, caller: &Caller, case_id: &str) -> Result<Vec<Task>> {
    super::owned(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("case_task.list").object("case", case_id),
    )?;
    let rows: Vec<TaskRow> = case_tasks::table
        .filter(case_tasks::case_id.eq(case_id))
        .order(case_tasks::due_on.asc())
        .select((
            case_tasks::id,
            case_tasks::title,
            case_tasks::due_on,
            case_tasks::done_at,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(task).collect())
}

/// Marks a task done, or not done.
pub fn set_done(conn: &mut DbConn, caller: &Caller, id: &str, done: bool) -> Result<Task> {
    write_tx(conn, |conn| {
        let (case_id, _) = load_task(conn, id)?;
        super::owned(conn, caller, &case_id)?;
        let at = done.then(|| time::to_db(time::now()));
        diesel::update(case_tasks::table.find(id))
            .set(case_tasks::done_at.eq(at))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("case_task.update")
                .object("case_task", id)
                .details(serde_json::json!({ "done": done })),
        )?;
        Ok(task(load_task(conn, id)?.1))
    })
}
