//! Housing requests: a centre asks the platform to house the author of one of its cases. Each
//! request is also a referral to the platform (the same state machine: pending, accepted or
//! rejected, done). The platform sees the request (dates, urgency, needs, how many rules
//! apply), never the case; the constraints are read from the case on the server at matching.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::model::{RequestStatus, UnmetReason, Urgency};
use super::protective_disc::{DEFAULT_FACTOR, step_index};
use crate::access::Caller;
use crate::accounts::model::{OrganisationKind, Role};
use crate::accounts::organisations;
use crate::audit::{self, Entry};
use crate::centres::model::LegalBasis;
use crate::centres::referrals::{self, NewReferral, actor_label};
use crate::crypto::Secrets;
use crate::db::schema::{housing_placements, housing_requests};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::page::{Cursor, Page, PageRequest};
use crate::time;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = housing_requests)]
pub(crate) struct Row {
    pub id: String,
    pub case_id: Option<String>,
    pub organisation_id: String,
    pub referral_id: String,
    pub first_night: NaiveDate,
    pub last_night: NaiveDate,
    pub urgency: String,
    pub needs_accessible: bool,
    pub needs_pets: bool,
    pub needs_couple: bool,
    pub court_eviction: bool,
    pub status: String,
    pub unmet_reason: Option<String>,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    /// The exclusion factor step the following centre set (see `protective_disc`).
    pub radius_factor: f64,
}

impl Row {
    /// What the person needs, as the request says.
    pub(crate) fn needs(&self) -> super::matching::Needs {
        super::matching::Needs {
            accessible: self.needs_accessible,
            pets: self.needs_pets,
            couple: self.needs_couple,
        }
    }
}

/// A request as the platform and the requesting centre see it: no case id for the platform.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Request {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    pub centre_id: String,
    pub centre_name: String,
    pub referral_id: String,
    pub first_night: NaiveDate,
    pub last_night: NaiveDate,
    pub nights: i64,
    pub urgency: Urgency,
    pub needs: NeedsView,
    pub court_eviction: bool,
    /// The exclusion factor step the following centre set: one of 1, 1.5 or 2.
    pub radius_factor: f64,
    pub status: RequestStatus,
    pub unmet_reason: Option<UnmetReason>,
    pub created_at: DateTime<Utc>,
    pub age_hours: i64,
    /// The placements made for this request, oldest first.
    pub placement_ids: Vec<String>,
}

#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct NeedsView {
    pub accessible: bool,
    pub pets: bool,
    pub couple: bool,
}

pub(crate) fn view(conn: &mut DbConn, row: Row, caller: &Caller, now: DateTime<Utc>) -> Result<Request> {
    let centre = organisations::find(conn, crate::ids::OrganisationId::from_db(&row.organisation_id))?;
    let created = time::from_db(row.created_at);
    let own = row.organisation_id == caller.organisation_id.to_string();
    let placement_ids = housing_placements::table
        .filter(housing_placements::request_id.eq(&row.id))
        .order((housing_placements::created_at.asc(), housing_placements::id.asc()))
        .select(housing_placements::id)
        .load::<String>(conn)?;
    Ok(Request {
        placement_ids,
        case_id: if own { row.case_id } else { None },
        centre_id: row.organisation_id,
        centre_name: centre.name,
        nights: (row.last_night - row.first_night).num_days() + 1,
        urgency: row.urgency.parse()?,
        needs: NeedsView {
            accessible: row.needs_accessible,
            pets: row.needs_pets,
            couple: row.needs_couple,
        },
        status: row.status.parse()?,
        unmet_reason: row.unmet_reason.map(|r| r.parse()).transpose()?,
        created_at: created,
        age_hours: (now - created).num_hours().max(0),
        id: row.id,
        referral_id: row.referral_id,
        first_night: row.first_night,
        last_night: row.last_night,
        court_eviction: row.court_eviction,
        radius_factor: row.radius_factor,
    })
}

pub struct NewRequest {
    pub first_night: NaiveDate,
    pub last_night: NaiveDate,
    pub urgency: Urgency,
    pub needs: NeedsView,
    /// One of the fixed steps (checked here); the default is the largest.
    pub radius_factor: Option<f64>,
}

/// The platform (the one organisation of that kind).
pub(crate) fn platform(conn: &mut DbConn) -> Result<crate::accounts::model::Organisation> {
    organisations::all_of_kind(conn, OrganisationKind::HousingPlatform)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Conflict("no housing platform is set up".into()))
}

/// A centre asks for housing for one of its cases.
pub fn create(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    case_id: &str,
    new: NewRequest,
    now: DateTime<Utc>,
) -> Result<Request> {
    let nights = (new.last_night - new.first_night).num_days() + 1;
    if nights < 1 {
        return Err(Error::invalid(
            "last_night",
            "the last night comes on or after the first",
        ));
    }
    if nights > 366 {
        return Err(Error::invalid("last_night", "at most 366 nights at once"));
    }
    let radius_factor = new.radius_factor.unwrap_or(DEFAULT_FACTOR);
    if step_index(radius_factor).is_none() {
        return Err(Error::invalid("radius_factor", "one of 1, 1.5 or 2 (the default)"));
    }
    write_tx(conn, |conn| {
        crate::cases::files::exists(conn, caller, case_id)?;
        let platform = platform(conn)?;
        let id = uuid::Uuid::new_v4().to_string();
        let eviction = super::constraints::has_eviction(conn, secrets, case_id)?;
        let basis = match &eviction {
            // The platform learns there is a court-ordered eviction, not the court's docket.
            Some(m) => LegalBasis::CourtOrdered {
                authority: m.authority.parse()?,
                decision_reference: "non communiquée / withheld".into(),
                ends_on: m.ends_on.unwrap_or(new.last_night),
            },
            None => LegalBasis::Voluntary { consent_at: now },
        };
        let referral = referrals::create_to(
            conn,
            secrets,
            &caller.actor(),
            NewReferral {
                source: caller.organisation_id,
                target: platform.id,
                subject_alias: format!("Hébergement {}", &id[..8]),
                conversation_id: None,
                summary: format!(
                    "Demande d'hébergement du {} au {} ({} nuits). / Housing request from {} to {} ({} nights).",
                    new.first_night, new.last_night, nights, new.first_night, new.last_night, nights
                ),
                basis,
                partner_reference: None,
            },
            OrganisationKind::HousingPlatform,
        )?;
        let stamp = time::to_db(now);
        let row = Row {
            id: id.clone(),
            case_id: Some(case_id.to_owned()),
            organisation_id: caller.organisation_id.to_string(),
            referral_id: referral,
            first_night: new.first_night,
            last_night: new.last_night,
            urgency: new.urgency.as_str().into(),
            needs_accessible: new.needs.accessible,
            needs_pets: new.needs.pets,
            needs_couple: new.needs.couple,
            court_eviction: eviction.is_some(),
            status: RequestStatus::Open.as_str().into(),
            unmet_reason: None,
            created_by: actor_label(&caller.actor()),
            created_at: stamp,
            updated_at: stamp,
            radius_factor,
        };
        diesel::insert_into(housing_requests::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("housing_request.create")
                .object("housing_request", &id)
                .details(serde_json::json!({ "case": case_id })),
        )?;
        view(conn, row, caller, now)
    })
}

pub(crate) fn is_operator(caller: &Caller) -> bool {
    caller.organisation_kind == OrganisationKind::HousingPlatform && caller.has_role(Role::HousingOperator)
}

pub(crate) fn load(conn: &mut DbConn, id: &str) -> Result<Row> {
    housing_requests::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// The platform's operators and the requesting centre; anyone else 404.
pub(crate) fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Row> {
    let row = load(conn, id)?;
    if is_operator(caller) || (row.organisation_id == caller.organisation_id.to_string() && !caller.is_partner()) {
        Ok(row)
    } else {
        Err(Error::NotFound)
    }
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: &str, now: DateTime<Utc>) -> Result<Request> {
    let row = visible(conn, caller, id)?;
    view(conn, row, caller, now)
}

/// The operators' queue (open requests, tonight first, then the oldest), or a centre's own,
/// one page at a time.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    status: Option<RequestStatus>,
    now: DateTime<Utc>,
    page: &PageRequest,
) -> Result<Page<Request>> {
    let mut query = housing_requests::table.into_boxed();
    if !is_operator(caller) {
        if caller.organisation_kind != OrganisationKind::Centre || caller.is_partner() {
            return Err(Error::NotFound);
        }
        query = query.filter(housing_requests::organisation_id.eq(caller.organisation_id.to_string()));
    }
    query = query.filter(housing_requests::status.eq(status.unwrap_or(RequestStatus::Open).as_str()));
    let tonight = Urgency::Tonight.as_str();
    // Ranked: 0 for tonight's requests, 1 for the others; then the oldest first.
    if let Some(after) = &page.after {
        let later = housing_requests::created_at
            .gt(after.at)
            .or(housing_requests::created_at
                .eq(after.at)
                .and(housing_requests::id.gt(after.id.clone())));
        query = match after.rank(0)? {
            0 => query.filter(
                housing_requests::urgency
                    .ne(tonight)
                    .or(housing_requests::urgency.eq(tonight).and(later)),
            ),
            _ => query.filter(housing_requests::urgency.ne(tonight).and(later)),
        };
    }
    let rows: Vec<Row> = query
        .order((
            housing_requests::urgency.eq(tonight).desc(),
            housing_requests::created_at.asc(),
            housing_requests::id.asc(),
        ))
        .limit(page.fetch())
        .select(Row::as_select())
        .load(conn)?;
    Page::from_rows(
        rows,
        page,
        |r| Cursor {
            rank: vec![i64::from(r.urgency != tonight)],
            ..Cursor::at(r.created_at, &r.id)
        },
        |r| view(conn, r, caller, now),
    )
}

/// The platform could not house the person: why, for the inventory.
pub fn mark_unmet(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    reason: UnmetReason,
    now: DateTime<Utc>,
) -> Result<Request> {
    if !is_operator(caller) {
        visible(conn, caller, id)?;
        return Err(Error::Forbidden("the platform's operators close a request".into()));
    }
    write_tx(conn, |conn| {
        let row = load(conn, id)?;
        let closed = diesel::update(
            housing_requests::table
                .find(id)
                .filter(housing_requests::status.eq(RequestStatus::Open.as_str())),
        )
        .set((
            housing_requests::status.eq(RequestStatus::Unmet.as_str()),
            housing_requests::unmet_reason.eq(Some(reason.as_str())),
            housing_requests::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
        if closed == 0 {
            return Err(Error::Conflict(format!(
                "a {} request cannot be closed as unmet",
                row.status
            )));
        }
        // The platform's answer to the referral: rejected, with the reason.
        referrals::settle_for_housing(
            conn,
            &row.referral_id,
            referrals::Settlement::Rejected(format!("hébergement non trouvé / not housed: {}", reason.as_str())),
            &actor_label(&caller.actor()),
            time::to_db(now),
        )?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("housing_request.unmet")
                .object("housing_request", id)
                .details(serde_json::json!({ "reason": reason.as_str() })),
        )?;
        let row = load(conn, id)?;
        view(conn, row, caller, now)
    })
}

/// The requesting centre withdraws an open request (the person found a place, or no longer
/// needs one); its referral to the platform is revoked.
pub fn withdraw(conn: &mut DbConn, caller: &Caller, id: &str, now: DateTime<Utc>) -> Result<Request> {
    write_tx(conn, |conn| {
        let row = visible(conn, caller, id)?;
        if row.organisation_id != caller.organisation_id.to_string() {
            return Err(Error::Forbidden("the requesting centre withdraws its request".into()));
        }
        super::offers::manager(caller)?;
        let stamp = time::to_db(now);
        let withdrawn = diesel::update(
            housing_requests::table
                .find(id)
                .filter(housing_requests::status.eq(RequestStatus::Open.as_str())),
        )
        .set((
            housing_requests::status.eq(RequestStatus::Withdrawn.as_str()),
            housing_requests::updated_at.eq(stamp),
        ))
        .execute(conn)?;
        if withdrawn == 0 {
            return Err(Error::Conflict(format!("a {} request cannot be withdrawn", row.status)));
        }
        referrals::settle_for_housing(
            conn,
            &row.referral_id,
            referrals::Settlement::Revoked,
            &actor_label(&caller.actor()),
            stamp,
        )?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("housing_request.withdraw").object("housing_request", id),
        )?;
        let row = load(conn, id)?;
        view(conn, row, caller, now)
    })
}

/// A request whose referral to the platform was revoked (by the centre) or rejected (by the
/// platform) is not matched or placed.
pub(crate) fn referral_still_wanted(conn: &mut DbConn, referral_id: &str) -> Result<()> {
    use crate::db::schema::referrals;
    let status: String = referrals::table
        .find(referral_id)
        .select(referrals::status)
        .first(conn)?;
    if matches!(status.as_str(), "pending" | "accepted") {
        Ok(())
    } else {
        Err(Error::Conflict(format!("the request's referral was {status}")))
    }
}
