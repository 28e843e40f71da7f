//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, one step of clock skew). The secret
//! is sealed at rest; a code is accepted once (its time step must be newer than the last).

use diesel::prelude::*;
use totp_rs::{Builder, Secret, Totp};

use super::{enrolment, sessions, throttle};
use crate::access::{Actor, Caller};
use crate::accounts::users;
use crate::audit::{self, Entry};
use crate::crypto::{self, SecretKey, Secrets};
use crate::db::schema::users as users_table;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::{SessionId, UserId};
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

/// Why an enrolment step was refused.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// The password or the enrolment code is wrong, or the code is used or expired: one
    /// answer for all.
    #[error("wrong password or enrolment code")]
    Refused,
    #[error("too many attempts")]
    Throttled { retry_after_secs: i64 },
    #[error(transparent)]
    Other(#[from] Error),
}

impl From<diesel::result::Error> for EnrolError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Other(e.into())
    }
}

/// The throttle subject of enrolment attempts for an account (apart from logins).
fn enrol_subject(secrets: &Secrets, user: UserId) -> String {
    crypto::hmac_hex(&secrets.hmac_pepper, "enrol-throttle", user.to_string().as_bytes())
}

/// Counts an enrolment attempt before anything is checked; refuses while blocked.
fn reserve(conn: &mut DbConn, secrets: &Secrets, policy: &throttle::Policy, user: UserId) -> Result<(), EnrolError> {
    let subject = enrol_subject(secrets, user);
    let now = time::now();
    if let Err(until) = throttle::reserve(conn, policy, &subject, now)? {
        write_tx(conn, |conn| {
            audit::record(
                conn,
                &Actor::ANONYMOUS,
                Entry::new("user.totp_enrol_throttled").object("user", user),
            )
        })?;
        return Err(EnrolError::Throttled {
            retry_after_secs: (until - now).num_seconds().max(1),
        });
    }
    Ok(())
}

fn refused(conn: &mut DbConn, caller: &Caller, user: UserId, step: &str) -> EnrolError {
    let audited = write_tx(conn, |conn| {
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.totp_enrol_refused")
                .object("user", user)
                .details(serde_json::json!({ "step": step })),
        )
    });
    match audited {
        Ok(()) => EnrolError::Refused,
        Err(e) => e.into(),
    }
}

/// An enrolment in progress: the attempt is counted, the password is checked next without
/// holding a database connection.
pub struct EnrolAttempt {
    user: UserId,
    password_hash: String,
}

/// First step of enrolment: the attempt is counted against the account (with one-time
/// codes' policy, apart from logins).
pub fn begin_enrolment(
    conn: &mut DbConn,
    secrets: &Secrets,
    policy: &throttle::Policy,
    caller: &Caller,
) -> Result<EnrolAttempt, EnrolError> {
    let user_id = caller.user_id().ok_or(Error::NotFound)?;
    let row = users::find_row(conn, user_id)?;
    if row.totp_enabled {
        return Err(Error::Conflict("a second factor is already active for this account".into()).into());
    }
    reserve(conn, secrets, policy, user_id)?;
    Ok(EnrolAttempt {
        user: user_id,
        password_hash: row.password_hash,
    })
}

/// The account's password, checked slowly (argon2id): no connection held.
pub fn check_password(attempt: &EnrolAttempt, password: &str) -> bool {
    super::passwords::verify(password, &attempt.password_hash)
}

/// Starts (or restarts) enrolment: a new secret, not active until confirmed. Needs the
/// account's password and its live enrolment code (checked, not used up: confirmation
/// uses it).
pub fn enrol(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    attempt: EnrolAttempt,
    password_ok: bool,
    enrolment_code: &str,
) -> Result<Enrolment, EnrolError> {
    let user_id = attempt.user;
    if !password_ok || !enrolment::is_live(conn, secrets, user_id, enrolment_code)? {
        return Err(refused(conn, caller, user_id, "enrol"));
    }
    let row = users::find_row(conn, user_id)?;
    if row.totp_enabled {
        return Err(Error::Conflict("a second factor is already active for this account".into()).into());
    }
    let secret = crypto::random_bytes::<20>().to_vec();
    let totp = build(secret.clone(), &row.email)?;
    let uri = totp.to_url().map_err(|e| Error::Internal(format!("totp url: {e}")))?;
    let sealed = crypto::seal(&secrets.field_key, &context(user_id), &secret);
    write_tx(conn, |conn| {
        diesel::update(users_table::table.find(user_id.to_string()))
            .set((
                users_table::totp_secret.eq(Some(sealed)),
                users_table::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        throttle::clear(conn, &enrol_subject(secrets, user_id))?;
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
    write_tx(conn, |conn| {
        diesel::update(users_table::table.find(user.to_string()))
            .set(users_table::totp_last_step.eq(Some(step)))
            .execute(conn)?;
        Ok(())
    })
}

/// Activates the second factor once the person proves their app produces valid codes and
/// gives the enrolment code again, which is used up. Every other session of the account
/// ends (returned, so their live sockets can be closed); `session`, the one confirming, has
/// passed the second factor.
pub fn confirm(
    conn: &mut DbConn,
    secrets: &Secrets,
    policy: &throttle::Policy,
    caller: &Caller,
    session: Option<SessionId>,
    enrolment_code: &str,
    code: &str,
) -> Result<(), EnrolError> {
    let user_id = caller.user_id().ok_or(Error::NotFound)?;
    let row = users::find_row(conn, user_id)?;
    if row.totp_enabled {
        return Err(Error::Conflict("a second factor is already active for this account".into()).into());
    }
    reserve(conn, secrets, policy, user_id)?;
    if !enrolment::is_live(conn, secrets, user_id, enrolment_code)? {
        return Err(refused(conn, caller, user_id, "confirm"));
    }
    if row.totp_secret.is_none() {
        return Err(Error::Conflict("start enrolment first".into()).into());
    }
    let step =
        check(&secrets.field_key, &row, code).ok_or_else(|| Error::invalid("code", "this code is not valid now"))?;
    let done = write_tx(conn, |conn| -> Result<bool> {
        if !enrolment::consume(conn, secrets, user_id, enrolment_code)? {
            return Ok(false);
        }
        diesel::update(
            users_table::table
                .find(user_id.to_string())
                .filter(users_table::totp_enabled.eq(false)),
        )
        .set((
            users_table::totp_enabled.eq(true),
            users_table::totp_last_step.eq(Some(step)),
            users_table::updated_at.eq(time::to_db(time::now())),
        ))
        .execute(conn)?;
        sessions::revoke_others_for_user(conn, user_id, session, "second factor enrolled")?;
        if let Some(session) = session {
            sessions::mark_second_factor(conn, session)?;
        }
        throttle::clear(conn, &enrol_subject(secrets, user_id))?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.totp_confirm").object("user", user_id),
        )?;
        Ok(true)
    })?;
    if !done {
        return Err(refused(conn, caller, user_id, "confirm"));
    }
    Ok(())
}

/// Removes a person's second factor (lost phone) and issues a new enrolment code, shown
/// once to the person in charge; every session of the account ends.
pub fn reset(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, user: UserId) -> Result<enrolment::IssuedCode> {
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
        let issued = enrolment::store(conn, secrets, user, caller.user_id())?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.totp_reset")
                .object("user", user)
                .details(serde_json::json!({ "enrolment_code_expires_at": issued.expires_at })),
        )?;
        Ok(issued)
    })
}
