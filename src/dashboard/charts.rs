//! Geometry of the dashboard's inline SVG charts.
//!
//! Only numbers and labels are computed here; the theme's admin templates draw the `<svg>`,
//! so a theme can restyle the charts without touching Rust. Coordinates are in the units of
//! each chart's `viewBox`, which the templates scale to the screen width.

use crate::report::{pct, ExperimentReport};
use crate::store::DailyVariantCounts;
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// Width of every chart's viewBox.
pub const WIDTH: f64 = 300.0;
/// Height of the line and bar charts' plot area.
pub const HEIGHT: f64 = 120.0;

/// A variant's rate and 95% interval as a horizontal bar.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IntervalBar {
    /// Variant id.
    pub variant: String,
    /// Left edge of the interval.
    pub x: f64,
    /// Width of the interval.
    pub width: f64,
    /// Position of the observed rate.
    pub dot: f64,
    /// `5.2% (4.1%–6.5%)`.
    pub label: String,
}

/// Interval bars of all variants on one scale.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IntervalChart {
    /// One bar per variant, control first; variants without visitors have none.
    pub bars: Vec<IntervalBar>,
    /// Where the control's rate lies (a reference line).
    pub control: Option<f64>,
    /// The rate at the right edge.
    pub max_label: String,
}

/// Interval bars for the report's variants.
pub fn intervals(r: &ExperimentReport) -> IntervalChart {
    let top = r
        .variants
        .iter()
        .filter_map(|v| v.ci_high)
        .fold(0.0_f64, f64::max);
    // A little headroom, and never a zero-width scale.
    let scale = (top * 1.1).clamp(0.01, 1.0);
    let x = |v: f64| round(v / scale * WIDTH);
    let bars = r
        .variants
        .iter()
        .filter_map(|v| {
            let (rate, lo, hi) = (v.rate?, v.ci_low?, v.ci_high?);
            Some(IntervalBar {
                variant: v.id.clone(),
                x: x(lo),
                width: round(x(hi) - x(lo)).max(1.0),
                dot: x(rate),
                label: format!("{} ({}–{})", pct(rate), pct(lo), pct(hi)),
            })
        })
        .collect();
    IntervalChart {
        bars,
        control: r.variants.first().and_then(|c| c.rate).map(x),
        max_label: pct(scale),
    }
}

/// One variant's cumulative conversion rate over time.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Series {
    /// Variant id.
    pub variant: String,
    /// Position in the variant list (the template picks a colour by it).
    pub index: usize,
    /// SVG `points` of the polyline.
    pub points: String,
    /// The last cumulative rate.
    pub last: String,
}

/// Cumulative conversion per variant, one point per day.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LineChart {
    /// One line per variant.
    pub series: Vec<Series>,
    /// First day shown.
    pub start: String,
    /// Last day shown.
    pub end: String,
    /// The rate at the top edge.
    pub max_label: String,
    /// Days shown.
    pub days: usize,
}

fn days_between(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let n = (last - first).num_days().max(0);
    (0..=n).map(|i| first + Duration::days(i)).collect()
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Cumulative conversion rate per variant and day; `None` before the first exposure.
pub fn cumulative(daily: &[DailyVariantCounts], variants: &[String]) -> Option<LineChart> {
    let first = daily.iter().map(|d| d.day).min()?;
    let last = daily.iter().map(|d| d.day).max()?;
    let days = days_between(first, last);
    let mut by_key: BTreeMap<(&str, NaiveDate), (u64, u64)> = BTreeMap::new();
    for d in daily {
        let e = by_key.entry((d.variant.as_str(), d.day)).or_default();
        e.0 += d.visitors;
        e.1 += d.conversions;
    }
    // Cumulative rates first, then the common scale.
    let rates: Vec<Vec<Option<f64>>> = variants
        .iter()
        .map(|v| {
            let (mut vis, mut conv) = (0u64, 0u64);
            days.iter()
                .map(|day| {
                    let (dv, dc) = by_key.get(&(v.as_str(), *day)).copied().unwrap_or_default();
                    vis += dv;
                    conv += dc;
                    (vis > 0).then(|| conv as f64 / vis as f64)
                })
                .collect()
        })
        .collect();
    let top = rates
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(0.0_f64, f64::max);
    let scale = (top * 1.15).clamp(0.01, 1.0);
    let step = if days.len() > 1 {
        WIDTH / (days.len() - 1) as f64
    } else {
        0.0
    };
    let series = variants
        .iter()
        .zip(&rates)
        .enumerate()
        .map(|(index, (v, rs))| {
            let mut pts: Vec<String> = rs
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    r.map(|r| {
                        format!(
                            "{},{}",
                            round(i as f64 * step),
                            round(HEIGHT - r / scale * HEIGHT)
                        )
                    })
                })
                .collect();
            // A single day still draws a visible stroke.
            if pts.len() == 1 {
                let y = pts[0].split_once(',').map_or("0", |p| p.1).to_owned();
                pts = vec![format!("0,{y}"), format!("{WIDTH},{y}")];
            }
            Series {
                variant: v.clone(),
                index,
                points: pts.join(" "),
                last: rs
                    .iter()
                    .rev()
                    .flatten()
                    .next()
                    .map_or("—".into(), |r| pct(*r)),
            }
        })
        .collect();
    Some(LineChart {
        series,
        start: first.to_string(),
        end: last.to_string(),
        max_label: pct(scale),
        days: days.len(),
    })
}

/// One day's leads and qualified leads as two stacked bars.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DayBar {
    /// The day.
    pub day: String,
    /// Left edge.
    pub x: f64,
    /// Bar width.
    pub width: f64,
    /// Top of the leads bar.
    pub y: f64,
    /// Height of the leads bar.
    pub height: f64,
    /// Top of the qualified bar.
    pub qualified_y: f64,
    /// Height of the qualified bar.
    pub qualified_height: f64,
    /// Leads that day.
    pub leads: u64,
    /// Qualified leads that day.
    pub qualified: u64,
}

/// Leads per day as bars.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BarChart {
    /// One bar per day, gaps filled with empty days.
    pub bars: Vec<DayBar>,
    /// Leads at the top edge.
    pub max: u64,
    /// First day shown.
    pub start: String,
    /// Last day shown.
    pub end: String,
}

/// Bars for the last `span` days up to the latest day in `days` ((day, leads, qualified)).
pub fn daily_bars(days: &[(NaiveDate, u64, u64)], span: i64) -> Option<BarChart> {
    let last = days.iter().map(|d| d.0).max()?;
    let first = days
        .iter()
        .map(|d| d.0)
        .min()?
        .max(last - Duration::days(span - 1));
    let all = days_between(first, last);
    let counts: BTreeMap<NaiveDate, (u64, u64)> =
        days.iter().map(|(d, l, q)| (*d, (*l, *q))).collect();
    let max = all
        .iter()
        .filter_map(|d| counts.get(d))
        .map(|c| c.0)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / all.len() as f64;
    let h = |n: u64| round(n as f64 / max as f64 * HEIGHT);
    let bars = all
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (leads, qualified) = counts.get(d).copied().unwrap_or_default();
            DayBar {
                day: d.to_string(),
                x: round(i as f64 * slot + slot * 0.1),
                width: round(slot * 0.8),
                y: round(HEIGHT - h(leads)),
                height: h(leads),
                qualified_y: round(HEIGHT - h(qualified)),
                qualified_height: h(qualified),
                leads,
                qualified,
            }
        })
        .collect();
    Some(BarChart {
        bars,
        max,
        start: first.to_string(),
        end: last.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn row(day: &str, variant: &str, visitors: u64, conversions: u64) -> DailyVariantCounts {
        DailyVariantCounts {
            day: d(day),
            variant: variant.into(),
            visitors,
            conversions,
        }
    }

    #[test]
    fn cumulative_rates_accumulate_across_days_and_fill_gaps() {
        let daily = [
            row("2026-01-01", "a", 10, 1),
            row("2026-01-03", "a", 10, 3),
            row("2026-01-01", "b", 20, 0),
        ];
        let c = cumulative(&daily, &["a".into(), "b".into()]).unwrap();
        assert_eq!(c.days, 3);
        // a: 10% on day 1, 10% on day 2 (no new data), 20% on day 3; the scale tops at 23%.
        assert_eq!(c.series[0].last, "20.0%");
        assert_eq!(c.max_label, "23.0%");
        let ys: Vec<f64> = c.series[0]
            .points
            .split(' ')
            .map(|p| p.split_once(',').unwrap().1.parse().unwrap())
            .collect();
        assert_eq!(ys.len(), 3);
        assert_eq!(ys[0], ys[1]);
        assert!(ys[2] < ys[1], "a higher rate is drawn higher: {ys:?}");
        assert_eq!(c.series[1].last, "0.0%");
        assert!(cumulative(&[], &["a".into()]).is_none());
    }

    #[test]
    fn a_single_day_draws_a_flat_line() {
        let c = cumulative(&[row("2026-01-01", "a", 4, 1)], &["a".into()]).unwrap();
        assert_eq!(c.series[0].points.split(' ').count(), 2);
    }

    #[test]
    fn bars_cover_the_last_days_with_gaps() {
        let days = [
            (d("2026-01-01"), 5, 1),
            (d("2026-02-01"), 10, 4),
            (d("2026-02-03"), 2, 2),
        ];
        let b = daily_bars(&days, 30).unwrap();
        assert_eq!(b.start, "2026-01-05");
        assert_eq!(b.bars.len(), 30);
        assert_eq!(b.max, 10);
        let feb1 = b.bars.iter().find(|x| x.day == "2026-02-01").unwrap();
        assert_eq!(feb1.height, HEIGHT);
        assert_eq!(feb1.qualified_height, HEIGHT * 0.4);
        assert_eq!(
            b.bars
                .iter()
                .find(|x| x.day == "2026-02-02")
                .unwrap()
                .height,
            0.0
        );
    }
}
