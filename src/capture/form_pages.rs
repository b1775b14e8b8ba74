//! Pages for people who post a form without JavaScript: the form again with their values and
//! the server's messages, "too many attempts", and the thank-you page, all in the site's own
//! layout. They render the theme's `form_error.html` and `form_success.html`, which a site
//! overrides like any template; every value reaches them as data, which tera escapes.

use crate::config::Config;
use crate::forms::{render_form, FieldErrors, FormRender, FormSpec, Prefill};
use crate::seo::{head_meta, Kind, PageInfo};
use serde::Serialize;
use tera::{Context, Tera};

/// Template of the refused-submission page (validation errors, rate limit).
pub const ERROR_TEMPLATE: &str = "form_error.html";
/// Template of the thank-you page.
pub const SUCCESS_TEMPLATE: &str = "form_success.html";
/// Template of the page a double opt-in confirmation link shows.
pub const CONFIRM_TEMPLATE: &str = "confirm.html";

/// The site's templates and settings, loaded when the server starts.
pub struct FormPages {
    tera: Tera,
    config: Config,
    config_value: tera::Value,
    /// The capture server runs on another origin than the site (`[capture] endpoint`), so
    /// links to the site's pages must be absolute.
    cross_origin: bool,
}

/// The form as the templates see it.
#[derive(Serialize)]
struct FormView<'a> {
    id: &'a str,
    headline: Option<&'a str>,
    submit: &'a str,
    success_message: &'a str,
}

/// One field's problem, by the field's label.
#[derive(Serialize)]
struct ErrorItem<'a> {
    name: &'a str,
    label: &'a str,
    message: &'a str,
    code: &'a str,
    /// Id of the field's input in `form_html`, for `<a href="#…">`.
    id: String,
}

/// What a refused submission page shows.
pub struct Refusal<'a> {
    /// Form id.
    pub form_id: &'a str,
    /// Its spec.
    pub form: &'a FormSpec,
    /// Per-field errors (empty for a rate limit).
    pub errors: &'a FieldErrors,
    /// What was sent, to show the form again; `None` when the body was not read.
    pub prefill: Option<&'a Prefill>,
    /// Seconds until another attempt is accepted (rate limit).
    pub retry_after: Option<u64>,
    /// What went wrong when it is not the answers (the lead could not be stored, the body
    /// could not be read).
    pub notice: Option<&'a str>,
    /// Where "back" links.
    pub back_url: &'a str,
}

impl FormPages {
    /// Loads the site's templates (embedded theme, theme, site, like the build).
    pub fn load(root: &std::path::Path, config: &Config) -> Result<FormPages, String> {
        let (tera, _) =
            crate::site::templates::load(root, config, &|_| {}).map_err(|d| d.to_string())?;
        let cross_origin = config
            .capture
            .get("endpoint")
            .and_then(toml::Value::as_str)
            .is_some_and(|e| !e.trim().is_empty());
        Ok(FormPages {
            tera,
            config_value: tera::Value::from_serializable(config),
            config: config.clone(),
            cross_origin,
        })
    }

    /// A link to a site path as seen from a page the capture server renders.
    pub fn site_link(&self, path: &str) -> String {
        if self.cross_origin {
            self.config.permalink(path)
        } else {
            path.to_owned()
        }
    }

    /// The refused-submission page.
    pub fn refusal(&self, r: &Refusal<'_>) -> String {
        let errors: Vec<ErrorItem<'_>> = r
            .form
            .fields
            .iter()
            .filter_map(|f| {
                let e = r.errors.get(&f.name)?;
                Some(ErrorItem {
                    name: &f.name,
                    label: if f.label.is_empty() {
                        &f.name
                    } else {
                        &f.label
                    },
                    message: &e.message,
                    code: e.code,
                    id: format!("sm-{}-{}", r.form_id, f.name),
                })
            })
            .collect();
        let message = match (r.notice, r.retry_after) {
            (Some(n), _) => n.to_owned(),
            (None, Some(secs)) => format!("Too many attempts; try again in {secs} s."),
            (None, None) => "Some fields need attention.".to_owned(),
        };
        let form_html = r.prefill.map(|p| {
            // The page's heading is the form's headline; the form repeats it no more.
            let spec = FormSpec {
                headline: None,
                ..r.form.clone()
            };
            render_form(
                &spec,
                &FormRender {
                    id: r.form_id,
                    endpoint: &format!("/api/v1/forms/{}", r.form_id),
                    experiment: None,
                    variants: vec![],
                    page: "",
                    prefill: Some(p),
                },
            )
        });
        let fallback = match (r.notice, r.retry_after) {
            (Some(_), _) => "Please try again",
            (None, Some(_)) => "Too many attempts",
            (None, None) => "Please check the form",
        };
        let heading = r.form.headline.as_deref().unwrap_or(fallback);
        let values = r.prefill.map(|p| &p.answers);
        self.render(ERROR_TEMPLATE, heading, &message, r.back_url, |c| {
            c.insert("form", &form_view(r.form_id, r.form));
            c.insert("errors", &errors);
            c.insert("values", &values);
            c.insert("form_html", &form_html);
            c.insert("retry_after", &r.retry_after);
        })
    }

    /// The thank-you page.
    pub fn success(&self, form_id: &str, form: &FormSpec, back_url: &str) -> String {
        let heading = form.headline.as_deref().unwrap_or("Thank you");
        self.render(
            SUCCESS_TEMPLATE,
            heading,
            &form.success_message,
            back_url,
            |c| c.insert("form", &form_view(form_id, form)),
        )
    }

    /// The page a confirmation link shows; `state` is `confirmed`, `already_confirmed`,
    /// `invalid`, `expired`, `not_found` or `unavailable`.
    pub fn confirmation(
        &self,
        state: &str,
        heading: &str,
        message: &str,
        back_url: &str,
    ) -> String {
        self.render(CONFIRM_TEMPLATE, heading, message, back_url, |c| {
            c.insert("state", state)
        })
    }

    fn render(
        &self,
        name: &str,
        heading: &str,
        message: &str,
        back_url: &str,
        fill: impl FnOnce(&mut Context),
    ) -> String {
        let url = self.config.permalink("/");
        let info = PageInfo {
            kind: Kind::Page,
            title: Some(heading),
            description: Some(message),
            url: &url,
            image: None,
            published: None,
            modified: None,
            tags: &[],
            author: None,
            noindex: true,
            breadcrumbs: Vec::new(),
        };
        let mut ctx = Context::new();
        ctx.insert_value("config", self.config_value.clone());
        ctx.insert("current_path", "");
        ctx.insert("current_url", &url);
        ctx.insert("splitmark_version", env!("CARGO_PKG_VERSION"));
        ctx.insert("meta", &head_meta(&self.config, &info));
        ctx.insert("heading", heading);
        ctx.insert("message", message);
        ctx.insert("back_url", back_url);
        fill(&mut ctx);
        self.tera.render(name, &ctx).unwrap_or_else(|e| {
            // A broken override must not cost the visitor the answer: say it plainly.
            eprintln!(
                "{name} failed to render: {}",
                crate::site::templates::error_chain(&e)
            );
            plain_page(heading, message, back_url)
        })
    }
}

fn form_view<'a>(id: &'a str, form: &'a FormSpec) -> FormView<'a> {
    FormView {
        id,
        headline: form.headline.as_deref(),
        submit: &form.submit,
        success_message: &form.success_message,
    }
}

/// The answer when the template cannot render.
fn plain_page(heading: &str, message: &str, back_url: &str) -> String {
    use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{h}</title></head><body><main><h1>{h}</h1><p>{m}</p><p><a href=\"{b}\">Back to the page you were on</a></p></main></body></html>",
        h = text(heading),
        m = text(message),
        b = attr(back_url)
    )
}
