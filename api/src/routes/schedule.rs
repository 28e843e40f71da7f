//! A centre's schedule: availability published by practitioners and managers, its slots,
//! appointments (booked by staff here, or by the person through the bot), the inbox of the
//! day, and each practitioner's private calendar feed (RFC 5545).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use relais_core::accounts::model::Role;
use relais_core::accounts::organisations;
use relais_core::centres::appointments::{self, Booking};
use relais_core::centres::calendar;
use relais_core::centres::model::{AppointmentStatus, Modality, ReferralStatus};
use relais_core::centres::referrals::{self, Direction};
use relais_core::centres::slots::{self, NewAvailability};
use relais_core::idempotency;
use relais_core::ids::{AppointmentId, SlotId, UserId};

use super::idempotency_key;
use crate::auth::CentreStaff;
use crate::body::Body;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    #[serde(default)]
    practitioner_id: Option<uuid::Uuid>,
    modality: Modality,
    location: String,
    starts_at: DateTime<Utc>,
    duration_minutes: i32,
    #[serde(default)]
    seats: Option<i32>,
    #[serde(default)]
    repeat_weekly_until: Option<NaiveDate>,
    #[serde(default)]
    buffer_minutes: Option<i32>,
    #[serde(default)]
    booking_notice_minutes: Option<i32>,
    #[serde(default)]
    cancellation_notice_minutes: Option<i32>,
}

pub async fn publish(
    state: web::Data<AppState>,
    CentreStaff { caller, auth }: CentreStaff,
    req: HttpRequest,
    body: Body<AvailabilityBody>,
) -> ApiResult<HttpResponse> {
    let (scope, key) = idempotency_key(&req, &auth)?;
    let b = body.into_inner();
    super::sane_instant("starts_at", b.starts_at)?;
    if let Some(until) = b.repeat_weekly_until {
        super::sane_date("repeat_weekly_until", until)?;
    }
    // A practitioner publishes their own time; a manager may publish anyone's, or a group's.
    let practitioner = match b.practitioner_id {
        Some(id) => Some(UserId::from(id)),
        None if caller.has_role(Role::Practitioner) && !caller.has_role(Role::CentreManager) => caller.user_id(),
        None => None,
    };
    if !caller.has_role(Role::CentreManager) && practitioner != caller.user_id() {
        return Err(ApiError::Forbidden(
            "a practitioner publishes their own availability".into(),
        ));
    }
    let new = NewAvailability {
        practitioner_id: practitioner,
        modality: b.modality,
        location: b.location,
        first_start: b.starts_at,
        duration_minutes: b.duration_minutes,
        seats: b.seats.unwrap_or(1),
        repeat_weekly_until: b.repeat_weekly_until,
        buffer_minutes: b.buffer_minutes.unwrap_or(0),
        booking_notice_minutes: b.booking_notice_minutes.unwrap_or(0),
        cancellation_notice_minutes: b.cancellation_notice_minutes.unwrap_or(0),
    };
    let now = state.clock.now();
    let created = state
        .db(move |conn| {
            idempotency::once(conn, &scope, key.as_deref(), "availabilities.create", |conn| {
                let tz = organisations::find(conn, caller.organisation_id)?.tz();
                let availability = slots::publish(conn, &caller, tz, new, now)?;
                serde_json::to_value(availability).map_err(|e| relais_core::Error::Internal(e.to_string()))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
}

/// A list of appointments: a range, a status, a page.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentQuery {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
    #[serde(default)]
    status: Option<AppointmentStatus>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

impl Range {
    /// Defaults to the next 30 days; at most 366 days.
    fn resolve(&self, now: DateTime<Utc>) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
        let from = super::sane_instant("from", self.from.unwrap_or(now))?;
        if let Some(to) = self.to {
            super::sane_instant("to", to)?;
        }
        let to = match self.to {
            Some(to) => to,
            None => from
                .checked_add_signed(Duration::days(30))
                .ok_or_else(|| super::invalid("from", "out of range"))?,
        };
        if from >= to {
            return Err(super::invalid("from", "must be before to"));
        }
        if to - from > Duration::days(366) {
            return Err(super::invalid("to", "a range covers at most a year"));
        }
        Ok((from, to))
    }
}

pub async fn list_slots(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    query: crate::query::Query<Range>,
) -> ApiResult<HttpResponse> {
    let (from, to) = query.resolve(state.clock.now())?;
    let items = state
        .db(move |conn| slots::list(conn, caller.organisation_id, from, to))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn withdraw_slot(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<SlotId>,
) -> ApiResult<HttpResponse> {
    let id = path.as_uuid();
    state
        .db(move |conn| slots::withdraw(conn, &caller, &id.to_string()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    slot_id: uuid::Uuid,
    subject_alias: String,
    #[serde(default)]
    referral_id: Option<uuid::Uuid>,
}

/// Staff book a seat for someone (a person who phoned, a court-ordered referral).
pub async fn book(
    state: web::Data<AppState>,
    CentreStaff { caller, auth }: CentreStaff,
    req: HttpRequest,
    body: Body<BookingBody>,
) -> ApiResult<HttpResponse> {
    let (scope, key) = idempotency_key(&req, &auth)?;
    let b = body.into_inner();
    let alias = relais_core::values::parse_label("subject_alias", &b.subject_alias, 100)?;
    let now = state.clock.now();
    let stall_after = state.referral_stall();
    let created = state
        .db_sealed(move |conn, secrets| {
            idempotency::once(conn, &scope, key.as_deref(), "appointments.create", |conn| {
                if let Some(referral) = b.referral_id {
                    // Only a referral addressed to this centre.
                    let r = referrals::get(conn, secrets, &caller, &referral.to_string(), stall_after)?;
                    if r.target.id != caller.organisation_id.to_string() {
                        return Err(relais_core::Error::NotFound);
                    }
                }
                let appointment = appointments::book(
                    conn,
                    Booking {
                        slot_id: b.slot_id.to_string(),
                        organisation_id: caller.organisation_id.to_string(),
                        subject_alias: alias,
                        referral_id: b.referral_id.map(|r| r.to_string()),
                        conversation_id: None,
                        created_by: referrals::actor_label(&caller.actor()),
                    },
                    now,
                )?;
                serde_json::to_value(appointment).map_err(|e| relais_core::Error::Internal(e.to_string()))
            })
        })
        .await?;
    state.live.signal().await;
    Ok(HttpResponse::Created().json(created))
}

pub async fn list_appointments(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    query: crate::query::Query<AppointmentQuery>,
) -> ApiResult<HttpResponse> {
    let range = Range {
        from: query.from,
        to: query.to,
    };
    let (from, to) = range.resolve(state.clock.now())?;
    let status = query.status;
    let page = super::page_request(query.limit, query.cursor.as_deref())?;
    let page = state
        .db(move |conn| appointments::list(conn, &caller, from, to, status, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn get_appointment(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<AppointmentId>,
) -> ApiResult<HttpResponse> {
    let id = path.as_uuid();
    let appointment = state
        .db(move |conn| appointments::get(conn, &caller, &id.to_string()))
        .await?;
    Ok(HttpResponse::Ok().json(appointment))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: AppointmentStatus,
    #[serde(default)]
    cancellation_reason: Option<String>,
}

pub async fn set_status(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<AppointmentId>,
    body: Body<StatusBody>,
) -> ApiResult<HttpResponse> {
    let id = path.as_uuid();
    let b = body.into_inner();
    let now = state.clock.now();
    let appointment = state
        .db(move |conn| {
            appointments::set_status(
                conn,
                &caller,
                &id.to_string(),
                b.status,
                b.cancellation_reason.as_deref(),
                now,
            )
        })
        .await?;
    state.live.signal().await;
    Ok(HttpResponse::Ok().json(appointment))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    status: AppointmentStatus,
    reason: String,
}

/// Corrects a recorded attendance, with a reason (kept, audited, told to the partner).
pub async fn correct(
    state: web::Data<AppState>,
    CentreStaff { caller, auth }: CentreStaff,
    req: HttpRequest,
    path: web::Path<AppointmentId>,
    body: Body<CorrectionBody>,
) -> ApiResult<HttpResponse> {
    let (scope, key) = idempotency_key(&req, &auth)?;
    let id = path.as_uuid();
    let b = body.into_inner();
    let now = state.clock.now();
    let corrected = state
        .db(move |conn| {
            idempotency::once(conn, &scope, key.as_deref(), "appointments.correct", |conn| {
                let (appointment, correction) =
                    appointments::correct(conn, &caller, &id.to_string(), b.status, &b.reason, now)?;
                Ok(serde_json::json!({ "appointment": appointment, "correction": correction }))
            })
        })
        .await?;
    state.live.signal().await;
    Ok(HttpResponse::Created().json(corrected))
}

pub async fn corrections(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
    path: web::Path<AppointmentId>,
) -> ApiResult<HttpResponse> {
    let id = path.as_uuid();
    let items = state
        .db(move |conn| appointments::corrections(conn, &caller, &id.to_string()))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// What a centre acts on today: referrals to accept or reject, the day's appointments (in
/// the centre's zone), and no-shows of the last 30 days to follow.
pub async fn inbox(state: web::Data<AppState>, CentreStaff { caller, .. }: CentreStaff) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let stall_after = state.referral_stall();
    let inbox = state
        .db_sealed(move |conn, secrets| {
            let org = organisations::find(conn, caller.organisation_id)?;
            let tz = org.tz();
            let today = now.with_timezone(&tz).date_naive();
            let start = calendar::local_midnight(today, tz);
            let end = calendar::local_midnight(today + Duration::days(1), tz);
            // A day's appointments, a month's no-shows and the referrals waiting: one page of
            // the most is all of them.
            let all = relais_core::page::PageRequest::first(relais_core::page::MAX_LIMIT);
            let mut pending = referrals::Filter::new(Direction::Incoming);
            pending.status = Some(ReferralStatus::Pending);
            let pending = referrals::list(conn, secrets, &caller, &pending, &all, stall_after)?.items;
            let day = appointments::list(conn, &caller, start, end, None, &all)?.items;
            let noshows = appointments::list(
                conn,
                &caller,
                now - Duration::days(30),
                now,
                Some(AppointmentStatus::Noshow),
                &all,
            )?
            .items;
            Ok::<_, relais_core::Error>(serde_json::json!({
                "date": today,
                "timezone": org.timezone,
                "referrals_pending": pending,
                "appointments_today": day,
                "noshows_to_follow": noshows,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(inbox))
}

/// Creates (or replaces) the caller's private calendar feed; the URL is shown once.
pub async fn reset_calendar_feed(
    state: web::Data<AppState>,
    CentreStaff { caller, .. }: CentreStaff,
) -> ApiResult<HttpResponse> {
    let user = caller.user_id().ok_or(ApiError::NotFound)?;
    let token = state.db(move |conn| calendar::reset_feed(conn, &caller, user)).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "url": format!("{}/calendar/{token}.ics", state.public_base()),
    })))
}

/// The feed itself: no session, the secret token in the path is the credential.
pub async fn calendar_feed(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    let token = token.strip_suffix(".ics").ok_or(ApiError::NotFound)?.to_owned();
    let now = state.clock.now();
    let body = state.db(move |conn| calendar::feed(conn, &token, now)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body))
}
