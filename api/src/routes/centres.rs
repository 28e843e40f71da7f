//! The centres directory for staff and partners: centres covering a postal code (through
//! the reference geography: commune → département → centres), a centre's public profile, and
//! its manager's changes to it.

use actix_web::{HttpResponse, web};
use relais_core::accounts::model::{Organisation, OrganisationKind, Role};
use relais_core::accounts::organisations;
use relais_core::centres::directory::{self, NewLocation, NewService, OpeningHours, ServiceKind};
use relais_core::centres::profiles::{self, ProfileChanges};
use relais_core::geo::PostalCode;
use relais_core::ids::OrganisationId;

use crate::auth::Auth;
use crate::auth::Staff;
use crate::auth::policy::ANY_STAFF;
use crate::body::Body;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    postal_code: Option<String>,
}

fn entry(
    org: Organisation,
    profile: profiles::Profile,
    services: Vec<directory::Service>,
    locations: Vec<directory::Location>,
) -> serde_json::Value {
    serde_json::json!({
        "services": services,
        "locations": locations,
        "id": org.id,
        "name": org.name,
        "timezone": org.timezone,
        "coverage": org.coverage,
        "phone": profile.phone,
        "what_to_bring_fr": profile.what_to_bring_fr,
        "what_to_bring_en": profile.what_to_bring_en,
    })
}

/// Centres, or those covering a postal code's départements, nearest first.
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    query: crate::query::Query<DirectoryQuery>,
) -> ApiResult<HttpResponse> {
    auth.admit_with_partners(ANY_STAFF)?;
    let area = match &query.postal_code {
        Some(raw) => {
            let code = PostalCode::parse(raw)
                .map_err(|_| super::invalid_parameter("postal_code", "five digits, such as 75011"))?;
            Some(state.geo.postal_code(&code).ok_or(ApiError::NotFound)?)
        }
        None => None,
    };
    let items = state
        .db(move |conn| {
            let centres = match &area {
                Some(area) => {
                    let codes: Vec<String> = area.departements.iter().map(|d| d.code.clone()).collect();
                    let covering = organisations::centres_covering(conn, &codes)?;
                    directory::nearest_first(conn, area, covering)?
                }
                None => organisations::all_of_kind(conn, OrganisationKind::Centre)?,
            };
            centres
                .into_iter()
                .map(|org| {
                    let profile = profiles::get(conn, org.id)?;
                    let services = directory::services(conn, org.id)?;
                    let locations = directory::locations(conn, org.id)?;
                    Ok::<_, relais_core::Error>(entry(org, profile, services, locations))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// Not found unless `id` is a centre.
fn ensure_centre(conn: &mut relais_core::db::DbConn, id: OrganisationId) -> Result<(), relais_core::Error> {
    if organisations::find(conn, id)?.kind == OrganisationKind::Centre {
        Ok(())
    } else {
        Err(relais_core::Error::NotFound)
    }
}

async fn centre(state: &web::Data<AppState>, id: OrganisationId) -> ApiResult<serde_json::Value> {
    state
        .db(move |conn| {
            let org = organisations::find(conn, id)?;
            if org.kind != OrganisationKind::Centre {
                return Err(relais_core::Error::NotFound);
            }
            let profile = profiles::get(conn, org.id)?;
            let services = directory::services(conn, org.id)?;
            let locations = directory::locations(conn, org.id)?;
            Ok(entry(org, profile, services, locations))
        })
        .await
}

pub async fn get(state: web::Data<AppState>, auth: Auth, path: web::Path<OrganisationId>) -> ApiResult<HttpResponse> {
    auth.admit_with_partners(ANY_STAFF)?;
    let id = path.into_inner();
    Ok(HttpResponse::Ok().json(centre(&state, id).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    notify_email: Option<String>,
    #[serde(default)]
    what_to_bring_fr: Option<String>,
    #[serde(default)]
    what_to_bring_en: Option<String>,
}

/// The centre's manager (or an administrator) edits its profile; others get 404 or 403.
pub async fn update_profile(
    state: web::Data<AppState>,
    Staff { caller, auth }: Staff,
    path: web::Path<OrganisationId>,
    body: Body<ProfileBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    caller.scope(id)?;
    auth.require(&[Role::CentreManager, Role::Admin])?;
    let b = body.into_inner();
    state
        .db(move |conn| {
            ensure_centre(conn, id)?;
            profiles::update(
                conn,
                &caller,
                id,
                ProfileChanges {
                    phone: b.phone,
                    notify_email: b.notify_email,
                    what_to_bring_fr: b.what_to_bring_fr,
                    what_to_bring_en: b.what_to_bring_en,
                },
            )
        })
        .await?;
    let view = centre(&state, id).await?;
    let notify = state
        .db(move |conn| profiles::get(conn, id).map(|p| p.notify_email))
        .await?;
    let mut view = view;
    view["notify_email"] = serde_json::json!(notify);
    Ok(HttpResponse::Ok().json(view))
}

/// The national coverage: centres per region against the target of two, and the regions
/// and départements with none. Any staff: it names centres, never people.
pub async fn coverage(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    auth.admit_with_partners(ANY_STAFF)?;
    let shared = state.clone();
    let view = state.db(move |conn| directory::coverage(conn, &shared.geo)).await?;
    Ok(HttpResponse::Ok().json(view))
}

fn managed(auth: &Auth, id: OrganisationId) -> ApiResult<relais_core::access::Caller> {
    let caller = auth.admit(ANY_STAFF)?.clone();
    caller.scope(id)?;
    auth.require(&[Role::CentreManager, Role::Admin])?;
    Ok(caller)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    kind: ServiceKind,
    description: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Items<T> {
    items: Vec<T>,
}

/// Replaces what the centre offers.
pub async fn put_services(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<OrganisationId>,
    body: Body<Items<ServiceItem>>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let caller = managed(&auth, id)?;
    let items = body
        .into_inner()
        .items
        .into_iter()
        .map(|s| NewService {
            kind: s.kind,
            description: s.description,
        })
        .collect();
    let saved = state
        .db(move |conn| {
            ensure_centre(conn, id)?;
            directory::replace_services(conn, &caller, id, items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": saved })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationItem {
    name: String,
    address: String,
    postal_code: String,
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    opening_hours: Vec<OpeningHours>,
}

/// Replaces where the centre receives people, with opening hours.
pub async fn put_locations(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<OrganisationId>,
    body: Body<Items<LocationItem>>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let caller = managed(&auth, id)?;
    let items = body
        .into_inner()
        .items
        .into_iter()
        .map(|l| NewLocation {
            name: l.name,
            address: l.address,
            postal_code: l.postal_code,
            latitude: l.latitude,
            longitude: l.longitude,
            opening_hours: l.opening_hours,
        })
        .collect();
    let shared = state.clone();
    let saved = state
        .db(move |conn| {
            ensure_centre(conn, id)?;
            directory::replace_locations(conn, &caller, &shared.geo, id, items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": saved })))
}

/// A centre manager's view of the centre (caseload per practitioner, the coming week,
/// absences, obligations behind schedule); another organisation 404, the centre's other roles
/// 403.
pub async fn overview(
    state: web::Data<AppState>,
    Staff { caller, .. }: Staff,
    path: web::Path<OrganisationId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner().to_string();
    let now = state.clock.now();
    let overview = state
        .db(move |conn| relais_core::cases::overview::of_centre(conn, &caller, &id, now))
        .await?;
    Ok(HttpResponse::Ok().json(overview))
}
