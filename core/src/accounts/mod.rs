//! Organisations, staff accounts and partner keys.

pub mod api_keys;
pub mod model;
pub mod organisations;
pub mod users;
