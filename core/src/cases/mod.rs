//! Author case files, owned by one centre: the most sensitive data of the system. Every
//! read and write is audited; identity, notes and protected persons' locations are sealed at
//! rest; a protected person's location is write-only (used by the server, never returned).
//! Another organisation's case is not found, whatever the role.

pub mod certificates;
pub mod files;
pub mod measures;
pub mod model;
pub mod overview;
pub mod protected;
pub mod records;
pub mod rights;
pub mod sessions;

use crate::access::Caller;
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::ids::OrganisationId;

/// The case's owning centre, if the caller may see it; not found otherwise.
pub(crate) fn owned(conn: &mut DbConn, caller: &Caller, case_id: &str) -> Result<String> {
    use diesel::prelude::*;
    let owner: Option<String> = crate::db::schema::cases::table
        .find(case_id)
        .select(crate::db::schema::cases::organisation_id)
        .first(conn)
        .optional()?;
    let owner = owner.ok_or(Error::NotFound)?;
    if caller.is_partner() || caller.organisation_id != OrganisationId::from_db(&owner) {
        return Err(Error::NotFound);
    }
    Ok(owner)
}
