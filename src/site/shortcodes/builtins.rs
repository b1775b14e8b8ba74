//! The built-in Rust shortcodes: `highlight`, `ref`, `relref` and `param`, and the image
//! behind `figure`.

use super::{RustShortcode, ShortcodeRegistry};
use crate::config::Config;
use crate::markdown::highlight::{self, Options};
use crate::markdown::ShortcodeCall;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// Registers the built-ins.
pub(super) fn register(r: &mut ShortcodeRegistry, config: &Config) {
    r.register_overridable("highlight", Box::new(highlight_shortcode));
    let base = Arc::new(config.clone());
    let cfg = base.clone();
    r.register_overridable(
        "ref",
        Box::new(move |call| Ok(esc(&cfg.permalink(&resolve_ref(call)?)))),
    );
    r.register_overridable("relref", Box::new(|call| Ok(esc(&resolve_ref(call)?))));
    let site_extra = serde_json::to_value(&config.extra).unwrap_or(Value::Null);
    r.register_overridable("param", param_shortcode(site_extra));
}

fn esc(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// The first positional argument, else the named one.
fn arg<'a>(call: &'a ShortcodeCall<'_>, name: &str) -> Option<&'a Value> {
    call.positional.first().or_else(|| call.args.get(name))
}

/// `{{< highlight go "linenos=table,hl_lines=2 4-5" >}}…{{< /highlight >}}`, also with named
/// options (`hl_lines="2"`, `linenos=true`), or `{% highlight(lang="go") %}…{% end %}`.
fn highlight_shortcode(call: &ShortcodeCall<'_>) -> Result<String, String> {
    let lang = arg(call, "lang")
        .and_then(Value::as_str)
        .ok_or("highlight needs a language: {{< highlight go >}}")?;
    let code = call
        .raw_body
        .ok_or("highlight needs a body: {{< highlight go >}}…{{< /highlight >}}")?;
    let code = code
        .strip_prefix("\r\n")
        .or_else(|| code.strip_prefix('\n'))
        .unwrap_or(code);
    let mut options = Options::default();
    let mut problems = Vec::new();
    if let Some(list) = call.positional.get(1).and_then(Value::as_str) {
        options.set_list(list, &mut problems);
    }
    for (k, v) in call.args {
        if k == "lang" {
            continue;
        }
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let Err(e) = options.set(k, &v) {
            problems.push(e);
        }
    }
    if let Some(p) = problems.into_iter().next() {
        return Err(p);
    }
    let out = highlight::render(code, Some(lang), &options);
    if let Some(l) = out.unknown_language {
        (call.warn)(format!(
            "highlight: language `{l}` is not known: shown without highlighting"
        ));
    }
    Ok(out.html)
}

/// The site path a `ref`/`relref` names, resolved like an `@/` link: from `content/`
/// (`"/blog/a.md"`, `"blog/a.md"`), else beside the page (`"a.md"`), with or without `.md`.
fn resolve_ref(call: &ShortcodeCall<'_>) -> Result<String, String> {
    let target = arg(call, "path")
        .and_then(Value::as_str)
        .ok_or("needs a path: {{< ref \"blog/post.md\" >}}")?;
    let (file, anchor) = match target.split_once('#') {
        Some((f, a)) => (f, Some(a)),
        None => (target, None),
    };
    let with_anchor = |path: &str| match anchor {
        Some(a) => format!("{path}#{a}"),
        None => path.to_owned(),
    };
    if file.is_empty() {
        return Ok(with_anchor(call.page_path));
    }
    let page_dir = call
        .page_file
        .strip_prefix("content")
        .unwrap_or(call.page_file)
        .parent()
        .unwrap_or(Path::new(""))
        .to_string_lossy()
        .replace('\\', "/");
    let mut bases = Vec::new();
    match file.strip_prefix('/') {
        Some(abs) => bases.push(abs.to_owned()),
        None => {
            if !page_dir.is_empty() {
                bases.push(format!("{page_dir}/{file}"));
            }
            bases.push(file.to_owned());
        }
    }
    for b in &bases {
        let b = b.trim_end_matches('/');
        for candidate in [
            b.to_owned(),
            format!("{b}.md"),
            format!("{b}/_index.md"),
            format!("{b}/index.md"),
        ] {
            if let Some(path) = (call.resolve)(&candidate) {
                return Ok(with_anchor(&path));
            }
        }
    }
    Err(format!(
        "no content file {file} (looked in content/ and beside the page)"
    ))
}

/// `{{< param "key" >}}`: the page's front-matter `extra` value, else the site's `[extra]`;
/// dotted keys reach into tables (`"social.twitter"`).
fn param_shortcode(site_extra: Value) -> RustShortcode {
    Box::new(move |call| {
        let key = arg(call, "name")
            .and_then(Value::as_str)
            .ok_or("needs a key: {{< param \"key\" >}}")?;
        let lookup = |root: &Value| {
            key.split('.')
                .try_fold(root, |v, k| v.get(k))
                .filter(|v| !v.is_null())
                .cloned()
        };
        let page = Value::Object(call.page_extra.clone());
        let value = lookup(&page).or_else(|| lookup(&site_extra)).ok_or_else(|| {
            format!("`{key}` is neither in the page's front matter (extra) nor in the site's [extra]")
        })?;
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        Ok(html_escape::encode_text(&text).into_owned())
    })
}

/// The `<picture>` of a `figure` whose `src` is a local image, through the responsive-image
/// pipeline.
pub(super) fn figure_picture(call: &ShortcodeCall<'_>) -> Option<String> {
    let src = call.args.get("src")?.as_str()?;
    let text = |k: &str| call.args.get(k).and_then(Value::as_str).unwrap_or("");
    (call.image?)(src, text("alt"), text("title"))
}
