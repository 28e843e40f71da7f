//! relais-api: the HTTP edge of Relais (actix-web): routes, authentication, errors,
//! configuration and the `relais` command line.

pub mod anchor;
pub mod auth;
pub mod body;
pub mod cli;
pub mod client_address;
pub mod config;
pub mod deprecation;
pub mod geocoder;
pub mod line;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod outbound;
pub mod problem;
pub mod push;
pub mod query;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod workers;

/// The partners' webhook sender, by its former name.
pub use workers::webhooks as webhook_delivery;
