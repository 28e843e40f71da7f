//! Sessions and refresh tokens. A session is one family of refresh tokens: each use of a
//! refresh token retires it and issues the next; presenting a retired token again means it
//! was stolen or replayed, and the whole family is revoked. Tokens are stored hashed.

use chrono::Duration;
use diesel::prelude::*;

use crate::access::{Caller, Principal};
use crate::accounts::model::Roles;
use crate::accounts::model::User;
use crate::accounts::{organisations, users};
use crate::audit::{self, Entry};
use crate::crypto;
use crate::db::schema::{refresh_tokens, sessions};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::{SessionId, UserId};
use crate::time;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    second_factor: bool,
    created_at: chrono::NaiveDateTime,
    last_used_at: chrono::NaiveDateTime,
    revoked_at: Option<chrono::NaiveDateTime>,
    revoked_reason: Option<String>,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = refresh_tokens)]
struct TokenRow {
    id: String,
    session_id: String,
    token_hash: String,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
    used_at: Option<chrono::NaiveDateTime>,
}

/// A session just opened or refreshed: the id goes into access tokens, the refresh token
/// to the client, once.
#[derive(Debug)]
pub struct Issued {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub second_factor: bool,
    pub refresh_token: String,
}

fn token_hash(token: &str) -> String {
    crypto::sha256_hex(token.as_bytes())
}

fn insert_token(conn: &mut DbConn, session: &str, ttl: Duration) -> Result<String> {
    write_tx(conn, |conn| {
        let token = crypto::random_token();
        let now = time::now();
        diesel::insert_into(refresh_tokens::table)
            .values(TokenRow {
                id: uuid::Uuid::new_v4().to_string(),
                session_id: session.to_owned(),
                token_hash: token_hash(&token),
                created_at: time::to_db(now),
                expires_at: time::to_db(now + ttl),
                used_at: None,
            })
            .execute(conn)?;
        Ok(token)
    })
}

/// Opens a session. Call inside a write transaction.
pub(crate) fn open(conn: &mut DbConn, user: UserId, second_factor: bool, ttl: Duration) -> Result<Issued> {
    write_tx(conn, |conn| {
        let id = SessionId::new();
        let now = time::to_db(time::now());
        diesel::insert_into(sessions::table)
            .values(SessionRow {
                id: id.to_string(),
                user_id: user.to_string(),
                second_factor,
                created_at: now,
                last_used_at: now,
                revoked_at: None,
                revoked_reason: None,
            })
            .execute(conn)?;
        let refresh_token = insert_token(conn, &id.to_string(), ttl)?;
        Ok(Issued {
            session_id: id,
            user_id: user,
            second_factor,
            refresh_token,
        })
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("refresh token unknown, expired or revoked")]
    Invalid,
    #[error("refresh token reused: the session is revoked")]
    Reused,
    #[error(transparent)]
    Other(#[from] Error),
}

impl From<diesel::result::Error> for RefreshError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Other(e.into())
    }
}

/// Trades a refresh token for the next one of its family.
pub fn refresh(conn: &mut DbConn, presented: &str, ttl: Duration) -> Result<Issued, RefreshError> {
    let hash = token_hash(presented);
    write_tx(conn, |conn| -> Result<Result<Issued, RefreshError>, RefreshError> {
        let Some(token) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select(TokenRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(Err(RefreshError::Invalid));
        };
        let session: SessionRow = sessions::table
            .find(&token.session_id)
            .select(SessionRow::as_select())
            .first(conn)?;
        let user_id = UserId::from_db(&session.user_id);
        let now = time::now();
        if session.revoked_at.is_some() {
            return Ok(Err(RefreshError::Invalid));
        }
        if token.used_at.is_some() {
            return Ok(Err(reused(conn, &session.id, user_id)?));
        }
        if time::from_db(token.expires_at) <= now {
            return Ok(Err(RefreshError::Invalid));
        }
        let user = users::find_row(conn, user_id)?;
        let org = organisations::find(conn, crate::ids::OrganisationId::from_db(&user.organisation_id))?;
        if !user.active || !org.active {
            return Ok(Err(RefreshError::Invalid));
        }
        // The decision and the write are one statement: of two refreshes racing with the same
        // token, one retires it and the other finds it retired (a reuse).
        let retired = diesel::update(
            refresh_tokens::table
                .find(&token.id)
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(Some(time::to_db(now))))
        .execute(conn)?;
        if retired == 0 {
            return Ok(Err(reused(conn, &session.id, user_id)?));
        }
        diesel::update(sessions::table.find(&session.id))
            .set(sessions::last_used_at.eq(time::to_db(now)))
            .execute(conn)?;
        let refresh_token = insert_token(conn, &session.id, ttl)?;
        Ok(Ok(Issued {
            session_id: SessionId::from_db(&session.id),
            user_id,
            second_factor: session.second_factor,
            refresh_token,
        }))
    })?
}

/// A retired token presented again: theft is assumed and the whole family is revoked (the
/// caller commits this, then reports the reuse).
fn reused(conn: &mut DbConn, session: &str, user_id: UserId) -> Result<RefreshError, RefreshError> {
    revoke_session(conn, session, "refresh token reused")?;
    let org = crate::ids::OrganisationId::from_db(&users::find_row(conn, user_id)?.organisation_id);
    audit::record(
        conn,
        &crate::access::Actor::user(user_id, org),
        Entry::new("auth.refresh_reuse").object("session", session),
    )?;
    Ok(RefreshError::Reused)
}

fn revoke_session(conn: &mut DbConn, session: &str, reason: &str) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(sessions::table.find(session).filter(sessions::revoked_at.is_null()))
            .set((
                sessions::revoked_at.eq(Some(time::to_db(time::now()))),
                sessions::revoked_reason.eq(Some(reason)),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Logout: ends the session the refresh token belongs to, if it belongs to the caller.
pub fn logout(conn: &mut DbConn, caller: &Caller, session: SessionId) -> Result<()> {
    let user = caller.user_id().ok_or(Error::NotFound)?;
    write_tx(conn, |conn| {
        let owned: i64 = sessions::table
            .filter(sessions::id.eq(session.to_string()))
            .filter(sessions::user_id.eq(user.to_string()))
            .count()
            .get_result(conn)?;
        if owned == 0 {
            return Err(Error::NotFound);
        }
        revoke_session(conn, &session.to_string(), "logout")?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("auth.logout").object("session", session),
        )
    })
}

/// Changes an account (`accounts::users::update`); whatever someone could do with the old access
/// ends: deactivating it, or changing its password or roles, revokes its sessions in the same
/// transaction.
pub fn update_user(conn: &mut DbConn, caller: &Caller, id: UserId, changes: users::UserChanges) -> Result<User> {
    users::update(conn, caller, id, changes, |conn, id| {
        revoke_all_for_user(conn, id, "account changed")
    })
}

pub(crate) fn revoke_all_for_user(conn: &mut DbConn, user: UserId, reason: &str) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user.to_string()))
                .filter(sessions::revoked_at.is_null()),
        )
        .set((
            sessions::revoked_at.eq(Some(time::to_db(time::now()))),
            sessions::revoked_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
        Ok(())
    })
}

/// Ends every open session of the account but `keep` (the one that asked).
pub(crate) fn revoke_others_for_user(
    conn: &mut DbConn,
    user: UserId,
    keep: Option<SessionId>,
    reason: &str,
) -> Result<()> {
    write_tx(conn, |conn| {
        let keep = keep.map(|s| s.to_string()).unwrap_or_default();
        diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user.to_string()))
                .filter(sessions::id.ne(keep))
                .filter(sessions::revoked_at.is_null()),
        )
        .set((
            sessions::revoked_at.eq(Some(time::to_db(time::now()))),
            sessions::revoked_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
        Ok(())
    })
}

/// Turns a verified access token's session into a caller, if the session is still open and
/// the account active. Roles come from the database, so a change applies at once.
pub fn caller_for_session(conn: &mut DbConn, session: SessionId, user: UserId) -> Result<Option<Caller>> {
    let row: Option<SessionRow> = sessions::table
        .find(session.to_string())
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if row.revoked_at.is_some() || row.user_id != user.to_string() {
        return Ok(None);
    }
    let account = match users::find_row(conn, user) {
        Ok(a) => a,
        Err(Error::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    if !account.active {
        return Ok(None);
    }
    let org = organisations::find(conn, crate::ids::OrganisationId::from_db(&account.organisation_id))?;
    if !org.active {
        return Ok(None);
    }
    Ok(Some(Caller {
        principal: Principal::Staff {
            user_id: user,
            roles: Roles::from_db(&account.roles),
            second_factor: row.second_factor,
        },
        organisation_id: org.id,
        organisation_kind: org.kind,
    }))
}

/// Records that a session has passed the second factor (right after enrolment).
pub fn mark_second_factor(conn: &mut DbConn, session: SessionId) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(sessions::table.find(session.to_string()))
            .set(sessions::second_factor.eq(true))
            .execute(conn)?;
        Ok(())
    })
}
