//! Named users of the dashboard and the admin API: who a request is, and what it may do.
//!
//! A request is resolved once, at the edge, into a [`Principal`]: the shared
//! `SPLITMARK_ADMIN_TOKEN` (an admin named `admin`) or a user of the `users` table with its
//! [`Role`]. Handlers then ask [`Principal::allows`] about one [`Action`]; the role matrix
//! lives in [`Role::allows`] and nowhere else. User secrets are random and shown once; the
//! store keeps only their argon2 hash ([`secret`]).

pub mod credentials;
pub mod keys;
pub mod secret;

use serde::Serialize;

/// The name stage events and logs carry for the shared admin token; no user may take it.
pub const ADMIN_TOKEN_ACTOR: &str = "admin";

/// Longest user name.
pub const MAX_NAME_LEN: usize = 32;

/// What a user may do, as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the leads: sees them, the queue, experiments and reports, and changes stages.
    Sales,
    /// Everything a salesperson does, and exports, erases, redelivers and reads `/metrics`.
    Admin,
}

impl Role {
    /// The stored and typed text (`sales`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sales => "sales",
            Role::Admin => "admin",
        }
    }

    /// The role written as `text`, with a clear error otherwise.
    pub fn parse(text: &str) -> Result<Role, String> {
        match text {
            "sales" => Ok(Role::Sales),
            "admin" => Ok(Role::Admin),
            other => Err(format!("{other:?} is not a role: use sales or admin")),
        }
    }

    /// The role matrix: whether this role may do `action`.
    pub fn allows(self, action: Action) -> bool {
        match self {
            Role::Admin => true,
            Role::Sales => matches!(
                action,
                Action::ListLeads
                    | Action::ViewQueue
                    | Action::ViewExperiments
                    | Action::ViewReports
                    | Action::ChangeStage
            ),
        }
    }
}

/// One thing a request asks to do; every admin endpoint and dashboard page maps to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// See leads one page at a time (the dashboard's table and lead pages, a short API page).
    ListLeads,
    /// See the queue of leads not yet contacted.
    ViewQueue,
    /// Read experiment results (`/api/v1/experiments`).
    ViewExperiments,
    /// See the dashboard's overview: experiments, funnel and costs.
    ViewReports,
    /// Move a lead to another stage.
    ChangeStage,
    /// See the delivery log.
    ListDeliveries,
    /// Download the lead list (CSV, or JSON beyond one short page).
    ExportLeads,
    /// Erase a person's leads.
    EraseLeads,
    /// Send a delivery again.
    Redeliver,
    /// Read the Prometheus figures at `/metrics`.
    ReadMetrics,
    /// An admin endpoint no action names: admins only, so that a new endpoint is never open
    /// to every role by mistake.
    Unlisted,
}

impl Action {
    /// The action in words, for refusals: "may not {describe}".
    pub fn describe(self) -> &'static str {
        match self {
            Action::ListLeads => "list leads",
            Action::ViewQueue => "see the queue",
            Action::ViewExperiments => "see experiments",
            Action::ViewReports => "see reports",
            Action::ChangeStage => "change a lead's stage",
            Action::ListDeliveries => "see the delivery log",
            Action::ExportLeads => "export leads",
            Action::EraseLeads => "erase leads",
            Action::Redeliver => "redeliver",
            Action::ReadMetrics => "read metrics",
            Action::Unlisted => "use this endpoint",
        }
    }
}

/// How a request proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    /// The shared `SPLITMARK_ADMIN_TOKEN`.
    AdminToken,
    /// A user's secret (or a session issued for it) while the user was created at
    /// `created_ms`: the user's row must still carry that time.
    User {
        /// The user's `created_ms` (changes on `--replace`).
        created_ms: i64,
    },
}

/// The identity of one request, resolved once per request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    name: String,
    role: Role,
    proof: Proof,
}

impl Principal {
    /// Whoever holds the shared admin token.
    pub fn admin_token() -> Principal {
        Principal {
            name: ADMIN_TOKEN_ACTOR.to_owned(),
            role: Role::Admin,
            proof: Proof::AdminToken,
        }
    }

    /// A named user who proved its secret.
    pub fn user(name: &str, role: Role, created_ms: i64) -> Principal {
        Principal {
            name: name.to_owned(),
            role,
            proof: Proof::User { created_ms },
        }
    }

    /// The user's name (`admin` for the shared token).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// How the request proved who it is.
    pub fn proof(&self) -> &Proof {
        &self.proof
    }

    /// Whether this is the shared admin token rather than a named user.
    pub fn is_admin_token(&self) -> bool {
        self.proof == Proof::AdminToken
    }

    /// Who did it, for the `actor` of a stage event: the user's name, or `admin` for the
    /// shared token (a name no user can have).
    pub fn actor_name(&self) -> &str {
        &self.name
    }

    /// Whether this request may do `action`.
    pub fn allows(&self, action: Action) -> bool {
        self.role.allows(action)
    }
}

/// Checks a user name: 1 to [`MAX_NAME_LEN`] characters of `a-z`, `0-9`, `.`, `_` and `-`,
/// starting with a letter or digit; `admin` is taken by the shared token.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "a user name has 1 to {MAX_NAME_LEN} characters, not {}",
            name.len()
        ));
    }
    if !name.chars().all(ok_char) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "{name:?} is not a user name: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"
        ));
    }
    if name == ADMIN_TOKEN_ACTOR {
        return Err(format!(
            "{ADMIN_TOKEN_ACTOR:?} is the name of the shared admin token; choose another name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 11] = [
        Action::ListLeads,
        Action::ViewQueue,
        Action::ViewExperiments,
        Action::ViewReports,
        Action::ChangeStage,
        Action::ListDeliveries,
        Action::ExportLeads,
        Action::EraseLeads,
        Action::Redeliver,
        Action::ReadMetrics,
        Action::Unlisted,
    ];

    #[test]
    fn sales_works_leads_and_admin_does_everything() {
        let sales: Vec<Action> = ALL.into_iter().filter(|a| Role::Sales.allows(*a)).collect();
        assert_eq!(
            sales,
            [
                Action::ListLeads,
                Action::ViewQueue,
                Action::ViewExperiments,
                Action::ViewReports,
                Action::ChangeStage
            ]
        );
        assert!(ALL.into_iter().all(|a| Role::Admin.allows(a)));
        assert!(Principal::admin_token().allows(Action::EraseLeads));
    }

    #[test]
    fn the_actor_is_the_user_or_admin_for_the_token() {
        assert_eq!(Principal::admin_token().actor_name(), "admin");
        assert!(Principal::admin_token().is_admin_token());
        let u = Principal::user("alice", Role::Sales, 5);
        assert_eq!(u.actor_name(), "alice");
        assert!(!u.is_admin_token());
        assert_eq!(u.proof(), &Proof::User { created_ms: 5 });
    }

    #[test]
    fn names_and_roles_are_checked() {
        for good in [
            "alice",
            "a",
            "bob.smith",
            "x_1-2",
            &"a".repeat(MAX_NAME_LEN),
        ] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Alice",
            "-x",
            ".x",
            "a b",
            "a:b",
            "ä",
            "admin",
            &"a".repeat(MAX_NAME_LEN + 1),
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Role::parse("sales"), Ok(Role::Sales));
        assert_eq!(Role::parse("admin").map(Role::as_str), Ok("admin"));
        assert!(Role::parse("root").is_err());
    }
}
