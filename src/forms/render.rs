//! Accessible HTML for a form, with HTML5 validation attributes from the same spec the server
//! enforces.

use super::fields::field_html;
use super::{Answers, FormSpec};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Texts a variant may change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormTexts {
    /// Heading above the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    /// Submit button text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<String>,
    /// Which optional fields (`optional_in_variants`) show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

/// How to render one form.
#[derive(Clone, Debug)]
pub struct FormRender<'a> {
    /// Form id.
    pub id: &'a str,
    /// Where it posts.
    pub endpoint: &'a str,
    /// Experiment whose variants change the form's texts.
    pub experiment: Option<&'a str>,
    /// The variants being built, in order, with their text overrides (control first).
    pub variants: Vec<(String, FormTexts)>,
    /// Site path of the page the form is on: the `_page` field, so a post without
    /// JavaScript still says where it came from (and where to send the visitor back).
    pub page: &'a str,
    /// What the visitor sent, when the server shows the form again with its messages.
    pub prefill: Option<&'a Prefill>,
}

/// A refused submission, to render the form again as the visitor left it.
#[derive(Clone, Debug, Default)]
pub struct Prefill {
    /// Answers by field name, as sent.
    pub answers: Answers,
    /// The server's message per field.
    pub errors: BTreeMap<String, String>,
    /// Hidden attribution fields as sent (`_visitor`, `_variant`, `utm_source`, …).
    pub meta: BTreeMap<String, String>,
}

/// The form as one variant shows it: its headline and submit text, without the optional
/// fields it leaves out.
pub fn apply_texts(spec: &FormSpec, texts: &FormTexts) -> FormSpec {
    let mut s = spec.clone();
    if let Some(h) = &texts.headline {
        s.headline = Some(h.clone());
    }
    if let Some(b) = &texts.submit {
        s.submit = b.clone();
    }
    if let Some(list) = &texts.fields {
        s.fields
            .retain(|f| !f.optional_in_variants || list.contains(&f.name));
    }
    s
}

/// A group of `data-sm-v` spans, one per variant, for a text that variants change.
fn variant_text(
    out: &mut String,
    r: &FormRender<'_>,
    default: &str,
    pick: impl Fn(&FormTexts) -> Option<&String>,
) {
    let differs = r
        .variants
        .iter()
        .any(|(_, t)| pick(t).is_some_and(|s| s != default));
    match (r.experiment, differs) {
        (Some(exp), true) => {
            for (v, t) in &r.variants {
                let s = pick(t).map_or(default, String::as_str);
                let _ = write!(
                    out,
                    "<span data-sm-e=\"{}\" data-sm-v=\"{}\">{}</span>",
                    attr(exp),
                    attr(v),
                    text(s)
                );
            }
        }
        _ => out.push_str(&text(default)),
    }
}

/// Renders the form's HTML (plus the enhancement script tag).
pub fn render_form(spec: &FormSpec, r: &FormRender<'_>) -> String {
    let mut out = String::with_capacity(2048);
    let title_id = format!("sm-form-{}-title", r.id);
    let success = spec.success_url.as_deref().unwrap_or("");
    let _ = write!(
        out,
        "<form class=\"sm-form\" id=\"sm-form-{id}\" method=\"post\" action=\"{action}\" data-sm-form=\"{id}\" data-sm-success=\"{msg}\" data-sm-success-url=\"{url}\"",
        id = attr(r.id),
        action = attr(r.endpoint),
        msg = attr(&spec.success_message),
        url = attr(success),
    );
    if let Some(exp) = r.experiment {
        let _ = write!(out, " data-sm-experiment=\"{}\"", attr(exp));
    }
    let headline = spec.headline.clone().unwrap_or_default();
    let has_headline = !headline.is_empty() || r.variants.iter().any(|(_, t)| t.headline.is_some());
    if has_headline {
        let _ = write!(
            out,
            " aria-labelledby=\"{title_id}\"><h2 id=\"{title_id}\">"
        );
        variant_text(&mut out, r, &headline, |t| t.headline.as_ref());
        out.push_str("</h2>");
    } else {
        out.push('>');
    }
    for f in &spec.fields {
        field_html(&mut out, r, f);
    }
    let _ = write!(
        out,
        "<input type=\"hidden\" name=\"_form\" value=\"{}\">",
        attr(r.id)
    );
    for name in [
        "_experiment",
        "_variant",
        "_visitor",
        "_page",
        "_referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
    ] {
        let sent = r.prefill.and_then(|p| p.meta.get(name)).map(String::as_str);
        let value = match name {
            _ if sent.is_some() => sent.unwrap_or_default(),
            "_experiment" => r.experiment.unwrap_or(""),
            "_page" => r.page,
            _ => "",
        };
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            attr(value)
        );
    }
    let _ = write!(
        out,
        "<div class=\"sm-hp\" aria-hidden=\"true\"><label for=\"sm-{id}-gotcha\">Leave this field empty</label><input type=\"text\" id=\"sm-{id}-gotcha\" name=\"_gotcha\" tabindex=\"-1\" autocomplete=\"off\"></div><button type=\"submit\">",
        id = attr(r.id)
    );
    variant_text(&mut out, r, &spec.submit, |t| t.submit.as_ref());
    out.push_str("</button><p class=\"sm-status\" role=\"status\"></p></form><script src=\"/_splitmark/forms.js\" defer></script>");
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::demo;
    use super::*;

    fn plain() -> String {
        render_form(
            &demo(),
            &FormRender {
                id: "demo",
                endpoint: "/api/v1/forms/demo",
                experiment: None,
                variants: vec![],
                page: "/",
                prefill: None,
            },
        )
    }

    #[test]
    fn labels_tie_to_inputs_and_attributes_follow_the_spec() {
        let html = plain();
        assert!(
            html.contains("<label for=\"sm-demo-email\">Work email"),
            "{html}"
        );
        assert!(html.contains("id=\"sm-demo-email\" name=\"email\" required aria-describedby=\"sm-demo-email-err\" autocomplete=\"email\" inputmode=\"email\""), "{html}");
        assert!(html.contains("type=\"email\""));
        assert!(html.contains("maxlength=\"20\""), "name max_length");
        assert!(html.contains("min=\"0\" max=\"1000000\""));
        assert!(html.contains("pattern=\"[A-Z]{3}\""));
        assert!(html.contains("name=\"_gotcha\" tabindex=\"-1\" autocomplete=\"off\""));
        assert!(html.contains("<div class=\"sm-hp\" aria-hidden=\"true\">"));
        assert!(html.contains("action=\"/api/v1/forms/demo\""));
    }

    #[test]
    fn hostile_texts_are_escaped() {
        let mut s = demo();
        s.headline = Some("<script>alert(1)</script>".into());
        s.fields[0].label = "\"><img onerror=x>".into();
        let html = render_form(
            &s,
            &FormRender {
                id: "demo",
                endpoint: "/x",
                experiment: None,
                variants: vec![],
                page: "/",
                prefill: None,
            },
        );
        assert!(
            !html.contains("<script>alert") && !html.contains("<img"),
            "{html}"
        );
    }

    #[test]
    fn variant_texts_are_marked_per_variant() {
        let texts = FormTexts {
            submit: Some("Get started".into()),
            ..Default::default()
        };
        let r = FormRender {
            id: "demo",
            endpoint: "/x",
            experiment: Some("hero"),
            variants: vec![("a".into(), FormTexts::default()), ("b".into(), texts)],
            page: "/landing/",
            prefill: None,
        };
        let html = render_form(&demo(), &r);
        assert!(html.contains("<span data-sm-e=\"hero\" data-sm-v=\"a\">Book my demo</span><span data-sm-e=\"hero\" data-sm-v=\"b\">Get started</span>"), "{html}");
        assert!(html.contains("name=\"_experiment\" value=\"hero\""));
    }
}
