//! The `users` table's rows: named sign-ins for the dashboard and the admin API (see
//! `src/users/`). The store keeps the secret's argon2 hash only, never the secret.

use serde::Serialize;

/// A user to add: the name is validated and the secret already hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// Unique name.
    pub name: String,
    /// `sales` or `admin`.
    pub role: String,
    /// PHC string of the secret.
    pub secret_hash: String,
    /// When it was added (ms since the epoch).
    pub created_ms: i64,
}

/// A user as listed: never its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// Unique name.
    pub name: String,
    /// `sales` or `admin` as stored.
    pub role: String,
    /// When it was added or last replaced (ms); a session is valid only for this value.
    pub created_ms: i64,
}

/// A user with its secret's hash, for checking a login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredUser {
    /// The row.
    pub record: UserRecord,
    /// PHC string of the secret.
    pub secret_hash: String,
}

/// The answer to adding a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAdded {
    /// A new user.
    Added(UserRecord),
    /// An existing user whose secret, role and `created_ms` were replaced (its sessions end).
    Replaced(UserRecord),
    /// The name is taken and no replacement was asked for; nothing changed.
    Exists,
}
