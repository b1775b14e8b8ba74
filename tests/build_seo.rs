//! SEO output on fixture sites, read with real parsers: head metadata, JSON-LD, escaping of
//! hostile titles, sitemap, robots, Atom feeds, minification.

mod common;
use common::*;

const HOSTILE: &str = "A </script><script>alert(1)</script> & \"quotes\" <b>";

fn seo_site() -> Site {
    Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}language = \"de\"\ndefault_image = \"/card.png\"\n")),
        ("content/_index.md", "+++\ntitle = \"Test site\"\ndescription = \"Home page\"\n+++\nHi.\n"),
        ("content/blog/_index.md", "+++\ntitle = \"Blog\"\n+++\n"),
        ("content/blog/post.md", &format!("+++\ntitle = '{HOSTILE}'\ndescription = '{HOSTILE}'\ndate = 2024-05-01T08:00:00+02:00\nupdated = 2024-05-03\ntags = [\"x\"]\n[extra]\nauthor = \"Ann\"\n+++\nBody.\n")),
        ("content/hidden.md", "+++\ntitle = \"Hidden\"\nnoindex = true\n+++\n"),
        ("content/about.md", "+++\ntitle = \"About\"\n+++\nAbout us.\n"),
    ])
}

fn jsonld(doc: &scraper::Html) -> serde_json::Value {
    let sel = scraper::Selector::parse("script[type='application/ld+json']").unwrap();
    let scripts: Vec<String> = doc.select(&sel).map(|e| e.inner_html()).collect();
    assert_eq!(scripts.len(), 1);
    serde_json::from_str(&scripts[0]).expect("valid JSON-LD")
}

#[test]
fn head_metadata_on_a_post() {
    let s = seo_site();
    s.build_ok();
    let doc = s.html("blog/post/index.html");
    assert_eq!(attr(&doc, "html", "lang"), "de");
    assert_eq!(
        texts(&doc, "title"),
        [format!("{HOSTILE} — Test site")],
        "escaped, and parsed back to the same text"
    );
    assert_eq!(attr(&doc, "meta[name=description]", "content"), HOSTILE);
    assert_eq!(
        attr(&doc, "link[rel=canonical]", "href"),
        "https://example.test/blog/post/"
    );
    assert_eq!(attr(&doc, "meta[property='og:type']", "content"), "article");
    assert_eq!(
        attr(&doc, "meta[property='og:url']", "content"),
        "https://example.test/blog/post/"
    );
    assert_eq!(
        attr(&doc, "meta[property='og:site_name']", "content"),
        "Test site"
    );
    assert_eq!(
        attr(&doc, "meta[property='og:image']", "content"),
        "https://example.test/card.png"
    );
    assert_eq!(
        attr(&doc, "meta[property='article:published_time']", "content"),
        "2024-05-01T08:00:00+02:00"
    );
    assert_eq!(
        attr(&doc, "meta[name='twitter:card']", "content"),
        "summary_large_image"
    );
    assert_eq!(
        attr(&doc, "meta[name=viewport]", "content"),
        "width=device-width, initial-scale=1"
    );
    assert!(!attr(&doc, "meta[name=theme-color]", "content").is_empty());
    assert_eq!(
        attrs(&doc, "link[rel=icon]", "href"),
        ["/favicon.svg", "/favicon.ico"]
    );
    assert!(
        s.out("favicon.ico").is_file()
            && s.out("favicon.svg").is_file()
            && s.out("apple-touch-icon.png").is_file()
    );
    assert!(attrs(&doc, "meta[name=robots]", "content").is_empty());
    let html = s.read("blog/post/index.html");
    assert!(!html.contains("<script>alert(1)"), "no breakout");
}

#[test]
fn json_ld_types_and_required_properties() {
    let s = seo_site();
    s.build_ok();
    let post = jsonld(&s.html("blog/post/index.html"));
    let g = post["@graph"].as_array().unwrap();
    let bp = &g[0];
    assert_eq!(bp["@type"], "BlogPosting");
    assert_eq!(
        bp["headline"], HOSTILE,
        "user data survives escaping intact"
    );
    for k in [
        "description",
        "datePublished",
        "dateModified",
        "author",
        "image",
        "mainEntityOfPage",
        "url",
        "publisher",
    ] {
        assert!(!bp[k].is_null(), "{k}");
    }
    assert_eq!(bp["author"]["name"], "Ann");
    assert_eq!(g[1]["@type"], "BreadcrumbList");
    assert_eq!(
        g[1]["itemListElement"][1]["item"],
        "https://example.test/blog/"
    );
    let home = jsonld(&s.html("index.html"));
    let types: Vec<&str> = home["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["@type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["WebSite", "Organization"]);
    let about = jsonld(&s.html("about/index.html"));
    assert_eq!(about["@graph"][0]["@type"], "WebPage");
}

#[test]
fn noindex_pages_are_marked_and_left_out_of_the_sitemap() {
    let s = seo_site();
    s.build_ok();
    assert_eq!(
        attr(&s.html("hidden/index.html"), "meta[name=robots]", "content"),
        "noindex"
    );
    let xml = s.read("sitemap.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .filter_map(|n| n.text())
        .collect();
    assert!(locs.contains(&"https://example.test/blog/post/"));
    assert!(locs.contains(&"https://example.test/tags/x/"));
    assert!(!locs.iter().any(|l| l.contains("hidden")));
    assert!(locs.iter().all(|l| l.starts_with("https://example.test/")));
    let lastmods: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("lastmod"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        lastmods
            .iter()
            .all(|d| chrono::DateTime::parse_from_rfc3339(d).is_ok()),
        "{lastmods:?}"
    );
    assert!(s
        .read("robots.txt")
        .contains("Sitemap: https://example.test/sitemap.xml"));
    assert!(s.out("404.html").is_file());
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

#[test]
fn atom_feeds_are_valid() {
    let s = seo_site();
    s.build_ok();
    for feed in ["atom.xml", "blog/atom.xml"] {
        let xml = s.read(feed);
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{feed}: {e}"));
        let root = doc.root_element();
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2005/Atom")
        );
        for required in ["id", "title", "updated", "author"] {
            assert!(child(root, required).is_some(), "{feed}: feed/{required}");
        }
        let self_link = root
            .children()
            .find(|c| c.has_tag_name("link") && c.attribute("rel") == Some("self"))
            .unwrap();
        assert_eq!(
            self_link.attribute("href"),
            Some(format!("https://example.test/{feed}").as_str())
        );
        let entries: Vec<_> = root
            .children()
            .filter(|c| c.has_tag_name("entry"))
            .collect();
        assert_eq!(entries.len(), 1, "{feed}");
        for e in entries {
            for required in ["id", "title", "updated"] {
                assert!(child(e, required).is_some(), "{feed}: entry/{required}");
            }
            let updated = child(e, "updated").unwrap().text().unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc3339(updated).is_ok(),
                "{updated}"
            );
            assert_eq!(child(e, "title").unwrap().text(), Some(HOSTILE));
            let href = child(e, "link").unwrap().attribute("href").unwrap();
            assert!(href.starts_with("https://"), "absolute link: {href}");
        }
    }
}

#[test]
fn minify_keeps_the_page_and_shrinks_it() {
    let s = seo_site();
    s.build_ok();
    let plain = s.read("blog/post/index.html");
    s.write(
        "splitmark.toml",
        &format!("{CONFIG}language = \"de\"\nminify = true\n"),
    );
    s.build_ok();
    let min = s.read("blog/post/index.html");
    assert!(min.len() < plain.len());
    let doc = scraper::Html::parse_document(&min);
    assert_eq!(texts(&doc, "title"), [format!("{HOSTILE} — Test site")]);
    assert_eq!(jsonld(&doc)["@graph"][0]["headline"], HOSTILE);
}

#[test]
fn generate_feeds_false_leaves_a_sections_feed_out() {
    let s = Site::new(&[
        ("content/blog/_index.md", "+++\ntitle = \"Blog\"\n+++\n"),
        (
            "content/blog/post.md",
            "+++\ntitle = \"Post\"\ndate = 2024-05-01\n+++\nBody.\n",
        ),
        (
            "content/news/_index.md",
            "+++\ntitle = \"News\"\ngenerate_feeds = false\n+++\n",
        ),
        (
            "content/news/item.md",
            "+++\ntitle = \"Item\"\ndate = 2024-05-01\n+++\nBody.\n",
        ),
    ]);
    s.build_ok();
    assert!(s.out("blog/atom.xml").is_file());
    assert!(s.out("news/index.html").is_file());
    assert!(
        !s.out("news/atom.xml").exists(),
        "the news feed was turned off"
    );
}
