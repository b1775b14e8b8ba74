//! The CommonMark pass: heading ids and the table of contents, `@/` links, images, fenced
//! code through the highlighter, word counts and the summary.

use super::fragment::{OffsetMap, State};
use super::{highlight, html, ImageRef};
use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// An open fenced code block: where it starts, its info string and its text so far.
struct Code<'a> {
    at: usize,
    info: Option<CowStr<'a>>,
    text: String,
}

/// Renders substituted Markdown `md`; returns the HTML and the summary (placeholders left in).
pub(super) fn to_html(
    state: &mut State<'_>,
    md: &str,
    map: &OffsetMap,
) -> (String, Option<String>) {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_FOOTNOTES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_HEADING_ATTRIBUTES);
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut heading: Option<(usize, HeadingLevel, Option<CowStr<'_>>)> = None;
    let mut heading_text = String::new();
    let mut in_image: Option<(CowStr<'_>, CowStr<'_>, String)> = None;
    let mut code: Option<Code<'_>> = None;
    for (event, range) in Parser::new_ext(md, opts).into_offset_iter() {
        if let Some((_, _, alt)) = in_image.as_mut() {
            match &event {
                Event::End(TagEnd::Image) => {
                    let (src, title, alt) = in_image.take().expect("in image");
                    events.push(Event::InlineHtml(image(state, &src, &alt, &title).into()));
                }
                Event::Text(t) | Event::Code(t) => alt.push_str(t),
                _ => {}
            }
            continue;
        }
        if let Some(c) = code.as_mut() {
            match event {
                Event::Text(t) => {
                    state.words += t.split_whitespace().count();
                    c.text.push_str(&t);
                }
                Event::End(TagEnd::CodeBlock) => {
                    let c = code.take().expect("in code");
                    events.push(Event::Html(code_block(state, c, map).into()));
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                code = Some(Code {
                    at: range.start,
                    info: match kind {
                        CodeBlockKind::Fenced(info) => Some(info),
                        CodeBlockKind::Indented => None,
                    },
                    text: String::new(),
                });
            }
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some((events.len(), level, id));
                heading_text.clear();
                events.push(Event::Text("".into()));
            }
            Event::End(TagEnd::Heading(level)) => {
                let (at, _, explicit) = heading.take().expect("heading start");
                let id = html::unique_id(
                    &mut state.ids,
                    explicit
                        .as_deref()
                        .map_or_else(|| slug::slugify(&heading_text), str::to_owned),
                );
                state
                    .toc_flat
                    .push((level as u8, id.clone(), heading_text.trim().to_owned()));
                events[at] = Event::Start(Tag::Heading {
                    level,
                    id: Some(id.into()),
                    classes: vec![],
                    attrs: vec![],
                });
                events.push(Event::End(TagEnd::Heading(level)));
            }
            Event::Text(t) => {
                state.words += t.split_whitespace().count();
                if heading.is_some() {
                    heading_text.push_str(&t);
                }
                events.push(Event::Text(t));
            }
            Event::Code(t) => {
                state.words += t.split_whitespace().count();
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
                let dest = internal_link(state, dest_url, map.body_offset(range.start));
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
                in_image = Some((dest_url, title, String::new()));
            }
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(md.len() * 3 / 2);
    let summary = html::summary_range(&events).map(|range| {
        let mut s = String::new();
        pulldown_cmark::html::push_html(&mut s, events[range].iter().cloned());
        s
    });
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    (out, summary)
}

/// `@/blog/a.md#x` resolved to the page's path; a broken one is an error at `offset`.
fn internal_link<'a>(state: &mut State<'_>, dest: CowStr<'a>, offset: usize) -> CowStr<'a> {
    let Some(target) = dest.strip_prefix("@/") else {
        return dest;
    };
    let (file, anchor) = target
        .split_once('#')
        .map_or((target, None), |(f, a)| (f, Some(a)));
    match (state.ctx.resolve)(file) {
        Some(path) => match anchor {
            Some(a) => format!("{path}#{a}").into(),
            None => path.into(),
        },
        None => {
            let d = state.diag(
                offset,
                format!("broken internal link `{dest}`: no content file {file}"),
            );
            state.errors.push(d);
            dest
        }
    }
}

/// An image through the page's image hook, else a plain `<img>` (lazy after the first).
fn image(state: &mut State<'_>, src: &str, alt: &str, title: &str) -> String {
    let img = ImageRef {
        src,
        alt,
        title,
        index: state.image_index,
    };
    state.image_index += 1;
    if let Some(html) = state.ctx.image_hook.and_then(|h| h(&img)) {
        return html;
    }
    let loading = if img.index == 0 {
        ""
    } else {
        " loading=\"lazy\""
    };
    let esc = |s: &str| html_escape::encode_double_quoted_attribute(s).into_owned();
    let title_attr = if title.is_empty() {
        String::new()
    } else {
        format!(" title=\"{}\"", esc(title))
    };
    format!(
        "<img src=\"{}\" alt=\"{}\"{title_attr}{loading}>",
        esc(src),
        esc(alt)
    )
}

/// A code block, highlighted when its fence names a language; problems become warnings.
fn code_block(state: &mut State<'_>, code: Code<'_>, map: &OffsetMap) -> String {
    let fence = highlight::fence::parse(code.info.as_deref().unwrap_or(""));
    let out = highlight::render(&code.text, fence.lang.as_deref(), &fence.options);
    let at = map.body_offset(code.at);
    if let Some(lang) = out.unknown_language {
        let d = state.diag(
            at,
            format!("code block language `{lang}` is not known: shown without highlighting"),
        );
        state.warnings.push(d);
    }
    for problem in fence.problems {
        let d = state.diag(at, format!("code block: {problem}"));
        state.warnings.push(d);
    }
    out.html
}
