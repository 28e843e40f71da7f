//! The words of centres, referrals and appointments (FHIR names for appointment statuses).

string_enum!(ReferralStatus {
    Pending => "pending",
    Accepted => "accepted",
    Rejected => "rejected",
    Done => "done",
    Revoked => "revoked",
});

string_enum!(LegalBasisKind { Voluntary => "voluntary", CourtOrdered => "court_ordered" });

string_enum!(Authority {
    Procureur => "procureur",
    JugeInstruction => "juge_instruction",
    Jaf => "jaf",
    Jap => "jap",
    Spip => "spip",
});

string_enum!(Modality { OnSite => "on_site", Phone => "phone", Video => "video" });

string_enum!(AppointmentStatus {
    Booked => "booked",
    Arrived => "arrived",
    Fulfilled => "fulfilled",
    Cancelled => "cancelled",
    Noshow => "noshow",
});

impl AppointmentStatus {
    /// The moves a centre may make; a person only cancels (through the bot).
    pub fn can_become(self, next: Self) -> bool {
        use AppointmentStatus::*;
        matches!(
            (self, next),
            (Booked, Arrived) | (Booked, Noshow) | (Booked, Cancelled) | (Arrived, Fulfilled) | (Arrived, Cancelled)
        )
    }
}

/// Why a referral exists: the person's consent, or a court's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegalBasis {
    Voluntary {
        consent_at: chrono::DateTime<chrono::Utc>,
    },
    CourtOrdered {
        authority: Authority,
        decision_reference: String,
        ends_on: chrono::NaiveDate,
    },
}

impl LegalBasis {
    pub fn kind(&self) -> LegalBasisKind {
        match self {
            Self::Voluntary { .. } => LegalBasisKind::Voluntary,
            Self::CourtOrdered { .. } => LegalBasisKind::CourtOrdered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppointmentStatus::*;

    #[test]
    fn appointment_moves_follow_fhir() {
        assert!(Booked.can_become(Arrived));
        assert!(Arrived.can_become(Fulfilled));
        assert!(Booked.can_become(Noshow));
        assert!(!Fulfilled.can_become(Cancelled));
        assert!(!Cancelled.can_become(Booked));
        assert!(!Noshow.can_become(Arrived));
    }
}
