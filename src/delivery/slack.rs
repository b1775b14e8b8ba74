//! `format = "slack"`: a Slack incoming-webhook message, `{"text", "blocks"}`.
//!
//! `text` is the notification line (and what clients without blocks show); the blocks list the
//! answers and the facts and link to the lead. Slack's mrkdwn needs only `&`, `<`, `>` escaped.

use super::summary::Summary;
use serde_json::{json, Value};

/// Slack's escaping of user text in mrkdwn.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack allows at most ten fields per section and 2,000 characters per field.
const MAX_FIELDS: usize = 10;
const MAX_FIELD_CHARS: usize = 1900;

fn field(label: &str, value: &str) -> Value {
    let value: String = value.chars().take(MAX_FIELD_CHARS).collect();
    json!({"type": "mrkdwn", "text": format!("*{}*\n{}", esc(label), esc(&value))})
}

/// The message body for a lead.
pub fn message(s: &Summary) -> Value {
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!("*{}*", esc(&s.headline))}
    })];
    for chunk in s.answers.chunks(MAX_FIELDS) {
        blocks.push(json!({
            "type": "section",
            "fields": chunk.iter().map(|(k, v)| field(k, v)).collect::<Vec<_>>()
        }));
    }
    for chunk in s.facts.chunks(MAX_FIELDS) {
        blocks.push(json!({
            "type": "section",
            "fields": chunk.iter().map(|(k, v)| field(k, v)).collect::<Vec<_>>()
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!("<{}|Open the lead in the dashboard>", s.link)}]
    }));
    json!({"text": s.headline, "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_escaped_blocks() {
        let s = Summary {
            who: "A".into(),
            headline: "New lead: <A&B>".into(),
            answers: (0..12).map(|i| (format!("Q{i}"), "<b>".into())).collect(),
            facts: vec![("Score".into(), "5".into())],
            link: "https://x.test/admin/leads/1".into(),
        };
        let m = message(&s);
        assert_eq!(m["text"], "New lead: <A&B>");
        let blocks = m["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["text"]["text"], "*New lead: &lt;A&amp;B&gt;*");
        // 12 answers: two sections (10 + 2), then the facts, then the link.
        assert_eq!(blocks[1]["fields"].as_array().unwrap().len(), 10);
        assert_eq!(blocks[2]["fields"].as_array().unwrap().len(), 2);
        assert_eq!(blocks[1]["fields"][0]["text"], "*Q0*\n&lt;b&gt;");
        assert!(blocks[4]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("https://x.test/admin/leads/1"));
    }
}
