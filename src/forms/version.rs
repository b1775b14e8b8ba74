//! The version of a form as shown: a hash of everything a visitor read before consenting.
//!
//! It goes with every lead as part of the consent proof, so a lead can later be matched to
//! the exact form it came from. The hash covers what is rendered (headline, submit text, and
//! each field's name, type, label, hint, placeholder, options and whether it was required):
//! changing a label or the consent text makes a new version; changing a qualification rule,
//! a limit or the success page does not. The build and the capture server compute it from the
//! same spec (the manifest holds it), so the version of a stored lead can be reproduced from
//! the `splitmark.toml` of that time.

use super::FormSpec;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Serialize)]
struct Shown<'a> {
    headline: Option<&'a str>,
    submit: &'a str,
    fields: Vec<ShownField<'a>>,
}

#[derive(Serialize)]
struct ShownField<'a> {
    name: &'a str,
    kind: super::FieldType,
    label: &'a str,
    hint: Option<&'a str>,
    placeholder: Option<&'a str>,
    required: bool,
    options: Vec<(&'a str, &'a str)>,
}

/// The form's version: the first 16 bytes of the SHA-256 of its shown spec, as 32 hex digits.
pub fn form_version(spec: &FormSpec) -> String {
    let shown = Shown {
        headline: spec.headline.as_deref(),
        submit: &spec.submit,
        fields: spec
            .fields
            .iter()
            .map(|f| ShownField {
                name: &f.name,
                kind: f.kind,
                label: &f.label,
                hint: f.hint.as_deref(),
                placeholder: f.placeholder.as_deref(),
                required: f.is_required(),
                options: f.options.iter().map(|o| (o.value(), o.label())).collect(),
            })
            .collect(),
    };
    let json = serde_json::to_vec(&shown).expect("a form spec always serialises");
    hex::encode(&Sha256::digest(&json)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::tests::demo;

    #[test]
    fn the_version_follows_what_is_shown_only() {
        let base = form_version(&demo());
        assert_eq!(base.len(), 32);
        assert_eq!(form_version(&demo()), base, "stable");
        let mut consent = demo();
        consent.fields[5].label = "You may e-mail me.".into();
        assert_ne!(
            form_version(&consent),
            base,
            "the consent text is part of it"
        );
        let mut rules = demo();
        rules.qualification = None;
        rules.retain_days = Some(3);
        rules.success_url = None;
        assert_eq!(
            form_version(&rules),
            base,
            "scoring and storage are not shown"
        );
    }
}
