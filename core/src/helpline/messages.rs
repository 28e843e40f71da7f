//! Messages of a conversation, bodies sealed at rest.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::events;
use super::model::{Author, Direction};
use crate::crypto::{self, Secrets};
use crate::db::schema::{conversations, messages};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = messages)]
struct Row {
    id: String,
    conversation_id: String,
    direction: String,
    author: String,
    body_sealed: Vec<u8>,
    delivery: Option<String>,
    created_at: chrono::NaiveDateTime,
    position: i32,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub direction: Direction,
    pub author: Author,
    pub body: String,
    pub delivery: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn context(id: &str) -> String {
    format!("messages.body:{id}")
}

pub fn store(
    conn: &mut DbConn,
    secrets: &Secrets,
    conversation_id: &str,
    direction: Direction,
    author: Author,
    body: &str,
    position: i32,
) -> Result<String> {
    write_tx(conn, |conn| {
        let id = uuid::Uuid::new_v4().to_string();
        let row = Row {
            body_sealed: crypto::seal(&secrets.field_key, &context(&id), body.as_bytes()),
            id: id.clone(),
            conversation_id: conversation_id.to_owned(),
            direction: direction.as_str().to_owned(),
            author: author.as_str().to_owned(),
            delivery: (direction == Direction::Out).then(|| "queued".to_owned()),
            created_at: time::to_db(time::now()),
            position,
        };
        diesel::insert_into(messages::table).values(&row).execute(conn)?;
        Ok(id)
    })
}

/// Deletes every message the person wrote in a conversation: a victim who wrote to the
/// authors' line is told her words are not kept, and they are not. Returns how many went.
pub fn forget_words(conn: &mut DbConn, conversation_id: &str) -> Result<usize> {
    write_tx(conn, |conn| {
        Ok(diesel::delete(
            messages::table
                .filter(messages::conversation_id.eq(conversation_id))
                .filter(messages::direction.eq(Direction::In.as_str())),
        )
        .execute(conn)?)
    })
}

/// Records a message's delivery state. A listener's message also tells the listeners' apps
/// (`message.status`), so the one who wrote it sees it leave, arrive or fail. True when a
/// live event was recorded. Call inside a transaction.
pub fn set_delivery(conn: &mut DbConn, id: &str, delivery: &str) -> Result<bool> {
    write_tx(conn, |conn| {
        let updated = diesel::update(messages::table.find(id))
            .filter(messages::delivery.is_null().or(messages::delivery.ne(delivery)))
            .set(messages::delivery.eq(Some(delivery)))
            .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        let (conversation_id, author): (String, String) = messages::table
            .find(id)
            .select((messages::conversation_id, messages::author))
            .first(conn)?;
        if author != Author::Listener.as_str() {
            return Ok(false);
        }
        let listener: Option<Option<String>> = conversations::table
            .find(&conversation_id)
            .select(conversations::listener_id)
            .first(conn)
            .optional()?;
        events::record_with_detail(
            conn,
            events::kind::MESSAGE_STATUS,
            Some(&conversation_id),
            Some(id),
            listener.flatten().as_deref(),
            Some(delivery),
        )?;
        Ok(true)
    })
}

/// The messages of a conversation in order, opened.
pub fn list(conn: &mut DbConn, secrets: &Secrets, conversation_id: &str) -> Result<Vec<Message>> {
    let rows: Vec<Row> = messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .order((messages::created_at.asc(), messages::position.asc()))
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let body = crypto::open(&secrets.field_key, &context(&r.id), &r.body_sealed)
                .map_err(|_| Error::Internal("a message body could not be opened".into()))?;
            Ok(Message {
                body: String::from_utf8_lossy(&body).into_owned(),
                conversation_id: r.conversation_id,
                direction: r.direction.parse().unwrap_or(Direction::In),
                author: r.author.parse().unwrap_or(Author::Contact),
                delivery: r.delivery,
                created_at: time::from_db(r.created_at),
                id: r.id,
            })
        })
        .collect()
}
