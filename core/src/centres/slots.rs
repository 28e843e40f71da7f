//! Availability that practitioners and managers publish, and the slots it makes: one-off or
//! weekly until an end date (in the centre's own zone, so 14:00 stays 14:00 across daylight
//! saving), each with a modality, a place, seats (a group session has several), a buffer
//! around it, and the booking and cancellation notice the server enforces. A practitioner's
//! slots never overlap, buffers included.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use diesel::prelude::*;

use super::model::Modality;
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::db::schema::{availabilities, slots, users};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::{OrganisationId, UserId};
use crate::time;

/// At most this many occurrences per publication (two years of a weekly slot).
const MAX_OCCURRENCES: usize = 104;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = availabilities)]
struct AvailabilityRow {
    id: String,
    organisation_id: String,
    practitioner_id: Option<String>,
    modality: String,
    location: String,
    first_start: chrono::NaiveDateTime,
    duration_minutes: i32,
    seats: i32,
    weekly: bool,
    repeat_until: Option<NaiveDate>,
    buffer_minutes: i32,
    booking_notice_minutes: i32,
    cancellation_notice_minutes: i32,
    created_by: String,
    created_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = slots)]
pub struct SlotRow {
    pub id: String,
    pub availability_id: String,
    pub organisation_id: String,
    pub practitioner_id: Option<String>,
    pub starts_at: chrono::NaiveDateTime,
    pub ends_at: chrono::NaiveDateTime,
    pub seats: i32,
    pub booked: i32,
    pub modality: String,
    pub location: String,
    pub buffer_minutes: i32,
    pub booking_notice_minutes: i32,
    pub cancellation_notice_minutes: i32,
    pub withdrawn: bool,
}

/// A slot as staff and the bot see it (FHIR: `free` while a seat is left).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Slot {
    pub id: String,
    pub availability_id: String,
    pub practitioner_id: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub seats: i32,
    pub booked: i32,
    pub status: &'static str,
    pub modality: Modality,
    pub location: String,
    pub buffer_minutes: i32,
    pub booking_notice_minutes: i32,
    pub cancellation_notice_minutes: i32,
}

impl From<SlotRow> for Slot {
    fn from(r: SlotRow) -> Self {
        Self {
            status: if r.withdrawn || r.booked >= r.seats {
                "busy"
            } else {
                "free"
            },
            modality: r.modality.parse().unwrap_or(Modality::OnSite),
            starts_at: time::from_db(r.starts_at),
            ends_at: time::from_db(r.ends_at),
            id: r.id,
            availability_id: r.availability_id,
            practitioner_id: r.practitioner_id,
            seats: r.seats,
            booked: r.booked,
            location: r.location,
            buffer_minutes: r.buffer_minutes,
            booking_notice_minutes: r.booking_notice_minutes,
            cancellation_notice_minutes: r.cancellation_notice_minutes,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewAvailability {
    pub practitioner_id: Option<UserId>,
    pub modality: Modality,
    pub location: String,
    pub first_start: DateTime<Utc>,
    pub duration_minutes: i32,
    pub seats: i32,
    /// Weekly until this local date (inclusive); one-off when None.
    pub repeat_weekly_until: Option<NaiveDate>,
    pub buffer_minutes: i32,
    pub booking_notice_minutes: i32,
    pub cancellation_notice_minutes: i32,
}

impl NewAvailability {
    fn check(&self, now: DateTime<Utc>) -> Result<()> {
        let in_range = |field: &str, value: i32, min: i32, max: i32| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(Error::invalid(field, format!("must be between {min} and {max}")))
            }
        };
        in_range("duration_minutes", self.duration_minutes, 5, 480)?;
        in_range("seats", self.seats, 1, 50)?;
        in_range("buffer_minutes", self.buffer_minutes, 0, 240)?;
        in_range("booking_notice_minutes", self.booking_notice_minutes, 0, 43_200)?;
        in_range(
            "cancellation_notice_minutes",
            self.cancellation_notice_minutes,
            0,
            43_200,
        )?;
        crate::values::parse_label("location", &self.location, 300)?;
        if self.first_start <= now {
            return Err(Error::invalid("starts_at", "must be in the future"));
        }
        if self.first_start > now + Duration::days(2 * 366) {
            return Err(Error::invalid("starts_at", "at most two years ahead"));
        }
        if let Some(until) = self.repeat_weekly_until {
            if until < self.first_start.date_naive() - Duration::days(1) {
                return Err(Error::invalid(
                    "repeat_weekly_until",
                    "must not be before the first slot",
                ));
            }
            if until > self.first_start.date_naive() + Duration::days(7 * MAX_OCCURRENCES as i64) {
                return Err(Error::invalid(
                    "repeat_weekly_until",
                    "at most two years of weekly slots at once",
                ));
            }
        }
        Ok(())
    }
}

/// The starts of every occurrence: the same local wall-clock time each week.
pub fn occurrences(first: DateTime<Utc>, tz: chrono_tz::Tz, weekly_until: Option<NaiveDate>) -> Vec<DateTime<Utc>> {
    let Some(until) = weekly_until else {
        return vec![first];
    };
    let local = first.with_timezone(&tz).naive_local();
    let mut out = Vec::new();
    for week in 0..MAX_OCCURRENCES as i64 {
        let naive = local + Duration::days(7 * week);
        if naive.date() > until {
            break;
        }
        // A wall-clock time skipped by a daylight-saving change moves an hour later.
        let resolved = tz
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| tz.from_local_datetime(&(naive + Duration::hours(1))).earliest());
        if let Some(at) = resolved {
            out.push(at.with_timezone(&Utc));
        }
    }
    out
}

/// Whether two slots of one practitioner collide, the larger buffer kept free between them.
fn collide(a: (DateTime<Utc>, DateTime<Utc>, i32), b: (DateTime<Utc>, DateTime<Utc>, i32)) -> bool {
    let gap = Duration::minutes(i64::from(a.2.max(b.2)));
    a.0 < b.1 + gap && b.0 < a.1 + gap
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Availability {
    pub id: String,
    pub slots: Vec<Slot>,
}

/// Publishes availability for the caller's centre; returns it with its slots.
pub fn publish(
    conn: &mut DbConn,
    caller: &Caller,
    tz: chrono_tz::Tz,
    new: NewAvailability,
    now: DateTime<Utc>,
) -> Result<Availability> {
    new.check(now)?;
    let organisation = caller.organisation_id;
    write_tx(conn, |conn| {
        if let Some(practitioner) = new.practitioner_id {
            let of: Option<String> = users::table
                .find(practitioner.to_string())
                .select(users::organisation_id)
                .first(conn)
                .optional()?;
            if of.as_deref() != Some(organisation.to_string().as_str()) {
                return Err(Error::invalid("practitioner_id", "not a member of this centre"));
            }
        }
        let duration = Duration::minutes(i64::from(new.duration_minutes));
        let starts = occurrences(new.first_start, tz, new.repeat_weekly_until);
        if let (Some(practitioner), Some(first), Some(last)) = (new.practitioner_id, starts.first(), starts.last()) {
            let window_start = time::to_db(*first - Duration::days(1));
            let window_end = time::to_db(*last + duration + Duration::days(1));
            let existing: Vec<SlotRow> = slots::table
                .filter(slots::practitioner_id.eq(practitioner.to_string()))
                .filter(slots::withdrawn.eq(false))
                .filter(slots::starts_at.lt(window_end))
                .filter(slots::ends_at.gt(window_start))
                .select(SlotRow::as_select())
                .load(conn)?;
            for start in &starts {
                let mine = (*start, *start + duration, new.buffer_minutes);
                if let Some(clash) = existing.iter().find(|s| {
                    collide(
                        mine,
                        (time::from_db(s.starts_at), time::from_db(s.ends_at), s.buffer_minutes),
                    )
                }) {
                    return Err(Error::Conflict(format!(
                        "overlaps the practitioner's slot {} (buffers included)",
                        clash.id
                    )));
                }
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let by = super::referrals::actor_label(&caller.actor());
        diesel::insert_into(availabilities::table)
            .values(&AvailabilityRow {
                id: id.clone(),
                organisation_id: organisation.to_string(),
                practitioner_id: new.practitioner_id.map(|p| p.to_string()),
                modality: new.modality.as_str().into(),
                location: new.location.trim().to_owned(),
                first_start: time::to_db(new.first_start),
                duration_minutes: new.duration_minutes,
                seats: new.seats,
                weekly: new.repeat_weekly_until.is_some(),
                repeat_until: new.repeat_weekly_until,
                buffer_minutes: new.buffer_minutes,
                booking_notice_minutes: new.booking_notice_minutes,
                cancellation_notice_minutes: new.cancellation_notice_minutes,
                created_by: by,
                created_at: time::to_db(now),
            })
            .execute(conn)?;
        let rows: Vec<SlotRow> = starts
            .iter()
            .map(|start| SlotRow {
                id: uuid::Uuid::new_v4().to_string(),
                availability_id: id.clone(),
                organisation_id: organisation.to_string(),
                practitioner_id: new.practitioner_id.map(|p| p.to_string()),
                starts_at: time::to_db(*start),
                ends_at: time::to_db(*start + duration),
                seats: new.seats,
                booked: 0,
                modality: new.modality.as_str().into(),
                location: new.location.trim().to_owned(),
                buffer_minutes: new.buffer_minutes,
                booking_notice_minutes: new.booking_notice_minutes,
                cancellation_notice_minutes: new.cancellation_notice_minutes,
                withdrawn: false,
            })
            .collect();
        for row in &rows {
            diesel::insert_into(slots::table).values(row).execute(conn)?;
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("availability.publish")
                .object("availability", &id)
                .details(serde_json::json!({ "slots": rows.len() })),
        )?;
        Ok(Availability {
            id,
            slots: rows.into_iter().map(Slot::from).collect(),
        })
    })
}

pub fn load(conn: &mut DbConn, id: &str) -> Result<SlotRow> {
    Ok(slots::table.find(id).select(SlotRow::as_select()).first(conn)?)
}

/// The next bookable slots of a centre: a seat left, not withdrawn, past its booking notice.
pub fn free(conn: &mut DbConn, organisation: &str, now: DateTime<Utc>, skip: usize, take: usize) -> Result<Vec<Slot>> {
    let candidates: Vec<SlotRow> = slots::table
        .filter(slots::organisation_id.eq(organisation))
        .filter(slots::withdrawn.eq(false))
        .filter(slots::booked.lt(slots::seats))
        .filter(slots::starts_at.gt(time::to_db(now)))
        .order(slots::starts_at.asc())
        .limit(500)
        .select(SlotRow::as_select())
        .load(conn)?;
    Ok(candidates
        .into_iter()
        .filter(|s| time::from_db(s.starts_at) - Duration::minutes(i64::from(s.booking_notice_minutes)) >= now)
        .skip(skip)
        .take(take)
        .map(Slot::from)
        .collect())
}

/// The centre's slots between two instants, for its staff.
pub fn list(
    conn: &mut DbConn,
    organisation: OrganisationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Slot>> {
    let rows: Vec<SlotRow> = slots::table
        .filter(slots::organisation_id.eq(organisation.to_string()))
        .filter(slots::withdrawn.eq(false))
        .filter(slots::starts_at.ge(time::to_db(from)))
        .filter(slots::starts_at.lt(time::to_db(to)))
        .order(slots::starts_at.asc())
        .limit(2000)
        .select(SlotRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Slot::from).collect())
}

/// Withdraws a slot nobody booked.
pub fn withdraw(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<()> {
    write_tx(conn, |conn| {
        let slot = load(conn, id)?;
        caller.scope(OrganisationId::from_db(&slot.organisation_id))?;
        let updated = diesel::update(slots::table.find(id).filter(slots::booked.eq(0)))
            .set(slots::withdrawn.eq(true))
            .execute(conn)?;
        if updated == 0 {
            return Err(Error::Conflict(
                "people are booked on this slot: cancel their appointments first".into(),
            ));
        }
        audit::record(conn, &caller.actor(), Entry::new("slot.withdraw").object("slot", id))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_slots_keep_their_local_time_across_daylight_saving() {
        // 14:00 in Paris on Thursday 22 October 2026 (UTC+2), weekly for three weeks: the
        // clocks go back on 25 October, so the next ones are at 13:00 UTC.
        let first = Utc.with_ymd_and_hms(2026, 10, 22, 12, 0, 0).unwrap();
        let until = NaiveDate::from_ymd_opt(2026, 11, 5).unwrap();
        let starts = occurrences(first, chrono_tz::Europe::Paris, Some(until));
        let hours: Vec<u32> = starts.iter().map(chrono::Timelike::hour).collect();
        assert_eq!(hours, [12, 13, 13]);
    }

    #[test]
    fn buffers_keep_slots_apart() {
        let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap();
        assert!(collide((at(9, 0), at(10, 0), 0), (at(9, 30), at(10, 30), 0)));
        assert!(
            !collide((at(9, 0), at(10, 0), 0), (at(10, 0), at(11, 0), 0)),
            "back to back"
        );
        assert!(
            collide((at(9, 0), at(10, 0), 15), (at(10, 0), at(11, 0), 0)),
            "buffer of 15 minutes"
        );
        assert!(!collide((at(9, 0), at(10, 0), 15), (at(10, 15), at(11, 0), 0)));
    }
}
