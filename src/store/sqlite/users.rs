//! The `users` table on SQLite. Written on a reader connection, like the retention purge:
//! each write is one statement (atomic on its own), rare, and waits for the writer through
//! the busy timeout like any other process writing the file (`splitmark user add` does so
//! while the server runs).

use super::super::users::{NewUser, StoredUser, UserAdded, UserRecord};
use rusqlite::{params, Connection, OptionalExtension};

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        name: r.get(0)?,
        role: r.get(1)?,
        created_ms: r.get(2)?,
    })
}

/// Adds `user`, or replaces it when `replace`. A replacement's `created_ms` always moves
/// forward, even within one millisecond, so sessions of the old secret never match it.
pub(super) fn add(c: &Connection, user: &NewUser, replace: bool) -> rusqlite::Result<UserAdded> {
    let existed: bool = c
        .query_row("SELECT 1 FROM users WHERE name = ?1", [&user.name], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    if existed && !replace {
        return Ok(UserAdded::Exists);
    }
    let sql = if replace {
        "INSERT INTO users (name, role, secret_hash, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role, secret_hash = excluded.secret_hash,
             created_ms = max(excluded.created_ms, users.created_ms + 1)
         RETURNING name, role, created_ms"
    } else {
        "INSERT INTO users (name, role, secret_hash, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO NOTHING RETURNING name, role, created_ms"
    };
    let row = c
        .query_row(
            sql,
            params![user.name, user.role, user.secret_hash, user.created_ms],
            record,
        )
        .optional()?;
    Ok(match row {
        // Added by someone else between the look-up and the insert.
        None => UserAdded::Exists,
        Some(r) if existed => UserAdded::Replaced(r),
        Some(r) => UserAdded::Added(r),
    })
}

/// The user called `name`, with its hash.
pub(super) fn get(c: &Connection, name: &str) -> rusqlite::Result<Option<StoredUser>> {
    c.prepare_cached("SELECT name, role, created_ms, secret_hash FROM users WHERE name = ?1")?
        .query_row([name], |r| {
            Ok(StoredUser {
                record: record(r)?,
                secret_hash: r.get(3)?,
            })
        })
        .optional()
}

/// Every user by name, without hashes.
pub(super) fn list(c: &Connection) -> rusqlite::Result<Vec<UserRecord>> {
    c.prepare("SELECT name, role, created_ms FROM users ORDER BY name")?
        .query_map([], record)?
        .collect()
}

/// Removes `name`; whether there was such a user.
pub(super) fn remove(c: &Connection, name: &str) -> rusqlite::Result<bool> {
    c.execute("DELETE FROM users WHERE name = ?1", [name])
        .map(|n| n == 1)
}
