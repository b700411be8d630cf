//! Who is calling and what they may do.
//!
//! - [`keys`]: API keys (generated, stored as SHA-256, looked up, listed, revoked).
//! - [`middleware`]: resolves `Authorization: Bearer KEY` (or a session cookie) into a
//!   [`Principal`] before routing.
//! - [`session`]: the console's cookie sessions and their CSRF rule.
//! - here: [`Role`], [`Principal`] and the pure permission and tenant-scope rules.

pub mod keys;
pub mod middleware;
pub mod session;

use std::fmt;
use std::str::FromStr;

use contracts::Channel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The shop website: uploads and estimates for its customers.
    Website,
    /// A partner: confined to its own tenant.
    Partner,
    /// The manufacturing execution system.
    Mes,
    /// People who watch the queues and take work.
    Operator,
    /// Everything, including keys.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Website,
        Role::Partner,
        Role::Mes,
        Role::Operator,
        Role::Admin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Website => "website",
            Role::Partner => "partner",
            Role::Mes => "mes",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Sees every tenant's jobs.
    pub const fn sees_all_tenants(self) -> bool {
        matches!(self, Role::Operator | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected website, partner, mes, operator or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    Estimate,
    ReadJob,
    ListJobs,
    ViewQueues,
    ViewWorkers,
    Claim,
    Retry,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Submit,
        Action::Estimate,
        Action::ReadJob,
        Action::ListJobs,
        Action::ViewQueues,
        Action::ViewWorkers,
        Action::Claim,
        Action::Retry,
    ];

    /// For the 403 message: "this key's role may not ...".
    pub const fn describe(self) -> &'static str {
        match self {
            Action::Submit => "submit jobs",
            Action::Estimate => "request estimates",
            Action::ReadJob => "read jobs",
            Action::ListJobs => "list jobs",
            Action::ViewQueues => "view queues",
            Action::ViewWorkers => "view workers",
            Action::Claim => "claim jobs",
            Action::Retry => "retry jobs",
        }
    }
}

/// The permission table.
pub const fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Website | Role::Partner | Role::Mes => {
            matches!(action, Submit | Estimate | ReadJob)
        }
        Role::Operator => matches!(
            action,
            Estimate | ReadJob | ListJobs | ViewQueues | ViewWorkers | Claim | Retry
        ),
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's id (`None` for an anonymous caller of `serve --open`).
    pub key_id: Option<Uuid>,
    pub role: Role,
    /// The tenant whose jobs this caller submits and sees (all tenants for operators and admins).
    pub tenant: String,
    /// Requests per minute; `None` = unlimited.
    pub rate_per_minute: Option<u32>,
    /// Jobs per UTC day; `None` = unlimited.
    pub daily_quota: Option<u32>,
}

impl Principal {
    /// Fails with 403 unless the role may do `action`.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if allowed(self.role, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden(action.describe()))
        }
    }

    /// Whether a job of `tenant` is visible: a partner (or website/MES key) sees only its own
    /// tenant; anything else is answered as "not found".
    pub fn can_see(&self, tenant: &str) -> bool {
        self.role.sees_all_tenants() || self.tenant == tenant
    }

    /// The channel a submission comes in on; operators and admins may name one.
    pub fn channel(&self, requested: Option<Channel>) -> Channel {
        match self.role {
            Role::Website => Channel::Website,
            Role::Partner => Channel::Partner,
            Role::Mes => Channel::Mes,
            Role::Operator | Role::Admin => requested.unwrap_or(Channel::Website),
        }
    }

    /// Name recorded as the actor of operator actions.
    pub fn actor(&self) -> String {
        match self.key_id {
            Some(id) => format!("{}:{}", self.role, id.simple()),
            None => format!("{}:anonymous", self.role),
        }
    }
}

/// The tenant a key acts for when created without one: the role's name (partners need one).
pub fn default_tenant(role: Role) -> Option<&'static str> {
    match role {
        Role::Partner => None,
        other => Some(other.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table() {
        let actions = Action::ALL;
        // Rows: website, partner, mes, operator, admin; columns: `actions` in order.
        let table: [(Role, [bool; 8]); 5] = [
            (
                Role::Website,
                [true, true, true, false, false, false, false, false],
            ),
            (
                Role::Partner,
                [true, true, true, false, false, false, false, false],
            ),
            (
                Role::Mes,
                [true, true, true, false, false, false, false, false],
            ),
            (
                Role::Operator,
                [false, true, true, true, true, true, true, true],
            ),
            (Role::Admin, [true; 8]),
        ];
        for (role, row) in table {
            for (action, want) in actions.iter().zip(row) {
                assert_eq!(allowed(role, *action), want, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn tenant_scope() {
        let p = |role, tenant: &str| Principal {
            key_id: None,
            role,
            tenant: tenant.into(),
            rate_per_minute: None,
            daily_quota: None,
        };
        assert!(p(Role::Partner, "acme").can_see("acme"));
        assert!(!p(Role::Partner, "acme").can_see("globex"));
        assert!(!p(Role::Website, "website").can_see("acme"));
        assert!(p(Role::Operator, "operator").can_see("acme"));
        assert!(p(Role::Admin, "admin").can_see("acme"));
        assert_eq!(
            p(Role::Partner, "a").channel(Some(Channel::Mes)),
            Channel::Partner
        );
        assert_eq!(
            p(Role::Admin, "a").channel(Some(Channel::Mes)),
            Channel::Mes
        );
    }

    #[test]
    fn roles_parse() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
        assert_eq!(default_tenant(Role::Partner), None);
        assert_eq!(default_tenant(Role::Mes), Some("mes"));
    }
}
