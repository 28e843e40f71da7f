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

fn tell(conn: &mut DbConn, referral_id: &str, event: &str, mut data: serde_json::Value) -> Result<()> {
    let Some((partner, reference)) = sent_by_partner(conn, referral_id)? else {
        return Ok(());
    };
    if let Some(object) = data.as_object_mut() {
        object.insert("referral_id".into(), referral_id.into());
        object.insert("decision_reference".into(), reference.into());
    }
    webhooks::enqueue(conn, &partner, event, data)?;
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
    tell(conn, referral_id, event, data)
}

/// Where an attendance was recorded: an appointment booked for the referral, or a session
/// of the case opened from it.
pub enum Occasion<'a> {
    Appointment(&'a str),
    Session(&'a str),
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
    let (appointment_id, session_id) = match occasion {
        Occasion::Appointment(id) => (Some(id), None),
        Occasion::Session(id) => (None, Some(id)),
    };
    let event = if kept {
        kind::APPOINTMENT_KEPT
    } else {
        kind::APPOINTMENT_MISSED
    };
    tell(
        conn,
        referral_id,
        event,
        serde_json::json!({
            "appointment_id": appointment_id,
            "session_id": session_id,
            "scheduled_at": scheduled_at,
        }),
    )
}

/// A certificate was issued for a case opened from the partner's referral.
pub fn certificate_issued(
    conn: &mut DbConn,
    referral_id: &str,
    certificate_id: &str,
    verification_code: &str,
    dates_attended: &[NaiveDate],
) -> Result<()> {
    tell(
        conn,
        referral_id,
        kind::CERTIFICATE_ISSUED,
        serde_json::json!({
            "certificate_id": certificate_id,
            "verification_code": verification_code,
            "dates_attended": dates_attended,
        }),
    )
}
