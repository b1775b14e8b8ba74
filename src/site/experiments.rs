//! Forms and experiments in the build: the `form` and `variant` shortcodes, the inline head
//! script, variant overrides and the manifest the capture server loads.

use super::shortcodes::ShortcodeRegistry;
use crate::config::Config;
use crate::content::Library;
use crate::diagnostics::Diagnostic;
use crate::experiments::{markup, ExperimentSpec};
use crate::forms::{apply_texts, render_form, FormRender, FormSpec};
use crate::manifest::{ExperimentManifest, Manifest, VERSION};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// Forms and experiments of one build.
#[derive(Clone, Debug, Default)]
pub struct SiteExperiments {
    /// Forms by id.
    pub forms: Arc<BTreeMap<String, FormSpec>>,
    /// Experiments by the site path of their page.
    pub by_path: Arc<HashMap<String, ExperimentSpec>>,
    /// Base URL of the capture server ("" = same origin).
    pub endpoint: String,
    /// Honour Global Privacy Control / Do Not Track.
    pub respect_dnt: bool,
}

impl SiteExperiments {
    /// Parses `[forms]`, `[capture] endpoint/respect_dnt` and every page's `[experiment]`.
    ///
    /// Whatever parsed is kept even when something else failed, so one bad form or experiment
    /// does not turn every shortcode of the site into a follow-on error.
    pub fn load(config: &Config, library: &Library) -> (SiteExperiments, Vec<Diagnostic>) {
        let mut errors = Vec::new();
        let (forms, form_errors) = crate::forms::parse_forms(&config.forms);
        errors.extend(
            form_errors
                .into_iter()
                .map(|e| Diagnostic::file(crate::config::CONFIG_FILE, e)),
        );
        let form_ids: Vec<&str> = forms.keys().map(String::as_str).collect();
        let mut by_path = HashMap::new();
        let mut ids: HashMap<String, std::path::PathBuf> = HashMap::new();
        for p in &library.pages {
            let Some(raw) = &p.doc.meta.experiment else {
                continue;
            };
            match ExperimentSpec::from_value(raw, &form_ids) {
                Ok(spec) => {
                    if let Some(other) = ids.insert(spec.id.clone(), p.doc.file.clone()) {
                        errors.push(Diagnostic::file(
                            &p.doc.file,
                            format!(
                                "experiment id {:?} is also used by {}",
                                spec.id,
                                other.display()
                            ),
                        ));
                    }
                    by_path.insert(p.doc.path.clone(), spec);
                }
                Err(e) => errors.push(Diagnostic::file(&p.doc.file, e)),
            }
        }
        let endpoint = config
            .capture
            .get("endpoint")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned();
        let respect_dnt = config
            .capture
            .get("respect_dnt")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        // The build reads these two; a value of the wrong type is an error, not the default.
        errors.extend(
            crate::capture::settings::Settings::from_config(config)
                .err()
                .map(|e| Diagnostic::file(crate::config::CONFIG_FILE, e)),
        );
        let site = SiteExperiments {
            forms: Arc::new(forms),
            by_path: Arc::new(by_path),
            endpoint,
            respect_dnt,
        };
        (site, errors)
    }

    /// Where a form posts.
    pub fn form_endpoint(&self, id: &str) -> String {
        format!("{}/api/v1/forms/{id}", self.endpoint)
    }

    /// Where beacons go.
    pub fn events_endpoint(&self) -> String {
        format!("{}/api/v1/events", self.endpoint)
    }

    /// `<style>` + `<script>` for a page with a running experiment.
    pub fn head_for(&self, path: &str) -> Option<String> {
        let spec = self.by_path.get(path)?;
        let html = markup::head(&[spec], &self.events_endpoint(), self.respect_dnt);
        (!html.is_empty()).then_some(html)
    }

    /// The manifest of this build.
    pub fn manifest(&self) -> Manifest {
        let mut experiments: Vec<ExperimentManifest> = self
            .by_path
            .iter()
            .map(|(path, s)| ExperimentManifest::new(s, path))
            .collect();
        experiments.sort_by(|a, b| a.id.cmp(&b.id));
        Manifest {
            version: VERSION,
            forms: (*self.forms).clone(),
            experiments,
            versions: Default::default(),
        }
    }

    /// Renders form `id` as seen on the page at `path`.
    pub fn render_form(&self, id: &str, path: &str) -> Result<String, String> {
        let spec = self.forms.get(id).ok_or_else(|| {
            let known: Vec<&str> = self.forms.keys().map(String::as_str).collect();
            format!(
                "unknown form {id:?} (declared forms: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            )
        })?;
        let endpoint = self.form_endpoint(id);
        let exp = self.by_path.get(path).filter(|e| e.goal == id);
        let html = match exp {
            Some(e) if e.is_live() => {
                let variants = e
                    .variants
                    .iter()
                    .map(|v| (v.id.clone(), v.form.clone()))
                    .collect();
                render_form(
                    spec,
                    &FormRender {
                        id,
                        endpoint: &endpoint,
                        experiment: Some(&e.id),
                        variants,
                        page: path,
                        prefill: None,
                    },
                )
            }
            Some(e) => {
                // One variant ships: bake its texts into the form.
                let shipped = apply_texts(spec, &e.shipped().form);
                let mut html = render_form(
                    &shipped,
                    &FormRender {
                        id,
                        endpoint: &endpoint,
                        experiment: None,
                        variants: vec![],
                        page: path,
                        prefill: None,
                    },
                );
                let exp_field = "name=\"_experiment\" value=\"\"";
                html = html.replacen(
                    exp_field,
                    &format!("name=\"_experiment\" value=\"{}\"", e.id),
                    1,
                );
                html.replacen(
                    "name=\"_variant\" value=\"\"",
                    &format!("name=\"_variant\" value=\"{}\"", e.shipped().id),
                    1,
                )
            }
            None => render_form(
                spec,
                &FormRender {
                    id,
                    endpoint: &endpoint,
                    experiment: None,
                    variants: vec![],
                    page: path,
                    prefill: None,
                },
            ),
        };
        Ok(html)
    }

    /// Adds the `form` and `variant` shortcodes.
    pub fn register(&self, registry: &mut ShortcodeRegistry) {
        let me = self.clone();
        registry.register(
            "form",
            Box::new(move |call| {
                let id = call
                    .args
                    .get("id")
                    .and_then(|v| v.as_str())
                    .ok_or("form needs id=\"...\"")?;
                me.render_form(id, call.page_path)
            }),
        );
        let me = self.clone();
        registry.register(
            "variant",
            Box::new(move |call| {
                let id = call
                    .args
                    .get("id")
                    .and_then(|v| v.as_str())
                    .ok_or("variant needs id=\"...\"")?;
                let body = call
                    .body
                    .ok_or("variant is a block shortcode: {% variant(id=\"b\") %}…{% end %}")?;
                let exp = me
                    .by_path
                    .get(call.page_path)
                    .ok_or("this page has no [experiment] in its front matter")?;
                if exp.variant(id).is_none() {
                    let ids: Vec<&str> = exp.variants.iter().map(|v| v.id.as_str()).collect();
                    return Err(format!(
                        "experiment {:?} has no variant {id:?} (variants: {})",
                        exp.id,
                        ids.join(", ")
                    ));
                }
                Ok(if exp.is_live() {
                    markup::block(&exp.id, id, body, false)
                } else if exp.shipped().id == id {
                    body.to_owned()
                } else {
                    String::new()
                })
            }),
        );
    }
}

/// Registers `form(id="…")` for templates; it renders with the forms in `cell`.
pub fn register_form_function(tera: &mut tera::Tera, cell: Arc<OnceLock<SiteExperiments>>) {
    tera.register_function(
        "form",
        move |kwargs: tera::Kwargs, state: &tera::State| -> tera::TeraResult<tera::Value> {
            let id: String = kwargs.must_get("id")?;
            let path: String = state.get("current_path")?.unwrap_or_default();
            let site = cell
                .get()
                .ok_or_else(|| tera::Error::message("forms are not loaded yet"))?;
            let html = site.render_form(&id, &path).map_err(tera::Error::message)?;
            Ok(tera::Value::safe_string(&html))
        },
    );
}

impl SiteExperiments {
    /// A page whose experiment is not running shows one variant: bake that variant's title,
    /// description and `extra` overrides into the page (a stopped test ships its winner
    /// without a template change).
    pub fn apply_shipped_overrides(&self, library: &mut Library) {
        for p in &mut library.pages {
            let Some(spec) = self.by_path.get(&p.doc.path) else {
                continue;
            };
            if spec.is_live() {
                continue;
            }
            let v = spec.shipped();
            if let Some(t) = &v.title {
                p.doc.meta.title = Some(t.clone());
            }
            if let Some(d) = &v.description {
                p.doc.meta.description = Some(d.clone());
            }
            for (k, val) in &v.extra {
                p.doc.meta.extra.insert(k.clone(), val.clone());
            }
        }
    }
}
