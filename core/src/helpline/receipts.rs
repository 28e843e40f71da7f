//! Provider message ids already received, so that a replayed webhook changes nothing.

use diesel::prelude::*;

use super::model::Channel;
use crate::db::schema::inbound_receipts;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::time;

/// Records a provider id; false if it was already there. Call inside the ingestion
/// transaction, which holds the conversation's lock.
pub fn first_time(conn: &mut DbConn, channel: Channel, provider_id: &str) -> Result<bool> {
    write_tx(conn, |conn| {
        let seen: i64 = inbound_receipts::table
            .filter(inbound_receipts::channel.eq(channel.as_str()))
            .filter(inbound_receipts::provider_id.eq(provider_id))
            .count()
            .get_result(conn)?;
        if seen > 0 {
            return Ok(false);
        }
        diesel::insert_into(inbound_receipts::table)
            .values((
                inbound_receipts::channel.eq(channel.as_str()),
                inbound_receipts::provider_id.eq(provider_id),
                inbound_receipts::received_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(true)
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
