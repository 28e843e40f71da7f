//! Messages of a conversation, bodies sealed at rest.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{Author, Direction};
use crate::crypto::{self, Secrets};
use crate::db::DbConn;
use crate::db::schema::messages;
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
}

pub fn set_delivery(conn: &mut DbConn, id: &str, delivery: &str) -> Result<()> {
    diesel::update(messages::table.find(id))
        .set(messages::delivery.eq(Some(delivery)))
        .execute(conn)?;
    Ok(())
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
