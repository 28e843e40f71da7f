//! relais-core: the domain of Relais (types, rules, storage) with no knowledge of HTTP or
//! messaging providers. Functions here are blocking; async callers run them on a blocking
//! thread.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod geo;
pub mod helpline;
pub mod ids;
pub mod time;
pub mod values;

pub use error::{Error, Result};
