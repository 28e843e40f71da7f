//! Attendance certificates for the court (attestations de suivi): made from the recorded
//! sessions only, at the moment of issue, and kept sealed so the same PDF can be produced
//! again. Each carries a verification code; anyone holding the code can check it is
//! genuine and for which dates, without learning the person's name.

pub mod code;
pub mod pdf;
pub mod typeset;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::model::{MeasureKind, SessionKind, SessionStatus};
use crate::access::Caller;
use crate::accounts::organisations;
use crate::audit::{self, Entry};
use crate::centres::referrals::actor_label;
use crate::crypto::{self, Secrets};
use crate::db::schema::{case_sessions, certificates, measures, users};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

/// What a certificate states, as issued. Sealed at rest (it holds the person's name).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Content {
    pub centre: String,
    pub person_name: Option<String>,
    pub person_born_on: Option<NaiveDate>,
    pub measure: Option<CertifiedMeasure>,
    pub period_from: Option<NaiveDate>,
    pub period_to: NaiveDate,
    pub sessions: Vec<CertifiedSession>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    /// The day of issue in the centre's zone, as printed.
    pub issued_on: NaiveDate,
    pub verification_code: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CertifiedMeasure {
    pub kind: MeasureKind,
    pub authority: String,
    pub decision_reference: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub sessions_required: Option<i32>,
}

/// One session attended, on its date in the centre's zone.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CertifiedSession {
    pub date: NaiveDate,
    pub kind: SessionKind,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = measures)]
struct MeasureRow {
    kind: String,
    authority: String,
    decision_reference: String,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    sessions_required: Option<i32>,
}

/// A certificate as its centre sees it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Certificate {
    pub id: String,
    pub case_id: String,
    pub measure_id: Option<String>,
    pub verification_code: String,
    pub period_from: Option<NaiveDate>,
    pub period_to: NaiveDate,
    pub sessions: Vec<CertifiedSession>,
    pub sessions_required: Option<i32>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
}

/// What the public check answers: no name, no birth date, no case.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Check {
    pub genuine: bool,
    pub message: &'static str,
    pub centre: String,
    pub measure_kind: Option<MeasureKind>,
    pub period_from: Option<NaiveDate>,
    pub period_to: NaiveDate,
    pub dates_attended: Vec<NaiveDate>,
    pub issued_at: DateTime<Utc>,
}

fn content_context(id: &str) -> String {
    format!("certificates.content:{id}")
}

fn code_domain() -> &'static str {
    "certificates.code"
}

fn open_content(secrets: &Secrets, id: &str, sealed: &[u8]) -> Result<Content> {
    let bytes = crypto::open(&secrets.field_key, &content_context(id), sealed)
        .map_err(|_| Error::Internal("a certificate could not be opened".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Internal(e.to_string()))
}

fn view(id: String, case_id: String, measure_id: Option<String>, content: Content) -> Certificate {
    Certificate {
        id,
        case_id,
        measure_id,
        verification_code: content.verification_code,
        period_from: content.period_from,
        period_to: content.period_to,
        sessions_required: content.measure.as_ref().and_then(|m| m.sessions_required),
        sessions: content.sessions,
        issued_by: content.issued_by,
        issued_at: content.issued_at,
    }
}

pub struct Request {
    pub measure_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Issues a certificate of the case's attended sessions (for a measure: those recorded for it;
/// without: all of them) between `from` (default: the measure's start) and `to` (default: today, or the measure's
/// end if sooner), dates in the centre's zone.
pub fn issue(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    case_id: &str,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Certificate> {
    write_tx(conn, |conn| {
        let owner = super::owned(conn, caller, case_id)?;
        let centre = organisations::find(conn, caller.organisation_id)?;
        let tz = centre.tz();
        let today = now.with_timezone(&tz).date_naive();
        let measure = match &request.measure_id {
            Some(measure_id) => {
                let row: MeasureRow = measures::table
                    .find(measure_id)
                    .filter(measures::case_id.eq(case_id))
                    .select(MeasureRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| Error::invalid("measure_id", "not a measure of this case"))?;
                let MeasureRow {
                    kind,
                    authority,
                    decision_reference,
                    starts_on,
                    ends_on,
                    sessions_required,
                } = row;
                Some(CertifiedMeasure {
                    kind: kind.parse()?,
                    authority,
                    decision_reference,
                    starts_on,
                    ends_on,
                    sessions_required,
                })
            }
            None => None,
        };
        // Never before the measure's decision, never after today or the measure's end.
        let from = match (&measure, request.from) {
            (Some(m), Some(f)) => Some(f.max(m.starts_on)),
            (Some(m), None) => Some(m.starts_on),
            (None, f) => f,
        };
        let to = request
            .to
            .unwrap_or(today)
            .min(today)
            .min(measure.as_ref().and_then(|m| m.ends_on).unwrap_or(today));
        if let Some(from) = from
            && from > to
        {
            return Err(Error::invalid("from", "the period starts after it ends"));
        }
        let rows: Vec<(chrono::NaiveDateTime, String, Option<String>)> = case_sessions::table
            .filter(case_sessions::case_id.eq(case_id))
            .filter(case_sessions::status.eq(SessionStatus::Attended.as_str()))
            .order(case_sessions::planned_at.asc())
            .select((
                case_sessions::planned_at,
                case_sessions::kind,
                case_sessions::measure_id,
            ))
            .load(conn)?;
        let mut sessions = Vec::new();
        for (planned_at, kind, of_measure) in rows {
            // For a measure: the sessions recorded for it (as its progress counts them).
            if request.measure_id.is_some() && of_measure != request.measure_id {
                continue;
            }
            let date = time::from_db(planned_at).with_timezone(&tz).date_naive();
            if from.is_some_and(|f| date < f) || date > to {
                continue;
            }
            sessions.push(CertifiedSession {
                date,
                kind: kind.parse()?,
            });
        }
        if sessions.is_empty() {
            return Err(Error::Conflict(
                "no attended session in that period: nothing to certify".into(),
            ));
        }
        let identity = super::files::identity_of(conn, secrets, case_id)?;
        let issued_by = match caller.user_id() {
            Some(user) => users::table
                .find(user.to_string())
                .select(users::display_name)
                .first::<String>(conn)?,
            None => actor_label(&caller.actor()),
        };
        let code = code::generate();
        let id = uuid::Uuid::new_v4().to_string();
        let content = Content {
            centre: centre.name.clone(),
            person_name: identity.name,
            person_born_on: identity.date_of_birth,
            measure,
            period_from: from,
            period_to: to,
            sessions,
            issued_by,
            issued_at: time::from_db(time::to_db(now)),
            issued_on: today,
            verification_code: code::display(&code),
        };
        let json = serde_json::to_vec(&content).map_err(|e| Error::Internal(e.to_string()))?;
        diesel::insert_into(certificates::table)
            .values((
                certificates::id.eq(&id),
                certificates::case_id.eq(case_id),
                certificates::organisation_id.eq(&owner),
                certificates::measure_id.eq(&request.measure_id),
                certificates::code_hmac.eq(crypto::hmac_hex(&secrets.hmac_pepper, code_domain(), code.as_bytes())),
                certificates::content_sealed.eq(crypto::seal(&secrets.field_key, &content_context(&id), &json)),
                certificates::issued_by.eq(actor_label(&caller.actor())),
                certificates::issued_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("certificate.issue")
                .object("certificate", &id)
                .details(serde_json::json!({ "case": case_id, "sessions": content.sessions.len() })),
        )?;
        if let Some(referral) = crate::partners::events::referral_of_case(conn, case_id)? {
            let dates: Vec<NaiveDate> = content.sessions.iter().map(|s| s.date).collect();
            crate::partners::events::certificate_issued(
                conn,
                &referral,
                case_id,
                content.measure.as_ref().map(|m| m.decision_reference.as_str()),
                &id,
                &dates,
            )?;
        }
        Ok(view(id, case_id.to_owned(), request.measure_id.clone(), content))
    })
}

/// The case's certificates, newest first.
pub fn list(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, case_id: &str) -> Result<Vec<Certificate>> {
    super::owned(conn, caller, case_id)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("certificate.list").object("case", case_id),
    )?;
    let rows: Vec<(String, Option<String>, Vec<u8>)> = certificates::table
        .filter(certificates::case_id.eq(case_id))
        .order(certificates::issued_at.desc())
        .select((certificates::id, certificates::measure_id, certificates::content_sealed))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, measure, sealed)| {
            let content = open_content(secrets, &id, &sealed)?;
            Ok(view(id, case_id.to_owned(), measure, content))
        })
        .collect()
}

/// The certificate's content, for its PDF; the owning centre only.
pub fn content(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, id: &str) -> Result<Content> {
    let row: (String, Vec<u8>) = certificates::table
        .find(id)
        .select((certificates::case_id, certificates::content_sealed))
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    super::owned(conn, caller, &row.0)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("certificate.read").object("certificate", id),
    )?;
    open_content(secrets, id, &row.1)
}

/// The public check: a code as printed (dashes and case do not matter). An unknown or
/// altered code is not found.
pub fn check(conn: &mut DbConn, secrets: &Secrets, printed: &str) -> Result<Check> {
    let code = code::parse(printed)
        .ok_or_else(|| Error::invalid("code", "a verification code is 20 letters and digits, as printed"))?;
    let lookup = crypto::hmac_hex(&secrets.hmac_pepper, code_domain(), code.as_bytes());
    let (id, sealed): (String, Vec<u8>) = certificates::table
        .filter(certificates::code_hmac.eq(&lookup))
        .select((certificates::id, certificates::content_sealed))
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let content = open_content(secrets, &id, &sealed)?;
    Ok(Check {
        genuine: true,
        message: "Attestation authentique, délivrée par ce centre pour ces dates. / Genuine certificate, issued by this centre for these dates.",
        centre: content.centre,
        measure_kind: content.measure.map(|m| m.kind),
        period_from: content.period_from,
        period_to: content.period_to,
        dates_attended: content.sessions.iter().map(|s| s.date).collect(),
        issued_at: content.issued_at,
    })
}

/// Certificates of a case, removed with it at erasure.
pub(crate) fn erase(conn: &mut DbConn, case_id: &str) -> Result<usize> {
    write_tx(conn, |conn| {
        Ok(diesel::delete(certificates::table.filter(certificates::case_id.eq(case_id))).execute(conn)?)
    })
}
