//! Accessible HTML for a form, with HTML5 validation attributes from the same spec the server
//! enforces.

use super::{FieldSpec, FieldType, FormSpec};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde::{Deserialize, Serialize};
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
}

fn autocomplete(f: &FieldSpec) -> Option<&'static str> {
    let n = f.name.to_ascii_lowercase();
    Some(match f.kind {
        FieldType::Email => "email",
        FieldType::Tel => "tel",
        FieldType::Url => "url",
        _ if n == "name" || n == "full_name" => "name",
        _ if n.contains("first") => "given-name",
        _ if n.contains("last") || n.contains("surname") => "family-name",
        _ if n.contains("company") || n.contains("organization") || n.contains("organisation") => {
            "organization"
        }
        _ if n.contains("title") || n.contains("role") => "organization-title",
        _ if n.contains("country") => "country-name",
        _ => return None,
    })
}

fn inputmode(f: &FieldSpec) -> Option<&'static str> {
    match f.kind {
        FieldType::Email => Some("email"),
        FieldType::Tel => Some("tel"),
        FieldType::Url => Some("url"),
        FieldType::Number => Some(if f.min.is_some_and(|m| m >= 0.0) {
            "numeric"
        } else {
            "decimal"
        }),
        _ => None,
    }
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

/// Variants (ids) in which an optional field is hidden.
fn hidden_in(r: &FormRender<'_>, f: &FieldSpec) -> Vec<String> {
    if !f.optional_in_variants {
        return Vec::new();
    }
    r.variants
        .iter()
        .filter(|(_, t)| {
            t.fields
                .as_ref()
                .is_some_and(|list| !list.contains(&f.name))
        })
        .map(|(v, _)| v.clone())
        .collect()
}

fn field_html(out: &mut String, r: &FormRender<'_>, f: &FieldSpec) {
    let fid = format!("sm-{}-{}", r.id, f.name);
    let err_id = format!("{fid}-err");
    let hint_id = format!("{fid}-hint");
    let describedby = if f.hint.is_some() {
        format!("{hint_id} {err_id}")
    } else {
        err_id.clone()
    };
    let required = if f.is_required() { " required" } else { "" };
    let star = if f.is_required() {
        " <span class=\"sm-req\" aria-hidden=\"true\">*</span>"
    } else {
        ""
    };
    let hide = hidden_in(r, f);
    let wrap_attrs = match (r.experiment, hide.is_empty()) {
        (Some(exp), false) => format!(
            " data-sm-e=\"{}\" data-sm-hide=\"{}\"",
            attr(exp),
            attr(&hide.join(" "))
        ),
        _ => String::new(),
    };
    if f.kind == FieldType::Hidden {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            attr(&f.name),
            attr(f.value.as_deref().unwrap_or(""))
        );
        return;
    }
    let hint = f
        .hint
        .as_ref()
        .map(|h| format!("<p class=\"sm-hint\" id=\"{hint_id}\">{}</p>", text(h)))
        .unwrap_or_default();
    let error_slot = format!("<p class=\"sm-error\" id=\"{err_id}\"></p>");
    match f.kind {
        FieldType::Radio | FieldType::Checkbox if !f.options.is_empty() => {
            let kind = if f.kind == FieldType::Radio {
                "radio"
            } else {
                "checkbox"
            };
            let _ = write!(out, "<fieldset class=\"sm-field\" id=\"{fid}\" aria-describedby=\"{describedby}\"{wrap_attrs}><legend>{}{star}</legend>", text(&f.label));
            for (i, o) in f.options.iter().enumerate() {
                let req = if kind == "radio" { required } else { "" };
                let _ = write!(
                    out,
                    "<label class=\"sm-choice\"><input type=\"{kind}\" id=\"{fid}-{i}\" name=\"{}\" value=\"{}\"{req}> {}</label>",
                    attr(&f.name),
                    attr(o.value()),
                    text(o.label())
                );
            }
            let _ = write!(out, "{hint}{error_slot}</fieldset>");
        }
        FieldType::Checkbox | FieldType::Consent => {
            let class = if f.kind == FieldType::Consent {
                "sm-field sm-consent"
            } else {
                "sm-field sm-check"
            };
            let _ = write!(
                out,
                "<div class=\"{class}\"{wrap_attrs}><input type=\"checkbox\" id=\"{fid}\" name=\"{}\" value=\"yes\"{required} aria-describedby=\"{describedby}\"><label for=\"{fid}\">{}{star}</label>{hint}{error_slot}</div>",
                attr(&f.name),
                text(&f.label)
            );
        }
        _ => {
            let _ = write!(
                out,
                "<div class=\"sm-field\"{wrap_attrs}><label for=\"{fid}\">{}{star}</label>",
                text(&f.label)
            );
            let mut a = format!(
                " id=\"{fid}\" name=\"{}\"{required} aria-describedby=\"{describedby}\"",
                attr(&f.name)
            );
            if let Some(ac) = autocomplete(f) {
                let _ = write!(a, " autocomplete=\"{ac}\"");
            }
            if let Some(im) = inputmode(f) {
                let _ = write!(a, " inputmode=\"{im}\"");
            }
            if let Some(p) = &f.placeholder {
                let _ = write!(a, " placeholder=\"{}\"", attr(p));
            }
            if f.kind != FieldType::Select && f.kind != FieldType::Number {
                let _ = write!(a, " maxlength=\"{}\"", f.max_len());
                if let Some(m) = f.min_length {
                    let _ = write!(a, " minlength=\"{m}\"");
                }
            }
            match f.kind {
                FieldType::Textarea => {
                    let _ = write!(out, "<textarea rows=\"4\"{a}></textarea>");
                }
                FieldType::Select => {
                    let _ = write!(out, "<select{a}><option value=\"\">Choose…</option>");
                    for o in &f.options {
                        let _ = write!(
                            out,
                            "<option value=\"{}\">{}</option>",
                            attr(o.value()),
                            text(o.label())
                        );
                    }
                    out.push_str("</select>");
                }
                _ => {
                    let kind = match f.kind {
                        FieldType::Email => "email",
                        FieldType::Tel => "tel",
                        FieldType::Url => "url",
                        FieldType::Number => "number",
                        _ => "text",
                    };
                    if f.kind == FieldType::Number {
                        if let Some(m) = f.min {
                            let _ = write!(a, " min=\"{m}\"");
                        }
                        if let Some(m) = f.max {
                            let _ = write!(a, " max=\"{m}\"");
                        }
                        a.push_str(" step=\"any\"");
                    }
                    if let Some(p) = &f.pattern {
                        let _ = write!(a, " pattern=\"{}\"", attr(p));
                    }
                    let _ = write!(out, "<input type=\"{kind}\"{a}>");
                }
            }
            let _ = write!(out, "{hint}{error_slot}</div>");
        }
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
        let value = if name == "_experiment" {
            r.experiment.unwrap_or("")
        } else {
            ""
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
        };
        let html = render_form(&demo(), &r);
        assert!(html.contains("<span data-sm-e=\"hero\" data-sm-v=\"a\">Book my demo</span><span data-sm-e=\"hero\" data-sm-v=\"b\">Get started</span>"), "{html}");
        assert!(html.contains("name=\"_experiment\" value=\"hero\""));
    }
}
