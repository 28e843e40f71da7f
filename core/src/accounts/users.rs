//! Staff accounts: each in one organisation, with roles fitting that organisation.

use diesel::prelude::*;

use super::model::{Organisation, Role, Roles, User};
use super::organisations;
use crate::access::{Actor, Caller};
use crate::audit::{self, Entry};
use crate::crypto::passwords;
use crate::db::schema::users;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::{OrganisationId, UserId};
use crate::time;
use crate::values::{Email, NewPassword, parse_label};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub(crate) struct Row {
    pub id: String,
    pub organisation_id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: String,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub active: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl Row {
    pub(crate) fn to_model(&self) -> User {
        User {
            id: UserId::from_db(&self.id),
            organisation_id: OrganisationId::from_db(&self.organisation_id),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            roles: Roles::from_db(&self.roles),
            totp_enabled: self.totp_enabled,
            active: self.active,
            created_at: time::from_db(self.created_at),
            updated_at: time::from_db(self.updated_at),
        }
    }
}

/// A new account, validated except for the roles, which depend on the organisation.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    pub password: NewPassword,
    pub roles: Vec<Role>,
}

impl NewUser {
    pub fn parse(email: &str, display_name: &str, password: &str, roles: Vec<Role>) -> Result<Self> {
        Ok(Self {
            email: Email::parse(email)?,
            display_name: parse_label("display_name", display_name, 120)?,
            password: NewPassword::parse(password)?,
            roles,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub active: Option<bool>,
    pub password: Option<NewPassword>,
}

/// Creates an account in `organisation` on behalf of a caller who manages its staff.
pub fn create(conn: &mut DbConn, caller: &Caller, organisation: OrganisationId, new: NewUser) -> Result<User> {
    caller.scope(organisation)?;
    let org = organisations::find(conn, organisation)?;
    if new.roles.contains(&Role::Admin) && !caller.is_admin() {
        return Err(Error::Forbidden(
            "only an administrator can create an administrator".into(),
        ));
    }
    insert(conn, &caller.actor(), &org, new)
}

/// Creates an account without a caller: the command line and the demo loader.
pub fn create_as_system(conn: &mut DbConn, org: &Organisation, new: NewUser) -> Result<User> {
    insert(conn, &Actor::SYSTEM, org, new)
}

fn insert(conn: &mut DbConn, actor: &Actor, org: &Organisation, new: NewUser) -> Result<User> {
    let roles = Roles::for_organisation(new.roles, org.kind)?;
    let password_hash = passwords::hash(&new.password)?;
    let now = time::to_db(time::now());
    let row = Row {
        id: UserId::new().to_string(),
        organisation_id: org.id.to_string(),
        email: new.email.as_str().to_owned(),
        display_name: new.display_name,
        password_hash,
        roles: roles.to_db(),
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        active: true,
        created_at: now,
        updated_at: now,
    };
    write_tx(conn, |conn| {
        let taken: i64 = users::table
            .filter(users::email.eq(&row.email))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(Error::Conflict("an account with this email already exists".into()));
        }
        diesel::insert_into(users::table).values(&row).execute(conn)?;
        audit::record(
            conn,
            actor,
            Entry::new("user.create")
                .object("user", &row.id)
                .details(serde_json::json!({
                    "organisation_id": row.organisation_id,
                    "roles": roles.as_slice(),
                })),
        )?;
        Ok(row.to_model())
    })
}

pub(crate) fn find_row(conn: &mut DbConn, id: UserId) -> Result<Row> {
    Ok(users::table.find(id.to_string()).select(Row::as_select()).first(conn)?)
}

pub(crate) fn find_row_by_email(conn: &mut DbConn, email: &Email) -> Result<Option<Row>> {
    Ok(users::table
        .filter(users::email.eq(email.as_str()))
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

/// The organisation a staff member belongs to (for the server's own bookkeeping).
pub fn organisation_of(conn: &mut DbConn, id: UserId) -> Result<OrganisationId> {
    Ok(find_row(conn, id)?.to_model().organisation_id)
}

/// The caller's own account, unscoped.
pub fn me(conn: &mut DbConn, caller: &Caller) -> Result<User> {
    let id = caller.user_id().ok_or(Error::NotFound)?;
    Ok(find_row(conn, id)?.to_model())
}

pub fn find_by_email(conn: &mut DbConn, email: &Email) -> Result<Option<User>> {
    Ok(find_row_by_email(conn, email)?.map(|r| r.to_model()))
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: UserId) -> Result<User> {
    let user = find_row(conn, id)?.to_model();
    caller.scope(user.organisation_id)?;
    Ok(user)
}

pub fn list(conn: &mut DbConn, caller: &Caller, organisation: OrganisationId) -> Result<Vec<User>> {
    caller.scope(organisation)?;
    // Existence of the organisation itself is part of what an outsider must not learn.
    organisations::find(conn, organisation)?;
    let rows: Vec<Row> = users::table
        .filter(users::organisation_id.eq(organisation.to_string()))
        .order(users::display_name.asc())
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.iter().map(Row::to_model).collect())
}

/// Changes an account. When the change ends what the old access allowed (deactivated, new
/// password, new roles), `end_access` runs in the same transaction: the API calls this through
/// `auth::sessions::update_user`, which revokes the account's sessions there, so that
/// accounts never depend on auth.
pub(crate) fn update(
    conn: &mut DbConn,
    caller: &Caller,
    id: UserId,
    changes: UserChanges,
    end_access: impl FnOnce(&mut DbConn, UserId) -> Result<()>,
) -> Result<User> {
    let mut row = find_row(conn, id)?;
    let org_id = OrganisationId::from_db(&row.organisation_id);
    caller.scope(org_id)?;
    let org = organisations::find(conn, org_id)?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(name) = changes.display_name {
        row.display_name = name;
        changed.push("display_name");
    }
    if let Some(roles) = changes.roles {
        let was_admin = Roles::from_db(&row.roles).contains(Role::Admin);
        if (roles.contains(&Role::Admin) || was_admin) && !caller.is_admin() {
            return Err(Error::Forbidden(
                "only an administrator can change an administrator's roles".into(),
            ));
        }
        row.roles = Roles::for_organisation(roles, org.kind)?.to_db();
        changed.push("roles");
    }
    let deactivated = changes.active == Some(false) && row.active;
    if let Some(active) = changes.active {
        if !active && caller.user_id() == Some(id) {
            return Err(Error::Conflict("you cannot deactivate your own account".into()));
        }
        row.active = active;
        changed.push("active");
    }
    let password_changed = changes.password.is_some();
    if let Some(password) = changes.password {
        row.password_hash = passwords::hash(&password)?;
        changed.push("password");
    }
    row.updated_at = time::to_db(time::now());
    write_tx(conn, |conn| {
        diesel::update(users::table.find(&row.id)).set(&row).execute(conn)?;
        if deactivated || password_changed || changed.contains(&"roles") {
            // Whatever someone could do with the old access ends now.
            end_access(conn, id)?;
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("user.update")
                .object("user", id)
                .details(serde_json::json!({ "fields": changed })),
        )?;
        Ok(row.to_model())
    })
}
