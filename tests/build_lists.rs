//! Section lists, pagination boundaries, template overrides and `init`.

mod common;
use common::*;

fn posts(n: usize) -> Site {
    let site = Site::new(&[("content/blog/_index.md", "+++\ntitle = \"Blog\"\n+++\n")]);
    for i in 0..n {
        site.write(
            &format!("content/blog/p{i}.md"),
            &format!(
                "+++\ntitle = \"Post {i}\"\ndate = 2024-01-{:02}\ntags = [\"t\"]\n+++\nBody {i}.\n",
                i + 1
            ),
        );
    }
    site
}

fn pages_under(site: &Site, base: &str) -> usize {
    (2..20)
        .take_while(|n| site.out(&format!("{base}page/{n}/index.html")).exists())
        .count()
        + 1
}

#[test]
fn pagination_boundaries() {
    // paginate_by = 2 in the fixture config.
    for (posts_n, expected_pages) in [(0, 1), (1, 1), (2, 1), (3, 2), (5, 3)] {
        let site = posts(posts_n);
        site.build_ok();
        assert_eq!(
            pages_under(&site, "blog/"),
            expected_pages,
            "{posts_n} posts"
        );
        let first = site.html("blog/index.html");
        assert_eq!(
            texts(&first, ".posts h2").len(),
            posts_n.min(2),
            "{posts_n} posts"
        );
    }
}

#[test]
fn pages_are_newest_first_and_pager_links_connect() {
    let site = posts(3);
    site.build_ok();
    let first = site.html("blog/index.html");
    assert_eq!(texts(&first, ".posts h2"), ["Post 2", "Post 1"]);
    assert_eq!(
        attr(&first, "a[rel=next]", "href"),
        "https://example.test/blog/page/2/"
    );
    let second = site.html("blog/page/2/index.html");
    assert_eq!(texts(&second, ".posts h2"), ["Post 0"]);
    assert_eq!(
        attr(&second, "a[rel=prev]", "href"),
        "https://example.test/blog/"
    );
    // Tag pages paginate too.
    assert!(site.out("tags/t/page/2/index.html").exists());
}

#[test]
fn list_pages_get_summaries_not_content() {
    let site = posts(1);
    site.write("templates/section.html", "{% for p in paginator.pages %}[{{ p.title }}|{{ p.content | default(value='NO CONTENT') }}]{% endfor %}");
    site.build_ok();
    assert_eq!(site.read("blog/index.html"), "[Post 0|NO CONTENT]");
}

#[test]
fn site_template_overrides_theme_template() {
    let site = posts(1);
    site.write("templates/page.html", "custom:{{ page.title }}");
    site.write("templates/partials/footer.html", "<footer>mine</footer>");
    site.build_ok();
    assert_eq!(site.read("blog/p0/index.html"), "custom:Post 0");
    assert!(site
        .read("blog/index.html")
        .contains("<footer>mine</footer>"));
}

#[test]
fn theme_on_disk_is_used_when_configured() {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}theme = \"plain\"\n")),
        ("themes/plain/templates/page.html", "plain:{{ page.title }}"),
        ("themes/plain/static/x.css", "body{}"),
        ("content/a.md", "+++\ntitle = \"A\"\n+++\n"),
    ]);
    site.build_ok();
    assert_eq!(site.read("a/index.html"), "plain:A");
    assert_eq!(site.read("x.css"), "body{}");
}

#[test]
fn template_shortcodes_render_with_args_and_body() {
    let site = Site::new(&[
        ("templates/shortcodes/note.html", "<aside class=\"{{ kind }}\">{{ body | safe }}</aside>"),
        ("content/a.md", "+++\ntitle = \"A\"\n+++\n{% note(kind=\"tip\") %}\n**Hi**\n{% end %}\n\n`{{ note() }}` stays code.\n"),
    ]);
    site.build_ok();
    let html = site.read("a/index.html");
    assert!(
        html.contains("<aside class=\"tip\"><p><strong>Hi</strong></p>\n</aside>"),
        "{html}"
    );
    assert!(html.contains("<code>{{ note() }}</code>"), "{html}");
}

#[test]
fn init_then_build_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    splitmark::site::init(&root).unwrap();
    let report = splitmark::site::build(&splitmark::site::BuildOptions::new(&root)).unwrap();
    assert!(report.pages >= 4, "{report}");
    for f in [
        "index.html",
        "demo/index.html",
        "blog/index.html",
        "blog/hello/index.html",
        "404.html",
        "sitemap.xml",
        "atom.xml",
        "robots.txt",
    ] {
        assert!(root.join("public").join(f).exists(), "{f}");
    }
    assert!(
        splitmark::site::init(&root).is_err(),
        "init refuses a non-empty folder"
    );
}

#[test]
fn check_reports_missing_titles_and_descriptions() {
    let site = Site::new(&[("content/a.md", "no front matter\n\n![](x.png)\n")]);
    let report = splitmark::site::check(&site.opts());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let w: Vec<String> = report.warnings.iter().map(|d| d.to_string()).collect();
    assert!(
        w.iter()
            .any(|m| m.contains("content/a.md") && m.contains("no title")),
        "{w:?}"
    );
    assert!(w.iter().any(|m| m.contains("no description")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("no alt text")), "{w:?}");
    assert!(!site.out("index.html").exists(), "check writes nothing");
}

#[test]
fn nested_menu_and_declared_taxonomy() {
    let config = format!(
        "{CONFIG}taxonomies = [\"authors\"]\n[[menu]]\nname = \"Docs\"\nurl = \"/docs/\"\n[[menu.children]]\nname = \"Intro\"\nurl = \"/docs/intro/\"\n"
    );
    let site = Site::new(&[
        ("splitmark.toml", &config),
        // Zola style and Hugo style (top-level list) both reach the taxonomy.
        (
            "content/docs/intro.md",
            "+++\ntitle = \"Intro\"\n[taxonomies]\nauthors = [\"Ann Lee\"]\n+++\nHi.\n",
        ),
        (
            "content/docs/more.md",
            "---\ntitle: More\nauthors: [Ann Lee, Bo]\n---\nMore.\n",
        ),
    ]);
    site.build_ok();
    let doc = site.html("docs/intro/index.html");
    assert_eq!(texts(&doc, "nav .submenu a"), ["Intro"]);
    assert_eq!(
        attrs(&doc, "nav .submenu a[aria-current=page]", "href"),
        ["/docs/intro/"]
    );
    let term = site.html("authors/ann-lee/index.html");
    let body = term.root_element().text().collect::<String>();
    assert!(body.contains("Intro") && body.contains("More"), "{body}");
    assert!(site.out("authors/bo/index.html").exists());
    assert!(site.out("authors/index.html").exists());
}

#[test]
fn undeclared_taxonomy_is_an_error() {
    let site = Site::new(&[(
        "content/a.md",
        "+++\ntitle = \"A\"\n[taxonomies]\nauthors = [\"Ann\"]\n+++\nA.\n",
    )]);
    let err = site.build().unwrap_err();
    assert!(err.contains("content/a.md"), "{err}");
    assert!(
        err.contains("taxonomy \"authors\" is not declared"),
        "{err}"
    );
}

#[test]
fn unsupported_sort_order_is_an_error() {
    let site = Site::new(&[(
        "content/blog/_index.md",
        "+++\ntitle = \"Blog\"\nsort_by = \"slug\"\n+++\n",
    )]);
    let err = site.build().unwrap_err();
    assert!(err.contains("content/blog/_index.md:3:11"), "{err}");
    assert!(
        err.contains("sort_by must be \"date\", \"weight\" or \"title\", got \"slug\""),
        "{err}"
    );
}
