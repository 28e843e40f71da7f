//! The role lists handlers admit, named once so an access rule reads the same everywhere.

use relais_core::accounts::model::Role;

/// Every staff role.
pub const ANY_STAFF: &[Role] = &Role::ALL;
/// Platform administrators only.
pub const ADMIN: &[Role] = &[Role::Admin];
/// Those who manage the staff of their own organisation (and administrators, of any).
pub const STAFF_MANAGERS: &[Role] = &[Role::Admin, Role::HelplineSupervisor, Role::CentreManager];
