//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, one step of clock skew). The secret
//! is sealed at rest; a code is accepted once (its time step must be newer than the last).

use diesel::prelude::*;
use totp_rs::{Builder, Secret, Totp};

use crate::access::Caller;
use crate::accounts::users;
use crate::audit::{self, Entry};
use crate::crypto::{self, SecretKey};
use crate::db::schema::users as users_table;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::time;

const ISSUER: &str = "Relais";

fn context(user: UserId) -> String {
    format!("users.totp_secret:{user}")
}

fn build(secret: Vec<u8>, account: &str) -> Result<Totp> {
    Builder::new()
        .with_secret(Secret::from(secret))
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| Error::Internal(format!("totp: {e}")))
}

/// What a person needs to add the account to an authenticator app.
#[derive(Debug, serde::Serialize)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// Starts (or restarts) enrolment: a new secret, not active until confirmed with a code.
pub fn enrol(conn: &mut DbConn, key: &SecretKey, caller: &Caller) -> Result<Enrolment> {
    let user_id = caller.user_id().ok_or(Error::NotFound)?;
    let row = users::find_row(conn, user_id)?;
    if row.totp_enabled {
        return Err(Error::Conflict(
            "a second factor is already active for this account".into(),
        ));
    }
    let secret = crypto::random_bytes::<20>().to_vec();
    let totp = build(secret.clone(), &row.email)?;
    let uri = totp.to_url().map_err(|e| Error::Internal(format!("totp url: {e}")))?;
    let sealed = crypto::seal(key, &context(user_id), &secret);
    write_tx(conn, |conn| {
        diesel::update(users_table::table.find(user_id.to_string()))
            .set((
                users_table::totp_secret.eq(Some(sealed)),
                users_table::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.totp_enrol").object("user", user_id),
        )
    })?;
    Ok(Enrolment {
        secret: totp.secret().to_base32(),
        otpauth_uri: uri,
    })
}

/// Checks a code against the user's secret and returns its time step, refusing replays.
pub(crate) fn check(key: &SecretKey, row: &users::Row, code: &str) -> Option<i64> {
    let sealed = row.totp_secret.as_ref()?;
    let user = UserId::from_db(&row.id);
    let secret = crypto::open(key, &context(user), sealed).ok()?;
    let totp = build(secret, &row.email).ok()?;
    let now = u64::try_from(time::now().timestamp()).ok()?;
    let step = i64::try_from(totp.check(code.trim(), now)?).ok()?;
    match row.totp_last_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

pub(crate) fn mark_used(conn: &mut DbConn, user: UserId, step: i64) -> Result<()> {
    diesel::update(users_table::table.find(user.to_string()))
        .set(users_table::totp_last_step.eq(Some(step)))
        .execute(conn)?;
    Ok(())
}

/// Activates the second factor once the person proves their app produces valid codes.
pub fn confirm(conn: &mut DbConn, key: &SecretKey, caller: &Caller, code: &str) -> Result<()> {
    let user_id = caller.user_id().ok_or(Error::NotFound)?;
    let row = users::find_row(conn, user_id)?;
    if row.totp_enabled {
        return Err(Error::Conflict(
            "a second factor is already active for this account".into(),
        ));
    }
    if row.totp_secret.is_none() {
        return Err(Error::Conflict("start enrolment first".into()));
    }
    let step = check(key, &row, code).ok_or_else(|| Error::invalid("code", "this code is not valid now"))?;
    write_tx(conn, |conn| {
        diesel::update(users_table::table.find(user_id.to_string()))
            .set((
                users_table::totp_enabled.eq(true),
                users_table::totp_last_step.eq(Some(step)),
                users_table::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.totp_confirm").object("user", user_id),
        )
    })
}

/// Removes a person's second factor (lost phone); they enrol again at next login.
pub fn reset(conn: &mut DbConn, caller: &Caller, user: UserId) -> Result<()> {
    let row = users::find_row(conn, user)?;
    caller.scope(crate::ids::OrganisationId::from_db(&row.organisation_id))?;
    write_tx(conn, |conn| {
        diesel::update(users_table::table.find(user.to_string()))
            .set((
                users_table::totp_enabled.eq(false),
                users_table::totp_secret.eq(None::<Vec<u8>>),
                users_table::totp_last_step.eq(None::<i64>),
                users_table::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        crate::auth::sessions::revoke_all_for_user(conn, user, "second factor reset")?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.totp_reset").object("user", user),
        )
    })
}
