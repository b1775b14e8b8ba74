//! What a page with an experiment carries: variant blocks, the CSS that shows only the chosen
//! one, and the inline `<head>` script that chooses before first paint.
//!
//! With no marker on `<html>` (JavaScript off, crawlers) the CSS shows the control only; the
//! script (or the capture server, when it serves the page) sets `data-sm-<experiment>` on
//! `<html>` before anything paints, so there is no flicker.

use super::ExperimentSpec;
use html_escape::encode_double_quoted_attribute as attr;
use std::fmt::Write;

/// The browser script (a function expression taking the configuration), shipped inline.
/// Its source keeps line breaks after statements for review; they are dropped when inlined.
pub const HEAD_SCRIPT_SOURCE: &str = include_str!("../../assets/js/head.js");

/// The inline script text, line breaks removed.
pub fn head_script() -> String {
    HEAD_SCRIPT_SOURCE.lines().map(str::trim).collect()
}

/// Wraps a variant's HTML so the CSS can show or hide it.
pub fn block(experiment: &str, variant: &str, html: &str, inline: bool) -> String {
    let tag = if inline { "span" } else { "div" };
    format!(
        "<{tag} data-sm-e=\"{}\" data-sm-v=\"{}\">{html}</{tag}>",
        attr(experiment),
        attr(variant)
    )
}

/// CSS rules of one running experiment.
pub fn css(spec: &ExperimentSpec) -> String {
    let x = &spec.id;
    let c = &spec.control().id;
    let mut s = format!("[data-sm-e=\"{x}\"][data-sm-v]{{display:none}}html:not([data-sm-{x}]) [data-sm-e=\"{x}\"][data-sm-v=\"{c}\"]");
    for v in &spec.variants {
        let _ = write!(
            s,
            ",html[data-sm-{x}=\"{0}\"] [data-sm-e=\"{x}\"][data-sm-v=\"{0}\"]",
            v.id
        );
    }
    s.push_str("{display:revert}");
    let _ = write!(
        s,
        "html:not([data-sm-{x}]) [data-sm-e=\"{x}\"][data-sm-hide~=\"{c}\"]"
    );
    for v in &spec.variants {
        let _ = write!(
            s,
            ",html[data-sm-{x}=\"{0}\"] [data-sm-e=\"{x}\"][data-sm-hide~=\"{0}\"]",
            v.id
        );
    }
    s.push_str("{display:none}");
    s
}

/// The `<style>` and `<script>` for a page's running experiments (empty when none runs).
pub fn head(specs: &[&ExperimentSpec], events_endpoint: &str, respect_dnt: bool) -> String {
    let live: Vec<&&ExperimentSpec> = specs.iter().filter(|s| s.is_live()).collect();
    if live.is_empty() {
        return String::new();
    }
    let config = serde_json::json!({
        "x": live.iter().map(|s| serde_json::json!({
            "i": s.id,
            "v": s.variants.iter().zip(s.weights()).map(|(v, w)| serde_json::json!([v.id, w])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "e": events_endpoint,
        "d": u8::from(respect_dnt),
    });
    let config = crate::site::templates::script_safe_json(&config.to_string());
    let styles: String = live.iter().map(|s| css(s)).collect();
    format!(
        "<style>{styles}</style><script>{}({config})</script>",
        head_script()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> ExperimentSpec {
        ExperimentSpec::from_value(&json!({"id": "hero", "goal": "demo", "status": "running", "variants": [{"id": "a"}, {"id": "b"}]}), &["demo"]).unwrap()
    }

    #[test]
    fn css_hides_non_control_without_marker() {
        let c = css(&spec());
        assert!(c.starts_with("[data-sm-e=\"hero\"][data-sm-v]{display:none}"));
        assert!(c.contains("html:not([data-sm-hero]) [data-sm-e=\"hero\"][data-sm-v=\"a\"]"));
        assert!(c.contains("html[data-sm-hero=\"b\"] [data-sm-e=\"hero\"][data-sm-v=\"b\"]"));
    }

    #[test]
    fn head_script_is_under_one_kilobyte() {
        let s = head_script();
        assert!(s.len() < 1024, "inline script is {} bytes", s.len());
        let h = head(&[&spec()], "/api/v1/events", false);
        assert!(h.contains(&format!("<script>{s}({{\"x\":[{{\"i\":\"hero\",\"v\":[[\"a\",0.5],[\"b\",0.5]]}}],\"e\":\"/api/v1/events\",\"d\":0}})</script>")), "{h}");
    }

    #[test]
    fn nothing_for_stopped_experiments() {
        let mut s = spec();
        s.status = crate::experiments::Status::Stopped;
        assert_eq!(head(&[&s], "/e", false), "");
    }
}
