//! The person's rights over their file, exercised through the centre's staff: an export of
//! everything held on them, rectification (a case's identity is replaced through its update),
//! and erasure once the legal retention after closing has passed. All audited.
//!
//! A protected person's location is not the author's data and never leaves the server: the
//! export names protected persons by their label and radius only.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::CaseStatus;
use super::{certificates, files, measures, protected, records, sessions};
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::crypto::Secrets;
use crate::db::schema::{
    case_note_corrections, case_notes, case_practitioners, case_sessions, case_tasks, cases, housing_placements,
    housing_requests, measure_protected_persons, measures as measure_rows, protected_persons,
};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

/// Everything the centre holds on the person, as one JSON document.
pub fn export(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    case_id: &str,
    stall_after: crate::centres::referrals::Stall,
    now: DateTime<Utc>,
) -> Result<serde_json::Value> {
    super::owned(conn, caller, case_id)?;
    audit::record(conn, &caller.actor(), Entry::new("case.export").object("case", case_id))?;
    let case = files::get(conn, secrets, caller, case_id)?;
    let referral = match &case.referral_id {
        Some(id) => Some(crate::centres::referrals::get(conn, secrets, caller, id, stall_after)?),
        None => None,
    };
    let appointment = match &case.appointment_id {
        Some(id) => Some(crate::centres::appointments::get(conn, caller, id)?),
        None => None,
    };
    let json = |v: Result<serde_json::Value, serde_json::Error>| v.map_err(|e| Error::Internal(e.to_string()));
    Ok(serde_json::json!({
        "exported_at": now,
        "case": json(serde_json::to_value(&case))?,
        "referral": json(serde_json::to_value(&referral))?,
        "appointment": json(serde_json::to_value(&appointment))?,
        "measures": json(serde_json::to_value(measures::list(conn, secrets, caller, case_id)?))?,
        "protected_persons": json(serde_json::to_value(protected::list(conn, caller, case_id)?))?,
        "sessions": json(serde_json::to_value(sessions::list(conn, caller, case_id)?))?,
        "notes": json(serde_json::to_value(records::notes(conn, secrets, caller, case_id)?))?,
        "tasks": json(serde_json::to_value(records::tasks(conn, caller, case_id)?))?,
        "certificates": json(serde_json::to_value(certificates::list(conn, secrets, caller, case_id)?))?,
    }))
}

/// What an erasure removed.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Erased {
    pub measures: usize,
    pub protected_persons: usize,
    pub sessions: usize,
    pub notes: usize,
    pub tasks: usize,
    pub certificates: usize,
}

/// Erases a closed case whose retention has passed: the case and everything in it. The
/// referral and appointment it came from stay with the flow that made them (the sender keeps
/// its own record); the audit trail keeps that an erasure happened, with counts only.
pub fn erase(
    conn: &mut DbConn,
    caller: &Caller,
    case_id: &str,
    retention: Duration,
    now: DateTime<Utc>,
) -> Result<Erased> {
    write_tx(conn, |conn| {
        super::owned(conn, caller, case_id)?;
        let (status, closed_at, updated_at): (String, Option<chrono::NaiveDateTime>, chrono::NaiveDateTime) =
            cases::table
                .find(case_id)
                .select((cases::status, cases::closed_at, cases::updated_at))
                .first(conn)?;
        if status != CaseStatus::Closed.as_str() {
            return Err(Error::Conflict(
                "only a closed case is erased, once its retention has passed".into(),
            ));
        }
        let until = time::from_db(closed_at.unwrap_or(updated_at)) + retention;
        if now < until {
            return Err(Error::Conflict(format!(
                "the case is kept until {} (legal retention after closing)",
                until.date_naive()
            )));
        }
        let measure_ids: Vec<String> = measure_rows::table
            .filter(measure_rows::case_id.eq(case_id))
            .select(measure_rows::id)
            .load(conn)?;
        let mut erased = Erased {
            certificates: certificates::erase(conn, case_id)?,
            ..Erased::default()
        };
        crate::partners::webhooks::erase_for_case(conn, case_id)?;
        diesel::delete(
            measure_protected_persons::table.filter(measure_protected_persons::measure_id.eq_any(&measure_ids)),
        )
        .execute(conn)?;
        erased.sessions =
            diesel::delete(case_sessions::table.filter(case_sessions::case_id.eq(case_id))).execute(conn)?;
        erased.measures =
            diesel::delete(measure_rows::table.filter(measure_rows::case_id.eq(case_id))).execute(conn)?;
        erased.protected_persons =
            diesel::delete(protected_persons::table.filter(protected_persons::case_id.eq(case_id))).execute(conn)?;
        diesel::delete(case_note_corrections::table.filter(case_note_corrections::case_id.eq(case_id)))
            .execute(conn)?;
        erased.notes = diesel::delete(case_notes::table.filter(case_notes::case_id.eq(case_id))).execute(conn)?;
        erased.tasks = diesel::delete(case_tasks::table.filter(case_tasks::case_id.eq(case_id))).execute(conn)?;
        diesel::delete(case_practitioners::table.filter(case_practitioners::case_id.eq(case_id))).execute(conn)?;
        // Open housing requests are withdrawn (nothing is left to match them against);
        // requests and placements stay, unlinked, so the national inventory stays whole.
        diesel::update(
            housing_requests::table
                .filter(housing_requests::case_id.eq(case_id))
                .filter(housing_requests::status.eq("open")),
        )
        .set(housing_requests::status.eq("withdrawn"))
        .execute(conn)?;
        diesel::update(housing_requests::table.filter(housing_requests::case_id.eq(case_id)))
            .set(housing_requests::case_id.eq(None::<String>))
            .execute(conn)?;
        diesel::update(housing_placements::table.filter(housing_placements::case_id.eq(case_id)))
            .set(housing_placements::case_id.eq(None::<String>))
            .execute(conn)?;
        diesel::delete(cases::table.find(case_id)).execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("case.erase")
                .object("case", case_id)
                .details(serde_json::json!({
                    "measures": erased.measures,
                    "protected_persons": erased.protected_persons,
                    "sessions": erased.sessions,
                    "notes": erased.notes,
                    "tasks": erased.tasks,
                    "certificates": erased.certificates,
                })),
        )?;
        Ok(erased)
    })
}
