//! The audit trail: an append-only, hash-chained record of who did what to which object
//! and when. Entries are written in the same transaction as the change they record.
//! Details carry ids and names of fields, never personal data.

use diesel::prelude::*;

use crate::access::{Actor, ActorKind};
use crate::db::at_commit::{self, Sequence};
use crate::db::schema::audit_log;
use crate::db::{DbConn, lock_for_sequence, write_tx};
use crate::error::Result;
use crate::ids::AuditId;
use crate::time;

pub mod anchor;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Advisory lock key serialising appends on PostgreSQL ("audit" in ASCII).
const CHAIN_LOCK: i64 = 0x0061_7564_6974;

/// What is being recorded. `object` is (type, id).
pub struct Entry<'a> {
    pub action: &'a str,
    pub object: Option<(&'a str, String)>,
    pub details: serde_json::Value,
}

impl<'a> Entry<'a> {
    pub fn new(action: &'a str) -> Self {
        Self {
            action,
            object: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }
    pub fn object(mut self, kind: &'a str, id: impl ToString) -> Self {
        self.object = Some((kind, id.to_string()));
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = audit_log)]
struct Row {
    seq: i64,
    id: String,
    at: chrono::NaiveDateTime,
    actor_type: String,
    actor_id: Option<String>,
    organisation_id: Option<String>,
    action: String,
    object_type: Option<String>,
    object_id: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl Row {
    fn compute_hash(&self) -> String {
        let fields = [
            self.seq.to_string(),
            self.id.clone(),
            self.at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.actor_type.clone(),
            self.actor_id.clone().unwrap_or_default(),
            self.organisation_id.clone().unwrap_or_default(),
            self.action.clone(),
            self.object_type.clone().unwrap_or_default(),
            self.object_id.clone().unwrap_or_default(),
            self.details.clone(),
            self.prev_hash.clone(),
        ];
        // Length-prefixed so that no two different rows serialise to the same bytes.
        let mut buf = Vec::new();
        for f in &fields {
            buf.extend_from_slice(&(f.len() as u64).to_be_bytes());
            buf.extend_from_slice(f.as_bytes());
        }
        crate::crypto::sha256_hex(&buf)
    }
}

/// Appends one entry. Call it inside the transaction of the change (see `db::write_tx`);
/// a read that records itself outside one gets its own write transaction here, so that the
/// read of the chain's head and the insert of the next link cannot interleave with another
/// append (they once collided on the sequence and failed parallel reads with 409).
///
/// On PostgreSQL the link is appended as the transaction's last statement, before its live
/// events (see `db::at_commit`): the chain's lock is then never held while waiting for another.
pub fn record(conn: &mut DbConn, actor: &Actor, entry: Entry<'_>) -> Result<()> {
    let actor = *actor;
    let at = time::to_db(time::now());
    let action = entry.action.to_owned();
    let object = entry.object.map(|(kind, id)| (kind.to_owned(), id));
    let details = entry.details.to_string();
    write_tx(conn, |conn| {
        Ok(at_commit::append(conn, Sequence::Audit, move |conn| {
            append(conn, &actor, at, action, object, details)
        })?)
    })
}

fn append(
    conn: &mut DbConn,
    actor: &Actor,
    at: chrono::NaiveDateTime,
    action: String,
    object: Option<(String, String)>,
    details: String,
) -> QueryResult<()> {
    lock_for_sequence(conn, CHAIN_LOCK)?;
    let last: Option<(i64, String)> = audit_log::table
        .select((audit_log::seq, audit_log::hash))
        .order(audit_log::seq.desc())
        .first(conn)
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let (actor_type, actor_id) = match actor.kind {
        ActorKind::User(id) => ("user", Some(id.to_string())),
        ActorKind::ApiKey(id) => ("api_key", Some(id.to_string())),
        ActorKind::System => ("system", None),
        ActorKind::Anonymous => ("anonymous", None),
    };
    let mut row = Row {
        seq,
        id: AuditId::new().to_string(),
        at,
        actor_type: actor_type.to_owned(),
        actor_id,
        organisation_id: actor.organisation_id.map(|o| o.to_string()),
        action,
        object_type: object.as_ref().map(|(t, _)| t.clone()),
        object_id: object.map(|(_, id)| id),
        details,
        prev_hash,
        hash: String::new(),
    };
    row.hash = row.compute_hash();
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

/// What `relais audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub entries_checked: u64,
    pub first_broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BrokenLink {
    /// The sequence number at which the chain stops holding.
    pub seq: i64,
    pub reason: String,
}

/// Walks the whole chain in order and reports the first entry that does not hold:
/// a missing sequence number (a deleted row), a hash that does not match the row's
/// content (an edited row), or a link to a previous hash that is not the previous row's.
pub fn verify(conn: &mut DbConn) -> Result<Verification> {
    const BATCH: i64 = 1000;
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_owned();
    let mut checked = 0u64;
    loop {
        let rows: Vec<Row> = audit_log::table
            .select(Row::as_select())
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq.asc())
            .limit(BATCH)
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let broken = |reason: String| Verification {
                entries_checked: checked,
                first_broken: Some(BrokenLink {
                    seq: expected_seq,
                    reason,
                }),
            };
            if row.seq != expected_seq {
                return Ok(broken(format!(
                    "entry {expected_seq} is missing (next present is {})",
                    row.seq
                )));
            }
            if row.prev_hash != prev_hash {
                return Ok(broken("its link to the previous entry does not match".into()));
            }
            if row.compute_hash() != row.hash {
                return Ok(broken("its content does not match its hash (edited)".into()));
            }
            prev_hash = row.hash;
            expected_seq += 1;
            checked += 1;
        }
    }
    Ok(Verification {
        entries_checked: checked,
        first_broken: None,
    })
}

/// How many entries the trail holds.
pub fn count(conn: &mut DbConn) -> Result<i64> {
    Ok(audit_log::table.count().get_result(conn)?)
}

/// The chain's last entry (sequence, hash), or none on an empty trail.
pub fn head(conn: &mut DbConn) -> Result<Option<(i64, String)>> {
    Ok(audit_log::table
        .select((audit_log::seq, audit_log::hash))
        .order(audit_log::seq.desc())
        .first(conn)
        .optional()?)
}

/// The hash of the entry at `seq`, if the trail holds it.
pub fn hash_at(conn: &mut DbConn, seq: i64) -> Result<Option<String>> {
    Ok(audit_log::table
        .select(audit_log::hash)
        .filter(audit_log::seq.eq(seq))
        .first(conn)
        .optional()?)
}
