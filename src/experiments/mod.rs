//! Experiments: specs from front matter, deterministic assignment, variant markup.
//!
//! Pure functions, shared by the build, the capture server and the CLI; the browser script
//! (`assets/js/head.js`) implements the same hash and is tested against the same table
//! (`tests/data/bucketing_cases.json`).

pub mod hash;
pub mod markup;
pub mod metric;

use crate::forms::FormTexts;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Lifecycle of an experiment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared: only the control is built.
    #[default]
    Draft,
    /// Live: every variant is built and traffic is split.
    Running,
    /// Temporarily off: only the control is built.
    Paused,
    /// Over: only the winner (or the control) is built.
    Stopped,
}

/// One variant and what it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Variant id (letters, digits, `_`, `-`).
    pub id: String,
    /// Share of traffic (normalised over all variants).
    #[serde(default = "one")]
    pub weight: f64,
    /// Title override (shown in the page; the head keeps the control's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Overrides of `extra` keys (e.g. `hero`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// Form text overrides.
    #[serde(default)]
    pub form: FormTexts,
}

fn one() -> f64 {
    1.0
}

fn default_mde() -> f64 {
    0.10
}

/// An experiment declared in a page's front matter under `[experiment]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Experiment id (also the hash seed).
    pub id: String,
    /// The form whose submission is the conversion.
    pub goal: String,
    /// Lifecycle status.
    #[serde(default)]
    pub status: Status,
    /// The variant to ship once stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    /// Minimum detectable effect (relative), for the sample-size estimate.
    #[serde(default = "default_mde")]
    pub mde: f64,
    /// Variants; the first is the control.
    pub variants: Vec<Variant>,
    /// The metric of the verdict (see [`metric`]).
    #[serde(default)]
    pub metric: metric::Metric,
    /// Days after the first exposure in which an outcome counts.
    #[serde(default = "metric::default_window")]
    pub outcome_window_days: u32,
    /// Cap revenue per visitor at this percentile (off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_cap_percentile: Option<f64>,
}

/// Ids usable in HTML attribute names and URLs.
fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 48
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl ExperimentSpec {
    /// Parses and checks a front-matter `[experiment]` table against the known forms.
    pub fn from_value(value: &Value, forms: &[&str]) -> Result<ExperimentSpec, String> {
        let spec: ExperimentSpec = serde_json::from_value(value.clone())
            .map_err(|e| format!("invalid [experiment]: {e}"))?;
        spec.check(forms)?;
        Ok(spec)
    }

    fn check(&self, forms: &[&str]) -> Result<(), String> {
        if !valid_id(&self.id) {
            return Err(format!(
                "experiment id {:?} may only use a-z, 0-9, _ and -",
                self.id
            ));
        }
        if !forms.contains(&self.goal.as_str()) {
            return Err(format!(
                "experiment {:?}: goal form {:?} is not declared under [forms] in splitmark.toml",
                self.id, self.goal
            ));
        }
        if self.variants.len() < 2 {
            return Err(format!(
                "experiment {:?} needs at least two variants (the first is the control)",
                self.id
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for v in &self.variants {
            if !valid_id(&v.id) {
                return Err(format!(
                    "variant id {:?} may only use a-z, 0-9, _ and -",
                    v.id
                ));
            }
            if !seen.insert(&v.id) {
                return Err(format!("variant {:?} appears twice", v.id));
            }
            if !(v.weight.is_finite() && v.weight > 0.0) {
                return Err(format!("variant {:?} needs a positive weight", v.id));
            }
        }
        if let Some(w) = &self.winner {
            if !self.variants.iter().any(|v| &v.id == w) {
                return Err(format!("winner {w:?} is not a variant of {:?}", self.id));
            }
        }
        if !(self.mde > 0.0 && self.mde < 10.0) {
            return Err("mde must be a relative effect above 0 (0.1 means 10%)".into());
        }
        self.outcomes()
            .check()
            .map_err(|e| format!("experiment {:?}: {e}", self.id))
    }

    /// What the experiment is judged on.
    pub fn outcomes(&self) -> metric::OutcomeSettings {
        metric::OutcomeSettings {
            metric: self.metric,
            outcome_window_days: self.outcome_window_days,
            revenue_cap_percentile: self.revenue_cap_percentile,
        }
    }

    /// The control (first variant).
    pub fn control(&self) -> &Variant {
        &self.variants[0]
    }

    /// Weights normalised to sum to 1.
    pub fn weights(&self) -> Vec<f64> {
        let total: f64 = self.variants.iter().map(|v| v.weight).sum();
        self.variants.iter().map(|v| v.weight / total).collect()
    }

    /// The variant a visitor gets (GrowthBook v2 bucketing, seed = experiment id).
    pub fn assign(&self, visitor: &str) -> &Variant {
        let ranges = hash::bucket_ranges(self.variants.len(), &self.weights());
        let bucket = hash::hash_v2(&self.id, visitor);
        let i = hash::choose(bucket, &ranges).unwrap_or(0);
        &self.variants[i]
    }

    /// The variants a build emits: all while running; the winner once stopped; else control.
    pub fn built_variants(&self) -> Vec<&Variant> {
        match self.status {
            Status::Running => self.variants.iter().collect(),
            Status::Stopped => {
                let w = self
                    .winner
                    .as_ref()
                    .and_then(|w| self.variants.iter().find(|v| &v.id == w));
                vec![w.unwrap_or_else(|| self.control())]
            }
            Status::Draft | Status::Paused => vec![self.control()],
        }
    }

    /// Whether the page carries several variants and the assignment script.
    pub fn is_live(&self) -> bool {
        self.status == Status::Running
    }

    /// The variant shown when only one is built.
    pub fn shipped(&self) -> &Variant {
        self.built_variants()[0]
    }

    /// Looks a variant up by id.
    pub fn variant(&self, id: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }
}

/// `splitmark assign`: the variant `visitor` gets in `experiment`, from the manifest the
/// build wrote (`.splitmark/manifest.json` by default).
pub fn assign_from_manifest(
    manifest: &std::path::Path,
    experiment: &str,
    visitor: &str,
) -> anyhow::Result<String> {
    let manifest = crate::manifest::Manifest::load(manifest)?;
    let exp = manifest.experiment(experiment).ok_or_else(|| {
        let ids: Vec<&str> = manifest.experiments.iter().map(|e| e.id.as_str()).collect();
        anyhow::anyhow!(
            "no experiment {experiment:?} in the built site (experiments: {})",
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        )
    })?;
    Ok(exp.assign(visitor).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(status: &str) -> ExperimentSpec {
        ExperimentSpec::from_value(
            &json!({"id": "hero", "goal": "demo", "status": status, "winner": "b",
                    "variants": [{"id": "a", "weight": 50}, {"id": "b", "weight": 50, "title": "B!"}]}),
            &["demo"],
        )
        .unwrap()
    }

    #[test]
    fn status_decides_what_is_built() {
        let ids = |s: &ExperimentSpec| {
            s.built_variants()
                .iter()
                .map(|v| v.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&spec("running")), ["a", "b"]);
        assert_eq!(ids(&spec("stopped")), ["b"]);
        assert_eq!(ids(&spec("draft")), ["a"]);
        assert_eq!(ids(&spec("paused")), ["a"]);
    }

    #[test]
    fn weights_normalise_and_assignment_is_sticky() {
        let s = spec("running");
        assert_eq!(s.weights(), [0.5, 0.5]);
        let first = s.assign("visitor-1").id.clone();
        for _ in 0..3 {
            assert_eq!(s.assign("visitor-1").id, first);
        }
    }

    #[test]
    fn invalid_specs_say_why() {
        let bad = |v: Value| ExperimentSpec::from_value(&v, &["demo"]).unwrap_err();
        assert!(bad(json!({"id": "Hero!", "goal": "demo", "variants": []})).contains("a-z"));
        assert!(
            bad(json!({"id": "h", "goal": "nope", "variants": [{"id":"a"},{"id":"b"}]}))
                .contains("goal form")
        );
        assert!(
            bad(json!({"id": "h", "goal": "demo", "variants": [{"id":"a"}]}))
                .contains("two variants")
        );
        assert!(bad(
            json!({"id": "h", "goal": "demo", "winner": "z", "variants": [{"id":"a"},{"id":"b"}]})
        )
        .contains("winner"));
        assert!(bad(
            json!({"id": "h", "goal": "demo", "variants": [{"id":"a","weight":0},{"id":"b"}]})
        )
        .contains("weight"));
    }

    #[test]
    fn outcome_settings_are_checked() {
        let base = || json!({"id": "h", "goal": "demo", "variants": [{"id":"a"},{"id":"b"}]});
        let with = |k: &str, v: Value| {
            let mut j = base();
            j[k] = v;
            ExperimentSpec::from_value(&j, &["demo"])
        };
        let s = ExperimentSpec::from_value(&base(), &["demo"]).unwrap();
        assert_eq!(s.outcomes(), metric::OutcomeSettings::default());
        assert_eq!(
            with("metric", json!("sales_qualified")).unwrap().metric,
            metric::Metric::SalesQualified
        );
        assert!(with("metric", json!("signups"))
            .unwrap_err()
            .contains("unknown variant `signups`"));
        assert!(with("outcome_window_days", json!(0))
            .unwrap_err()
            .contains("outcome_window_days must be between 1 and 365"));
        assert!(with("outcome_window_days", json!(-3)).is_err());
        for bad in [0.0, 100.0, 150.0] {
            assert!(with("revenue_cap_percentile", json!(bad))
                .unwrap_err()
                .contains("revenue_cap_percentile must be above 0 and below 100"));
        }
        assert_eq!(
            with("revenue_cap_percentile", json!(99))
                .unwrap()
                .revenue_cap_percentile,
            Some(99.0)
        );
    }
}
