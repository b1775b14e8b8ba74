//! What an experiment is judged on: the metric of the verdict, the window in which an outcome
//! counts, and the optional cap on revenue. Set in the page's `[experiment]` table:
//!
//! ```toml
//! [experiment]
//! metric = "customers"          # leads (default) | qualified | confirmed | sales_qualified
//!                               # | opportunities | customers | revenue
//! outcome_window_days = 30      # outcomes after this many days from the first exposure
//!                               # do not count
//! revenue_cap_percentile = 99   # off by default
//! ```

use serde::{Deserialize, Serialize};

/// A metric of the funnel behind the goal form, per exposed visitor.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Visitors who submitted the goal form.
    #[default]
    Leads,
    /// … with a lead that reached the form's score threshold (marketing-qualified).
    Qualified,
    /// … who confirmed a double opt-in.
    Confirmed,
    /// … whose lead sales qualified.
    SalesQualified,
    /// … whose lead became an opportunity.
    Opportunities,
    /// … whose lead became a customer.
    Customers,
    /// Revenue per visitor (the customers' values, 0 for everybody else).
    Revenue,
}

impl Metric {
    /// The binomial metrics, in funnel order.
    pub const BINOMIAL: [Metric; 6] = [
        Metric::Leads,
        Metric::Qualified,
        Metric::Confirmed,
        Metric::SalesQualified,
        Metric::Opportunities,
        Metric::Customers,
    ];

    /// The name in `[experiment] metric` and in the API (`sales_qualified`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Leads => "leads",
            Metric::Qualified => "qualified",
            Metric::Confirmed => "confirmed",
            Metric::SalesQualified => "sales_qualified",
            Metric::Opportunities => "opportunities",
            Metric::Customers => "customers",
            Metric::Revenue => "revenue",
        }
    }

    /// How the report names it in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Leads => "leads",
            Metric::Qualified => "qualified leads",
            Metric::Confirmed => "confirmed leads",
            Metric::SalesQualified => "sales-qualified leads",
            Metric::Opportunities => "opportunities",
            Metric::Customers => "customers",
            Metric::Revenue => "revenue per visitor",
        }
    }
}

/// The default outcome window.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;

/// The outcome settings of one experiment, as the manifest carries them to the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeSettings {
    /// The metric of the verdict.
    #[serde(default)]
    pub metric: Metric,
    /// Days after the first exposure in which an outcome counts.
    #[serde(default = "default_window")]
    pub outcome_window_days: u32,
    /// Cap per-visitor revenue at this percentile of the buyers' values, pooled over variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_cap_percentile: Option<f64>,
}

/// `#[serde(default)]` for the window.
pub fn default_window() -> u32 {
    DEFAULT_WINDOW_DAYS
}

impl Default for OutcomeSettings {
    fn default() -> Self {
        OutcomeSettings {
            metric: Metric::Leads,
            outcome_window_days: DEFAULT_WINDOW_DAYS,
            revenue_cap_percentile: None,
        }
    }
}

impl OutcomeSettings {
    /// Checks the ranges; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=365).contains(&self.outcome_window_days) {
            return Err(format!(
                "outcome_window_days must be between 1 and 365 (got {})",
                self.outcome_window_days
            ));
        }
        if let Some(p) = self.revenue_cap_percentile {
            if !(p.is_finite() && p > 0.0 && p < 100.0) {
                return Err(format!(
                    "revenue_cap_percentile must be above 0 and below 100 (got {p})"
                ));
            }
        }
        Ok(())
    }

    /// The window in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::from(self.outcome_window_days) * 86_400_000
    }
}
