//! `check`'s accessibility and SEO lints on the Markdown source: headings that skip a level,
//! images without alt text, and `http://` links to the site's own host. Each warning names the
//! file and the line in it.
//!
//! The lints read the source rather than the rendered HTML so that they can point at the line
//! an author edits. A page's title is its `<h1>` in every default template, so the body's
//! headings are judged as if an `h1` came first.

use crate::config::Config;
use crate::content::Document;
use crate::diagnostics::Diagnostic;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use regex::Regex;
use std::sync::LazyLock;

static IMG_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<img\b[^>]*>").expect("regex"));
static ALT_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?is)\salt\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#).expect("regex"));
static SRC_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?is)\ssrc\s*=\s*["']?([^"'\s>]+)"#).expect("regex"));
static URL_ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)\s(?:href|src)\s*=\s*["']?(http://[^"'\s>]+)"#).expect("regex")
});

/// The host of `base_url` without `www.`, lowercased (`https://www.x.test/a` -> `x.test`).
fn site_host(base_url: &str) -> Option<String> {
    let rest = base_url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?.to_ascii_lowercase();
    Some(host.strip_prefix("www.").unwrap_or(&host).to_owned())
}

/// True when `url` is `http://` on the site's own host (with or without `www.`).
fn insecure_self_link(url: &str, host: &str) -> bool {
    let Some(rest) = url
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])
    else {
        return false;
    };
    site_host(&format!("http://{rest}")).is_some_and(|h| h == host)
}

/// Every lint warning of one document (a page or a section).
pub fn lint_document(config: &Config, doc: &Document) -> Vec<Diagnostic> {
    let host = site_host(&config.base_url).unwrap_or_default();
    let body = &*doc.body;
    let mut out = Vec::new();
    let at = |offset: usize, msg: String| -> Diagnostic {
        let (line, col) = crate::diagnostics::line_col(body, offset);
        let snippet = body.lines().nth(line - 1).map(str::to_owned);
        Diagnostic {
            file: doc.file.clone(),
            line: line + doc.body_line - 1,
            col,
            message: msg,
            snippet,
        }
    };
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_FOOTNOTES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_HEADING_ATTRIBUTES);
    let mut previous = 1;
    // (offset, src, alt so far) of the image being read.
    let mut image: Option<(usize, String, String)> = None;
    for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
        if let Some((_, _, alt)) = image.as_mut() {
            match &event {
                Event::Text(t) | Event::Code(t) => {
                    alt.push_str(t);
                    continue;
                }
                Event::End(TagEnd::Image) => {}
                _ => continue,
            }
        }
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                let n = heading_number(level);
                if n > previous + 1 {
                    out.push(at(
                        range.start,
                        format!(
                            "heading skips a level: h{previous} is followed by h{n} (use h{})",
                            previous + 1
                        ),
                    ));
                }
                previous = n;
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                if insecure_self_link(&dest_url, &host) {
                    out.push(at(range.start, insecure_message(&dest_url)));
                }
                image = Some((range.start, dest_url.into_string(), String::new()));
            }
            Event::End(TagEnd::Image) => {
                if let Some((offset, src, alt)) = image.take() {
                    if alt.trim().is_empty() {
                        out.push(at(offset, format!("image {src} has no alt text")));
                    }
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) if insecure_self_link(&dest_url, &host) => {
                out.push(at(range.start, insecure_message(&dest_url)));
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                lint_html(&html, range.start, &host, &mut |o, m| out.push(at(o, m)));
            }
            _ => {}
        }
    }
    out
}

fn insecure_message(url: &str) -> String {
    format!("link to {url} uses http:// for this site's own host: use a site path or https://")
}

/// Raw HTML in Markdown: `<img>` without `alt`, and `http://` self links.
fn lint_html(html: &str, base: usize, host: &str, push: &mut dyn FnMut(usize, String)) {
    for tag in IMG_TAG.find_iter(html) {
        let alt = ALT_ATTR
            .captures(tag.as_str())
            .map(|c| c[1].trim_matches(['"', '\'']).trim().to_owned());
        if alt.is_none_or(|a| a.is_empty()) {
            let src = SRC_ATTR
                .captures(tag.as_str())
                .map(|c| c[1].to_owned())
                .unwrap_or_default();
            push(base + tag.start(), format!("image {src} has no alt text"));
        }
    }
    for c in URL_ATTR.captures_iter(html) {
        let m = c.get(1).expect("group 1");
        if insecure_self_link(m.as_str(), host) {
            push(base + m.start(), insecure_message(m.as_str()));
        }
    }
}

fn heading_number(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_host_and_insecure_links() {
        assert_eq!(
            site_host("https://www.X.test/blog").as_deref(),
            Some("x.test")
        );
        assert!(insecure_self_link("http://x.test/a/", "x.test"));
        assert!(insecure_self_link("HTTP://www.x.test", "x.test"));
        assert!(insecure_self_link("http://x.test:80/", "x.test"));
        assert!(!insecure_self_link("https://x.test/a/", "x.test"));
        assert!(!insecure_self_link("http://x.test.evil/", "x.test"));
        assert!(!insecure_self_link("http://other.test/", "x.test"));
        assert!(!insecure_self_link("/a/", "x.test"));
    }
}
