//! Field labels for messages people read (e-mail, Slack): answers are shown by the label the
//! visitor saw, in the form's field order, and choices by their option label.

use crate::forms::FormSpec;
use crate::manifest::Manifest;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default)]
struct Field {
    name: String,
    label: String,
    options: HashMap<String, String>,
}

/// Labels of every form's fields.
#[derive(Clone, Debug, Default)]
pub struct Labels {
    forms: HashMap<String, Vec<Field>>,
}

impl Labels {
    /// From form specs by id.
    pub fn from_forms(forms: &BTreeMap<String, FormSpec>) -> Labels {
        let forms = forms
            .iter()
            .map(|(id, spec)| {
                let fields = spec
                    .fields
                    .iter()
                    .map(|f| Field {
                        name: f.name.clone(),
                        label: if f.label.trim().is_empty() {
                            f.name.clone()
                        } else {
                            f.label.clone()
                        },
                        options: f
                            .options
                            .iter()
                            .map(|o| (o.value().to_owned(), o.label().to_owned()))
                            .collect(),
                    })
                    .collect();
                (id.clone(), fields)
            })
            .collect();
        Labels { forms }
    }

    /// From a built site's manifest.
    pub fn from_manifest(manifest: &Manifest) -> Labels {
        Labels::from_forms(&manifest.forms)
    }

    /// `(label, shown value)` of every answer: the form's fields in order, then any answer the
    /// spec does not name (under its field name). Lists are joined with ", ".
    pub fn answers(
        &self,
        form: &str,
        answers: &serde_json::Map<String, serde_json::Value>,
    ) -> Vec<(String, String)> {
        let fields = self.forms.get(form).map(Vec::as_slice).unwrap_or(&[]);
        let show = |f: Option<&Field>, v: &serde_json::Value| {
            let one = |s: &str| {
                f.and_then(|f| f.options.get(s))
                    .cloned()
                    .unwrap_or_else(|| s.to_owned())
            };
            match v {
                serde_json::Value::String(s) => one(s),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        serde_json::Value::String(s) => one(s),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            }
        };
        let mut out: Vec<(String, String)> = fields
            .iter()
            .filter_map(|f| {
                answers
                    .get(&f.name)
                    .map(|v| (f.label.clone(), show(Some(f), v)))
            })
            .collect();
        out.extend(
            answers
                .iter()
                .filter(|(k, _)| !fields.iter().any(|f| &f.name == *k))
                .map(|(k, v)| (k.clone(), show(None, v))),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_by_label_in_field_order_with_option_labels() {
        let spec: FormSpec = toml::from_str(
            r#"
            [[fields]]
            name = "email"
            type = "email"
            label = "Work email"
            [[fields]]
            name = "size"
            type = "select"
            label = "Company size"
            options = [{ value = "m", label = "51-200 people" }, "1-10"]
            [[fields]]
            name = "tools"
            type = "checkbox"
            label = "Tools"
            options = ["a", "b"]
            "#,
        )
        .unwrap();
        let labels = Labels::from_forms(&BTreeMap::from([("demo".to_owned(), spec)]));
        let answers = serde_json::json!({
            "tools": ["a", "b"], "size": "m", "email": "x@y.z", "extra": 3
        });
        let got = labels.answers("demo", answers.as_object().unwrap());
        assert_eq!(
            got,
            vec![
                ("Work email".to_owned(), "x@y.z".to_owned()),
                ("Company size".to_owned(), "51-200 people".to_owned()),
                ("Tools".to_owned(), "a, b".to_owned()),
                ("extra".to_owned(), "3".to_owned()),
            ]
        );
        // An unknown form shows answers by name.
        assert_eq!(
            labels.answers("other", answers.as_object().unwrap()).len(),
            4
        );
    }
}
