//! The national housing platform over HTTP: offers (the platform's operators; centres for
//! their own), housing requests from cases, proposals that respect every court ban,
//! placements night by night, and the national inventory (JSON or CSV).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use relais_core::housing::inventory;
use relais_core::housing::model::{Funding, OfferKind, RequestStatus, UnmetReason, Urgency};
use relais_core::housing::offers::{self, NewOffer};
use relais_core::housing::placements::{self, NewPlacement};
use relais_core::housing::proposals;
use relais_core::housing::requests::{self, NeedsView, NewRequest};
use relais_core::ids::{CaseId, HousingRequestId, OfferId, PlacementId};

use crate::auth::{CentreStaff, Staff};
use crate::body::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferBody {
    kind: OfferKind,
    name: String,
    provider: String,
    address: String,
    commune: String,
    latitude: f64,
    longitude: f64,
    capacity: i32,
    price_cents: i64,
    #[serde(default)]
    accessible: Option<bool>,
    #[serde(default)]
    pets: Option<bool>,
    #[serde(default)]
    couples: Option<bool>,
    #[serde(default)]
    hosts_victims: Option<bool>,
    available_from: NaiveDate,
    #[serde(default)]
    available_until: Option<NaiveDate>,
    #[serde(default)]
    active: Option<bool>,
}

impl OfferBody {
    fn parse(self) -> ApiResult<(NewOffer, bool)> {
        super::sane_date("available_from", self.available_from)?;
        if let Some(until) = self.available_until {
            super::sane_date("available_until", until)?;
        }
        Ok((
            NewOffer {
                kind: self.kind,
                name: self.name,
                provider: self.provider,
                address: self.address,
                commune: self.commune,
                latitude: self.latitude,
                longitude: self.longitude,
                capacity: self.capacity,
                price_cents: self.price_cents,
                accessible: self.accessible.unwrap_or(false),
                pets: self.pets.unwrap_or(false),
                couples: self.couples.unwrap_or(false),
                hosts_victims: self.hosts_victims.unwrap_or(false),
                available_from: self.available_from,
                available_until: self.available_until,
            },
            self.active.unwrap_or(true),
        ))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferQuery {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

/// The organisation's offers, by name, by pages.
pub async fn list_offers(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    query: crate::query::Query<OfferQuery>,
) -> ApiResult<HttpResponse> {
    let page = super::page_request(query.limit, query.cursor.as_deref())?;
    let page = state.db(move |conn| offers::list(conn, &caller, &page)).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn create_offer(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    body: Body<OfferBody>,
) -> ApiResult<HttpResponse> {
    let (new, _) = body.into_inner().parse()?;
    let shared = state.clone();
    let offer = state
        .db(move |conn| {
            offers::create(
                conn,
                &shared.geo,
                &shared.secrets,
                Some(&shared.settings.security),
                &caller,
                new,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(offer))
}

pub async fn get_offer(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<OfferId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let offer = state.db(move |conn| offers::get(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(offer))
}

pub async fn update_offer(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<OfferId>,
    body: Body<OfferBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let (new, active) = body.into_inner().parse()?;
    let shared = state.clone();
    let offer = state
        .db(move |conn| {
            offers::update(
                conn,
                &shared.geo,
                &shared.secrets,
                &shared.settings.security,
                &caller,
                &id,
                new,
                active,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(offer))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    first_night: NaiveDate,
    last_night: NaiveDate,
    urgency: Urgency,
    #[serde(default)]
    needs: Option<NeedsBody>,
    #[serde(default)]
    radius_factor: Option<f64>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NeedsBody {
    #[serde(default)]
    accessible: Option<bool>,
    #[serde(default)]
    pets: Option<bool>,
    #[serde(default)]
    couple: Option<bool>,
}

pub async fn create_request(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<RequestBody>,
) -> ApiResult<HttpResponse> {
    let case = path.to_string();
    let b = body.into_inner();
    let needs = b.needs.unwrap_or_default();
    let new = NewRequest {
        first_night: super::sane_date("first_night", b.first_night)?,
        last_night: super::sane_date("last_night", b.last_night)?,
        urgency: b.urgency,
        needs: NeedsView {
            accessible: needs.accessible.unwrap_or(false),
            pets: needs.pets.unwrap_or(false),
            couple: needs.couple.unwrap_or(false),
        },
        radius_factor: b.radius_factor,
    };
    let now = state.clock.now();
    let request = state
        .db_sealed(move |conn, secrets| requests::create(conn, secrets, &caller, &case, new, now))
        .await?;
    Ok(HttpResponse::Created().json(request))
}

/// Where the case's author is housed: the following centre only.
pub async fn case_housing(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let case = path.to_string();
    let items = state.db(move |conn| placements::of_case(conn, &caller, &case)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "placements": items })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    #[serde(default)]
    status: Option<RequestStatus>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

pub async fn list_requests(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    query: crate::query::Query<RequestQuery>,
) -> ApiResult<HttpResponse> {
    let status = query.status;
    let now = state.clock.now();
    let page = super::page_request(query.limit, query.cursor.as_deref())?;
    let page = state
        .db(move |conn| requests::list(conn, &caller, status, now, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn get_request(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<HousingRequestId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let now = state.clock.now();
    let request = state.db(move |conn| requests::get(conn, &caller, &id, now)).await?;
    Ok(HttpResponse::Ok().json(request))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn proposals(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<HousingRequestId>,
    query: crate::query::Query<ProposalQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let limit = query.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(super::invalid("limit", "1 to 50"));
    }
    let shared = state.clone();
    let found = state
        .db(move |conn| {
            proposals::for_request(
                conn,
                &shared.secrets,
                &shared.geo,
                Some(shared.settings.housing.search_radius_km),
                &shared.settings.security,
                &shared.housing_index,
                &caller,
                &id,
                limit,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnmetBody {
    reason: UnmetReason,
}

pub async fn mark_unmet(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<HousingRequestId>,
    body: Body<UnmetBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let reason = body.into_inner().reason;
    let now = state.clock.now();
    let request = state
        .db(move |conn| requests::mark_unmet(conn, &caller, &id, reason, now))
        .await?;
    Ok(HttpResponse::Ok().json(request))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementBody {
    #[serde(default)]
    request_id: Option<uuid::Uuid>,
    #[serde(default)]
    case_id: Option<uuid::Uuid>,
    offer_id: uuid::Uuid,
    first_night: NaiveDate,
    last_night: NaiveDate,
    funding: Funding,
}

pub async fn place(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    body: Body<PlacementBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let new = NewPlacement {
        request_id: b.request_id.map(|r| r.to_string()),
        case_id: b.case_id.map(|c| c.to_string()),
        offer_id: b.offer_id.to_string(),
        first_night: super::sane_date("first_night", b.first_night)?,
        last_night: super::sane_date("last_night", b.last_night)?,
        funding: b.funding,
    };
    let now = state.clock.now();
    let shared = state.clone();
    let placement = state
        .db(move |conn| placements::place(conn, &shared.secrets, &shared.settings.security, &caller, new, now))
        .await?;
    state.live.signal().await;
    Ok(HttpResponse::Created().json(placement))
}

pub async fn get_placement(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<PlacementId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let placement = state.db(move |conn| placements::get(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(placement))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    last_night: NaiveDate,
    funding: Funding,
}

pub async fn extend(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<PlacementId>,
    body: Body<ExtendBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    let last = super::sane_date("last_night", b.last_night)?;
    let now = state.clock.now();
    let shared = state.clone();
    let placement = state
        .db(move |conn| {
            placements::extend(
                conn,
                &shared.secrets,
                &shared.settings.security,
                &caller,
                &id,
                last,
                b.funding,
                now,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(placement))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndBody {
    last_night: NaiveDate,
}

pub async fn end(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<PlacementId>,
    body: Body<EndBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let last = super::sane_date("last_night", body.into_inner().last_night)?;
    let now = state.clock.now();
    let placement = state
        .db(move |conn| placements::end(conn, &caller, &id, Some(last), false, now))
        .await?;
    Ok(HttpResponse::Ok().json(placement))
}

pub async fn no_show(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<PlacementId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let now = state.clock.now();
    let placement = state
        .db(move |conn| placements::end(conn, &caller, &id, None, true, now))
        .await?;
    Ok(HttpResponse::Ok().json(placement))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    to: Option<NaiveDate>,
    #[serde(default)]
    format: Option<String>,
}

pub async fn inventory(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    query: crate::query::Query<InventoryQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let from = q
        .from
        .map(|d| super::sane_date("from", d))
        .transpose()
        .map_err(super::in_query)?;
    let to =
        q.to.map(|d| super::sane_date("to", d))
            .transpose()
            .map_err(super::in_query)?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(super::invalid_parameter("format", "json or csv")),
    };
    let now = state.clock.now();
    let shared = state.clone();
    let built = state
        .db(move |conn| inventory::read(conn, &shared.geo, &caller, from, to, now))
        .await?;
    if csv {
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("Content-Disposition", "attachment; filename=\"etat-des-lieux.csv\""))
            .body(inventory::to_csv(&built)))
    } else {
        Ok(HttpResponse::Ok().json(built))
    }
}

pub async fn withdraw(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<HousingRequestId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let now = state.clock.now();
    let request = state
        .db(move |conn| requests::withdraw(conn, &caller, &id, now))
        .await?;
    Ok(HttpResponse::Ok().json(request))
}
