//! Appointments, with FHIR's statuses (`booked`, `arrived`, `fulfilled`, `cancelled`,
//! `noshow`). Booking takes a seat with one conditional update (`booked < seats`), so two
//! people can never take the last seat at once, on either database. The booking notice is
//! enforced for everyone; the cancellation notice for the person (a centre may always
//! cancel, with a reason). The centre hears of bookings, cancellations and no-shows by email.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::AppointmentStatus;
use super::profiles;
use super::slots::{self, Slot};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::db::schema::{appointments, slots as slots_table};
use crate::db::{DbConn, write_tx};
use crate::email;
use crate::error::{Error, Result};
use crate::helpline::events;
use crate::ids::OrganisationId;
use crate::time;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = appointments)]
pub struct Row {
    pub id: String,
    pub slot_id: String,
    pub organisation_id: String,
    pub referral_id: Option<String>,
    pub conversation_id: Option<String>,
    pub subject_alias: String,
    pub status: String,
    pub cancellation_reason: Option<String>,
    pub reminded_day_before: bool,
    pub reminded_two_hours: bool,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Appointment {
    pub id: String,
    pub status: AppointmentStatus,
    pub cancellation_reason: Option<String>,
    pub subject_alias: String,
    pub referral_id: Option<String>,
    pub slot: Slot,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(conn: &mut DbConn, row: Row) -> Result<Appointment> {
    let slot = slots::load(conn, &row.slot_id)?;
    Ok(Appointment {
        status: row.status.parse()?,
        cancellation_reason: row.cancellation_reason,
        subject_alias: row.subject_alias,
        referral_id: row.referral_id,
        slot: slot.into(),
        created_at: time::from_db(row.created_at),
        updated_at: time::from_db(row.updated_at),
        id: row.id,
    })
}

pub fn load(conn: &mut DbConn, id: &str) -> Result<Row> {
    Ok(appointments::table.find(id).select(Row::as_select()).first(conn)?)
}

fn notify(conn: &mut DbConn, organisation: &str, subject: &str, fr: &str, en: &str, id: &str) -> Result<()> {
    if let Some(to) = profiles::get(conn, OrganisationId::from_db(organisation))?.notify_email {
        email::enqueue(
            conn,
            &to,
            subject,
            &format!(
                "Bonjour,\n\n{fr}\n{{base}}/app/appointments/{id}\n\nHello,\n\n{en}\n{{base}}/app/appointments/{id}\n\n— Relais\n"
            ),
        )?;
    }
    Ok(())
}

pub struct Booking {
    pub slot_id: String,
    /// The centre that must own the slot.
    pub organisation_id: String,
    pub subject_alias: String,
    pub referral_id: Option<String>,
    pub conversation_id: Option<String>,
    pub created_by: String,
}

/// Takes a seat. Fails with a conflict, before writing anything, when the slot is full,
/// withdrawn, or inside its booking notice.
pub fn book(conn: &mut DbConn, booking: Booking, now: DateTime<Utc>) -> Result<Appointment> {
    write_tx(conn, |conn| {
        let slot = slots::load(conn, &booking.slot_id)?;
        if slot.organisation_id != booking.organisation_id {
            return Err(Error::NotFound);
        }
        if slot.withdrawn {
            return Err(Error::Conflict("this slot was withdrawn".into()));
        }
        let starts = time::from_db(slot.starts_at);
        if starts - Duration::minutes(i64::from(slot.booking_notice_minutes)) < now {
            return Err(Error::Conflict(format!(
                "too late to book: this slot needs {} minutes' notice",
                slot.booking_notice_minutes
            )));
        }
        let taken = diesel::update(
            slots_table::table
                .find(&slot.id)
                .filter(slots_table::booked.lt(slots_table::seats))
                .filter(slots_table::withdrawn.eq(false)),
        )
        .set(slots_table::booked.eq(slots_table::booked + 1))
        .execute(conn)?;
        if taken == 0 {
            return Err(Error::Conflict("no seat left on this slot".into()));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let at = time::to_db(now);
        let row = Row {
            id: id.clone(),
            slot_id: slot.id.clone(),
            organisation_id: slot.organisation_id.clone(),
            referral_id: booking.referral_id,
            conversation_id: booking.conversation_id,
            subject_alias: booking.subject_alias.clone(),
            status: AppointmentStatus::Booked.as_str().into(),
            cancellation_reason: None,
            reminded_day_before: false,
            reminded_two_hours: false,
            created_by: booking.created_by,
            created_at: at,
            updated_at: at,
        };
        diesel::insert_into(appointments::table).values(&row).execute(conn)?;
        audit::record(
            conn,
            &crate::access::Actor::SYSTEM,
            Entry::new("appointment.book")
                .object("appointment", &id)
                .details(serde_json::json!({ "slot": slot.id })),
        )?;
        events::record_for_centre(conn, &slot.organisation_id, events::kind::APPOINTMENT_BOOKED, &id, None)?;
        notify(
            conn,
            &slot.organisation_id,
            "Nouveau rendez-vous / New appointment",
            &format!("Un rendez-vous a été pris : {}.", booking.subject_alias),
            &format!("An appointment was booked: {}.", booking.subject_alias),
            &id,
        )?;
        view(conn, row)
    })
}

/// Who cancels: the person (notice enforced) or the centre (always, with its reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelledBy {
    Person,
    Centre,
}

fn release_seat(conn: &mut DbConn, slot_id: &str) -> Result<()> {
    diesel::update(slots_table::table.find(slot_id).filter(slots_table::booked.gt(0)))
        .set(slots_table::booked.eq(slots_table::booked - 1))
        .execute(conn)?;
    Ok(())
}

pub fn cancel(conn: &mut DbConn, id: &str, by: CancelledBy, reason: &str, now: DateTime<Utc>) -> Result<Appointment> {
    write_tx(conn, |conn| {
        let row = load(conn, id)?;
        let status: AppointmentStatus = row.status.parse()?;
        if !status.can_become(AppointmentStatus::Cancelled) {
            return Err(Error::Conflict(format!(
                "a {} appointment cannot be cancelled",
                status.as_str()
            )));
        }
        let slot = slots::load(conn, &row.slot_id)?;
        if by == CancelledBy::Person
            && time::from_db(slot.starts_at) - Duration::minutes(i64::from(slot.cancellation_notice_minutes)) < now
        {
            return Err(Error::Conflict("too late to cancel: please call the centre".into()));
        }
        let reason = crate::values::parse_label("reason", reason, 300)?;
        diesel::update(
            appointments::table
                .find(id)
                .filter(appointments::status.eq(status.as_str())),
        )
        .set((
            appointments::status.eq(AppointmentStatus::Cancelled.as_str()),
            appointments::cancellation_reason.eq(Some(&reason)),
            appointments::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
        release_seat(conn, &slot.id)?;
        // A partner told the person came hears that it was undone.
        if status == AppointmentStatus::Arrived
            && let Some(referral) = &row.referral_id
        {
            crate::partners::events::attendance_corrected(
                conn,
                referral,
                crate::partners::events::Occasion::Appointment(id),
                AppointmentStatus::Cancelled.as_str(),
                time::from_db(slot.starts_at),
            )?;
        }
        events::record_for_centre(
            conn,
            &row.organisation_id,
            events::kind::APPOINTMENT_CANCELLED,
            id,
            Some(if by == CancelledBy::Person { "person" } else { "centre" }),
        )?;
        audit::record(
            conn,
            &crate::access::Actor::SYSTEM,
            Entry::new("appointment.cancel")
                .object("appointment", id)
                .details(serde_json::json!({ "by": if by == CancelledBy::Person { "person" } else { "centre" } })),
        )?;
        if by == CancelledBy::Person {
            notify(
                conn,
                &row.organisation_id,
                "Rendez-vous annulé / Appointment cancelled",
                &format!("{} a annulé son rendez-vous.", row.subject_alias),
                &format!("{} cancelled their appointment.", row.subject_alias),
                id,
            )?;
        }
        let row = load(conn, id)?;
        view(conn, row)
    })
}

/// A centre's move: arrived, fulfilled, no-show, or cancelled with a reason.
pub fn set_status(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    next: AppointmentStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Appointment> {
    let row = load(conn, id)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    if next == AppointmentStatus::Cancelled {
        let reason = reason.ok_or_else(|| Error::invalid("cancellation_reason", "say why the centre cancels"))?;
        return cancel(conn, id, CancelledBy::Centre, reason, now);
    }
    write_tx(conn, |conn| {
        let row = load(conn, id)?;
        let status: AppointmentStatus = row.status.parse()?;
        if !status.can_become(next) {
            return Err(Error::Conflict(format!(
                "a {} appointment cannot become {}",
                status.as_str(),
                next.as_str()
            )));
        }
        diesel::update(
            appointments::table
                .find(id)
                .filter(appointments::status.eq(status.as_str())),
        )
        .set((
            appointments::status.eq(next.as_str()),
            appointments::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("appointment.status")
                .object("appointment", id)
                .details(serde_json::json!({ "status": next.as_str() })),
        )?;
        events::record_for_centre(
            conn,
            &row.organisation_id,
            events::kind::APPOINTMENT_STATUS,
            id,
            Some(next.as_str()),
        )?;
        // A partner that sent the referral hears whether the person came: once, at the
        // first sign (arrived), or when they did not.
        if let Some(referral) = &row.referral_id
            && matches!(next, AppointmentStatus::Arrived | AppointmentStatus::Noshow)
        {
            let starts_at: chrono::NaiveDateTime = crate::db::schema::slots::table
                .find(&row.slot_id)
                .select(crate::db::schema::slots::starts_at)
                .first(conn)?;
            crate::partners::events::attendance(
                conn,
                referral,
                crate::partners::events::Occasion::Appointment(id),
                next == AppointmentStatus::Arrived,
                time::from_db(starts_at),
            )?;
        }
        if next == AppointmentStatus::Noshow {
            notify(
                conn,
                &row.organisation_id,
                "Absence à un rendez-vous / Missed appointment",
                &format!("{} n'est pas venu à son rendez-vous : à relancer.", row.subject_alias),
                &format!("{} missed their appointment: to follow up.", row.subject_alias),
                id,
            )?;
        }
        let row = load(conn, id)?;
        view(conn, row)
    })
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Appointment> {
    let row = load(conn, id)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    view(conn, row)
}

/// The centre's appointments whose slot starts between two instants (a day, a week).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    status: Option<AppointmentStatus>,
) -> Result<Vec<Appointment>> {
    let mut query = appointments::table
        .inner_join(slots_table::table)
        .filter(appointments::organisation_id.eq(caller.organisation_id.to_string()))
        .filter(slots_table::starts_at.ge(time::to_db(from)))
        .filter(slots_table::starts_at.lt(time::to_db(to)))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(appointments::status.eq(status.as_str()));
    }
    let rows: Vec<Row> = query
        .order(slots_table::starts_at.asc())
        .limit(1000)
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// A reminder to send: which appointment, and which one of the two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reminder {
    DayBefore,
    TwoHours,
}

/// Booked appointments reached by a reminder at `now` and not yet reminded, with their
/// slot: the day before (from 24 hours ahead) and two hours before.
pub fn due_reminders(conn: &mut DbConn, now: DateTime<Utc>) -> Result<Vec<(Row, slots::SlotRow, Reminder)>> {
    let rows: Vec<(Row, slots::SlotRow)> = appointments::table
        .inner_join(slots_table::table)
        .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
        .filter(appointments::conversation_id.is_not_null())
        .filter(appointments::reminded_two_hours.eq(false))
        .filter(slots_table::starts_at.gt(time::to_db(now)))
        .filter(slots_table::starts_at.le(time::to_db(now + Duration::hours(24))))
        .select((Row::as_select(), slots::SlotRow::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(row, slot)| {
            let starts = time::from_db(slot.starts_at);
            let which = if starts - Duration::hours(2) <= now {
                Reminder::TwoHours
            } else if !row.reminded_day_before {
                Reminder::DayBefore
            } else {
                return None;
            };
            Some((row, slot, which))
        })
        .collect())
}

/// Records a reminder as sent, once (compare-and-set): true when this call recorded it.
pub fn mark_reminded(conn: &mut DbConn, id: &str, which: &Reminder) -> Result<bool> {
    let updated = match which {
        Reminder::DayBefore => diesel::update(
            appointments::table
                .find(id)
                .filter(appointments::reminded_day_before.eq(false)),
        )
        .set(appointments::reminded_day_before.eq(true))
        .execute(conn)?,
        Reminder::TwoHours => diesel::update(
            appointments::table
                .find(id)
                .filter(appointments::reminded_two_hours.eq(false)),
        )
        .set((
            appointments::reminded_two_hours.eq(true),
            appointments::reminded_day_before.eq(true),
        ))
        .execute(conn)?,
    };
    Ok(updated == 1)
}
