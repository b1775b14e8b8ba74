//! The funnel per variant side by side (leads → qualified → confirmed → SQL →
//! opportunities → customers, revenue), as a grid of display strings that the terminal table
//! and the dashboard both lay out.

use super::metrics::{MetricRow, Metrics};
use super::text::{group, opt, pct};
use super::{money, ExperimentReport};
use crate::experiments::metric::Metric;
use serde::Serialize;

/// One line of the grid: a label and one cell per variant (control first).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GridRow {
    /// What the line counts.
    pub label: String,
    /// Whether the verdict is made on this line.
    pub verdict: bool,
    /// One cell per variant.
    pub cells: Vec<String>,
}

/// The funnel of one experiment, variants as columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunnelGrid {
    /// Variant ids, control first.
    pub variants: Vec<String>,
    /// Steps, then revenue, then still-open leads.
    pub rows: Vec<GridRow>,
    /// What the figures mean and how revenue was treated, one sentence each.
    pub notes: Vec<String>,
}

fn step_label(m: Metric) -> &'static str {
    match m {
        Metric::Leads => "leads",
        Metric::Qualified => "qualified",
        Metric::Confirmed => "confirmed",
        Metric::SalesQualified => "SQL",
        Metric::Opportunities => "opportunities",
        Metric::Customers => "customers",
        Metric::Revenue => "revenue / visitor",
    }
}

fn step_cell(r: &MetricRow) -> String {
    format!("{} ({})", group(r.conversions), opt(r.rate, pct))
}

/// The grid of `r`.
pub fn grid(r: &ExperimentReport) -> FunnelGrid {
    let m: &Metrics = &r.metrics;
    let variants: Vec<String> = r.variants.iter().map(|v| v.id.clone()).collect();
    let mut rows = Vec::new();
    for step in Metric::BINOMIAL {
        let cells = m
            .rows(step)
            .unwrap_or_default()
            .iter()
            .map(step_cell)
            .collect();
        rows.push(GridRow {
            label: step_label(step).to_owned(),
            verdict: r.verdict_metric == step,
            cells,
        });
    }
    let rev = &m.revenue;
    let cur = rev.currency.as_deref();
    if rev.error.is_none() {
        rows.push(GridRow {
            label: step_label(Metric::Revenue).to_owned(),
            verdict: r.verdict_metric == Metric::Revenue,
            cells: rev
                .variants
                .iter()
                .map(|v| {
                    let mean = opt(v.mean, |x| money::format(x, cur));
                    match v.lift {
                        Some(l) => format!("{mean} ({:+.1}%)", l * 100.0),
                        None => mean,
                    }
                })
                .collect(),
        });
        rows.push(GridRow {
            label: "revenue".to_owned(),
            verdict: false,
            cells: rev
                .variants
                .iter()
                .map(|v| money::format(v.total, cur))
                .collect(),
        });
        rows.push(GridRow {
            label: "revenue p (Welch)".to_owned(),
            verdict: false,
            cells: rev
                .variants
                .iter()
                .map(|v| opt(v.p_value, |p| format!("{p:.3}")))
                .collect(),
        });
    }
    rows.push(GridRow {
        label: "still open".to_owned(),
        verdict: false,
        cells: m
            .open
            .iter()
            .map(|o| format!("{} of {}", group(o.open), group(o.leads)))
            .collect(),
    });
    let mut notes = vec![format!(
        "Rates per exposed visitor; outcomes count within {} days of the first exposure. Verdict on {}.",
        m.outcome_window_days,
        r.verdict_metric.label()
    )];
    notes.push(match (&rev.error, rev.cap_percentile, rev.cap) {
        (Some(e), _, _) => format!("Revenue: {e}."),
        (None, Some(q), Some(c)) => format!(
            "Revenue capped at the {q}th percentile of buyers' values ({} per visitor).",
            money::format(c, cur)
        ),
        (None, Some(q), None) => format!("Revenue cap at the {q}th percentile (no buyers yet)."),
        (None, None, _) => "Revenue cap: off.".to_owned(),
    });
    FunnelGrid {
        variants,
        rows,
        notes,
    }
}

/// The grid as aligned terminal lines.
pub fn render(g: &FunnelGrid) -> String {
    use std::fmt::Write;
    let label_w = g.rows.iter().map(|r| r.label.len() + 2).max().unwrap_or(0);
    let width = |i: usize| {
        g.rows
            .iter()
            .filter_map(|r| r.cells.get(i))
            .map(|c| c.chars().count())
            .chain([g.variants[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..g.variants.len()).map(width).collect();
    let mut s = String::new();
    let _ = write!(s, "{:<label_w$}", "funnel");
    for (v, w) in g.variants.iter().zip(&widths) {
        let _ = write!(s, "  {v:>w$}");
    }
    s.push('\n');
    for r in &g.rows {
        let label = if r.verdict {
            format!("{} *", r.label)
        } else {
            r.label.clone()
        };
        let _ = write!(s, "{label:<label_w$}");
        for (c, w) in r.cells.iter().zip(&widths) {
            let _ = write!(s, "  {c:>w$}");
        }
        s.push('\n');
    }
    for n in &g.notes {
        let _ = writeln!(s, "{n}");
    }
    s
}
