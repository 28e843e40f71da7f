//! Live events of the helpline: what changed (a new message, the queue, an assignment),
//! as ids only. Written in the transaction of the change with a gap-free sequence number
//! (appended as its last statement on PostgreSQL: see `db::at_commit`), then published on the event bus after commit; an app that reconnects asks for the
//! events after the last number it saw, so nothing is lost or seen twice.

use diesel::prelude::*;

use crate::db::at_commit::{self, Sequence};
use crate::db::schema::live_events;
use crate::db::{DbConn, lock_for_sequence, write_tx};
use crate::error::Result;
use crate::time;

/// Advisory lock key serialising event numbering on PostgreSQL ("events").
const EVENTS_LOCK: i64 = 0x0065_7665_6e74;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = live_events)]
pub struct LiveEvent {
    pub seq: i64,
    #[serde(with = "naive_utc")]
    pub at: chrono::NaiveDateTime,
    pub kind: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub listener_id: Option<String>,
    /// A short state that goes with the kind (a message's delivery: sent, delivered, failed).
    pub detail: Option<String>,
    /// Whose event it is: None for the helpline's, else a centre's id.
    pub organisation_id: Option<String>,
    /// The object a centre's event names (a referral, an appointment).
    pub object_id: Option<String>,
}

mod naive_utc {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono::NaiveDateTime, D::Error> {
        let text = String::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| t.naive_utc())
            .map_err(serde::de::Error::custom)
    }
}

pub mod kind {
    pub const MESSAGE: &str = "message.new";
    pub const QUEUE: &str = "queue.changed";
    pub const ASSIGNED: &str = "conversation.assigned";
    pub const CLOSED: &str = "conversation.closed";
    /// A conversation was flagged for its listener (detail: the flag, never the words).
    pub const FLAGGED: &str = "conversation.flagged";
    pub const REQUEUED: &str = "conversation.requeued";
    pub const PRESENCE: &str = "presence.changed";
    pub const MESSAGE_STATUS: &str = "message.status";
    pub const REFERRAL_NEW: &str = "referral.new";
    pub const REFERRAL_UPDATED: &str = "referral.updated";
    pub const APPOINTMENT_BOOKED: &str = "appointment.booked";
    pub const APPOINTMENT_CANCELLED: &str = "appointment.cancelled";
    pub const APPOINTMENT_STATUS: &str = "appointment.status";
    pub const HOUSING_PLACED: &str = "housing.placed";
    /// A placement no longer complies with its case's rules (no where, no why).
    pub const HOUSING_NONCOMPLIANT: &str = "housing.placement_noncompliant";
    /// A security alert (detail: its kind), for administrators and national coordinators.
    pub const SECURITY_ALERT: &str = "security.alert";
}

/// Records an event in the current transaction; the bus publishes it once the transaction
/// commits.
pub fn record(
    conn: &mut DbConn,
    kind: &str,
    conversation_id: Option<&str>,
    message_id: Option<&str>,
    listener_id: Option<&str>,
) -> Result<()> {
    record_with_detail(conn, kind, conversation_id, message_id, listener_id, None)
}

/// As [`record`], with a detail.
pub fn record_with_detail(
    conn: &mut DbConn,
    kind: &str,
    conversation_id: Option<&str>,
    message_id: Option<&str>,
    listener_id: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    insert(conn, kind, conversation_id, message_id, listener_id, detail, None, None)
}

/// A helpline event naming an object of another organisation's (a referral the helpline sent).
pub fn record_for_helpline(
    conn: &mut DbConn,
    kind: &str,
    conversation_id: Option<&str>,
    object_id: &str,
    detail: Option<&str>,
) -> Result<()> {
    insert(conn, kind, conversation_id, None, None, detail, None, Some(object_id))
}

/// An event for one centre's staff, naming an object of theirs.
pub fn record_for_centre(
    conn: &mut DbConn,
    organisation_id: &str,
    kind: &str,
    object_id: &str,
    detail: Option<&str>,
) -> Result<()> {
    insert(
        conn,
        kind,
        None,
        None,
        None,
        detail,
        Some(organisation_id),
        Some(object_id),
    )
}

/// A security alert, for the platform's administrators and national coordinators only.
pub fn record_security(conn: &mut DbConn, alert_id: &str, alert_kind: &str) -> Result<()> {
    insert(
        conn,
        kind::SECURITY_ALERT,
        None,
        None,
        None,
        Some(alert_kind),
        None,
        Some(alert_id),
    )
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConn,
    kind: &str,
    conversation_id: Option<&str>,
    message_id: Option<&str>,
    listener_id: Option<&str>,
    detail: Option<&str>,
    organisation_id: Option<&str>,
    object_id: Option<&str>,
) -> Result<()> {
    let mut event = LiveEvent {
        seq: 0,
        at: time::to_db(time::now()),
        kind: kind.to_owned(),
        conversation_id: conversation_id.map(str::to_owned),
        message_id: message_id.map(str::to_owned),
        listener_id: listener_id.map(str::to_owned),
        detail: detail.map(str::to_owned),
        organisation_id: organisation_id.map(str::to_owned),
        object_id: object_id.map(str::to_owned),
    };
    write_tx(conn, |conn| {
        // The devices that hear it are owed a notification, in the same transaction.
        crate::push::on_event(conn, &event.kind, event.organisation_id.as_deref(), time::now())?;
        Ok(at_commit::append(conn, Sequence::Events, move |conn| {
            lock_for_sequence(conn, EVENTS_LOCK)?;
            let last: Option<i64> = live_events::table
                .select(diesel::dsl::max(live_events::seq))
                .first(conn)?;
            event.seq = last.unwrap_or(0) + 1;
            diesel::insert_into(live_events::table).values(&event).execute(conn)?;
            Ok(())
        })?)
    })
}

/// Events after `seq`, oldest first.
pub fn since(conn: &mut DbConn, seq: i64, limit: i64) -> Result<Vec<LiveEvent>> {
    Ok(live_events::table
        .filter(live_events::seq.gt(seq))
        .order(live_events::seq.asc())
        .limit(limit)
        .select(LiveEvent::as_select())
        .load(conn)?)
}

pub fn latest(conn: &mut DbConn) -> Result<i64> {
    Ok(live_events::table
        .select(diesel::dsl::max(live_events::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}
