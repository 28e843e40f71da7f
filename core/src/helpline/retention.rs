//! Retention: anonymous conversations that led to nothing are erased after the configured
//! delay; so are contacts left with no conversation and old receipts. Erasure on request
//! happens at once elsewhere (`contacts::erase`); finished outbound rows go with the
//! outboxes' purge (`outbox::purge_finished`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::receipts;
use crate::db::schema::{contacts, conversations, messages, outbox as outbox_table};
use crate::db::{DbConn, write_tx};
use crate::error::Result;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub conversations: usize,
    pub contacts: usize,
    pub receipts: usize,
}

pub fn purge(conn: &mut DbConn, now: DateTime<Utc>, retention: Duration) -> Result<Purged> {
    let before = now - retention;
    write_tx(conn, |conn| {
        let mut purged = Purged::default();
        let stale = super::conversations::stale_without_outcome(conn, before)?;
        let ids: Vec<String> = stale.iter().map(|(id, _)| id.clone()).collect();
        diesel::delete(messages::table.filter(messages::conversation_id.eq_any(&ids))).execute(conn)?;
        diesel::delete(outbox_table::table.filter(outbox_table::conversation_id.eq_any(&ids))).execute(conn)?;
        purged.conversations =
            diesel::delete(conversations::table.filter(conversations::id.eq_any(&ids))).execute(conn)?;
        let mut orphans: Vec<String> = stale.into_iter().map(|(_, contact)| contact).collect();
        orphans.sort();
        orphans.dedup();
        for contact in orphans {
            let left: i64 = conversations::table
                .filter(conversations::contact_id.eq(&contact))
                .count()
                .get_result(conn)?;
            if left == 0 {
                let key: Option<String> = contacts::table
                    .find(&contact)
                    .select(contacts::address_hmac)
                    .first(conn)
                    .optional()?;
                if let Some(key) = key {
                    diesel::delete(outbox_table::table.filter(outbox_table::chat_key.eq(key))).execute(conn)?;
                }
                purged.contacts += diesel::delete(contacts::table.find(&contact)).execute(conn)?;
            }
        }
        purged.receipts = receipts::purge(conn, now - Duration::days(30))?;
        Ok(purged)
    })
}
