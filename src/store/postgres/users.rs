//! The `users` table on PostgreSQL: one statement per write, so two instances (or a CLI and
//! a server) never see half a user.

use super::super::users::{NewUser, StoredUser, UserAdded, UserRecord};
use super::super::*;
use super::unavailable;

fn record(r: &tokio_postgres::Row) -> UserRecord {
    UserRecord {
        name: r.get(0),
        role: r.get(1),
        created_ms: r.get(2),
    }
}

/// Adds `user`, or replaces it when `replace`; a replacement's `created_ms` always moves
/// forward, so sessions of the old secret never match it. `xmax <> 0` tells an update from an
/// insert.
pub(super) async fn add(
    pool: &deadpool_postgres::Pool,
    user: &NewUser,
    replace: bool,
) -> StoreResult<UserAdded> {
    let client = pool.get().await.map_err(unavailable)?;
    let sql = if replace {
        "INSERT INTO users (name, role, secret_hash, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, secret_hash = EXCLUDED.secret_hash,
             created_ms = GREATEST(EXCLUDED.created_ms, users.created_ms + 1)
         RETURNING name, role, created_ms, (xmax <> 0) AS replaced"
    } else {
        "INSERT INTO users (name, role, secret_hash, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING RETURNING name, role, created_ms, false AS replaced"
    };
    let row = client
        .query_opt(
            sql,
            &[&user.name, &user.role, &user.secret_hash, &user.created_ms],
        )
        .await
        .map_err(db_err)?;
    Ok(match row {
        None => UserAdded::Exists,
        Some(r) if r.get::<_, bool>(3) => UserAdded::Replaced(record(&r)),
        Some(r) => UserAdded::Added(record(&r)),
    })
}

/// The user called `name`, with its hash.
pub(super) async fn get(
    pool: &deadpool_postgres::Pool,
    name: &str,
) -> StoreResult<Option<StoredUser>> {
    let client = pool.get().await.map_err(unavailable)?;
    let row = client
        .query_opt(
            "SELECT name, role, created_ms, secret_hash FROM users WHERE name = $1",
            &[&name],
        )
        .await
        .map_err(db_err)?;
    Ok(row.map(|r| StoredUser {
        record: record(&r),
        secret_hash: r.get(3),
    }))
}

/// Every user by name, without hashes.
pub(super) async fn list(pool: &deadpool_postgres::Pool) -> StoreResult<Vec<UserRecord>> {
    let client = pool.get().await.map_err(unavailable)?;
    let rows = client
        .query(
            "SELECT name, role, created_ms FROM users ORDER BY name",
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(record).collect())
}

/// Removes `name`; whether there was such a user.
pub(super) async fn remove(pool: &deadpool_postgres::Pool, name: &str) -> StoreResult<bool> {
    let client = pool.get().await.map_err(unavailable)?;
    let n = client
        .execute("DELETE FROM users WHERE name = $1", &[&name])
        .await
        .map_err(db_err)?;
    Ok(n == 1)
}
