//! The login decision: throttling first, then the password (or a decoy hash when the email
//! is unknown, so both cost the same), then the second factor. Every outcome is audited.

use chrono::Duration;

use super::{passwords, sessions, throttle, totp};
use crate::access::Actor;
use crate::accounts::model::Roles;
use crate::accounts::users;
use crate::audit::{self, Entry};
use crate::crypto::{self, Secrets};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::{OrganisationId, UserId};
use crate::time;
use crate::values::Email;

pub struct Credentials<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub totp: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub struct LoginSettings {
    pub throttle: throttle::Policy,
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

pub fn login(
    conn: &mut DbConn,
    secrets: &Secrets,
    settings: &LoginSettings,
    creds: &Credentials<'_>,
) -> Result<sessions::Issued, LoginError> {
    let normalised = creds.email.trim().to_lowercase();
    let subject = crypto::hmac_hex(&secrets.hmac_pepper, "login-throttle", normalised.as_bytes());
    let now = time::now();

    if let Some(until) = throttle::blocked_until(conn, &settings.throttle, &subject, now)? {
        write_tx(conn, |conn| {
            audit::record(
                conn,
                &Actor::ANONYMOUS,
                Entry::new("auth.login_throttled").details(serde_json::json!({ "subject": &subject[..16] })),
            )
        })?;
        return Err(LoginError::Throttled {
            retry_after_secs: (until - now).num_seconds().max(1),
        });
    }

    let account = match Email::parse(&normalised) {
        Ok(email) => users::find_row_by_email(conn, &email)?,
        Err(_) => None,
    };
    let password_ok = match &account {
        Some(row) => passwords::verify(creds.password, &row.password_hash),
        None => {
            passwords::verify(creds.password, passwords::decoy_hash());
            false
        }
    };

    let fail = |conn: &mut DbConn, reason: &str, err: LoginError| -> Result<sessions::Issued, LoginError> {
        let user = account
            .as_ref()
            .map(|r| (UserId::from_db(&r.id), OrganisationId::from_db(&r.organisation_id)));
        write_tx(conn, |conn| -> Result<(), Error> {
            let locked = throttle::record_failure(conn, &settings.throttle, &subject, now)?;
            let mut entry = Entry::new("auth.login_failed")
                .details(serde_json::json!({ "reason": reason, "subject": &subject[..16], "locked": locked }));
            if let Some((id, _)) = user {
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
    let mut second_factor = false;
    let mut totp_step = None;
    if row.totp_enabled {
        let Some(code) = creds.totp.filter(|c| !c.trim().is_empty()) else {
            return Err(LoginError::TotpRequired);
        };
        match totp::check(&secrets.field_key, row, code) {
            Some(step) => {
                second_factor = true;
                totp_step = Some(step);
            }
            None => return fail(conn, "totp", LoginError::TotpInvalid),
        }
    }

    let issued = write_tx(conn, |conn| -> Result<sessions::Issued, Error> {
        if let Some(step) = totp_step {
            totp::mark_used(conn, user_id, step)?;
        }
        throttle::clear(conn, &subject)?;
        let issued = sessions::open(conn, user_id, second_factor, settings.refresh_ttl)?;
        audit::record(
            conn,
            &Actor::user(user_id, org_id),
            Entry::new("auth.login")
                .object("session", issued.session_id)
                .details(serde_json::json!({ "second_factor": second_factor })),
        )?;
        Ok(issued)
    })?;
    Ok(issued)
}

/// Whether a session without a second factor must be refused for these roles.
pub fn needs_second_factor(require_totp: bool, roles: &Roles) -> bool {
    require_totp && roles.iter().any(|r| r.sees_personal_data())
}
