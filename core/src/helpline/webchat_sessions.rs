//! Web chat sessions, issued by the server: a random token handed to the page once, and
//! stored only as its keyed HMAC, which is also the key of the chat's contact (one session,
//! one chat). A session unused for the idle delay expires; each use extends it. Erasing the
//! contact erases its session.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::crypto::{self, Secrets};
use crate::db::schema::webchat_sessions;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::helpline::contacts;
use crate::helpline::model::Channel;
use crate::time;

/// The shape of a token we issue: 43 URL-safe base64 characters (32 random bytes).
pub fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Issues a new session and returns its token (shown to the page only). Sessions idle past
/// `idle` are cleared on the way.
pub fn issue(conn: &mut DbConn, secrets: &Secrets, idle: Duration, now: DateTime<Utc>) -> Result<String> {
    write_tx(conn, |conn| {
        diesel::delete(webchat_sessions::table.filter(webchat_sessions::last_used_at.le(time::to_db(now - idle))))
            .execute(conn)?;
        let token = crypto::random_token();
        let at = time::to_db(now);
        diesel::insert_into(webchat_sessions::table)
            .values((
                webchat_sessions::token_hmac.eq(contacts::address_key(secrets, Channel::WebChat, &token)),
                webchat_sessions::created_at.eq(at),
                webchat_sessions::last_used_at.eq(at),
            ))
            .execute(conn)?;
        Ok(token)
    })
}

/// The chat's key when `token` is a session we issued that has not expired, extending it
/// (one conditional update); `None` for a forged, malformed or expired token.
pub fn touch(
    conn: &mut DbConn,
    secrets: &Secrets,
    token: &str,
    idle: Duration,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    if !well_formed(token) {
        return Ok(None);
    }
    let key = contacts::address_key(secrets, Channel::WebChat, token);
    write_tx(conn, |conn| {
        let updated = diesel::update(
            webchat_sessions::table
                .filter(webchat_sessions::token_hmac.eq(&key))
                .filter(webchat_sessions::last_used_at.gt(time::to_db(now - idle))),
        )
        .set(webchat_sessions::last_used_at.eq(time::to_db(now)))
        .execute(conn)?;
        Ok((updated == 1).then_some(key))
    })
}

/// Ends the session of a chat (its contact is being erased).
pub fn end(conn: &mut DbConn, key: &str) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::delete(webchat_sessions::table.filter(webchat_sessions::token_hmac.eq(key))).execute(conn)?;
        Ok(())
    })
}
