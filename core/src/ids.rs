//! Typed ids: a `UserId` can never be passed where an `OrganisationId` is expected.
//! Stored as TEXT (hyphenated UUID) on both backends; generated in Rust.

use std::fmt;
use std::str::FromStr;

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4())
            }
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
            /// For values read back from our own database, which only ever holds valid ids.
            pub fn from_db(text: &str) -> Self {
                Self(uuid::Uuid::parse_str(text).unwrap_or_default())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(value: uuid::Uuid) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

typed_id!(OrganisationId, UserId, SessionId, ApiKeyId, AuditId);

// The ids the HTTP edge reads from paths (`web::Path<CaseId>`): a path segment that is not a
// UUID names no object.
typed_id!(
    CaseId,
    CaseSessionId,
    CaseNoteId,
    TaskId,
    ConversationId,
    ContactId,
    ReferralId,
    OfferId,
    HousingRequestId,
    PlacementId,
    CertificateId,
    SlotId,
    AppointmentId,
    CannedReplyId,
    ServiceId
);
