//! The lead as people read it, shared by the e-mail and the Slack message: who, whether it
//! qualified, the answers by label, where it came from, and the link to the dashboard.

use super::event::{EventKind, LeadPayload};
use super::labels::Labels;

/// A lead summarised for a person.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The lead's name, else e-mail, else "a visitor".
    pub who: String,
    /// One line: `New lead (qualified): Ada Lovelace (demo, score 70)`.
    pub headline: String,
    /// `(label, value)` of every answer.
    pub answers: Vec<(String, String)>,
    /// `(what, value)` of score, source, UTM, referrer, page, experiment/variant.
    pub facts: Vec<(String, String)>,
    /// The lead in the dashboard.
    pub link: String,
}

/// Removes line breaks and other control characters (headers, one-line texts).
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The lead's name from the usual field names.
fn name_of(p: &LeadPayload) -> Option<String> {
    let get = |k: &str| {
        p.answers
            .get(k)
            .and_then(|v| v.as_str())
            .map(one_line)
            .filter(|s| !s.is_empty())
    };
    get("name")
        .or_else(|| get("full_name"))
        .or_else(|| get("fullname"))
        .or_else(|| match (get("first_name"), get("last_name")) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (f, l) => f.or(l),
        })
}

impl Summary {
    /// Summarises `p` for the `kind` event; `link` is the lead's dashboard URL.
    pub fn new(p: &LeadPayload, kind: EventKind, labels: &Labels, link: String) -> Summary {
        let name = name_of(p);
        let who = name
            .clone()
            .or_else(|| p.email.clone())
            .unwrap_or_else(|| "a visitor".into());
        let state = match (kind, p.qualified) {
            (EventKind::LeadQualified, _) => "Qualified lead",
            (_, true) => "New lead (qualified)",
            (_, false) => "New lead (not qualified)",
        };
        let headline = one_line(&format!("{state}: {who} ({}, score {})", p.form, p.score));
        let mut facts = vec![
            ("Score".to_owned(), p.score.to_string()),
            (
                "Qualified".to_owned(),
                if p.qualified { "yes" } else { "no" }.to_owned(),
            ),
        ];
        let utm = [
            ("Source", &p.utm_source),
            ("Medium", &p.utm_medium),
            ("Campaign", &p.utm_campaign),
            ("Term", &p.utm_term),
            ("Content", &p.utm_content),
            ("Referrer", &p.referrer),
            ("Page", &p.page),
        ];
        facts.extend(
            utm.into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.clone()))),
        );
        match (&p.experiment, &p.variant) {
            (Some(e), Some(v)) => facts.push(("Variant".into(), format!("{v} ({e})"))),
            (None, Some(v)) => facts.push(("Variant".into(), v.clone())),
            _ => {}
        }
        facts.push((
            "Received".into(),
            p.received_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        ));
        Summary {
            who,
            headline,
            answers: labels.answers(&p.form, &p.answers),
            facts,
            link,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_headlines() {
        let mut p: LeadPayload = serde_json::from_value(serde_json::json!({
            "id": "1", "form": "demo", "answers": {"first_name": "Ada", "last_name": "Lovelace\n"},
            "email": "ada@example.com", "score": 70, "qualified": true, "experiment": "hero",
            "variant": "b", "page": "/", "referrer": null, "utm_source": "news",
            "utm_medium": null, "utm_campaign": null, "utm_term": null, "utm_content": null,
            "received_at": "2026-03-01T10:00:00Z"
        }))
        .unwrap();
        let s = Summary::new(&p, EventKind::LeadCreated, &Labels::default(), "L".into());
        assert_eq!(s.who, "Ada Lovelace");
        assert_eq!(
            s.headline,
            "New lead (qualified): Ada Lovelace (demo, score 70)"
        );
        assert!(s.facts.contains(&("Source".into(), "news".into())));
        assert!(s.facts.contains(&("Variant".into(), "b (hero)".into())));
        p.answers.clear();
        p.qualified = false;
        let s = Summary::new(&p, EventKind::LeadCreated, &Labels::default(), "L".into());
        assert_eq!(s.who, "ada@example.com");
        assert!(s.headline.starts_with("New lead (not qualified)"));
    }
}
