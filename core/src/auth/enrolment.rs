//! Enrolment codes: a second factor is enrolled with a one-time code given by a person in
//! charge (an administrator, or a manager of the account's organisation), never by whoever
//! holds the password. One live code per account, 16 characters from an alphabet without
//! look-alikes (80 bits), valid 72 hours, used once. Only its keyed HMAC is stored, bound to
//! the account; the code itself is shown once and never audited or logged.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::access::{Actor, Caller};
use crate::accounts::users;
use crate::audit::{self, Entry};
use crate::crypto::{self, Secrets};
use crate::db::schema::enrolment_codes;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::ids::{OrganisationId, UserId};
use crate::time;

/// How long a code stays valid.
pub const VALIDITY: Duration = Duration::hours(72);
/// Characters of a code: digits and capitals without 0/O, 1/I.
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const LENGTH: usize = 16;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = enrolment_codes)]
struct CodeRow {
    user_id: String,
    code_hash: String,
    issued_by: Option<String>,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
    used_at: Option<chrono::NaiveDateTime>,
}

/// A code just issued: shown once to the person in charge, who hands it over.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedCode {
    pub enrolment_code: String,
    pub expires_at: DateTime<Utc>,
}

fn generate() -> String {
    // 32 divides 256: each byte's low five bits pick a character uniformly.
    crypto::random_bytes::<LENGTH>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect()
}

/// The code as typed: spaces and dashes dropped, lower case accepted. `None` if it cannot
/// be a code.
fn normalise(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

fn hash(secrets: &Secrets, user: UserId, code: &str) -> String {
    crypto::hmac_hex(
        &secrets.hmac_pepper,
        "enrolment-code",
        format!("{user}:{code}").as_bytes(),
    )
}

/// Replaces the account's code by a new one. Call inside a write transaction.
pub(crate) fn store(
    conn: &mut DbConn,
    secrets: &Secrets,
    user: UserId,
    issued_by: Option<UserId>,
) -> Result<IssuedCode> {
    write_tx(conn, |conn| {
        let code = generate();
        let now = time::now();
        let expires_at = now + VALIDITY;
        diesel::delete(enrolment_codes::table.find(user.to_string())).execute(conn)?;
        diesel::insert_into(enrolment_codes::table)
            .values(CodeRow {
                user_id: user.to_string(),
                code_hash: hash(secrets, user, &code),
                issued_by: issued_by.map(|u| u.to_string()),
                created_at: time::to_db(now),
                expires_at: time::to_db(expires_at),
                used_at: None,
            })
            .execute(conn)?;
        Ok(IssuedCode {
            enrolment_code: code,
            expires_at,
        })
    })
}

/// Issues a code for an account the caller manages (not-found outside its organisation,
/// unless an administrator). Audited, without the code.
pub fn issue(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, user: UserId) -> Result<IssuedCode> {
    let row = users::find_row(conn, user)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    write_tx(conn, |conn| {
        let issued = store(conn, secrets, user, caller.user_id())?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.enrolment_code_issued")
                .object("user", user)
                .details(serde_json::json!({ "expires_at": issued.expires_at })),
        )?;
        Ok(issued)
    })
}

/// Issues a code from the command line or the demo loader. Audited as the system.
pub fn issue_as_system(conn: &mut DbConn, secrets: &Secrets, user: UserId) -> Result<IssuedCode> {
    write_tx(conn, |conn| {
        let issued = store(conn, secrets, user, None)?;
        audit::record(
            conn,
            &Actor::SYSTEM,
            Entry::new("user.enrolment_code_issued")
                .object("user", user)
                .details(serde_json::json!({ "expires_at": issued.expires_at })),
        )?;
        Ok(issued)
    })
}

/// Whether `presented` is the account's live code: issued, not used, not expired.
pub(crate) fn is_live(conn: &mut DbConn, secrets: &Secrets, user: UserId, presented: &str) -> Result<bool> {
    let Some(code) = normalise(presented) else {
        return Ok(false);
    };
    let row: Option<CodeRow> = enrolment_codes::table
        .find(user.to_string())
        .select(CodeRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(false) };
    let expected = hash(secrets, user, &code);
    Ok(crypto::constant_time_eq(row.code_hash.as_bytes(), expected.as_bytes())
        && row.used_at.is_none()
        && time::from_db(row.expires_at) > time::now())
}

/// Uses the account's live code up, in one conditional statement: of two confirmations
/// racing with the same code, one wins. Call inside a write transaction.
pub(crate) fn consume(conn: &mut DbConn, secrets: &Secrets, user: UserId, presented: &str) -> Result<bool> {
    write_tx(conn, |conn| {
        let Some(code) = normalise(presented) else {
            return Ok(false);
        };
        let now = time::to_db(time::now());
        let used = diesel::update(
            enrolment_codes::table
                .find(user.to_string())
                .filter(enrolment_codes::code_hash.eq(hash(secrets, user, &code)))
                .filter(enrolment_codes::used_at.is_null())
                .filter(enrolment_codes::expires_at.gt(now)),
        )
        .set(enrolment_codes::used_at.eq(Some(now)))
        .execute(conn)?;
        Ok(used == 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sixteen_unambiguous_characters_and_read_back_as_typed() {
        let code = generate();
        assert_eq!(code.len(), 16);
        assert!(!code.contains(['0', 'O', '1', 'I']));
        let typed = format!("{}-{} {}", &code[..4], code[4..8].to_lowercase(), &code[8..]);
        assert_eq!(normalise(&typed).as_deref(), Some(code.as_str()));
        assert_eq!(normalise("O0O0O0O0O0O0O0O0"), None);
        assert_eq!(normalise("ABC"), None);
    }
}
