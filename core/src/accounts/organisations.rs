//! Organisations: the helpline, centres, the housing platform, the ministry, partners.

use diesel::prelude::*;

use super::model::{Organisation, OrganisationKind};
use crate::access::{Actor, Caller};
use crate::audit::{self, Entry};
use crate::db::schema::organisations;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::geo::Geography;
use crate::ids::OrganisationId;
use crate::time;
use crate::values::{TimeZone, parse_label};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = organisations)]
struct Row {
    id: String,
    kind: String,
    name: String,
    timezone: String,
    coverage: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    active: bool,
}

impl Row {
    fn into_model(self) -> Result<Organisation> {
        Ok(Organisation {
            id: OrganisationId::from_db(&self.id),
            kind: self
                .kind
                .parse()
                .map_err(|_| Error::Internal(format!("bad organisation kind in row {}", self.id)))?,
            name: self.name,
            timezone: self.timezone,
            coverage: serde_json::from_str(&self.coverage).unwrap_or_default(),
            created_at: time::from_db(self.created_at),
            updated_at: time::from_db(self.updated_at),
            active: self.active,
        })
    }
}

/// A new organisation, validated.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub kind: OrganisationKind,
    pub name: String,
    pub timezone: TimeZone,
    pub coverage: Vec<String>,
}

impl NewOrganisation {
    pub fn parse(
        geo: &Geography,
        kind: OrganisationKind,
        name: &str,
        timezone: Option<&str>,
        coverage: Vec<String>,
    ) -> Result<Self> {
        Ok(Self {
            kind,
            name: parse_label("name", name, 200)?,
            timezone: timezone.map(TimeZone::parse).transpose()?.unwrap_or_default(),
            coverage: parse_coverage(geo, kind, coverage)?,
        })
    }
}

/// Changes to an organisation; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub timezone: Option<TimeZone>,
    pub coverage: Option<Vec<String>>,
    /// Administrators only: an inactive organisation's staff and API keys are refused.
    pub active: Option<bool>,
}

fn parse_coverage(geo: &Geography, kind: OrganisationKind, mut codes: Vec<String>) -> Result<Vec<String>> {
    if !codes.is_empty() && kind != OrganisationKind::Centre {
        return Err(Error::invalid("coverage", "only a centre covers départements"));
    }
    if codes.len() > 120 {
        return Err(Error::invalid("coverage", "too many départements"));
    }
    for code in &codes {
        if geo.departement(code).is_none() {
            return Err(Error::invalid("coverage", format!("unknown département code {code:?}")));
        }
    }
    codes.sort();
    codes.dedup();
    Ok(codes)
}

impl OrganisationChanges {
    pub fn parse(
        geo: &Geography,
        kind: OrganisationKind,
        name: Option<&str>,
        timezone: Option<&str>,
        coverage: Option<Vec<String>>,
    ) -> Result<Self> {
        Ok(Self {
            name: name.map(|n| parse_label("name", n, 200)).transpose()?,
            timezone: timezone.map(TimeZone::parse).transpose()?,
            coverage: coverage.map(|c| parse_coverage(geo, kind, c)).transpose()?,
            active: None,
        })
    }
}

pub fn create(conn: &mut DbConn, actor: &Actor, new: NewOrganisation) -> Result<Organisation> {
    let now = time::to_db(time::now());
    let row = Row {
        id: OrganisationId::new().to_string(),
        kind: new.kind.as_str().to_owned(),
        name: new.name,
        timezone: new.timezone.name().to_owned(),
        coverage: serde_json::to_string(&new.coverage).map_err(|e| Error::Internal(e.to_string()))?,
        created_at: now,
        updated_at: now,
        active: true,
    };
    write_tx(conn, |conn| {
        diesel::insert_into(organisations::table).values(&row).execute(conn)?;
        audit::record(
            conn,
            actor,
            Entry::new("organisation.create")
                .object("organisation", &row.id)
                .details(serde_json::json!({ "kind": row.kind })),
        )?;
        row.clone().into_model()
    })
}

/// Any organisation, unscoped: for authentication and the command line only.
pub fn find(conn: &mut DbConn, id: OrganisationId) -> Result<Organisation> {
    organisations::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)?
        .into_model()
}

pub fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Option<Organisation>> {
    organisations::table
        .filter(organisations::name.eq(name))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_model)
        .transpose()
}

/// One organisation as the caller may see it: their own, or any for an admin.
pub fn get(conn: &mut DbConn, caller: &Caller, id: OrganisationId) -> Result<Organisation> {
    caller.scope(id)?;
    find(conn, id)
}

/// The organisations the caller may see: all for an admin, their own otherwise.
pub fn list(conn: &mut DbConn, caller: &Caller, kind: Option<OrganisationKind>) -> Result<Vec<Organisation>> {
    let mut query = organisations::table
        .select(Row::as_select())
        .order(organisations::name.asc())
        .into_boxed();
    if !caller.is_admin() {
        query = query.filter(organisations::id.eq(caller.organisation_id.to_string()));
    }
    if let Some(kind) = kind {
        query = query.filter(organisations::kind.eq(kind.as_str()));
    }
    query.load(conn)?.into_iter().map(Row::into_model).collect()
}

pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    id: OrganisationId,
    changes: OrganisationChanges,
) -> Result<Organisation> {
    caller.scope(id)?;
    write_tx(conn, |conn| {
        let mut row: Row = organisations::table
            .find(id.to_string())
            .select(Row::as_select())
            .first(conn)?;
        let mut changed = Vec::new();
        if let Some(name) = changes.name {
            row.name = name;
            changed.push("name");
        }
        if let Some(tz) = changes.timezone {
            row.timezone = tz.name().to_owned();
            changed.push("timezone");
        }
        if let Some(coverage) = changes.coverage {
            row.coverage = serde_json::to_string(&coverage).map_err(|e| Error::Internal(e.to_string()))?;
            changed.push("coverage");
        }
        let mut switched = None;
        if let Some(active) = changes.active {
            if !caller.is_admin() {
                return Err(Error::Forbidden(
                    "only an administrator can deactivate an organisation".into(),
                ));
            }
            if !active && caller.organisation_id == id {
                return Err(Error::Conflict(
                    "an administrator cannot deactivate their own organisation".into(),
                ));
            }
            if active != row.active {
                row.active = active;
                changed.push("active");
                switched = Some(active);
            }
        }
        row.updated_at = time::to_db(time::now());
        if let Some(active) = switched {
            audit::record(
                conn,
                &caller.actor(),
                Entry::new(if active {
                    "organisation.reactivate"
                } else {
                    "organisation.deactivate"
                })
                .object("organisation", id),
            )?;
        }
        diesel::update(organisations::table.find(&row.id))
            .set(&row)
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("organisation.update")
                .object("organisation", id)
                .details(serde_json::json!({ "fields": changed })),
        )?;
        row.into_model()
    })
}

pub fn count(conn: &mut DbConn) -> Result<i64> {
    Ok(organisations::table.count().get_result(conn)?)
}

/// The centres covering any of these départements, by name. Public information: the
/// bot tells it to anyone who asks.
pub fn centres_covering(conn: &mut DbConn, departements: &[String]) -> Result<Vec<Organisation>> {
    let rows: Vec<Row> = organisations::table
        .filter(organisations::kind.eq(OrganisationKind::Centre.as_str()))
        .order(organisations::name.asc())
        .select(Row::as_select())
        .load(conn)?;
    let mut out = Vec::new();
    for row in rows {
        let org = row.into_model()?;
        if org.coverage.iter().any(|c| departements.contains(c)) {
            out.push(org);
        }
    }
    Ok(out)
}

/// Every organisation of a kind, by name (the centres directory).
pub fn all_of_kind(conn: &mut DbConn, kind: OrganisationKind) -> Result<Vec<Organisation>> {
    let rows: Vec<Row> = organisations::table
        .filter(organisations::kind.eq(kind.as_str()))
        .order(organisations::name.asc())
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter().map(Row::into_model).collect()
}
