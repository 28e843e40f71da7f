//! The case itself: created from a referral or an appointment (keeping the link) or
//! directly; identity sealed; practitioners assigned; open, suspended, or closed with a reason.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{CaseStatus, Identity, Origin};
use crate::access::Caller;
use crate::accounts::model::OrganisationKind;
use crate::accounts::organisations;
use crate::audit::{self, Entry};
use crate::centres::model::LegalBasisKind;
use crate::centres::referrals::actor_label;
use crate::crypto::{self, Secrets};
use crate::db::schema::{appointments, case_practitioners, cases, referrals, users};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::{OrganisationId, UserId};
use crate::page::{Cursor, Page, PageRequest};
use crate::time;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = cases)]
struct Row {
    id: String,
    organisation_id: String,
    referral_id: Option<String>,
    appointment_id: Option<String>,
    origin: String,
    legal_basis: String,
    identity_sealed: Option<Vec<u8>>,
    status: String,
    close_reason: Option<String>,
    created_by: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    closed_at: Option<chrono::NaiveDateTime>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Case {
    pub id: String,
    pub origin: Origin,
    pub legal_basis: LegalBasisKind,
    pub status: CaseStatus,
    pub close_reason: Option<String>,
    pub referral_id: Option<String>,
    pub appointment_id: Option<String>,
    pub identity: Identity,
    pub practitioner_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the case was closed: its legal retention runs from then.
    pub closed_at: Option<DateTime<Utc>>,
}

fn identity_context(id: &str) -> String {
    format!("cases.identity:{id}")
}

fn view(conn: &mut DbConn, secrets: &Secrets, row: Row) -> Result<Case> {
    let identity = open_identity(secrets, &row.id, row.identity_sealed.as_deref())?;
    let practitioner_ids = case_practitioners::table
        .filter(case_practitioners::case_id.eq(&row.id))
        .select(case_practitioners::user_id)
        .order(case_practitioners::user_id.asc())
        .load(conn)?;
    Ok(Case {
        origin: row.origin.parse()?,
        legal_basis: row.legal_basis.parse()?,
        status: row.status.parse()?,
        close_reason: row.close_reason,
        referral_id: row.referral_id,
        appointment_id: row.appointment_id,
        identity,
        practitioner_ids,
        created_at: time::from_db(row.created_at),
        updated_at: time::from_db(row.updated_at),
        closed_at: row.closed_at.map(time::from_db),
        id: row.id,
    })
}

fn seal_identity(secrets: &Secrets, id: &str, identity: &Identity) -> Result<Option<Vec<u8>>> {
    if identity == &Identity::default() {
        return Ok(None);
    }
    identity.check()?;
    let json = serde_json::to_vec(identity).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Some(crypto::seal(&secrets.field_key, &identity_context(id), &json)))
}

/// Staff of the caller's centre only.
fn check_practitioners(conn: &mut DbConn, organisation: OrganisationId, ids: &[UserId]) -> Result<()> {
    for id in ids {
        let of: Option<String> = users::table
            .find(id.to_string())
            .select(users::organisation_id)
            .first(conn)
            .optional()?;
        if of.as_deref() != Some(organisation.to_string().as_str()) {
            return Err(Error::invalid("practitioner_ids", "not a member of this centre"));
        }
    }
    Ok(())
}

fn set_practitioners(conn: &mut DbConn, case_id: &str, ids: &[UserId]) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::delete(case_practitioners::table.filter(case_practitioners::case_id.eq(case_id))).execute(conn)?;
        for id in ids {
            diesel::insert_into(case_practitioners::table)
                .values((
                    case_practitioners::case_id.eq(case_id),
                    case_practitioners::user_id.eq(id.to_string()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

#[derive(Clone, Debug, Default)]
pub struct NewCase {
    pub referral_id: Option<String>,
    pub appointment_id: Option<String>,
    pub origin: Option<Origin>,
    pub legal_basis: Option<LegalBasisKind>,
    pub identity: Identity,
    pub practitioner_ids: Vec<UserId>,
}

/// Opens a case in the caller's centre.
pub fn create(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, mut new: NewCase) -> Result<Case> {
    let organisation = caller.organisation_id;
    write_tx(conn, |conn| {
        if let Some(appointment) = &new.appointment_id {
            let (owner, referral): (String, Option<String>) = appointments::table
                .find(appointment)
                .select((appointments::organisation_id, appointments::referral_id))
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::invalid("appointment_id", "no such appointment in this centre"))?;
            if owner != organisation.to_string() {
                return Err(Error::invalid("appointment_id", "no such appointment in this centre"));
            }
            if new.referral_id.is_none() {
                new.referral_id = referral;
            }
        }
        if let Some(referral) = &new.referral_id {
            let (target, source, basis): (String, String, String) = referrals::table
                .find(referral)
                .select((
                    referrals::target_org_id,
                    referrals::source_org_id,
                    referrals::legal_basis,
                ))
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::invalid("referral_id", "no such referral to this centre"))?;
            if target != organisation.to_string() {
                return Err(Error::invalid("referral_id", "no such referral to this centre"));
            }
            let from = organisations::find(conn, OrganisationId::from_db(&source))?.kind;
            new.origin.get_or_insert(match from {
                OrganisationKind::Helpline => Origin::Helpline,
                OrganisationKind::Partner => Origin::Justice,
                OrganisationKind::HousingPlatform => Origin::Housing,
                _ => Origin::Other,
            });
            new.legal_basis.get_or_insert(basis.parse()?);
        }
        let origin = new
            .origin
            .ok_or_else(|| Error::invalid("origin", "say where the person comes from"))?;
        let basis = new
            .legal_basis
            .ok_or_else(|| Error::invalid("legal_basis", "voluntary or court_ordered"))?;
        let mut practitioners = new.practitioner_ids.clone();
        if practitioners.is_empty()
            && caller.has_role(crate::accounts::model::Role::Practitioner)
            && let Some(me) = caller.user_id()
        {
            practitioners.push(me);
        }
        check_practitioners(conn, organisation, &practitioners)?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = time::to_db(time::now());
        let row = Row {
            identity_sealed: seal_identity(secrets, &id, &new.identity)?,
            id: id.clone(),
            organisation_id: organisation.to_string(),
            referral_id: new.referral_id.clone(),
            appointment_id: new.appointment_id.clone(),
            origin: origin.as_str().into(),
            legal_basis: basis.as_str().into(),
            status: CaseStatus::Open.as_str().into(),
            close_reason: None,
            created_by: actor_label(&caller.actor()),
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        diesel::insert_into(cases::table).values(&row).execute(conn)?;
        set_practitioners(conn, &id, &practitioners)?;
        audit::record(conn, &caller.actor(), Entry::new("case.create").object("case", &id))?;
        view(conn, secrets, row)
    })
}

/// The identity as the person gave it, for a document made from the case (a certificate).
pub(crate) fn identity_of(conn: &mut DbConn, secrets: &Secrets, id: &str) -> Result<Identity> {
    let sealed: Option<Vec<u8>> = cases::table.find(id).select(cases::identity_sealed).first(conn)?;
    open_identity(secrets, id, sealed.as_deref())
}

fn open_identity(secrets: &Secrets, id: &str, sealed: Option<&[u8]>) -> Result<Identity> {
    match sealed {
        Some(sealed) => {
            let bytes = crypto::open(&secrets.field_key, &identity_context(id), sealed)
                .map_err(|_| Error::Internal("a case identity could not be opened".into()))?;
            serde_json::from_slice(&bytes).map_err(|e| Error::Internal(e.to_string()))
        }
        None => Ok(Identity::default()),
    }
}

fn load(conn: &mut DbConn, id: &str) -> Result<Row> {
    Ok(cases::table.find(id).select(Row::as_select()).first(conn)?)
}

/// Not found unless the caller's centre owns the case (checked before the role, so another
/// organisation cannot learn that a case exists).
pub fn exists(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<()> {
    super::owned(conn, caller, id).map(|_| ())
}

pub fn get(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, id: &str) -> Result<Case> {
    super::owned(conn, caller, id)?;
    audit::record(conn, &caller.actor(), Entry::new("case.read").object("case", id))?;
    let row = load(conn, id)?;
    view(conn, secrets, row)
}

/// The centre's cases, newest first, one page at a time (each page read is audited as one
/// list read).
pub fn list(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    status: Option<CaseStatus>,
    page: &PageRequest,
) -> Result<Page<Case>> {
    let mut query = cases::table
        .filter(cases::organisation_id.eq(caller.organisation_id.to_string()))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(cases::status.eq(status.as_str()));
    }
    query = crate::after_cursor!(query, page, cases::created_at, cases::id, desc);
    let rows: Vec<Row> = query
        .order((cases::created_at.desc(), cases::id.desc()))
        .limit(page.fetch())
        .select(Row::as_select())
        .load(conn)?;
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("case.list").details(serde_json::json!({ "count": rows.len().min(page.limit as usize) })),
    )?;
    Page::from_rows(
        rows,
        page,
        |r| Cursor::at(r.created_at, &r.id),
        |r| view(conn, secrets, r),
    )
}

/// What a practitioner types to find a case: words of the person's name (in any order,
/// accents and case aside), or the start of the case's number (its id's first characters,
/// hyphens aside; four at least).
#[derive(Clone, Debug)]
pub struct CaseSearch {
    words: Vec<String>,
    number: Option<String>,
}

impl CaseSearch {
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 100 {
            return Err(Error::invalid("q", "1 to 100 characters"));
        }
        let compact: String = text
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let number = (compact.len() >= 4 && compact.chars().all(|c| c.is_ascii_hexdigit())).then_some(compact);
        let words: Vec<String> = crate::text::fold(text)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Self { words, number })
    }

    fn matches(&self, id: &str, name: Option<&str>) -> bool {
        let by_number = self
            .number
            .as_deref()
            .is_some_and(|n| id.replace('-', "").starts_with(n));
        let by_name = name.is_some_and(|name| {
            let name = crate::text::fold(name);
            let name_words: Vec<&str> = name.split(' ').collect();
            !self.words.is_empty()
                && self
                    .words
                    .iter()
                    .all(|w| name_words.iter().any(|n| n.starts_with(w.as_str())))
        });
        by_number || by_name
    }
}

/// The centre's cases whose person's name or number answers `search`, newest first, at most
/// `limit`. Names are sealed: they are opened here, within the caller's centre only, and the
/// search itself is audited by its count (never by what was typed, which is a name).
pub fn search(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    status: Option<CaseStatus>,
    search: &CaseSearch,
    limit: usize,
) -> Result<Vec<Case>> {
    let mut query = cases::table
        .filter(cases::organisation_id.eq(caller.organisation_id.to_string()))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(cases::status.eq(status.as_str()));
    }
    let rows: Vec<Row> = query
        .order((cases::created_at.desc(), cases::id.desc()))
        .select(Row::as_select())
        .load(conn)?;
    let mut found = Vec::new();
    for row in rows {
        if found.len() >= limit {
            break;
        }
        let identity = open_identity(secrets, &row.id, row.identity_sealed.as_deref())?;
        if search.matches(&row.id, identity.name.as_deref()) {
            found.push(row);
        }
    }
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("case.search").details(serde_json::json!({ "count": found.len() })),
    )?;
    found.into_iter().map(|r| view(conn, secrets, r)).collect()
}

#[derive(Clone, Debug, Default)]
pub struct CaseChanges {
    pub status: Option<CaseStatus>,
    pub close_reason: Option<String>,
    /// Rectification: replaces the whole identity.
    pub identity: Option<Identity>,
    pub practitioner_ids: Option<Vec<UserId>>,
}

pub fn update(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, id: &str, changes: CaseChanges) -> Result<Case> {
    write_tx(conn, |conn| {
        super::owned(conn, caller, id)?;
        let mut row = load(conn, id)?;
        let mut fields = Vec::new();
        if let Some(reason) = &changes.close_reason {
            crate::values::parse_label("close_reason", reason, 300)?;
        }
        if let Some(status) = changes.status {
            let was_closed = row.status == CaseStatus::Closed.as_str();
            if status == CaseStatus::Closed {
                if !was_closed {
                    row.closed_at = Some(time::to_db(time::now()));
                }
                let reason = changes
                    .close_reason
                    .as_deref()
                    .ok_or_else(|| Error::invalid("close_reason", "say why the case is closed"))?;
                row.close_reason = Some(crate::values::parse_label("close_reason", reason, 300)?);
            } else {
                row.close_reason = None;
                row.closed_at = None;
            }
            row.status = status.as_str().into();
            fields.push("status");
        }
        if let Some(identity) = &changes.identity {
            row.identity_sealed = seal_identity(secrets, id, identity)?;
            fields.push("identity");
        }
        if let Some(practitioners) = &changes.practitioner_ids {
            check_practitioners(conn, caller.organisation_id, practitioners)?;
            set_practitioners(conn, id, practitioners)?;
            fields.push("practitioners");
        }
        row.updated_at = time::to_db(time::now());
        diesel::update(cases::table.find(id))
            .set((
                cases::status.eq(&row.status),
                cases::close_reason.eq(&row.close_reason),
                cases::identity_sealed.eq(&row.identity_sealed),
                cases::updated_at.eq(row.updated_at),
                cases::closed_at.eq(row.closed_at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("case.update")
                .object("case", id)
                .details(serde_json::json!({ "fields": fields })),
        )?;
        view(conn, secrets, row)
    })
}

#[cfg(test)]
mod search_tests {
    use super::CaseSearch;

    #[test]
    fn a_case_is_found_by_words_of_the_name_or_the_start_of_its_number() {
        let id = "3f2a9c1d-0000-4000-8000-000000000001";
        let s = |q: &str| CaseSearch::parse(q).expect("query");
        assert!(s("dupont").matches(id, Some("Jean-Marc Dupont")));
        assert!(s("DUPONT jean").matches(id, Some("Jean-Marc Dupont")));
        assert!(
            s("jea dup").matches(id, Some("Jean-Marc Dupont")),
            "the start of each word"
        );
        assert!(s("nguyen duc").matches(id, Some("Nguyễn Văn Đức")));
        assert!(s("lukasz zolc").matches(id, Some("Łukasz Żółć")));
        assert!(
            !s("pont").matches(id, Some("Jean-Marc Dupont")),
            "not a piece inside a word"
        );
        assert!(!s("dupont").matches(id, None));
        assert!(s("3F2A").matches(id, None));
        assert!(s("3f2a-9c1d").matches(id, None));
        assert!(!s("3f2").matches(id, None), "four characters at least");
        assert!(!s("9c1d").matches(id, None), "the start of the number");
        assert!(CaseSearch::parse("  ").is_err());
    }
}
