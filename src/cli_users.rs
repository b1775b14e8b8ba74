//! `splitmark user add|list|remove`: the named users of the dashboard and the admin API.
//!
//! `add` prints the new secret once, on standard output alone (so a script can capture it),
//! and stores only its argon2 hash. The database comes from `--db`, else `SPLITMARK_DB`, else
//! the site's SQLite file: a PostgreSQL URL with its password need not appear in the process
//! list. Safe to run while `splitmark capture` serves the same database; a removal or a
//! replacement takes effect on the server's next request.

use crate::cli_data::{open_existing, runtime};
use crate::store::{NewUser, SharedStore, UserAdded, UserRecord};
use crate::users::{self, Role};
use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};
use std::path::Path;

/// The environment variable that gives these commands their database when `--db` does not.
pub const DB_VAR: &str = "SPLITMARK_DB";

/// `--db`, else `SPLITMARK_DB` (read through `env`).
pub fn db_or_env(db: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    db.map(str::to_owned)
        .or_else(|| env(DB_VAR).filter(|u| !u.is_empty()))
}

async fn with_store<T>(
    root: &Path,
    db: Option<&str>,
    f: impl AsyncFnOnce(&SharedStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let db = db_or_env(db, &|k| std::env::var(k).ok());
    let store = open_existing(root, db.as_deref()).await?;
    let out = f(&store).await;
    store.close().await.map_err(|e| anyhow!("{e}"))?;
    out
}

/// What `user add` did.
#[derive(Clone, Debug)]
pub struct Added {
    /// The stored user.
    pub user: UserRecord,
    /// The secret, to show once.
    pub secret: String,
    /// Whether an existing user was replaced.
    pub replaced: bool,
}

/// `splitmark user add NAME --role ROLE [--replace]`.
pub fn add(
    root: &Path,
    db: Option<&str>,
    name: &str,
    role: &str,
    replace: bool,
) -> anyhow::Result<Added> {
    users::validate_name(name).map_err(|e| anyhow!(e))?;
    let role = Role::parse(role).map_err(|e| anyhow!(e))?;
    let secret = users::secret::generate();
    let user = NewUser {
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        secret_hash: users::secret::hash(&secret).map_err(|e| anyhow!(e))?,
        created_ms: Utc::now().timestamp_millis(),
    };
    runtime()?.block_on(with_store(root, db, async |store| {
        match store.add_user(user, replace).await.map_err(|e| anyhow!("{e}"))? {
            UserAdded::Added(user) => Ok(Added { user, secret, replaced: false }),
            UserAdded::Replaced(user) => Ok(Added { user, secret, replaced: true }),
            UserAdded::Exists => bail!(
                "there is already a user {name:?}; give --replace to issue a new secret (which signs them out)"
            ),
        }
    }))
}

/// `splitmark user list`, by name.
pub fn list(root: &Path, db: Option<&str>) -> anyhow::Result<Vec<UserRecord>> {
    runtime()?.block_on(with_store(root, db, async |store| {
        store.users().await.map_err(|e| anyhow!("{e}"))
    }))
}

/// `splitmark user remove NAME`: an error if there is no such user.
pub fn remove(root: &Path, db: Option<&str>, name: &str) -> anyhow::Result<()> {
    runtime()?.block_on(with_store(root, db, async |store| {
        if store.remove_user(name).await.map_err(|e| anyhow!("{e}"))? {
            Ok(())
        } else {
            bail!("there is no user {name:?}")
        }
    }))
}

/// The table `user list` prints: name, role and when it was created, never the hash.
pub fn table(users: &[UserRecord]) -> String {
    let width = users.iter().map(|u| u.name.len()).max().unwrap_or(0).max(4);
    let mut out = format!("{:width$}  {:5}  CREATED\n", "NAME", "ROLE");
    for u in users {
        let created = DateTime::<Utc>::from_timestamp_millis(u.created_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        out.push_str(&format!("{:width$}  {:5}  {created}\n", u.name, u.role));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_environment() {
        let env = |k: &str| (k == DB_VAR).then(|| "postgres://env".to_owned());
        assert_eq!(
            db_or_env(Some("sqlite:x"), &env).as_deref(),
            Some("sqlite:x")
        );
        assert_eq!(db_or_env(None, &env).as_deref(), Some("postgres://env"));
        assert_eq!(db_or_env(None, &|_| None), None);
    }

    #[test]
    fn the_table_shows_no_hash() {
        let t = table(&[UserRecord {
            name: "alice".into(),
            role: "sales".into(),
            created_ms: 0,
        }]);
        assert_eq!(
            t,
            "NAME   ROLE   CREATED\nalice  sales  1970-01-01 00:00:00 UTC\n"
        );
    }
}
