//! What a partner is told, and only about its own referrals: the centre's decision, an
//! appointment or session kept or missed, a certificate issued. Each names the partner's
//! referral and its decision reference, never the person.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::webhooks;
use crate::accounts::model::OrganisationKind;
use crate::accounts::organisations;
use crate::db::DbConn;
use crate::db::schema::{cases, referrals};
use crate::error::Result;
use crate::ids::OrganisationId;

pub mod kind {
    pub const REFERRAL_ACCEPTED: &str = "referral.accepted";
    pub const REFERRAL_REJECTED: &str = "referral.rejected";
    pub const APPOINTMENT_KEPT: &str = "appointment.kept";
    pub const APPOINTMENT_MISSED: &str = "appointment.missed";
    /// An attendance already told was corrected (a missed session excused, a kept one undone).
    pub const ATTENDANCE_CORRECTED: &str = "attendance.corrected";
    pub const CERTIFICATE_ISSUED: &str = "certificate.issued";
}

/// The partner that sent `referral_id` and the decision reference, when a partner sent it.
fn sent_by_partner(conn: &mut DbConn, referral_id: &str) -> Result<Option<(String, Option<String>)>> {
    let row: Option<(String, Option<String>)> = referrals::table
        .find(referral_id)
        .select((referrals::source_org_id, referrals::decision_reference))
        .first(conn)
        .optional()?;
    let Some((source, reference)) = row else {
        return Ok(None);
    };
    let kind = organisations::find(conn, OrganisationId::from_db(&source))?.kind;
    Ok((kind == OrganisationKind::Partner).then_some((source, reference)))
}

/// The referral a case came from, if any.
pub fn referral_of_case(conn: &mut DbConn, case_id: &str) -> Result<Option<String>> {
    Ok(cases::table
        .find(case_id)
        .select(cases::referral_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Tells the partner that sent the referral, unless what happened belongs to another court's
/// measure (`measure_reference` differs from the referral's decision).
fn tell(
    conn: &mut DbConn,
    referral_id: &str,
    case_id: Option<&str>,
    measure_reference: Option<&str>,
    event: &str,
    mut data: serde_json::Value,
) -> Result<()> {
    let Some((partner, reference)) = sent_by_partner(conn, referral_id)? else {
        return Ok(());
    };
    if measure_reference.is_some() && measure_reference != reference.as_deref() {
        return Ok(());
    }
    if let Some(object) = data.as_object_mut() {
        object.insert("referral_id".into(), referral_id.into());
        object.insert("decision_reference".into(), reference.into());
    }
    webhooks::enqueue(conn, &partner, case_id, event, data)?;
    Ok(())
}

/// The centre accepted or rejected the partner's referral.
pub fn referral_decided(conn: &mut DbConn, referral_id: &str, accepted: bool, reason: Option<&str>) -> Result<()> {
    let (event, data) = if accepted {
        (kind::REFERRAL_ACCEPTED, serde_json::json!({ "status": "accepted" }))
    } else {
        (
            kind::REFERRAL_REJECTED,
            serde_json::json!({ "status": "rejected", "rejection_reason": reason }),
        )
    };
    tell(conn, referral_id, None, None, event, data)
}

/// Where an attendance was recorded: an appointment booked for the referral, or a session
/// of the case opened from it (with the case, and the decision of the measure it counts for).
pub enum Occasion<'a> {
    Appointment(&'a str),
    Session {
        id: &'a str,
        case_id: &'a str,
        measure_reference: Option<&'a str>,
    },
}

type OccasionParts<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);

impl<'a> Occasion<'a> {
    fn parts(&self) -> OccasionParts<'a> {
        match *self {
            Occasion::Appointment(id) => (Some(id), None, None, None),
            Occasion::Session {
                id,
                case_id,
                measure_reference,
            } => (None, Some(id), Some(case_id), measure_reference),
        }
    }
}

/// The person came (or did not come) to an appointment or session that follows from the
/// partner's referral.
pub fn attendance(
    conn: &mut DbConn,
    referral_id: &str,
    occasion: Occasion<'_>,
    kept: bool,
    scheduled_at: DateTime<Utc>,
) -> Result<()> {
    let (appointment_id, session_id, case_id, measure_reference) = occasion.parts();
    let event = if kept {
        kind::APPOINTMENT_KEPT
    } else {
        kind::APPOINTMENT_MISSED
    };
    tell(
        conn,
        referral_id,
        case_id,
        measure_reference,
        event,
        serde_json::json!({
            "appointment_id": appointment_id,
            "session_id": session_id,
            "scheduled_at": scheduled_at,
        }),
    )
}

/// An attendance the partner was told of changed: `status` is the new one (for a session
/// `planned`, `attended`, `excused` or `unexcused`; for an appointment `booked`, `arrived`,
/// `fulfilled`, `noshow` or `cancelled`).
pub fn attendance_corrected(
    conn: &mut DbConn,
    referral_id: &str,
    occasion: Occasion<'_>,
    status: &str,
    scheduled_at: DateTime<Utc>,
) -> Result<()> {
    let (appointment_id, session_id, case_id, measure_reference) = occasion.parts();
    tell(
        conn,
        referral_id,
        case_id,
        measure_reference,
        kind::ATTENDANCE_CORRECTED,
        serde_json::json!({
            "appointment_id": appointment_id,
            "session_id": session_id,
            "scheduled_at": scheduled_at,
            "status": status,
        }),
    )
}

/// A certificate was issued for a case opened from the partner's referral. The verification
/// code is not sent (it is kept nowhere in clear): the court reads it on the certificate.
pub fn certificate_issued(
    conn: &mut DbConn,
    referral_id: &str,
    case_id: &str,
    measure_reference: Option<&str>,
    certificate_id: &str,
    dates_attended: &[NaiveDate],
) -> Result<()> {
    tell(
        conn,
        referral_id,
        Some(case_id),
        measure_reference,
        kind::CERTIFICATE_ISSUED,
        serde_json::json!({
            "certificate_id": certificate_id,
            "dates_attended": dates_attended,
        }),
    )
}
