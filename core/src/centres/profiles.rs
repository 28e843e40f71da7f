//! A centre's public profile: the phone number people may call, the address its
//! notifications go to, and what a person should bring to a first appointment.

use diesel::prelude::*;

use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::db::schema::centre_profiles;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::OrganisationId;
use crate::time;
use crate::values::{Email, parse_label};

#[derive(Clone, Debug, Default, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = centre_profiles, treat_none_as_null = true)]
pub struct Profile {
    #[serde(skip)]
    pub organisation_id: String,
    pub phone: Option<String>,
    pub notify_email: Option<String>,
    pub what_to_bring_fr: String,
    pub what_to_bring_en: String,
    #[serde(skip)]
    pub updated_at: chrono::NaiveDateTime,
}

/// The profile of a centre (empty fields when it has not written one).
pub fn get(conn: &mut DbConn, organisation: OrganisationId) -> Result<Profile> {
    Ok(centre_profiles::table
        .find(organisation.to_string())
        .select(Profile::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_else(|| Profile {
            organisation_id: organisation.to_string(),
            ..Profile::default()
        }))
}

/// What a centre manager may change. Each `Some` replaces the field; `Some("")` clears it.
#[derive(Clone, Debug, Default)]
pub struct ProfileChanges {
    pub phone: Option<String>,
    pub notify_email: Option<String>,
    pub what_to_bring_fr: Option<String>,
    pub what_to_bring_en: Option<String>,
}

fn phone(raw: &str) -> Result<Option<String>> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value.chars().all(|c| c.is_ascii_digit() || " +.-()".contains(c));
    if !allowed || !(4..=15).contains(&digits) {
        return Err(Error::invalid(
            "phone",
            "a phone number such as 01 23 45 67 89 or +262 262 00 00 00",
        ));
    }
    Ok(Some(value.to_owned()))
}

pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    organisation: OrganisationId,
    changes: ProfileChanges,
) -> Result<Profile> {
    caller.scope(organisation)?;
    let mut profile = get(conn, organisation)?;
    if let Some(raw) = &changes.phone {
        profile.phone = phone(raw)?;
    }
    if let Some(raw) = &changes.notify_email {
        profile.notify_email = match raw.trim() {
            "" => None,
            value => Some(Email::parse(value)?.as_str().to_owned()),
        };
    }
    if let Some(text) = &changes.what_to_bring_fr {
        profile.what_to_bring_fr = if text.trim().is_empty() {
            String::new()
        } else {
            parse_label("what_to_bring_fr", text, 500)?
        };
    }
    if let Some(text) = &changes.what_to_bring_en {
        profile.what_to_bring_en = if text.trim().is_empty() {
            String::new()
        } else {
            parse_label("what_to_bring_en", text, 500)?
        };
    }
    profile.updated_at = time::to_db(time::now());
    write_tx(conn, |conn| {
        // No ON CONFLICT across both backends: update, else insert (inside the write lock).
        let updated = diesel::update(centre_profiles::table.find(&profile.organisation_id))
            .set(&profile)
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(centre_profiles::table)
                .values(&profile)
                .execute(conn)?;
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("centre.profile_update").object("organisation", organisation),
        )
    })?;
    Ok(profile)
}

/// Writes a profile unless the centre already has one (demo data, first start).
pub fn seed(
    conn: &mut DbConn,
    organisation: OrganisationId,
    phone: &str,
    notify_email: &str,
    bring_fr: &str,
    bring_en: &str,
) -> Result<()> {
    write_tx(conn, |conn| {
        let exists: i64 = centre_profiles::table
            .filter(centre_profiles::organisation_id.eq(organisation.to_string()))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            diesel::insert_into(centre_profiles::table)
                .values(&Profile {
                    organisation_id: organisation.to_string(),
                    phone: Some(phone.to_owned()),
                    notify_email: Some(notify_email.to_owned()),
                    what_to_bring_fr: bring_fr.to_owned(),
                    what_to_bring_en: bring_en.to_owned(),
                    updated_at: time::to_db(time::now()),
                })
                .execute(conn)?;
        }
        Ok(())
    })
}
