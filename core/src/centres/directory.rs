//! The centres directory: what each centre offers (individual follow-up, talking groups,
//! responsibility courses, care) and where, with opening hours; the national coverage
//! against the target of two centres per region; and the public export in the Open
//! Referral HSDS 3.0 shape (organizations, services, locations, schedules,
//! service_at_location) for partners.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde_json::{Value, json};

use super::profiles::Profile;
use crate::access::Caller;
use crate::accounts::model::{Organisation, OrganisationKind};
use crate::accounts::organisations;
use crate::audit::{self, Entry};
use crate::db::schema::{centre_locations, centre_services};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::geo::{Geography, PostalCode};
use crate::ids::OrganisationId;
use crate::values::parse_label;

string_enum!(ServiceKind {
    IndividualFollowUp => "individual_follow_up",
    TalkingGroup => "talking_group",
    ResponsibilityCourse => "responsibility_course",
    Care => "care",
});

impl ServiceKind {
    /// The service's public name, French first.
    pub fn label(self) -> &'static str {
        match self {
            Self::IndividualFollowUp => "Suivi individuel / Individual follow-up",
            Self::TalkingGroup => "Groupe de parole / Talking group",
            Self::ResponsibilityCourse => "Stage de responsabilisation / Responsibility course",
            Self::Care => "Soins / Care",
        }
    }
}

/// The national target: at least this many centres per region.
pub const TARGET_PER_REGION: usize = 2;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Local time "HH:MM" in the centre's zone.
    pub opens: String,
    pub closes: String,
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl OpeningHours {
    fn check(&self) -> Result<()> {
        if !(1..=7).contains(&self.weekday) {
            return Err(Error::invalid("opening_hours.weekday", "1 (Monday) to 7 (Sunday)"));
        }
        match (minutes(&self.opens), minutes(&self.closes)) {
            (Some(o), Some(c)) if o < c => Ok(()),
            _ => Err(Error::invalid(
                "opening_hours",
                "opens and closes as HH:MM, opening before closing",
            )),
        }
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = centre_services)]
struct ServiceRow {
    id: String,
    organisation_id: String,
    kind: String,
    description: String,
    position: i32,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = centre_locations)]
struct LocationRow {
    id: String,
    organisation_id: String,
    name: String,
    address: String,
    postal_code: String,
    city: String,
    departement: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    opening_hours: String,
    position: i32,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Service {
    pub id: String,
    pub kind: ServiceKind,
    pub description: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Location {
    pub id: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub departement: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub opening_hours: Vec<OpeningHours>,
}

pub fn services(conn: &mut DbConn, organisation: OrganisationId) -> Result<Vec<Service>> {
    let rows: Vec<ServiceRow> = centre_services::table
        .filter(centre_services::organisation_id.eq(organisation.to_string()))
        .order(centre_services::position.asc())
        .select(ServiceRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(Service {
                kind: r.kind.parse()?,
                id: r.id,
                description: r.description,
            })
        })
        .collect()
}

pub fn locations(conn: &mut DbConn, organisation: OrganisationId) -> Result<Vec<Location>> {
    let rows: Vec<LocationRow> = centre_locations::table
        .filter(centre_locations::organisation_id.eq(organisation.to_string()))
        .order(centre_locations::position.asc())
        .select(LocationRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Location {
            opening_hours: serde_json::from_str(&r.opening_hours).unwrap_or_default(),
            id: r.id,
            name: r.name,
            address: r.address,
            postal_code: r.postal_code,
            city: r.city,
            departement: r.departement,
            latitude: r.latitude,
            longitude: r.longitude,
        })
        .collect())
}

pub struct NewService {
    pub kind: ServiceKind,
    pub description: String,
}

pub struct NewLocation {
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub opening_hours: Vec<OpeningHours>,
}

/// Replaces the centre's list of services.
pub fn replace_services(
    conn: &mut DbConn,
    caller: &Caller,
    organisation: OrganisationId,
    items: Vec<NewService>,
) -> Result<Vec<Service>> {
    caller.scope(organisation)?;
    if items.len() > 20 {
        return Err(Error::invalid("items", "at most 20 services"));
    }
    let rows = items
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(ServiceRow {
                id: uuid::Uuid::new_v4().to_string(),
                organisation_id: organisation.to_string(),
                kind: s.kind.as_str().into(),
                description: parse_label("description", &s.description, 1000)?,
                position: i32::try_from(i).unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    write_tx(conn, |conn| {
        diesel::delete(centre_services::table.filter(centre_services::organisation_id.eq(organisation.to_string())))
            .execute(conn)?;
        for row in &rows {
            diesel::insert_into(centre_services::table).values(row).execute(conn)?;
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("centre.services").object("organisation", organisation),
        )
    })?;
    services(conn, organisation)
}

/// Centres nearest first from a postal code's reference point (the town hall of its most
/// populous commune), by their nearest located address; centres with no located address
/// keep their order, after the others.
pub fn nearest_first(
    conn: &mut DbConn,
    area: &crate::geo::PostalCodeArea,
    centres: Vec<crate::accounts::model::Organisation>,
) -> Result<Vec<crate::accounts::model::Organisation>> {
    use crate::housing::geometry::LatLon;
    let Some(from) = area.point().and_then(|(lat, lon)| LatLon::new(lat, lon)) else {
        return Ok(centres);
    };
    let mut keyed = centres
        .into_iter()
        .map(|org| {
            let km = locations(conn, org.id)?
                .iter()
                .filter_map(|l| LatLon::new(l.latitude?, l.longitude?))
                .map(|at| from.distance_km(at))
                .min_by(f64::total_cmp);
            Ok((km.unwrap_or(f64::INFINITY), org))
        })
        .collect::<Result<Vec<_>>>()?;
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(keyed.into_iter().map(|(_, org)| org).collect())
}

/// One location as stored, once checked: the postal code must exist; its commune gives the
/// city and the département.
fn location_row(geo: &Geography, organisation: OrganisationId, i: usize, l: NewLocation) -> Result<LocationRow> {
    let code = PostalCode::parse(&l.postal_code).map_err(|_| Error::invalid("postal_code", "five digits"))?;
    let area = geo
        .postal_code(&code)
        .ok_or_else(|| Error::invalid("postal_code", "unknown postal code"))?;
    let commune = area
        .communes
        .first()
        .ok_or_else(|| Error::invalid("postal_code", "unknown postal code"))?;
    match (l.latitude, l.longitude) {
        (Some(lat), Some(lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => {}
        (None, None) => {}
        _ => {
            return Err(Error::invalid(
                "latitude",
                "latitude and longitude together, in degrees (WGS84)",
            ));
        }
    }
    for hours in &l.opening_hours {
        hours.check()?;
    }
    Ok(LocationRow {
        id: uuid::Uuid::new_v4().to_string(),
        organisation_id: organisation.to_string(),
        name: parse_label("name", &l.name, 200)?,
        address: parse_label("address", &l.address, 300)?,
        postal_code: code.as_str().to_owned(),
        city: commune.name.clone(),
        departement: commune.departement_code.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
        opening_hours: serde_json::to_string(&l.opening_hours).map_err(|e| Error::Internal(e.to_string()))?,
        position: i32::try_from(i).unwrap_or(0),
    })
}

/// Gives a centre its first location when it has none (the demo's centres: a postal code, no
/// coordinates, so that distances are measured from the commune's town hall).
pub fn seed_location(
    conn: &mut DbConn,
    geo: &Geography,
    organisation: OrganisationId,
    location: NewLocation,
) -> Result<()> {
    write_tx(conn, |conn| {
        let exists: i64 = centre_locations::table
            .filter(centre_locations::organisation_id.eq(organisation.to_string()))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            let row = location_row(geo, organisation, 0, location)?;
            diesel::insert_into(centre_locations::table)
                .values(&row)
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Gives a centre its first services when it has none (the demo's centres, so that the public
/// HSDS export is not empty on a fresh start). Nothing is changed for a centre that has some.
pub fn seed_services(conn: &mut DbConn, organisation: OrganisationId, items: &[(ServiceKind, &str)]) -> Result<()> {
    write_tx(conn, |conn| {
        let exists: i64 = centre_services::table
            .filter(centre_services::organisation_id.eq(organisation.to_string()))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(());
        }
        for (i, (kind, description)) in items.iter().enumerate() {
            diesel::insert_into(centre_services::table)
                .values(&ServiceRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    organisation_id: organisation.to_string(),
                    kind: kind.as_str().into(),
                    description: parse_label("description", description, 1000)?,
                    position: i32::try_from(i).unwrap_or(0),
                })
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Replaces the centre's locations; each postal code must exist and be in the centre's coverage.
pub fn replace_locations(
    conn: &mut DbConn,
    caller: &Caller,
    geo: &Geography,
    organisation: OrganisationId,
    items: Vec<NewLocation>,
) -> Result<Vec<Location>> {
    caller.scope(organisation)?;
    if items.len() > 20 {
        return Err(Error::invalid("items", "at most 20 locations"));
    }
    let rows = items
        .into_iter()
        .enumerate()
        .map(|(i, l)| location_row(geo, organisation, i, l))
        .collect::<Result<Vec<_>>>()?;
    write_tx(conn, |conn| {
        diesel::delete(centre_locations::table.filter(centre_locations::organisation_id.eq(organisation.to_string())))
            .execute(conn)?;
        for row in &rows {
            diesel::insert_into(centre_locations::table).values(row).execute(conn)?;
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("centre.locations").object("organisation", organisation),
        )
    })?;
    locations(conn, organisation)
}

/// Centres per region against the national target; regions and départements with none.
pub fn coverage(conn: &mut DbConn, geo: &Geography) -> Result<Value> {
    let centres = organisations::all_of_kind(conn, OrganisationKind::Centre)?;
    let mut regions: BTreeMap<String, (String, String, Vec<String>)> = geo
        .regions()
        .map(|r| (r.code.clone(), (r.name.clone(), r.zone.clone(), Vec::new())))
        .collect();
    let mut covered_departements = std::collections::BTreeSet::new();
    for centre in &centres {
        let mut centre_regions = std::collections::BTreeSet::new();
        for code in &centre.coverage {
            covered_departements.insert(code.clone());
            if let Some(d) = geo.departement(code) {
                centre_regions.insert(d.region_code.clone());
            }
        }
        for region in centre_regions {
            if let Some(entry) = regions.get_mut(&region) {
                entry.2.push(centre.name.clone());
            }
        }
    }
    let mut departements: Vec<_> = geo.departements().collect();
    departements.sort_by(|a, b| a.code.cmp(&b.code));
    let uncovered = |region: &str| -> Vec<Value> {
        departements
            .iter()
            .filter(|d| d.region_code == region && !covered_departements.contains(&d.code))
            .map(|d| json!({ "code": d.code, "name": d.name }))
            .collect()
    };
    let list: Vec<Value> = regions
        .iter()
        .map(|(code, (name, zone, names))| {
            json!({
                "code": code,
                "name": name,
                "zone": zone,
                "centres": names.len(),
                "centre_names": names,
                "meets_target": names.len() >= TARGET_PER_REGION,
                "departements_without_centre": uncovered(code),
            })
        })
        .collect();
    let without: Vec<&Value> = list.iter().filter(|r| r["centres"] == 0).collect();
    let below: usize = list.iter().filter(|r| r["meets_target"] == false).count();
    Ok(json!({
        "target_per_region": TARGET_PER_REGION,
        "centres": centres.len(),
        "regions_below_target": below,
        "regions_without_centre": without.iter().map(|r| json!({ "code": r["code"], "name": r["name"] })).collect::<Vec<_>>(),
        "departements_without_centre": departements
            .iter()
            .filter(|d| !covered_departements.contains(&d.code))
            .map(|d| json!({ "code": d.code, "name": d.name }))
            .collect::<Vec<_>>(),
        "regions": list,
    }))
}

/// A stable UUID for a part of an object that has no row of its own (a phone, an address,
/// a schedule, a service at a location), so an export always names it the same way.
fn derived_id(parent: &str, part: &str) -> String {
    let digest = crate::crypto::sha256_hex(format!("{parent}/{part}").as_bytes());
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&digest[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8: custom
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    uuid::Uuid::from_bytes(bytes).to_string()
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// One centre as an HSDS 3.0 organization, with its services, locations, schedules and
/// services at locations. Public information only.
pub fn hsds_organization(
    geo: &Geography,
    org: &Organisation,
    profile: &Profile,
    services: &[Service],
    locations: &[Location],
) -> Value {
    let org_id = org.id.to_string();
    let phones: Vec<Value> = profile
        .phone
        .iter()
        .map(|number| json!({ "id": derived_id(&org_id, "phone"), "organization_id": org_id, "number": number, "type": "voice", "languages": [] }))
        .collect();
    let hsds_locations: Vec<Value> = locations
        .iter()
        .map(|l| {
            let departement = geo.departement(&l.departement);
            let region = departement.and_then(|d| geo.region(&d.region_code));
            let schedules: Vec<Value> = l
                .opening_hours
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    json!({
                        "id": derived_id(&l.id, &format!("schedule/{i}")),
                        "location_id": l.id,
                        "freq": "WEEKLY",
                        "wkst": "MO",
                        "byday": DAYS[usize::from(h.weekday.clamp(1, 7)) - 1],
                        "opens_at": h.opens,
                        "closes_at": h.closes,
                        "description": format!("Fuseau horaire / time zone: {}", org.timezone),
                    })
                })
                .collect();
            let mut location = json!({
                "id": l.id,
                "location_type": "physical",
                "organization_id": org_id,
                "name": l.name,
                "addresses": [{
                    "id": derived_id(&l.id, "address"),
                    "location_id": l.id,
                    "address_1": l.address,
                    "city": l.city,
                    "region": region.map(|r| r.name.clone()).unwrap_or_default(),
                    "state_province": departement.map(|d| d.name.clone()).unwrap_or_default(),
                    "postal_code": l.postal_code,
                    "country": "FR",
                    "address_type": "physical",
                }],
                "schedules": schedules,
                "phones": [],
                "languages": [],
                "contacts": [],
                "accessibility": [],
                "attributes": [],
                "metadata": [],
            });
            if let (Some(lat), Some(lon)) = (l.latitude, l.longitude) {
                location["latitude"] = json!(lat);
                location["longitude"] = json!(lon);
            }
            location
        })
        .collect();
    let hsds_services: Vec<Value> = services
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "organization_id": org_id,
                "name": s.kind.label(),
                "description": s.description,
                "status": "active",
                "service_at_locations": locations.iter().map(|l| json!({
                    "id": derived_id(&s.id, &l.id),
                    "service_id": s.id,
                    "location_id": l.id,
                })).collect::<Vec<_>>(),
                "service_areas": org.coverage.iter().map(|code| json!({
                    "id": derived_id(&s.id, &format!("area/{code}")),
                    "service_id": s.id,
                    "name": geo.departement(code).map(|d| format!("{} ({code})", d.name)).unwrap_or_else(|| code.clone()),
                    "extent_type": "other",
                    "extent": code,
                })).collect::<Vec<_>>(),
                "languages": [],
                "phones": [],
                "schedules": [],
                "contacts": [],
                "attributes": [],
                "metadata": [],
            })
        })
        .collect();
    json!({
        "id": org_id,
        "name": org.name,
        "description": "Centre de prise en charge des auteurs de violences conjugales (CPCA) / Care centre for perpetrators of domestic violence",
        "phones": phones,
        "locations": hsds_locations,
        "services": hsds_services,
        "contacts": [],
        "funding": [],
        "programs": [],
        "organization_identifiers": [],
        "attributes": [],
        "metadata": [],
    })
}
