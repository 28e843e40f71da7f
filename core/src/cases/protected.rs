//! Protected persons (victims). A label chosen by the practitioner and an exclusion radius
//! are all that is ever shown; the location (an address and/or coordinates) is sealed at rest
//! and write-only: the server uses it for exclusion checks, no response or log carries it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::centres::referrals::actor_label;
use crate::crypto::{self, Secrets};
use crate::db::schema::protected_persons;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::housing::geometry::LatLon;
use crate::housing::protective_disc::Disc;
use crate::time;

/// Where a protected person lives or works: never leaves the server.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Location([sealed])")
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ProtectedPerson {
    pub id: String,
    pub label: String,
    pub radius_km: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn context(id: &str) -> String {
    format!("protected_persons.location:{id}")
}

fn disc_context(id: &str) -> String {
    format!("protected_persons.disc:{id}")
}

/// Draws the person's protective disc and seals it (once per recorded location).
fn sealed_disc(secrets: &Secrets, id: &str, location: &Location, radius_km: i32) -> Result<Vec<u8>> {
    let at = LatLon::new(location.latitude, location.longitude)
        .ok_or_else(|| Error::invalid("location", "latitude and longitude in degrees (WGS84)"))?;
    let disc = Disc::draw_secret(at, radius_km)
        .ok_or_else(|| Error::Internal("a protective disc could not be drawn".into()))?;
    let json = serde_json::to_vec(&disc).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(crypto::seal(&secrets.field_key, &disc_context(id), &json))
}

pub struct NewProtectedPerson {
    pub label: String,
    pub location: Location,
    pub radius_km: i32,
}

pub fn add(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    case_id: &str,
    new: NewProtectedPerson,
    now: DateTime<Utc>,
) -> Result<ProtectedPerson> {
    let label = crate::values::parse_label("label", &new.label, 100)?;
    if !(1..=10).contains(&new.radius_km) {
        return Err(Error::invalid("radius_km", "a whole number of kilometres from 1 to 10"));
    }
    let l = &new.location;
    if !(-90.0..=90.0).contains(&l.latitude) || !(-180.0..=180.0).contains(&l.longitude) {
        return Err(Error::invalid("location", "latitude and longitude in degrees (WGS84)"));
    }
    if let Some(address) = &l.address {
        crate::values::parse_label("location.address", address, 400)?;
    }
    write_tx(conn, |conn| {
        super::owned(conn, caller, case_id)?;
        let id = uuid::Uuid::new_v4().to_string();
        let json = serde_json::to_vec(&new.location).map_err(|e| Error::Internal(e.to_string()))?;
        let created_at = time::to_db(now);
        let disc = sealed_disc(secrets, &id, &new.location, new.radius_km)?;
        diesel::insert_into(protected_persons::table)
            .values((
                protected_persons::id.eq(&id),
                protected_persons::case_id.eq(case_id),
                protected_persons::label.eq(&label),
                protected_persons::location_sealed.eq(crypto::seal(&secrets.field_key, &context(&id), &json)),
                protected_persons::radius_km.eq(new.radius_km),
                protected_persons::disc_sealed.eq(Some(disc)),
                protected_persons::created_by.eq(actor_label(&caller.actor())),
                protected_persons::created_at.eq(created_at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("protected_person.create")
                .object("protected_person", &id)
                .details(serde_json::json!({ "case": case_id })),
        )?;
        // A rule that arrives later: the case's placements are re-checked at once.
        crate::housing::placements::recheck_case(conn, secrets, case_id, now)?;
        Ok(ProtectedPerson {
            id,
            label,
            radius_km: new.radius_km,
            created_at: time::from_db(created_at),
        })
    })
}

pub fn list(conn: &mut DbConn, caller: &Caller, case_id: &str) -> Result<Vec<ProtectedPerson>> {
    super::owned(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("protected_person.list").object("case", case_id),
    )?;
    let rows: Vec<(String, String, i32, chrono::NaiveDateTime)> = protected_persons::table
        .filter(protected_persons::case_id.eq(case_id))
        .order(protected_persons::created_at.asc())
        .select((
            protected_persons::id,
            protected_persons::label,
            protected_persons::radius_km,
            protected_persons::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, label, radius_km, at)| ProtectedPerson {
            id,
            label,
            radius_km,
            created_at: time::from_db(at),
        })
        .collect())
}

/// The location, for the server's own exclusion checks (housing matching). Never for a response.
pub fn location_for_exclusion(conn: &mut DbConn, secrets: &Secrets, id: &str) -> Result<(Location, i32)> {
    let (sealed, radius): (Vec<u8>, i32) = protected_persons::table
        .find(id)
        .select((protected_persons::location_sealed, protected_persons::radius_km))
        .first(conn)?;
    let bytes = crypto::open(&secrets.field_key, &context(id), &sealed)
        .map_err(|_| Error::Internal("a protected location could not be opened".into()))?;
    let location = serde_json::from_slice(&bytes).map_err(|e| Error::Internal(e.to_string()))?;
    Ok((location, radius))
}

/// The protective disc, for the server's own exclusion checks: drawn once. A person recorded
/// before discs existed gets hers now, stored by a conditional update so that two first uses
/// at once keep the same one.
pub fn disc_for_exclusion(conn: &mut DbConn, secrets: &Secrets, id: &str) -> Result<Disc> {
    let stored: Option<Vec<u8>> = protected_persons::table
        .find(id)
        .select(protected_persons::disc_sealed)
        .first(conn)?;
    let sealed = match stored {
        Some(sealed) => sealed,
        None => write_tx(conn, |conn| -> Result<Vec<u8>> {
            let (location, radius) = location_for_exclusion(conn, secrets, id)?;
            let drawn = sealed_disc(secrets, id, &location, radius)?;
            diesel::update(
                protected_persons::table
                    .find(id)
                    .filter(protected_persons::disc_sealed.is_null()),
            )
            .set(protected_persons::disc_sealed.eq(Some(drawn)))
            .execute(conn)?;
            protected_persons::table
                .find(id)
                .select(protected_persons::disc_sealed)
                .first::<Option<Vec<u8>>>(conn)?
                .ok_or_else(|| Error::Internal("a protective disc was not stored".into()))
        })?,
    };
    let bytes = crypto::open(&secrets.field_key, &disc_context(id), &sealed)
        .map_err(|_| Error::Internal("a protective disc could not be opened".into()))?;
    let disc: Disc = serde_json::from_slice(&bytes).map_err(|e| Error::Internal(e.to_string()))?;
    if !disc.is_sound() {
        return Err(Error::Internal("a protective disc is unsound".into()));
    }
    Ok(disc)
}

/// Every protected person's disc on a case, for the server's exclusion checks.
pub(crate) fn discs_of_case(conn: &mut DbConn, secrets: &Secrets, case_id: &str) -> Result<Vec<Disc>> {
    let ids: Vec<String> = protected_persons::table
        .filter(protected_persons::case_id.eq(case_id))
        .select(protected_persons::id)
        .load(conn)?;
    ids.iter().map(|id| disc_for_exclusion(conn, secrets, id)).collect()
}
