//! Offers: hotels, shelters, apartments, host families, a centre's own places. The platform's
//! operators manage the platform's; a centre manages its own. Every change bumps a counter so
//! each instance rebuilds its in-memory index before its next match.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::geometry::LatLon;
use super::matching::OfferEntry;
use super::model::OfferKind;
use crate::access::Caller;
use crate::accounts::model::{OrganisationKind, Role};
use crate::audit::{self, Entry};
use crate::crypto::Secrets;
use crate::db::schema::{housing_index_version, housing_offer_nights, housing_offers};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::geo::Geography;
use crate::page::{Cursor, Page, PageRequest};
use crate::security::{self, Watch};
use crate::time;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = housing_offers)]
struct Row {
    id: String,
    organisation_id: String,
    kind: String,
    name: String,
    provider: String,
    address: String,
    commune: String,
    departement: String,
    region: String,
    latitude: f64,
    longitude: f64,
    capacity: i32,
    price_cents: i64,
    accessible: bool,
    pets: bool,
    couples: bool,
    hosts_victims: bool,
    available_from: NaiveDate,
    available_until: Option<NaiveDate>,
    active: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Offer {
    pub id: String,
    pub organisation_id: String,
    pub kind: OfferKind,
    pub name: String,
    pub provider: String,
    pub address: String,
    pub commune: String,
    /// The names of the commune, département and région, for people.
    pub commune_name: Option<&'static str>,
    pub departement_name: Option<&'static str>,
    pub region_name: Option<&'static str>,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
    pub capacity: i32,
    pub price_cents: i64,
    pub accessible: bool,
    pub pets: bool,
    pub couples: bool,
    pub hosts_victims: bool,
    pub available_from: NaiveDate,
    pub available_until: Option<NaiveDate>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(r: Row) -> Result<Offer> {
    Ok(Offer {
        kind: r.kind.parse()?,
        id: r.id,
        organisation_id: r.organisation_id,
        name: r.name,
        provider: r.provider,
        address: r.address,
        commune_name: crate::geo::names::commune(&r.commune),
        departement_name: crate::geo::names::departement(&r.departement),
        region_name: crate::geo::names::region(&r.region),
        commune: r.commune,
        departement: r.departement,
        region: r.region,
        latitude: r.latitude,
        longitude: r.longitude,
        capacity: r.capacity,
        price_cents: r.price_cents,
        accessible: r.accessible,
        pets: r.pets,
        couples: r.couples,
        hosts_victims: r.hosts_victims,
        available_from: r.available_from,
        available_until: r.available_until,
        active: r.active,
        created_at: time::from_db(r.created_at),
        updated_at: time::from_db(r.updated_at),
    })
}

/// Who manages offers: the platform's operators, and a centre's practitioners and managers
/// for their own. Anyone else is refused.
pub fn manager(caller: &Caller) -> Result<()> {
    let allowed = match caller.organisation_kind {
        OrganisationKind::HousingPlatform => caller.has_role(Role::HousingOperator),
        OrganisationKind::Centre => caller.has_any_role(&[Role::Practitioner, Role::CentreManager]),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "the housing platform's operators and centres manage offers".into(),
        ))
    }
}

#[derive(Clone, Debug)]
pub struct NewOffer {
    pub kind: OfferKind,
    pub name: String,
    pub provider: String,
    pub address: String,
    pub commune: String,
    pub latitude: f64,
    pub longitude: f64,
    pub capacity: i32,
    pub price_cents: i64,
    pub accessible: bool,
    pub pets: bool,
    pub couples: bool,
    pub hosts_victims: bool,
    pub available_from: NaiveDate,
    pub available_until: Option<NaiveDate>,
}

impl NewOffer {
    fn check(&self, geo: &Geography) -> Result<(String, String)> {
        crate::values::parse_label("name", &self.name, 200)?;
        crate::values::parse_label("provider", &self.provider, 200)?;
        crate::values::parse_label("address", &self.address, 400)?;
        let commune = geo
            .commune(&self.commune)
            .ok_or_else(|| Error::invalid("commune", "an INSEE commune code"))?;
        LatLon::new(self.latitude, self.longitude)
            .ok_or_else(|| Error::invalid("latitude", "WGS84 latitude and longitude"))?;
        if !crate::geo::contours::holds(&self.commune, self.latitude, self.longitude) {
            return Err(Error::invalid(
                "commune",
                "the position must be in the declared commune (a commune without a reference contour cannot be used)",
            ));
        }
        if !(1..=1000).contains(&self.capacity) {
            return Err(Error::invalid("capacity", "1 to 1000 places a night"));
        }
        if !(0..=10_000_000).contains(&self.price_cents) {
            return Err(Error::invalid("price_cents", "0 to 100000 euros a night, in cents"));
        }
        if self.available_until.is_some_and(|u| u < self.available_from) {
            return Err(Error::invalid("available_until", "the calendar ends after it starts"));
        }
        Ok((commune.departement_code.clone(), commune.region_code.clone()))
    }
}

fn bump(conn: &mut DbConn) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(housing_index_version::table.find(1))
            .set(housing_index_version::version.eq(housing_index_version::version + 1))
            .execute(conn)?;
        Ok(())
    })
}

/// The counter every offer change moves.
pub fn version(conn: &mut DbConn) -> Result<i64> {
    Ok(housing_index_version::table
        .find(1)
        .select(housing_index_version::version)
        .first(conn)?)
}

/// Creates an offer within the account's limits; audited with its position (sealed).
/// `watch` is None only for the server's own loaders (demo data), which are not probing.
pub fn create(
    conn: &mut DbConn,
    geo: &Geography,
    secrets: &Secrets,
    watch: Option<&Watch>,
    caller: &Caller,
    new: NewOffer,
) -> Result<Offer> {
    manager(caller)?;
    let (departement, region) = new.check(geo)?;
    write_tx(conn, |conn| {
        if let Some(watch) = watch {
            security::check_offer_create(conn, watch, caller)?;
        }
        let now = time::to_db(time::now());
        let row = Row {
            id: uuid::Uuid::new_v4().to_string(),
            organisation_id: caller.organisation_id.to_string(),
            kind: new.kind.as_str().into(),
            name: new.name.trim().into(),
            provider: new.provider.trim().into(),
            address: new.address.trim().into(),
            commune: new.commune.clone(),
            departement: departement.clone(),
            region: region.clone(),
            latitude: new.latitude,
            longitude: new.longitude,
            capacity: new.capacity,
            price_cents: new.price_cents,
            accessible: new.accessible,
            pets: new.pets,
            couples: new.couples,
            hosts_victims: new.hosts_victims,
            available_from: new.available_from,
            available_until: new.available_until,
            active: true,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(housing_offers::table).values(&row).execute(conn)?;
        bump(conn)?;
        let at = LatLon {
            lat: row.latitude,
            lon: row.longitude,
        };
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("offer.create")
                .object("offer", &row.id)
                .details(serde_json::json!({
                    "position": security::sealed_position(secrets, &row.id, &row.commune, at),
                })),
        )?;
        if let Some(watch) = watch {
            security::offer_created(conn, watch, caller, &row.id, at)?;
        }
        view(row)
    })
}

fn load_own(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Row> {
    manager(caller).map_err(|_| Error::NotFound)?;
    housing_offers::table
        .find(id)
        .filter(housing_offers::organisation_id.eq(caller.organisation_id.to_string()))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Offer> {
    view(load_own(conn, caller, id)?)
}

/// Replaces an offer's description (its id stays). A move (position or commune) is limited
/// per offer and per account, and audited with the old and new positions (sealed).
#[allow(clippy::too_many_arguments)]
pub fn update(
    conn: &mut DbConn,
    geo: &Geography,
    secrets: &Secrets,
    watch: &Watch,
    caller: &Caller,
    id: &str,
    new: NewOffer,
    active: bool,
) -> Result<Offer> {
    let (departement, region) = new.check(geo)?;
    write_tx(conn, |conn| {
        let before = load_own(conn, caller, id)?;
        let moved =
            before.latitude != new.latitude || before.longitude != new.longitude || before.commune != new.commune;
        if moved {
            security::check_offer_move(conn, watch, caller, id)?;
        }
        // Nights already booked from today on: the offer must keep holding them.
        let booked: Vec<(NaiveDate, i32)> = housing_offer_nights::table
            .filter(housing_offer_nights::offer_id.eq(id))
            .filter(housing_offer_nights::night.ge(time::now().date_naive()))
            .filter(housing_offer_nights::booked.gt(0))
            .select((housing_offer_nights::night, housing_offer_nights::booked))
            .load(conn)?;
        if let (Some(first), Some(last)) = (booked.iter().map(|b| b.0).min(), booked.iter().map(|b| b.0).max()) {
            let most = booked.iter().map(|b| b.1).max().unwrap_or(0);
            if !active
                || moved
                || (new.hosts_victims && !before.hosts_victims)
                || new.capacity < most
                || new.available_from > first
                || new.available_until.is_some_and(|u| u < last)
            {
                return Err(Error::Conflict(
                    "placements are booked in this offer: its place, kind of guests, capacity and calendar must keep holding them"
                        .into(),
                ));
            }
        }
        diesel::update(housing_offers::table.find(id))
            .set((
                housing_offers::kind.eq(new.kind.as_str()),
                housing_offers::name.eq(new.name.trim()),
                housing_offers::provider.eq(new.provider.trim()),
                housing_offers::address.eq(new.address.trim()),
                housing_offers::commune.eq(&new.commune),
                housing_offers::departement.eq(&departement),
                housing_offers::region.eq(&region),
                housing_offers::latitude.eq(new.latitude),
                housing_offers::longitude.eq(new.longitude),
                housing_offers::capacity.eq(new.capacity),
                housing_offers::price_cents.eq(new.price_cents),
                housing_offers::accessible.eq(new.accessible),
                housing_offers::pets.eq(new.pets),
                housing_offers::couples.eq(new.couples),
                housing_offers::hosts_victims.eq(new.hosts_victims),
                housing_offers::available_from.eq(new.available_from),
                housing_offers::available_until.eq(new.available_until),
                housing_offers::active.eq(active),
                housing_offers::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        bump(conn)?;
        let old = LatLon {
            lat: before.latitude,
            lon: before.longitude,
        };
        let at = LatLon {
            lat: new.latitude,
            lon: new.longitude,
        };
        let mut details = serde_json::json!({ "moved": moved, "active": active });
        if moved {
            details["from"] = security::sealed_position(secrets, id, &before.commune, old);
            details["to"] = security::sealed_position(secrets, id, &new.commune, at);
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("offer.update").object("offer", id).details(details),
        )?;
        if moved {
            security::offer_moved(conn, watch, caller, id, at)?;
        }
        view(load_own(conn, caller, id)?)
    })
}

/// The caller's organisation's offers, by name, one page at a time.
pub fn list(conn: &mut DbConn, caller: &Caller, page: &PageRequest) -> Result<Page<Offer>> {
    manager(caller)?;
    let mut query = housing_offers::table
        .filter(housing_offers::organisation_id.eq(caller.organisation_id.to_string()))
        .into_boxed();
    if let Some(after) = &page.after {
        let name = after.text()?.to_owned();
        query = query.filter(
            housing_offers::name.gt(name.clone()).or(housing_offers::name
                .eq(name)
                .and(housing_offers::id.gt(after.id.clone()))),
        );
    }
    let rows: Vec<Row> = query
        .order((housing_offers::name.asc(), housing_offers::id.asc()))
        .limit(page.fetch())
        .select(Row::as_select())
        .load(conn)?;
    Page::from_rows(
        rows,
        page,
        |r| Cursor {
            text: Some(r.name.clone()),
            ..Cursor::at(r.created_at, &r.id)
        },
        view,
    )
}

/// Every active offer of an organisation (the platform), for the matching index.
pub fn entries(conn: &mut DbConn, organisation: &str) -> Result<Vec<OfferEntry>> {
    let rows: Vec<Row> = housing_offers::table
        .filter(housing_offers::active.eq(true))
        .filter(housing_offers::organisation_id.eq(organisation))
        .select(Row::as_select())
        .load(conn)?;
    to_entries(rows)
}

/// These active offers, as the index holds them.
pub(crate) fn entries_of(conn: &mut DbConn, ids: &[&str]) -> Result<Vec<OfferEntry>> {
    let rows: Vec<Row> = housing_offers::table
        .filter(housing_offers::active.eq(true))
        .filter(housing_offers::id.eq_any(ids))
        .select(Row::as_select())
        .load(conn)?;
    to_entries(rows)
}

fn to_entries(rows: Vec<Row>) -> Result<Vec<OfferEntry>> {
    rows.into_iter()
        .map(|r| {
            Ok(OfferEntry {
                kind: r.kind.parse()?,
                at: LatLon {
                    lat: r.latitude,
                    lon: r.longitude,
                },
                id: r.id,
                organisation_id: r.organisation_id,
                name: r.name,
                commune: r.commune,
                departement: r.departement,
                capacity: r.capacity,
                price_cents: r.price_cents,
                accessible: r.accessible,
                pets: r.pets,
                couples: r.couples,
                hosts_victims: r.hosts_victims,
                available_from: r.available_from,
                available_until: r.available_until,
            })
        })
        .collect()
}
