//! The outbox: every outbound message is a row here first, written in the same transaction
//! as what caused it, then drained by delivery workers on any instance. A worker claims a
//! row with a compare-and-set on its status (so two workers never both own it), only the
//! oldest unfinished row of each chat (so order is kept), and holds it under a lease (so a
//! crashed worker's rows come back). The most urgent rows go first (see [`Urgency`]).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::messages;
use super::model::Channel;
use crate::crypto::{self, Secrets};
use crate::db::schema::outbox;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::outbox::{self as protocol, Claim, Outcome, Status, Table};
use crate::time;

/// The text line's outbox in the one protocol: claimed most urgent first, then oldest first,
/// then by position.
pub const TABLE: Table = Table::new("outbox", "urgency DESC, created_at, position");

/// How soon a row must go, whatever waits before it. A backlog of the bot's routine answers
/// (hundreds of people writing at once, Telegram's 30 sends a second) must not hold back the
/// emergency numbers given to someone in danger, nor a listener's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// The bot's answers, reminders, queue places.
    Routine = 0,
    /// A listener's words to the person they hold.
    Listener = 1,
    /// The answer to a message read as danger, suicide or a victim's words (the numbers).
    Safety = 2,
}

/// What is sent: a text and, where the channel has them, choices (buttons).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Choice {
    pub key: String,
    pub label: String,
}

pub struct NewOutbound<'a> {
    pub channel: Channel,
    pub chat_key: &'a str,
    pub destination_sealed: Vec<u8>,
    pub conversation_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub payload: &'a Payload,
    pub position: i32,
    pub urgency: Urgency,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = outbox)]
struct Row {
    id: String,
    channel: String,
    chat_key: String,
    conversation_id: Option<String>,
    message_id: Option<String>,
    destination_sealed: Vec<u8>,
    payload_sealed: Vec<u8>,
    status: String,
    attempts: i32,
    next_attempt_at: chrono::NaiveDateTime,
    locked_by: Option<String>,
    locked_until: Option<chrono::NaiveDateTime>,
    provider_message_id: Option<String>,
    last_error: Option<String>,
    created_at: chrono::NaiveDateTime,
    position: i32,
    sent_at: Option<chrono::NaiveDateTime>,
    claim_token: Option<String>,
    urgency: i32,
}

fn payload_context(id: &str) -> String {
    format!("outbox.payload:{id}")
}

/// Queues one outbound message. Call inside the transaction of its cause.
pub fn enqueue(conn: &mut DbConn, secrets: &Secrets, item: NewOutbound<'_>) -> Result<String> {
    write_tx(conn, |conn| {
        let id = uuid::Uuid::new_v4().to_string();
        let json = serde_json::to_vec(item.payload).map_err(|e| Error::Internal(e.to_string()))?;
        let now = time::to_db(time::now());
        let row = Row {
            payload_sealed: crypto::seal(&secrets.field_key, &payload_context(&id), &json),
            id: id.clone(),
            channel: item.channel.as_str().to_owned(),
            chat_key: item.chat_key.to_owned(),
            conversation_id: item.conversation_id.map(str::to_owned),
            message_id: item.message_id.map(str::to_owned),
            destination_sealed: item.destination_sealed,
            status: TABLE.spell(Status::Pending).to_owned(),
            attempts: 0,
            next_attempt_at: now,
            locked_by: None,
            locked_until: None,
            provider_message_id: None,
            last_error: None,
            created_at: now,
            position: item.position,
            sent_at: None,
            claim_token: None,
            urgency: item.urgency as i32,
        };
        diesel::insert_into(outbox::table).values(&row).execute(conn)?;
        protocol::mark_enqueued(&TABLE);
        Ok(id)
    })
}

/// A row a worker now owns, opened for sending.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub claim: Claim,
    pub channel: Channel,
    pub chat_key: String,
    pub destination: String,
    pub payload: Payload,
    pub message_id: Option<String>,
}

impl Claimed {
    pub fn id(&self) -> &str {
        &self.claim.id
    }
}

/// Claims up to `limit` rows that are due, the head of their chat, that this instance
/// `can_send`, and (for channels with a per-chat pace) not too soon after the chat's last
/// send, inside one write transaction
/// (SQLite serialises it; PostgreSQL relies on the compare-and-set).
pub fn claim_batch(
    conn: &mut DbConn,
    secrets: &Secrets,
    now: DateTime<Utc>,
    limit: i64,
    lease: Duration,
    per_chat_gap: &dyn Fn(Channel) -> Duration,
    can_send: &dyn Fn(Channel, &str) -> bool,
) -> Result<Vec<Claimed>> {
    write_tx(conn, |conn| {
        // A chat's head: its oldest unfinished row, through the chat's partial index.
        let head_query = format!(
            "SELECT id FROM outbox WHERE chat_key = $1 AND {} ORDER BY created_at, position LIMIT 1",
            protocol::UNFINISHED
        );
        let candidates = protocol::due_ids(conn, &TABLE, now, limit * 4)?;
        let mut claimed = Vec::new();
        let mut chats_seen: Vec<String> = Vec::new();
        for id in candidates {
            if claimed.len() as i64 >= limit {
                break;
            }
            let Some(row) = outbox::table
                .find(&id)
                .select(Row::as_select())
                .first(conn)
                .optional()?
            else {
                continue;
            };
            if chats_seen.contains(&row.chat_key) {
                continue;
            }
            chats_seen.push(row.chat_key.clone());
            // Only the oldest unfinished row of a chat may go: order within a conversation.
            // A chat takes the place of its most urgent row: when that row waits behind older
            // ones of its chat, the oldest goes now, ahead of the rest of the queue.
            let head: Option<protocol::Id> = diesel::sql_query(protocol::numbered(conn, &head_query))
                .bind::<diesel::sql_types::Text, _>(&row.chat_key)
                .get_result(conn)
                .optional()?;
            let row = match head {
                Some(head) if head.id == row.id => row,
                Some(head) => {
                    let Some(head) = outbox::table
                        .find(&head.id)
                        .select(Row::as_select())
                        .first(conn)
                        .optional()?
                    else {
                        continue;
                    };
                    head
                }
                None => continue,
            };
            let channel: Channel = row.channel.parse()?;
            if !can_send(channel, &row.chat_key) {
                continue; // left for an instance that can (a web chat page held elsewhere)
            }
            let gap = per_chat_gap(channel);
            if gap > Duration::zero() {
                let last: Option<chrono::NaiveDateTime> = outbox::table
                    .filter(outbox::chat_key.eq(&row.chat_key))
                    .select(diesel::dsl::max(outbox::sent_at))
                    .first(conn)?;
                if last.is_some_and(|t| now - time::from_db(t) < gap) {
                    continue;
                }
            }
            let Some(claim) = protocol::claim(conn, &TABLE, &row.id, now, lease)? else {
                continue; // another worker got there first
            };
            let payload_bytes = crypto::open(&secrets.field_key, &payload_context(&row.id), &row.payload_sealed)
                .map_err(|_| Error::Internal("an outbox payload could not be opened".into()))?;
            let payload: Payload =
                serde_json::from_slice(&payload_bytes).map_err(|e| Error::Internal(e.to_string()))?;
            let destination = super::contacts::open_address(secrets, &row.chat_key, &row.destination_sealed)?;
            claimed.push(Claimed {
                claim,
                channel,
                chat_key: row.chat_key,
                destination,
                payload,
                message_id: row.message_id,
            });
        }
        Ok(claimed)
    })
}

/// Copies an outbound row's fate onto its conversation message, if it has one; true when
/// the listeners' apps were told (a live event to publish).
fn set_message_delivery(conn: &mut DbConn, outbox_id: &str, delivery: &str) -> Result<bool> {
    let message: Option<Option<String>> = outbox::table
        .find(outbox_id)
        .select(outbox::message_id)
        .first(conn)
        .optional()?;
    match message {
        Some(Some(message)) => messages::set_delivery(conn, &message, delivery),
        _ => Ok(false),
    }
}

/// Records a send's fate, fenced by the claim's token; true when a live event was recorded
/// (the conversation message's delivery state changed).
pub fn settle(
    conn: &mut DbConn,
    item: &Claimed,
    outcome: &Outcome,
    provider_message_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    write_tx(conn, |conn| {
        if !protocol::settle(conn, &TABLE, &item.claim, outcome, now)? {
            return Ok(false); // another claim holds the row now
        }
        match outcome {
            Outcome::Sent => {
                diesel::update(outbox::table.find(item.id()))
                    .set(outbox::provider_message_id.eq(provider_message_id))
                    .execute(conn)?;
                set_message_delivery(conn, item.id(), "sent")
            }
            Outcome::Dead(_) => set_message_delivery(conn, item.id(), "failed"),
            Outcome::Retry { .. } | Outcome::Defer { .. } => Ok(false),
        }
    })
}

/// Hands claimed rows back untried (a worker that stops).
pub fn release(conn: &mut DbConn, items: &[Claimed]) -> Result<()> {
    write_tx(conn, |conn| {
        for item in items {
            protocol::release(conn, &TABLE, &item.claim)?;
        }
        Ok(())
    })
}

/// What a provider's delivery report changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// No message of ours has this provider id.
    Unknown,
    /// Known; nothing for the listeners' apps.
    Recorded,
    /// Known, and a live event was recorded.
    Published,
}

/// A provider's delivery report for a message it accepted earlier.
pub fn delivery_report(
    conn: &mut DbConn,
    channel: Channel,
    provider_message_id: &str,
    delivery: &str,
) -> Result<Report> {
    write_tx(conn, |conn| {
        let message: Option<Option<String>> = outbox::table
            .filter(outbox::channel.eq(channel.as_str()))
            .filter(outbox::provider_message_id.eq(provider_message_id))
            .select(outbox::message_id)
            .first(conn)
            .optional()?;
        Ok(match message {
            Some(Some(id)) => {
                if messages::set_delivery(conn, &id, delivery)? {
                    Report::Published
                } else {
                    Report::Recorded
                }
            }
            Some(None) => Report::Recorded,
            None => Report::Unknown,
        })
    })
}

/// Depth (rows not yet sent or failed) and the age in seconds of the oldest of them.
pub fn depth(conn: &mut DbConn, now: DateTime<Utc>) -> Result<(i64, f64)> {
    let unfinished = [TABLE.spell(Status::Pending), TABLE.spell(Status::Sending)];
    let count: i64 = outbox::table
        .filter(outbox::status.eq_any(unfinished))
        .count()
        .get_result(conn)?;
    let oldest: Option<chrono::NaiveDateTime> = outbox::table
        .filter(outbox::status.eq_any(unfinished))
        .select(diesel::dsl::min(outbox::created_at))
        .first(conn)?;
    let age = oldest
        .map(|t| (now - time::from_db(t)).num_milliseconds() as f64 / 1000.0)
        .unwrap_or(0.0);
    Ok((count, age.max(0.0)))
}

/// Erases sent and failed rows older than `before` (they hold sealed texts).
/// The buttons sent with a message of the line, read from its outbox row while the row is
/// kept (empty once purged, or for a message sent without buttons).
pub fn choices_of(conn: &mut DbConn, secrets: &Secrets, message_id: &str) -> Result<Vec<Choice>> {
    let row: Option<(String, Vec<u8>)> = outbox::table
        .filter(outbox::message_id.eq(message_id))
        .order(outbox::position.asc())
        .select((outbox::id, outbox::payload_sealed))
        .first(conn)
        .optional()?;
    let Some((id, sealed)) = row else {
        return Ok(Vec::new());
    };
    let bytes = crypto::open(&secrets.field_key, &payload_context(&id), &sealed)
        .map_err(|_| Error::Internal("an outbox payload could not be opened".into()))?;
    let payload: Payload = serde_json::from_slice(&bytes).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(payload.choices)
}

pub fn purge_finished(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize> {
    protocol::purge(conn, &TABLE, before)
}
