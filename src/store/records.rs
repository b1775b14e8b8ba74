//! The records that go in and out of a [`Store`](super::Store): leads, exposures, queries
//! over them and the write path's figures.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Confirmation;

/// UTM parameters of the landing URL, as the browser script copies them into the form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utm {
    /// `utm_source`
    pub source: Option<String>,
    /// `utm_medium`
    pub medium: Option<String>,
    /// `utm_campaign`
    pub campaign: Option<String>,
    /// `utm_term`
    pub term: Option<String>,
    /// `utm_content`
    pub content: Option<String>,
}

/// Why a lead's experiment attribution was not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributionFlag {
    /// `_experiment` names no experiment in the manifest.
    UnknownExperiment,
    /// `_variant` names no variant of that experiment.
    UnknownVariant,
}

impl AttributionFlag {
    /// The stored and exported text (`unknown_experiment`, `unknown_variant`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttributionFlag::UnknownExperiment => "unknown_experiment",
            AttributionFlag::UnknownVariant => "unknown_variant",
        }
    }

    /// The flag stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<AttributionFlag> {
        [
            AttributionFlag::UnknownExperiment,
            AttributionFlag::UnknownVariant,
        ]
        .into_iter()
        .find(|f| f.as_str() == text)
    }
}

/// A validated lead as the capture server hands it to the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewLead {
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// Form id.
    pub form: String,
    /// The visitor's answers, field name to value (checkbox groups are arrays).
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// The answer of the form's email field, lower-cased, if any.
    pub email: Option<String>,
    /// `_experiment` as submitted (kept even when unknown).
    pub experiment: Option<String>,
    /// `_variant` as submitted (kept even when unknown).
    pub variant: Option<String>,
    /// Set when the attribution is not counted toward the experiment.
    pub attribution_flag: Option<AttributionFlag>,
    /// `_visitor`, the first-party visitor id.
    pub visitor: Option<String>,
    /// `_page`, the path the form was submitted from.
    pub page: Option<String>,
    /// The referrer the script captured.
    pub referrer: Option<String>,
    /// UTM parameters.
    pub utm: Utm,
    /// The request's user agent.
    pub user_agent: Option<String>,
    /// Keyed hash of the client IP (the key rotates daily); never the raw address.
    pub ip_hash: Option<String>,
    /// Qualification score.
    pub score: i64,
    /// Whether the score reached the form's threshold.
    pub qualified: bool,
    /// Set when the lead is spam (e.g. `honeypot`); spam is stored, never counted or delivered.
    pub spam_reason: Option<String>,
    /// The consent checkbox's label text, stored as proof of consent.
    pub consent: Option<String>,
    /// Identity of the submission for deduplication: the same key within
    /// [`DEDUPE_WINDOW_SECS`] of an earlier lead returns the earlier lead's id.
    pub dedupe_key: String,
    /// Double opt-in state: `None` where the form does not ask for it; a new lead of a
    /// double opt-in form is stored [`Confirmation::Unconfirmed`].
    #[serde(default)]
    pub confirmation: Option<Confirmation>,
    /// The form's version as shown ([`crate::forms::form_version`]), for the consent proof.
    #[serde(default)]
    pub form_version: Option<String>,
}

impl NewLead {
    /// The exposure `(experiment, variant, visitor)` this lead implies, when it counts toward
    /// an experiment: attributed to a known variant, not spam, from a known visitor. Stores
    /// record it in the lead's transaction (beacons get blocked; submissions must still count).
    pub fn implied_exposure(&self) -> Option<(&str, &str, &str)> {
        match (
            &self.spam_reason,
            self.attribution_flag,
            &self.experiment,
            &self.variant,
            &self.visitor,
        ) {
            (None, None, Some(e), Some(v), Some(vis)) => Some((e, v, vis)),
            _ => None,
        }
    }
}

/// How long an identical submission (same `dedupe_key`) counts as the same lead. SQLite keeps
/// this window in the writer's memory, bounded under extreme load (see `store/sqlite/recent.rs`).
pub const DEDUPE_WINDOW_SECS: i64 = 300;

/// The store's answer to [`Store::insert_lead`](super::Store::insert_lead).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadReceipt {
    /// Time-ordered lead id (UUIDv7 text).
    pub id: String,
    /// True when this was a repeat of an earlier lead inside the dedupe window.
    pub duplicate: bool,
    /// Whether the (original) lead is qualified.
    pub qualified: bool,
}

/// One exposure of a visitor to an experiment's variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// Experiment id.
    pub experiment: String,
    /// Variant id the visitor saw.
    pub variant: String,
    /// First-party visitor id.
    pub visitor: String,
    /// Page path, if known.
    pub page: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// The store's answer to [`Store::record_exposure`](super::Store::record_exposure).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureReceipt {
    /// True for the visitor's first exposure to this experiment.
    pub first: bool,
    /// The visitor's variant: the first one ever recorded for (experiment, visitor).
    pub variant: String,
}

/// Raw per-variant counts of one experiment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantCounts {
    /// Variant id.
    pub variant: String,
    /// Distinct exposed visitors (their first variant is this one).
    pub visitors: u64,
    /// Distinct exposed visitors who submitted the goal form (not spam, not flagged).
    pub conversions: u64,
    /// Of those, visitors with at least one qualified lead.
    pub qualified: u64,
    /// Page views including repeats.
    pub views: u64,
}

/// Cumulative-chart input: conversions and visitors of one variant on one UTC day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyVariantCounts {
    /// UTC day.
    pub day: NaiveDate,
    /// Variant id.
    pub variant: String,
    /// Visitors first exposed that day.
    pub visitors: u64,
    /// Conversions that day (first goal submission of an exposed visitor).
    pub conversions: u64,
}

/// Funnel input: non-spam leads received on one UTC day from one source and campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelRow {
    /// UTC day the leads arrived.
    pub day: NaiveDate,
    /// `utm_source`, if the lead had one.
    pub utm_source: Option<String>,
    /// `utm_campaign`, if the lead had one.
    pub utm_campaign: Option<String>,
    /// Leads (not spam).
    pub leads: u64,
    /// Of those, qualified leads.
    pub qualified: u64,
}

/// Filter and page for listing leads (dashboard, export).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadQuery {
    /// Only this form.
    pub form: Option<String>,
    /// Only this experiment.
    pub experiment: Option<String>,
    /// Only this variant.
    pub variant: Option<String>,
    /// Only qualified (true) or unqualified (false) leads.
    pub qualified: Option<bool>,
    /// Only spam (true) or only non-spam (false); `None` means both.
    pub spam: Option<bool>,
    /// Page size; 0 means no limit.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// A parameter of a [`LeadQuery`]'s WHERE clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterValue {
    /// A text column's value.
    Text(String),
    /// A flag column's value.
    Flag(bool),
}

impl LeadQuery {
    /// The WHERE clause of the filters (empty without any) with numbered placeholders
    /// `{mark}1`, `{mark}2`, … (`?` for SQLite, `$` for PostgreSQL), and their values in order.
    pub fn where_clause(&self, mark: char) -> (String, Vec<FilterValue>) {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        for (col, val) in [
            ("form", &self.form),
            ("experiment", &self.experiment),
            ("variant", &self.variant),
        ] {
            if let Some(v) = val {
                params.push(FilterValue::Text(v.clone()));
                clauses.push(format!("{col} = {mark}{}", params.len()));
            }
        }
        if let Some(q) = self.qualified {
            params.push(FilterValue::Flag(q));
            clauses.push(format!("qualified = {mark}{}", params.len()));
        }
        match self.spam {
            Some(true) => clauses.push("spam_reason IS NOT NULL".into()),
            Some(false) => clauses.push("spam_reason IS NULL".into()),
            None => {}
        }
        let w = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (w, params)
    }
}

/// A stored lead, newest first in listings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    /// Time-ordered id.
    pub id: String,
    /// Everything that was recorded.
    #[serde(flatten)]
    pub lead: NewLead,
    /// When the lead clicked its confirmation link (double opt-in).
    #[serde(default)]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Where it stands in the sales funnel (derived from its stage history).
    #[serde(flatten)]
    pub stage: crate::lifecycle::StageState,
}

/// Write-path figures for `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitStats {
    /// Transactions committed.
    pub commits: u64,
    /// Sum of commit latencies in seconds.
    pub commit_seconds_sum: f64,
    /// Cumulative commit-latency histogram: (upper bound in seconds, count).
    pub commit_seconds_buckets: Vec<(f64, u64)>,
    /// Sum of batch sizes (writes per transaction).
    pub batch_size_sum: u64,
    /// Cumulative batch-size histogram: (upper bound, count).
    pub batch_size_buckets: Vec<(f64, u64)>,
    /// Beacons answered and not yet committed.
    pub queued_exposures: u64,
    /// Beacons answered whose commit failed (lost), since start.
    pub dropped_exposures: u64,
}
