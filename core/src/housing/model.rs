//! The words of the housing platform.

string_enum!(OfferKind {
    Hotel => "hotel",
    Shelter => "shelter",
    Apartment => "apartment",
    HostFamily => "host_family",
    CentrePlace => "centre_place",
});
string_enum!(Urgency { Tonight => "tonight", WithinDays => "within_days" });
string_enum!(RequestStatus {
    Open => "open",
    Placed => "placed",
    Unmet => "unmet",
    Withdrawn => "withdrawn",
});
string_enum!(UnmetReason {
    NoCompliantOffer => "no_compliant_offer",
    NoCapacity => "no_capacity",
    Declined => "declined",
    Other => "other",
});
string_enum!(PlacementSource { Platform => "platform", Centre => "centre" });
string_enum!(PlacementStatus { Active => "active", Ended => "ended", NoShow => "no_show" });
string_enum!(Funding { Platform => "platform", Centre => "centre", Partner => "partner" });

/// Court-ordered eviction nights the platform funds, at most (six months).
pub const EVICTION_FUNDING_CAP_NIGHTS: i64 = 183;
