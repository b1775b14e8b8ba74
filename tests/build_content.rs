//! Content: front matter in both formats, drafts, URLs, summaries, tags, links, bundles.

mod common;
use common::*;

const POST_TOML: &str = r#"+++
title = "Hello TOML"
description = "A TOML post"
date = 2024-03-01T10:00:00Z
updated = 2024-03-05
slug = "custom-slug"
tags = ["Rust Lang", "web"]
categories = ["news"]
weight = 3
aliases = ["/old/hello/"]
noindex = true
image = "cover.png"
[extra]
hero = "Big hero"
+++

Intro paragraph.

<!-- more -->

## Section A

Body with [a link](@/blog/yaml-post.md#section-b).
"#;

const POST_YAML: &str = "---\ntitle: \"Hello YAML\"\ndescription: \"A YAML post\"\ndate: 2024-02-01\ntaxonomies:\n  tags: [web, yaml]\nextra:\n  n: 2\n---\n\nFirst para of YAML.\n\n## Section B\n\ntext\n";

fn blog_site() -> Site {
    Site::new(&[
        ("content/_index.md", "+++\ntitle = \"Home\"\n+++\nWelcome."),
        ("content/blog/_index.md", "+++\ntitle = \"Blog\"\n+++\n"),
        ("content/blog/toml-post.md", POST_TOML),
        ("content/blog/yaml-post.md", POST_YAML),
        (
            "content/blog/draft.md",
            "+++\ntitle = \"Draft\"\ndraft = true\n+++\nsecret",
        ),
    ])
}

#[test]
fn toml_front_matter_fields_reach_the_page() {
    let site = blog_site();
    site.build_ok();
    let doc = site.html("blog/custom-slug/index.html");
    assert_eq!(texts(&doc, "h1"), ["Hello TOML"]);
    assert_eq!(
        attr(&doc, "meta[name=description]", "content"),
        "A TOML post"
    );
    assert_eq!(attr(&doc, "meta[name=robots]", "content"), "noindex");
    assert_eq!(
        attr(&doc, "link[rel=canonical]", "href"),
        "https://example.test/blog/custom-slug/"
    );
    assert_eq!(
        attr(&doc, "meta[property='og:image']", "content"),
        "https://example.test/blog/custom-slug/cover.png"
    );
    assert_eq!(
        attr(&doc, "meta[property='article:published_time']", "content"),
        "2024-03-01T10:00:00+00:00"
    );
    assert_eq!(
        attr(&doc, "meta[property='article:modified_time']", "content"),
        "2024-03-05T00:00:00+00:00"
    );
    assert_eq!(attrs(&doc, "h2", "id"), ["section-a"]);
    // The internal link resolved to the YAML post's URL, anchor kept.
    assert!(attrs(&doc, "a", "href").contains(&"/blog/yaml-post/#section-b".to_owned()));
    // Tags link to their pages.
    assert!(
        attrs(&doc, ".tags a", "href").contains(&"https://example.test/tags/rust-lang/".to_owned())
    );
}

#[test]
fn yaml_front_matter_and_zola_taxonomies() {
    let site = blog_site();
    site.build_ok();
    let doc = site.html("blog/yaml-post/index.html");
    assert_eq!(texts(&doc, "h1"), ["Hello YAML"]);
    let tags = site.html("tags/index.html");
    let names = texts(&tags, ".terms a");
    assert_eq!(names, ["Rust Lang", "web", "yaml"]);
    // Both posts are tagged `web`: Hugo style in one, Zola style in the other.
    let web = site.html("tags/web/index.html");
    assert_eq!(texts(&web, ".posts h2").len(), 2);
    assert!(site.out("categories/news/index.html").exists());
}

#[test]
fn drafts_only_with_the_flag() {
    let site = blog_site();
    site.build_ok();
    assert!(!site.out("blog/draft/index.html").exists());
    assert!(!site.read("sitemap.xml").contains("/blog/draft/"));
    let mut opts = site.opts();
    opts.drafts = true;
    splitmark::site::build(&opts).unwrap();
    assert!(site.out("blog/draft/index.html").exists());
}

#[test]
fn aliases_redirect_and_are_listed_for_servers() {
    let site = blog_site();
    site.build_ok();
    let doc = site.html("old/hello/index.html");
    assert_eq!(
        attr(&doc, "link[rel=canonical]", "href"),
        "https://example.test/blog/custom-slug/"
    );
    assert_eq!(attr(&doc, "meta[name=robots]", "content"), "noindex");
    assert!(attr(&doc, "meta[http-equiv=refresh]", "content")
        .ends_with("url=https://example.test/blog/custom-slug/"));
    assert_eq!(
        site.read("_redirects"),
        "/old/hello/ /blog/custom-slug/ 301\n"
    );
    assert!(site
        .read("_splitmark/nginx-redirects.conf")
        .contains("/old/hello/ https://example.test/blog/custom-slug/;"));
}

#[test]
fn summaries_reading_time_and_descriptions_in_lists() {
    let site = blog_site();
    site.build_ok();
    let list = site.html("blog/index.html");
    let items = texts(&list, ".posts li p:not(.meta)");
    assert!(items.contains(&"A TOML post".to_owned()), "{items:?}");
}

#[test]
fn missing_description_falls_back_to_a_cut_summary() {
    let long = "word ".repeat(80);
    let site = Site::new(&[(
        "content/p.md",
        &format!("+++\ntitle = \"P\"\n+++\n{long}\n"),
    )]);
    site.build_ok();
    let d = attr(
        &site.html("p/index.html"),
        "meta[name=description]",
        "content",
    );
    assert!(d.chars().count() <= 155 && d.ends_with('…'), "{d}");
}

#[test]
fn bundles_copy_their_files_and_static_is_copied() {
    let site = Site::new(&[
        (
            "content/blog/trip/index.md",
            "+++\ntitle = \"Trip\"\n+++\n![A photo](photo.jpg)\n",
        ),
        ("static/robots-extra.txt", "hi"),
        ("content/blog/trip/notes.txt", "bundle file"),
    ]);
    image::RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30]))
        .save(site.root().join("content/blog/trip/photo.jpg"))
        .unwrap();
    site.build_ok();
    assert!(site.out("blog/trip/index.html").exists());
    assert!(
        site.out("blog/trip/photo.jpg").is_file(),
        "bundle image copied beside the page"
    );
    assert_eq!(site.read("blog/trip/notes.txt"), "bundle file");
    assert_eq!(site.read("robots-extra.txt"), "hi");
    assert!(
        site.out("favicon.ico").exists(),
        "theme static files are copied"
    );
}

#[test]
fn heading_ids_unique_and_toc_available_to_templates() {
    let site = Site::new(&[
        (
            "content/p.md",
            "+++\ntitle = \"P\"\ntemplate = \"toc.html\"\n+++\n## Setup\n### Details\n## Setup\n",
        ),
        (
            "templates/toc.html",
            "{% for h in page.toc %}{{ h.id }}:{{ h.children | length }};{% endfor %}",
        ),
    ]);
    site.build_ok();
    assert_eq!(site.read("p/index.html"), "setup:1;setup-1:0;");
}
