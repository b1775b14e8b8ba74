//! `splitmark import` on fixture sites written in Hugo's and Zola's documented formats, then
//! `build` on the result, then the Nu HTML checker on the output.
//!
//! The checker is `vnu.jar` from the `vnu-jar` npm package (`.ci/run` installs it into
//! `target/vnu`; `SPLITMARK_VNU_JAR` points elsewhere). Without it (or without `java`) the
//! check prints a loud skip notice, unless `SPLITMARK_REQUIRE_VNU=1`.

mod common;
use common::{attrs, texts};
use scraper::Html;
use splitmark::import::{import, ImportOptions, SiteKind};
use splitmark::site::{self, BuildOptions};
use std::path::{Path, PathBuf};

/// Smallest valid PNG (1x1), for bundle resources.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

const HUGO_CONFIG: &str = r#"baseURL = "https://blog.example.org/"
languageCode = "en-gb"
title = "Ann's Notes"
enableRobotsTXT = true

[pagination]
  pagerSize = 3

[taxonomies]
  tag = "tags"
  category = "categories"
  series = "series"

[params]
  description = "Notes on building things"
  author = "Ann Lee"
  mainSections = ["posts"]
  [params.social]
    mastodon = "@ann@example.social"

[[menus.main]]
  name = "Posts"
  pageRef = "/posts"
  weight = 10
[[menus.main]]
  identifier = "about"
  name = "About"
  url = "/about/"
  weight = 20
[[menus.main]]
  name = "Trips"
  url = "/posts/trip/"
  parent = "about"
  weight = 1

[[menus.footer]]
  name = "Feed"
  url = "/index.xml"
"#;

/// A Hugo site: posts with YAML and TOML front matter, `categories`, a custom `series`
/// taxonomy, a leaf bundle with an image, a branch bundle, params and nested menus.
fn hugo_site(root: &Path) {
    write(root, "hugo.toml", HUGO_CONFIG.as_bytes());
    write(
        root,
        "content/_index.md",
        b"---\ntitle: Home\ndescription: Ann's notes\n---\nWelcome.\n",
    );
    write(
        root,
        "content/contact.md",
        b"---\ntitle: Contact\ndescription: How to reach me\nseries: [Getting Started]\nmenu:\n  main:\n    weight: 30\n  footer: {}\n---\nWrite to me.\n",
    );
    write(
        root,
        "content/about.md",
        b"---\ntitle: About\ndescription: Who writes here\n---\n# About\n\nI write.\n",
    );
    write(
        root,
        "content/posts/_index.md",
        b"+++\ntitle = \"Posts\"\ndescription = \"All posts\"\n+++\n",
    );
    write(
        root,
        "content/posts/first.md",
        b"---\ntitle: First post\ndescription: The first one\ndate: 2024-03-01T10:00:00Z\nlastmod: 2024-03-05\ntags: [rust, web]\ncategories: [Programming]\nseries: [Getting Started]\naliases: [/2024/first/]\n---\nFirst summary.\n\n<!--more-->\n\n## More\n\nRest of it.\n",
    );
    write(
        root,
        "content/posts/second.md",
        b"+++\ntitle = \"Second post\"\ndescription = \"The second one\"\ndate = 2024-04-01\ndraft = false\ncategories = [\"Programming\", \"Travel\"]\nslug = \"number-two\"\n+++\nSecond body.\n",
    );
    write(
        root,
        "content/posts/wip.md",
        b"+++\ntitle = \"Not yet\"\ndate = 2024-05-01\ndraft = true\n+++\nDraft.\n",
    );
    write(
        root,
        "content/posts/trip/index.md",
        b"---\ntitle: A trip\ndescription: Pictures from a trip\ndate: 2024-02-01\ncategories: [Travel]\n---\nThe view:\n\n![A lake at dawn](lake.png)\n",
    );
    write(root, "content/posts/trip/lake.png", PNG);
    write(root, "static/robots-extra.txt", b"hello\n");
    write(root, "layouts/_default/single.html", b"{{ .Content }}\n");
    write(root, "layouts/partials/header.html", b"<header></header>\n");
}

/// A Zola site: `content/blog/_index.md` with `paginate_by`, tags and authors taxonomies,
/// `[extra]` with a menu, co-located assets, and a custom shortcode template.
fn zola_site(root: &Path) {
    write(
        root,
        "config.toml",
        br#"base_url = "https://zola.example.net"
title = "Field Notes"
description = "A Zola blog"
default_language = "fr"
compile_sass = false
build_search_index = false
generate_feeds = true
taxonomies = [{name = "tags"}, {name = "authors"}]

[markdown]
highlight_code = true

[extra]
menu = [
  {name = "Blog", url = "$BASE_URL/blog/"},
  {name = "Authors", url = "$BASE_URL/authors/", children = [
    {name = "Bo", url = "$BASE_URL/authors/bo/"}
  ]},
]
twitter = "fieldnotes"
"#,
    );
    write(
        root,
        "content/blog/_index.md",
        b"+++\ntitle = \"Blog\"\ndescription = \"Every post\"\nsort_by = \"date\"\npaginate_by = 2\n+++\n",
    );
    for (i, day) in [(1, "01"), (2, "02"), (3, "03")] {
        write(
            root,
            &format!("content/blog/post-{i}.md"),
            format!("+++\ntitle = \"Post {i}\"\ndescription = \"Post number {i}\"\ndate = 2024-06-{day}\n[taxonomies]\ntags = [\"notes\"]\nauthors = [\"Bo\"]\n[extra]\nmood = \"calm\"\n+++\nBody {i}.\n").as_bytes(),
        );
    }
    write(
        root,
        "content/blog/with-photo/index.md",
        b"+++\ntitle = \"With photo\"\ndescription = \"A page with a co-located image\"\ndate = 2024-05-01\n[taxonomies]\nauthors = [\"Cy\"]\n+++\n![Birds on a wire](birds.png)\n\nThe [first post](@/blog/post-1.md).\n",
    );
    write(root, "content/blog/with-photo/birds.png", PNG);
    write(root, "static/favicon-32.png", PNG);
    write(root, "templates/page.html", b"{{ page.content | safe }}\n");
    write(
        root,
        "templates/shortcodes/note.html",
        b"<aside class=\"note\">{{ body }}</aside>\n",
    );
}

fn build(root: &Path) {
    if let Err(e) = site::build(&BuildOptions::new(root)) {
        panic!("imported site does not build:\n{e}");
    }
}

fn html(root: &Path, rel: &str) -> Html {
    let p = root.join("public").join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Html::parse_document(&text)
}

#[test]
fn hugo_site_imports_and_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("hugo"), tmp.path().join("new"));
    hugo_site(&src);
    let report = import(&ImportOptions {
        source: src.clone(),
        into: Some(dst.clone()),
    })
    .unwrap();
    assert_eq!(report.kind, SiteKind::Hugo);
    let config = std::fs::read_to_string(dst.join("splitmark.toml")).unwrap();
    let c = splitmark::config::Config::parse(&config).unwrap();
    assert_eq!(c.base_url, "https://blog.example.org");
    assert_eq!(
        (c.title.as_str(), c.language.as_str()),
        ("Ann's Notes", "en-gb")
    );
    assert_eq!(c.description, "Notes on building things");
    assert_eq!(c.author, "Ann Lee");
    assert_eq!(c.paginate_by, 3);
    assert_eq!(c.taxonomies, ["series"]);
    assert_eq!(
        c.extra["social"]["mastodon"].as_str(),
        Some("@ann@example.social")
    );
    let menu: Vec<(&str, &str)> = c
        .menu
        .iter()
        .map(|m| (m.name.as_str(), m.url.as_str()))
        .collect();
    // The front-matter entry joins the config's, in weight order.
    assert_eq!(
        menu,
        [
            ("Posts", "/posts/"),
            ("About", "/about/"),
            ("Contact", "/contact/")
        ]
    );
    assert_eq!(c.menu[1].children[0].url, "/posts/trip/");
    // What it could not carry is named precisely.
    let text = report.to_string();
    assert!(text.contains("layouts/_default/single.html"), "{text}");
    assert!(text.contains("layouts/partials/header.html"), "{text}");
    assert!(text.contains("menus.footer"), "{text}");
    assert!(
        text.contains("content/contact.md: menu: menu \"footer\" is not carried"),
        "{text}"
    );
    assert!(!text.contains("baseURL"), "{text}");
    assert!(std::fs::read_to_string(dst.join("IMPORT.md"))
        .unwrap()
        .contains("menus.footer"));
    // The source is untouched; the copy's summary marker is splitmark's.
    let first = std::fs::read_to_string(dst.join("content/posts/first.md")).unwrap();
    assert!(first.contains("<!-- more -->") && !first.contains("<!--more-->"));
    assert!(std::fs::read_to_string(src.join("content/posts/first.md"))
        .unwrap()
        .contains("<!--more-->"));

    build(&dst);
    let out = dst.join("public");
    for page in [
        "posts/first/",
        "posts/number-two/",
        "posts/trip/",
        "about/",
        "posts/",
    ] {
        assert!(
            out.join(page).join("index.html").is_file(),
            "{page} missing"
        );
    }
    assert!(
        !out.join("posts/wip/index.html").exists(),
        "draft was published"
    );
    assert!(out.join("2024/first/index.html").is_file(), "alias missing");
    // Taxonomies: categories and the custom series, at Hugo's URLs.
    let programming = html(&dst, "categories/programming/index.html");
    let body: String = programming.root_element().text().collect();
    assert!(
        body.contains("First post") && body.contains("Second post"),
        "{body}"
    );
    assert!(out.join("categories/travel/index.html").is_file());
    assert!(out.join("series/getting-started/index.html").is_file());
    assert!(out.join("tags/rust/index.html").is_file());
    // The leaf bundle's image is published beside the page.
    assert!(out.join("posts/trip/lake.png").is_file());
    assert!(out.join("robots-extra.txt").is_file());
    // Menus, nested.
    let about = html(&dst, "about/index.html");
    assert_eq!(
        texts(&about, "nav.nav > ul > li > a"),
        ["Posts", "About", "Contact"]
    );
    assert_eq!(attrs(&about, "nav .submenu a", "href"), ["/posts/trip/"]);
    assert_eq!(texts(&about, "html").len(), 1);
    assert_eq!(attrs(&about, "html", "lang"), ["en-gb"]);
    let first = html(&dst, "posts/first/index.html");
    assert_eq!(texts(&first, "h1"), ["First post"]);
    // Hugo's lastmod is the sitemap's lastmod.
    let sitemap = std::fs::read_to_string(out.join("sitemap.xml")).unwrap();
    assert!(sitemap.contains("2024-03-05"), "{sitemap}");
    nu_check(&out);
}

#[test]
fn zola_site_imports_and_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("zola"), tmp.path().join("new"));
    zola_site(&src);
    let report = import(&ImportOptions {
        source: src.clone(),
        into: Some(dst.clone()),
    })
    .unwrap();
    assert_eq!(report.kind, SiteKind::Zola);
    let c = splitmark::config::Config::load(&dst).unwrap();
    assert_eq!(c.base_url, "https://zola.example.net");
    assert_eq!(
        (c.title.as_str(), c.language.as_str()),
        ("Field Notes", "fr")
    );
    assert_eq!(c.taxonomies, ["authors"]);
    assert_eq!(c.extra["twitter"].as_str(), Some("fieldnotes"));
    assert_eq!(c.menu[0].url, "/blog/");
    assert_eq!(c.menu[1].children[0].url, "/authors/bo/");
    let text = report.to_string();
    assert!(text.contains("templates/page.html"), "{text}");
    assert!(text.contains("markdown.highlight_code: "), "{text}");
    // Settings at what splitmark does anyway are not reported.
    for quiet in ["compile_sass", "build_search_index", "generate_feeds"] {
        assert!(!text.contains(quiet), "{quiet}: {text}");
    }
    // The custom shortcode template came along, so `note` is not reported.
    assert!(dst.join("templates/shortcodes/note.html").is_file());
    assert!(report.shortcodes.is_empty(), "{text}");

    build(&dst);
    let out = dst.join("public");
    for page in ["blog/", "blog/post-1/", "blog/with-photo/", "blog/page/2/"] {
        assert!(
            out.join(page).join("index.html").is_file(),
            "{page} missing"
        );
    }
    assert!(out.join("blog/with-photo/birds.png").is_file());
    assert!(out.join("favicon-32.png").is_file());
    let bo = html(&dst, "authors/bo/index.html");
    let body: String = bo.root_element().text().collect();
    assert!(body.contains("Post 1") && body.contains("Post 3"), "{body}");
    assert!(out.join("authors/cy/index.html").is_file());
    assert!(out.join("tags/notes/index.html").is_file());
    let photo = html(&dst, "blog/with-photo/index.html");
    assert!(attrs(&photo, "a", "href").contains(&"/blog/post-1/".to_owned()));
    assert_eq!(attrs(&photo, "nav .submenu a", "href"), ["/authors/bo/"]);
    nu_check(&out);
}

#[test]
fn report_lists_unknown_shortcodes_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("hugo"), tmp.path().join("new"));
    write(
        &src,
        "config.yaml",
        b"baseURL: https://x.example\ntitle: X\nsummaryLength: 30\n",
    );
    write(
        &src,
        "content/posts/a.md",
        b"---\ntitle: A\nurl: /old/a/\n---\nIntro.\n\n{{< callout info >}}\nCareful.\n{{< /callout >}}\n\n{{< figure src=\"x.png\" alt=\"x\" >}}\n\n```\n{{< notashortcode >}}\n```\n",
    );
    write(
        &src,
        "content/posts/b.md",
        b"---\ntitle: B\n---\n{{% callout %}}x{{% /callout %}}\n",
    );
    write(&src, "content/posts/old.html", b"<p>old</p>\n");
    write(&src, "content/posts/images/loose.png", PNG);
    let report = import(&ImportOptions {
        source: src,
        into: Some(dst),
    })
    .unwrap();
    let uses: Vec<String> = report.shortcodes["callout"]
        .iter()
        .map(|u| format!("{}:{}", u.file.display(), u.line))
        .collect();
    assert_eq!(uses, ["content/posts/a.md:7", "content/posts/b.md:4"]);
    assert_eq!(report.shortcodes.len(), 1, "{report}");
    let text = report.to_string();
    assert!(
        text.contains("summaryLength: the summary is what precedes"),
        "{text}"
    );
    assert!(text.contains("content/posts/a.md: url: "), "{text}");
    assert!(text.contains("content/posts/old.html"), "{text}");
    assert!(text.contains("content/posts/images/loose.png"), "{text}");
}

#[test]
fn refuses_a_non_empty_target_and_a_folder_without_config() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("zola");
    zola_site(&src);
    let dst = tmp.path().join("taken");
    write(&dst, "keep.txt", b"mine");
    let err = import(&ImportOptions {
        source: src.clone(),
        into: Some(dst.clone()),
    })
    .unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(std::fs::read(dst.join("keep.txt")).unwrap(), b"mine");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = import(&ImportOptions {
        source: empty,
        into: None,
    })
    .unwrap_err();
    assert!(err.to_string().contains("no Hugo"), "{err}");
    let err = import(&ImportOptions {
        source: src.clone(),
        into: Some(src.join("content/new")),
    })
    .unwrap_err();
    assert!(err.to_string().contains("inside the site"), "{err}");
    // The default target is DIR-splitmark beside DIR.
    assert_eq!(
        splitmark::import::default_target(&src),
        tmp.path().join("zola-splitmark")
    );
}

#[test]
fn hugo_config_dir_and_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("site");
    write(
        &src,
        "config/_default/hugo.toml",
        b"baseURL = \"https://d.example/\"\ntitle = \"D\"\n",
    );
    write(
        &src,
        "config/_default/menus.toml",
        b"[[main]]\nname = \"Docs\"\nurl = \"/docs/\"\n",
    );
    write(&src, "config/_default/params.yaml", b"color: teal\n");
    write(
        &src,
        "content/docs/intro.md",
        b"---\ntitle: Intro\n---\nHi.\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .arg("import")
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Imported a Hugo site"), "{stdout}");
    let dst = tmp.path().join("site-splitmark");
    let c = splitmark::config::Config::load(&dst).unwrap();
    assert_eq!(c.base_url, "https://d.example");
    assert_eq!(c.menu[0].name, "Docs");
    assert_eq!(c.extra["color"].as_str(), Some("teal"));
    build(&dst);
    assert!(dst.join("public/docs/intro/index.html").is_file());
}

/// The Nu HTML checker's jar, if installed.
fn vnu_jar() -> Option<PathBuf> {
    let jar = std::env::var_os("SPLITMARK_VNU_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
        });
    let java = std::process::Command::new("java").arg("-version").output();
    (jar.is_file() && java.is_ok_and(|o| o.status.success())).then_some(jar)
}

/// Runs the Nu checker over every HTML file of `out`; any error fails the test.
fn nu_check(out: &Path) {
    let Some(jar) = vnu_jar() else {
        assert!(
            std::env::var("SPLITMARK_REQUIRE_VNU").is_err(),
            "SPLITMARK_REQUIRE_VNU is set but vnu.jar or java is missing"
        );
        eprintln!("\n*** SKIPPED: Nu HTML checker needs java and vnu.jar (npm i vnu-jar in target/vnu, or SPLITMARK_VNU_JAR) ***\n");
        return;
    };
    let res = std::process::Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--skip-non-html"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "Nu HTML checker found errors:\n{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn hugo_config_toml_and_json_are_told_from_zola() {
    let tmp = tempfile::tempdir().unwrap();
    // Hugo's config.toml: keys in any case, the old `paginate`.
    let toml_site = tmp.path().join("old-hugo");
    write(
        &toml_site,
        "config.toml",
        b"baseurl = \"https://old.example/\"\nTitle = \"Old\"\npaginate = 5\n",
    );
    let report = import(&ImportOptions {
        source: toml_site.clone(),
        into: Some(tmp.path().join("a")),
    })
    .unwrap();
    assert_eq!(report.kind, SiteKind::Hugo);
    let c = splitmark::config::Config::load(&tmp.path().join("a")).unwrap();
    assert_eq!(
        (c.base_url.as_str(), c.title.as_str(), c.paginate_by),
        ("https://old.example", "Old", 5)
    );
    // hugo.json, with a relative baseURL that cannot be carried.
    let json_site = tmp.path().join("json-hugo");
    write(
        &json_site,
        "hugo.json",
        br#"{"baseURL": "/", "title": "J", "params": {"n": 1, "gone": null}}"#,
    );
    let report = import(&ImportOptions {
        source: json_site,
        into: Some(tmp.path().join("b")),
    })
    .unwrap();
    let c = splitmark::config::Config::load(&tmp.path().join("b")).unwrap();
    assert_eq!(c.base_url, "https://example.com");
    assert_eq!(c.extra["n"].as_integer(), Some(1));
    let text = report.to_string();
    assert!(
        text.contains("baseURL: \"/\" is not an absolute URL"),
        "{text}"
    );
    assert!(text.contains("params.gone: null value"), "{text}");
}
