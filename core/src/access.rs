//! Who is calling, and what they may touch. Every service that reads or writes
//! organisation-owned data takes a `Caller` and scopes its queries with it: an object of
//! another organisation is reported as not found, never as forbidden.

use crate::accounts::model::{OrganisationKind, Role, Roles};
use crate::error::Error;
use crate::ids::{ApiKeyId, OrganisationId, UserId};

#[derive(Clone, Debug)]
pub enum Principal {
    /// A staff member, logged in. `second_factor` says whether the session passed TOTP.
    Staff {
        user_id: UserId,
        roles: Roles,
        second_factor: bool,
    },
    /// A partner system, by its API key.
    Partner { key_id: ApiKeyId },
}

#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub organisation_id: OrganisationId,
    pub organisation_kind: OrganisationKind,
}

impl Caller {
    pub fn user_id(&self) -> Option<UserId> {
        match &self.principal {
            Principal::Staff { user_id, .. } => Some(*user_id),
            Principal::Partner { .. } => None,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        matches!(&self.principal, Principal::Staff { roles, .. } if roles.contains(role))
    }

    pub fn has_any_role(&self, admitted: &[Role]) -> bool {
        admitted.iter().any(|r| self.has_role(*r))
    }

    pub fn is_partner(&self) -> bool {
        matches!(self.principal, Principal::Partner { .. })
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// Whether the caller may see objects owned by `organisation`: their own, or any for admins.
    pub fn can_see(&self, organisation: OrganisationId) -> bool {
        self.is_admin() || self.organisation_id == organisation
    }

    /// Not-found unless the caller may see objects of `organisation`.
    pub fn scope(&self, organisation: OrganisationId) -> Result<(), Error> {
        if self.can_see(organisation) {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::Staff { user_id, .. } => Actor::user(*user_id, self.organisation_id),
            Principal::Partner { key_id } => Actor {
                kind: ActorKind::ApiKey(*key_id),
                organisation_id: Some(self.organisation_id),
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    User(UserId),
    ApiKey(ApiKeyId),
    /// The server itself (start-up, demo loading, command line).
    System,
    /// Someone not (yet) authenticated, such as a failed login.
    Anonymous,
}

/// Who did something, for the audit trail.
#[derive(Clone, Copy, Debug)]
pub struct Actor {
    pub kind: ActorKind,
    pub organisation_id: Option<OrganisationId>,
}

impl Actor {
    pub fn user(user_id: UserId, organisation_id: OrganisationId) -> Self {
        Self {
            kind: ActorKind::User(user_id),
            organisation_id: Some(organisation_id),
        }
    }
    pub const SYSTEM: Self = Self {
        kind: ActorKind::System,
        organisation_id: None,
    };
    pub const ANONYMOUS: Self = Self {
        kind: ActorKind::Anonymous,
        organisation_id: None,
    };
}
