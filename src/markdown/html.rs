//! Small HTML helpers of the Markdown pass: heading ids, the summary's extent, placeholders.

use super::fragment::PLACEHOLDER;
use super::MORE_MARKER;
use pulldown_cmark::{Event, Tag, TagEnd};
use std::collections::HashMap;

pub(super) fn unique_id(ids: &mut HashMap<String, usize>, base: String) -> String {
    let base = if base.is_empty() {
        "section".to_owned()
    } else {
        base
    };
    let n = ids.entry(base.clone()).or_insert(0);
    *n += 1;
    if *n == 1 {
        base
    } else {
        let id = format!("{base}-{}", *n - 1);
        ids.entry(id.clone()).or_insert(1);
        id
    }
}

/// Events of the summary: everything before `<!-- more -->`, else the first top-level
/// paragraph.
pub(super) fn summary_range(events: &[Event<'_>]) -> Option<std::ops::Range<usize>> {
    if let Some(i) = events.iter().position(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => h.contains(MORE_MARKER),
        _ => false,
    }) {
        return Some(0..i);
    }
    let mut depth = 0usize;
    let mut start = 0;
    for (i, e) in events.iter().enumerate() {
        match e {
            Event::Start(Tag::Paragraph) if depth == 0 => {
                start = i;
                depth = 1;
            }
            Event::Start(_) => depth += 1,
            Event::End(TagEnd::Paragraph) if depth == 1 => return Some(start..i + 1),
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

pub(super) fn fill_placeholders(html: &str, parts: &[String]) -> String {
    if parts.is_empty() {
        return html.to_owned();
    }
    // A shortcode in a link's destination (`[b]({{< relref "b.md" >}})`) comes back
    // percent-encoded.
    let decoded;
    let html = if html.contains(ENCODED) {
        decoded = decode_placeholders(html);
        decoded.as_str()
    } else {
        html
    };
    if !html.contains(PLACEHOLDER) {
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(PLACEHOLDER) {
        let after = &rest[start + PLACEHOLDER.len_utf8()..];
        let Some(end) = after.find(PLACEHOLDER) else {
            break;
        };
        let Ok(idx) = after[..end].parse::<usize>() else {
            break;
        };
        let mut head = &rest[..start];
        let mut tail = &after[end + PLACEHOLDER.len_utf8()..];
        // A placeholder alone in a paragraph: drop the <p> so block HTML is not nested in it.
        if head.ends_with("<p>") && tail.starts_with("</p>") {
            head = &head[..head.len() - 3];
            tail = &tail[4..];
        }
        out.push_str(head);
        out.push_str(parts.get(idx).map_or("", String::as_str));
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// U+FFFC, percent-encoded as in a URL.
const ENCODED: &str = "%EF%BF%BC";

/// `%EF%BF%BC12%EF%BF%BC` back to a placeholder.
fn decode_placeholders(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(ENCODED) {
        let after = &rest[start + ENCODED.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(ENCODED) {
            out.push_str(&rest[..start]);
            out.push(PLACEHOLDER);
            out.push_str(&after[..digits]);
            out.push(PLACEHOLDER);
            rest = &after[digits + ENCODED.len()..];
        } else {
            out.push_str(&rest[..start + ENCODED.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}
