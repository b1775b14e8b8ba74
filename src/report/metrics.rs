//! The funnel behind the goal form, per variant: from the store's outcome rows to rates of
//! each step and revenue per visitor. Pure: rows, visitors and a clock in, figures out.
//!
//! Every rate and mean has the exposed visitors as its denominator, never the previous step:
//! a variant that brings fewer but better leads changes who reaches the next step, so
//! step-to-step rates compare different populations (post-treatment bias). An outcome counts
//! when it happens within the outcome window after the visitor's first exposure, and only for
//! a lead that itself came inside the window.

use super::money;
use super::VariantStats;
use crate::experiments::metric::{Metric, OutcomeSettings};
use crate::manifest::ExperimentManifest;
use crate::stats::{self, Moments};
use crate::store::{OutcomeRow, VariantCounts};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One variant on one binomial metric, as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricRow {
    /// Variant id.
    pub id: String,
    /// Exposed visitors (the denominator).
    pub visitors: u64,
    /// Visitors who reached the step within the window.
    pub conversions: u64,
    /// conversions / visitors.
    pub rate: Option<f64>,
    /// 95% Wilson interval.
    pub ci_low: Option<f64>,
    /// 95% Wilson interval.
    pub ci_high: Option<f64>,
    /// Fixed-horizon p-value against the control (pooled z-test).
    pub p_value: Option<f64>,
    /// Always-valid p-value against the control (mSPRT).
    pub p_value_sequential: Option<f64>,
    /// Bayesian P(variant beats control).
    pub chance_to_beat_control: Option<f64>,
}

impl MetricRow {
    fn from_stats(v: &VariantStats) -> MetricRow {
        MetricRow {
            id: v.id.clone(),
            visitors: v.visitors,
            conversions: v.conversions,
            rate: v.rate,
            ci_low: v.ci_low,
            ci_high: v.ci_high,
            p_value: v.p_value,
            p_value_sequential: v.p_value_sequential,
            chance_to_beat_control: v.chance_to_beat_control,
        }
    }
}

/// One variant's revenue per exposed visitor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RevenueRow {
    /// Variant id.
    pub id: String,
    /// Exposed visitors (the denominator).
    pub visitors: u64,
    /// Visitors with revenue inside the window.
    pub buyers: u64,
    /// Revenue, in major units of the currency (after the cap, when on).
    pub total: f64,
    /// Revenue per visitor.
    pub mean: Option<f64>,
    /// 95% t interval of the mean.
    pub ci_low: Option<f64>,
    /// 95% t interval of the mean.
    pub ci_high: Option<f64>,
    /// Welch's t-test against the control (fixed horizon).
    pub p_value: Option<f64>,
    /// Always-valid p-value against the control (mSPRT on the difference of means).
    pub p_value_sequential: Option<f64>,
    /// Relative lift of the mean over the control's.
    pub lift: Option<f64>,
    /// 95% interval of the lift (delta method).
    pub lift_ci_low: Option<f64>,
    /// 95% interval of the lift (delta method).
    pub lift_ci_high: Option<f64>,
}

/// Revenue per visitor of every variant, or why it cannot be computed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Revenue {
    /// ISO 4217 code of every value, when there is one.
    pub currency: Option<String>,
    /// The cap's percentile, when capping is on.
    pub cap_percentile: Option<f64>,
    /// The value per visitor the cap came to (major units), when on and there are buyers.
    pub cap: Option<f64>,
    /// Set instead of figures when the values cannot be compared (mixed currencies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Control first; empty with an error.
    pub variants: Vec<RevenueRow>,
}

/// Leads of one variant whose outcome is not known yet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenLeads {
    /// Variant id.
    pub id: String,
    /// Leads counted in the window.
    pub leads: u64,
    /// Of those, leads with no terminal stage (customer, disqualified) whose window is still
    /// running: their outcome may still come.
    pub open: u64,
}

/// The `metrics` block of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    /// The metric the verdict is made on.
    pub verdict_metric: Metric,
    /// Days after the first exposure in which an outcome counts.
    pub outcome_window_days: u32,
    /// Visitors who submitted the goal form.
    pub leads: Vec<MetricRow>,
    /// … with a marketing-qualified lead.
    pub qualified: Vec<MetricRow>,
    /// … who confirmed a double opt-in.
    pub confirmed: Vec<MetricRow>,
    /// … whose lead sales qualified.
    pub sales_qualified: Vec<MetricRow>,
    /// … whose lead became an opportunity.
    pub opportunities: Vec<MetricRow>,
    /// … whose lead became a customer.
    pub customers: Vec<MetricRow>,
    /// Revenue per visitor.
    pub revenue: Revenue,
    /// Leads still open per variant.
    pub open: Vec<OpenLeads>,
}

impl Metrics {
    /// The rows of a binomial metric (`None` for revenue).
    pub fn rows(&self, m: Metric) -> Option<&[MetricRow]> {
        Some(match m {
            Metric::Leads => &self.leads,
            Metric::Qualified => &self.qualified,
            Metric::Confirmed => &self.confirmed,
            Metric::SalesQualified => &self.sales_qualified,
            Metric::Opportunities => &self.opportunities,
            Metric::Customers => &self.customers,
            Metric::Revenue => return None,
        })
    }
}

/// What one visitor did inside the window.
#[derive(Default)]
struct Visitor {
    reached: BTreeSet<Metric>,
    /// Revenue in minor units per currency (`None` for values without one).
    revenue: BTreeMap<Option<String>, i64>,
}

/// Per variant: each visitor's outcomes, and the open-lead counts.
struct Tally {
    visitors: BTreeMap<String, BTreeMap<String, Visitor>>,
    open: BTreeMap<String, (u64, u64)>,
}

fn tally(rows: &[OutcomeRow], s: &OutcomeSettings, now_ms: i64) -> Tally {
    let window = s.window_ms();
    let mut t = Tally {
        visitors: BTreeMap::new(),
        open: BTreeMap::new(),
    };
    for r in rows {
        let end = r.exposed_ms.saturating_add(window);
        let inside = |at: Option<i64>| at.is_some_and(|at| at >= r.exposed_ms && at <= end);
        if !inside(Some(r.lead_ms)) {
            continue;
        }
        let open = t.open.entry(r.variant.clone()).or_default();
        open.0 += 1;
        if r.customer_ms.is_none() && r.disqualified_ms.is_none() && now_ms <= end {
            open.1 += 1;
        }
        let v = t
            .visitors
            .entry(r.variant.clone())
            .or_default()
            .entry(r.visitor.clone())
            .or_default();
        v.reached.insert(Metric::Leads);
        for (m, at) in [
            (Metric::Qualified, r.qualified.then_some(r.lead_ms)),
            (Metric::Confirmed, r.confirmed_ms),
            (Metric::SalesQualified, r.sales_qualified_ms),
            (Metric::Opportunities, r.opportunity_ms),
            (Metric::Customers, r.customer_ms),
        ] {
            if inside(at) {
                v.reached.insert(m);
            }
        }
        if let (true, Some(value)) = (inside(r.customer_ms), r.revenue_minor) {
            *v.revenue.entry(r.currency.clone()).or_default() += value;
        }
    }
    t
}

/// The binomial metric `m` for every variant, as full statistics (the verdict reads them).
pub(super) fn binomial(
    e: &ExperimentManifest,
    visitors: &[VariantCounts],
    tally_of: &BTreeMap<String, u64>,
) -> Vec<VariantStats> {
    let counts: Vec<VariantCounts> = visitors
        .iter()
        .map(|c| VariantCounts {
            conversions: tally_of.get(&c.variant).copied().unwrap_or(0),
            qualified: 0,
            ..c.clone()
        })
        .collect();
    super::metric_rows(e, &counts)
}

/// Everything `metrics` holds, with the full statistics of the binomial metrics for the
/// verdict.
pub(super) fn build(
    e: &ExperimentManifest,
    visitors: &[VariantCounts],
    rows: &[OutcomeRow],
    now_ms: i64,
) -> (Metrics, BTreeMap<Metric, Vec<VariantStats>>) {
    let s = &e.outcomes;
    let t = tally(rows, s, now_ms);
    let mut full = BTreeMap::new();
    for m in Metric::BINOMIAL {
        let per_variant: BTreeMap<String, u64> = t
            .visitors
            .iter()
            .map(|(variant, vs)| {
                let n = vs.values().filter(|v| v.reached.contains(&m)).count() as u64;
                (variant.clone(), n)
            })
            .collect();
        full.insert(m, binomial(e, visitors, &per_variant));
    }
    let rows_of = |m: Metric| full[&m].iter().map(MetricRow::from_stats).collect();
    let metrics = Metrics {
        verdict_metric: s.metric,
        outcome_window_days: s.outcome_window_days,
        leads: rows_of(Metric::Leads),
        qualified: rows_of(Metric::Qualified),
        confirmed: rows_of(Metric::Confirmed),
        sales_qualified: rows_of(Metric::SalesQualified),
        opportunities: rows_of(Metric::Opportunities),
        customers: rows_of(Metric::Customers),
        revenue: revenue(e, visitors, &t),
        open: e
            .variants
            .iter()
            .map(|v| {
                let (leads, open) = t.open.get(&v.id).copied().unwrap_or_default();
                OpenLeads {
                    id: v.id.clone(),
                    leads,
                    open,
                }
            })
            .collect(),
    };
    (metrics, full)
}

fn revenue(e: &ExperimentManifest, visitors: &[VariantCounts], t: &Tally) -> Revenue {
    let cap_percentile = e.outcomes.revenue_cap_percentile;
    let currencies: BTreeSet<&Option<String>> = t
        .visitors
        .values()
        .flat_map(|vs| vs.values().flat_map(|v| v.revenue.keys()))
        .collect();
    let mut out = Revenue {
        currency: None,
        cap_percentile,
        cap: None,
        error: None,
        variants: Vec::new(),
    };
    if currencies.len() > 1 {
        let names: Vec<&str> = currencies
            .iter()
            .map(|c| c.as_deref().unwrap_or("no currency"))
            .collect();
        out.error = Some(format!(
            "mixed currencies ({}): revenue is not summed across currencies",
            names.join(", ")
        ));
        return out;
    }
    out.currency = currencies.into_iter().next().cloned().flatten();
    let scale = money::minor_per_major(out.currency.as_deref());
    let values_of = |id: &str| -> Vec<f64> {
        t.visitors
            .get(id)
            .map(|vs| {
                vs.values()
                    .filter_map(|v| v.revenue.values().next())
                    .filter(|&&minor| minor != 0)
                    .map(|&minor| minor as f64 / scale)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut values: Vec<(String, u64, Vec<f64>)> = e
        .variants
        .iter()
        .map(|v| {
            let n = visitors
                .iter()
                .find(|c| c.variant == v.id)
                .map_or(0, |c| c.visitors);
            (v.id.clone(), n, values_of(&v.id))
        })
        .collect();
    if let Some(q) = cap_percentile {
        let pooled: Vec<f64> = values.iter().flat_map(|v| v.2.iter().copied()).collect();
        out.cap = stats::percentile(&pooled, q);
        if let Some(limit) = out.cap {
            for v in &mut values {
                v.2 = stats::cap(&v.2, limit);
            }
        }
    }
    let control = Moments::from_values(values[0].1, &values[0].2);
    for (i, (id, n, vals)) in values.iter().enumerate() {
        let m = Moments::from_values(*n, vals);
        let ci = stats::mean_ci(&m);
        let vs_control = i > 0;
        let welch = vs_control.then(|| stats::welch(&control, &m)).flatten();
        let lift = vs_control.then(|| stats::mean_lift(&control, &m)).flatten();
        out.variants.push(RevenueRow {
            id: id.clone(),
            visitors: *n,
            buyers: vals.len() as u64,
            total: vals.iter().sum(),
            mean: (*n > 0).then_some(m.mean),
            ci_low: ci.map(|c| c.low),
            ci_high: ci.map(|c| c.high),
            p_value: welch.map(|w| w.p_value),
            p_value_sequential: vs_control
                .then(|| stats::msprt_means_p_value(&control, &m, e.mde))
                .flatten(),
            lift: lift.map(|l| l.relative),
            lift_ci_low: lift.map(|l| l.low),
            lift_ci_high: lift.map(|l| l.high),
        });
    }
    out
}
