//! Key rotation (`relais rotate-keys`): re-seals every sealed field with a new field key,
//! recomputes the keyed lookups under a new pepper, and ends every session when the JWT key
//! changes. One transaction per table, each audited; the whole is resumable, since a value that
//! already opens under the new key is left alone.
//!
//! Every instance must be stopped while it runs: a running instance still holds the old keys.
//!
//! Not re-sealed: offer positions sealed inside audit entries' details (re-sealing them would
//! break the hash chain). The command keeps the retired keys for them (see the CLI).

use diesel::prelude::*;
use diesel::sql_types::{Binary, Text};

use super::{SecretKey, Secrets, hmac_hex, open, seal};
use crate::access::Actor;
use crate::audit::{self, Entry};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::helpline::contacts::address_key;
use crate::helpline::model::Channel;

/// A sealed column: its table, the column its context is built from, the column, and the
/// context's prefix (`prefix:value`).
struct Sealed {
    table: &'static str,
    by: &'static str,
    column: &'static str,
    prefix: &'static str,
}

/// Every sealed column whose context does not depend on the pepper. The channel addresses
/// (contacts, outbox destinations) are re-sealed with the lookups, in [`rotate_lookups`].
const SEALED: &[Sealed] = &[
    Sealed {
        table: "users",
        by: "id",
        column: "totp_secret",
        prefix: "users.totp_secret",
    },
    Sealed {
        table: "conversations",
        by: "id",
        column: "summary_sealed",
        prefix: "conversations.summary",
    },
    Sealed {
        table: "messages",
        by: "id",
        column: "body_sealed",
        prefix: "messages.body",
    },
    Sealed {
        table: "outbox",
        by: "id",
        column: "payload_sealed",
        prefix: "outbox.payload",
    },
    Sealed {
        table: "conversation_notes",
        by: "id",
        column: "body_sealed",
        prefix: "conversation_notes.body",
    },
    Sealed {
        table: "referrals",
        by: "id",
        column: "summary_sealed",
        prefix: "referrals.summary",
    },
    Sealed {
        table: "orientations",
        by: "id",
        column: "summary_sealed",
        prefix: "orientations.summary",
    },
    Sealed {
        table: "cases",
        by: "id",
        column: "identity_sealed",
        prefix: "cases.identity",
    },
    Sealed {
        table: "measures",
        by: "id",
        column: "zone_sealed",
        prefix: "measures.zone",
    },
    Sealed {
        table: "protected_persons",
        by: "id",
        column: "location_sealed",
        prefix: "protected_persons.location",
    },
    Sealed {
        table: "protected_persons",
        by: "id",
        column: "disc_sealed",
        prefix: "protected_persons.disc",
    },
    Sealed {
        table: "case_notes",
        by: "id",
        column: "body_sealed",
        prefix: "case_notes.body",
    },
    Sealed {
        table: "case_note_corrections",
        by: "id",
        column: "body_sealed",
        prefix: "case_note_corrections.body",
    },
    Sealed {
        table: "case_note_corrections",
        by: "id",
        column: "reason_sealed",
        prefix: "case_note_corrections.reason",
    },
    Sealed {
        table: "certificates",
        by: "id",
        column: "content_sealed",
        prefix: "certificates.content",
    },
    Sealed {
        table: "push_subscriptions",
        by: "id",
        column: "subscription_sealed",
        prefix: "push_subscriptions.subscription",
    },
    Sealed {
        table: "webhook_endpoints",
        by: "organisation_id",
        column: "secret_sealed",
        prefix: "webhook_endpoints.secret",
    },
];

/// Which keys change.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rotation {
    pub field_key: bool,
    pub pepper: bool,
    pub jwt_key: bool,
}

impl Rotation {
    /// New secrets: fresh random keys where asked, the old ones elsewhere.
    pub fn draw(&self, old: &Secrets) -> Secrets {
        let fresh = || SecretKey::from_bytes(super::random_bytes::<48>().to_vec());
        Secrets {
            jwt_key: if self.jwt_key { fresh() } else { old.jwt_key.clone() },
            hmac_pepper: if self.pepper { fresh() } else { old.hmac_pepper.clone() },
            field_key: if self.field_key { fresh() } else { old.field_key.clone() },
        }
    }
}

/// What a rotation changed, table by table.
#[derive(Debug, Default, serde::Serialize)]
pub struct Rotated {
    pub resealed: Vec<(String, usize)>,
    pub lookups: Vec<(String, usize)>,
    pub sessions_ended: usize,
    pub webchat_sessions_ended: usize,
}

#[derive(QueryableByName)]
struct SealedRow {
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = Binary)]
    v: Vec<u8>,
}

fn placeholders(conn: &DbConn, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            if matches!(conn, DbConn::Pg(_)) {
                format!("${i}")
            } else {
                "?".to_owned()
            }
        })
        .collect()
}

/// Opens with the old key, or finds it already under the new one (a resumed rotation).
enum Opened {
    Old(Vec<u8>),
    AlreadyNew,
}

fn open_either(old: &SecretKey, new: &SecretKey, context: &str, sealed: &[u8]) -> Result<Opened> {
    if let Ok(plain) = open(old, context, sealed) {
        return Ok(Opened::Old(plain));
    }
    if open(new, context, sealed).is_ok() {
        return Ok(Opened::AlreadyNew);
    }
    Err(Error::Internal(format!(
        "a sealed value ({}) opens under neither key",
        context.split(':').next().unwrap_or_default()
    )))
}

/// Runs the rotation. `old` are the keys in use, `new` the keys to use from now on.
pub fn rotate(conn: &mut DbConn, old: &Secrets, new: &Secrets, what: Rotation) -> Result<Rotated> {
    let mut done = Rotated::default();
    if what.field_key || what.pepper {
        rotate_lookups(conn, old, new, &mut done)?;
    }
    if what.field_key {
        for sealed in SEALED {
            let count = reseal(conn, &old.field_key, &new.field_key, sealed)?;
            done.resealed
                .push((format!("{}.{}", sealed.table, sealed.column), count));
        }
    }
    if what.jwt_key {
        done.sessions_ended = write_tx(conn, |conn| {
            let now = crate::time::to_db(crate::time::now());
            let ended = diesel::update(
                crate::db::schema::sessions::table.filter(crate::db::schema::sessions::revoked_at.is_null()),
            )
            .set((
                crate::db::schema::sessions::revoked_at.eq(Some(now)),
                crate::db::schema::sessions::revoked_reason.eq(Some("key rotation")),
            ))
            .execute(conn)?;
            audit::record(
                conn,
                &Actor::SYSTEM,
                Entry::new("keys.jwt_rotated").details(serde_json::json!({ "sessions_ended": ended })),
            )?;
            Ok::<_, Error>(ended)
        })?;
    }
    audit::record(
        conn,
        &Actor::SYSTEM,
        Entry::new("keys.rotated").details(serde_json::json!({
            "field_key": what.field_key,
            "pepper": what.pepper,
            "jwt_key": what.jwt_key,
            "key_ids": new.key_ids(),
        })),
    )?;
    Ok(done)
}

/// Re-seals one column in one transaction.
fn reseal(conn: &mut DbConn, old: &SecretKey, new: &SecretKey, sealed: &Sealed) -> Result<usize> {
    write_tx(conn, |conn| {
        let rows: Vec<SealedRow> = diesel::sql_query(format!(
            "SELECT {by} AS k, {column} AS v FROM {table} WHERE {column} IS NOT NULL",
            by = sealed.by,
            column = sealed.column,
            table = sealed.table
        ))
        .load(conn)?;
        let p = placeholders(conn, 2);
        let update = format!(
            "UPDATE {table} SET {column} = {} WHERE {by} = {}",
            p[0],
            p[1],
            table = sealed.table,
            column = sealed.column,
            by = sealed.by
        );
        let mut count = 0;
        for row in rows {
            let context = format!("{}:{}", sealed.prefix, row.k);
            if let Opened::Old(plain) = open_either(old, new, &context, &row.v)? {
                diesel::sql_query(&update)
                    .bind::<Binary, _>(seal(new, &context, &plain))
                    .bind::<Text, _>(&row.k)
                    .execute(conn)?;
                count += 1;
            }
        }
        audit::record(
            conn,
            &Actor::SYSTEM,
            Entry::new("keys.resealed")
                .details(serde_json::json!({ "table": sealed.table, "column": sealed.column, "rows": count })),
        )?;
        Ok(count)
    })
}

#[derive(QueryableByName)]
struct AddressRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    channel: String,
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = Binary)]
    v: Vec<u8>,
}

#[derive(QueryableByName)]
struct TokenRow {
    #[diesel(sql_type = Text)]
    k: String,
}

fn address_context(key: &str) -> String {
    format!("contacts.address:{key}")
}

/// The channel addresses and every lookup derived from the pepper, in one transaction (a
/// half-done change would lose people): contacts (lookup and sealed address), outbox rows
/// (their chat key and sealed destination), web chat sessions, certificate codes.
fn rotate_lookups(conn: &mut DbConn, old: &Secrets, new: &Secrets, done: &mut Rotated) -> Result<()> {
    write_tx(conn, |conn| {
        let p = placeholders(conn, 3);
        let mut moved = std::collections::HashMap::new();
        for table in ["contacts", "outbox"] {
            let (key_column, sealed_column) = match table {
                "contacts" => ("address_hmac", "address_sealed"),
                _ => ("chat_key", "destination_sealed"),
            };
            let rows: Vec<AddressRow> = diesel::sql_query(format!(
                "SELECT id, channel, {key_column} AS k, {sealed_column} AS v FROM {table}"
            ))
            .load(conn)?;
            let update = format!(
                "UPDATE {table} SET {key_column} = {}, {sealed_column} = {} WHERE id = {}",
                p[0], p[1], p[2]
            );
            let mut count = 0;
            for row in rows {
                let channel: Channel = row.channel.parse()?;
                let plain = match open_either(&old.field_key, &new.field_key, &address_context(&row.k), &row.v)? {
                    Opened::Old(plain) => plain,
                    // Sealed under the new field key already: a pepper rotation that finished.
                    Opened::AlreadyNew => continue,
                };
                let address = String::from_utf8(plain).map_err(|e| Error::Internal(e.to_string()))?;
                let key = address_key(new, channel, &address);
                let sealed = seal(&new.field_key, &address_context(&key), address.as_bytes());
                diesel::sql_query(&update)
                    .bind::<Text, _>(&key)
                    .bind::<Binary, _>(sealed)
                    .bind::<Text, _>(&row.id)
                    .execute(conn)?;
                moved.insert(row.k, key);
                count += 1;
            }
            done.lookups.push((format!("{table}.{key_column}"), count));
        }
        // Web chat sessions are found by the lookup of their token, which is only known
        // through the contact it wrote as; a session that never wrote ends (the page reopens one).
        let sessions: Vec<TokenRow> = diesel::sql_query("SELECT token_hmac AS k FROM webchat_sessions").load(conn)?;
        let update = format!(
            "UPDATE webchat_sessions SET token_hmac = {} WHERE token_hmac = {}",
            p[0], p[1]
        );
        let delete = format!("DELETE FROM webchat_sessions WHERE token_hmac = {}", p[0]);
        let mut kept = 0;
        for session in sessions {
            match moved.get(&session.k) {
                Some(key) if *key != session.k => {
                    diesel::sql_query(&update)
                        .bind::<Text, _>(key)
                        .bind::<Text, _>(&session.k)
                        .execute(conn)?;
                    kept += 1;
                }
                Some(_) => kept += 1,
                None if old.hmac_pepper.expose() != new.hmac_pepper.expose() => {
                    diesel::sql_query(&delete).bind::<Text, _>(&session.k).execute(conn)?;
                    done.webchat_sessions_ended += 1;
                }
                None => {}
            }
        }
        done.lookups.push(("webchat_sessions.token_hmac".into(), kept));
        // Certificate codes: the code is printed inside the sealed content.
        let certificates: Vec<SealedRow> =
            diesel::sql_query("SELECT id AS k, content_sealed AS v FROM certificates").load(conn)?;
        let update = format!("UPDATE certificates SET code_hmac = {} WHERE id = {}", p[0], p[1]);
        let mut count = 0;
        for row in certificates {
            let context = format!("certificates.content:{}", row.k);
            let plain = match open_either(&old.field_key, &new.field_key, &context, &row.v)? {
                Opened::Old(plain) => plain,
                Opened::AlreadyNew => continue,
            };
            let content: crate::cases::certificates::Content =
                serde_json::from_slice(&plain).map_err(|e| Error::Internal(e.to_string()))?;
            let code = crate::cases::certificates::code::parse(&content.verification_code)
                .ok_or_else(|| Error::Internal("a certificate's code does not parse".into()))?;
            diesel::sql_query(&update)
                .bind::<Text, _>(hmac_hex(&new.hmac_pepper, "certificates.code", code.as_bytes()))
                .bind::<Text, _>(&row.k)
                .execute(conn)?;
            count += 1;
        }
        done.lookups.push(("certificates.code_hmac".into(), count));
        audit::record(
            conn,
            &Actor::SYSTEM,
            Entry::new("keys.lookups_recomputed").details(serde_json::json!({ "tables": done.lookups })),
        )?;
        Ok::<_, Error>(())
    })
}
