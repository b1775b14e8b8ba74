//! The writer's memory of recent leads, for deduplication without an index on a random key.
//!
//! A repeated submission has the same `dedupe_key` as the first one. Finding it through an
//! index on that key (or on the visitor) costs one random index page per lead, and with group
//! commit each such page is written to the WAL again in every transaction that touches it:
//! the largest part of the bytes written per lead. The single writer sees every lead of its
//! database, so it keeps the recent ones in memory instead: 32 bits of the key's hash and the
//! row id, 8 bytes an entry, in two generations that rotate each window. An entry lives at
//! least one window and at most two; every candidate is read back by row id and checked (same
//! key, inside the window), so a stale entry, a hash collision or an erased lead is never
//! mistaken for a duplicate, and entries with the same hash bits live side by side.
//!
//! On start the memory is filled from the last window of leads (through `leads_received`), so
//! a restart does not forget. One capture process should write a database at a time: a second
//! writer's leads would be stored, but not deduplicated against this one's.

use hashbrown::HashTable;
use rusqlite::{params, Connection};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Entries per generation before it rotates early. Bounds the memory (a table of at most
/// 1.2 MiB a generation) under sustained loads far beyond any landing page's (over 210 leads
/// a second for five minutes); the window is then shorter than
/// [`DEDUPE_WINDOW_SECS`](crate::store::DEDUPE_WINDOW_SECS) — at least 1.8 s at 35,000 leads
/// a second, still longer than a double click or a client's retry — never skipped.
pub(super) const MAX_PER_GENERATION: usize = 1 << 16;

/// One remembered lead: the key's hash bits (high half) and its row id (low half).
#[derive(Clone, Copy)]
struct Entry(u64);

impl Entry {
    fn bits(self) -> u32 {
        (self.0 >> 32) as u32
    }
    fn rowid(self) -> i64 {
        i64::from(self.0 as u32)
    }
}

/// The table's hash of an entry: from its 32 hash bits alone, so the table can grow without
/// the keys.
fn slot(bits: u32) -> u64 {
    u64::from(bits).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Recent leads: hashed dedupe key → row id.
pub(super) struct RecentLeads {
    window_ms: i64,
    current: HashTable<Entry>,
    previous: HashTable<Entry>,
    rotated_ms: i64,
}

/// A lead found again: its id and whether it qualified.
pub(super) struct Earlier {
    pub id: String,
    pub qualified: bool,
}

fn hash_bits(key: &str) -> u32 {
    // A fixed-key hasher: the same key hashes the same way after a restart, when the memory
    // is refilled from the database.
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() >> 32) as u32
}

impl RecentLeads {
    /// Memory of the leads received in the `window_ms` before `now_ms`.
    pub fn load(conn: &Connection, window_ms: i64, now_ms: i64) -> rusqlite::Result<RecentLeads> {
        let mut recent = RecentLeads {
            window_ms,
            current: HashTable::new(),
            previous: HashTable::new(),
            rotated_ms: now_ms,
        };
        let mut st = conn.prepare(
            "SELECT rowid, dedupe_key, received_ms FROM leads WHERE received_ms >= ?1 ORDER BY received_ms",
        )?;
        let mut rows = st.query(params![now_ms - window_ms])?;
        while let Some(r) = rows.next()? {
            let key: String = r.get(1)?;
            recent.remember(&key, r.get(0)?, r.get(2)?);
        }
        Ok(recent)
    }

    /// The lead with `key` received at or after `since_ms`, if one is remembered and stored.
    pub fn find(
        &self,
        conn: &Connection,
        key: &str,
        since_ms: i64,
    ) -> rusqlite::Result<Option<Earlier>> {
        let bits = hash_bits(key);
        let candidates = self
            .current
            .iter_hash(slot(bits))
            .chain(self.previous.iter_hash(slot(bits)))
            .filter(|e| e.bits() == bits);
        for e in candidates {
            let mut st = conn.prepare_cached(
                "SELECT id, qualified, received_ms, dedupe_key FROM leads WHERE rowid = ?1",
            )?;
            let mut rows = st.query(params![e.rowid()])?;
            if let Some(r) = rows.next()? {
                let (ms, stored): (i64, String) = (r.get(2)?, r.get(3)?);
                if ms >= since_ms && stored == key {
                    return Ok(Some(Earlier {
                        id: r.get(0)?,
                        qualified: r.get(1)?,
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Remembers the lead at `rowid` with `key`, received at `at_ms`.
    pub fn remember(&mut self, key: &str, rowid: i64, at_ms: i64) {
        if at_ms - self.rotated_ms >= self.window_ms || self.current.len() >= MAX_PER_GENERATION {
            self.previous = std::mem::take(&mut self.current);
            self.rotated_ms = at_ms;
        }
        // Row ids past 32 bits (four billion leads) are not remembered: such a lead is
        // stored again rather than matched wrongly.
        let Ok(low) = u32::try_from(rowid) else {
            return;
        };
        let bits = hash_bits(key);
        let entry = Entry(u64::from(bits) << 32 | u64::from(low));
        self.current
            .insert_unique(slot(bits), entry, |e| slot(e.bits()));
    }

    /// How many leads are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: i64 = 300_000;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut c).unwrap();
        c
    }

    fn insert(c: &Connection, id: &str, key: &str, ms: i64) -> i64 {
        c.execute(
            "INSERT INTO leads (id, received_at, received_ms, form, answers, score, qualified, dedupe_key)
             VALUES (?1, '', ?2, 'f', '{}', 0, 1, ?3)",
            params![id, ms, key],
        )
        .unwrap();
        c.last_insert_rowid()
    }

    /// Stores a lead and remembers it, as the writer does.
    fn keep(r: &mut RecentLeads, c: &Connection, id: &str, key: &str, ms: i64) {
        let row = insert(c, id, key, ms);
        r.remember(key, row, ms);
    }

    fn fresh() -> (Connection, RecentLeads) {
        let c = db();
        let r = RecentLeads::load(&c, WINDOW, 0).unwrap();
        (c, r)
    }

    fn found(r: &RecentLeads, c: &Connection, key: &str, now: i64) -> Option<String> {
        r.find(c, key, now - WINDOW).unwrap().map(|e| e.id)
    }

    #[test]
    fn finds_a_lead_inside_the_window_and_not_after_it() {
        let (c, mut r) = fresh();
        keep(&mut r, &c, "l1", "k1", 1_000);
        assert_eq!(found(&r, &c, "k1", 2_000).as_deref(), Some("l1"));
        assert_eq!(found(&r, &c, "k2", 2_000), None, "another key");
        assert_eq!(
            found(&r, &c, "k1", 1_000 + WINDOW).as_deref(),
            Some("l1"),
            "the window includes its edge"
        );
        assert_eq!(found(&r, &c, "k1", 1_001 + WINDOW), None, "too old");
    }

    #[test]
    fn an_entry_survives_one_rotation_and_is_dropped_by_the_second() {
        let (c, mut r) = fresh();
        keep(&mut r, &c, "l1", "k1", 10);
        // A lead one window later rotates: k1 moves to the previous generation.
        keep(&mut r, &c, "l2", "k2", WINDOW);
        assert_eq!(found(&r, &c, "k1", WINDOW).as_deref(), Some("l1"));
        keep(&mut r, &c, "l3", "k3", 2 * WINDOW);
        assert_eq!(r.len(), 2, "k1 is forgotten");
        assert_eq!(found(&r, &c, "k3", 2 * WINDOW).as_deref(), Some("l3"));
    }

    #[test]
    fn an_erased_or_replaced_row_is_not_a_duplicate() {
        let (c, mut r) = fresh();
        keep(&mut r, &c, "l1", "k1", 10);
        let row: i64 = c
            .query_row("SELECT rowid FROM leads WHERE id = 'l1'", [], |x| x.get(0))
            .unwrap();
        c.execute("DELETE FROM leads WHERE id = 'l1'", []).unwrap();
        assert_eq!(found(&r, &c, "k1", 20), None, "erased");
        // SQLite may hand the freed row id to another lead.
        let again = insert(&c, "l2", "other", 30);
        assert_eq!(again, row);
        assert_eq!(found(&r, &c, "k1", 40), None, "a different lead now");
    }

    #[test]
    fn a_restart_remembers_the_last_window() {
        let c = db();
        insert(&c, "old", "k-old", 1_000);
        insert(&c, "new", "k-new", 1_000 + WINDOW);
        let r = RecentLeads::load(&c, WINDOW, 1_000 + WINDOW + 1).unwrap();
        assert_eq!(r.len(), 1, "only the lead inside the window is loaded");
        assert_eq!(
            found(&r, &c, "k-new", 1_000 + WINDOW + 1).as_deref(),
            Some("new")
        );
    }

    #[test]
    fn a_full_generation_rotates_early() {
        let (_c, mut r) = fresh();
        for i in 0..MAX_PER_GENERATION as i64 + 1 {
            r.remember(&i.to_string(), i + 1, 5);
        }
        assert_eq!(r.current.len(), 1);
        assert_eq!(r.previous.len(), MAX_PER_GENERATION);
    }

    #[test]
    fn keys_with_the_same_hash_bits_are_both_remembered() {
        // Two keys whose 32 hash bits agree (a birthday search finds some among 200,000).
        let mut seen = std::collections::HashMap::new();
        let (a, b) = (0..200_000)
            .map(|i| format!("key-{i}"))
            .find_map(|k| {
                seen.insert(hash_bits(&k), k.clone())
                    .map(|earlier| (earlier, k))
            })
            .expect("a collision among 200,000 keys");
        assert_ne!(a, b);
        let (c, mut r) = fresh();
        keep(&mut r, &c, "la", &a, 10);
        keep(&mut r, &c, "lb", &b, 20);
        assert_eq!(found(&r, &c, &a, 30).as_deref(), Some("la"));
        assert_eq!(found(&r, &c, &b, 30).as_deref(), Some("lb"));
    }
}
