//! Placements, night by night: each night has its funding and its price. A place is taken by
//! one conditional update per night (`booked < capacity`), so parallel bookings never exceed
//! an offer's capacity. The court's rules are checked again at placement, whoever chose the
//! offer, and any refusal but a full night says one thing (`NOT_COMPATIBLE`). The platform's funding of a court-ordered eviction stops at six months.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::matching::{Needs, OfferIndex, Query, SearchArea};
use super::model::{EVICTION_FUNDING_CAP_NIGHTS, Funding, PlacementSource, PlacementStatus, RequestStatus};
use super::protective_disc::DEFAULT_FACTOR;
use super::{constraints, requests};
use crate::access::Caller;
use crate::accounts::model::OrganisationKind;
use crate::audit::{self, Entry};
use crate::centres::referrals::actor_label;
use crate::crypto::Secrets;
use crate::db::schema::{
    housing_offer_nights, housing_offers, housing_placement_nights, housing_placements, housing_requests,
};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::security::Watch;
use crate::time;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Placement {
    pub id: String,
    pub offer_id: String,
    pub offer_name: String,
    pub address: String,
    pub commune: String,
    /// The commune's name, for people.
    pub commune_name: Option<&'static str>,
    pub request_id: Option<String>,
    pub centre_id: String,
    pub source: PlacementSource,
    pub status: PlacementStatus,
    pub first_night: Option<NaiveDate>,
    pub last_night: Option<NaiveDate>,
    pub nights: Vec<Night>,
    pub cost_cents: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Night {
    pub night: NaiveDate,
    pub funding: Funding,
    pub price_cents: i64,
}

pub struct NewPlacement {
    /// The platform places for a request; a centre declares for one of its cases.
    pub request_id: Option<String>,
    pub case_id: Option<String>,
    pub offer_id: String,
    pub first_night: NaiveDate,
    pub last_night: NaiveDate,
    pub funding: Funding,
}

fn nights_of(first: NaiveDate, last: NaiveDate) -> Result<Vec<NaiveDate>> {
    let count = (last - first).num_days() + 1;
    if count < 1 {
        return Err(Error::invalid(
            "last_night",
            "the last night comes on or after the first",
        ));
    }
    if count > 366 {
        return Err(Error::invalid("last_night", "at most 366 nights at once"));
    }
    Ok(first.iter_days().take(usize::try_from(count).unwrap_or(0)).collect())
}

/// Takes one place on each night, or fails (the transaction then takes none).
fn take(conn: &mut DbConn, offer: &str, capacity: i32, nights: &[NaiveDate]) -> Result<()> {
    write_tx(conn, |conn| {
        for night in nights {
            // Both backends speak `ON CONFLICT DO NOTHING` (and `$n` placeholders); diesel's
            // builder does not offer it through the multi-backend connection.
            diesel::sql_query(
                "INSERT INTO housing_offer_nights (offer_id, night, booked) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
            )
            .bind::<diesel::sql_types::Text, _>(offer)
            .bind::<diesel::sql_types::Date, _>(night)
            .execute(conn)?;
            let taken = diesel::update(
                housing_offer_nights::table
                    .find((offer, night))
                    .filter(housing_offer_nights::booked.lt(capacity)),
            )
            .set(housing_offer_nights::booked.eq(housing_offer_nights::booked + 1))
            .execute(conn)?;
            if taken == 0 {
                return Err(Error::Conflict(format!("the offer is full on the night of {night}")));
            }
        }
        Ok(())
    })
}

/// The nights a placement holds, each with its funding and price.
fn record_nights(conn: &mut DbConn, placement: &str, nights: &[NaiveDate], funding: Funding, price: i64) -> Result<()> {
    write_tx(conn, |conn| {
        for night in nights {
            diesel::insert_into(housing_placement_nights::table)
                .values((
                    housing_placement_nights::placement_id.eq(placement),
                    housing_placement_nights::night.eq(night),
                    housing_placement_nights::funding.eq(funding.as_str()),
                    housing_placement_nights::price_cents.eq(price),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

fn release(conn: &mut DbConn, offer: &str, nights: &[NaiveDate]) -> Result<()> {
    write_tx(conn, |conn| {
        for night in nights {
            diesel::update(
                housing_offer_nights::table
                    .find((offer, night))
                    .filter(housing_offer_nights::booked.gt(0)),
            )
            .set(housing_offer_nights::booked.eq(housing_offer_nights::booked - 1))
            .execute(conn)?;
        }
        Ok(())
    })
}

/// Platform-funded nights already given to a case.
fn platform_nights_of_case(conn: &mut DbConn, case_id: &str) -> Result<i64> {
    Ok(housing_placement_nights::table
        .inner_join(housing_placements::table)
        .filter(housing_placements::case_id.eq(case_id))
        .filter(housing_placement_nights::funding.eq(Funding::Platform.as_str()))
        .count()
        .get_result(conn)?)
}

fn check_cap(conn: &mut DbConn, case_id: &str, eviction: bool, funding: Funding, adding: usize) -> Result<()> {
    write_tx(conn, |conn| {
        if !eviction || funding != Funding::Platform {
            return Ok(());
        }
        // One case at a time: a no-op update holds the case's row until commit on PostgreSQL, so
        // two placements for the same case count each other's nights.
        diesel::update(crate::db::schema::cases::table.find(case_id))
            .set(crate::db::schema::cases::updated_at.eq(crate::db::schema::cases::updated_at))
            .execute(conn)?;
        let already = platform_nights_of_case(conn, case_id)?;
        if already + i64::try_from(adding).unwrap_or(i64::MAX) > EVICTION_FUNDING_CAP_NIGHTS {
            return Err(Error::Conflict(format!(
                "the platform funds a court-ordered eviction for {EVICTION_FUNDING_CAP_NIGHTS} nights at most ({already} given)"
            )));
        }
        Ok(())
    })
}

type OfferFacts = (String, i32, i64, bool);

/// The offer's owner, capacity and price, if active. The offer's row is held until commit
/// (a no-op update), so an edit of its capacity waits for this booking and sees it.
fn offer_facts(conn: &mut DbConn, id: &str) -> Result<OfferFacts> {
    write_tx(conn, |conn| {
        diesel::update(housing_offers::table.find(id))
            .set(housing_offers::updated_at.eq(housing_offers::updated_at))
            .execute(conn)?;
        housing_offers::table
            .find(id)
            .filter(housing_offers::active.eq(true))
            .select((
                housing_offers::organisation_id,
                housing_offers::capacity,
                housing_offers::price_cents,
                housing_offers::hosts_victims,
            ))
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::invalid("offer_id", "no such active offer"))
    })
}

/// The one answer to a placement or an extension the rules refuse, whichever rule it is (an
/// offer's place is never told apart from its calendar, needs or kind of guests).
pub const NOT_COMPATIBLE: &str =
    "Cette offre n'est pas compatible avec cette demande. / This offer is not compatible with this request.";

fn not_compatible() -> Error {
    Error::Conflict(NOT_COMPATIBLE.into())
}

/// The nights asked for, what the person needs, and the factor step stored on the request.
struct Stay {
    first: NaiveDate,
    last: NaiveDate,
    needs: Needs,
    radius_factor: f64,
}

/// The court's rules and the offer's fit, checked again for the chosen offer, in the order
/// matching uses: whether the offer is bookable, then its places (capacity: the one refusal
/// told apart), and only then the place rules; the nights taken are given back by the
/// transaction when a place rule refuses.
fn take_if_compatible(
    conn: &mut DbConn,
    secrets: &Secrets,
    case_id: &str,
    offer_id: &str,
    stay: &Stay,
    capacity: i32,
    eviction_cap: impl FnOnce(&mut DbConn) -> Result<()>,
) -> Result<()> {
    let rules = constraints::of_case(conn, secrets, case_id, stay.first)?;
    let entry = super::offers::entries_of(conn, &[offer_id])?
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid("offer_id", "no such active offer"))?;
    let query = Query {
        constraints: &rules,
        radius_factor: stay.radius_factor,
        near: None,
        first_night: stay.first,
        last_night: stay.last,
        needs: stay.needs,
        limit: 1,
        examine: 1,
        area: SearchArea::Anywhere,
    };
    if !OfferIndex::bookable(&entry, &query) {
        return Err(not_compatible());
    }
    eviction_cap(conn)?;
    take(conn, offer_id, capacity, &nights_of(stay.first, stay.last)?)?;
    if !OfferIndex::allowed_place(&entry, &query) {
        return Err(not_compatible());
    }
    Ok(())
}

/// A refusal as not compatible is counted for the account (probing shows as refusals piling
/// up), in its own transaction: the refused one rolled back.
fn count_refusal<T>(conn: &mut DbConn, watch: &Watch, caller: &Caller, outcome: Result<T>) -> Result<T> {
    if matches!(&outcome, Err(Error::Conflict(m)) if m == NOT_COMPATIBLE) {
        crate::security::placement_refused(conn, watch, caller)?;
    }
    outcome
}

pub fn place(
    conn: &mut DbConn,
    secrets: &Secrets,
    watch: &Watch,
    caller: &Caller,
    new: NewPlacement,
    now: DateTime<Utc>,
) -> Result<Placement> {
    let outcome = place_checked(conn, secrets, caller, new, now);
    count_refusal(conn, watch, caller, outcome)
}

fn place_checked(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    new: NewPlacement,
    now: DateTime<Utc>,
) -> Result<Placement> {
    let nights = nights_of(new.first_night, new.last_night)?;
    write_tx(conn, |conn| {
        let (offer_owner, capacity, price, _) = offer_facts(conn, &new.offer_id)?;
        let (source, case_id, centre, request, needs, eviction) = if requests::is_operator(caller) {
            let id = new
                .request_id
                .as_deref()
                .ok_or_else(|| Error::invalid("request_id", "the platform places for a request"))?;
            let row = requests::load(conn, id).map_err(|_| Error::invalid("request_id", "no such request"))?;
            // Claim the request first: of two operators placing it at once, the second waits,
            // then finds it placed.
            let claimed = diesel::update(
                housing_requests::table
                    .find(id)
                    .filter(housing_requests::status.eq(RequestStatus::Open.as_str())),
            )
            .set((
                housing_requests::status.eq(RequestStatus::Placed.as_str()),
                housing_requests::updated_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
            if claimed == 0 {
                return Err(Error::Conflict(format!("a {} request is not placed", row.status)));
            }
            requests::referral_still_wanted(conn, &row.referral_id)?;
            if offer_owner != requests::platform(conn)?.id.to_string() {
                return Err(Error::invalid(
                    "offer_id",
                    "the platform places in the platform's offers",
                ));
            }
            let case = row
                .case_id
                .clone()
                .ok_or_else(|| Error::Conflict("the case behind this request was erased".into()))?;
            let needs = row.needs();
            (
                PlacementSource::Platform,
                case,
                row.organisation_id.clone(),
                Some(row),
                needs,
                None,
            )
        } else if caller.organisation_kind == OrganisationKind::Centre && !caller.is_partner() {
            super::offers::manager(caller)?;
            if new.request_id.is_some() {
                return Err(Error::invalid("request_id", "a centre declares a placement for a case"));
            }
            let case = new
                .case_id
                .clone()
                .ok_or_else(|| Error::invalid("case_id", "the case the placement is for"))?;
            crate::cases::files::exists(conn, caller, &case)?;
            if offer_owner != caller.organisation_id.to_string() {
                return Err(Error::invalid(
                    "offer_id",
                    "a centre declares placements in its own offers",
                ));
            }
            if new.funding == Funding::Platform {
                return Err(Error::invalid(
                    "funding",
                    "a centre's own placement is funded by the centre or a partner",
                ));
            }
            let eviction = constraints::has_eviction(conn, secrets, &case)?.is_some();
            (
                PlacementSource::Centre,
                case,
                caller.organisation_id.to_string(),
                None,
                Needs::default(),
                Some(eviction),
            )
        } else {
            return Err(Error::Forbidden(
                "the platform's operators place; centres declare".into(),
            ));
        };
        // The platform places with the factor the following centre set on the request; a
        // centre's own declaration keeps the largest step.
        let radius_factor = request.as_ref().map_or(DEFAULT_FACTOR, |r| r.radius_factor);
        let stay = Stay {
            first: new.first_night,
            last: new.last_night,
            needs,
            radius_factor,
        };
        take_if_compatible(conn, secrets, &case_id, &new.offer_id, &stay, capacity, |conn| {
            // Whether the case has a court-ordered eviction now (it may have come after
            // the request).
            let eviction = match eviction {
                Some(e) => e,
                None => constraints::has_eviction(conn, secrets, &case_id)?.is_some(),
            };
            check_cap(conn, &case_id, eviction, new.funding, nights.len())
        })?;
        let id = uuid::Uuid::new_v4().to_string();
        let stamp = time::to_db(now);
        diesel::insert_into(housing_placements::table)
            .values((
                housing_placements::id.eq(&id),
                housing_placements::offer_id.eq(&new.offer_id),
                housing_placements::request_id.eq(request.as_ref().map(|r| r.id.clone())),
                housing_placements::case_id.eq(Some(&case_id)),
                housing_placements::organisation_id.eq(&centre),
                housing_placements::source.eq(source.as_str()),
                housing_placements::status.eq(PlacementStatus::Active.as_str()),
                housing_placements::created_by.eq(actor_label(&caller.actor())),
                housing_placements::created_at.eq(stamp),
                housing_placements::updated_at.eq(stamp),
                housing_placements::radius_factor.eq(radius_factor),
            ))
            .execute(conn)?;
        record_nights(conn, &id, &nights, new.funding, price)?;
        if let Some(row) = &request {
            // The platform's answer to the request's referral: accepted.
            crate::centres::referrals::settle_for_housing(
                conn,
                &row.referral_id,
                crate::centres::referrals::Settlement::Accepted,
                &actor_label(&caller.actor()),
                stamp,
            )?;
            crate::helpline::events::record_for_centre(
                conn,
                &centre,
                crate::helpline::events::kind::HOUSING_PLACED,
                &id,
                None,
            )?;
            let centre_id = crate::ids::OrganisationId::from_db(&centre);
            if let Some(to) = crate::centres::profiles::get(conn, centre_id)?.notify_email {
                crate::email::enqueue(
                    conn,
                    &to,
                    "Hébergement trouvé / Housing found",
                    &format!(
                        "Bonjour,\n\nLa plateforme a trouvé un hébergement du {first} au {last}.\nDétails : {{base}}/app/housing/placements/{id}\n\nHello,\n\nThe platform found housing from {first} to {last}.\nDetails: {{base}}/app/housing/placements/{id}\n\n— Relais\n",
                        first = new.first_night,
                        last = new.last_night
                    ),
                )?;
            }
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("placement.create")
                .object("placement", &id)
                .details(serde_json::json!({ "nights": nights.len(), "source": source.as_str() })),
        )?;
        load_view(conn, &id)
    })
}

fn load_view(conn: &mut DbConn, id: &str) -> Result<Placement> {
    let (offer_id, request_id, centre, source, status, created_at): (
        String,
        Option<String>,
        String,
        String,
        String,
        chrono::NaiveDateTime,
    ) = housing_placements::table
        .find(id)
        .select((
            housing_placements::offer_id,
            housing_placements::request_id,
            housing_placements::organisation_id,
            housing_placements::source,
            housing_placements::status,
            housing_placements::created_at,
        ))
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let (offer_name, address, commune): (String, String, String) = housing_offers::table
        .find(&offer_id)
        .select((housing_offers::name, housing_offers::address, housing_offers::commune))
        .first(conn)?;
    let rows: Vec<(NaiveDate, String, i64)> = housing_placement_nights::table
        .filter(housing_placement_nights::placement_id.eq(id))
        .order(housing_placement_nights::night.asc())
        .select((
            housing_placement_nights::night,
            housing_placement_nights::funding,
            housing_placement_nights::price_cents,
        ))
        .load(conn)?;
    let nights = rows
        .into_iter()
        .map(|(night, funding, price_cents)| {
            Ok(Night {
                night,
                funding: funding.parse()?,
                price_cents,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Placement {
        id: id.to_owned(),
        offer_id,
        offer_name,
        address,
        commune_name: crate::geo::names::commune(&commune),
        commune,
        request_id,
        centre_id: centre,
        source: source.parse()?,
        status: status.parse()?,
        first_night: nights.first().map(|n| n.night),
        last_night: nights.last().map(|n| n.night),
        cost_cents: nights.iter().map(|n| n.price_cents).sum(),
        nights,
        created_at: time::from_db(created_at),
    })
}

/// Who may change a placement: the platform's operators for theirs, a centre for what it
/// declared. The centre following a platform placement sees it, not more.
fn manageable(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<(String, String, Option<String>, String)> {
    let (offer, centre, case, source): (String, String, Option<String>, String) = housing_placements::table
        .find(id)
        .select((
            housing_placements::offer_id,
            housing_placements::organisation_id,
            housing_placements::case_id,
            housing_placements::source,
        ))
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let own_centre = centre == caller.organisation_id.to_string() && !caller.is_partner();
    let allowed = match source.as_str() {
        "platform" => requests::is_operator(caller),
        _ => own_centre && super::offers::manager(caller).is_ok(),
    };
    if allowed {
        Ok((offer, centre, case, source))
    } else if own_centre || requests::is_operator(caller) {
        Err(Error::Forbidden("this placement is managed by whoever made it".into()))
    } else {
        Err(Error::NotFound)
    }
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Placement> {
    let centre: String = housing_placements::table
        .find(id)
        .select(housing_placements::organisation_id)
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let own = centre == caller.organisation_id.to_string() && !caller.is_partner();
    if !own && !requests::is_operator(caller) {
        return Err(Error::NotFound);
    }
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("placement.read").object("placement", id),
    )?;
    load_view(conn, id)
}

/// Moves an active placement to `status` (or keeps it active, to lock it) in one conditional
/// update: of two concurrent changes on PostgreSQL, the second waits for the first and then
/// finds it no longer active. Conflict when it is not active.
fn claim_active(conn: &mut DbConn, id: &str, status: PlacementStatus, now: DateTime<Utc>) -> Result<()> {
    write_tx(conn, |conn| {
        let moved = diesel::update(
            housing_placements::table
                .find(id)
                .filter(housing_placements::status.eq(PlacementStatus::Active.as_str())),
        )
        .set((
            housing_placements::status.eq(status.as_str()),
            housing_placements::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
        if moved == 0 {
            return Err(Error::Conflict("the placement is no longer active".into()));
        }
        Ok(())
    })
}

/// Adds nights after the current last one.
#[allow(clippy::too_many_arguments)]
pub fn extend(
    conn: &mut DbConn,
    secrets: &Secrets,
    watch: &Watch,
    caller: &Caller,
    id: &str,
    last_night: NaiveDate,
    funding: Funding,
    now: DateTime<Utc>,
) -> Result<Placement> {
    let outcome = extend_checked(conn, secrets, caller, id, last_night, funding, now);
    count_refusal(conn, watch, caller, outcome)
}

fn extend_checked(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    id: &str,
    last_night: NaiveDate,
    funding: Funding,
    now: DateTime<Utc>,
) -> Result<Placement> {
    write_tx(conn, |conn| {
        let (offer, _, case, source) = manageable(conn, caller, id)?;
        claim_active(conn, id, PlacementStatus::Active, now)?;
        if source == "centre" && funding == Funding::Platform {
            return Err(Error::invalid(
                "funding",
                "a centre's own placement is funded by the centre or a partner",
            ));
        }
        let current = load_view(conn, id)?;
        let after = current
            .last_night
            .ok_or_else(|| Error::Conflict("a placement without nights".into()))?;
        let first = after
            .succ_opt()
            .ok_or_else(|| Error::invalid("last_night", "out of range"))?;
        let nights = nights_of(first, last_night)?;
        let case = case.ok_or_else(|| Error::Conflict("the case behind this placement was erased".into()))?;
        // The person's needs, as the request said them, and the factor the placement keeps.
        let (request, radius_factor): (Option<String>, f64) = housing_placements::table
            .find(id)
            .select((housing_placements::request_id, housing_placements::radius_factor))
            .first(conn)?;
        let needs = match request {
            Some(r) => requests::load(conn, &r)?.needs(),
            None => Needs::default(),
        };
        let stay = Stay {
            first,
            last: last_night,
            needs,
            radius_factor,
        };
        let (_, capacity, price, _) = offer_facts(conn, &offer)?;
        take_if_compatible(conn, secrets, &case, &offer, &stay, capacity, |conn| {
            let eviction = constraints::has_eviction(conn, secrets, &case)?.is_some();
            check_cap(conn, &case, eviction, funding, nights.len())
        })?;
        record_nights(conn, id, &nights, funding, price)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("placement.extend")
                .object("placement", id)
                .details(serde_json::json!({ "nights": nights.len() })),
        )?;
        load_view(conn, id)
    })
}

/// Ends a placement after `last_night` (early end), or, for a no-show, after its first night
/// (booked and owed). The nights given back free their places.
pub fn end(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    last_night: Option<NaiveDate>,
    no_show: bool,
    now: DateTime<Utc>,
) -> Result<Placement> {
    write_tx(conn, |conn| {
        let (offer, _, _, _) = manageable(conn, caller, id)?;
        let status = if no_show {
            PlacementStatus::NoShow
        } else {
            PlacementStatus::Ended
        };
        claim_active(conn, id, status, now)?;
        let current = load_view(conn, id)?;
        let keep_until = if no_show {
            current.first_night
        } else {
            let last = last_night.ok_or_else(|| Error::invalid("last_night", "the last night spent there"))?;
            if current.first_night.is_some_and(|f| last < f) || current.last_night.is_some_and(|l| last > l) {
                return Err(Error::invalid("last_night", "a night of the placement"));
            }
            Some(last)
        };
        let dropped: Vec<NaiveDate> = current
            .nights
            .iter()
            .map(|n| n.night)
            .filter(|n| keep_until.is_some_and(|k| *n > k))
            .collect();
        release(conn, &offer, &dropped)?;
        diesel::delete(
            housing_placement_nights::table
                .filter(housing_placement_nights::placement_id.eq(id))
                .filter(housing_placement_nights::night.eq_any(&dropped)),
        )
        .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("placement.end")
                .object("placement", id)
                .details(serde_json::json!({ "status": status.as_str(), "nights_released": dropped.len() })),
        )?;
        load_view(conn, id)
    })
}

/// Where the case's author is housed, for the centre that follows them only.
pub fn of_case(conn: &mut DbConn, caller: &Caller, case_id: &str) -> Result<Vec<Placement>> {
    crate::cases::files::exists(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("placement.list").object("case", case_id),
    )?;
    let ids: Vec<String> = housing_placements::table
        .filter(housing_placements::case_id.eq(case_id))
        .order(housing_placements::created_at.desc())
        .select(housing_placements::id)
        .load(conn)?;
    ids.iter().map(|id| load_view(conn, id)).collect()
}

/// What the following centre and the platform are told of a placement that a rule arrived
/// later for: nothing of where or why.
pub const NO_LONGER_COMPATIBLE: &str = "Cet hébergement n'est plus compatible avec les règles du dossier. / This housing is no longer compatible with the case's rules.";

/// A rule that arrives later (a new protected person, a moved location, a new ban) re-checks
/// the case's active placements that still have nights from today on, at each one's stored
/// factor step. One that no longer complies is flagged, in the transaction of the rule's
/// change, to the following centre and the housing platform (live event
/// `housing.placement_noncompliant` and email), saying only "no longer compatible"; audited.
/// Returns the placements flagged.
pub fn recheck_case(conn: &mut DbConn, secrets: &Secrets, case_id: &str, now: DateTime<Utc>) -> Result<Vec<String>> {
    let today = now.date_naive();
    let rows: Vec<(String, String, String, f64)> = housing_placements::table
        .filter(housing_placements::case_id.eq(case_id))
        .filter(housing_placements::status.eq(PlacementStatus::Active.as_str()))
        .select((
            housing_placements::id,
            housing_placements::offer_id,
            housing_placements::organisation_id,
            housing_placements::radius_factor,
        ))
        .load(conn)?;
    let mut flagged = Vec::new();
    for (id, offer, centre, radius_factor) in rows {
        let ahead: i64 = housing_placement_nights::table
            .filter(housing_placement_nights::placement_id.eq(&id))
            .filter(housing_placement_nights::night.ge(today))
            .count()
            .get_result(conn)?;
        if ahead == 0 {
            continue;
        }
        let Some(entry) = super::offers::entries_of(conn, &[offer.as_str()])?.into_iter().next() else {
            continue;
        };
        let rules = constraints::of_case(conn, secrets, case_id, today)?;
        let query = Query {
            constraints: &rules,
            radius_factor,
            near: None,
            first_night: today,
            last_night: today,
            needs: Needs::default(),
            limit: 1,
            examine: 1,
            area: SearchArea::Anywhere,
        };
        if OfferIndex::allowed_place(&entry, &query) {
            continue;
        }
        flag_noncompliant(conn, &id, &centre)?;
        flagged.push(id);
    }
    Ok(flagged)
}

fn flag_noncompliant(conn: &mut DbConn, id: &str, centre: &str) -> Result<()> {
    use crate::helpline::events::{self, kind};
    events::record_for_centre(conn, centre, kind::HOUSING_NONCOMPLIANT, id, None)?;
    let mut told = vec![crate::ids::OrganisationId::from_db(centre)];
    for platform in crate::accounts::organisations::all_of_kind(conn, OrganisationKind::HousingPlatform)? {
        if platform.id.to_string() != centre {
            events::record_for_centre(conn, &platform.id.to_string(), kind::HOUSING_NONCOMPLIANT, id, None)?;
            told.push(platform.id);
        }
    }
    for organisation in told {
        let to = crate::centres::profiles::get(conn, organisation)
            .ok()
            .and_then(|p| p.notify_email);
        if let Some(to) = to {
            crate::email::enqueue(
                conn,
                &to,
                "Hébergement à revoir / Housing to review",
                &format!(
                    "Bonjour,\n\n{NO_LONGER_COMPATIBLE}\nDétails : {{base}}/app/housing/placements/{id}\n\n— Relais\n"
                ),
            )?;
        }
    }
    audit::record(
        conn,
        &crate::access::Actor::SYSTEM,
        Entry::new("placement.noncompliant").object("placement", id),
    )?;
    Ok(())
}
