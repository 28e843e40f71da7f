//! The listener's desk: taking conversations from the queue (the most urgent, then the
//! longest waiting), replying through the outbox, private notes (sealed, never sent),
//! transfer, and closing with an outcome. Every change of hands is audited.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::conversations::{self, Conversation};
use super::model::{Author, Channel, ConversationState, Direction};
use super::outbox::{self, NewOutbound, Payload, Urgency};
use super::{events, messages};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::crypto::{self, Secrets};
use crate::db::schema::{conversation_notes, conversations as conv, users};
use crate::db::{DbConn, lock_for_sequence, write_tx};
use crate::error::{Error, Result};
use crate::time;

/// Serialises queue changes on PostgreSQL, so two listeners never take the same one.
const QUEUE_LOCK: i64 = 0x0071_7565_7565;

/// How a conversation ended.
pub const OUTCOMES: &[&str] = &[
    "information_given",
    "oriented_to_centre",
    "appointment_booked",
    "emergency_redirected",
    "abandoned",
    "out_of_scope",
];

fn load(conn: &mut DbConn, id: &str) -> Result<Conversation> {
    conversations::get(conn, id)
}

/// The conversation, locked until the transaction ends: what is saved is built on the row as
/// it is now, not as it was before another writer (the person's next message) changed it.
fn load_for_change(conn: &mut DbConn, id: &str) -> Result<Conversation> {
    conversations::get_for_update(conn, id)
}

fn active_count(conn: &mut DbConn, listener: &str) -> Result<i64> {
    Ok(conv::table
        .filter(conv::listener_id.eq(listener))
        .filter(conv::state.eq(ConversationState::Active.as_str()))
        .count()
        .get_result(conn)?)
}

fn hand_to(
    conn: &mut DbConn,
    caller: &Caller,
    mut c: Conversation,
    listener: &str,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    c.set_state(ConversationState::Active, now);
    c.listener_id = Some(listener.to_owned());
    c.assigned_at = Some(time::to_db(now));
    c.step = "queued".to_owned();
    conversations::save(conn, &mut c)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new(action)
            .object("conversation", &c.id)
            .details(serde_json::json!({ "listener_id": listener })),
    )?;
    events::record(conn, events::kind::ASSIGNED, Some(&c.id), None, Some(listener))?;
    Ok(c)
}

/// Takes the most urgent waiting conversation, within the listener's capacity.
pub fn take_next(
    conn: &mut DbConn,
    caller: &Caller,
    capacity: i64,
    now: DateTime<Utc>,
) -> Result<Option<Conversation>> {
    let me = caller.user_id().ok_or(Error::NotFound)?.to_string();
    write_tx(conn, |conn| {
        lock_for_sequence(conn, QUEUE_LOCK)?;
        if active_count(conn, &me)? >= capacity {
            return Err(Error::Conflict(format!("you already hold {capacity} conversations")));
        }
        // The queue lock keeps listeners apart; the person's own messages can still move a
        // conversation (raise it, or close it on STOP): the one chosen is read again under its
        // row lock, and passed over if it no longer waits.
        let mut passed: Vec<String> = Vec::new();
        loop {
            let next: Option<String> = conv::table
                .filter(conv::state.eq(ConversationState::Waiting.as_str()))
                .filter(conv::id.ne_all(&passed))
                .order((conv::priority.desc(), conv::waiting_since.asc(), conv::created_at.asc()))
                .select(conv::id)
                .first(conn)
                .optional()?;
            let Some(id) = next else { return Ok(None) };
            let c = load_for_change(conn, &id)?;
            if c.state() == ConversationState::Waiting {
                return Ok(Some(hand_to(conn, caller, c, &me, "conversation.take", now)?));
            }
            passed.push(id);
        }
    })
}

/// Takes one waiting conversation the listener picked.
pub fn take(conn: &mut DbConn, caller: &Caller, id: &str, capacity: i64, now: DateTime<Utc>) -> Result<Conversation> {
    let me = caller.user_id().ok_or(Error::NotFound)?.to_string();
    write_tx(conn, |conn| {
        lock_for_sequence(conn, QUEUE_LOCK)?;
        let c = load_for_change(conn, id)?;
        if c.state() != ConversationState::Waiting {
            return Err(Error::Conflict("this conversation is not waiting".into()));
        }
        if active_count(conn, &me)? >= capacity {
            return Err(Error::Conflict(format!("you already hold {capacity} conversations")));
        }
        hand_to(conn, caller, c, &me, "conversation.take", now)
    })
}

/// A listener of the helpline, by id, for assignment and transfer.
fn helpline_listener(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<String> {
    let (org, roles): (String, String) = users::table
        .find(id)
        .select((users::organisation_id, users::roles))
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    if org != caller.organisation_id.to_string() {
        return Err(Error::NotFound);
    }
    if !roles.contains("\"listener\"") {
        return Err(Error::invalid("listener_id", "this account is not a listener"));
    }
    Ok(id.to_owned())
}

/// A supervisor hands a waiting (or active) conversation to a listener.
pub fn assign(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    listener: &str,
    capacity: i64,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    write_tx(conn, |conn| {
        lock_for_sequence(conn, QUEUE_LOCK)?;
        let listener = helpline_listener(conn, caller, listener)?;
        let c = load_for_change(conn, id)?;
        if c.state() == ConversationState::Closed || c.state() == ConversationState::Bot {
            return Err(Error::Conflict(
                "only a waiting or active conversation can be assigned".into(),
            ));
        }
        if active_count(conn, &listener)? >= capacity {
            return Err(Error::Conflict("this listener is at capacity".into()));
        }
        hand_to(conn, caller, c, &listener, "conversation.assign", now)
    })
}

/// The conversation, if the caller holds it (a listener acting on it); 409 otherwise.
pub fn held(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Conversation> {
    let c = load(conn, id)?;
    held_by_caller(&c, caller)?;
    Ok(c)
}

/// As [`held`], its row locked to the end of the transaction, for a change to save. Call
/// inside a `write_tx`.
pub fn held_for_change(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Conversation> {
    let c = load_for_change(conn, id)?;
    held_by_caller(&c, caller)?;
    Ok(c)
}

fn held_by_caller(c: &Conversation, caller: &Caller) -> Result<()> {
    let me = caller.user_id().map(|u| u.to_string());
    if c.state() != ConversationState::Active || c.listener_id != me {
        return Err(Error::Conflict("take this conversation before acting on it".into()));
    }
    Ok(())
}

/// The listener's reply: stored, and queued for the person's channel.
pub fn reply(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(Error::invalid("text", "a reply has 1 to 2000 characters"));
    }
    write_tx(conn, |conn| {
        let mut c = load_for_change(conn, id)?;
        held_by_caller(&c, caller)?;
        let (key, sealed) = super::contacts::sealed_address(conn, &c.contact_id)?;
        let channel: Channel = c.channel.parse()?;
        let message_id = messages::store(conn, secrets, &c.id, Direction::Out, Author::Listener, text, 0)?;
        outbox::enqueue(
            conn,
            secrets,
            NewOutbound {
                channel,
                chat_key: &key,
                destination_sealed: sealed,
                conversation_id: Some(&c.id),
                message_id: Some(&message_id),
                payload: &Payload {
                    text: text.to_owned(),
                    choices: Vec::new(),
                },
                position: 0,
                urgency: Urgency::Listener,
            },
        )?;
        c.last_message_at = time::to_db(now);
        conversations::save(conn, &mut c)?;
        events::record(
            conn,
            events::kind::MESSAGE,
            Some(&c.id),
            Some(&message_id),
            c.listener_id.as_deref(),
        )?;
        Ok(message_id)
    })
}

/// Where to show "the listener is typing": the channel, the chat's key and the opened
/// address, for the conversation's own listener only. Nothing is stored.
pub fn typing_target(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    id: &str,
) -> Result<(Channel, String, String)> {
    let c = load(conn, id)?;
    held_by_caller(&c, caller)?;
    let (key, sealed) = super::contacts::sealed_address(conn, &c.contact_id)?;
    let channel: Channel = c.channel.parse()?;
    let address = super::contacts::open_address(secrets, &key, &sealed)?;
    Ok((channel, key, address))
}

/// Hands the conversation to another listener, or back to the queue at its old place.
#[allow(clippy::too_many_arguments)]
pub fn transfer(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    to: Option<&str>,
    note: Option<&str>,
    secrets: &Secrets,
    capacity: i64,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    write_tx(conn, |conn| {
        lock_for_sequence(conn, QUEUE_LOCK)?;
        let mut c = load_for_change(conn, id)?;
        held_by_caller(&c, caller)?;
        if let Some(note) = note {
            add_note_inner(conn, secrets, caller, &c.id, note)?;
        }
        match to {
            Some(listener) => {
                let listener = helpline_listener(conn, caller, listener)?;
                if active_count(conn, &listener)? >= capacity {
                    return Err(Error::Conflict("this listener is at capacity".into()));
                }
                hand_to(conn, caller, c, &listener, "conversation.transfer", now)
            }
            None => {
                // Back to the queue, keeping its waiting time: it does not lose its place.
                c.state = ConversationState::Waiting.as_str().to_owned();
                c.listener_id = None;
                c.assigned_at = None;
                conversations::save(conn, &mut c)?;
                audit::record(
                    conn,
                    &caller.actor(),
                    Entry::new("conversation.requeue").object("conversation", &c.id),
                )?;
                events::record(conn, events::kind::QUEUE, Some(&c.id), None, None)?;
                Ok(c)
            }
        }
    })
}

pub fn close(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    id: &str,
    outcome: &str,
    summary: &str,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    if !OUTCOMES.contains(&outcome) {
        return Err(Error::invalid("outcome", format!("one of {}", OUTCOMES.join(", "))));
    }
    if summary.chars().count() > 2000 {
        return Err(Error::invalid("summary", "at most 2000 characters"));
    }
    write_tx(conn, |conn| {
        let mut c = load_for_change(conn, id)?;
        held_by_caller(&c, caller)?;
        c.set_state(ConversationState::Closed, now);
        c.outcome = Some(outcome.to_owned());
        c.close_reason = Some("listener".to_owned());
        c.led_to_something = true;
        c.summary_sealed = Some(crypto::seal(
            &secrets.field_key,
            &format!("conversations.summary:{}", c.id),
            summary.as_bytes(),
        ));
        conversations::save(conn, &mut c)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("conversation.close")
                .object("conversation", &c.id)
                .details(serde_json::json!({ "outcome": outcome })),
        )?;
        events::record(conn, events::kind::CLOSED, Some(&c.id), None, None)?;
        Ok(c)
    })
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Note {
    pub id: String,
    pub conversation_id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn note_context(id: &str) -> String {
    format!("conversation_notes.body:{id}")
}

fn add_note_inner(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    conversation: &str,
    body: &str,
) -> Result<Note> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 4000 {
        return Err(Error::invalid("body", "a note has 1 to 4000 characters"));
    }
    let author = caller.user_id().ok_or(Error::NotFound)?.to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let now = time::now();
    diesel::insert_into(conversation_notes::table)
        .values((
            conversation_notes::id.eq(&id),
            conversation_notes::conversation_id.eq(conversation),
            conversation_notes::author_id.eq(&author),
            conversation_notes::body_sealed.eq(crypto::seal(&secrets.field_key, &note_context(&id), body.as_bytes())),
            conversation_notes::created_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("conversation.note_add").object("conversation", conversation),
    )?;
    Ok(Note {
        id,
        conversation_id: conversation.to_owned(),
        author_id: author,
        body: body.to_owned(),
        created_at: now,
    })
}

/// A private note: sealed at rest, never sent to the person.
pub fn add_note(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, conversation: &str, body: &str) -> Result<Note> {
    write_tx(conn, |conn| {
        load(conn, conversation)?;
        add_note_inner(conn, secrets, caller, conversation, body)
    })
}

pub fn notes(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, conversation: &str) -> Result<Vec<Note>> {
    load(conn, conversation)?;
    let rows: Vec<(String, String, Vec<u8>, chrono::NaiveDateTime)> = conversation_notes::table
        .filter(conversation_notes::conversation_id.eq(conversation))
        .order(conversation_notes::created_at.asc())
        .select((
            conversation_notes::id,
            conversation_notes::author_id,
            conversation_notes::body_sealed,
            conversation_notes::created_at,
        ))
        .load(conn)?;
    write_tx(conn, |conn| {
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("conversation.notes_read").object("conversation", conversation),
        )
    })?;
    rows.into_iter()
        .map(|(id, author_id, sealed, at)| {
            let body = crypto::open(&secrets.field_key, &note_context(&id), &sealed)
                .map_err(|_| Error::Internal("a note could not be opened".into()))?;
            Ok(Note {
                id,
                conversation_id: conversation.to_owned(),
                author_id,
                body: String::from_utf8_lossy(&body).into_owned(),
                created_at: time::from_db(at),
            })
        })
        .collect()
}

/// Active conversations whose listener has not replied for `silence`: back to the queue at
/// their old place. Returns the ids, for the supervisors to be told.
pub fn requeue_silent(conn: &mut DbConn, now: DateTime<Utc>, silence: Duration) -> Result<Vec<String>> {
    let cutoff = time::to_db(now - silence);
    write_tx(conn, |conn| {
        lock_for_sequence(conn, QUEUE_LOCK)?;
        let held: Vec<Conversation> = conv::table
            .filter(conv::state.eq(ConversationState::Active.as_str()))
            .filter(conv::assigned_at.lt(cutoff))
            .select(Conversation::as_select())
            .load(conn)?;
        let mut moved = Vec::new();
        for c in held {
            // Read again under its row lock: the person may have written meanwhile.
            let mut c = load_for_change(conn, &c.id)?;
            if c.state() != ConversationState::Active || c.assigned_at.is_none_or(|t| t >= cutoff) {
                continue;
            }
            let last_reply: Option<chrono::NaiveDateTime> = crate::db::schema::messages::table
                .filter(crate::db::schema::messages::conversation_id.eq(&c.id))
                .filter(crate::db::schema::messages::author.eq(Author::Listener.as_str()))
                .select(diesel::dsl::max(crate::db::schema::messages::created_at))
                .first(conn)?;
            let since = last_reply.into_iter().chain(c.assigned_at).max();
            if since.is_some_and(|t| t < cutoff) {
                c.state = ConversationState::Waiting.as_str().to_owned();
                c.listener_id = None;
                c.assigned_at = None;
                conversations::save(conn, &mut c)?;
                audit::record(
                    conn,
                    &crate::access::Actor::SYSTEM,
                    Entry::new("conversation.requeue_silent").object("conversation", &c.id),
                )?;
                events::record(conn, events::kind::REQUEUED, Some(&c.id), None, None)?;
                moved.push(c.id);
            }
        }
        Ok(moved)
    })
}

/// The contact's place in the queue (1 = next), if waiting.
pub fn queue_position(conn: &mut DbConn, id: &str) -> Result<Option<i64>> {
    let c = load(conn, id)?;
    if c.state() != ConversationState::Waiting {
        return Ok(None);
    }
    let ahead: i64 = conv::table
        .filter(conv::state.eq(ConversationState::Waiting.as_str()))
        .filter(
            conv::priority.gt(c.priority).or(conv::priority
                .eq(c.priority)
                .and(conv::waiting_since.lt(c.waiting_since))),
        )
        .count()
        .get_result(conn)?;
    Ok(Some(ahead + 1))
}
