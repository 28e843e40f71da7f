//! The words of case files.

string_enum!(CaseStatus { Open => "open", Suspended => "suspended", Closed => "closed" });
string_enum!(Origin {
    Helpline => "helpline",
    Justice => "justice",
    Housing => "housing",
    SelfReferred => "self",
    Other => "other",
});
string_enum!(MeasureKind {
    Eviction => "eviction",
    CareObligation => "care_obligation",
    ContactBan => "contact_ban",
    PlaceBan => "place_ban",
    ResidenceBan => "residence_ban",
});
string_enum!(SessionKind {
    Individual => "individual",
    Group => "group",
    ResponsibilityCourse => "responsibility_course",
});
string_enum!(SessionStatus {
    Planned => "planned",
    Attended => "attended",
    Excused => "excused",
    Unexcused => "unexcused",
});

/// The person's identity as they gave it: every field optional, sealed at rest.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub date_of_birth: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

impl Identity {
    pub fn check(&self) -> crate::Result<()> {
        for (field, value, max) in [
            ("identity.name", &self.name, 200),
            ("identity.phone", &self.phone, 40),
            ("identity.address", &self.address, 400),
        ] {
            if let Some(v) = value {
                crate::values::parse_label(field, v, max)?;
            }
        }
        if let Some(born) = self.date_of_birth {
            use chrono::Datelike as _;
            if !(1900..=2030).contains(&born.year()) {
                return Err(crate::Error::invalid(
                    "identity.date_of_birth",
                    "a date of birth between 1900 and today",
                ));
            }
        }
        Ok(())
    }
}
