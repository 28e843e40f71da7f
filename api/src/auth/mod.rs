//! Authentication and authorisation at the HTTP edge: access tokens, the `Auth` extractor,
//! and the role lists handlers admit.

pub mod extract;
pub mod policy;
pub mod roles;
pub mod tokens;

pub use extract::Auth;
pub use roles::{CentreStaff, HelplineStaff, Staff};
