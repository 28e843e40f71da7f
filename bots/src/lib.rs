//! relais-bots: the anonymous text line. Channel adapters (Telegram, SMS, web chat) verify
//! their provider before reading anything and turn updates into inbound messages; ingestion
//! stores them and runs the triage dialogue in one transaction; the delivery step drains
//! the outbox (run by a worker of the api's registry). Nothing here logs a message's
//! content, a phone number or a chat id.

pub mod channel;
pub mod delivery;
pub mod dialogue;
pub mod hours;
pub mod ingest;
pub mod language;
pub mod lexicon;
pub mod metrics;
pub mod normalise;
pub mod orientation;
pub mod queue_place;
pub mod reader;
pub mod render;
pub mod script;
pub mod telegram;
pub mod twilio;
pub mod webchat;
