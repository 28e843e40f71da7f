//! Court measures on a case: eviction, care obligation (with the number of sessions it
//! requires), contact ban (covering protected persons of the case), place ban and residence
//! ban (communes, départements, or a GeoJSON polygon; the zone is sealed at rest).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::model::{MeasureKind, SessionStatus};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::centres::model::Authority;
use crate::centres::referrals::actor_label;
use crate::crypto::{self, Secrets};
use crate::db::schema::{case_sessions, measure_protected_persons, measures, protected_persons};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::geo::Geography;
use crate::time;

/// Where a place or residence ban applies.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    #[serde(default)]
    pub communes: Vec<String>,
    #[serde(default)]
    pub departements: Vec<String>,
    /// A GeoJSON Polygon (`{"type": "Polygon", "coordinates": [[[lon, lat], …]]}`).
    #[serde(default)]
    pub polygon: Option<serde_json::Value>,
}

impl Zone {
    fn check(&self, geo: &Geography) -> Result<()> {
        if self.communes.is_empty() && self.departements.is_empty() && self.polygon.is_none() {
            return Err(Error::invalid("zone", "communes, départements or a polygon"));
        }
        for code in &self.departements {
            if geo.departement(code).is_none() {
                return Err(Error::invalid(
                    "zone.departements",
                    format!("unknown département {code}"),
                ));
            }
        }
        for code in &self.communes {
            if !geo.has_commune(code) {
                return Err(Error::invalid("zone.communes", format!("unknown INSEE code {code}")));
            }
        }
        if let Some(polygon) = &self.polygon {
            let ring = polygon
                .get("coordinates")
                .and_then(|c| c.get(0))
                .and_then(|r| r.as_array())
                .filter(|_| polygon.get("type").and_then(|t| t.as_str()) == Some("Polygon"));
            // Every ring (holes too) must read as the housing matcher reads it.
            let readable = crate::housing::geometry::Polygon::from_geojson(polygon).is_some();
            let valid = readable
                && ring.is_some_and(|ring| {
                    ring.len() >= 4
                        && ring.first() == ring.last()
                        && ring.iter().all(|p| {
                            p.as_array().is_some_and(|xy| {
                                xy.len() == 2
                                    && xy[0].as_f64().is_some_and(|x| (-180.0..=180.0).contains(&x))
                                    && xy[1].as_f64().is_some_and(|y| (-90.0..=90.0).contains(&y))
                            })
                        })
                });
            if !valid {
                return Err(Error::invalid(
                    "zone.polygon",
                    "a GeoJSON Polygon with a closed ring of [longitude, latitude]",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Measure {
    pub id: String,
    pub kind: MeasureKind,
    pub authority: String,
    pub decision_reference: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub sessions_required: Option<i32>,
    /// Sessions attended toward a care obligation.
    pub sessions_attended: Option<i64>,
    pub zone: Option<Zone>,
    pub protected_person_ids: Vec<String>,
    /// The name of each commune and département code of the zone, for people.
    pub place_names: std::collections::BTreeMap<String, String>,
}

impl Zone {
    /// Each code of the zone with its name (a code without one is left out).
    pub fn names(&self) -> std::collections::BTreeMap<String, String> {
        let communes = self
            .communes
            .iter()
            .filter_map(|c| Some((c.clone(), crate::geo::names::commune(c)?.to_owned())));
        let departements = self
            .departements
            .iter()
            .filter_map(|d| Some((d.clone(), crate::geo::names::departement(d)?.to_owned())));
        communes.chain(departements).collect()
    }
}

pub struct NewMeasure {
    pub kind: MeasureKind,
    pub authority: Authority,
    pub decision_reference: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub sessions_required: Option<i32>,
    pub zone: Option<Zone>,
    pub protected_person_ids: Vec<String>,
}

fn zone_context(id: &str) -> String {
    format!("measures.zone:{id}")
}

pub fn add(
    conn: &mut DbConn,
    secrets: &Secrets,
    geo: &Geography,
    caller: &Caller,
    case_id: &str,
    new: NewMeasure,
    now: DateTime<Utc>,
) -> Result<Measure> {
    let reference = crate::values::parse_label("decision_reference", &new.decision_reference, 100)?;
    if new.ends_on.is_some_and(|end| end < new.starts_on) {
        return Err(Error::invalid("ends_on", "must not be before starts_on"));
    }
    let bans_places = matches!(new.kind, MeasureKind::PlaceBan | MeasureKind::ResidenceBan);
    match (&new.zone, bans_places) {
        (Some(zone), true) => zone.check(geo)?,
        (None, true) => return Err(Error::invalid("zone", "a place or residence ban says where")),
        (Some(_), false) => return Err(Error::invalid("zone", "only place and residence bans have a zone")),
        (None, false) => {}
    }
    match (new.kind, new.sessions_required) {
        (MeasureKind::CareObligation, Some(n)) if (1..=200).contains(&n) => {}
        (MeasureKind::CareObligation, _) => {
            return Err(Error::invalid(
                "sessions_required",
                "a care obligation says how many sessions (1 to 200)",
            ));
        }
        (_, Some(_)) => return Err(Error::invalid("sessions_required", "only for a care obligation")),
        (_, None) => {}
    }
    if new.kind != MeasureKind::ContactBan && !new.protected_person_ids.is_empty() {
        return Err(Error::invalid(
            "protected_person_ids",
            "only a contact ban covers protected persons",
        ));
    }
    write_tx(conn, |conn| {
        super::owned(conn, caller, case_id)?;
        for person in &new.protected_person_ids {
            let of: Option<String> = protected_persons::table
                .find(person)
                .select(protected_persons::case_id)
                .first(conn)
                .optional()?;
            if of.as_deref() != Some(case_id) {
                return Err(Error::invalid(
                    "protected_person_ids",
                    "not a protected person of this case",
                ));
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let zone_sealed = match &new.zone {
            Some(zone) => {
                let json = serde_json::to_vec(zone).map_err(|e| Error::Internal(e.to_string()))?;
                Some(crypto::seal(&secrets.field_key, &zone_context(&id), &json))
            }
            None => None,
        };
        diesel::insert_into(measures::table)
            .values((
                measures::id.eq(&id),
                measures::case_id.eq(case_id),
                measures::kind.eq(new.kind.as_str()),
                measures::authority.eq(new.authority.as_str()),
                measures::decision_reference.eq(&reference),
                measures::starts_on.eq(new.starts_on),
                measures::ends_on.eq(new.ends_on),
                measures::sessions_required.eq(new.sessions_required),
                measures::zone_sealed.eq(zone_sealed),
                measures::created_by.eq(actor_label(&caller.actor())),
                measures::created_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
        for person in &new.protected_person_ids {
            diesel::insert_into(measure_protected_persons::table)
                .values((
                    measure_protected_persons::measure_id.eq(&id),
                    measure_protected_persons::protected_person_id.eq(person),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("measure.create")
                .object("measure", &id)
                .details(serde_json::json!({ "case": case_id, "kind": new.kind.as_str() })),
        )?;
        // A ban that arrives later: the case's placements are re-checked at once.
        crate::housing::placements::recheck_case(conn, secrets, case_id, now)?;
        Ok(())
    })?;
    list_unaudited(conn, secrets, case_id)?
        .into_iter()
        .find(|m| m.decision_reference == reference && m.kind == new.kind)
        .ok_or(Error::NotFound)
}

type Row = (
    String,
    String,
    String,
    String,
    NaiveDate,
    Option<NaiveDate>,
    Option<i32>,
    Option<Vec<u8>>,
);

pub(crate) fn list_unaudited(conn: &mut DbConn, secrets: &Secrets, case_id: &str) -> Result<Vec<Measure>> {
    let rows: Vec<Row> = measures::table
        .filter(measures::case_id.eq(case_id))
        .order(measures::created_at.asc())
        .select((
            measures::id,
            measures::kind,
            measures::authority,
            measures::decision_reference,
            measures::starts_on,
            measures::ends_on,
            measures::sessions_required,
            measures::zone_sealed,
        ))
        .load(conn)?;
    let mut out = Vec::new();
    for (id, kind, authority, decision_reference, starts_on, ends_on, sessions_required, zone_sealed) in rows {
        let zone = match zone_sealed {
            Some(sealed) => {
                let bytes = crypto::open(&secrets.field_key, &zone_context(&id), &sealed)
                    .map_err(|_| Error::Internal("a measure's zone could not be opened".into()))?;
                Some(serde_json::from_slice(&bytes).map_err(|e| Error::Internal(e.to_string()))?)
            }
            None => None,
        };
        let sessions_attended = match sessions_required {
            Some(_) => Some(
                case_sessions::table
                    .filter(case_sessions::measure_id.eq(&id))
                    .filter(case_sessions::status.eq(SessionStatus::Attended.as_str()))
                    .count()
                    .get_result(conn)?,
            ),
            None => None,
        };
        let protected_person_ids = measure_protected_persons::table
            .filter(measure_protected_persons::measure_id.eq(&id))
            .select(measure_protected_persons::protected_person_id)
            .load(conn)?;
        out.push(Measure {
            kind: kind.parse()?,
            id,
            authority,
            decision_reference,
            starts_on,
            ends_on,
            sessions_required,
            sessions_attended,
            place_names: zone.as_ref().map(Zone::names).unwrap_or_default(),
            zone,
            protected_person_ids,
        });
    }
    Ok(out)
}

pub fn list(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, case_id: &str) -> Result<Vec<Measure>> {
    super::owned(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("measure.list").object("case", case_id),
    )?;
    list_unaudited(conn, secrets, case_id)
}
