//! Confirming a double opt-in lead on SQLite: one write on the writer thread that marks the
//! lead confirmed and makes its held deliveries pending and due at once, so the lead and its
//! deliveries can never disagree (see `store::opt_in`).

use super::super::*;
use super::count_column;
use rusqlite::{params, Connection, OptionalExtension};

/// A confirmation for the writer: the lead, the `received_ms` window its id names (leads
/// have no index on id, see schema 6), and now.
pub(in crate::store) struct Confirm {
    pub id: String,
    pub window: (i64, i64),
    pub now_ms: i64,
}

impl Confirm {
    /// Runs inside the writer's transaction.
    pub(super) fn run(&self, tx: &Connection) -> rusqlite::Result<ConfirmOutcome> {
        let (from, to) = self.window;
        let found: Option<(i64, Option<String>, Option<i64>)> = tx
            .prepare_cached(
                "SELECT rowid, confirmation, confirmed_ms FROM leads
                 WHERE received_ms BETWEEN ?1 AND ?2 AND id = ?3",
            )?
            .query_row(params![from, to, self.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((rowid, state, confirmed_ms)) = found else {
            return Ok(ConfirmOutcome::NotFound);
        };
        match state.as_deref().and_then(Confirmation::parse) {
            None => return Ok(ConfirmOutcome::NotAsked),
            Some(Confirmation::Confirmed) => {
                return Ok(ConfirmOutcome::AlreadyConfirmed {
                    at: super::super::deliveries::from_ms(confirmed_ms),
                })
            }
            Some(Confirmation::Unconfirmed) => {}
        }
        tx.prepare_cached(
            "UPDATE leads SET confirmation = 'confirmed', confirmed_ms = ?2 WHERE rowid = ?1",
        )?
        .execute(params![rowid, self.now_ms])?;
        let released = tx
            .prepare_cached(
                "UPDATE deliveries SET status = 'pending', next_attempt_ms = ?2
                 WHERE lead_id = ?1 AND status = 'held'",
            )?
            .execute(params![self.id, self.now_ms])?;
        Ok(ConfirmOutcome::Confirmed {
            released: released as u64,
        })
    }
}

/// Non-spam leads of double opt-in forms per form (on a reader).
pub(super) fn counts(conn: &Connection) -> rusqlite::Result<Vec<ConfirmationCounts>> {
    conn.prepare_cached(
        "SELECT form, SUM(confirmation = 'unconfirmed'), SUM(confirmation = 'confirmed')
         FROM leads WHERE confirmation IS NOT NULL AND spam_reason IS NULL
         GROUP BY form ORDER BY form",
    )?
    .query_map([], |r| {
        Ok(ConfirmationCounts {
            form: r.get(0)?,
            unconfirmed: count_column(r, 1)?,
            confirmed: count_column(r, 2)?,
        })
    })?
    .collect()
}
