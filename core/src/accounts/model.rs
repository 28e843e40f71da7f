//! Organisations, roles and staff accounts as the domain sees them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ids::{OrganisationId, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    Helpline,
    Centre,
    HousingPlatform,
    National,
    Partner,
}

impl OrganisationKind {
    pub const ALL: [Self; 5] = [
        Self::Helpline,
        Self::Centre,
        Self::HousingPlatform,
        Self::National,
        Self::Partner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Helpline => "helpline",
            Self::Centre => "centre",
            Self::HousingPlatform => "housing_platform",
            Self::National => "national",
            Self::Partner => "partner",
        }
    }
}

impl FromStr for OrganisationKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| crate::Error::invalid("kind", "unknown organisation kind"))
    }
}

impl fmt::Display for OrganisationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Listener,
    HelplineSupervisor,
    Practitioner,
    CentreManager,
    HousingOperator,
    NationalCoordinator,
    Admin,
}

impl Role {
    pub const ALL: [Self; 7] = [
        Self::Listener,
        Self::HelplineSupervisor,
        Self::Practitioner,
        Self::CentreManager,
        Self::HousingOperator,
        Self::NationalCoordinator,
        Self::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listener => "listener",
            Self::HelplineSupervisor => "helpline_supervisor",
            Self::Practitioner => "practitioner",
            Self::CentreManager => "centre_manager",
            Self::HousingOperator => "housing_operator",
            Self::NationalCoordinator => "national_coordinator",
            Self::Admin => "admin",
        }
    }

    /// The kind of organisation a holder of this role must belong to.
    pub fn organisation_kind(self) -> OrganisationKind {
        match self {
            Self::Listener | Self::HelplineSupervisor => OrganisationKind::Helpline,
            Self::Practitioner | Self::CentreManager => OrganisationKind::Centre,
            Self::HousingOperator => OrganisationKind::HousingPlatform,
            Self::NationalCoordinator | Self::Admin => OrganisationKind::National,
        }
    }

    /// Roles that see personal data; a second factor can be required for them.
    pub fn sees_personal_data(self) -> bool {
        !matches!(self, Self::NationalCoordinator)
    }

    /// Roles that manage the staff accounts of their own organisation.
    pub fn manages_staff(self) -> bool {
        matches!(self, Self::HelplineSupervisor | Self::CentreManager | Self::Admin)
    }
}

impl FromStr for Role {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::Error::invalid("roles", format!("unknown role {s:?}")))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty set of roles, all valid for one organisation kind.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn for_organisation(mut roles: Vec<Role>, kind: OrganisationKind) -> Result<Self, crate::Error> {
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(crate::Error::invalid("roles", "at least one role is required"));
        }
        if let Some(bad) = roles.iter().find(|r| r.organisation_kind() != kind) {
            return Err(crate::Error::invalid(
                "roles",
                format!(
                    "role {bad} belongs to a {} organisation, not a {kind}",
                    bad.organisation_kind()
                ),
            ));
        }
        Ok(Self(roles))
    }

    pub(crate) fn from_db(text: &str) -> Self {
        let names: Vec<String> = serde_json::from_str(text).unwrap_or_default();
        Self(names.iter().filter_map(|n| n.parse().ok()).collect())
    }

    pub(crate) fn to_db(&self) -> String {
        serde_json::to_string(&self.0.iter().map(|r| r.as_str()).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn as_slice(&self) -> &[Role] {
        &self.0
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub kind: OrganisationKind,
    pub name: String,
    pub timezone: String,
    /// Département codes a centre covers (empty for other kinds).
    pub coverage: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// An inactive organisation's staff and API keys are refused.
    pub active: bool,
}

impl Organisation {
    /// The organisation's time zone (stored valid; Paris if it ever were not).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Europe::Paris)
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct User {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    pub email: String,
    pub display_name: String,
    pub roles: Roles,
    pub totp_enabled: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_must_fit_the_organisation() {
        assert!(
            Roles::for_organisation(vec![Role::Practitioner, Role::CentreManager], OrganisationKind::Centre).is_ok()
        );
        assert!(Roles::for_organisation(vec![Role::Listener], OrganisationKind::Centre).is_err());
        assert!(Roles::for_organisation(vec![], OrganisationKind::Centre).is_err());
        assert!(Roles::for_organisation(vec![Role::Admin], OrganisationKind::Partner).is_err());
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        for kind in OrganisationKind::ALL {
            assert_eq!(kind.as_str().parse::<OrganisationKind>().ok(), Some(kind));
        }
    }
}
