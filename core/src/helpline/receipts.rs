//! Provider message ids already received, so that a replayed webhook changes nothing.

use diesel::prelude::*;

use super::model::Channel;
use crate::db::schema::inbound_receipts;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::time;

/// Records a provider id; false if it was already there. Call inside the ingestion
/// transaction, which holds the conversation's lock. One statement: the primary key decides.
pub fn first_time(conn: &mut DbConn, channel: Channel, provider_id: &str) -> Result<bool> {
    write_tx(conn, |conn| {
        // Both backends speak `ON CONFLICT DO NOTHING` with `$n` placeholders; diesel's builder
        // does not offer it through the multi-backend connection.
        let inserted = diesel::sql_query(
            "INSERT INTO inbound_receipts (channel, provider_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<diesel::sql_types::Text, _>(channel.as_str())
        .bind::<diesel::sql_types::Text, _>(provider_id)
        .bind::<diesel::sql_types::Timestamp, _>(time::to_db(time::now()))
        .execute(conn)?;
        Ok(inserted == 1)
    })
}

/// Forgets receipts older than `before` (a replay that late is not a replay).
pub fn purge(conn: &mut DbConn, before: chrono::DateTime<chrono::Utc>) -> Result<usize> {
    write_tx(conn, |conn| {
        Ok(
            diesel::delete(inbound_receipts::table.filter(inbound_receipts::received_at.lt(time::to_db(before))))
                .execute(conn)?,
        )
    })
}
