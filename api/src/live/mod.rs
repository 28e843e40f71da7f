//! Live events for the listeners' apps. Changes are numbered in the database (see
//! `relais_core::helpline::events`); this module tells every instance that there is
//! something new (the event bus: in-process, or Redis pub/sub across instances), pumps the
//! new events from the database once per instance, and streams them to the WebSockets of
//! `/v1/live`.

mod bus;
pub mod pace;
pub mod presence;
pub mod socket;

pub use bus::{LiveHub, SessionsEnded, Typing};
