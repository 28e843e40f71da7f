//! Proposals for a request: the case's constraints, read on the server, against the offer
//! index each instance keeps in memory and rebuilds when an offer changes anywhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::geometry::LatLon;
use super::matching::{OfferIndex, Outcome, Query};
use super::model::RequestStatus;
use super::{constraints, offers, requests};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::crypto::Secrets;
use crate::db::DbConn;
use crate::db::schema::{centre_locations, housing_offer_nights};
use crate::error::{Error, Result};

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

/// Where the centre is, if one of its locations has coordinates.
pub(crate) fn centre_point(conn: &mut DbConn, centre: &str) -> Result<Option<LatLon>> {
    let at: Option<(Option<f64>, Option<f64>)> = centre_locations::table
        .filter(centre_locations::organisation_id.eq(centre))
        .filter(centre_locations::latitude.is_not_null())
        .order(centre_locations::position.asc())
        .select((centre_locations::latitude, centre_locations::longitude))
        .first(conn)
        .optional()?;
    Ok(at.and_then(|(lat, lon)| LatLon::new(lat?, lon?)))
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Proposals {
    pub request_id: String,
    /// The request's factor step, as the following centre set it.
    pub radius_factor: f64,
    /// How many rules of each kind applied (never what or where).
    pub rules: serde_json::Value,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The platform's operators ask for proposals on an open request.
pub fn for_request(
    conn: &mut DbConn,
    secrets: &Secrets,
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
    let near = centre_point(conn, &row.organisation_id)?;
    let index = cache.get(conn)?;
    let query = Query {
        constraints: &rules,
        radius_factor: row.radius_factor,
        near,
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
        outcome,
    })
}
