//! Shortcodes in both syntaxes (ours and Hugo's), their errors with file:line:col, Hugo's
//! escapes, code that stays literal, and the built-in shortcodes with a theme override.

mod common;
use common::*;

/// Front matter of three lines: the body starts on line 4.
const FM: &str = "+++\ntitle = \"A\"\n+++\n";

fn page(body: &str) -> Site {
    Site::new(&[("content/a.md", &format!("{FM}{body}"))])
}

fn build_err(body: &str) -> String {
    page(body).build().expect_err("the build should fail")
}

fn body_html(site: &Site, rel: &str) -> String {
    let html = site.read(rel);
    let start = html.find("<main").unwrap();
    let end = html.find("</main>").unwrap();
    html[start..end].to_owned()
}

const CALLOUT: &str = "<div class=\"callout{% if args | length > 0 %} {{ args[0] }}{% endif %}\" data-n=\"{{ args | length }}\">{% if title is defined %}<b>{{ title }}</b>{% endif %}{{ body }}</div>";

#[test]
fn hugo_forms_reach_the_template() {
    let site = Site::new(&[
        (
            "content/a.md",
            &format!(
                "{FM}{{{{< callout info title=\"Heads up\" >}}}}\n*raw* text\n{{{{< /callout >}}}}\n\n{{{{% callout warn %}}}}\n*md* text\n{{{{% /callout %}}}}\n\nInline {{{{< callout tip />}}}} end.\n"
            ),
        ),
        ("templates/shortcodes/callout.html", CALLOUT),
    ]);
    site.build_ok();
    let html = body_html(&site, "a/index.html");
    assert!(
        html.contains(
            "<div class=\"callout info\" data-n=\"1\"><b>Heads up</b>\n*raw* text\n</div>"
        ),
        "{{< >}} passes its body as written: {html}"
    );
    assert!(
        html.contains("<div class=\"callout warn\" data-n=\"1\"><p><em>md</em> text</p>\n</div>"),
        "{{% %}} renders its body as Markdown: {html}"
    );
    assert!(
        html.contains("<p>Inline <div class=\"callout tip\" data-n=\"1\"></div> end.</p>"),
        "{html}"
    );
}

#[test]
fn our_syntax_and_hugo_nest() {
    let site = Site::new(&[
        (
            "content/a.md",
            &format!(
                "{FM}{{% callout(title=\"T\") %}}\nOuter {{{{< callout inner />}}}}\n{{% end %}}\n"
            ),
        ),
        ("templates/shortcodes/callout.html", CALLOUT),
    ]);
    site.build_ok();
    let html = body_html(&site, "a/index.html");
    assert!(
        html.contains("<b>T</b><p>Outer <div class=\"callout inner\""),
        "{html}"
    );
}

#[test]
fn unknown_hugo_shortcode_is_an_error_at_line_and_column() {
    let e = build_err("para\n\nText {{< nope x >}}\n");
    assert!(
        e.contains("content/a.md:6:6: shortcode `nope`: unknown shortcode"),
        "{e}"
    );
    assert!(e.contains("6 | Text {{< nope x >}}"), "snippet: {e}");
}

#[test]
fn unknown_shortcode_in_each_syntax() {
    let e = build_err("{{% nope %}}x{{% /nope %}}\n");
    assert!(e.contains("content/a.md:4:1: shortcode `nope`"), "{e}");
    let e = build_err("x\ny {{ nope() }}\n");
    assert!(e.contains("content/a.md:5:3: shortcode `nope`"), "{e}");
    let e = build_err("x {{< nope />}}\n");
    assert!(e.contains("content/a.md:4:3: shortcode `nope`"), "{e}");
}

#[test]
fn lines_count_yaml_front_matter_too() {
    let site = Site::new(&[(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-02\n---\n\n{{< nope >}}\n",
    )]);
    let e = site.build().unwrap_err();
    assert!(e.contains("content/a.md:6:1: shortcode `nope`"), "{e}");
}

#[test]
fn unclosed_pairs_are_errors() {
    let e = build_err("a\n{{< details summary=\"s\" >}}\nbody\n");
    assert!(
        e.contains("content/a.md:5:1: shortcode `details` is opened here but never closed with `{{< /details >}}`"),
        "{e}"
    );
    let e = build_err("a\n\n  {% details(summary=\"s\") %}\nbody\n");
    assert!(
        e.contains("content/a.md:6:3: shortcode `details` is opened here but has no `{% end %}`"),
        "{e}"
    );
}

#[test]
fn mismatched_closing_tags_are_errors() {
    let e = build_err("{{< details >}}\nx\n{{< /figure >}}\n");
    assert!(
        e.contains(
            "content/a.md:6:1: `{{< /figure >}}` does not match the open shortcode `details`"
        ),
        "{e}"
    );
    let e = build_err("x {{< /details >}}\n");
    assert!(
        e.contains("content/a.md:4:3: `{{< /details >}}` closes no open shortcode"),
        "{e}"
    );
    let e = build_err("{{< details >}}x{{% /details %}}\n");
    assert!(e.contains("content/a.md:4:17:"), "{e}");
    let e = build_err("{% end %}\n");
    assert!(
        e.contains("content/a.md:4:1: `{% end %}` without an opening shortcode"),
        "{e}"
    );
}

#[test]
fn bad_argument_syntax_is_an_error_at_the_argument() {
    let e = build_err("one\n{{< figure src=\"a.png >}}\n");
    assert!(
        e.contains("content/a.md:5:16: argument has no closing \""),
        "{e}"
    );
    let e = build_err("{{< figure src= >}}\n");
    assert!(
        e.contains("content/a.md:4:16: parameter `src` has no value"),
        "{e}"
    );
    let e = build_err("{{< figure =x >}}\n");
    assert!(e.contains("content/a.md:4:12: unexpected `=`"), "{e}");
    let e = build_err("{{< figure src=\"a\"");
    assert!(
        e.contains("content/a.md:4:1: shortcode tag `{{< figure` has no closing `>}}`"),
        "{e}"
    );
    let e = build_err("x {{ form(id=demo) }}\n");
    assert!(e.contains("content/a.md:4:14: expected a value"), "{e}");
}

#[test]
fn escapes_print_the_tag_everywhere() {
    let site = page(
        "Write {{</* figure src=\"x.png\" */>}} or {{%/* details */%}}.\n\n`{{</* youtube id */>}}`\n\n```\n{{</* nope */>}}\n```\n",
    );
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(
        texts(&doc, "main p")[0],
        "Write {{< figure src=\"x.png\" >}} or {{% details %}}."
    );
    assert_eq!(texts(&doc, "main p code"), ["{{< youtube id >}}"]);
    assert_eq!(texts(&doc, "main pre code"), ["{{< nope >}}"]);
}

#[test]
fn shortcodes_in_code_stay_literal() {
    let site = page(
        "Use `{{< nope >}}`, `{{ nope() }}` and `{% nope() %}`.\n\n```md\n{{< nope >}}\n{{% nope %}}\n{{ nope() }}\n{% nope() %}{% end %}\n```\n\n~~~\n{{< /unmatched >}}\n~~~\n",
    );
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(
        texts(&doc, "main p code"),
        ["{{< nope >}}", "{{ nope() }}", "{% nope() %}"]
    );
    let pre = texts(&doc, "main pre code");
    assert_eq!(
        pre[0],
        "{{< nope >}}\n{{% nope %}}\n{{ nope() }}\n{% nope() %}{% end %}"
    );
    assert_eq!(pre[1], "{{< /unmatched >}}");
}

#[test]
fn figure_uses_the_image_pipeline_for_local_files() {
    let site = Site::new(&[(
        "content/trip/index.md",
        &format!("{FM}{{{{< figure src=\"wide.png\" alt=\"A wide photo\" caption=\"On the way\" link=\"/big/\" >}}}}\n\n{{{{< figure src=\"https://cdn.test/x.png\" alt=\"Remote\" width=\"40\" height=\"30\" >}}}}\n"),
    )]);
    let img = image::RgbImage::from_fn(1200, 600, |x, _| image::Rgb([(x % 256) as u8, 9, 9]));
    img.save(site.root().join("content/trip/wide.png")).unwrap();
    site.build_ok();
    let doc = site.html("trip/index.html");
    assert_eq!(attrs(&doc, "figure > a > picture img", "width"), ["1200"]);
    assert_eq!(attrs(&doc, "figure > a", "href"), ["/big/"]);
    assert!(attrs(&doc, "figure picture source", "srcset")[0].contains(".webp 960w"));
    assert_eq!(texts(&doc, "figcaption"), ["On the way"]);
    assert_eq!(
        attrs(&doc, "figure > img", "src"),
        ["https://cdn.test/x.png"]
    );
    assert_eq!(attrs(&doc, "figure > img", "width"), ["40"]);
    assert_eq!(attrs(&doc, "figure > img", "loading"), ["lazy"]);
}

#[test]
fn youtube_and_vimeo_are_facades_without_third_party_loads() {
    let site =
        page("{{< youtube w7Ft2ymGmfc >}}\n\n{{< vimeo id=\"55073825\" title=\"A film\" >}}\n");
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(
        attrs(&doc, ".video", "data-embed"),
        [
            "https://www.youtube-nocookie.com/embed/w7Ft2ymGmfc?autoplay=1",
            "https://player.vimeo.com/video/55073825?autoplay=1&dnt=1"
        ]
    );
    assert_eq!(
        attrs(&doc, ".video button", "aria-label"),
        ["Play: YouTube video", "Play: A film"]
    );
    // Nothing that loads: no iframe, and no src pointing away from the site.
    assert!(attrs(&doc, "iframe", "src").is_empty());
    for src in attrs(&doc, "[src]", "src") {
        assert!(!src.contains("://"), "third-party load: {src}");
    }
}

#[test]
fn details_highlight_ref_relref_and_param() {
    let site = Site::new(&[
        (
            "splitmark.toml",
            &format!("{CONFIG}[extra]\ncompany = \"Acme\"\n[extra.social]\nmastodon = \"@acme\"\n"),
        ),
        (
            "content/blog/a.md",
            "+++\ntitle = \"A\"\n[extra]\nwho = \"Ann <3\"\n+++\n{{< details summary=\"More\" open=true >}}\n**bold**\n{{< /details >}}\n\n{{< highlight go \"linenos=true,hl_lines=2\" >}}\npackage main\nfunc main() {}\n{{< /highlight >}}\n\n[b]({{< relref \"b.md\" >}}) [b2]({{< ref \"/blog/b.md#top\" >}}) [s]({{< relref \"/blog\" >}})\n\nBy {{< param who >}} at {{< param \"company\" >}} ({{< param social.mastodon >}}).\n",
        ),
        ("content/blog/b.md", "+++\ntitle = \"B\"\n+++\nB\n"),
    ]);
    site.build_ok();
    let doc = site.html("blog/a/index.html");
    assert_eq!(texts(&doc, "details[open] summary"), ["More"]);
    assert_eq!(texts(&doc, "details p strong"), ["bold"]);
    assert_eq!(texts(&doc, "pre.chroma .line.hl .nf"), ["main"]);
    assert_eq!(texts(&doc, "pre.chroma .ln"), ["1", "2"]);
    assert_eq!(
        attrs(&doc, "main p a", "href"),
        ["/blog/b/", "https://example.test/blog/b/#top", "/blog/"]
    );
    assert!(texts(&doc, "main p").contains(&"By Ann <3 at Acme (@acme).".to_owned()));
}

#[test]
fn broken_ref_and_missing_param_are_errors_at_the_call() {
    let e = build_err("See [x]({{< ref \"nope.md\" >}}).\n");
    assert!(
        e.contains("content/a.md:4:9: shortcode `ref`: no content file nope.md"),
        "{e}"
    );
    let e = build_err("x\n{{< relref \"/blog/gone\" >}}\n");
    assert!(e.contains("content/a.md:5:1: shortcode `relref`"), "{e}");
    let e = build_err("By {{< param nobody >}}.\n");
    assert!(
        e.contains(
            "content/a.md:4:4: shortcode `param`: `nobody` is neither in the page's front matter"
        ),
        "{e}"
    );
}

#[test]
fn a_site_template_overrides_a_built_in() {
    let site = Site::new(&[
        (
            "content/a.md",
            &format!("{FM}{{{{< youtube abc >}}}}\n\n{{{{< highlight go >}}}}\nx\n{{{{< /highlight >}}}}\n"),
        ),
        (
            "templates/shortcodes/youtube.html",
            "<p class=\"mine\">video {{ id }}</p>",
        ),
        (
            "templates/shortcodes/highlight.html",
            "<pre class=\"mine\">{{ args[0] }}: {{ body }}</pre>",
        ),
    ]);
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(texts(&doc, "p.mine"), ["video abc"]);
    assert_eq!(
        texts(&doc, "pre.mine"),
        ["go: \nx"],
        "a {{< >}} body is passed as written"
    );
    assert!(attrs(&doc, ".video", "data-embed").is_empty());
}

#[test]
fn internal_at_links_still_work() {
    let site = Site::new(&[
        ("content/a.md", &format!("{FM}[b](@/b.md#x)\n")),
        ("content/b.md", "+++\ntitle = \"B\"\n+++\nB\n"),
    ]);
    site.build_ok();
    assert_eq!(
        attrs(&site.html("a/index.html"), "main p a", "href"),
        ["/b/#x"]
    );
}
