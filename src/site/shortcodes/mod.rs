//! Shortcodes available to Markdown, looked up in this order:
//!
//! 1. the program's own Rust shortcodes (`form`, `variant`);
//! 2. a `shortcodes/<name>.html` template of the site or its theme on disk, which overrides
//!    any built-in below;
//! 3. the built-in Rust shortcodes `highlight`, `ref`, `relref` and `param` ([`builtins`]);
//! 4. the default theme's embedded templates (`figure`, `youtube`, `vimeo`, `details`).
//!
//! A template receives the named arguments as variables, the positional ones as the list
//! `args`, the body as `body` and the page's path as `page_path`.

mod builtins;

use super::templates::TemplateSources;
use crate::config::Config;
use crate::markdown::{ShortcodeCall, ShortcodeHandler};
use std::collections::HashMap;
use tera::{Context, Tera};

/// A shortcode implemented in Rust.
pub type RustShortcode = Box<dyn Fn(&ShortcodeCall<'_>) -> Result<String, String> + Send + Sync>;

/// Shortcodes that only make sense with a body: `{{< name >}}` without a closing tag is an
/// unclosed pair.
const NEED_BODY: &[&str] = &["variant", "highlight", "details"];

/// Built-ins whose first positional argument has a name (`{{< youtube abc >}}` is `id="abc"`).
const POSITIONAL_NAMES: &[(&str, &str)] = &[("youtube", "id"), ("vimeo", "id")];

/// The Rust shortcodes of a build.
#[derive(Default)]
pub struct ShortcodeRegistry {
    rust: HashMap<String, RustShortcode>,
    /// Built-ins a template on disk may replace.
    overridable: HashMap<String, RustShortcode>,
}

impl ShortcodeRegistry {
    /// The shortcodes every site has.
    pub fn builtin(config: &Config) -> Self {
        let mut r = ShortcodeRegistry::default();
        builtins::register(&mut r, config);
        r
    }

    /// Adds or replaces a Rust shortcode.
    pub fn register(&mut self, name: &str, f: RustShortcode) {
        self.rust.insert(name.to_owned(), f);
    }

    /// Adds a built-in that a `shortcodes/<name>.html` template on disk overrides.
    pub fn register_overridable(&mut self, name: &str, f: RustShortcode) {
        self.overridable.insert(name.to_owned(), f);
    }

    /// A handler that falls back to templates.
    pub fn handler<'a>(&'a self, tera: &'a Tera, sources: &'a TemplateSources) -> Handler<'a> {
        Handler {
            registry: self,
            tera,
            sources,
        }
    }
}

/// Renders a call with a Rust shortcode or a `shortcodes/<name>.html` template.
pub struct Handler<'a> {
    registry: &'a ShortcodeRegistry,
    tera: &'a Tera,
    sources: &'a TemplateSources,
}

impl ShortcodeHandler for Handler<'_> {
    fn render(&self, call: &ShortcodeCall<'_>) -> Result<String, String> {
        if let Some(f) = self.registry.rust.get(call.name) {
            return f(call);
        }
        let template = format!("shortcodes/{}.html", call.name);
        let exists = self.tera.contains_template(&template);
        let on_disk = exists && !self.sources.origin(&template).starts_with("embedded");
        if !on_disk {
            if let Some(f) = self.registry.overridable.get(call.name) {
                return f(call);
            }
        }
        if !exists {
            return Err(format!(
                "unknown shortcode (no built-in and no template {template})"
            ));
        }
        self.template(&template, call)
    }

    fn needs_body(&self, name: &str) -> bool {
        NEED_BODY.contains(&name)
    }

    fn markdown_body(&self, name: &str) -> bool {
        // Hugo's own `details` renders its inner text as Markdown whatever the delimiters.
        name == "details"
    }
}

impl Handler<'_> {
    fn template(&self, template: &str, call: &ShortcodeCall<'_>) -> Result<String, String> {
        let mut ctx = Context::new();
        for (k, v) in call.args {
            ctx.insert(k.clone(), v);
        }
        if !call.args.contains_key("args") {
            ctx.insert("args", call.positional);
        }
        if let Some((_, name)) = POSITIONAL_NAMES.iter().find(|(n, _)| *n == call.name) {
            if let (false, Some(first)) = (call.args.contains_key(*name), call.positional.first()) {
                ctx.insert(*name, first);
            }
        }
        // A standalone call has an empty body, as Hugo's `.Inner` is.
        ctx.insert_value("body", tera::Value::safe_string(call.body.unwrap_or("")));
        if call.name == "figure" {
            if let Some(picture) = builtins::figure_picture(call) {
                ctx.insert_value("picture", tera::Value::safe_string(&picture));
            }
        }
        ctx.insert("page_path", call.page_path);
        self.tera
            .render(template, &ctx)
            .map_err(|e| super::templates::error_chain(&e))
    }
}
