//! The hidden meta fields of a submission (`_…`, `utm_…`): attribution, split off before the
//! answers are validated.

use super::Answers;

/// The hidden meta fields of a submission.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// `_experiment`
    pub experiment: Option<String>,
    /// `_variant`
    pub variant: Option<String>,
    /// `_visitor`
    pub visitor: Option<String>,
    /// `_page`
    pub page: Option<String>,
    /// `_referrer`
    pub referrer: Option<String>,
    /// `_gotcha` (the honeypot): anything here means a bot filled the form.
    pub gotcha: Option<String>,
    /// UTM parameters.
    pub utm: crate::store::Utm,
}

/// Names reserved for the hidden meta fields.
pub const META_FIELDS: &[&str] = &[
    "_form",
    "_experiment",
    "_variant",
    "_visitor",
    "_page",
    "_referrer",
    "_gotcha",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

/// Longest meta value kept; longer ones are cut (they are attribution, not answers).
const META_MAX: usize = 512;

/// Removes the meta fields (`_…`, `utm_…`) from `answers` and returns them.
pub fn split_meta(answers: &mut Answers) -> Meta {
    let mut take = |k: &str| -> Option<String> {
        let v = answers.remove(k)?.into_iter().next()?;
        let cut = cut_chars(v.trim(), META_MAX);
        // The usual short, untrimmed value keeps its buffer.
        let kept = if cut.len() == v.len() {
            v
        } else {
            cut.to_owned()
        };
        (!kept.is_empty()).then_some(kept)
    };
    let meta = Meta {
        experiment: take("_experiment"),
        variant: take("_variant"),
        visitor: take("_visitor"),
        page: take("_page"),
        referrer: take("_referrer"),
        gotcha: take("_gotcha"),
        utm: crate::store::Utm {
            source: take("utm_source"),
            medium: take("utm_medium"),
            campaign: take("utm_campaign"),
            term: take("utm_term"),
            content: take("utm_content"),
        },
    };
    answers.retain(|k, _| !k.starts_with('_'));
    meta
}

/// `s` cut to at most `max` characters, at a character boundary; a short `s` is not walked.
pub fn cut_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_is_split_off_and_cut() {
        let mut a = Answers::new();
        a.insert("email".into(), vec!["a@b.co".into()]);
        a.insert("_experiment".into(), vec!["hero".into()]);
        a.insert("utm_source".into(), vec![" news ".into()]);
        a.insert("_gotcha".into(), vec!["".into()]);
        a.insert("_page".into(), vec!["p".repeat(2000)]);
        a.insert("_referrer".into(), vec![format!(" {}", "é".repeat(600))]);
        a.insert("_unknown".into(), vec!["x".into()]);
        let m = split_meta(&mut a);
        assert_eq!(m.experiment.as_deref(), Some("hero"));
        assert_eq!(m.utm.source.as_deref(), Some("news"));
        assert_eq!(m.gotcha, None);
        assert_eq!(m.page.unwrap().len(), META_MAX);
        assert_eq!(
            m.referrer.as_deref(),
            Some("é".repeat(META_MAX).as_str()),
            "cut at a character, not a byte"
        );
        assert!(a
            .keys()
            .all(|k| !k.starts_with('_') && !k.starts_with("utm")));
    }

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut_chars("abc", 5), "abc");
        assert_eq!(cut_chars("abcdef", 3), "abc");
        assert_eq!(cut_chars("ééé", 2), "éé", "two characters, four bytes");
        assert_eq!(cut_chars("ééé", 3), "ééé");
    }
}
