//! Shortcodes available to Markdown: Rust ones registered by the program, then theme/site
//! templates `shortcodes/<name>.html`.

use crate::config::Config;
use crate::markdown::{ShortcodeCall, ShortcodeHandler};
use std::collections::HashMap;
use tera::{Context, Tera};

/// A shortcode implemented in Rust.
pub type RustShortcode = Box<dyn Fn(&ShortcodeCall<'_>) -> Result<String, String> + Send + Sync>;

/// The Rust shortcodes of a build.
#[derive(Default)]
pub struct ShortcodeRegistry {
    rust: HashMap<String, RustShortcode>,
}

impl ShortcodeRegistry {
    /// The shortcodes every site has.
    pub fn builtin(_config: &Config) -> Self {
        ShortcodeRegistry::default()
    }

    /// Adds or replaces a Rust shortcode.
    pub fn register(&mut self, name: &str, f: RustShortcode) {
        self.rust.insert(name.to_owned(), f);
    }

    /// A handler that falls back to templates.
    pub fn handler<'a>(&'a self, tera: &'a Tera) -> Handler<'a> {
        Handler {
            registry: self,
            tera,
        }
    }
}

/// Renders a call with a Rust shortcode or a `shortcodes/<name>.html` template.
pub struct Handler<'a> {
    registry: &'a ShortcodeRegistry,
    tera: &'a Tera,
}

impl ShortcodeHandler for Handler<'_> {
    fn render(&self, call: &ShortcodeCall<'_>) -> Result<String, String> {
        if let Some(f) = self.registry.rust.get(call.name) {
            return f(call);
        }
        let template = format!("shortcodes/{}.html", call.name);
        if !self.tera.contains_template(&template) {
            return Err(format!(
                "unknown shortcode (no Rust shortcode and no template {template})"
            ));
        }
        let mut ctx = Context::new();
        for (k, v) in call.args {
            ctx.insert(k.clone(), v);
        }
        if let Some(body) = call.body {
            ctx.insert_value("body", tera::Value::safe_string(body));
        }
        ctx.insert("page_path", call.page_path);
        self.tera
            .render(&template, &ctx)
            .map_err(|e| super::templates::error_chain(&e))
    }
}
