//! `.splitmark/manifest.json`: what the capture server needs from a build.
//!
//! Forms (full specs, to validate submissions) and experiments (variants and weights, to assign
//! and count). Written by the build, read by `splitmark capture`, `report` and `assign`.
//!
//! It holds the qualification rules and every experiment, paused and draft ones included, so it
//! lives outside the deployable output: nothing in the browser reads it, and nobody should.

use crate::experiments::{ExperimentSpec, Status};
use crate::forms::{FormSpec, FormTexts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the manifest lives under the site root unless `--manifest` says otherwise.
pub const DEFAULT_MANIFEST: &str = ".splitmark/manifest.json";

/// The manifest path: `explicit` when given, else [`DEFAULT_MANIFEST`] under `root`.
pub fn manifest_path(root: &Path, explicit: Option<&Path>) -> PathBuf {
    explicit.map_or_else(|| root.join(DEFAULT_MANIFEST), Path::to_path_buf)
}

/// Current manifest format.
pub const VERSION: u32 = 1;

/// An experiment as the server sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentManifest {
    /// Experiment id.
    pub id: String,
    /// Site path of the page it runs on.
    pub page: String,
    /// Goal form id.
    pub goal: String,
    /// Status at build time.
    pub status: Status,
    /// Winner, when stopped with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    /// Minimum detectable effect.
    pub mde: f64,
    /// Variants (control first) with normalised weights.
    pub variants: Vec<VariantManifest>,
    /// The verdict's metric, the outcome window and the revenue cap.
    #[serde(default)]
    pub outcomes: crate::experiments::metric::OutcomeSettings,
}

/// A variant id and its weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantManifest {
    /// Variant id.
    pub id: String,
    /// Normalised weight.
    pub weight: f64,
    /// The goal form's texts in this variant, so a form shown again by the server reads as
    /// the visitor saw it.
    #[serde(default, skip_serializing_if = "is_default")]
    pub form: FormTexts,
}

fn is_default(t: &FormTexts) -> bool {
    *t == FormTexts::default()
}

/// Forms and experiments of a built site.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// Forms by id.
    pub forms: BTreeMap<String, FormSpec>,
    /// Experiments.
    pub experiments: Vec<ExperimentManifest>,
    /// Each form's version as each of its variants shows it, worked out on first use.
    #[serde(skip)]
    pub versions: FormVersions,
}

/// The versions of a manifest's forms (see [`crate::forms::version`]), computed once per
/// loaded manifest instead of once per submission.
#[derive(Default)]
pub struct FormVersions(std::sync::OnceLock<BTreeMap<String, Shown>>);

/// One form's versions: as its spec has it, and as each variant of an experiment whose goal it
/// is shows it (by experiment id, then variant id).
struct Shown {
    plain: String,
    by_variant: BTreeMap<String, BTreeMap<String, String>>,
}

impl Clone for FormVersions {
    /// A copy works its versions out again: they follow from the forms it is cloned with.
    fn clone(&self) -> Self {
        FormVersions::default()
    }
}

impl PartialEq for FormVersions {
    /// Derived data: two manifests with the same forms and experiments are equal.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for FormVersions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormVersions")
    }
}

impl ExperimentManifest {
    /// From a spec on a page.
    pub fn new(spec: &ExperimentSpec, page: &str) -> Self {
        ExperimentManifest {
            id: spec.id.clone(),
            page: page.to_owned(),
            goal: spec.goal.clone(),
            status: spec.status,
            winner: spec.winner.clone(),
            mde: spec.mde,
            outcomes: spec.outcomes(),
            variants: spec
                .variants
                .iter()
                .zip(spec.weights())
                .map(|(v, weight)| VariantManifest {
                    id: v.id.clone(),
                    weight,
                    form: v.form.clone(),
                })
                .collect(),
        }
    }

    /// The variant a visitor gets (same bucketing as [`ExperimentSpec::assign`]).
    pub fn assign(&self, visitor: &str) -> &str {
        use crate::experiments::hash;
        let weights: Vec<f64> = self.variants.iter().map(|v| v.weight).collect();
        let ranges = hash::bucket_ranges(self.variants.len(), &weights);
        let i = hash::choose(hash::hash_v2(&self.id, visitor), &ranges).unwrap_or(0);
        &self.variants[i].id
    }

    /// Whether `variant` is one of this experiment's.
    pub fn has_variant(&self, variant: &str) -> bool {
        self.variants.iter().any(|v| v.id == variant)
    }

    /// The goal form's texts in `variant`, if it is one of this experiment's.
    pub fn form_texts(&self, variant: &str) -> Option<&FormTexts> {
        self.variants
            .iter()
            .find(|v| v.id == variant)
            .map(|v| &v.form)
    }
}

impl Manifest {
    /// The version of form `form_id` as shown to a visitor of `variant` of `experiment` (the
    /// variant's texts apply when the experiment's goal is this form), else as its spec has
    /// it; `None` for an unknown form.
    pub fn form_version(
        &self,
        form_id: &str,
        experiment: Option<&str>,
        variant: Option<&str>,
    ) -> Option<&str> {
        let shown = self
            .versions
            .0
            .get_or_init(|| self.all_form_versions())
            .get(form_id)?;
        let of_variant = experiment
            .zip(variant)
            .and_then(|(e, v)| shown.by_variant.get(e)?.get(v));
        Some(of_variant.unwrap_or(&shown.plain))
    }

    fn all_form_versions(&self) -> BTreeMap<String, Shown> {
        use crate::forms::{apply_texts, form_version};
        let shown = |id: &String, form: &FormSpec| Shown {
            plain: form_version(form),
            by_variant: self
                .experiments
                .iter()
                .filter(|x| &x.goal == id)
                .map(|x| {
                    let versions = x
                        .variants
                        .iter()
                        .map(|v| (v.id.clone(), form_version(&apply_texts(form, &v.form))))
                        .collect();
                    (x.id.clone(), versions)
                })
                .collect(),
        };
        self.forms
            .iter()
            .map(|(id, form)| (id.clone(), shown(id, form)))
            .collect()
    }

    /// Reads a manifest file.
    pub fn load(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "no manifest at {}: run `splitmark build` first (or point --manifest at the one it wrote)",
                path.display()
            ),
            _ => anyhow::anyhow!("cannot read the manifest {}: {e}", path.display()),
        })?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a valid manifest: {e}", path.display()))?;
        if m.version != VERSION {
            anyhow::bail!(
                "{} has manifest version {}, this splitmark reads {VERSION}: rebuild the site",
                path.display(),
                m.version
            );
        }
        Ok(m)
    }

    /// An experiment by id.
    pub fn experiment(&self, id: &str) -> Option<&ExperimentManifest> {
        self.experiments.iter().find(|e| e.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{apply_texts, form_version};

    fn experiment(id: &str, goal: &str, headline: &str) -> ExperimentManifest {
        let mut x: ExperimentManifest = serde_json::from_value(serde_json::json!({
            "id": id, "page": "/lp/", "goal": goal, "status": "running", "winner": null,
            "mde": 0.1, "variants": [{"id": "a", "weight": 0.5}, {"id": "b", "weight": 0.5}],
            "outcomes": {}
        }))
        .unwrap();
        x.variants[1].form.headline = Some(headline.into());
        x
    }

    #[test]
    fn form_versions_follow_the_variant_that_showed_the_form() {
        let demo = crate::forms::tests::demo();
        let manifest = Manifest {
            version: VERSION,
            forms: [("demo".to_owned(), demo.clone())].into(),
            experiments: vec![
                experiment("hero", "demo", "Talk to sales"),
                experiment("other", "newsletter", "Subscribe"),
            ],
            versions: FormVersions::default(),
        };
        let plain = form_version(&demo);
        let texts = manifest.experiments[0].form_texts("b").unwrap();
        let shown_b = form_version(&apply_texts(&demo, texts));
        assert_ne!(plain, shown_b, "the variant's headline makes a new version");
        let v = |e: Option<&str>, var: Option<&str>| manifest.form_version("demo", e, var);
        assert_eq!(v(None, None), Some(plain.as_str()));
        assert_eq!(v(Some("hero"), Some("a")), Some(plain.as_str()));
        assert_eq!(v(Some("hero"), Some("b")), Some(shown_b.as_str()));
        assert_eq!(
            v(Some("hero"), Some("zz")),
            Some(plain.as_str()),
            "unknown variant"
        );
        assert_eq!(
            v(Some("other"), Some("b")),
            Some(plain.as_str()),
            "another goal"
        );
        assert_eq!(v(None, Some("b")), Some(plain.as_str()), "no experiment");
        assert_eq!(manifest.form_version("nope", None, None), None);
        assert_eq!(
            manifest.clone(),
            manifest,
            "the cache is not part of equality"
        );
    }
}
