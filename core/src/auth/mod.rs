//! Staff authentication: passwords, sessions and refresh tokens, the second factor, and
//! login throttling. Access tokens (JWT) are an HTTP concern and live in the API crate.

pub mod enrolment;
pub mod login;
pub mod sessions;
pub mod throttle;
pub mod totp;

/// Password hashing is a primitive, in `crypto`; named here too, where sign-in uses it.
pub use crate::crypto::passwords;
