//! The e-mail to the sales inbox: a plain-text and an HTML part with every answer by label,
//! the score, source and variant, and the dashboard link; `Reply-To:` the lead, so answering
//! the mail answers the lead.

use super::summary::{one_line, Summary};
use super::targets::Email;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// The plain-text part.
pub fn text_body(s: &Summary) -> String {
    let mut out = format!("{}\n\n", s.headline);
    for (label, value) in &s.answers {
        out.push_str(&format!("{label}: {value}\n"));
    }
    out.push('\n');
    for (what, value) in &s.facts {
        out.push_str(&format!("{what}: {value}\n"));
    }
    out.push_str(&format!("\nOpen the lead: {}\n", s.link));
    out
}

/// The HTML part (every user text escaped).
pub fn html_body(s: &Summary) -> String {
    let e = |t: &str| html_escape::encode_text(t).into_owned();
    let rows = |list: &[(String, String)]| {
        list.iter()
            .map(|(k, v)| {
                format!(
                    "<tr><th align=\"left\" valign=\"top\">{}</th><td>{}</td></tr>",
                    e(k),
                    e(v).replace('\n', "<br>")
                )
            })
            .collect::<String>()
    };
    format!(
        "<!doctype html><html><body><h1 style=\"font-size:18px\">{}</h1>\
         <table cellpadding=\"4\">{}</table><hr><table cellpadding=\"4\">{}</table>\
         <p><a href=\"{}\">Open the lead in the dashboard</a></p></body></html>",
        e(&s.headline),
        rows(&s.answers),
        rows(&s.facts),
        html_escape::encode_double_quoted_attribute(&s.link)
    )
}

/// The message for one event: `msg_id` becomes the `Message-ID`, so a retried mail is
/// recognisably the same one. `reply_to` is the lead's address, when it parses.
pub fn compose(
    target: &Email,
    msg_id: &str,
    s: &Summary,
    reply_to: Option<&str>,
) -> Result<Message, String> {
    let domain = target.from.email.domain().to_owned();
    let mut builder = Message::builder()
        .from(target.from.clone())
        .subject(one_line(&s.headline))
        .message_id(Some(format!("<{msg_id}@{domain}>")));
    for to in &target.to {
        builder = builder.to(to.clone());
    }
    if let Some(addr) = reply_to.and_then(|a| a.parse::<lettre::Address>().ok()) {
        let name = (s.who != addr.to_string()).then(|| one_line(&s.who));
        builder = builder.reply_to(Mailbox::new(name, addr));
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text_body(s)),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html_body(s)),
                ),
        )
        .map_err(|e| format!("cannot build the e-mail: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::smtp::SmtpUrl;
    use crate::delivery::targets::Filter;

    fn summary() -> Summary {
        Summary {
            who: "Ada <script>".into(),
            headline: "New lead (qualified): Ada <script> (demo, score 70)".into(),
            answers: vec![("Work email".into(), "ada@example.com".into())],
            facts: vec![("Score".into(), "70".into())],
            link: "https://x.test/admin/leads/1?a=1&b=2".into(),
        }
    }

    #[test]
    fn both_parts_escape_and_reply_to_is_the_lead() {
        let target = Email {
            smtp: SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap(),
            from: "Leads <leads@example.com>".parse().unwrap(),
            to: vec!["sales@example.com".parse().unwrap()],
            filter: Filter {
                events: vec![],
                forms: None,
            },
        };
        let m = compose(
            &target,
            "msg_1_created",
            &summary(),
            Some("ada@example.com"),
        )
        .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        let reply_to = raw
            .lines()
            .find(|l| l.starts_with("Reply-To: "))
            .unwrap_or_default();
        assert!(reply_to.ends_with(" <ada@example.com>"), "{raw}");
        assert!(
            raw.contains("Message-ID: <msg_1_created@example.com>"),
            "{raw}"
        );
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        let html = html_body(&summary());
        assert!(html.contains("Ada &lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("href=\"https://x.test/admin/leads/1?a=1&amp;b=2\""));
        // No valid lead address: no Reply-To.
        let m = compose(&target, "msg_2", &summary(), Some("not an address")).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(!raw.contains("Reply-To"), "{raw}");
    }
}
