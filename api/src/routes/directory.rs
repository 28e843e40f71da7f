//! The public, read-only directory export in the Open Referral HSDS 3.0 shape, following
//! the HSDS reference API (`/organizations`, `/services`, `/service_at_locations`, paged
//! with `page` and `per_page`). Centres only, public information only: no account is needed.

use actix_web::{HttpResponse, web};
use relais_core::accounts::model::{Organisation, OrganisationKind};
use relais_core::accounts::organisations;
use relais_core::centres::{directory, profiles};
use relais_core::ids::{OrganisationId, ServiceId};
use serde_json::{Value, json};

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    per_page: Option<usize>,
}

/// The HSDS page envelope around `items`.
fn page(items: Vec<Value>, query: &PageQuery) -> ApiResult<Value> {
    let per_page = query.per_page.unwrap_or(50);
    let number = query.page.unwrap_or(1);
    if !(1..=500).contains(&per_page) {
        return Err(super::invalid("per_page", "1 to 500"));
    }
    if !(1..=1_000_000_000).contains(&number) {
        return Err(super::invalid("page", "pages start at 1 and stop at 1,000,000,000"));
    }
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let contents: Vec<Value> = items
        .into_iter()
        .skip((number - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    Ok(json!({
        "total_items": total,
        "total_pages": pages,
        "page_number": number,
        "size": contents.len(),
        "first_page": number == 1,
        "last_page": number >= pages,
        "empty": contents.is_empty(),
        "contents": contents,
    }))
}

/// Every centre, fully nested.
async fn all(state: &web::Data<AppState>) -> ApiResult<Vec<Value>> {
    let shared = state.clone();
    state
        .db(move |conn| {
            organisations::all_of_kind(conn, OrganisationKind::Centre)?
                .iter()
                .map(|org| nested(conn, &shared, org))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
}

fn nested(
    conn: &mut relais_core::db::DbConn,
    state: &AppState,
    org: &Organisation,
) -> Result<Value, relais_core::Error> {
    let profile = profiles::get(conn, org.id)?;
    let services = directory::services(conn, org.id)?;
    let locations = directory::locations(conn, org.id)?;
    Ok(directory::hsds_organization(
        &state.geo, org, &profile, &services, &locations,
    ))
}

/// The API's own description, as HSDS asks of its root.
pub async fn root() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": "3.0",
        "profile": "https://openreferral.org/",
        "openapi_url": "/openapi.yaml",
    }))
}

pub async fn organizations(
    state: web::Data<AppState>,
    query: crate::query::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let basic: Vec<Value> = all(&state)
        .await?
        .into_iter()
        .map(|o| json!({ "id": o["id"], "name": o["name"], "description": o["description"] }))
        .collect();
    Ok(HttpResponse::Ok().json(page(basic, &query)?))
}

pub async fn organization(state: web::Data<AppState>, path: web::Path<OrganisationId>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let shared = state.clone();
    let org = state
        .db(move |conn| {
            let org = organisations::find(conn, id)?;
            if org.kind != OrganisationKind::Centre {
                return Err(relais_core::Error::NotFound);
            }
            nested(conn, &shared, &org)
        })
        .await?;
    Ok(HttpResponse::Ok().json(org))
}

/// Services, each with its organization (basic) and where it is given.
fn services_of(orgs: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for org in orgs {
        let basic = json!({ "id": org["id"], "name": org["name"], "description": org["description"] });
        let locations = org["locations"].as_array().cloned().unwrap_or_default();
        for mut service in org["services"].as_array().cloned().unwrap_or_default() {
            service["organization"] = basic.clone();
            if let Some(sals) = service["service_at_locations"].as_array_mut() {
                for sal in sals {
                    sal["location"] = locations
                        .iter()
                        .find(|l| l["id"] == sal["location_id"])
                        .cloned()
                        .unwrap_or(Value::Null);
                }
            }
            out.push(service);
        }
    }
    out
}

pub async fn services(state: web::Data<AppState>, query: crate::query::Query<PageQuery>) -> ApiResult<HttpResponse> {
    let items = services_of(all(&state).await?);
    Ok(HttpResponse::Ok().json(page(items, &query)?))
}

pub async fn service(state: web::Data<AppState>, path: web::Path<ServiceId>) -> ApiResult<HttpResponse> {
    let id = path.as_uuid();
    let found = services_of(all(&state).await?)
        .into_iter()
        .find(|s| s["id"] == id.to_string())
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(found))
}

pub async fn service_at_locations(
    state: web::Data<AppState>,
    query: crate::query::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let mut items = Vec::new();
    for service in services_of(all(&state).await?) {
        let summary = json!({ "id": service["id"], "name": service["name"], "status": service["status"], "organization_id": service["organization_id"] });
        for mut sal in service["service_at_locations"].as_array().cloned().unwrap_or_default() {
            sal["service"] = summary.clone();
            items.push(sal);
        }
    }
    Ok(HttpResponse::Ok().json(page(items, &query)?))
}
