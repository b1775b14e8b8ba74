//! Markdown to HTML: CommonMark (pulldown-cmark) plus heading ids, a table of contents,
//! summaries, word counts, internal `@/` links and shortcodes.
//!
//! This module knows nothing of templates: shortcodes are rendered through the
//! [`ShortcodeHandler`] the caller passes in.

pub mod shortcodes;
mod toc;

pub use toc::TocEntry;

use crate::diagnostics::Diagnostic;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// Marker that ends a page's summary.
pub const MORE_MARKER: &str = "<!-- more -->";
/// Reading speed used for `reading_time`.
const WORDS_PER_MINUTE: usize = 200;
/// Brackets a placeholder index; U+FFFC survives CommonMark untouched.
const PLACEHOLDER: char = '\u{fffc}';

/// A Markdown body rendered to HTML.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rendered {
    /// The full HTML.
    pub html: String,
    /// HTML before `<!-- more -->`, else the first paragraph.
    pub summary: Option<String>,
    /// Table of contents (nested by level).
    pub toc: Vec<TocEntry>,
    /// Words of text (code included).
    pub word_count: usize,
    /// Minutes at 200 words a minute, at least 1.
    pub reading_time: usize,
}

/// A shortcode call as the handler sees it.
#[derive(Debug)]
pub struct ShortcodeCall<'a> {
    /// Shortcode name.
    pub name: &'a str,
    /// Keyword arguments.
    pub args: &'a Map<String, Value>,
    /// Rendered HTML body of a block shortcode.
    pub body: Option<&'a str>,
    /// Site path of the page being rendered.
    pub page_path: &'a str,
}

/// Renders shortcodes for the Markdown layer.
pub trait ShortcodeHandler: Sync {
    /// HTML for `call`, or an error sentence (unknown shortcode, bad arguments).
    fn render(&self, call: &ShortcodeCall<'_>) -> Result<String, String>;
}

/// Rewrites an image: given its source, alt text and title, returns replacement HTML.
pub type ImageHook<'a> = &'a (dyn Fn(&ImageRef<'_>) -> Option<String> + Sync);

/// An image found in Markdown.
#[derive(Debug)]
pub struct ImageRef<'a> {
    /// `src` as written.
    pub src: &'a str,
    /// Alt text.
    pub alt: &'a str,
    /// Title, if any.
    pub title: &'a str,
    /// Index of the image in the page (0 for the first).
    pub index: usize,
}

/// Everything rendering needs besides the text.
pub struct MarkdownContext<'a> {
    /// Source file (for errors).
    pub file: &'a Path,
    /// Line of the body's first line in the file.
    pub body_line: usize,
    /// Site path of the page.
    pub page_path: &'a str,
    /// Resolves `@/blog/hello.md` (without `@/`) to a site path.
    pub resolve: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// Renders shortcodes.
    pub shortcodes: &'a dyn ShortcodeHandler,
    /// Optional image rewriting (responsive images).
    pub image_hook: Option<ImageHook<'a>>,
}

/// Renders a Markdown body; errors carry file and line.
pub fn render(body: &str, ctx: &MarkdownContext<'_>) -> Result<Rendered, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut ids = HashMap::new();
    let mut toc_flat = Vec::new();
    let mut words = 0;
    let out = render_fragment(
        body,
        0,
        body,
        ctx,
        &mut ids,
        &mut toc_flat,
        &mut words,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    let (html, summary) = out;
    Ok(Rendered {
        html,
        summary,
        toc: toc::build(toc_flat),
        word_count: words,
        reading_time: words.div_ceil(WORDS_PER_MINUTE).max(1),
    })
}

fn diag(ctx: &MarkdownContext<'_>, full: &str, offset: usize, msg: String) -> Diagnostic {
    let (line, col) = crate::diagnostics::line_col(full, offset);
    let mut d = Diagnostic::at(ctx.file, full, line, col, msg);
    d.line = ctx.body_line + line - 1;
    d
}

#[allow(clippy::too_many_arguments)]
fn render_fragment(
    text: &str,
    base: usize,
    full: &str,
    ctx: &MarkdownContext<'_>,
    ids: &mut HashMap<String, usize>,
    toc_flat: &mut Vec<(u8, String, String)>,
    words: &mut usize,
    errors: &mut Vec<Diagnostic>,
) -> (String, Option<String>) {
    let pieces = match shortcodes::scan(text) {
        Ok(p) => p,
        Err(e) => {
            errors.push(diag(ctx, full, base + e.offset, e.message));
            return (String::new(), None);
        }
    };
    // Substitute placeholders, remembering where each piece came from for error positions.
    let mut md = String::with_capacity(text.len());
    let mut map: Vec<(usize, usize)> = Vec::new();
    let mut html_parts: Vec<String> = Vec::new();
    let mut orig = 0;
    for piece in pieces {
        match piece {
            shortcodes::Piece::Text(t) => {
                map.push((md.len(), base + orig));
                orig += t.len();
                md.push_str(&t);
            }
            shortcodes::Piece::Call(call) => {
                let body_html = call.body.as_ref().map(|b| {
                    render_fragment(
                        b,
                        base + call.body_offset,
                        full,
                        ctx,
                        ids,
                        toc_flat,
                        words,
                        errors,
                    )
                    .0
                });
                let sc = ShortcodeCall {
                    name: &call.name,
                    args: &call.args,
                    body: body_html.as_deref(),
                    page_path: ctx.page_path,
                };
                match ctx.shortcodes.render(&sc) {
                    Ok(html) => html_parts.push(html),
                    Err(msg) => {
                        errors.push(diag(
                            ctx,
                            full,
                            base + call.offset,
                            format!("shortcode `{}`: {msg}", call.name),
                        ));
                        html_parts.push(String::new());
                    }
                }
                // A block shortcode is a paragraph of its own (unwrapped after rendering), so two
                // blocks on consecutive lines never share a <p>.
                let block = call.body.is_some();
                if block {
                    md.push_str("\n\n");
                }
                md.push(PLACEHOLDER);
                md.push_str(&(html_parts.len() - 1).to_string());
                md.push(PLACEHOLDER);
                if block {
                    md.push_str("\n\n");
                }
                orig = call.end;
            }
        }
    }
    let to_orig = |off: usize| -> usize {
        let i = map.partition_point(|(m, _)| *m <= off);
        match i.checked_sub(1).map(|k| map[k]) {
            Some((m, o)) => o + (off - m),
            None => base,
        }
    };
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_FOOTNOTES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_HEADING_ATTRIBUTES);
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut heading: Option<(usize, HeadingLevel, Option<CowStr<'_>>)> = None;
    let mut heading_text = String::new();
    let mut image_index = 0;
    let mut in_image: Option<(usize, CowStr<'_>, CowStr<'_>, String)> = None;
    for (event, range) in Parser::new_ext(&md, opts).into_offset_iter() {
        if let Some((_, _, _, alt)) = in_image.as_mut() {
            match &event {
                Event::End(TagEnd::Image) => {
                    let (start, src, title, alt) = in_image.take().expect("in image");
                    let img = ImageRef {
                        src: &src,
                        alt: &alt,
                        title: &title,
                        index: image_index,
                    };
                    image_index += 1;
                    let replaced = ctx.image_hook.and_then(|h| h(&img));
                    match replaced {
                        Some(html) => events.push(Event::InlineHtml(html.into())),
                        None => {
                            let loading = if img.index == 0 {
                                ""
                            } else {
                                " loading=\"lazy\""
                            };
                            let title_attr = if title.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    " title=\"{}\"",
                                    html_escape::encode_double_quoted_attribute(&title)
                                )
                            };
                            events.push(Event::InlineHtml(
                                format!(
                                    "<img src=\"{}\" alt=\"{}\"{title_attr}{loading}>",
                                    html_escape::encode_double_quoted_attribute(&src),
                                    html_escape::encode_double_quoted_attribute(&alt)
                                )
                                .into(),
                            ))
                        }
                    }
                    let _ = start;
                }
                Event::Text(t) | Event::Code(t) => alt.push_str(t),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some((events.len(), level, id));
                heading_text.clear();
                events.push(Event::Text("".into()));
            }
            Event::End(TagEnd::Heading(level)) => {
                let (at, _, explicit) = heading.take().expect("heading start");
                let id = unique_id(
                    ids,
                    explicit
                        .as_deref()
                        .map_or_else(|| slug::slugify(&heading_text), str::to_owned),
                );
                toc_flat.push((level as u8, id.clone(), heading_text.trim().to_owned()));
                events[at] = Event::Start(Tag::Heading {
                    level,
                    id: Some(id.into()),
                    classes: vec![],
                    attrs: vec![],
                });
                events.push(Event::End(TagEnd::Heading(level)));
            }
            Event::Text(t) => {
                *words += t.split_whitespace().count();
                if heading.is_some() {
                    heading_text.push_str(&t);
                }
                events.push(Event::Text(t));
            }
            Event::Code(t) => {
                *words += t.split_whitespace().count();
                if heading.is_some() {
                    heading_text.push_str(&t);
                }
                events.push(Event::Code(t));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = if let Some(target) = dest_url.strip_prefix("@/") {
                    let (file, anchor) = target
                        .split_once('#')
                        .map_or((target, None), |(f, a)| (f, Some(a)));
                    match (ctx.resolve)(file) {
                        Some(path) => match anchor {
                            Some(a) => format!("{path}#{a}").into(),
                            None => path.into(),
                        },
                        None => {
                            errors.push(diag(
                                ctx,
                                full,
                                to_orig(range.start),
                                format!(
                                    "broken internal link `{dest_url}`: no content file {file}"
                                ),
                            ));
                            dest_url
                        }
                    }
                } else {
                    dest_url
                };
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                in_image = Some((range.start, dest_url, title, String::new()));
            }
            other => events.push(other),
        }
    }
    let summary_events = summary_range(&events);
    let mut html = String::with_capacity(md.len() * 3 / 2);
    let mut summary = None;
    if let Some(range) = summary_events {
        let mut s = String::new();
        pulldown_cmark::html::push_html(&mut s, events[range].iter().cloned());
        summary = Some(fill_placeholders(&s, &html_parts));
    }
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    (fill_placeholders(&html, &html_parts), summary)
}

fn unique_id(ids: &mut HashMap<String, usize>, base: String) -> String {
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
fn summary_range(events: &[Event<'_>]) -> Option<std::ops::Range<usize>> {
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

fn fill_placeholders(html: &str, parts: &[String]) -> String {
    if parts.is_empty() || !html.contains(PLACEHOLDER) {
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    impl ShortcodeHandler for Echo {
        fn render(&self, call: &ShortcodeCall<'_>) -> Result<String, String> {
            match call.name {
                "box" => Ok(format!(
                    "<div class=\"box\">{}</div>",
                    call.body.unwrap_or("")
                )),
                "hi" => Ok(format!(
                    "<b>{}</b>",
                    call.args["who"].as_str().unwrap_or("")
                )),
                _ => Err("unknown shortcode".into()),
            }
        }
    }

    fn md(src: &str) -> Result<Rendered, Vec<Diagnostic>> {
        let resolve = |p: &str| (p == "blog/a.md").then(|| "/blog/a/".to_owned());
        let ctx = MarkdownContext {
            file: Path::new("content/x.md"),
            body_line: 5,
            page_path: "/x/",
            resolve: &resolve,
            shortcodes: &Echo,
            image_hook: None,
        };
        render(src, &ctx)
    }

    #[test]
    fn heading_ids_are_unique_and_toc_nests() {
        let r = md("# Intro\n## Intro\n## Setup {#custom}\n# Intro\n").unwrap();
        assert!(r.html.contains("<h1 id=\"intro\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"intro-1\">"));
        assert!(r.html.contains("<h2 id=\"custom\">"));
        assert!(r.html.contains("<h1 id=\"intro-2\">"));
        assert_eq!(r.toc.len(), 2);
        assert_eq!(r.toc[0].children.len(), 2);
    }

    #[test]
    fn internal_links_resolve_and_broken_ones_name_the_line() {
        let r = md("See [a](@/blog/a.md#top).\n").unwrap();
        assert!(r.html.contains("href=\"/blog/a/#top\""), "{}", r.html);
        let e = md("line one\n\nSee [b](@/blog/b.md).\n").unwrap_err();
        assert_eq!(e[0].line, 7, "{}", e[0]);
        assert!(e[0].message.contains("broken internal link"));
    }

    #[test]
    fn summary_from_more_marker_or_first_paragraph() {
        let r = md("First para.\n\nSecond.\n\n<!-- more -->\n\nThird.\n").unwrap();
        let s = r.summary.unwrap();
        assert!(s.contains("Second") && !s.contains("Third"), "{s}");
        let r = md("# T\n\nOnly *this*.\n\nNot this.\n").unwrap();
        assert_eq!(r.summary.unwrap().trim(), "<p>Only <em>this</em>.</p>");
    }

    #[test]
    fn shortcodes_render_block_and_inline() {
        let r = md("Hello {{ hi(who=\"<you>\") }}!\n\n{% box() %}\n**bold**\n{% end %}\n\nafter\n")
            .unwrap();
        assert!(r.html.contains("Hello <b><you></b>!"), "{}", r.html);
        assert!(
            r.html
                .contains("<div class=\"box\"><p><strong>bold</strong></p>\n</div>"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<p><div"), "{}", r.html);
        assert!(r.html.contains("<p>after</p>"));
    }

    #[test]
    fn consecutive_block_shortcodes_are_not_wrapped_in_a_paragraph() {
        let r = md("{% box() %}\nA\n{% end %}\n{% box() %}\nB\n{% end %}\n").unwrap();
        assert!(!r.html.contains("<p><div"), "{}", r.html);
        assert_eq!(r.html.matches("<div class=\"box\">").count(), 2);
    }

    #[test]
    fn unknown_shortcode_is_an_error_with_line() {
        let e = md("a\n{{ nope() }}\n").unwrap_err();
        assert_eq!(e[0].line, 6);
        assert!(e[0].message.contains("nope"));
    }

    #[test]
    fn words_and_reading_time() {
        let r = md(&"word ".repeat(401)).unwrap();
        assert_eq!(r.word_count, 401);
        assert_eq!(r.reading_time, 3);
    }

    #[test]
    fn images_after_the_first_are_lazy() {
        let r = md("![one](a.png)\n\n![two \"x\"](b.png)\n").unwrap();
        assert!(
            r.html.contains("<img src=\"a.png\" alt=\"one\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("loading=\"lazy\""));
    }
}
