//! The login decision: throttling first, then the password (or a decoy hash when the email
//! is unknown, so both cost the same), then the second factor. Every outcome is audited.

use chrono::Duration;

use super::{passwords, sessions, throttle, totp};
use crate::access::Actor;
use crate::accounts::model::Roles;
use crate::accounts::users;
use crate::audit::{self, Entry};
use crate::crypto::{self, Secrets};
use crate::db::{DbConn, lock_for_sequence, write_tx};
use crate::error::{Error, Result};
use crate::ids::{OrganisationId, UserId};
use crate::time;
use crate::values::Email;

#[derive(Clone, Debug)]
pub struct LoginSettings {
    /// Password attempts per email (known or not).
    pub throttle: throttle::Policy,
    /// Password attempts per client address, whatever the email.
    pub address_throttle: throttle::Policy,
    /// One-time codes per account, counted apart from passwords.
    pub totp_throttle: throttle::Policy,
    pub refresh_ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong email, wrong password or inactive account: one answer for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many attempts")]
    Throttled { retry_after_secs: i64 },
    /// The password was right and the account has a second factor: a code is needed.
    #[error("a one-time code is required")]
    TotpRequired,
    #[error("the one-time code is not valid")]
    TotpInvalid,
    #[error(transparent)]
    Other(#[from] Error),
}

impl From<diesel::result::Error> for LoginError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Other(e.into())
    }
}

/// A login in progress: what the first look at the database found. The password is
/// checked between `begin` and `finish` without holding a database connection (argon2id
/// takes tens of milliseconds; a pool must not wait on it).
pub struct Attempt {
    subject: String,
    address: String,
    account: Option<users::Row>,
    now: chrono::DateTime<chrono::Utc>,
}

/// The throttle subject of one-time codes for an account.
fn totp_subject(secrets: &Secrets, user: &str) -> String {
    crypto::hmac_hex(&secrets.hmac_pepper, "totp-throttle", user.as_bytes())
}

fn throttled(
    conn: &mut DbConn,
    subject: &str,
    until: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> LoginError {
    let audited = write_tx(conn, |conn| {
        audit::record(
            conn,
            &Actor::ANONYMOUS,
            Entry::new("auth.login_throttled").details(serde_json::json!({ "subject": &subject[..16] })),
        )
    });
    match audited {
        Ok(()) => LoginError::Throttled {
            retry_after_secs: (until - now).num_seconds().max(1),
        },
        Err(e) => e.into(),
    }
}

/// Throttling first: the attempt is counted against the client address and the email
/// before anything is checked (a throttled attempt is audited and refused), then the
/// account is looked up.
pub fn begin(
    conn: &mut DbConn,
    secrets: &Secrets,
    settings: &LoginSettings,
    email: &str,
    client_address: &str,
) -> Result<Attempt, LoginError> {
    let normalised = email.trim().to_lowercase();
    let subject = crypto::hmac_hex(&secrets.hmac_pepper, "login-throttle", normalised.as_bytes());
    let address = format!(
        "a:{}",
        crypto::hmac_hex(
            &secrets.hmac_pepper,
            "login-throttle-address",
            client_address.as_bytes()
        )
    );
    let now = time::now();
    if let Err(until) = throttle::reserve(conn, &settings.address_throttle, &address, now)? {
        return Err(throttled(conn, &address, until, now));
    }
    if let Err(until) = throttle::reserve(conn, &settings.throttle, &subject, now)? {
        return Err(throttled(conn, &subject, until, now));
    }
    let account = match Email::parse(&normalised) {
        Ok(email) => users::find_row_by_email(conn, &email)?,
        Err(_) => None,
    };
    Ok(Attempt {
        subject,
        address,
        account,
        now,
    })
}

/// The password against the account's hash, or against a decoy when the email is unknown,
/// so that both cost the same time. Blocking and slow: no connection held.
pub fn check_password(attempt: &Attempt, password: &str) -> bool {
    match &attempt.account {
        Some(row) => passwords::verify(password, &row.password_hash),
        None => {
            passwords::verify(password, passwords::decoy_hash());
            false
        }
    }
}

/// Records the outcome: a failure (already counted by `begin`; audited here) or a session.
/// The second factor is checked here, under a lock on the account, so one code cannot serve
/// two logins, and each code is counted before it is checked, apart from passwords.
pub fn finish(
    conn: &mut DbConn,
    secrets: &Secrets,
    settings: &LoginSettings,
    attempt: Attempt,
    password_ok: bool,
    totp_code: Option<&str>,
) -> Result<sessions::Issued, LoginError> {
    let Attempt {
        subject,
        address,
        account,
        now,
    } = attempt;
    let fail = |conn: &mut DbConn, reason: &str, err: LoginError| -> Result<sessions::Issued, LoginError> {
        let user = account.as_ref().map(|r| UserId::from_db(&r.id));
        write_tx(conn, |conn| -> Result<(), Error> {
            let locked = throttle::is_locked(conn, &subject)?;
            let mut entry = Entry::new("auth.login_failed")
                .details(serde_json::json!({ "reason": reason, "subject": &subject[..16], "locked": locked }));
            if let Some(id) = user {
                entry = entry.object("user", id);
            }
            audit::record(conn, &Actor::ANONYMOUS, entry)
        })?;
        Err(err)
    };
    let Some(row) = account.as_ref().filter(|r| password_ok && r.active) else {
        return fail(conn, "credentials", LoginError::InvalidCredentials);
    };
    let user_id = UserId::from_db(&row.id);
    let org_id = OrganisationId::from_db(&row.organisation_id);
    if row.totp_enabled && totp_code.is_none_or(|c| c.trim().is_empty()) {
        return Err(LoginError::TotpRequired);
    }
    let code_subject = totp_subject(secrets, &row.id);
    if row.totp_enabled
        && let Err(until) = throttle::reserve(conn, &settings.totp_throttle, &code_subject, now)?
    {
        return Err(throttled(conn, &code_subject, until, now));
    }
    let outcome = write_tx(conn, |conn| -> Result<Option<sessions::Issued>, Error> {
        // Re-read under a per-account lock: the last used TOTP step must be current.
        lock_for_sequence(conn, i64::from_str_radix(&subject[..15], 16).unwrap_or(0))?;
        let fresh = users::find_row(conn, user_id)?;
        if !fresh.active || !crate::accounts::organisations::find(conn, org_id)?.active {
            return Ok(None);
        }
        let mut second_factor = false;
        if fresh.totp_enabled {
            match totp_code.and_then(|code| totp::check(&secrets.field_key, &fresh, code)) {
                Some(step) => {
                    totp::mark_used(conn, user_id, step)?;
                    second_factor = true;
                }
                None => return Ok(None),
            }
        }
        throttle::clear(conn, &subject)?;
        throttle::clear(conn, &code_subject)?;
        throttle::give_back(conn, &address)?;
        let issued = sessions::open(conn, user_id, second_factor, settings.refresh_ttl)?;
        audit::record(
            conn,
            &Actor::user(user_id, org_id),
            Entry::new("auth.login")
                .object("session", issued.session_id)
                .details(serde_json::json!({ "second_factor": second_factor })),
        )?;
        Ok(Some(issued))
    })?;
    match outcome {
        Some(issued) => Ok(issued),
        None if row.totp_enabled => fail(conn, "totp", LoginError::TotpInvalid),
        None => fail(conn, "credentials", LoginError::InvalidCredentials),
    }
}

/// Whether a session without a second factor must be refused for these roles.
pub fn needs_second_factor(require_totp: bool, roles: &Roles) -> bool {
    require_totp && roles.iter().any(|r| r.sees_personal_data())
}
