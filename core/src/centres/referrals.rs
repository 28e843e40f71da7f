//! Referrals: one state machine wherever a person is handed over (helpline → centre today;
//! housing platform and justice partners later). `pending → accepted | rejected → done`, or
//! `revoked`; who and when at each step; a snapshot of both organisations as they were; the
//! legal basis. A pending referral untouched past a delay shows as stalled.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::{Authority, LegalBasis, LegalBasisKind, ReferralStatus};
use super::profiles;
use crate::access::{Actor, Caller};
use crate::accounts::model::OrganisationKind;
use crate::accounts::organisations;
use crate::audit::{self, Entry};
use crate::crypto::{self, Secrets};
use crate::db::schema::referrals;
use crate::db::{DbConn, write_tx};
use crate::email;
use crate::error::{Error, Result};
use crate::ids::OrganisationId;
use crate::page::{Cursor, Page, PageRequest};
use crate::time;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
struct Row {
    id: String,
    source_org_id: String,
    target_org_id: String,
    source_snapshot: String,
    target_snapshot: String,
    subject_alias: String,
    conversation_id: Option<String>,
    summary_sealed: Vec<u8>,
    status: String,
    legal_basis: String,
    consent_at: Option<chrono::NaiveDateTime>,
    authority: Option<String>,
    decision_reference: Option<String>,
    order_ends_on: Option<chrono::NaiveDate>,
    rejection_reason: Option<String>,
    created_by: String,
    created_at: chrono::NaiveDateTime,
    decided_by: Option<String>,
    decided_at: Option<chrono::NaiveDateTime>,
    done_by: Option<String>,
    done_at: Option<chrono::NaiveDateTime>,
    revoked_by: Option<String>,
    revoked_at: Option<chrono::NaiveDateTime>,
    updated_at: chrono::NaiveDateTime,
    partner_reference: Option<String>,
}

/// An organisation as it was when the referral was made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub id: String,
    pub name: String,
    pub kind: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Step {
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Referral {
    pub id: String,
    pub source: Snapshot,
    pub target: Snapshot,
    /// The person as the centre knows them before the first appointment (`Contact K7F3`).
    pub subject_alias: String,
    pub summary: String,
    pub status: ReferralStatus,
    pub legal_basis: LegalBasisKind,
    pub consent_at: Option<DateTime<Utc>>,
    pub authority: Option<String>,
    pub decision_reference: Option<String>,
    pub order_ends_on: Option<chrono::NaiveDate>,
    /// The referring organisation's own reference for the file, if it gave one.
    pub partner_reference: Option<String>,
    pub rejection_reason: Option<String>,
    pub created: Step,
    pub decided: Option<Step>,
    pub done: Option<Step>,
    pub revoked: Option<Step>,
    pub stalled: bool,
    #[serde(skip)]
    pub conversation_id: Option<String>,
}

fn summary_context(id: &str) -> String {
    format!("referrals.summary:{id}")
}

fn step(by: Option<String>, at: Option<chrono::NaiveDateTime>) -> Option<Step> {
    Some(Step {
        by: by?,
        at: time::from_db(at?),
    })
}

/// When a pending referral shows as stalled: untouched for `after`, seen at `now` (the
/// server's clock).
#[derive(Clone, Copy, Debug)]
pub struct Stall {
    pub after: Duration,
    pub now: DateTime<Utc>,
}

fn view(row: Row, secrets: &Secrets, stall: Stall) -> Result<Referral> {
    let summary = crypto::open(&secrets.field_key, &summary_context(&row.id), &row.summary_sealed)
        .map_err(|_| Error::Internal("a referral summary could not be opened".into()))?;
    let status: ReferralStatus = row.status.parse()?;
    let snapshot = |json: &str| serde_json::from_str::<Snapshot>(json).map_err(|e| Error::Internal(e.to_string()));
    Ok(Referral {
        stalled: status == ReferralStatus::Pending && time::from_db(row.updated_at) + stall.after < stall.now,
        source: snapshot(&row.source_snapshot)?,
        target: snapshot(&row.target_snapshot)?,
        subject_alias: row.subject_alias,
        summary: String::from_utf8_lossy(&summary).into_owned(),
        status,
        legal_basis: row.legal_basis.parse()?,
        consent_at: row.consent_at.map(time::from_db),
        authority: row.authority,
        decision_reference: row.decision_reference,
        partner_reference: row.partner_reference,
        order_ends_on: row.order_ends_on,
        rejection_reason: row.rejection_reason,
        created: Step {
            by: row.created_by,
            at: time::from_db(row.created_at),
        },
        decided: step(row.decided_by, row.decided_at),
        done: step(row.done_by, row.done_at),
        revoked: step(row.revoked_by, row.revoked_at),
        conversation_id: row.conversation_id,
        id: row.id,
    })
}

fn snapshot(conn: &mut DbConn, id: OrganisationId) -> Result<(Snapshot, OrganisationKind)> {
    let org = organisations::find(conn, id)?;
    Ok((
        Snapshot {
            id: org.id.to_string(),
            name: org.name,
            kind: org.kind.as_str().to_owned(),
        },
        org.kind,
    ))
}

pub struct NewReferral {
    pub source: OrganisationId,
    pub target: OrganisationId,
    pub subject_alias: String,
    pub conversation_id: Option<String>,
    pub summary: String,
    pub basis: LegalBasis,
    /// The referring organisation's own reference for the file (checked by the caller).
    pub partner_reference: Option<String>,
}

/// Who did it, as stored: `user:<id>`, `api_key:<id>` or `system`.
pub fn actor_label(actor: &Actor) -> String {
    match actor.kind {
        crate::access::ActorKind::User(id) => format!("user:{id}"),
        crate::access::ActorKind::ApiKey(id) => format!("api_key:{id}"),
        crate::access::ActorKind::System | crate::access::ActorKind::Anonymous => "system".into(),
    }
}

/// Creates a pending referral and tells the receiving centre by email. Call inside a
/// transaction (the orientation dialogue) or on its own.
pub fn create(conn: &mut DbConn, secrets: &Secrets, actor: &Actor, new: NewReferral) -> Result<String> {
    create_to(conn, secrets, actor, new, OrganisationKind::Centre)
}

/// Creates a pending referral to an organisation of `kind`: a care centre, or the housing
/// platform (a housing request).
pub(crate) fn create_to(
    conn: &mut DbConn,
    secrets: &Secrets,
    actor: &Actor,
    new: NewReferral,
    to: OrganisationKind,
) -> Result<String> {
    let summary = new.summary.trim();
    if summary.is_empty() || summary.chars().count() > 2000 {
        return Err(Error::invalid("summary", "a summary has 1 to 2000 characters"));
    }
    write_tx(conn, |conn| {
        let (source, _) = snapshot(conn, new.source)?;
        let (target, kind) = snapshot(conn, new.target)?;
        if kind != to {
            return Err(Error::invalid("centre_id", "referrals go to a care centre"));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = time::to_db(time::now());
        let (consent_at, authority, decision_reference, order_ends_on) = match &new.basis {
            LegalBasis::Voluntary { consent_at } => (Some(time::to_db(*consent_at)), None, None, None),
            LegalBasis::CourtOrdered {
                authority,
                decision_reference,
                ends_on,
            } => (
                None,
                Some(authority.as_str().to_owned()),
                Some(decision_reference.clone()),
                Some(*ends_on),
            ),
        };
        let row = Row {
            summary_sealed: crypto::seal(&secrets.field_key, &summary_context(&id), summary.as_bytes()),
            id: id.clone(),
            source_org_id: new.source.to_string(),
            target_org_id: new.target.to_string(),
            source_snapshot: serde_json::to_string(&source).map_err(|e| Error::Internal(e.to_string()))?,
            target_snapshot: serde_json::to_string(&target).map_err(|e| Error::Internal(e.to_string()))?,
            subject_alias: new.subject_alias.clone(),
            conversation_id: new.conversation_id.clone(),
            status: ReferralStatus::Pending.as_str().into(),
            legal_basis: new.basis.kind().as_str().into(),
            consent_at,
            authority,
            decision_reference,
            order_ends_on,
            rejection_reason: None,
            created_by: actor_label(actor),
            created_at: now,
            decided_by: None,
            decided_at: None,
            done_by: None,
            done_at: None,
            revoked_by: None,
            revoked_at: None,
            updated_at: now,
            partner_reference: new.partner_reference.clone(),
        };
        diesel::insert_into(referrals::table).values(&row).execute(conn)?;
        audit::record(
            conn,
            actor,
            Entry::new("referral.create")
                .object("referral", &id)
                .details(serde_json::json!({ "target": new.target, "basis": new.basis.kind().as_str() })),
        )?;
        crate::helpline::events::record_for_centre(
            conn,
            &new.target.to_string(),
            crate::helpline::events::kind::REFERRAL_NEW,
            &id,
            None,
        )?;
        if let Some(to) = profiles::get(conn, new.target)?.notify_email {
            email::enqueue(
                conn,
                &to,
                "Nouvelle orientation / New referral",
                &format!(
                    "Bonjour,\n\n{} vous adresse une nouvelle orientation : {}.\nPour l'accepter ou la refuser : {{base}}/app/referrals/{id}\n\nHello,\n\n{} has sent you a new referral: {}.\nTo accept or reject it: {{base}}/app/referrals/{id}\n\n— Relais\n",
                    source.name, new.subject_alias, source.name, new.subject_alias
                ),
            )?;
        }
        Ok(id)
    })
}

fn load(conn: &mut DbConn, id: &str) -> Result<Row> {
    Ok(referrals::table.find(id).select(Row::as_select()).first(conn)?)
}

/// Visible to the two organisations it joins (and administrators); 404 for anyone else.
fn visible(row: &Row, caller: &Caller) -> Result<()> {
    let mine = caller.organisation_id.to_string();
    if caller.is_admin() || row.source_org_id == mine || row.target_org_id == mine {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

pub fn get(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, id: &str, stall: Stall) -> Result<Referral> {
    let row = load(conn, id)?;
    visible(&row, caller)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("referral.read").object("referral", id),
    )?;
    view(row, secrets, stall)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Incoming,
    Outgoing,
}

/// Which referrals a list holds.
#[derive(Clone, Debug)]
pub struct Filter {
    pub direction: Direction,
    pub status: Option<ReferralStatus>,
    /// Made at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Made before this instant.
    pub to: Option<DateTime<Utc>>,
    /// The referring organisation's own reference: only among the caller's outgoing
    /// referrals (another organisation's references are no search key).
    pub partner_reference: Option<String>,
}

impl Filter {
    pub fn new(direction: Direction) -> Self {
        Self {
            direction,
            status: None,
            from: None,
            to: None,
            partner_reference: None,
        }
    }
}

/// The caller's referrals, newest first, one page at a time.
pub fn list(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    filter: &Filter,
    page: &PageRequest,
    stall: Stall,
) -> Result<Page<Referral>> {
    let mine = caller.organisation_id.to_string();
    let mut query = referrals::table.into_boxed();
    query = match filter.direction {
        Direction::Incoming => query.filter(referrals::target_org_id.eq(mine.clone())),
        Direction::Outgoing => query.filter(referrals::source_org_id.eq(mine.clone())),
    };
    if let Some(status) = &filter.status {
        query = query.filter(referrals::status.eq(status.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(referrals::created_at.ge(time::to_db(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(referrals::created_at.lt(time::to_db(to)));
    }
    if let Some(reference) = &filter.partner_reference {
        query = query
            .filter(referrals::source_org_id.eq(mine))
            .filter(referrals::partner_reference.eq(reference.clone()));
    }
    query = crate::after_cursor!(query, page, referrals::created_at, referrals::id, desc);
    let rows: Vec<Row> = query
        .order((referrals::created_at.desc(), referrals::id.desc()))
        .limit(page.fetch())
        .select(Row::as_select())
        .load(conn)?;
    Page::from_rows(
        rows,
        page,
        |r| Cursor::at(r.created_at, &r.id),
        |r| view(r, secrets, stall),
    )
}

/// A move of the state machine.
#[derive(Clone, Debug)]
pub enum Action {
    Accept,
    Reject { reason: String },
    Done,
    Revoke,
}

/// Applies `action`: accept, reject and done belong to the receiving organisation, revoke
/// to the sending one. A move the state does not allow answers 409.
pub fn act(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    id: &str,
    action: Action,
    stall: Stall,
) -> Result<Referral> {
    write_tx(conn, |conn| {
        let row = load(conn, id)?;
        visible(&row, caller)?;
        let mine = caller.organisation_id.to_string();
        let status: ReferralStatus = row.status.parse()?;
        let receiving = row.target_org_id == mine || caller.is_admin();
        let sending = row.source_org_id == mine || caller.is_admin();
        let by = actor_label(&caller.actor());
        let now = time::to_db(stall.now);
        let target = referrals::table.find(id).filter(referrals::status.eq(status.as_str()));
        let (next, name) = match (&action, status) {
            (Action::Accept, ReferralStatus::Pending) if receiving => {
                diesel::update(target)
                    .set((
                        referrals::status.eq(ReferralStatus::Accepted.as_str()),
                        referrals::decided_by.eq(Some(&by)),
                        referrals::decided_at.eq(Some(now)),
                        referrals::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                (ReferralStatus::Accepted, "referral.accept")
            }
            (Action::Reject { reason }, ReferralStatus::Pending) if receiving => {
                let reason = crate::values::parse_label("reason", reason, 500)?;
                diesel::update(target)
                    .set((
                        referrals::status.eq(ReferralStatus::Rejected.as_str()),
                        referrals::rejection_reason.eq(Some(reason)),
                        referrals::decided_by.eq(Some(&by)),
                        referrals::decided_at.eq(Some(now)),
                        referrals::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                (ReferralStatus::Rejected, "referral.reject")
            }
            (Action::Done, ReferralStatus::Accepted) if receiving => {
                diesel::update(target)
                    .set((
                        referrals::status.eq(ReferralStatus::Done.as_str()),
                        referrals::done_by.eq(Some(&by)),
                        referrals::done_at.eq(Some(now)),
                        referrals::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                (ReferralStatus::Done, "referral.done")
            }
            (Action::Revoke, ReferralStatus::Pending | ReferralStatus::Accepted) if sending => {
                diesel::update(target)
                    .set((
                        referrals::status.eq(ReferralStatus::Revoked.as_str()),
                        referrals::revoked_by.eq(Some(&by)),
                        referrals::revoked_at.eq(Some(now)),
                        referrals::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                (ReferralStatus::Revoked, "referral.revoke")
            }
            (Action::Accept | Action::Reject { .. } | Action::Done, _) if !receiving => {
                return Err(Error::Forbidden("only the receiving organisation decides".into()));
            }
            (Action::Revoke, _) if !sending => {
                return Err(Error::Forbidden("only the sending organisation revokes".into()));
            }
            _ => {
                return Err(Error::Conflict(format!(
                    "a {} referral cannot do that",
                    status.as_str()
                )));
            }
        };
        audit::record(
            conn,
            &caller.actor(),
            Entry::new(name)
                .object("referral", id)
                .details(serde_json::json!({ "status": next.as_str() })),
        )?;
        // A partner that sent it hears of the centre's decision through its webhook.
        match &action {
            Action::Accept => crate::partners::events::referral_decided(conn, id, true, None)?,
            Action::Reject { reason } => {
                crate::partners::events::referral_decided(conn, id, false, Some(reason.trim()))?
            }
            Action::Done | Action::Revoke => {}
        }
        // The other side hears of it at once: the helpline's listeners (its events have no
        // organisation) or the other centre's staff.
        let other = if row.target_org_id == mine {
            &row.source_org_id
        } else {
            &row.target_org_id
        };
        let other_kind = organisations::find(conn, OrganisationId::from_db(other))?.kind;
        match other_kind {
            OrganisationKind::Helpline => {
                crate::helpline::events::record_for_helpline(
                    conn,
                    crate::helpline::events::kind::REFERRAL_UPDATED,
                    row.conversation_id.as_deref(),
                    id,
                    Some(next.as_str()),
                )?;
            }
            OrganisationKind::Centre => {
                crate::helpline::events::record_for_centre(
                    conn,
                    other,
                    crate::helpline::events::kind::REFERRAL_UPDATED,
                    id,
                    Some(next.as_str()),
                )?;
            }
            _ => {}
        }
        view(load(conn, id)?, secrets, stall)
    })
}

/// Parses a court-ordered basis from its parts.
pub fn court_ordered(authority: &str, decision_reference: &str, ends_on: chrono::NaiveDate) -> Result<LegalBasis> {
    Ok(LegalBasis::CourtOrdered {
        authority: authority.parse::<Authority>()?,
        decision_reference: crate::values::parse_label("decision_reference", decision_reference, 100)?,
        ends_on,
    })
}

/// How the housing platform's handling of a housing request settles its referral.
pub(crate) enum Settlement {
    /// The platform housed the person (from pending).
    Accepted,
    /// The platform could not house them (from pending or accepted).
    Rejected(String),
    /// The centre withdrew the request (from pending or accepted).
    Revoked,
}

/// Settles a housing request's referral, in the transaction of the request's change. A
/// referral already past the states the move starts from is left as it is.
pub(crate) fn settle_for_housing(
    conn: &mut DbConn,
    id: &str,
    settlement: Settlement,
    by: &str,
    at: chrono::NaiveDateTime,
) -> Result<()> {
    write_tx(conn, |conn| {
        let open = [ReferralStatus::Pending.as_str(), ReferralStatus::Accepted.as_str()];
        match settlement {
            Settlement::Accepted => diesel::update(
                referrals::table
                    .find(id)
                    .filter(referrals::status.eq(ReferralStatus::Pending.as_str())),
            )
            .set((
                referrals::status.eq(ReferralStatus::Accepted.as_str()),
                referrals::decided_by.eq(Some(by)),
                referrals::decided_at.eq(Some(at)),
                referrals::updated_at.eq(at),
            ))
            .execute(conn)?,
            Settlement::Rejected(reason) => {
                diesel::update(referrals::table.find(id).filter(referrals::status.eq_any(open)))
                    .set((
                        referrals::status.eq(ReferralStatus::Rejected.as_str()),
                        referrals::rejection_reason.eq(Some(reason)),
                        referrals::decided_by.eq(Some(by)),
                        referrals::decided_at.eq(Some(at)),
                        referrals::updated_at.eq(at),
                    ))
                    .execute(conn)?
            }
            Settlement::Revoked => diesel::update(referrals::table.find(id).filter(referrals::status.eq_any(open)))
                .set((
                    referrals::status.eq(ReferralStatus::Revoked.as_str()),
                    referrals::revoked_by.eq(Some(by)),
                    referrals::revoked_at.eq(Some(at)),
                    referrals::updated_at.eq(at),
                ))
                .execute(conn)?,
        };
        Ok(())
    })
}
