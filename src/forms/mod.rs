//! Lead-capture forms: one spec, two enforcements.
//!
//! A form is declared once in `splitmark.toml` under `[forms.<id>]`. The build renders it as
//! accessible HTML with HTML5 validation attributes derived from the spec; the capture server
//! validates submissions against the same spec and scores them for qualification. Pure: no I/O.
//!
//! ```toml
//! [forms.demo]
//! headline = "Book a demo"
//! submit = "Book my demo"
//! success_message = "Thanks! We will reply within one business day."  # or success_url = "/thanks/"
//!
//! [[forms.demo.fields]]
//! name = "email"
//! type = "email"
//! label = "Work email"
//! required = true
//!
//! [[forms.demo.fields]]
//! name = "company_size"
//! type = "select"
//! label = "Company size"
//! options = ["1-10", "11-50", "51-200", "201+"]
//!
//! [forms.demo.qualification]
//! threshold = 50
//! rules = [
//!   { field = "company_size", points = { "51-200" = 30, "201+" = 50 } },
//!   { field = "budget", ranges = [{ min = 10000, points = 40 }] },
//! ]
//! ```

mod fields;
mod meta;
mod opt_in;
mod render;
mod score;
mod validate;
mod version;

pub use meta::{cut_chars, split_meta, Meta, META_FIELDS};
pub use render::{apply_texts, render_form, FormRender, FormTexts, Prefill};
pub use score::Score;
pub use validate::{Answers, FieldError, FieldErrors, ValidLead};
pub use version::form_version;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field types a form can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    Text,
    /// An email address.
    Email,
    /// A phone number.
    Tel,
    /// A URL.
    Url,
    /// A number (`min`/`max` bound it).
    Number,
    /// Several lines of text.
    Textarea,
    /// One choice from a drop-down.
    Select,
    /// One choice from radio buttons.
    Radio,
    /// A checkbox; with `options`, a group of checkboxes.
    Checkbox,
    /// A hidden value.
    Hidden,
    /// A required checkbox whose label is stored with the lead as proof of consent.
    Consent,
}

/// An option of a select, radio or checkbox group: `"value"` or `{value, label}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldOption {
    /// Value and label are the same.
    Plain(String),
    /// A value with its own label.
    Labeled {
        /// Submitted value.
        value: String,
        /// Shown text.
        label: String,
    },
}

impl FieldOption {
    /// The submitted value.
    pub fn value(&self) -> &str {
        match self {
            FieldOption::Plain(v) | FieldOption::Labeled { value: v, .. } => v,
        }
    }
    /// The shown label.
    pub fn label(&self) -> &str {
        match self {
            FieldOption::Plain(v) => v,
            FieldOption::Labeled { label, .. } => label,
        }
    }
}

/// One field of a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Name submitted with the value (letters, digits, `_`, `-`; not starting with `_`).
    pub name: String,
    /// Field type.
    #[serde(rename = "type", default = "default_type")]
    pub kind: FieldType,
    /// Label text (required except for hidden fields).
    #[serde(default)]
    pub label: String,
    /// Placeholder text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// A hint shown under the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Must be filled (consent fields always are).
    #[serde(default)]
    pub required: bool,
    /// Minimum length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// Maximum length in characters (default 1,000; 5,000 for textareas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Smallest number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Regular expression the whole value must match (HTML `pattern` semantics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Choices of select, radio and checkbox groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
    /// Value of a hidden field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Shown only when a variant lists it in `form.fields` (or when no variant says).
    #[serde(default)]
    pub optional_in_variants: bool,
}

fn default_type() -> FieldType {
    FieldType::Text
}

impl FieldSpec {
    /// The effective maximum length.
    pub fn max_len(&self) -> usize {
        self.max_length
            .unwrap_or(if self.kind == FieldType::Textarea {
                5000
            } else {
                1000
            })
    }
    /// Whether a value is required.
    pub fn is_required(&self) -> bool {
        self.required || self.kind == FieldType::Consent
    }
}

/// Points for one field's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Field name.
    pub field: String,
    /// Points per option value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub points: BTreeMap<String, i64>,
    /// Points per numeric range (first match wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<RangeRule>,
}

/// Points for a number in `[min, max]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeRule {
    /// Inclusive lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Inclusive upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Points awarded.
    pub points: i64,
}

/// How a lead is scored and when it counts as qualified.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    /// A lead with at least this many points is qualified.
    pub threshold: i64,
    /// Scoring rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A capture form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSpec {
    /// Heading above the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    /// Submit button text.
    #[serde(default = "default_submit")]
    pub submit: String,
    /// Where a plain (no-JavaScript) post is redirected on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Message shown on success.
    #[serde(default = "default_success")]
    pub success_message: String,
    /// Fields in order.
    pub fields: Vec<FieldSpec>,
    /// Lead scoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<Qualification>,
    /// Days this form's leads are kept; overrides `[capture] retention_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_days: Option<u32>,
    /// Double opt-in: the lead confirms its address through a link before it is delivered.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "opt_in::true_or_false"
    )]
    pub double_opt_in: bool,
    /// Hours the confirmation link stays valid (default [`DEFAULT_CONFIRM_HOURS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_within_hours: Option<u32>,
    /// Subject of the confirmation e-mail, instead of the built-in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_subject: Option<String>,
    /// Text of the confirmation e-mail above the link, instead of the built-in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_text: Option<String>,
}

/// Hours a confirmation link stays valid unless `confirm_within_hours` says otherwise.
pub const DEFAULT_CONFIRM_HOURS: u32 = 72;

fn default_submit() -> String {
    "Send".into()
}
fn default_success() -> String {
    "Thank you! We will be in touch shortly.".into()
}

/// Form ids and field names: letters, digits, `_` and `-`.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl FormSpec {
    /// Checks the spec; every problem is one sentence naming the field.
    pub fn check(&self, id: &str) -> Vec<String> {
        let mut errs = Vec::new();
        if !valid_name(id) {
            errs.push(format!(
                "form id {id:?} may only use letters, digits, _ and -"
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.fields {
            let n = &f.name;
            if !valid_name(n) || n.starts_with('_') || META_FIELDS.contains(&n.as_str()) {
                errs.push(format!("field name {n:?} must use letters, digits, _ and -, and not start with _ or be a UTM name"));
            }
            if !seen.insert(n.clone()) {
                errs.push(format!("field {n:?} appears twice"));
            }
            if f.kind != FieldType::Hidden && f.label.trim().is_empty() {
                errs.push(format!(
                    "field {n:?} needs a label (labels are what screen readers announce)"
                ));
            }
            if matches!(f.kind, FieldType::Select | FieldType::Radio) && f.options.is_empty() {
                errs.push(format!("field {n:?} is a {:?} without options", f.kind));
            }
            if let Some(p) = &f.pattern {
                if let Err(e) = regex::Regex::new(&format!("^(?:{p})$")) {
                    errs.push(format!("field {n:?} has an invalid pattern: {e}"));
                }
            }
            if let (Some(a), Some(b)) = (f.min_length, f.max_length) {
                if a > b {
                    errs.push(format!("field {n:?}: min_length is above max_length"));
                }
            }
        }
        if self.retain_days == Some(0) {
            errs.push("retain_days must be a positive number of days".into());
        }
        errs.extend(self.check_opt_in());
        if let Some(q) = &self.qualification {
            for r in &q.rules {
                if !self.fields.iter().any(|f| f.name == r.field) {
                    errs.push(format!(
                        "qualification rule names unknown field {:?}",
                        r.field
                    ));
                }
            }
        }
        errs
    }

    /// The field holding the lead's email address, if any.
    pub fn email_field(&self) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.kind == FieldType::Email)
    }
}

/// Parses and checks every `[forms.<id>]` table: the forms that parsed, and every problem.
pub fn parse_forms(table: &toml::Table) -> (BTreeMap<String, FormSpec>, Vec<String>) {
    let mut forms = BTreeMap::new();
    let mut errs = Vec::new();
    for (id, value) in table {
        match value.clone().try_into::<FormSpec>() {
            Ok(spec) => {
                errs.extend(
                    spec.check(id)
                        .into_iter()
                        .map(|e| format!("[forms.{id}]: {e}")),
                );
                forms.insert(id.clone(), spec);
            }
            Err(e) => errs.push(format!("[forms.{id}]: {}", e.message())),
        }
    }
    (forms, errs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const DEMO: &str = r#"
headline = "Book a demo"
submit = "Book my demo"
success_url = "/thanks/"

[[fields]]
name = "email"
type = "email"
label = "Work email"
required = true

[[fields]]
name = "name"
label = "Your name"
max_length = 20

[[fields]]
name = "company_size"
type = "select"
label = "Company size"
options = ["1-10", "11-50", "51-200", "201+"]
required = true

[[fields]]
name = "budget"
type = "number"
label = "Budget"
min = 0
max = 1000000

[[fields]]
name = "code"
label = "Code"
pattern = "[A-Z]{3}"

[[fields]]
name = "consent"
type = "consent"
label = "You may contact me about splitmark."

[qualification]
threshold = 50
rules = [
  { field = "company_size", points = { "51-200" = 30, "201+" = 50 } },
  { field = "budget", ranges = [{ min = 10000, points = 40 }, { min = 1000, max = 9999, points = 10 }] },
]
"#;

    pub(crate) fn demo() -> FormSpec {
        toml::from_str(DEMO).unwrap()
    }

    #[test]
    fn demo_spec_is_valid() {
        assert!(
            demo().check("demo").is_empty(),
            "{:?}",
            demo().check("demo")
        );
    }

    #[test]
    fn spec_errors_name_the_field() {
        let mut s = demo();
        s.fields[1].label.clear();
        s.fields[4].pattern = Some("(".into());
        s.fields.push(s.fields[0].clone());
        let errs = s.check("demo");
        assert!(
            errs.iter().any(|e| e.contains("\"name\" needs a label")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("\"code\" has an invalid pattern")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("\"email\" appears twice")),
            "{errs:?}"
        );
    }

    #[test]
    fn retain_days_is_a_positive_whole_number() {
        let parse = |v: &str| {
            let t: toml::Table =
                toml::from_str(&format!("[demo]\nfields = []\nretain_days = {v}\n")).unwrap();
            parse_forms(&t)
        };
        let (forms, errs) = parse("30");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(forms["demo"].retain_days, Some(30));
        for bad in ["0", "-3", "1.5", "\"30\""] {
            let errs = parse(bad).1;
            assert!(
                errs.len() == 1 && errs[0].contains("[forms.demo]"),
                "{bad}: {errs:?}"
            );
        }
    }

    #[test]
    fn parse_forms_reports_unknown_keys() {
        let t: toml::Table = toml::from_str("[demo]\nfields = []\nsubmitt = \"x\"\n").unwrap();
        let e = parse_forms(&t).1;
        assert!(
            e[0].contains("[forms.demo]") && e[0].contains("submitt"),
            "{e:?}"
        );
    }
}
