//! The overview's experiment section: report figures formatted for display, and charts.

use super::charts;
use crate::report::{chance_pct, group, opt, pct, status_name, ExperimentReport, VariantStats};
use crate::store::DailyVariantCounts;
use serde::Serialize;

/// One variant's row of an experiment table, formatted for display.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VariantRow {
    /// Variant id.
    pub id: String,
    /// Traffic share.
    pub weight: String,
    /// Visitors.
    pub visitors: String,
    /// Conversions.
    pub conversions: String,
    /// Conversion rate.
    pub rate: String,
    /// 95% interval of the rate.
    pub interval: String,
    /// Relative lift over control with its interval.
    pub lift: String,
    /// Fixed-horizon p-value.
    pub p_value: String,
    /// Always-valid p-value.
    pub p_value_sequential: String,
    /// Chance to beat control.
    pub chance: String,
    /// Qualified leads and their rate.
    pub qualified: String,
}

fn row(v: &VariantStats, q: Option<&VariantStats>) -> VariantRow {
    let lift = match (v.lift, v.lift_ci_low, v.lift_ci_high) {
        (Some(l), Some(lo), Some(hi)) => format!(
            "{:+.1}% ({:+.1}% to {:+.1}%)",
            l * 100.0,
            lo * 100.0,
            hi * 100.0
        ),
        (Some(l), _, _) => format!("{:+.1}%", l * 100.0),
        _ => "—".into(),
    };
    VariantRow {
        id: v.id.clone(),
        weight: pct(v.weight),
        visitors: group(v.visitors),
        conversions: group(v.conversions),
        rate: opt(v.rate, pct),
        interval: match (v.ci_low, v.ci_high) {
            (Some(l), Some(h)) => format!("{}–{}", pct(l), pct(h)),
            _ => "—".into(),
        },
        lift,
        p_value: opt(v.p_value, |p| format!("{p:.3}")),
        p_value_sequential: opt(v.p_value_sequential, |p| format!("{p:.3}")),
        chance: opt(v.chance_to_beat_control, chance_pct),
        qualified: match q {
            Some(q) => format!("{} ({})", group(q.conversions), opt(q.rate, pct)),
            None => "—".into(),
        },
    }
}

/// Everything the overview shows about one experiment.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExperimentView {
    /// Experiment id.
    pub id: String,
    /// Goal form.
    pub goal: String,
    /// `running`, `paused`, `finished`.
    pub status: String,
    /// Page the experiment runs on.
    pub page: String,
    /// First exposure.
    pub started_at: Option<String>,
    /// One row per variant, control first.
    pub rows: Vec<VariantRow>,
    /// Rates with intervals as bars.
    pub intervals: charts::IntervalChart,
    /// Cumulative conversion per day.
    pub chart: Option<charts::LineChart>,
    /// The verdict line.
    pub verdict: String,
    /// `srm`, `win` or `wait`: how the template colours the verdict.
    pub verdict_kind: &'static str,
    /// Sample-ratio p-value.
    pub srm: String,
    /// Visitors per variant needed for the minimum detectable effect.
    pub needed: String,
    /// The funnel behind the goal form, variants side by side (the verdict's step marked).
    pub funnel: crate::report::funnel::FunnelGrid,
}

/// The overview's view of an experiment report and its daily counts.
pub fn experiment_view(
    r: &ExperimentReport,
    daily: &[DailyVariantCounts],
    page: &str,
) -> ExperimentView {
    let ids: Vec<String> = r.variants.iter().map(|v| v.id.clone()).collect();
    let verdict_kind = if r.srm_warning {
        "srm"
    } else if r.verdict.contains(" beats ") {
        "win"
    } else {
        "wait"
    };
    ExperimentView {
        id: r.id.clone(),
        goal: r.goal.clone(),
        status: status_name(r.status),
        page: page.to_owned(),
        started_at: r.started_at.as_deref().map(|s| {
            chrono::DateTime::parse_from_rfc3339(s).map_or_else(
                |_| s.to_owned(),
                |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
            )
        }),
        rows: r
            .variants
            .iter()
            .map(|v| row(v, r.qualified_stats.iter().find(|q| q.id == v.id)))
            .collect(),
        intervals: charts::intervals(r),
        chart: charts::cumulative(daily, &ids),
        verdict: r.verdict.clone(),
        verdict_kind,
        srm: opt(r.srm_p_value, |p| format!("{p:.3}")),
        needed: r
            .needed_visitors_per_variant
            .map_or_else(|| "—".into(), group),
        funnel: crate::report::funnel::grid(r),
    }
}
