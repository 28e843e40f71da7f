//! Conversations: `bot → waiting → active → closed` (and `bot → closed`). The dialogue step
//! is the bot's place in its script.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{Channel, ConversationState};
use crate::db::schema::conversations;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::page::{Cursor, Page, PageRequest};
use crate::time;

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = conversations, treat_none_as_null = true)]
pub struct Conversation {
    pub id: String,
    pub contact_id: String,
    pub channel: String,
    pub state: String,
    pub step: String,
    pub priority: i32,
    pub waiting_since: Option<chrono::NaiveDateTime>,
    pub acknowledged: bool,
    pub led_to_something: bool,
    pub close_reason: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub last_message_at: chrono::NaiveDateTime,
    pub closed_at: Option<chrono::NaiveDateTime>,
    pub listener_id: Option<String>,
    pub assigned_at: Option<chrono::NaiveDateTime>,
    pub outcome: Option<String>,
    pub summary_sealed: Option<Vec<u8>>,
    /// The queue place the person was last told.
    pub told_position: Option<i32>,
    /// What the listener must know at once: `danger`, `suicide` or `victim_words`.
    pub flag: Option<String>,
    /// How many times in a row the bot did not understand the person.
    pub not_understood: i32,
}

impl Conversation {
    pub fn state(&self) -> ConversationState {
        self.state.parse().unwrap_or(ConversationState::Closed)
    }

    pub fn set_state(&mut self, state: ConversationState, now: DateTime<Utc>) {
        if state == ConversationState::Waiting && self.state() != ConversationState::Waiting {
            self.waiting_since = Some(time::to_db(now));
            self.acknowledged = false;
        }
        if state == ConversationState::Closed {
            self.closed_at = Some(time::to_db(now));
        }
        self.state = state.as_str().to_owned();
    }
}

/// The contact's open conversation, or a new one at the bot's first step.
pub fn open_for_contact(
    conn: &mut DbConn,
    contact_id: &str,
    channel: Channel,
    first_step: &str,
) -> Result<(Conversation, bool)> {
    write_tx(conn, |conn| {
        let open = conversations::table
            .filter(conversations::contact_id.eq(contact_id))
            .filter(conversations::state.ne(ConversationState::Closed.as_str()))
            .order(conversations::created_at.desc());
        // Locked to the end of the transaction, as every read that leads to a `save`.
        let existing = match conn {
            DbConn::Pg(pg) => open
                .select(Conversation::as_select())
                .for_update()
                .first(pg)
                .optional()?,
            DbConn::Sqlite(lite) => open.select(Conversation::as_select()).first(lite).optional()?,
        };
        if let Some(c) = existing {
            return Ok((c, false));
        }
        let now = time::to_db(time::now());
        let conversation = Conversation {
            id: uuid::Uuid::new_v4().to_string(),
            contact_id: contact_id.to_owned(),
            channel: channel.as_str().to_owned(),
            state: ConversationState::Bot.as_str().to_owned(),
            step: first_step.to_owned(),
            priority: 0,
            waiting_since: None,
            acknowledged: false,
            led_to_something: false,
            close_reason: None,
            created_at: now,
            updated_at: now,
            last_message_at: now,
            closed_at: None,
            listener_id: None,
            assigned_at: None,
            outcome: None,
            summary_sealed: None,
            told_position: None,
            flag: None,
            not_understood: 0,
        };
        diesel::insert_into(conversations::table)
            .values(&conversation)
            .execute(conn)?;
        Ok((conversation, true))
    })
}

/// Writes the whole row. Read it with [`get_for_update`] (or [`open_for_contact`]) in the same
/// transaction: a row read without its lock and saved later undoes whatever another
/// transaction wrote in between (the soak saw a message arriving as a listener closed the
/// conversation reopen it, and a reply wipe the danger flag the bot had just raised).
pub fn save(conn: &mut DbConn, conversation: &mut Conversation) -> Result<()> {
    write_tx(conn, |conn| {
        conversation.updated_at = time::to_db(time::now());
        diesel::update(conversations::table.find(&conversation.id))
            .set(&*conversation)
            .execute(conn)?;
        Ok(())
    })
}

/// The conversation, its row locked to the end of the transaction (PostgreSQL: `FOR UPDATE`;
/// SQLite's write transaction already excludes every other writer), for a change to `save`.
/// Call inside a `write_tx`.
pub fn get_for_update(conn: &mut DbConn, id: &str) -> Result<Conversation> {
    let row = conversations::table.find(id);
    Ok(match conn {
        DbConn::Pg(pg) => row.select(Conversation::as_select()).for_update().first(pg)?,
        DbConn::Sqlite(lite) => row.select(Conversation::as_select()).first(lite)?,
    })
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Conversation> {
    Ok(conversations::table
        .find(id)
        .select(Conversation::as_select())
        .first(conn)?)
}

/// The queue in the order listeners take it: priority first, then waiting time.
pub fn waiting_in_order(conn: &mut DbConn) -> Result<Vec<Conversation>> {
    Ok(conversations::table
        .filter(conversations::state.eq(ConversationState::Waiting.as_str()))
        .order((conversations::priority.desc(), conversations::waiting_since.asc()))
        .select(Conversation::as_select())
        .load(conn)?)
}

/// Records the place the person was told, if it is still `expected` (a compare-and-set, so
/// two instances never both tell the same change). True when this call recorded it.
pub fn set_told_position(conn: &mut DbConn, id: &str, expected: Option<i32>, told: i32) -> Result<bool> {
    write_tx(conn, |conn| {
        let target = conversations::table.find(id);
        let updated = match expected {
            Some(before) => diesel::update(target.filter(conversations::told_position.eq(before)))
                .set(conversations::told_position.eq(Some(told)))
                .execute(conn)?,
            None => diesel::update(target.filter(conversations::told_position.is_null()))
                .set(conversations::told_position.eq(Some(told)))
                .execute(conn)?,
        };
        Ok(updated == 1)
    })
}

/// Counts by state, for metrics.
pub fn count_by_state(conn: &mut DbConn) -> Result<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    Ok(conversations::table
        .group_by(conversations::state)
        .select((conversations::state, count_star()))
        .load(conn)?)
}

/// Conversations that led to nothing and saw no message since `before`: the retention
/// purge erases them.
pub fn stale_without_outcome(conn: &mut DbConn, before: DateTime<Utc>) -> Result<Vec<(String, String)>> {
    Ok(conversations::table
        .filter(conversations::led_to_something.eq(false))
        .filter(conversations::last_message_at.lt(time::to_db(before)))
        .select((conversations::id, conversations::contact_id))
        .load(conn)?)
}

/// The contact's most recent conversation, whatever its state.
pub fn latest_for_contact(conn: &mut DbConn, contact_id: &str) -> Result<Option<Conversation>> {
    Ok(conversations::table
        .filter(conversations::contact_id.eq(contact_id))
        .order(conversations::created_at.desc())
        .select(Conversation::as_select())
        .first(conn)
        .optional()?)
}

/// A conversation as staff see it: the contact's alias, never its address.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConversationView {
    pub id: String,
    pub contact_id: String,
    pub contact_alias: String,
    pub contact_kind: String,
    pub language: String,
    pub channel: String,
    pub state: String,
    pub priority: i32,
    pub waiting_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    /// The listener holding the conversation, while it is active.
    pub listener_id: Option<String>,
    pub outcome: Option<String>,
    /// What the listener must know at once: `danger`, `suicide` or `victim_words` (the
    /// person also spoke of being hit).
    pub flag: Option<String>,
}

type ViewRow = (Conversation, (String, String, String));

fn to_view((c, (alias, kind, language)): ViewRow) -> ConversationView {
    ConversationView {
        id: c.id,
        contact_id: c.contact_id,
        contact_alias: alias,
        contact_kind: kind,
        language,
        channel: c.channel,
        state: c.state,
        priority: c.priority,
        waiting_since: c.waiting_since.map(time::from_db),
        created_at: time::from_db(c.created_at),
        last_message_at: time::from_db(c.last_message_at),
        listener_id: c.listener_id,
        outcome: c.outcome,
        flag: c.flag,
    }
}

/// Conversations for the helpline's staff, one page at a time, in the queue's order: the
/// highest priority first; within a priority, those waiting (the longest wait first), then
/// the others (the newest first).
///
/// A page's cursor holds [priority, 0 or 1 (waiting or not), and for a waiting one its
/// creation in microseconds], the waiting or creation time, and the id.
pub fn list_for_staff(
    conn: &mut DbConn,
    state: Option<ConversationState>,
    page: &PageRequest,
) -> Result<Page<ConversationView>> {
    use crate::db::schema::contacts;
    let mut query = conversations::table
        .inner_join(contacts::table)
        .select((
            Conversation::as_select(),
            (contacts::alias, contacts::kind, contacts::language),
        ))
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(conversations::state.eq(state.as_str()));
    }
    if let Some(after) = &page.after {
        let priority = i32::try_from(after.rank(0)?).map_err(|_| bad_cursor())?;
        let lower = conversations::priority.lt(priority);
        let same = conversations::priority.eq(priority);
        query = if after.rank(1)? == 0 {
            let created = chrono::DateTime::from_timestamp_micros(after.rank(2)?)
                .ok_or_else(bad_cursor)?
                .naive_utc();
            query.filter(
                lower.or(same.and(
                    conversations::waiting_since
                        .is_null()
                        .or(conversations::waiting_since.gt(after.at))
                        .or(conversations::waiting_since.eq(after.at).and(
                            conversations::created_at.lt(created).or(conversations::created_at
                                .eq(created)
                                .and(conversations::id.gt(after.id.clone()))),
                        )),
                )),
            )
        } else {
            query.filter(
                lower.or(same.and(conversations::waiting_since.is_null()).and(
                    conversations::created_at.lt(after.at).or(conversations::created_at
                        .eq(after.at)
                        .and(conversations::id.gt(after.id.clone()))),
                )),
            )
        };
    }
    let rows: Vec<ViewRow> = query
        .order((
            conversations::priority.desc(),
            conversations::waiting_since.is_null().asc(),
            conversations::waiting_since.asc(),
            conversations::created_at.desc(),
            conversations::id.asc(),
        ))
        .limit(page.fetch())
        .load(conn)?;
    Page::from_rows(
        rows,
        page,
        |(c, _)| match c.waiting_since {
            Some(waiting) => Cursor {
                rank: vec![i64::from(c.priority), 0, c.created_at.and_utc().timestamp_micros()],
                ..Cursor::at(waiting, &c.id)
            },
            None => Cursor {
                rank: vec![i64::from(c.priority), 1],
                ..Cursor::at(c.created_at, &c.id)
            },
        },
        |row| Ok(to_view(row)),
    )
}

fn bad_cursor() -> crate::Error {
    crate::Error::invalid(
        "cursor",
        "not a cursor from this list: pass next_cursor as it was given",
    )
}

pub fn view(conn: &mut DbConn, id: &str) -> Result<ConversationView> {
    use crate::db::schema::contacts;
    let row: ViewRow = conversations::table
        .inner_join(contacts::table)
        .filter(conversations::id.eq(id))
        .select((
            Conversation::as_select(),
            (contacts::alias, contacts::kind, contacts::language),
        ))
        .first(conn)?;
    Ok(to_view(row))
}
