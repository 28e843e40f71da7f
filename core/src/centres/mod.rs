//! Care centres (CPCA): their profile, referrals handed to them (one state machine for
//! every hand-over), the availability they publish and its slots, appointments, and the
//! local-time wording a person reads.

pub mod appointments;
pub mod calendar;
pub mod directory;
pub mod model;
pub mod profiles;
pub mod referrals;
pub mod slots;
pub mod wording;
