//! Justice partners: what they are told. A partner (by its API key) sends court-ordered
//! referrals; it hears, through signed webhooks, what follows from them: the centre's
//! decision, appointments kept or missed, certificates issued. Nothing else.

pub mod events;
pub mod signature;
pub mod webhooks;
