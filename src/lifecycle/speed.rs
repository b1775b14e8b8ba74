//! Speed to lead: time to first contact per form, UTM source and variant, with leads not yet
//! contacted censored (see [`super::km`]).

use super::km::{self, Observation};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// The target the report measures against: contacted within five minutes.
pub const WITHIN_SECS: f64 = 300.0;

/// One (non-spam) lead's contact timing, as the store reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactSample {
    /// Form id.
    pub form: String,
    /// `utm_source`.
    pub utm_source: Option<String>,
    /// Experiment the lead is attributed to.
    pub experiment: Option<String>,
    /// Variant.
    pub variant: Option<String>,
    /// Arrival.
    pub received_ms: i64,
    /// First contact.
    pub contacted_ms: Option<i64>,
    /// First disqualification: a lead disqualified before any contact stops waiting then.
    pub disqualified_ms: Option<i64>,
}

impl ContactSample {
    /// The lead as a survival observation at `now_ms`.
    pub fn observation(&self, now_ms: i64) -> Observation {
        let (end, contacted) = match (self.contacted_ms, self.disqualified_ms) {
            (Some(c), _) => (c, true),
            (None, Some(d)) => (d, false),
            (None, None) => (now_ms, false),
        };
        Observation {
            seconds: (end - self.received_ms).max(0) as f64 / 1000.0,
            contacted,
        }
    }
}

/// Time to contact of one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpeedRow {
    /// `form`, `source` or `variant`.
    pub by: &'static str,
    /// The form id, source or `experiment / variant` (`(none)` without).
    pub key: String,
    /// Leads in the group.
    pub leads: usize,
    /// Of those, contacted.
    pub contacted: usize,
    /// Median seconds to contact, if half were contacted.
    pub p50_secs: Option<f64>,
    /// 90th percentile, if 90 % were.
    pub p90_secs: Option<f64>,
    /// Estimated share contacted within [`WITHIN_SECS`].
    pub within_5_min: f64,
}

fn row(by: &'static str, key: String, obs: &[Observation]) -> SpeedRow {
    let s = km::estimate(obs);
    SpeedRow {
        by,
        key,
        leads: s.leads,
        contacted: s.contacted,
        p50_secs: s.quantile(0.5),
        p90_secs: s.quantile(0.9),
        within_5_min: s.share_within(WITHIN_SECS),
    }
}

/// Rows per form, then per source, then per variant (keys sorted in each).
pub fn by_group(samples: &[ContactSample], now: DateTime<Utc>) -> Vec<SpeedRow> {
    let now_ms = now.timestamp_millis();
    let none = || "(none)".to_owned();
    type Key = fn(&ContactSample) -> Option<String>;
    let keys: [(&'static str, Key); 3] = [
        ("form", |s| Some(s.form.clone())),
        ("source", |s| s.utm_source.clone()),
        ("variant", |s| match (&s.experiment, &s.variant) {
            (Some(e), Some(v)) => Some(format!("{e} / {v}")),
            _ => None,
        }),
    ];
    let mut rows = Vec::new();
    for (by, key) in keys {
        let mut groups: BTreeMap<String, Vec<Observation>> = BTreeMap::new();
        for s in samples {
            let k = key(s);
            // Leads outside any experiment have no variant row.
            if by == "variant" && k.is_none() {
                continue;
            }
            groups
                .entry(k.unwrap_or_else(none))
                .or_default()
                .push(s.observation(now_ms));
        }
        rows.extend(groups.into_iter().map(|(k, obs)| row(by, k, &obs)));
    }
    rows
}

/// A [`SpeedRow`] as text for tables (dashboard, `splitmark report`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpeedLine {
    /// `form`, `source`, `variant`.
    pub by: &'static str,
    /// The group.
    pub key: String,
    /// Leads.
    pub leads: String,
    /// Contacted.
    pub contacted: String,
    /// Median wait, `—` while fewer than half were contacted.
    pub p50: String,
    /// 90th percentile wait.
    pub p90: String,
    /// `42.0%` contacted within five minutes.
    pub within_5_min: String,
}

impl SpeedRow {
    /// The row as text.
    pub fn line(&self) -> SpeedLine {
        SpeedLine {
            by: self.by,
            key: self.key.clone(),
            leads: crate::report::group(self.leads as u64),
            contacted: crate::report::group(self.contacted as u64),
            p50: human(self.p50_secs),
            p90: human(self.p90_secs),
            within_5_min: crate::report::pct(self.within_5_min),
        }
    }
}

/// The speed-to-lead table as plain text (`splitmark report`).
pub fn render_text(rows: &[SpeedRow]) -> String {
    let mut out = String::from(
        "Time to first contact (Kaplan-Meier; leads not yet contacted are censored)\n",
    );
    if rows.is_empty() {
        out.push_str("  no leads yet\n");
        return out;
    }
    let lines: Vec<SpeedLine> = rows.iter().map(SpeedRow::line).collect();
    let width = lines
        .iter()
        .map(|l| l.key.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    out.push_str(&format!(
        "  {:<8} {:<width$} {:>7} {:>9} {:>8} {:>8} {:>10}\n",
        "by", "group", "leads", "contacted", "p50", "p90", "within 5m"
    ));
    for l in lines {
        out.push_str(&format!(
            "  {:<8} {:<width$} {:>7} {:>9} {:>8} {:>8} {:>10}\n",
            l.by, l.key, l.leads, l.contacted, l.p50, l.p90, l.within_5_min
        ));
    }
    out
}

/// The longest `contact_within_minutes`: a week (longer is no speed-to-lead target).
pub const MAX_SLA_MINUTES: f64 = 7.0 * 24.0 * 60.0;

/// `[capture] contact_within_minutes`: minutes, more than 0 and at most a week. Fractions are
/// allowed (`0.5` is thirty seconds) for teams that answer faster than a minute.
pub fn parse_sla_minutes(v: &toml::Value) -> Result<f64, String> {
    let minutes = v
        .as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .filter(|m| m.is_finite() && *m > 0.0 && *m <= MAX_SLA_MINUTES);
    minutes.ok_or_else(|| {
        format!("[capture] contact_within_minutes must be a number of minutes above 0 and at most {MAX_SLA_MINUTES}")
    })
}

/// `contact_within_minutes` and the `lead.sla_breached` subscriptions must go together: a
/// deadline nobody is told about, or a subscription that never fires, does not do what it says.
pub fn check_sla_targets(capture: &toml::Table, minutes: Option<f64>) -> Result<(), String> {
    let subscribes = |t: &toml::Value| {
        t.get("events")
            .and_then(|e| e.as_array())
            .is_some_and(|e| e.iter().any(|k| k.as_str() == Some("lead.sla_breached")))
    };
    let hooks = capture
        .get("webhooks")
        .and_then(|w| w.as_array())
        .is_some_and(|w| w.iter().any(subscribes));
    let email = capture.get("email").is_some_and(subscribes);
    match (minutes.is_some(), hooks || email) {
        (true, false) => Err("[capture] contact_within_minutes is set but no webhook or e-mail target has \"lead.sla_breached\" in its events".into()),
        (false, true) => Err("a target subscribes to \"lead.sla_breached\" but [capture] contact_within_minutes is not set".into()),
        _ => Ok(()),
    }
}

/// Seconds as people read a wait: `45 s`, `12 min`, `3.5 h`, `2.0 d`; `—` for none.
pub fn human(secs: Option<f64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) if s < 60.0 => format!("{s:.0} s"),
        Some(s) if s < 3600.0 => format!("{:.0} min", s / 60.0),
        Some(s) if s < 86400.0 => format!("{:.1} h", s / 3600.0),
        Some(s) => format!("{:.1} d", s / 86400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(form: &str, source: Option<&str>, wait: Option<i64>) -> ContactSample {
        ContactSample {
            form: form.into(),
            utm_source: source.map(Into::into),
            experiment: Some("hero".into()),
            variant: Some("a".into()),
            received_ms: 0,
            contacted_ms: wait.map(|w| w * 1000),
            disqualified_ms: None,
        }
    }

    #[test]
    fn groups_censor_the_uncontacted_at_now() {
        let now = DateTime::from_timestamp(3600, 0).unwrap();
        let rows = by_group(
            &[
                sample("demo", Some("ads"), Some(60)),
                sample("demo", Some("ads"), Some(600)),
                sample("demo", None, None),
            ],
            now,
        );
        let demo = &rows[0];
        assert_eq!(
            (demo.by, demo.key.as_str(), demo.leads, demo.contacted),
            ("form", "demo", 3, 2)
        );
        assert!((demo.within_5_min - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(demo.p50_secs, Some(600.0));
        assert_eq!(demo.p90_secs, None);
        let sources: Vec<&str> = rows
            .iter()
            .filter(|r| r.by == "source")
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(sources, ["(none)", "ads"]);
        assert_eq!(rows.last().unwrap().key, "hero / a");
    }

    #[test]
    fn a_lead_disqualified_first_is_censored_then() {
        let mut s = sample("demo", None, None);
        s.disqualified_ms = Some(5000);
        assert_eq!(
            s.observation(1_000_000),
            Observation {
                seconds: 5.0,
                contacted: false
            }
        );
        assert_eq!(human(Some(30.0)), "30 s");
        assert_eq!(human(Some(720.0)), "12 min");
        assert_eq!(human(None), "—");
    }
}
