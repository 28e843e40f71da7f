//! Case files over HTTP, for the owning centre's practitioners and managers only: anyone
//! else (another centre, the helpline, the housing platform, the ministry, a partner key)
//! gets 404, as if the case did not exist. Every read and write is audited in core.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use relais_core::accounts::model::Role;
use relais_core::cases::files::{self, CaseChanges, NewCase};
use relais_core::cases::measures::{self, NewMeasure, Zone};
use relais_core::cases::model::{CaseStatus, Identity, MeasureKind, Origin, SessionKind, SessionStatus};
use relais_core::cases::protected::{self, Location, NewProtectedPerson};
use relais_core::cases::records;
use relais_core::cases::rights;
use relais_core::cases::sessions::{self, NewSession};
use relais_core::centres::model::{Authority, LegalBasisKind};
use relais_core::idempotency;
use relais_core::ids::{CaseId, CaseNoteId, CaseSessionId, TaskId, UserId};

use super::{idempotency_key, to_json};
use crate::auth::CentreStaff;
use crate::body::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    #[serde(default)]
    referral_id: Option<uuid::Uuid>,
    #[serde(default)]
    appointment_id: Option<uuid::Uuid>,
    #[serde(default)]
    origin: Option<Origin>,
    #[serde(default)]
    legal_basis: Option<LegalBasisKind>,
    #[serde(default)]
    identity: Option<Identity>,
    #[serde(default)]
    practitioner_ids: Option<Vec<uuid::Uuid>>,
}

pub async fn create(
    state: web::Data<AppState>,
    CentreStaff { caller, auth }: CentreStaff,
    req: HttpRequest,
    body: Body<NewCaseBody>,
) -> ApiResult<HttpResponse> {
    let (scope, key) = idempotency_key(&req, &auth)?;
    let b = body.into_inner();
    let new = NewCase {
        referral_id: b.referral_id.map(|r| r.to_string()),
        appointment_id: b.appointment_id.map(|a| a.to_string()),
        origin: b.origin,
        legal_basis: b.legal_basis,
        identity: b.identity.unwrap_or_default(),
        practitioner_ids: b
            .practitioner_ids
            .unwrap_or_default()
            .into_iter()
            .map(UserId::from)
            .collect(),
    };
    let created = state
        .db_sealed(move |conn, secrets| {
            idempotency::once(conn, &scope, key.as_deref(), "cases.create", |conn| {
                to_json(files::create(conn, secrets, &caller, new)?)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<CaseStatus>,
    /// Words of the person's name, or the start of the case's number.
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

/// The centre's cases, newest first, by pages.
pub async fn list(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    query: crate::query::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let status = query.status;
    let page = super::page_request(query.limit, query.cursor.as_deref())?;
    if let Some(q) = &query.q {
        if query.cursor.is_some() {
            return Err(super::invalid_parameter(
                "cursor",
                "a search answers in one page: no cursor with q",
            ));
        }
        let search = files::CaseSearch::parse(q).map_err(|e| super::in_query(e.into()))?;
        let limit = page.limit as usize;
        let items = state
            .db_sealed(move |conn, secrets| files::search(conn, secrets, &caller, status, &search, limit))
            .await?;
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items, "next_cursor": null })));
    }
    let page = state
        .db_sealed(move |conn, secrets| files::list(conn, secrets, &caller, status, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn get(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let case = state
        .db_sealed(move |conn, secrets| files::get(conn, secrets, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(case))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseChangesBody {
    #[serde(default)]
    status: Option<CaseStatus>,
    #[serde(default)]
    close_reason: Option<String>,
    #[serde(default)]
    identity: Option<Identity>,
    #[serde(default)]
    practitioner_ids: Option<Vec<uuid::Uuid>>,
}

pub async fn update(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<CaseChangesBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    let changes = CaseChanges {
        status: b.status,
        close_reason: b.close_reason,
        identity: b.identity,
        practitioner_ids: b
            .practitioner_ids
            .map(|ids| ids.into_iter().map(UserId::from).collect()),
    };
    let case = state
        .db_sealed(move |conn, secrets| files::update(conn, secrets, &caller, &id, changes))
        .await?;
    Ok(HttpResponse::Ok().json(case))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureBody {
    kind: MeasureKind,
    authority: Authority,
    decision_reference: String,
    starts_on: NaiveDate,
    #[serde(default)]
    ends_on: Option<NaiveDate>,
    #[serde(default)]
    sessions_required: Option<i32>,
    #[serde(default)]
    zone: Option<Zone>,
    #[serde(default)]
    protected_person_ids: Option<Vec<uuid::Uuid>>,
}

pub async fn add_measure(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<MeasureBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    super::sane_date("starts_on", b.starts_on)?;
    if let Some(end) = b.ends_on {
        super::sane_date("ends_on", end)?;
    }
    let new = NewMeasure {
        kind: b.kind,
        authority: b.authority,
        decision_reference: b.decision_reference,
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        sessions_required: b.sessions_required,
        zone: b.zone,
        protected_person_ids: b
            .protected_person_ids
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.to_string())
            .collect(),
    };
    let (shared, now) = (state.clone(), state.clock.now());
    let measure = state
        .db(move |conn| measures::add(conn, &shared.secrets, &shared.geo, &caller, &id, new, now))
        .await?;
    // A placement this rule re-checked may have been flagged: tell the live apps.
    state.live.signal().await;
    Ok(HttpResponse::Created().json(measure))
}

pub async fn list_measures(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let items = state
        .db_sealed(move |conn, secrets| measures::list(conn, secrets, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    #[serde(default)]
    address: Option<String>,
    latitude: f64,
    longitude: f64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedPersonBody {
    label: String,
    location: LocationBody,
    radius_km: i32,
}

/// The location is written, never read back: the answer holds the label and radius only.
pub async fn add_protected_person(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<ProtectedPersonBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    let new = NewProtectedPerson {
        label: b.label,
        location: Location {
            address: b.location.address,
            latitude: b.location.latitude,
            longitude: b.location.longitude,
        },
        radius_km: b.radius_km,
    };
    let now = state.clock.now();
    let person = state
        .db_sealed(move |conn, secrets| protected::add(conn, secrets, &caller, &id, new, now))
        .await?;
    // A placement this rule re-checked may have been flagged: tell the live apps.
    state.live.signal().await;
    Ok(HttpResponse::Created().json(person))
}

pub async fn list_protected_persons(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let items = state.db(move |conn| protected::list(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    kind: SessionKind,
    planned_at: DateTime<Utc>,
    #[serde(default)]
    appointment_id: Option<uuid::Uuid>,
    #[serde(default)]
    measure_id: Option<uuid::Uuid>,
}

pub async fn add_session(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<SessionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    let new = NewSession {
        kind: b.kind,
        planned_at: super::sane_instant("planned_at", b.planned_at)?,
        appointment_id: b.appointment_id.map(|a| a.to_string()),
        measure_id: b.measure_id.map(|m| m.to_string()),
    };
    let session = state.db(move |conn| sessions::add(conn, &caller, &id, new)).await?;
    Ok(HttpResponse::Created().json(session))
}

pub async fn list_sessions(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let items = state.db(move |conn| sessions::list(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    status: SessionStatus,
}

pub async fn set_attendance(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseSessionId>,
    body: Body<AttendanceBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let status = body.into_inner().status;
    let now = state.clock.now();
    let session = state
        .db(move |conn| sessions::set_status(conn, &caller, &id, status, now))
        .await?;
    Ok(HttpResponse::Ok().json(session))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    body: String,
}

pub async fn add_note(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<NoteBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let text = body.into_inner().body;
    let note = state
        .db_sealed(move |conn, secrets| records::add_note(conn, secrets, &caller, &id, &text))
        .await?;
    Ok(HttpResponse::Created().json(note))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteCorrectionBody {
    body: String,
    reason: String,
}

/// Corrects a note, by its author, with a reason: the earlier text is kept and shown.
pub async fn correct_note(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseNoteId>,
    body: Body<NoteCorrectionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    let note = state
        .db_sealed(move |conn, secrets| records::correct_note(conn, secrets, &caller, &id, &b.body, &b.reason))
        .await?;
    Ok(HttpResponse::Created().json(note))
}

pub async fn list_notes(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let items = state
        .db_sealed(move |conn, secrets| records::notes(conn, secrets, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    title: String,
    due_on: NaiveDate,
}

pub async fn add_task(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<TaskBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    let due = super::sane_date("due_on", b.due_on)?;
    let task = state
        .db(move |conn| records::add_task(conn, &caller, &id, &b.title, due))
        .await?;
    Ok(HttpResponse::Created().json(task))
}

pub async fn list_tasks(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let items = state.db(move |conn| records::tasks(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskChangesBody {
    done: bool,
}

pub async fn update_task(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<TaskId>,
    body: Body<TaskChangesBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let done = body.into_inner().done;
    let task = state
        .db(move |conn| records::set_done(conn, &caller, &id, done))
        .await?;
    Ok(HttpResponse::Ok().json(task))
}

/// The person's right of access: everything held on them, as one JSON document.
pub async fn export(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let stall = state.referral_stall();
    let now = state.clock.now();
    let document = state
        .db_sealed(move |conn, secrets| rights::export(conn, secrets, &caller, &id, stall, now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Disposition", "attachment; filename=\"relais-export.json\""))
        .json(document))
}

/// Erasure, by the centre's manager, of a closed case once its legal retention has passed.
pub async fn erase(
    state: web::Data<AppState>,
    CentreStaff { caller, auth }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let visible = caller.clone();
    let probe = id.clone();
    state
        .db(move |conn| relais_core::cases::files::exists(conn, &visible, &probe))
        .await?;
    auth.require(&[Role::CentreManager])?;
    let retention = chrono::Duration::days(state.settings.centres.case_retention_days);
    let now = state.clock.now();
    let erased = state
        .db(move |conn| rights::erase(conn, &caller, &id, retention, now))
        .await?;
    Ok(HttpResponse::Ok().json(erased))
}
