//! The report as people read it: percentages, counts and the terminal table.

use super::ExperimentReport;
use std::fmt::Write;

/// A fraction as a percentage with one decimal (`0.052` → `5.2%`).
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A probability as a percentage that never rounds to a certainty it is not.
pub fn chance_pct(x: f64) -> String {
    match x {
        x if x > 0.999 && x < 1.0 => ">99.9%".to_owned(),
        x if x < 0.001 && x > 0.0 => "<0.1%".to_owned(),
        x => pct(x),
    }
}

/// The status as its front-matter word (`running`).
pub fn status_name(s: crate::experiments::Status) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A count with thousands separators (`12,345`).
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A formatted value, or a dash when there is none.
pub fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "—".to_owned(), f)
}

/// A terminal table of the report with the verdict last.
pub fn render_table(r: &ExperimentReport) -> String {
    let mut s = format!(
        "Experiment {} (goal: {}, status: {})\n",
        r.id,
        r.goal,
        status_name(r.status)
    );
    let _ = writeln!(
        s,
        "{:<12} {:>9} {:>11} {:>22} {:>9} {:>8} {:>9} {:>9}",
        "variant", "visitors", "conversions", "rate (95% CI)", "lift", "p", "p (seq.)", "P(beat)"
    );
    for v in &r.variants {
        let rate = match (v.rate, v.ci_low, v.ci_high) {
            (Some(x), Some(l), Some(h)) => format!("{} [{}, {}]", pct(x), pct(l), pct(h)),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            s,
            "{:<12} {:>9} {:>11} {:>22} {:>9} {:>8} {:>9} {:>9}",
            v.id,
            group(v.visitors),
            group(v.conversions),
            rate,
            opt(v.lift, |l| format!("{:+.1}%", l * 100.0)),
            opt(v.p_value, |p| format!("{p:.3}")),
            opt(v.p_value_sequential, |p| format!("{p:.3}")),
            opt(v.chance_to_beat_control, chance_pct),
        );
    }
    let q: Vec<String> = r
        .qualified_stats
        .iter()
        .map(|v| format!("{} {}", v.id, opt(v.rate, pct)))
        .collect();
    let _ = writeln!(s, "qualified-lead rate: {}", q.join(", "));
    let _ = writeln!(
        s,
        "sample ratio check: p={}",
        opt(r.srm_p_value, |p| format!("{p:.3}"))
    );
    s.push_str(&super::funnel::render(&super::funnel::grid(r)));
    let _ = writeln!(s, "verdict: {}", r.verdict);
    s
}
