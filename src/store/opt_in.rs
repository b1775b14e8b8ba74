//! Double opt-in in the store: a lead's confirmation state, and what confirming it did.
//!
//! A lead of a double opt-in form is stored `unconfirmed`, with its sales deliveries `held`
//! (never claimed) and one pending delivery of the confirmation e-mail to the lead, all in the
//! lead's transaction. Confirming is one write: the lead becomes `confirmed` at a time, and
//! its held deliveries become pending and due at once. Nothing lives outside the database, so
//! a restart between submission and click loses nothing; erasing or deleting the lead takes
//! its held deliveries and its confirmation e-mail with it (the `leads_delete_dependents`
//! trigger on SQLite, the same statement on PostgreSQL).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a double opt-in lead stands (`leads.confirmation`; NULL where not asked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// The confirmation link has not been clicked.
    Unconfirmed,
    /// The link was clicked.
    Confirmed,
}

impl Confirmation {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Confirmation::Unconfirmed => "unconfirmed",
            Confirmation::Confirmed => "confirmed",
        }
    }

    /// The state stored as `text`.
    pub fn parse(text: &str) -> Option<Confirmation> {
        [Confirmation::Unconfirmed, Confirmation::Confirmed]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// What [`crate::store::Store::confirm_lead`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// Confirmed now; this many held deliveries were released.
    Confirmed {
        /// Deliveries made pending.
        released: u64,
    },
    /// Confirmed before, at this time: nothing changed.
    AlreadyConfirmed {
        /// When.
        at: Option<DateTime<Utc>>,
    },
    /// The lead exists but its form did not ask for confirmation.
    NotAsked,
    /// No such lead (never stored, erased, or past retention).
    NotFound,
}

/// Confirmed and unconfirmed leads of one form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationCounts {
    /// Form id.
    pub form: String,
    /// Leads that have not clicked their link.
    pub unconfirmed: u64,
    /// Leads that have.
    pub confirmed: u64,
}
