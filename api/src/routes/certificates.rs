//! Attendance certificates: issued and listed on a case by its centre, downloaded as PDF by
//! its centre, and checked by anyone holding the printed code (no name in the answer).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use relais_core::cases::certificates::{self, Request};
use relais_core::ids::{CaseId, CertificateId};

use crate::auth::CentreStaff;
use crate::body::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    #[serde(default)]
    measure_id: Option<uuid::Uuid>,
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    to: Option<NaiveDate>,
}

fn check_url(state: &AppState, code: &str) -> String {
    format!("{}/v1/certificate-checks/{code}", state.public_base())
}

pub async fn issue(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
    body: Body<IssueBody>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let b = body.into_inner();
    let request = Request {
        measure_id: b.measure_id.map(|m| m.to_string()),
        from: b.from.map(|d| super::sane_date("from", d)).transpose()?,
        to: b.to.map(|d| super::sane_date("to", d)).transpose()?,
    };
    let now = state.clock.now();
    let certificate = state
        .db_sealed(move |conn, secrets| certificates::issue(conn, secrets, &caller, &id, request, now))
        .await?;
    let pdf = format!("/v1/certificates/{}/pdf", certificate.id);
    let check = check_url(&state, &certificate.verification_code);
    let mut json = serde_json::to_value(certificate).map_err(|e| relais_core::Error::Internal(e.to_string()))?;
    if let Some(object) = json.as_object_mut() {
        object.insert("pdf_url".into(), pdf.into());
        object.insert("check_url".into(), check.into());
    }
    Ok(HttpResponse::Created().json(json))
}

pub async fn list(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CaseId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let items = state
        .db_sealed(move |conn, secrets| certificates::list(conn, secrets, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// The PDF, made again from what was certified at issue.
pub async fn pdf(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<CertificateId>,
) -> ApiResult<HttpResponse> {
    let id = path.to_string();
    let content = state
        .db_sealed(move |conn, secrets| certificates::content(conn, secrets, &caller, &id))
        .await?;
    let url = check_url(&state, &content.verification_code);
    let bytes = web::block(move || certificates::pdf::render(&content, &url))
        .await
        .map_err(|e| relais_core::Error::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"attestation-de-suivi.pdf\"",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

/// Public: is this printed code genuine, and for which dates.
pub async fn check(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let check = state
        .db_sealed(move |conn, secrets| certificates::check(conn, secrets, &code))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(check))
}
