//! The helpline's records besides conversations: canned replies (supervisors write them,
//! listeners use them), the phone-call log, and statistics over a period (supervisors in
//! full; the national coordinator with counts under 5 suppressed).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use relais_core::accounts::model::{OrganisationKind, Role};
use relais_core::helpline::model::{ContactKind, Language};
use relais_core::helpline::{calls, canned, statistics};
use relais_core::ids::CannedReplyId;

use crate::auth::{HelplineStaff, Staff};
use crate::body::Body;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

const SUPERVISORS: &[Role] = &[Role::HelplineSupervisor];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageQuery {
    language: Option<Language>,
}

pub async fn list_canned(
    state: web::Data<AppState>,
    _: HelplineStaff,
    query: crate::query::Query<LanguageQuery>,
) -> ApiResult<HttpResponse> {
    let language = query.into_inner().language;
    let items = state.db(move |conn| canned::list(conn, language)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCanned {
    language: Language,
    title: String,
    body: String,
}

pub async fn create_canned(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    body: Body<NewCanned>,
) -> ApiResult<HttpResponse> {
    auth.require(SUPERVISORS)?;
    let b = body.into_inner();
    let created = state
        .db(move |conn| canned::create(conn, &caller, b.language, &b.title, &b.body))
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedChanges {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

pub async fn update_canned(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<CannedReplyId>,
    body: Body<CannedChanges>,
) -> ApiResult<HttpResponse> {
    auth.require(SUPERVISORS)?;
    let id = path.to_string();
    let b = body.into_inner();
    let updated = state
        .db(move |conn| canned::update(conn, &caller, &id, b.title.as_deref(), b.body.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

pub async fn delete_canned(
    state: web::Data<AppState>,
    HelplineStaff { caller, auth }: HelplineStaff,
    path: web::Path<CannedReplyId>,
) -> ApiResult<HttpResponse> {
    auth.require(SUPERVISORS)?;
    let id = path.to_string();
    state.db(move |conn| canned::delete(conn, &caller, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    started_at: DateTime<Utc>,
    duration_seconds: i32,
    caller_kind: ContactKind,
    #[serde(default)]
    topics: Option<Vec<String>>,
    outcome: String,
    #[serde(default)]
    centre_id: Option<uuid::Uuid>,
}

pub async fn log_call(
    state: web::Data<AppState>,
    HelplineStaff { caller, .. }: HelplineStaff,
    body: Body<NewCall>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let new = calls::NewCall {
        started_at: super::sane_instant("started_at", b.started_at)?,
        duration_seconds: b.duration_seconds,
        caller_kind: b.caller_kind,
        topics: b.topics.unwrap_or_default(),
        outcome: b.outcome,
        centre_id: b.centre_id.map(|c| c.to_string()),
    };
    let call = state.db(move |conn| calls::log(conn, &caller, new)).await?;
    Ok(HttpResponse::Created().json(call))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

impl Period {
    /// Defaults to the 30 days up to `now` (the server's clock); at most a year and a day.
    /// Its fields are query parameters: errors name them as such.
    fn resolve(&self, now: DateTime<Utc>) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
        let to = super::sane_instant("to", self.to.unwrap_or(now)).map_err(super::in_query)?;
        if let Some(from) = self.from {
            super::sane_instant("from", from).map_err(super::in_query)?;
        }
        let from = match self.from {
            Some(from) => from,
            None => to
                .checked_sub_signed(Duration::days(30))
                .ok_or_else(|| super::invalid_parameter("to", "out of range"))?,
        };
        if from >= to {
            return Err(super::invalid_parameter("from", "must be before to"));
        }
        if to - from > Duration::days(367) {
            return Err(super::invalid_parameter("from", "a period covers at most a year"));
        }
        Ok((from, to))
    }
}

pub async fn list_calls(
    state: web::Data<AppState>,
    _: HelplineStaff,
    query: crate::query::Query<Period>,
) -> ApiResult<HttpResponse> {
    let (from, to) = query.resolve(state.clock.now())?;
    let page = super::page_request(query.limit, query.cursor.as_deref())?;
    let page = state.db(move |conn| calls::list(conn, from, to, &page)).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(serde::Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsQuery {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    format: Option<Format>,
}

pub async fn statistics(
    state: web::Data<AppState>,
    Staff { caller, auth }: Staff,
    query: crate::query::Query<StatisticsQuery>,
) -> ApiResult<HttpResponse> {
    let suppress = match caller.organisation_kind {
        OrganisationKind::National if caller.has_role(Role::NationalCoordinator) => Some(5),
        OrganisationKind::Helpline => {
            auth.require(SUPERVISORS)?;
            None
        }
        _ => return Err(ApiError::NotFound),
    };
    let query = query.into_inner();
    let (from, to) = Period {
        from: query.from,
        to: query.to,
        limit: None,
        cursor: None,
    }
    .resolve(state.clock.now())?;
    let stats = state
        .read_replica(move |conn| statistics::compute(conn, from, to, suppress))
        .await?;
    if query.format == Some(Format::Csv) {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(stats.to_csv()));
    }
    Ok(HttpResponse::Ok().json(stats))
}
