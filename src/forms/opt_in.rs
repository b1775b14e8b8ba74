//! The double opt-in settings of a form, checked with the rest of its spec.

use super::{FieldType, FormSpec, DEFAULT_CONFIRM_HOURS};

/// Reads `double_opt_in`, with an error that names the setting.
pub(super) fn true_or_false<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    use serde::Deserialize;
    bool::deserialize(d)
        .map_err(|_| serde::de::Error::custom("double_opt_in must be true or false"))
}

/// The longest a confirmation link may stay valid: a year.
const MAX_CONFIRM_HOURS: u32 = 24 * 366;

impl FormSpec {
    /// Problems of `double_opt_in` and its `confirm_*` settings, one sentence each.
    pub(super) fn check_opt_in(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let extras = [
            ("confirm_within_hours", self.confirm_within_hours.is_some()),
            ("confirm_subject", self.confirm_subject.is_some()),
            ("confirm_text", self.confirm_text.is_some()),
        ];
        if !self.double_opt_in {
            for (key, set) in extras {
                if set {
                    errs.push(format!("{key} is set but double_opt_in is not true"));
                }
            }
            return errs;
        }
        match self.fields.iter().find(|f| f.kind == FieldType::Email) {
            None => errs.push(
                "double_opt_in = true needs an email field (type = \"email\"): the confirmation \
                 link is sent to it"
                    .into(),
            ),
            Some(f) if !f.is_required() => errs.push(format!(
                "double_opt_in = true needs its email field {:?} to be required = true",
                f.name
            )),
            Some(_) => {}
        }
        if let Some(h) = self.confirm_within_hours {
            if h == 0 || h > MAX_CONFIRM_HOURS {
                errs.push(format!(
                    "confirm_within_hours must be between 1 and {MAX_CONFIRM_HOURS} hours"
                ));
            }
        }
        for (key, text) in [
            ("confirm_subject", &self.confirm_subject),
            ("confirm_text", &self.confirm_text),
        ] {
            if text.as_ref().is_some_and(|t| t.trim().is_empty()) {
                errs.push(format!("{key} must not be empty"));
            }
        }
        errs
    }

    /// How long this form's confirmation links stay valid.
    pub fn confirm_within(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(
            self.confirm_within_hours.unwrap_or(DEFAULT_CONFIRM_HOURS),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::forms::parse_forms;

    fn errors(form: &str) -> Vec<String> {
        let t: toml::Table = toml::from_str(&format!("[news]\n{form}")).unwrap();
        parse_forms(&t).1
    }

    const EMAIL: &str =
        "[[news.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\nrequired = true\n";

    #[test]
    fn double_opt_in_needs_a_required_email_field() {
        assert!(errors(&format!("double_opt_in = true\n{EMAIL}")).is_empty());
        let e = errors("double_opt_in = true\n[[news.fields]]\nname = \"n\"\nlabel = \"Name\"\n");
        assert!(
            e.len() == 1 && e[0].contains("[forms.news]") && e[0].contains("email field"),
            "{e:?}"
        );
        let e = errors(&format!(
            "double_opt_in = true\n{}",
            EMAIL.replace("required = true\n", "")
        ));
        assert!(e[0].contains("required = true"), "{e:?}");
    }

    #[test]
    fn confirm_settings_are_checked() {
        let e = errors(&format!("confirm_within_hours = 5\n{EMAIL}"));
        assert!(e[0].contains("double_opt_in is not true"), "{e:?}");
        for bad in ["0", "100000"] {
            let e = errors(&format!(
                "double_opt_in = true\nconfirm_within_hours = {bad}\n{EMAIL}"
            ));
            assert!(e[0].contains("confirm_within_hours"), "{bad}: {e:?}");
        }
        let e = errors(&format!(
            "double_opt_in = true\nconfirm_subject = \" \"\n{EMAIL}"
        ));
        assert!(e[0].contains("confirm_subject must not be empty"), "{e:?}");
        let e = errors(&format!("double_opt_in = \"yes\"\n{EMAIL}"));
        assert!(
            e[0].contains("double_opt_in must be true or false"),
            "{e:?}"
        );
    }
}
