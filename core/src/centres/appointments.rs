//! Appointments, with FHIR's statuses (`booked`, `arrived`, `fulfilled`, `cancelled`,
//! `noshow`). Booking takes a seat with one conditional update (`booked < seats`), so two
//! people can never take the last seat at once, on either database. The booking notice is
//! enforced for everyone; the cancellation notice for the person (a centre may always
//! cancel, with a reason). The centre hears of bookings, cancellations and no-shows by email.
//! Attendance is only recorded once it can be known: an arrival or an outcome from the
//! appointment's day (in the centre's zone), a no-show once the slot has started. A wrong
//! attendance is corrected with a reason, kept with every step, audited, and told to the
//! partner that sent the referral (`attendance.corrected`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::AppointmentStatus;
use super::profiles;
use super::slots::{self, Slot};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::db::schema::{appointment_corrections, appointments, slots as slots_table};
use crate::db::{DbConn, write_tx};
use crate::email;
use crate::error::{Error, Result};
use crate::helpline::events;
use crate::helpline::model::Language;
use crate::ids::OrganisationId;
use crate::page::{Cursor, Page, PageRequest};
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
    write_tx(conn, |conn| {
        diesel::update(slots_table::table.find(slot_id).filter(slots_table::booked.gt(0)))
            .set(slots_table::booked.eq(slots_table::booked - 1))
            .execute(conn)?;
        Ok(())
    })
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

/// Refuses attendance recorded ahead of time: `next` (arrived, fulfilled) before the
/// appointment's day in the centre's zone, or a no-show before the slot starts. Other
/// statuses are not attendance and pass.
fn check_attendance_time(
    conn: &mut DbConn,
    organisation: &str,
    starts: DateTime<Utc>,
    next: AppointmentStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let tz = crate::accounts::organisations::find(conn, OrganisationId::from_db(organisation))?.tz();
    let day = starts.with_timezone(&tz).date_naive();
    let (fr_date, en_date) = (
        super::wording::long_date(day, Language::French),
        super::wording::long_date(day, Language::English),
    );
    match next {
        AppointmentStatus::Arrived | AppointmentStatus::Fulfilled if now.with_timezone(&tz).date_naive() < day => {
            Err(Error::Conflict(format!(
                "Ce rendez-vous a lieu le {fr_date} : l'arrivée et l'issue s'enregistrent à partir de ce jour-là. \
                 / This appointment is on {en_date}: arrival and outcome are recorded from that day on."
            )))
        }
        AppointmentStatus::Noshow if now < starts => Err(Error::Conflict(format!(
            "Ce rendez-vous n'a pas encore commencé ({}) : une absence s'enregistre après l'heure prévue. \
             / This appointment has not started yet ({}): a no-show is recorded after its time.",
            super::wording::local_time(starts, tz, Language::French),
            super::wording::local_time(starts, tz, Language::English),
        ))),
        _ => Ok(()),
    }
}

/// Moves `row` from `from` to `next` once the time rules allow it (compare-and-set on the
/// status); returns when the slot starts.
fn move_attendance(
    conn: &mut DbConn,
    row: &Row,
    from: AppointmentStatus,
    next: AppointmentStatus,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    write_tx(conn, |conn| {
        let starts = time::from_db(slots::load(conn, &row.slot_id)?.starts_at);
        check_attendance_time(conn, &row.organisation_id, starts, next, now)?;
        let updated = diesel::update(
            appointments::table
                .find(&row.id)
                .filter(appointments::status.eq(from.as_str())),
        )
        .set((
            appointments::status.eq(next.as_str()),
            appointments::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(Error::Conflict("the appointment changed meanwhile: reload it".into()));
        }
        Ok(starts)
    })
}

/// A centre's move: arrived, fulfilled, no-show, or cancelled with a reason. Attendance is
/// refused ahead of time (see `check_attendance_time`).
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
        let starts = move_attendance(conn, &row, status, next, now)?;
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
            crate::partners::events::attendance(
                conn,
                referral,
                crate::partners::events::Occasion::Appointment(id),
                next == AppointmentStatus::Arrived,
                starts,
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

/// What a partner was told of an appointment's attendance: kept (arrived, fulfilled),
/// missed (no-show), or nothing yet.
fn told_as(status: AppointmentStatus) -> Option<bool> {
    match status {
        AppointmentStatus::Arrived | AppointmentStatus::Fulfilled => Some(true),
        AppointmentStatus::Noshow => Some(false),
        AppointmentStatus::Booked | AppointmentStatus::Cancelled => None,
    }
}

/// One step of an appointment's corrections.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Correction {
    pub id: String,
    pub from_status: AppointmentStatus,
    pub to_status: AppointmentStatus,
    pub reason: String,
    pub corrected_by: String,
    pub corrected_at: DateTime<Utc>,
}

/// Corrects a recorded attendance: an arrived, fulfilled or no-show appointment becomes
/// another of these, or booked again (recorded by mistake ahead of time), with a reason.
/// Cancelling stays `set_status`'s move (it frees the seat). The new status obeys the same
/// time rules as a first recording. The step is kept with its reason, audited (without the
/// reason: the audit holds no free text), shown live, and a partner whose referral led here
/// hears `attendance.corrected` when what it was told changes.
pub fn correct(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    to: AppointmentStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(Appointment, Correction)> {
    let row = load(conn, id)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    let reason = crate::values::parse_label("reason", reason, 300)?;
    if to == AppointmentStatus::Cancelled {
        return Err(Error::invalid(
            "status",
            "a correction leads to booked, arrived, fulfilled or noshow; cancel through the status change",
        ));
    }
    write_tx(conn, |conn| {
        let row = load(conn, id)?;
        let from: AppointmentStatus = row.status.parse()?;
        if told_as(from).is_none() {
            return Err(Error::Conflict(format!(
                "Seule une présence ou une absence enregistrée se corrige (ce rendez-vous est {}). \
                 / Only a recorded attendance is corrected (this appointment is {}).",
                from.as_str(),
                from.as_str()
            )));
        }
        if from == to {
            return Err(Error::Conflict(format!(
                "Ce rendez-vous est déjà {}. / This appointment is already {}.",
                to.as_str(),
                to.as_str()
            )));
        }
        let starts = move_attendance(conn, &row, from, to, now)?;
        let correction = Correction {
            id: uuid::Uuid::new_v4().to_string(),
            from_status: from,
            to_status: to,
            reason,
            corrected_by: crate::centres::referrals::actor_label(&caller.actor()),
            corrected_at: now,
        };
        diesel::insert_into(appointment_corrections::table)
            .values((
                appointment_corrections::id.eq(&correction.id),
                appointment_corrections::appointment_id.eq(id),
                appointment_corrections::from_status.eq(from.as_str()),
                appointment_corrections::to_status.eq(to.as_str()),
                appointment_corrections::reason.eq(&correction.reason),
                appointment_corrections::corrected_by.eq(&correction.corrected_by),
                appointment_corrections::corrected_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("appointment.correct")
                .object("appointment", id)
                .details(serde_json::json!({
                    "from": from.as_str(),
                    "to": to.as_str(),
                    "correction": correction.id,
                })),
        )?;
        events::record_for_centre(
            conn,
            &row.organisation_id,
            events::kind::APPOINTMENT_STATUS,
            id,
            Some(to.as_str()),
        )?;
        if let Some(referral) = &row.referral_id
            && told_as(from) != told_as(to)
        {
            crate::partners::events::attendance_corrected(
                conn,
                referral,
                crate::partners::events::Occasion::Appointment(id),
                to.as_str(),
                starts,
            )?;
        }
        let row = load(conn, id)?;
        Ok((view(conn, row)?, correction))
    })
}

/// An appointment's corrections, oldest first.
pub fn corrections(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Vec<Correction>> {
    let row = load(conn, id)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    let rows: Vec<(String, String, String, String, String, chrono::NaiveDateTime)> = appointment_corrections::table
        .filter(appointment_corrections::appointment_id.eq(id))
        .order(appointment_corrections::corrected_at.asc())
        .select((
            appointment_corrections::id,
            appointment_corrections::from_status,
            appointment_corrections::to_status,
            appointment_corrections::reason,
            appointment_corrections::corrected_by,
            appointment_corrections::corrected_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, from, to, reason, by, at)| {
            Ok(Correction {
                id,
                from_status: from.parse()?,
                to_status: to.parse()?,
                reason,
                corrected_by: by,
                corrected_at: time::from_db(at),
            })
        })
        .collect()
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Appointment> {
    let row = load(conn, id)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    view(conn, row)
}

/// The centre's appointments whose slot starts between two instants (a day, a week), the
/// earliest first, one page at a time.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    status: Option<AppointmentStatus>,
    page: &PageRequest,
) -> Result<Page<Appointment>> {
    let mut query = appointments::table
        .inner_join(slots_table::table)
        .filter(appointments::organisation_id.eq(caller.organisation_id.to_string()))
        .filter(slots_table::starts_at.ge(time::to_db(from)))
        .filter(slots_table::starts_at.lt(time::to_db(to)))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(appointments::status.eq(status.as_str()));
    }
    query = crate::after_cursor!(query, page, slots_table::starts_at, appointments::id, asc);
    let rows: Vec<(Row, chrono::NaiveDateTime)> = query
        .order((slots_table::starts_at.asc(), appointments::id.asc()))
        .limit(page.fetch())
        .select((Row::as_select(), slots_table::starts_at))
        .load(conn)?;
    Page::from_rows(
        rows,
        page,
        |(r, starts)| Cursor::at(*starts, &r.id),
        |(r, _)| view(conn, r),
    )
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
    write_tx(conn, |conn| {
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
    })
}
