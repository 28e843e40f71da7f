//! A case's notes (sealed at rest; corrected, never overwritten: every correction is kept with
//! its reason and audited) and tasks with due dates.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::centres::referrals::actor_label;
use crate::crypto::{self, Secrets};
use crate::db::schema::{case_note_corrections, case_notes, case_tasks};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Note {
    pub id: String,
    pub author_id: String,
    /// The text as it reads now: the last correction's, or as written.
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// Oldest first; empty for a note never corrected.
    pub corrections: Vec<Correction>,
}

/// One correction of a note: what it replaced, why, by whom and when.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Correction {
    pub id: String,
    pub author_id: String,
    pub reason: String,
    /// The text before this correction.
    pub replaced: String,
    pub created_at: DateTime<Utc>,
}

fn note_context(id: &str) -> String {
    format!("case_notes.body:{id}")
}

fn correction_body_context(id: &str) -> String {
    format!("case_note_corrections.body:{id}")
}

fn correction_reason_context(id: &str) -> String {
    format!("case_note_corrections.reason:{id}")
}

fn note_body(body: &str) -> Result<&str> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(Error::invalid("body", "a note has 1 to 10000 characters"));
    }
    Ok(body)
}

pub fn add_note(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, case_id: &str, body: &str) -> Result<Note> {
    let body = note_body(body)?;
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
            corrections: Vec::new(),
        })
    })
}

/// Corrects a note of the case: by its author only (anyone else adds a note of their own),
/// with a reason. The note's earlier texts are kept, sealed, and shown with the corrections.
pub fn correct_note(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    note_id: &str,
    body: &str,
    reason: &str,
) -> Result<Note> {
    let body = note_body(body)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "a reason has 1 to 500 characters"));
    }
    let me = caller.user_id().ok_or(Error::NotFound)?.to_string();
    write_tx(conn, |conn| {
        // Locked (PostgreSQL): two corrections of one note are made one after the other, so
        // each replaces the text the other left.
        let note = case_notes::table
            .find(note_id)
            .select((case_notes::case_id, case_notes::author_id));
        let found: Option<(String, String)> = match conn {
            DbConn::Pg(pg) => note.for_update().first(pg).optional()?,
            DbConn::Sqlite(lite) => note.first(lite).optional()?,
        };
        let (case_id, author) = found.ok_or(Error::NotFound)?;
        // Another centre's note answers as one that does not exist.
        super::owned(conn, caller, &case_id)?;
        let case_id = case_id.as_str();
        if author != me {
            return Err(Error::Forbidden(
                "only its author corrects a note; add a note of your own".into(),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(case_note_corrections::table)
            .values((
                case_note_corrections::id.eq(&id),
                case_note_corrections::note_id.eq(note_id),
                case_note_corrections::case_id.eq(case_id),
                case_note_corrections::author_id.eq(&me),
                case_note_corrections::body_sealed.eq(crypto::seal(
                    &secrets.field_key,
                    &correction_body_context(&id),
                    body.as_bytes(),
                )),
                case_note_corrections::reason_sealed.eq(crypto::seal(
                    &secrets.field_key,
                    &correction_reason_context(&id),
                    reason.as_bytes(),
                )),
                case_note_corrections::created_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("case_note.correct")
                .object("case_note", note_id)
                .details(serde_json::json!({ "correction_id": id })),
        )?;
        load_notes(conn, secrets, case_id, Some(note_id))?
            .pop()
            .ok_or(Error::NotFound)
    })
}

pub fn notes(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, case_id: &str) -> Result<Vec<Note>> {
    super::owned(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("case_note.list").object("case", case_id),
    )?;
    load_notes(conn, secrets, case_id, None)
}

fn open_text(secrets: &Secrets, context: &str, sealed: &[u8]) -> Result<String> {
    let bytes = crypto::open(&secrets.field_key, context, sealed)
        .map_err(|_| Error::Internal("a case note could not be opened".into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The case's notes (or one of them), oldest first, opened, with their corrections.
fn load_notes(conn: &mut DbConn, secrets: &Secrets, case_id: &str, only: Option<&str>) -> Result<Vec<Note>> {
    let mut query = case_notes::table
        .filter(case_notes::case_id.eq(case_id))
        .order(case_notes::created_at.asc())
        .select((
            case_notes::id,
            case_notes::author_id,
            case_notes::body_sealed,
            case_notes::created_at,
        ))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(case_notes::id.eq(id.to_owned()));
    }
    let rows: Vec<(String, String, Vec<u8>, chrono::NaiveDateTime)> = query.load(conn)?;
    type CorrectionRow = (String, String, String, Vec<u8>, Vec<u8>, chrono::NaiveDateTime);
    let corrections: Vec<CorrectionRow> = case_note_corrections::table
        .filter(case_note_corrections::case_id.eq(case_id))
        .order(case_note_corrections::created_at.asc())
        .select((
            case_note_corrections::id,
            case_note_corrections::note_id,
            case_note_corrections::author_id,
            case_note_corrections::body_sealed,
            case_note_corrections::reason_sealed,
            case_note_corrections::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, author_id, sealed, at)| {
            let mut body = open_text(secrets, &note_context(&id), &sealed)?;
            let mut history = Vec::new();
            for (cid, _, cauthor, csealed, creason, cat) in corrections.iter().filter(|c| c.1 == id) {
                let corrected = open_text(secrets, &correction_body_context(cid), csealed)?;
                history.push(Correction {
                    id: cid.clone(),
                    author_id: cauthor.clone(),
                    reason: open_text(secrets, &correction_reason_context(cid), creason)?,
                    replaced: std::mem::replace(&mut body, corrected),
                    created_at: time::from_db(*cat),
                });
            }
            Ok(Note {
                id,
                author_id,
                body,
                created_at: time::from_db(at),
                corrections: history,
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
