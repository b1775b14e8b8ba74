//! `splitmark check`'s accessibility and SEO warnings, each with file and line.

mod common;
use common::*;

fn warnings(files: &[(&str, &str)]) -> Vec<String> {
    let site = Site::new(files);
    let report = splitmark::site::check(&site.opts());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report.warnings.iter().map(|d| d.to_string()).collect()
}

fn only<'a>(w: &'a [String], needle: &str) -> Vec<&'a String> {
    w.iter().filter(|m| m.contains(needle)).collect()
}

const FM: &str = "+++\ntitle = \"T\"\ndescription = \"D\"\n+++\n";

#[test]
fn heading_that_skips_a_level_is_named_with_its_line() {
    let page = format!("{FM}Intro.\n\n## Fine\n\n#### Skipped\n\n## Back\n\n### Fine too\n");
    let w = warnings(&[("content/a.md", &page)]);
    let skips = only(&w, "skips a level");
    assert_eq!(skips.len(), 1, "{w:?}");
    // Line 9 of the file: 4 front-matter lines, then the body.
    assert!(
        skips[0].starts_with("content/a.md:9:1: heading skips a level: h2 is followed by h4"),
        "{}",
        skips[0]
    );
    assert!(skips[0].contains("9 | #### Skipped"), "{}", skips[0]);
}

#[test]
fn title_h1_then_h3_is_a_skip() {
    let page = format!("{FM}### Too deep\n");
    let w = warnings(&[("content/a.md", &page)]);
    let skips = only(&w, "skips a level");
    assert_eq!(skips.len(), 1, "{w:?}");
    assert!(skips[0].contains("content/a.md:5:1:"), "{}", skips[0]);
    assert!(skips[0].contains("h1 is followed by h3"), "{}", skips[0]);
}

#[test]
fn images_without_alt_text_markdown_and_html() {
    let page = format!(
        "{FM}![](one.png)\n\n![Has alt](two.png)\n\n<img src=\"three.png\">\n\n<img src=\"four.png\" alt=\"\">\n\n<img src=\"five.png\" alt=\"ok\">\n"
    );
    let w = warnings(&[("content/a.md", &page)]);
    let alt = only(&w, "no alt text");
    let heads: Vec<String> = alt
        .iter()
        .map(|m| m.split(": image").next().unwrap().to_owned())
        .collect();
    assert_eq!(
        heads,
        ["content/a.md:5:1", "content/a.md:9:1", "content/a.md:11:1"],
        "{w:?}"
    );
    assert!(
        alt[0].contains("image one.png has no alt text"),
        "{}",
        alt[0]
    );
    assert!(alt[1].contains("three.png"), "{}", alt[1]);
    assert!(alt[2].contains("four.png"), "{}", alt[2]);
}

#[test]
fn http_links_to_the_site_itself() {
    // The fixture's base_url is https://example.test.
    let page = format!(
        "{FM}See [this](http://example.test/blog/) and [www](http://www.example.test/).\n\n\
         Fine: [https](https://example.test/), [other](http://other.test/), [path](/blog/).\n\n\
         <a href=\"http://example.test/raw/\">raw</a>\n"
    );
    let w = warnings(&[("content/a.md", &page)]);
    let http = only(&w, "uses http://");
    assert_eq!(http.len(), 3, "{w:?}");
    assert!(
        http[0].starts_with("content/a.md:5:5: link to http://example.test/blog/"),
        "{}",
        http[0]
    );
    assert!(http[1].contains("http://www.example.test/"), "{}", http[1]);
    assert!(http[2].starts_with("content/a.md:9:"), "{}", http[2]);
    assert!(http[2].contains("http://example.test/raw/"), "{}", http[2]);
}

#[test]
fn sections_are_linted_and_clean_pages_have_no_lint_warnings() {
    let section = "+++\ntitle = \"Blog\"\n+++\n### Deep\n";
    let page = format!("{FM}## Ok\n\n![Alt](x.png)\n\n[home](https://example.test/)\n");
    let w = warnings(&[
        ("content/blog/_index.md", section),
        ("content/blog/a.md", &page),
    ]);
    let skips = only(&w, "skips a level");
    assert_eq!(skips.len(), 1, "{w:?}");
    assert!(
        skips[0].starts_with("content/blog/_index.md:4:1"),
        "{}",
        skips[0]
    );
    assert!(only(&w, "content/blog/a.md").is_empty(), "{w:?}");
}
