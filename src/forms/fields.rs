//! One field's HTML: label, input with the HTML5 attributes of its spec, hint and error slot,
//! filled with what the visitor sent when the server shows the form again.

use super::render::FormRender;
use super::{FieldSpec, FieldType};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use std::fmt::Write;

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

/// Appends field `f`'s HTML to `out`.
pub(super) fn field_html(out: &mut String, r: &FormRender<'_>, f: &FieldSpec) {
    let sent: &[String] = r
        .prefill
        .and_then(|p| p.answers.get(&f.name))
        .map_or(&[], Vec::as_slice);
    let first = sent.first().map_or("", String::as_str);
    let message = r.prefill.and_then(|p| p.errors.get(&f.name));
    let invalid = if message.is_some() {
        " aria-invalid=\"true\""
    } else {
        ""
    };
    let chosen = |v: &str| {
        if sent.iter().any(|s| s == v) {
            " checked"
        } else {
            ""
        }
    };
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
    let error_slot = format!(
        "<p class=\"sm-error\" id=\"{err_id}\">{}</p>",
        text(message.map_or("", String::as_str))
    );
    match f.kind {
        FieldType::Radio | FieldType::Checkbox if !f.options.is_empty() => {
            let kind = if f.kind == FieldType::Radio {
                "radio"
            } else {
                "checkbox"
            };
            let _ = write!(out, "<fieldset class=\"sm-field\" id=\"{fid}\" aria-describedby=\"{describedby}\"{invalid}{wrap_attrs}><legend>{}{star}</legend>", text(&f.label));
            for (i, o) in f.options.iter().enumerate() {
                let req = if kind == "radio" { required } else { "" };
                let _ = write!(
                    out,
                    "<label class=\"sm-choice\"><input type=\"{kind}\" id=\"{fid}-{i}\" name=\"{}\" value=\"{}\"{req}{}> {}</label>",
                    attr(&f.name),
                    attr(o.value()),
                    chosen(o.value()),
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
                "<div class=\"{class}\"{wrap_attrs}><input type=\"checkbox\" id=\"{fid}\" name=\"{}\" value=\"yes\"{required}{}{invalid} aria-describedby=\"{describedby}\"><label for=\"{fid}\">{}{star}</label>{hint}{error_slot}</div>",
                attr(&f.name),
                if first.is_empty() { "" } else { " checked" },
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
                " id=\"{fid}\" name=\"{}\"{required}{invalid} aria-describedby=\"{describedby}\"",
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
                    let _ = write!(out, "<textarea rows=\"4\"{a}>{}</textarea>", text(first));
                }
                FieldType::Select => {
                    let _ = write!(out, "<select{a}><option value=\"\">Choose…</option>");
                    for o in &f.options {
                        let selected = if o.value() == first { " selected" } else { "" };
                        let _ = write!(
                            out,
                            "<option value=\"{}\"{selected}>{}</option>",
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
                    if !first.is_empty() {
                        let _ = write!(a, " value=\"{}\"", attr(first));
                    }
                    let _ = write!(out, "<input type=\"{kind}\"{a}>");
                }
            }
            let _ = write!(out, "{hint}{error_slot}</div>");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::forms::{render_form, FormRender, FormSpec, Prefill};

    const SPEC: &str = r#"
fields = [
  { name = "plan", type = "radio", label = "Plan", options = ["free", "pro"] },
  { name = "topics", type = "checkbox", label = "Topics", options = ["a", "b", "c"] },
  { name = "news", type = "checkbox", label = "Newsletter" },
  { name = "terms", type = "consent", label = "I agree" },
  { name = "notes", type = "textarea", label = "Notes" },
  { name = "size", type = "select", label = "Size", options = ["s", "m"] },
  { name = "name", label = "Name" },
]
"#;

    fn refill(answers: &[(&str, &[&str])], errors: &[(&str, &str)]) -> String {
        let spec: FormSpec = toml::from_str(SPEC).unwrap();
        let prefill = Prefill {
            answers: answers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
                .collect(),
            errors: errors
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            meta: [("_page".to_owned(), "/p/\"x".to_owned())].into(),
        };
        render_form(
            &spec,
            &FormRender {
                id: "f",
                endpoint: "/api/v1/forms/f",
                experiment: None,
                variants: vec![],
                page: "",
                prefill: Some(&prefill),
            },
        )
    }

    #[test]
    fn every_kind_of_field_shows_what_was_sent() {
        let html = refill(
            &[
                ("plan", &["pro"]),
                ("topics", &["a", "c"]),
                ("news", &["yes"]),
                ("notes", &["line </textarea><b>"]),
                ("size", &["m"]),
                ("name", &["\"><script>x</script>"]),
            ],
            &[("terms", "Please tick <this>")],
        );
        assert!(html.contains("value=\"pro\" checked>"), "{html}");
        assert!(!html.contains("value=\"free\" checked"), "{html}");
        assert!(html.contains("value=\"a\" checked>") && html.contains("value=\"c\" checked>"));
        assert!(!html.contains("value=\"b\" checked"));
        assert!(html.contains("id=\"sm-f-news\" name=\"news\" value=\"yes\" checked"));
        assert!(
            html.contains(
                "id=\"sm-f-terms\" name=\"terms\" value=\"yes\" required aria-invalid=\"true\""
            ),
            "{html}"
        );
        assert!(html
            .contains("<p class=\"sm-error\" id=\"sm-f-terms-err\">Please tick &lt;this&gt;</p>"));
        assert!(
            html.contains(">line &lt;/textarea&gt;&lt;b&gt;</textarea>"),
            "{html}"
        );
        assert!(html.contains("<option value=\"m\" selected>"));
        assert!(
            html.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""),
            "{html}"
        );
        assert!(!html.contains("<script>x"));
        assert!(html.contains("name=\"_page\" value=\"/p/&quot;x\""));
        // The honeypot never carries anything back.
        assert!(html.contains("name=\"_gotcha\" tabindex=\"-1\" autocomplete=\"off\"></div>"));
    }
}
