//! Syntax highlighting at build time: classes (no inline styles), hl_lines and line numbers in
//! Hugo's and Zola's fence spellings, a warning for an unknown language, and a palette that
//! only pages with code carry.

mod common;
use common::*;
use std::io::Write as _;

const FM: &str = "+++\ntitle = \"A\"\ndescription = \"D\"\n+++\n";

#[test]
fn fences_are_highlighted_with_classes() {
    let site = Site::new(&[(
        "content/a.md",
        &format!("{FM}```rust\nfn main() {{ let s = \"x\"; }} // done\n```\n"),
    )]);
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(attrs(&doc, "main pre", "class"), ["chroma"]);
    assert_eq!(attrs(&doc, "main pre code", "data-lang"), ["rust"]);
    assert_eq!(texts(&doc, "pre .nf"), ["main"]);
    assert_eq!(texts(&doc, "pre .s"), ["\"x\""]);
    assert_eq!(texts(&doc, "pre .c"), ["// done"]);
    assert!(
        attrs(&doc, "main [style]", "style").is_empty(),
        "no inline styles"
    );
}

#[test]
fn hugo_fence_attributes() {
    let site = Site::new(&[(
        "content/a.md",
        &format!("{FM}```toml {{hl_lines=[2,\"4-5\"] linenos=true}}\na = 1\nb = 2\nc = 3\nd = 4\ne = 5\n```\n"),
    )]);
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(texts(&doc, "pre .line.hl .nt"), ["b", "d", "e"]);
    assert_eq!(texts(&doc, "pre .ln"), ["1", "2", "3", "4", "5"]);
}

#[test]
fn zola_fence_annotations() {
    let site = Site::new(&[(
        "content/a.md",
        &format!("{FM}```python,hl_lines=1 3-4, linenos, linenostart=10\na = 1\nb = 2\nc = 3\nd = 4\n```\n"),
    )]);
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(texts(&doc, "pre .line.hl .ln"), ["10", "12", "13"]);
    assert_eq!(texts(&doc, "pre .line:not(.hl) .ln"), ["11"]);
}

#[test]
fn highlight_shortcode_in_our_syntax_uses_the_raw_body() {
    let site = Site::new(&[(
        "content/a.md",
        &format!("{FM}{{% highlight(lang=\"js\", hl_lines=\"2\") %}}\nconst a = 1;\nlet b = \"*not md*\";\n{{% end %}}\n"),
    )]);
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(texts(&doc, "pre .line.hl .s"), ["\"*not md*\""]);
    assert!(texts(&doc, "pre em").is_empty());
}

#[test]
fn unknown_language_is_plain_text_and_a_check_warning() {
    let site = Site::new(&[(
        "content/a.md",
        &format!("{FM}Intro.\n\n```klingon\n<b>Qapla'</b>\n```\n\n```rust,hide_lines=2\nfn x() {{}}\n```\n"),
    )]);
    site.build_ok();
    let doc = site.html("a/index.html");
    assert_eq!(texts(&doc, "main pre code")[0], "<b>Qapla'</b>");
    assert!(texts(&doc, "main pre b").is_empty(), "escaped");
    let report = splitmark::site::check(&site.opts());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let warnings: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("content/a.md:7:1: code block language `klingon` is not known")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "content/a.md:11:1: code block: unsupported code block option `hide_lines`"
        )),
        "{warnings:?}"
    );
}

#[test]
fn palette_only_on_pages_with_code_and_posts_stay_small() {
    let code: String = (0..40)
        .map(|i| format!("let value_{i} = compute({i}, \"text\"); // note {i}\n"))
        .collect();
    let prose = "Some words about the code, written to be read. ".repeat(60);
    let site = Site::new(&[
        (
            "content/blog/code.md",
            &format!("+++\ntitle = \"Code\"\ndescription = \"D\"\ndate = 2024-01-01\n+++\n{prose}\n\n```rust\n{code}```\n\n```toml\n[a]\nb = 1\n```\n"),
        ),
        ("content/blog/plain.md", "+++\ntitle = \"Plain\"\ndescription = \"D\"\n+++\nNo code.\n"),
    ]);
    site.build_ok();
    let with = site.read("blog/code/index.html");
    let without = site.read("blog/plain/index.html");
    assert!(
        with.contains("prefers-color-scheme:dark){.chroma"),
        "dark palette"
    );
    assert!(with.contains(".chroma .k,"), "light palette");
    assert!(!without.contains(".chroma"), "no palette without code");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(with.as_bytes()).unwrap();
    let size = gz.finish().unwrap().len();
    assert!(
        size < 14 * 1024,
        "post with code is {size} bytes compressed"
    );
}
