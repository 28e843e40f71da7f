//! Proposals for a request: the case's constraints, read on the server, against the offer
//! index each instance keeps in memory and rebuilds when an offer changes anywhere.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::geometry::LatLon;
use super::matching::{OfferIndex, Outcome, Query, SearchArea};
use super::model::RequestStatus;
use super::{constraints, offers, requests};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::crypto::Secrets;
use crate::db::DbConn;
use crate::db::schema::{centre_locations, housing_offer_nights, organisations};
use crate::error::{Error, Result};
use crate::geo::{Geography, PostalCode};

/// This instance's offer index, and the version of the offers it was built from.
#[derive(Default)]
pub struct IndexCache {
    current: Mutex<Option<(i64, Arc<OfferIndex>)>>,
}

impl IndexCache {
    /// The index, rebuilt first if an offer changed since.
    pub fn get(&self, conn: &mut DbConn) -> Result<Arc<OfferIndex>> {
        let version = offers::version(conn)?;
        if let Ok(guard) = self.current.lock()
            && let Some((built, index)) = guard.as_ref()
            && *built == version
        {
            return Ok(index.clone());
        }
        // The platform's own offers: a centre's places are the centre's to use.
        let platform = requests::platform(conn)?;
        let index = Arc::new(OfferIndex::new(offers::entries(conn, &platform.id.to_string())?));
        if let Ok(mut guard) = self.current.lock() {
            *guard = Some((version, index.clone()));
        }
        Ok(index)
    }
}

/// The most places booked on any night of `[first, last]`, per offer.
pub(crate) fn booked(
    conn: &mut DbConn,
    ids: &[&str],
    first: NaiveDate,
    last: NaiveDate,
) -> Result<HashMap<String, i32>> {
    let rows: Vec<(String, i32)> = housing_offer_nights::table
        .filter(housing_offer_nights::offer_id.eq_any(ids))
        .filter(housing_offer_nights::night.between(first, last))
        .select((housing_offer_nights::offer_id, housing_offer_nights::booked))
        .load(conn)?;
    let mut most = HashMap::new();
    for (id, booked) in rows {
        let entry = most.entry(id).or_insert(0);
        *entry = booked.max(*entry);
    }
    Ok(most)
}

/// Where distances are measured from: the following centre's first location with
/// coordinates, or else the town hall of its first location's commune (its postal code's
/// most populous commune), or nowhere.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceFrom {
    /// A location's own coordinates.
    Location,
    /// The town hall of the location's commune: the location has no coordinates.
    Commune,
}

pub(crate) fn centre_point(conn: &mut DbConn, geo: &Geography, centre: &str) -> Result<Option<(LatLon, DistanceFrom)>> {
    let places: Vec<(String, Option<f64>, Option<f64>)> = centre_locations::table
        .filter(centre_locations::organisation_id.eq(centre))
        .order(centre_locations::position.asc())
        .select((
            centre_locations::postal_code,
            centre_locations::latitude,
            centre_locations::longitude,
        ))
        .load(conn)?;
    if let Some(at) = places.iter().find_map(|(_, lat, lon)| LatLon::new((*lat)?, (*lon)?)) {
        return Ok(Some((at, DistanceFrom::Location)));
    }
    Ok(places.iter().find_map(|(postal_code, _, _)| {
        let area = geo.postal_code(&PostalCode::parse(postal_code).ok()?)?;
        let (lat, lon) = area.point()?;
        Some((LatLon::new(lat, lon)?, DistanceFrom::Commune))
    }))
}

/// Where a request's offers are looked for: within `radius_km` of the centre when set (and
/// the centre placed), or else the régions of the départements the centre covers, or else
/// of its locations; anywhere for a centre with neither.
fn search_area(conn: &mut DbConn, centre: &str, placed: bool, radius_km: Option<f64>) -> Result<SearchArea> {
    if let Some(km) = radius_km.filter(|km| *km > 0.0)
        && placed
    {
        return Ok(SearchArea::Radius(km));
    }
    let coverage: String = organisations::table
        .filter(organisations::id.eq(centre))
        .select(organisations::coverage)
        .first(conn)
        .optional()?
        .unwrap_or_default();
    let mut departements: Vec<String> = serde_json::from_str::<Vec<String>>(&coverage).unwrap_or_default();
    if departements.is_empty() {
        departements = centre_locations::table
            .filter(centre_locations::organisation_id.eq(centre))
            .select(centre_locations::departement)
            .load(conn)?;
    }
    let regions: HashSet<String> = departements
        .iter()
        .filter_map(|d| crate::geo::names::region_of_departement(d))
        .map(str::to_owned)
        .collect();
    Ok(if regions.is_empty() {
        SearchArea::Anywhere
    } else {
        SearchArea::Regions(regions)
    })
}

/// The search area as the answer says it.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AreaView {
    Regions { regions: Vec<Named> },
    Radius { km: f64 },
    Anywhere,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Named {
    pub code: String,
    pub name: Option<&'static str>,
}

impl From<&SearchArea> for AreaView {
    fn from(area: &SearchArea) -> Self {
        match area {
            SearchArea::Regions(codes) => {
                let mut regions: Vec<Named> = codes
                    .iter()
                    .map(|code| Named {
                        name: crate::geo::names::region(code),
                        code: code.clone(),
                    })
                    .collect();
                regions.sort_by(|a, b| a.code.cmp(&b.code));
                Self::Regions { regions }
            }
            SearchArea::Radius(km) => Self::Radius { km: *km },
            SearchArea::Anywhere => Self::Anywhere,
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Proposals {
    pub request_id: String,
    /// The request's factor step, as the following centre set it.
    pub radius_factor: f64,
    /// How many rules of each kind applied (never what or where).
    pub rules: serde_json::Value,
    /// Where the offers were looked for.
    pub area: AreaView,
    /// Where distances are measured from (none: distances unknown).
    pub distance_from: Option<DistanceFrom>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The platform's operators ask for proposals on an open request.
#[allow(clippy::too_many_arguments)]
pub fn for_request(
    conn: &mut DbConn,
    secrets: &Secrets,
    geo: &Geography,
    radius_km: Option<f64>,
    watch: &crate::security::Watch,
    cache: &IndexCache,
    caller: &Caller,
    id: &str,
    limit: usize,
) -> Result<Proposals> {
    let row = requests::visible(conn, caller, id)?;
    if !requests::is_operator(caller) {
        return Err(Error::Forbidden("the platform's operators match requests".into()));
    }
    if row.status != RequestStatus::Open.as_str() {
        return Err(Error::Conflict(format!("a {} request is not matched", row.status)));
    }
    let case = row
        .case_id
        .as_deref()
        .ok_or_else(|| Error::Conflict("the case behind this request was erased".into()))?;
    requests::referral_still_wanted(conn, &row.referral_id)?;
    let rules = constraints::of_case(conn, secrets, case, row.first_night)?;
    let placed = centre_point(conn, geo, &row.organisation_id)?;
    let area = search_area(conn, &row.organisation_id, placed.is_some(), radius_km)?;
    let near = placed.map(|(at, _)| at);
    let index = cache.get(conn)?;
    let query = Query {
        constraints: &rules,
        radius_factor: row.radius_factor,
        near,
        area,
        first_night: row.first_night,
        last_night: row.last_night,
        needs: row.needs(),
        limit: limit.clamp(1, 50),
        examine: 2000,
    };
    let outcome = index.propose(&query, |ids| booked(conn, ids, row.first_night, row.last_night))?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("housing_request.match")
            .object("housing_request", id)
            .details(serde_json::json!({ "proposed": outcome.proposals.len(), "radius_factor": query.radius_factor })),
    )?;
    // Asked again after the caller's offers changed: what probing looks like.
    crate::security::proposals_read(conn, watch, caller, id)?;
    Ok(Proposals {
        request_id: id.to_owned(),
        radius_factor: query.radius_factor,
        rules: rules.counts(),
        area: AreaView::from(&query.area),
        distance_from: placed.map(|(_, from)| from),
        outcome,
    })
}
