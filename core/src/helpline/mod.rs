//! The anonymous text line's storage: contacts (found by keyed HMAC of their channel
//! address, the address itself sealed for the delivery worker only), conversations,
//! messages (bodies sealed), receipts of provider message ids, and the outbox.
//! Nothing here ever returns a channel address to a caller other than the delivery worker.

pub mod calls;
pub mod canned;
pub mod contacts;
pub mod conversations;
pub mod desk;
pub mod events;
pub mod messages;
pub mod model;
pub mod orientations;
pub mod outbox;
pub mod receipts;
pub mod retention;
pub mod statistics;
pub mod webchat_sessions;
