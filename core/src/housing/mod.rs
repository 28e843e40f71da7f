//! The national housing platform: offers, housing requests from cases, constraint-safe
//! matching, placements night by night, and the national inventory for the Government.
//!
//! Safety first: an offer is proposed or used only if it respects every court ban of the
//! person's case (protected persons' exclusion radius, forbidden communes, départements and
//! areas) and never shelters victims. The rules are read from the case on the server and
//! never leave it. Matching is an oracle, so it says as little as it can: a protected person
//! is tested only through her secret protective disc, compatible offers are listed and
//! nothing else, and every refusal says one thing whatever the rule.

pub mod constraints;
pub mod geometry;
pub mod inventory;
pub mod matching;
pub mod model;
pub mod offers;
pub mod placements;
pub mod proposals;
pub mod protective_disc;
pub mod requests;
