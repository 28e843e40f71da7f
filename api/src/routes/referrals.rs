//! Referrals over HTTP: the receiving centre accepts, rejects (with a reason) and closes;
//! the sender revokes; partners (justice services) and staff send court-ordered or voluntary
//! referrals. Only the two organisations a referral joins can see it (404 for anyone else).

use actix_web::{HttpRequest, HttpResponse, web};
use relais_core::accounts::model::Role;
use relais_core::centres::model::{LegalBasis, ReferralStatus};
use relais_core::centres::referrals::{self, Action, Direction, Filter, NewReferral};
use relais_core::idempotency;
use relais_core::ids::{OrganisationId, ReferralId};

use crate::auth::Auth;
use crate::auth::policy::ANY_STAFF;
use crate::body::Body;
use crate::problem::ApiResult;
use crate::state::AppState;

fn stall(state: &AppState) -> referrals::Stall {
    state.referral_stall()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// Made at or after.
    #[serde(default)]
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Made before.
    #[serde(default)]
    to: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    partner_reference: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

/// The caller's referrals, newest first, by pages (`limit`, `cursor` → `next_cursor`), by
/// status, by when they were made, and by the caller's own reference.
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    query: crate::query::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let q = query.into_inner();
    let direction = match q.direction.as_deref() {
        None | Some("incoming") => Direction::Incoming,
        Some("outgoing") => Direction::Outgoing,
        Some(_) => return Err(super::invalid_parameter("direction", "incoming or outgoing")),
    };
    let in_query = |e: relais_core::Error| super::in_query(e.into());
    let mut filter = Filter::new(direction);
    filter.status = q
        .status
        .as_deref()
        .map(str::parse::<ReferralStatus>)
        .transpose()
        .map_err(|_| super::invalid_parameter("status", "pending, accepted, rejected, done or revoked"))?;
    filter.from = q
        .from
        .map(|t| super::sane_instant("from", t))
        .transpose()
        .map_err(super::in_query)?;
    filter.to =
        q.to.map(|t| super::sane_instant("to", t))
            .transpose()
            .map_err(super::in_query)?;
    filter.partner_reference = q
        .partner_reference
        .as_deref()
        .map(|r| relais_core::values::parse_label("partner_reference", r, 100))
        .transpose()
        .map_err(in_query)?;
    let page = super::page_request(q.limit, q.cursor.as_deref())?;
    let stall_after = stall(&state);
    let page = state
        .db_sealed(move |conn, secrets| referrals::list(conn, secrets, &caller, &filter, &page, stall_after))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn get(state: web::Data<AppState>, auth: Auth, path: web::Path<ReferralId>) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let id = path.as_uuid();
    let stall_after = stall(&state);
    let referral = state
        .db_sealed(move |conn, secrets| referrals::get(conn, secrets, &caller, &id.to_string(), stall_after))
        .await?;
    Ok(HttpResponse::Ok().json(referral))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReferralBody {
    centre_id: uuid::Uuid,
    subject_alias: String,
    summary: String,
    legal_basis: String,
    #[serde(default)]
    consent_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    decision_reference: Option<String>,
    #[serde(default)]
    order_ends_on: Option<chrono::NaiveDate>,
    #[serde(default)]
    partner_reference: Option<String>,
}

/// A referral from a partner (justice services) or staff: court-ordered with its authority,
/// decision and end date, or voluntary with the time the person consented.
pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: Body<NewReferralBody>,
) -> ApiResult<HttpResponse> {
    let caller = auth
        .admit_with_partners(&[
            Role::HelplineSupervisor,
            Role::CentreManager,
            Role::HousingOperator,
            Role::Admin,
        ])?
        .clone();
    let (scope, key) = super::idempotency_key(&req, &auth)?;
    let b = body.into_inner();
    if let Some(at) = b.consent_at {
        super::sane_instant("consent_at", at)?;
    }
    if let Some(day) = b.order_ends_on {
        super::sane_date("order_ends_on", day)?;
    }
    // Whatever the basis, what is sent must be well-formed (even where it is not used).
    if let Some(reference) = &b.decision_reference {
        relais_core::values::parse_label("decision_reference", reference, 100)?;
    }
    if let Some(authority) = &b.authority {
        authority.parse::<relais_core::centres::model::Authority>()?;
    }
    let basis = match b.legal_basis.as_str() {
        "voluntary" => LegalBasis::Voluntary {
            consent_at: b.consent_at.ok_or_else(|| {
                super::invalid("consent_at", "a voluntary referral records when the person consented")
            })?,
        },
        "court_ordered" => referrals::court_ordered(
            b.authority.as_deref().unwrap_or_default(),
            b.decision_reference.as_deref().unwrap_or_default(),
            b.order_ends_on
                .ok_or_else(|| super::invalid("order_ends_on", "a court-ordered referral has an end date"))?,
        )?,
        _ => return Err(super::invalid("legal_basis", "voluntary or court_ordered")),
    };
    let alias = relais_core::values::parse_label("subject_alias", &b.subject_alias, 100)?;
    let partner_reference = b
        .partner_reference
        .as_deref()
        .map(|r| relais_core::values::parse_label("partner_reference", r, 100))
        .transpose()?;
    let stall_after = stall(&state);
    let created = state
        .db_sealed(move |conn, secrets| {
            idempotency::once(conn, &scope, key.as_deref(), "referrals.create", |conn| {
                let id = referrals::create(
                    conn,
                    secrets,
                    &caller.actor(),
                    NewReferral {
                        source: caller.organisation_id,
                        target: OrganisationId::from(b.centre_id),
                        subject_alias: alias,
                        conversation_id: None,
                        summary: b.summary,
                        basis,
                        partner_reference,
                    },
                )?;
                let view = referrals::get(conn, secrets, &caller, &id, stall_after)?;
                serde_json::to_value(view).map_err(|e| relais_core::Error::Internal(e.to_string()))
            })
        })
        .await?;
    state.live.signal().await;
    Ok(HttpResponse::Created().json(created))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    reason: String,
}

async fn act(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReferralId>,
    action: Action,
) -> ApiResult<HttpResponse> {
    let caller = auth.admit_with_partners(ANY_STAFF)?.clone();
    let id = path.into_inner();
    let stall_after = stall(&state);
    let referral = state
        .db_sealed(move |conn, secrets| referrals::act(conn, secrets, &caller, &id.to_string(), action, stall_after))
        .await?;
    state.live.signal().await;
    Ok(HttpResponse::Ok().json(referral))
}

pub async fn accept(state: web::Data<AppState>, auth: Auth, path: web::Path<ReferralId>) -> ApiResult<HttpResponse> {
    act(state, auth, path, Action::Accept).await
}

pub async fn reject(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReferralId>,
    body: Body<RejectBody>,
) -> ApiResult<HttpResponse> {
    let reason = body.into_inner().reason;
    act(state, auth, path, Action::Reject { reason }).await
}

pub async fn done(state: web::Data<AppState>, auth: Auth, path: web::Path<ReferralId>) -> ApiResult<HttpResponse> {
    act(state, auth, path, Action::Done).await
}

pub async fn revoke(state: web::Data<AppState>, auth: Auth, path: web::Path<ReferralId>) -> ApiResult<HttpResponse> {
    act(state, auth, path, Action::Revoke).await
}
