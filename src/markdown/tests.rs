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
    let extra = serde_json::Map::new();
    let ctx = MarkdownContext {
        file: Path::new("content/x.md"),
        body_line: 5,
        page_path: "/x/",
        page_extra: &extra,
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
