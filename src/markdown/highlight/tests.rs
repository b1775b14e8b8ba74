use super::*;

fn hl(code: &str, lang: &str) -> String {
    render(code, Some(lang), &Options::default()).html
}

#[test]
fn common_languages_are_known() {
    for lang in [
        "sh",
        "bash",
        "shell",
        "console",
        "toml",
        "yaml",
        "yml",
        "json",
        "html",
        "css",
        "js",
        "javascript",
        "ts",
        "typescript",
        "python",
        "rust",
        "go",
        "sql",
        "dockerfile",
        "md",
        "text",
    ] {
        assert!(is_known(lang), "{lang}");
    }
    assert!(!is_known("no-such-language"));
}

#[test]
fn tokens_get_short_classes_not_styles() {
    let h = hl("fn main() { // hi\n    let s = \"x\";\n}\n", "rust");
    assert!(
        h.starts_with("<pre class=\"chroma\"><code class=\"language-rust\" data-lang=\"rust\">"),
        "{h}"
    );
    assert!(h.contains("<span class=\"kt\">fn</span>"), "{h}");
    assert!(h.contains("<span class=\"c\">// hi</span>"), "{h}");
    assert!(
        h.contains("<span class=\"s\">&quot;x&quot;</span>")
            || h.contains("<span class=\"s\">\"x\"</span>"),
        "{h}"
    );
    assert!(!h.contains("style="), "{h}");
}

#[test]
fn every_bench_language_highlights() {
    for (lang, code) in [
        ("toml", "[site]\ntitle = \"x\"\n"),
        ("yaml", "title: x\n"),
        ("json", "{\"a\": 1}\n"),
        ("html", "<p class=\"a\">x</p>\n"),
        ("css", "a { color: red; }\n"),
        ("javascript", "const a = 1;\n"),
        ("typescript", "let a: number = 1;\n"),
        ("python", "def f():\n    return 1\n"),
        ("go", "func main() {}\n"),
        ("sql", "SELECT 1;\n"),
        ("bash", "echo \"hi\" # x\n"),
    ] {
        let h = hl(code, lang);
        assert!(h.contains("<span class="), "{lang}: {h}");
    }
}

#[test]
fn hl_lines_and_linenos() {
    let opts = Options {
        linenos: true,
        linenostart: 10,
        hl_lines: vec![2..=2],
    };
    let h = render("a = 1\nb = 2\n", Some("toml"), &opts).html;
    assert!(
        h.contains("<span class=\"line\"><span class=\"ln\">10</span>"),
        "{h}"
    );
    assert!(
        h.contains("<span class=\"line hl\"><span class=\"ln\">11</span>"),
        "{h}"
    );
}

#[test]
fn unknown_language_is_plain_escaped_text() {
    let r = render("<b>\n", Some("klingon"), &Options::default());
    assert_eq!(r.unknown_language.as_deref(), Some("klingon"));
    assert_eq!(
        r.html,
        "<pre><code class=\"language-klingon\" data-lang=\"klingon\">&lt;b&gt;\n</code></pre>\n"
    );
    let r = render("x\n", None, &Options::default());
    assert_eq!(r.unknown_language, None);
    assert_eq!(r.html, "<pre><code>x\n</code></pre>\n");
}
