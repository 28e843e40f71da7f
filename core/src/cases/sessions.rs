//! Sessions of a case (individual, group, responsibility course) and their attendance:
//! planned, attended, excused absence, unexcused absence. A session may come from an
//! appointment and count toward a care obligation.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{SessionKind, SessionStatus};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::centres::referrals::actor_label;
use crate::db::schema::{appointments, case_sessions, measures};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = case_sessions)]
struct Row {
    id: String,
    case_id: String,
    kind: String,
    planned_at: chrono::NaiveDateTime,
    status: String,
    appointment_id: Option<String>,
    measure_id: Option<String>,
    created_by: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Session {
    pub id: String,
    pub kind: SessionKind,
    pub planned_at: DateTime<Utc>,
    pub status: SessionStatus,
    pub appointment_id: Option<String>,
    pub measure_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(r: Row) -> Result<Session> {
    Ok(Session {
        kind: r.kind.parse()?,
        status: r.status.parse()?,
        planned_at: time::from_db(r.planned_at),
        updated_at: time::from_db(r.updated_at),
        created_at: time::from_db(r.created_at),
        created_by: r.created_by,
        id: r.id,
        appointment_id: r.appointment_id,
        measure_id: r.measure_id,
    })
}

pub struct NewSession {
    pub kind: SessionKind,
    pub planned_at: DateTime<Utc>,
    pub appointment_id: Option<String>,
    pub measure_id: Option<String>,
}

pub fn add(conn: &mut DbConn, caller: &Caller, case_id: &str, new: NewSession) -> Result<Session> {
    write_tx(conn, |conn| {
        super::owned(conn, caller, case_id)?;
        if let Some(measure) = &new.measure_id {
            let of: Option<String> = measures::table
                .find(measure)
                .select(measures::case_id)
                .first(conn)
                .optional()?;
            if of.as_deref() != Some(case_id) {
                return Err(Error::invalid("measure_id", "not a measure of this case"));
            }
        }
        if let Some(appointment) = &new.appointment_id {
            let of: Option<String> = appointments::table
                .find(appointment)
                .select(appointments::organisation_id)
                .first(conn)
                .optional()?;
            if of.as_deref() != Some(caller.organisation_id.to_string().as_str()) {
                return Err(Error::invalid("appointment_id", "not an appointment of this centre"));
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = time::to_db(time::now());
        diesel::insert_into(case_sessions::table)
            .values((
                case_sessions::id.eq(&id),
                case_sessions::case_id.eq(case_id),
                case_sessions::kind.eq(new.kind.as_str()),
                case_sessions::planned_at.eq(time::to_db(new.planned_at)),
                case_sessions::status.eq(SessionStatus::Planned.as_str()),
                case_sessions::appointment_id.eq(&new.appointment_id),
                case_sessions::measure_id.eq(&new.measure_id),
                case_sessions::created_by.eq(actor_label(&caller.actor())),
                case_sessions::created_at.eq(now),
                case_sessions::updated_at.eq(now),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("session.create")
                .object("session", &id)
                .details(serde_json::json!({ "case": case_id })),
        )?;
        view(case_sessions::table.find(&id).select(Row::as_select()).first(conn)?)
    })
}

/// Records attendance. A session is only marked once it took place (not in the future).
pub fn set_status(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
    status: SessionStatus,
    now: DateTime<Utc>,
) -> Result<Session> {
    write_tx(conn, |conn| {
        let row: Row = case_sessions::table
            .find(id)
            .select(Row::as_select())
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        super::owned(conn, caller, &row.case_id)?;
        if status != SessionStatus::Planned && time::from_db(row.planned_at) > now {
            return Err(Error::Conflict(
                "attendance is recorded once the session has taken place".into(),
            ));
        }
        diesel::update(case_sessions::table.find(id))
            .set((
                case_sessions::status.eq(status.as_str()),
                case_sessions::updated_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
        // A partner whose referral opened the case hears of attendance, and of a correction
        // to what it was told; a session that came from an appointment was told through the
        // appointment; a session of another court's measure is not its business.
        let previous: SessionStatus = row.status.parse()?;
        let told = |s: SessionStatus| matches!(s, SessionStatus::Attended | SessionStatus::Unexcused);
        if row.appointment_id.is_none()
            && previous != status
            && (told(status) || told(previous))
            && let Some(referral) = crate::partners::events::referral_of_case(conn, &row.case_id)?
        {
            let measure_reference: Option<String> = match &row.measure_id {
                Some(measure) => Some(
                    measures::table
                        .find(measure)
                        .select(measures::decision_reference)
                        .first(conn)?,
                ),
                None => None,
            };
            let occasion = crate::partners::events::Occasion::Session {
                id,
                case_id: &row.case_id,
                measure_reference: measure_reference.as_deref(),
            };
            if told(previous) {
                crate::partners::events::attendance_corrected(
                    conn,
                    &referral,
                    occasion,
                    status.as_str(),
                    time::from_db(row.planned_at),
                )?;
            } else {
                crate::partners::events::attendance(
                    conn,
                    &referral,
                    occasion,
                    status == SessionStatus::Attended,
                    time::from_db(row.planned_at),
                )?;
            }
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("session.attendance")
                .object("session", id)
                .details(serde_json::json!({ "status": status.as_str() })),
        )?;
        view(case_sessions::table.find(id).select(Row::as_select()).first(conn)?)
    })
}

pub fn list(conn: &mut DbConn, caller: &Caller, case_id: &str) -> Result<Vec<Session>> {
    super::owned(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("session.list").object("case", case_id),
    )?;
    let rows: Vec<Row> = case_sessions::table
        .filter(case_sessions::case_id.eq(case_id))
        .order(case_sessions::planned_at.asc())
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter().map(view).collect()
}
