//! What happened after the form fill, as the reports read it: one row per goal lead of an
//! exposed visitor (for judging experiments on outcomes), and lead outcomes per traffic
//! source and campaign (for cost per step).
//!
//! The stage columns are the ones schema 8 added to `leads` (`contacted_ms` …
//! `customer_ms`, each the first time the step was reached, `revenue_minor` in the minor
//! units of `currency`); the stage API keeps them. The rows carry times, not verdicts: the
//! window and the cap are applied by the report ([`crate::report`]), which keeps the store
//! queries the same on both databases.

use serde::{Deserialize, Serialize};

/// One goal-form lead of a visitor exposed to an experiment (spam and leads whose
/// attribution to this experiment was refused are left out, as in the counts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    /// The visitor's variant (their first).
    pub variant: String,
    /// First-party visitor id.
    pub visitor: String,
    /// The visitor's first exposure (ms since the epoch).
    pub exposed_ms: i64,
    /// When the lead arrived.
    pub lead_ms: i64,
    /// Marketing-qualified by score (at capture).
    pub qualified: bool,
    /// When a double opt-in was confirmed (only `confirmation = 'confirmed'`).
    pub confirmed_ms: Option<i64>,
    /// First reached `sales_qualified`.
    pub sales_qualified_ms: Option<i64>,
    /// First reached `opportunity`.
    pub opportunity_ms: Option<i64>,
    /// First reached `customer`.
    pub customer_ms: Option<i64>,
    /// Disqualified at.
    pub disqualified_ms: Option<i64>,
    /// The deal's value in minor units of `currency`.
    pub revenue_minor: Option<i64>,
    /// ISO 4217 code of the values.
    pub currency: Option<String>,
}

/// Non-spam leads of one `utm_source` × `utm_campaign` (× deal currency) and how far they got.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceOutcomeRow {
    /// `utm_source`, if the leads had one.
    pub utm_source: Option<String>,
    /// `utm_campaign`, if the leads had one.
    pub utm_campaign: Option<String>,
    /// Currency of the values, where recorded.
    pub currency: Option<String>,
    /// Leads.
    pub leads: u64,
    /// Marketing-qualified leads.
    pub qualified: u64,
    /// Leads that reached `opportunity`.
    pub opportunities: u64,
    /// Leads that reached `customer`.
    pub customers: u64,
    /// Sum of the customers' values, minor units of `currency`.
    pub revenue_minor: i64,
}
