//! The confirmation e-mail: to the lead's own address, a plain-text and an HTML part in the
//! site's language, with the link, how long it is valid, and what happens without a click.

use super::{OptIn, Request};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// The plain-text part.
pub fn text_body(o: &OptIn, r: &Request, link: &str) -> String {
    let t = o.texts();
    let until = r.expires.format("%Y-%m-%d %H:%M UTC").to_string();
    format!(
        "{}\n\n{link}\n\n{}\n\n{}\n",
        r.text,
        super::texts::fill(t.valid_until, "", "", &until),
        t.ignore
    )
}

/// The HTML part (every text escaped).
pub fn html_body(o: &OptIn, r: &Request, link: &str) -> String {
    let t = o.texts();
    let e = |s: &str| html_escape::encode_text(s).into_owned();
    let until = r.expires.format("%Y-%m-%d %H:%M UTC").to_string();
    format!(
        "<!doctype html><html lang=\"{lang}\"><body><p>{text}</p>\
         <p><a href=\"{href}\">{button}</a></p><p style=\"font-size:13px\">{href_text}</p>\
         <p>{valid}</p><p>{ignore}</p></body></html>",
        lang = html_escape::encode_double_quoted_attribute(o.language()),
        text = e(&r.text).replace('\n', "<br>"),
        href = html_escape::encode_double_quoted_attribute(link),
        button = e(t.button),
        href_text = e(link),
        valid = e(&super::texts::fill(t.valid_until, "", "", &until)),
        ignore = e(t.ignore),
    )
}

/// The message; `message_id` (the row's event id) becomes the `Message-ID`, so a retried
/// mail is recognisably the same one.
pub fn compose(o: &OptIn, message_id: &str, r: &Request, link: &str) -> Result<Message, String> {
    let to: Mailbox = r
        .email
        .parse()
        .map_err(|e| format!("the lead's address {:?} is not usable: {e}", r.email))?;
    let domain = o.from.email.domain().to_owned();
    Message::builder()
        .from(o.from.clone())
        .to(to)
        .subject(super::super::summary::one_line(&r.subject))
        .message_id(Some(format!("<{message_id}@{domain}>")))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text_body(o, r, link)),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html_body(o, r, link)),
                ),
        )
        .map_err(|e| format!("cannot build the confirmation e-mail: {e}"))
}
