//! The experiment report: statistics per variant, the funnel behind the goal form
//! ([`metrics`]), a verdict on the experiment's metric (`verdict.rs`), as JSON (the API) and
//! as a terminal table (`splitmark report`). Pure: counts and outcome rows in, report out.

use crate::experiments::metric::Metric;
use crate::manifest::ExperimentManifest;
use crate::stats;
use crate::store::{OutcomeRow, VariantCounts};
use serde::Serialize;

pub mod cost;
pub mod funnel;
pub mod metrics;
pub mod money;
pub mod opt_in;
pub mod spend;
mod text;
mod verdict;
pub use text::{chance_pct, group, opt, pct, render_table, status_name};

/// Statistics of one variant on one metric (all leads, or qualified leads).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantStats {
    /// Variant id.
    pub id: String,
    /// Normalised weight.
    pub weight: f64,
    /// Distinct exposed visitors.
    pub visitors: u64,
    /// Converting visitors.
    pub conversions: u64,
    /// conversions / visitors.
    pub rate: Option<f64>,
    /// 95% Wilson interval.
    pub ci_low: Option<f64>,
    /// 95% Wilson interval.
    pub ci_high: Option<f64>,
    /// Converting visitors with a qualified lead.
    pub qualified: u64,
    /// qualified / visitors.
    pub qualified_rate: Option<f64>,
    /// Relative lift over control (non-control only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lift: Option<f64>,
    /// Absolute lift over control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lift_absolute: Option<f64>,
    /// 95% interval of the relative lift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lift_ci_low: Option<f64>,
    /// 95% interval of the relative lift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lift_ci_high: Option<f64>,
    /// Fixed-horizon two-sided p-value (pooled z-test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Always-valid p-value (mSPRT): safe to check every day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value_sequential: Option<f64>,
    /// Bayesian P(variant beats control).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chance_to_beat_control: Option<f64>,
    /// Expected loss of shipping this variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_loss: Option<f64>,
    /// Page views including repeats.
    pub views: u64,
}

/// The report of one experiment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExperimentReport {
    /// Experiment id.
    pub id: String,
    /// Goal form.
    pub goal: String,
    /// Status from the last build.
    pub status: crate::experiments::Status,
    /// First exposure (RFC 3339).
    pub started_at: Option<String>,
    /// Control first.
    pub variants: Vec<VariantStats>,
    /// The same statistics computed on qualified leads.
    pub qualified_stats: Vec<VariantStats>,
    /// Sample-ratio chi-square p-value.
    pub srm_p_value: Option<f64>,
    /// True when the split is off (p < 0.001): do not trust the test.
    pub srm_warning: bool,
    /// Visitors per variant needed for the minimum detectable effect.
    pub needed_visitors_per_variant: Option<u64>,
    /// Minimum detectable effect (relative).
    pub mde: f64,
    /// The metric the verdict is made on (`[experiment] metric`).
    pub verdict_metric: Metric,
    /// One sentence a growth team can act on.
    pub verdict: String,
    /// The funnel behind the goal form per variant, and revenue per visitor.
    pub metrics: metrics::Metrics,
}

fn variant_stats(
    id: &str,
    weight: f64,
    c: &VariantCounts,
    conv: u64,
    control: Option<(u64, u64)>,
    mde: f64,
) -> VariantStats {
    let w = stats::wilson(conv, c.visitors);
    let mut v = VariantStats {
        id: id.to_owned(),
        weight,
        visitors: c.visitors,
        conversions: conv,
        rate: w.map(|r| r.rate),
        ci_low: w.map(|r| r.low),
        ci_high: w.map(|r| r.high),
        qualified: c.qualified,
        qualified_rate: (c.visitors > 0).then(|| c.qualified as f64 / c.visitors as f64),
        lift: None,
        lift_absolute: None,
        lift_ci_low: None,
        lift_ci_high: None,
        p_value: None,
        p_value_sequential: None,
        chance_to_beat_control: None,
        expected_loss: None,
        views: c.views,
    };
    if let Some((c1, n1)) = control {
        if let Some(l) = stats::lift(c1, n1, conv, c.visitors) {
            v.lift = Some(l.relative);
            v.lift_absolute = Some(l.absolute);
            v.lift_ci_low = Some(l.low);
            v.lift_ci_high = Some(l.high);
        }
        v.p_value = stats::z_test_p(c1, n1, conv, c.visitors);
        v.p_value_sequential = stats::msprt_p_value(c1, n1, conv, c.visitors, mde);
        if n1 > 0 && c.visitors > 0 {
            let b = stats::bayes(c1, n1, conv, c.visitors);
            v.chance_to_beat_control = Some(b.chance_to_beat);
            v.expected_loss = Some(b.expected_loss);
        }
    }
    v
}

fn metric(e: &ExperimentManifest, counts: &[VariantCounts], qualified: bool) -> Vec<VariantStats> {
    let get = |id: &str| {
        counts
            .iter()
            .find(|c| c.variant == id)
            .cloned()
            .unwrap_or_default()
    };
    let conv = |c: &VariantCounts| {
        if qualified {
            c.qualified
        } else {
            c.conversions
        }
    };
    let control = get(&e.variants[0].id);
    e.variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let c = get(&v.id);
            let ctrl = (i > 0).then(|| (conv(&control), control.visitors));
            variant_stats(&v.id, v.weight, &c, conv(&c), ctrl, e.mde)
        })
        .collect()
}

/// Every variant's statistics on the conversions in `counts`, control first.
fn metric_rows(e: &ExperimentManifest, counts: &[VariantCounts]) -> Vec<VariantStats> {
    metric(e, counts, false)
}

/// Builds the report of `e` from its counts and the outcome rows of its visitors' leads, as
/// of `now_ms` (which decides which leads are still open).
pub fn build(
    e: &ExperimentManifest,
    counts: &[VariantCounts],
    outcomes: &[OutcomeRow],
    now_ms: i64,
    started_at: Option<String>,
) -> ExperimentReport {
    let (metrics, full) = metrics::build(e, counts, outcomes, now_ms);
    let variants = metric(e, counts, false);
    let qualified_stats = metric(e, counts, true);
    let observed: Vec<u64> = variants.iter().map(|v| v.visitors).collect();
    let weights: Vec<f64> = variants.iter().map(|v| v.weight).collect();
    let baseline = variants[0].rate.filter(|r| *r > 0.0);
    let mut r = ExperimentReport {
        id: e.id.clone(),
        goal: e.goal.clone(),
        status: e.status,
        started_at,
        srm_p_value: stats::srm_p_value(&observed, &weights),
        srm_warning: stats::srm_warning(&observed, &weights),
        needed_visitors_per_variant: baseline
            .and_then(|b| stats::sample_size_per_variant(b, e.mde)),
        mde: e.mde,
        variants,
        qualified_stats,
        verdict_metric: e.outcomes.metric,
        verdict: String::new(),
        metrics,
    };
    let chosen = full.get(&e.outcomes.metric).map_or(&[][..], Vec::as_slice);
    r.verdict = verdict::verdict(&r, chosen);
    r
}

/// The report of `e` from the counts in `store`.
pub async fn load(
    store: &dyn crate::store::Store,
    e: &ExperimentManifest,
) -> crate::store::StoreResult<ExperimentReport> {
    let counts = store.experiment_counts(&e.id, &e.goal).await?;
    let outcomes = store.experiment_outcomes(&e.id, &e.goal).await?;
    let started = store.experiment_started_at(&e.id).await?;
    Ok(build(
        e,
        &counts,
        &outcomes,
        chrono::Utc::now().timestamp_millis(),
        started.map(|d| d.to_rfc3339()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::VariantManifest;

    fn exp() -> ExperimentManifest {
        ExperimentManifest {
            id: "hero".into(),
            page: "/".into(),
            goal: "demo".into(),
            status: crate::experiments::Status::Running,
            winner: None,
            mde: 0.1,
            outcomes: Default::default(),
            variants: vec![
                VariantManifest {
                    id: "a".into(),
                    weight: 0.5,
                    form: Default::default(),
                },
                VariantManifest {
                    id: "b".into(),
                    weight: 0.5,
                    form: Default::default(),
                },
            ],
        }
    }

    fn counts(va: u64, ca: u64, vb: u64, cb: u64) -> Vec<VariantCounts> {
        vec![
            VariantCounts {
                variant: "a".into(),
                visitors: va,
                conversions: ca,
                qualified: ca / 2,
                views: va,
            },
            VariantCounts {
                variant: "b".into(),
                visitors: vb,
                conversions: cb,
                qualified: cb / 2,
                views: vb,
            },
        ]
    }

    #[test]
    fn verdicts() {
        assert!(
            build(&exp(), &counts(10_000, 500, 10_000, 650), &[], 0, None)
                .verdict
                .starts_with("b beats a (p="),
            "{}",
            build(&exp(), &counts(10_000, 500, 10_000, 650), &[], 0, None).verdict
        );
        assert!(
            build(&exp(), &counts(10_000, 650, 10_000, 500), &[], 0, None)
                .verdict
                .starts_with("a beats b")
        );
        assert!(build(&exp(), &counts(200, 10, 200, 12), &[], 0, None)
            .verdict
            .starts_with("not enough data: ~"));
        assert!(build(&exp(), &counts(5_200, 300, 4_800, 280), &[], 0, None)
            .verdict
            .starts_with("sample ratio mismatch"));
        assert_eq!(
            build(&exp(), &counts(100, 0, 100, 3), &[], 0, None).verdict,
            "not enough data: the control has no conversions yet"
        );
        assert!(build(&exp(), &counts(10, 10, 10, 9), &[], 0, None)
            .verdict
            .ends_with("the control's rate is too high to size the test"));
        assert_eq!(build(&exp(), &[], &[], 0, None).verdict, "no data yet");
    }

    #[test]
    fn json_shape_has_the_api_fields() {
        let r = build(
            &exp(),
            &counts(1000, 50, 1000, 60),
            &[],
            0,
            Some("2026-01-01T00:00:00+00:00".into()),
        );
        let j = serde_json::to_value(&r).unwrap();
        for k in [
            "id",
            "goal",
            "status",
            "started_at",
            "srm_p_value",
            "srm_warning",
            "needed_visitors_per_variant",
            "variants",
            "qualified_stats",
        ] {
            assert!(j.get(k).is_some(), "{k}");
        }
        let b = &j["variants"][1];
        for k in [
            "id",
            "weight",
            "visitors",
            "conversions",
            "rate",
            "ci_low",
            "ci_high",
            "qualified",
            "qualified_rate",
            "lift",
            "lift_ci_low",
            "lift_ci_high",
            "p_value",
            "p_value_sequential",
            "chance_to_beat_control",
            "expected_loss",
        ] {
            assert!(b.get(k).is_some(), "{k}");
        }
        assert!(
            j["variants"][0].get("p_value").is_none(),
            "control has no comparison"
        );
        assert_eq!(j["variants"][0]["rate"], 0.05);
    }

    /// Outcome rows: `leads` leads in `variant`, every second qualified, every fifth a
    /// customer worth 100 × its index in EUR cents, inside the window.
    fn outcomes(variant: &str, leads: usize) -> Vec<OutcomeRow> {
        (0..leads)
            .map(|i| OutcomeRow {
                variant: variant.into(),
                visitor: format!("{variant}{i}"),
                exposed_ms: 0,
                lead_ms: 1_000,
                qualified: i % 2 == 0,
                confirmed_ms: None,
                sales_qualified_ms: (i % 5 == 0).then_some(2_000),
                opportunity_ms: (i % 5 == 0).then_some(3_000),
                customer_ms: (i % 5 == 0).then_some(4_000),
                disqualified_ms: None,
                revenue_minor: (i % 5 == 0).then_some(100 * i as i64 + 5_000),
                currency: Some("EUR".into()),
            })
            .collect()
    }

    #[test]
    fn table_snapshot() {
        let mut rows = outcomes("a", 600);
        rows.extend(outcomes("b", 720));
        let r = build(&exp(), &counts(12_000, 600, 12_000, 720), &rows, 0, None);
        insta::assert_snapshot!(render_table(&r));
    }

    #[test]
    fn the_verdict_follows_the_metric_and_the_cap_is_reported() {
        let mut e = exp();
        e.outcomes.metric = Metric::Revenue;
        e.outcomes.revenue_cap_percentile = Some(90.0);
        let mut rows = outcomes("a", 600);
        rows.extend(outcomes("b", 720));
        let r = build(&e, &counts(12_000, 600, 12_000, 720), &rows, 0, None);
        assert!(
            r.verdict.contains("on revenue per visitor"),
            "{}",
            r.verdict
        );
        let table = render_table(&r);
        assert!(table.contains("revenue / visitor *"), "{table}");
        assert!(table.contains("capped at the 90th percentile"), "{table}");
        e.outcomes.metric = Metric::Qualified;
        let r = build(&e, &counts(12_000, 600, 12_000, 720), &rows, 0, None);
        assert!(r.verdict.contains("on qualified leads"), "{}", r.verdict);
    }

    #[test]
    fn outcomes_after_the_window_do_not_count_and_open_leads_are_counted() {
        let mut rows = outcomes("a", 10);
        let window = exp().outcomes.window_ms();
        rows[0].customer_ms = Some(window + 1); // a late customer
        rows[1].lead_ms = window + 1; // a late lead
        rows[2].disqualified_ms = Some(5_000);
        let r = build(&exp(), &counts(100, 10, 100, 0), &rows, window, None);
        let m = &r.metrics;
        assert_eq!(m.leads[0].conversions, 9);
        assert_eq!(
            m.customers[0].conversions, 1,
            "row 0 became a customer after the window, row 5 inside it"
        );
        // 9 counted; row 5 is a customer, row 2 disqualified, row 0 a (late) customer.
        assert_eq!((m.open[0].leads, m.open[0].open), (9, 6));
        let after = build(&exp(), &counts(100, 10, 100, 0), &rows, window + 1, None);
        assert_eq!(after.metrics.open[0].open, 0, "the window has closed");
    }
}
