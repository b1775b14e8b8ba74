//! Server-side validation of a submission against its form spec.

use super::{FieldSpec, FieldType, FormSpec};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{OnceLock, RwLock};

/// Submitted values: field name to one or more values, as the body parsers produce them.
pub type Answers = BTreeMap<String, Vec<String>>;

/// One field's problem, with a stable code for clients and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Stable code: `required`, `too_short`, `too_long`, `invalid_email`, `invalid_url`,
    /// `invalid_tel`, `not_a_number`, `out_of_range`, `pattern`, `not_an_option`,
    /// `too_many_values`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

/// Errors by field name.
pub type FieldErrors = BTreeMap<String, FieldError>;

/// A submission that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidLead {
    /// Normalised answers: text as strings, numbers as numbers, checkbox groups as arrays,
    /// single checkboxes as booleans.
    pub answers: Map<String, Value>,
    /// The email answer, lower-cased, if the form has an email field.
    pub email: Option<String>,
    /// The consent label the visitor agreed to.
    pub consent: Option<String>,
}

fn err(code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        code,
        message: message.into(),
    }
}

fn email_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    // The WHATWG definition browsers use for type=email, plus a dot in the domain.
    RE.get_or_init(|| {
        regex::Regex::new(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$")
            .expect("email regex")
    })
}

/// A field's `pattern`, compiled once per process rather than on every submission; `None`
/// if it does not compile. The cache holds one entry per distinct pattern of the site's forms.
fn pattern_re(pattern: &str) -> Option<regex::Regex> {
    static CACHE: OnceLock<RwLock<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    if let Some(re) = cache.read().expect("pattern cache").get(pattern) {
        return re.clone();
    }
    // HTML's `pattern` matches the whole value.
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).ok();
    cache
        .write()
        .expect("pattern cache")
        .insert(pattern.to_owned(), re.clone());
    re
}

fn check_text(f: &FieldSpec, v: &str) -> Result<Value, FieldError> {
    let len = v.chars().count();
    if len > f.max_len() {
        return Err(err(
            "too_long",
            format!("Use at most {} characters.", f.max_len()),
        ));
    }
    if let Some(min) = f.min_length {
        if len < min {
            return Err(err("too_short", format!("Use at least {min} characters.")));
        }
    }
    match f.kind {
        FieldType::Email if !email_re().is_match(v) || v.len() > 254 => {
            return Err(err(
                "invalid_email",
                "Enter an email address like name@example.com.",
            ))
        }
        FieldType::Url => {
            let ok = (v.starts_with("https://") || v.starts_with("http://"))
                && v.split("://")
                    .nth(1)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
            if !ok {
                return Err(err(
                    "invalid_url",
                    "Enter a web address starting with https://.",
                ));
            }
        }
        FieldType::Tel => {
            let digits = v.chars().filter(char::is_ascii_digit).count();
            let allowed = v
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !allowed || !(5..=20).contains(&digits) {
                return Err(err(
                    "invalid_tel",
                    "Enter a phone number (digits, spaces, + - ( ) only).",
                ));
            }
        }
        FieldType::Number => {
            let n: f64 = v
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| err("not_a_number", "Enter a number."))?;
            if f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m) {
                let range = match (f.min, f.max) {
                    (Some(a), Some(b)) => format!("between {a} and {b}"),
                    (Some(a), None) => format!("at least {a}"),
                    (None, Some(b)) => format!("at most {b}"),
                    (None, None) => String::new(),
                };
                return Err(err("out_of_range", format!("Enter a number {range}.")));
            }
            return Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number));
        }
        _ => {}
    }
    if let Some(p) = &f.pattern {
        let re = pattern_re(p).ok_or_else(|| err("pattern", "This field cannot be checked."))?;
        if !re.is_match(v) {
            return Err(err("pattern", "Use the requested format."));
        }
    }
    Ok(Value::String(v.to_owned()))
}

fn check_field(f: &FieldSpec, values: &[String]) -> Result<Option<Value>, FieldError> {
    let mut filled = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty());
    // Nearly every field has one value: only several values need a list.
    match (filled.next(), filled.next()) {
        (None, _) => check_filled(f, &[]),
        (Some(one), None) => check_filled(f, &[one]),
        (Some(a), Some(b)) => {
            check_filled(f, &[a, b].into_iter().chain(filled).collect::<Vec<_>>())
        }
    }
}

/// Checks a field's non-empty, trimmed values.
fn check_filled(f: &FieldSpec, values: &[&str]) -> Result<Option<Value>, FieldError> {
    let group = f.kind == FieldType::Checkbox && !f.options.is_empty();
    if values.is_empty() {
        if f.is_required() {
            let msg = match f.kind {
                FieldType::Consent => "Please agree to continue.",
                FieldType::Select | FieldType::Radio => "Choose an option.",
                _ => "This field is required.",
            };
            return Err(err("required", msg));
        }
        return Ok(if f.kind == FieldType::Checkbox && !group {
            Some(Value::Bool(false))
        } else {
            None
        });
    }
    if !group && values.len() > 1 {
        return Err(err("too_many_values", "Send one value."));
    }
    let in_options = |v: &str| f.options.iter().any(|o| o.value() == v);
    match f.kind {
        FieldType::Select | FieldType::Radio => {
            if !in_options(values[0]) {
                return Err(err("not_an_option", "Choose one of the listed options."));
            }
            Ok(Some(Value::String(values[0].to_owned())))
        }
        FieldType::Checkbox if group => {
            if let Some(bad) = values.iter().find(|v| !in_options(v)) {
                return Err(err(
                    "not_an_option",
                    format!("{bad:?} is not one of the options."),
                ));
            }
            Ok(Some(Value::Array(
                values
                    .iter()
                    .map(|v| Value::String((*v).to_owned()))
                    .collect(),
            )))
        }
        FieldType::Checkbox | FieldType::Consent => Ok(Some(Value::Bool(true))),
        _ => check_text(f, values[0]).map(Some),
    }
}

impl FormSpec {
    /// Validates answers (meta fields already split off); unknown fields are ignored.
    pub fn validate(&self, answers: &Answers) -> Result<ValidLead, FieldErrors> {
        let mut out = Map::new();
        let mut errors = FieldErrors::new();
        let mut consent = None;
        let empty = Vec::new();
        for f in &self.fields {
            let values = answers.get(&f.name).unwrap_or(&empty);
            match check_field(f, values) {
                Ok(Some(v)) => {
                    if f.kind == FieldType::Consent {
                        consent = Some(f.label.clone());
                    }
                    out.insert(f.name.clone(), v);
                }
                Ok(None) => {}
                Err(e) => {
                    errors.insert(f.name.clone(), e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let email = self
            .email_field()
            .and_then(|f| out.get(&f.name))
            .and_then(Value::as_str)
            .map(str::to_lowercase);
        Ok(ValidLead {
            answers: out,
            email,
            consent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::demo;
    use super::*;

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        let mut a = Answers::new();
        for (k, v) in pairs {
            a.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        a
    }

    fn good() -> Answers {
        answers(&[
            ("email", "Ann@Example.COM"),
            ("company_size", "51-200"),
            ("budget", "12000"),
            ("consent", "on"),
            ("code", "ABC"),
        ])
    }

    #[test]
    fn valid_submission_is_normalised() {
        let v = demo().validate(&good()).unwrap();
        assert_eq!(v.email.as_deref(), Some("ann@example.com"));
        assert_eq!(v.answers["budget"], 12000.0);
        assert_eq!(v.answers["consent"], true);
        assert_eq!(
            v.consent.as_deref(),
            Some("You may contact me about splitmark.")
        );
    }

    #[test]
    fn several_values_are_a_list_for_a_checkbox_group_only() {
        let spec: FormSpec = toml::from_str(
            r#"
            [[fields]]
            name = "topics"
            type = "checkbox"
            label = "Topics"
            options = ["seo", "ads", "email"]
            [[fields]]
            name = "name"
            label = "Name"
            "#,
        )
        .unwrap();
        let mut a = answers(&[("topics", "seo"), ("topics", " "), ("topics", "email")]);
        a.insert("name".into(), vec!["Ann".into(), "  ".into()]);
        let v = spec.validate(&a).unwrap();
        assert_eq!(v.answers["topics"], serde_json::json!(["seo", "email"]));
        assert_eq!(v.answers["name"], "Ann", "blank extra values do not count");
        a.insert("name".into(), vec!["Ann".into(), "Bo".into()]);
        assert_eq!(
            spec.validate(&a).unwrap_err()["name"].code,
            "too_many_values"
        );
        a.insert("topics".into(), vec!["seo".into(), "tv".into()]);
        assert_eq!(
            spec.validate(&a).unwrap_err()["topics"].code,
            "not_an_option"
        );
    }

    #[test]
    fn patterns_are_kept_apart_and_a_broken_one_refuses() {
        for (pattern, good, bad) in [("[A-Z]+", "ABC", "123"), ("[0-9]+", "123", "ABC")] {
            for _ in 0..2 {
                assert!(pattern_re(pattern).unwrap().is_match(good), "{pattern}");
                assert!(!pattern_re(pattern).unwrap().is_match(bad), "{pattern}");
            }
        }
        assert!(pattern_re("[A-Z").is_none());
        assert!(
            pattern_re("[A-Z").is_none(),
            "a broken pattern stays refused"
        );
    }

    #[test]
    fn each_rule_has_its_code() {
        let cases: &[(&str, &str, &str)] = &[
            ("email", "not-an-email", "invalid_email"),
            ("email", "a@b", "invalid_email"),
            ("company_size", "12", "not_an_option"),
            ("budget", "lots", "not_a_number"),
            ("budget", "-5", "out_of_range"),
            ("budget", "NaN", "not_a_number"),
            ("code", "abc", "pattern"),
            ("name", &"x".repeat(21), "too_long"),
        ];
        for (field, value, code) in cases {
            let mut a = good();
            a.insert((*field).to_owned(), vec![(*value).to_owned()]);
            let e = demo().validate(&a).unwrap_err();
            assert_eq!(e[*field].code, *code, "{field}={value}");
        }
    }

    #[test]
    fn missing_required_and_consent() {
        let e = demo().validate(&answers(&[("budget", "3")])).unwrap_err();
        assert_eq!(e["email"].code, "required");
        assert_eq!(e["company_size"].code, "required");
        assert_eq!(e["consent"].code, "required");
        assert!(!e.contains_key("budget"));
    }
}
