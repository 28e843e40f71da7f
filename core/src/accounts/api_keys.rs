//! Partner API keys: one partner organisation each, shown once at creation, stored as a
//! SHA-256 digest (the key itself has 256 bits of entropy, so a fast digest is enough).

use diesel::prelude::*;

use super::model::OrganisationKind;
use super::organisations;
use crate::access::{Caller, Principal};
use crate::audit::{self, Entry};
use crate::crypto;
use crate::db::schema::api_keys;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::{ApiKeyId, OrganisationId};
use crate::time;
use crate::values::parse_label;

/// Every key starts with this, so a leaked key is recognisable by secret scanners.
pub const KEY_PREFIX: &str = "relais_pk_";

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = api_keys)]
struct Row {
    id: String,
    organisation_id: String,
    name: String,
    prefix: String,
    key_hash: String,
    created_by: Option<String>,
    created_at: chrono::NaiveDateTime,
    last_used_at: Option<chrono::NaiveDateTime>,
    revoked_at: Option<chrono::NaiveDateTime>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub organisation_id: OrganisationId,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Row {
    fn to_model(&self) -> ApiKey {
        ApiKey {
            id: ApiKeyId::from_db(&self.id),
            organisation_id: OrganisationId::from_db(&self.organisation_id),
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            created_at: time::from_db(self.created_at),
            last_used_at: self.last_used_at.map(time::from_db),
            revoked_at: self.revoked_at.map(time::from_db),
        }
    }
}

fn digest(key: &str) -> String {
    crypto::sha256_hex(key.as_bytes())
}

/// A key just created: `secret` is shown to the caller once and never stored.
#[derive(Debug, serde::Serialize)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

pub fn create(conn: &mut DbConn, caller: &Caller, organisation: OrganisationId, name: &str) -> Result<CreatedKey> {
    let name = parse_label("name", name, 120)?;
    caller.scope(organisation)?;
    let org = organisations::find(conn, organisation)?;
    if org.kind != OrganisationKind::Partner {
        return Err(Error::invalid(
            "organisation",
            "API keys are for partner organisations only",
        ));
    }
    let secret = format!("{KEY_PREFIX}{}", crypto::random_token());
    let row = Row {
        id: ApiKeyId::new().to_string(),
        organisation_id: org.id.to_string(),
        name,
        prefix: secret.chars().take(KEY_PREFIX.len() + 6).collect(),
        key_hash: digest(&secret),
        created_by: caller.user_id().map(|u| u.to_string()),
        created_at: time::to_db(time::now()),
        last_used_at: None,
        revoked_at: None,
    };
    write_tx(conn, |conn| {
        diesel::insert_into(api_keys::table).values(&row).execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("api_key.create")
                .object("api_key", &row.id)
                .details(serde_json::json!({ "organisation_id": row.organisation_id })),
        )?;
        Ok(CreatedKey {
            key: row.to_model(),
            secret,
        })
    })
}

pub fn list(conn: &mut DbConn, caller: &Caller, organisation: OrganisationId) -> Result<Vec<ApiKey>> {
    caller.scope(organisation)?;
    organisations::find(conn, organisation)?;
    let rows: Vec<Row> = api_keys::table
        .filter(api_keys::organisation_id.eq(organisation.to_string()))
        .order(api_keys::created_at.asc())
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.iter().map(Row::to_model).collect())
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: ApiKeyId) -> Result<ApiKey> {
    let row: Row = api_keys::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    Ok(row.to_model())
}

pub fn revoke(conn: &mut DbConn, caller: &Caller, id: ApiKeyId) -> Result<ApiKey> {
    let row: Row = api_keys::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)?;
    caller.scope(OrganisationId::from_db(&row.organisation_id))?;
    write_tx(conn, |conn| {
        let now = time::to_db(time::now());
        diesel::update(
            api_keys::table
                .find(id.to_string())
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(now)))
        .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("api_key.revoke").object("api_key", id),
        )?;
        let row: Row = api_keys::table
            .find(id.to_string())
            .select(Row::as_select())
            .first(conn)?;
        Ok(row.to_model())
    })
}

/// The caller a presented key stands for, if it is a live key.
pub fn authenticate(conn: &mut DbConn, presented: &str) -> Result<Option<Caller>> {
    if !presented.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let row: Option<Row> = api_keys::table
        .filter(api_keys::key_hash.eq(digest(presented)))
        .filter(api_keys::revoked_at.is_null())
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    // Constant-time confirmation of what the index lookup found.
    if !crypto::constant_time_eq(row.key_hash.as_bytes(), digest(presented).as_bytes()) {
        return Ok(None);
    }
    let org = organisations::find(conn, OrganisationId::from_db(&row.organisation_id))?;
    if !org.active {
        return Ok(None);
    }
    // Note the use at most once a minute: a partner's every request need not be a write.
    let now = time::now();
    if row
        .last_used_at
        .is_none_or(|t| now - time::from_db(t) > chrono::Duration::minutes(1))
    {
        write_tx(conn, |conn| {
            diesel::update(api_keys::table.find(&row.id))
                .set(api_keys::last_used_at.eq(Some(time::to_db(now))))
                .execute(conn)
        })?;
    }
    Ok(Some(Caller {
        principal: Principal::Partner {
            key_id: ApiKeyId::from_db(&row.id),
        },
        organisation_id: org.id,
        organisation_kind: org.kind,
    }))
}
