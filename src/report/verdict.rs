//! The verdict: one sentence a growth team can act on, made on the experiment's metric.
//!
//! Binomial metrics decide on the always-valid (mSPRT) p-value, so checking the report daily
//! is safe. Revenue decides on the same mixture test applied to the difference of mean
//! revenue per visitor; its normal approximation needs enough buyers, which is why the
//! verdict waits for some on both sides and why a cap helps with one huge deal.

use super::metrics::Revenue;
use super::text::{chance_pct, group, pct};
use super::{ExperimentReport, VariantStats};
use crate::experiments::metric::Metric;

/// Buyers needed on each side before the revenue test's normal approximation is trusted.
pub const MIN_BUYERS: u64 = 5;

/// The verdict of `r`; `stats` holds the full statistics of the chosen binomial metric.
pub(super) fn verdict(r: &ExperimentReport, stats: &[VariantStats]) -> String {
    if r.srm_warning {
        return format!("sample ratio mismatch (p={:.2e}) — do not trust this test; check redirects, caching and bot filters", r.srm_p_value.unwrap_or(0.0));
    }
    match r.verdict_metric {
        Metric::Leads => binomial(&r.variants, r.needed_visitors_per_variant, None),
        Metric::Revenue => revenue(&r.metrics.revenue),
        m => {
            let needed = stats[0]
                .rate
                .filter(|b| *b > 0.0)
                .and_then(|b| crate::stats::sample_size_per_variant(b, r.mde));
            binomial(stats, needed, Some(m.label()))
        }
    }
}

/// The verdict on a binomial metric; `on` names the metric unless it is the goal's leads
/// (whose sentences stay as they always were).
fn binomial(rows: &[VariantStats], needed: Option<u64>, on: Option<&str>) -> String {
    let on_metric = on.map(|m| format!(" on {m}")).unwrap_or_default();
    let control = &rows[0];
    let best = rows[1..]
        .iter()
        .filter(|v| v.p_value_sequential.is_some())
        .max_by(|a, b| {
            a.rate
                .partial_cmp(&b.rate)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let Some(best) = best else {
        return "no data yet".to_owned();
    };
    let significant = best.p_value_sequential.is_some_and(|p| p < 0.05);
    let chance = best.chance_to_beat_control.unwrap_or(0.5);
    let p = best.p_value_sequential.unwrap_or(1.0);
    if significant && chance > 0.5 {
        return format!(
            "{} beats {}{on_metric} (p={p:.3}, {} chance)",
            best.id,
            control.id,
            chance_pct(chance)
        );
    }
    if significant && chance < 0.5 {
        return format!(
            "{} beats {}{on_metric} (p={p:.3}, {} chance)",
            control.id,
            best.id,
            chance_pct(1.0 - chance)
        );
    }
    let min_visitors = rows.iter().map(|v| v.visitors).min().unwrap_or(0);
    let data = on.map(|m| format!(" on {m}")).unwrap_or_default();
    match needed {
        Some(n) if n > min_visitors => format!(
            "not enough data{data}: ~{} more visitors per variant",
            group(n - min_visitors)
        ),
        None if control.conversions == 0 => {
            format!("not enough data{data}: the control has no conversions yet")
        }
        None => format!(
            "no significant difference{on_metric} yet (best: {}, {} chance to beat {}); the control's rate is too high to size the test",
            best.id,
            pct(chance),
            control.id
        ),
        _ => format!(
            "no significant difference{on_metric} yet (best: {}, {} chance to beat {})",
            best.id,
            pct(chance),
            control.id
        ),
    }
}

fn revenue(rev: &Revenue) -> String {
    if let Some(e) = &rev.error {
        return format!("revenue cannot be judged: {e}");
    }
    let Some(control) = rev.variants.first() else {
        return "no data yet".to_owned();
    };
    let best = rev.variants[1..]
        .iter()
        .filter(|v| v.p_value_sequential.is_some())
        .max_by(|a, b| {
            a.mean
                .partial_cmp(&b.mean)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let Some(best) = best else {
        return "no data yet".to_owned();
    };
    if control.buyers < MIN_BUYERS || best.buyers < MIN_BUYERS {
        return format!(
            "not enough data on revenue per visitor: at least {MIN_BUYERS} buyers per variant are needed (have {} and {})",
            control.buyers, best.buyers
        );
    }
    let lift = best
        .lift
        .map(|l| format!(", lift {:+.1}%", l * 100.0))
        .unwrap_or_default();
    let p = best.p_value_sequential.unwrap_or(1.0);
    if p < 0.05 {
        let (winner, loser) = if best.mean > control.mean {
            (&best.id, &control.id)
        } else {
            (&control.id, &best.id)
        };
        return format!("{winner} beats {loser} on revenue per visitor (p={p:.3}{lift})");
    }
    format!(
        "no significant difference on revenue per visitor yet (best: {}, p={p:.3}{lift})",
        best.id
    )
}
