//! `Idempotency-Key`: phones on bad networks retry. A create that carries a key runs once per
//! caller and key; a retry gets the first answer back. The key is recorded in the same
//! transaction as what the create wrote, so a crash cannot leave one without the other, and
//! two racing retries cannot both create (the second meets the key's primary key).

use diesel::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::schema::idempotency_keys;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

/// A key as a client may send it: 1 to 255 visible ASCII characters.
pub fn parse_key(raw: &str) -> Result<String> {
    if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("Idempotency-Key", "1 to 255 visible ASCII characters"));
    }
    Ok(raw.to_owned())
}

/// Runs `create` once for (`scope`, `key`) on `route`; with no key, always runs it.
pub fn once<T, F>(conn: &mut DbConn, scope: &str, key: Option<&str>, route: &str, create: F) -> Result<T>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(&mut DbConn) -> Result<T>,
{
    let Some(key) = key else {
        return create(conn);
    };
    write_tx(conn, |conn| {
        let existing: Option<(String, String)> = idempotency_keys::table
            .find((scope, key))
            .select((idempotency_keys::route, idempotency_keys::body))
            .first(conn)
            .optional()?;
        if let Some((stored_route, body)) = existing {
            if stored_route != route {
                return Err(Error::Conflict(
                    "this Idempotency-Key was used for another request".into(),
                ));
            }
            return serde_json::from_str(&body).map_err(|e| Error::Internal(e.to_string()));
        }
        let value = create(conn)?;
        let body = serde_json::to_string(&value).map_err(|e| Error::Internal(e.to_string()))?;
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::scope.eq(scope),
                idempotency_keys::key.eq(key),
                idempotency_keys::route.eq(route),
                idempotency_keys::status.eq(201),
                idempotency_keys::body.eq(body),
                idempotency_keys::created_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(value)
    })
}

/// Forgets keys older than `before` (a day is plenty for retries).
pub fn purge(conn: &mut DbConn, before: chrono::DateTime<chrono::Utc>) -> Result<usize> {
    write_tx(conn, |conn| {
        Ok(
            diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(time::to_db(before))))
                .execute(conn)?,
        )
    })
}
