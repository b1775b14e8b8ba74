//! Every build error names the file and the line; a failed build leaves the output untouched.

mod common;
use common::*;

fn err(files: &[(&str, &str)]) -> String {
    let site = Site::new(files);
    site.build().expect_err("the build should fail")
}

#[test]
fn bad_toml_front_matter() {
    let e = err(&[("content/a.md", "+++\ntitle = \"A\"\ndraft = maybe\n+++\n")]);
    assert!(e.contains("content/a.md:3:"), "{e}");
    assert!(e.contains("draft = maybe"), "snippet shown: {e}");
}

#[test]
fn bad_yaml_front_matter_points_at_its_own_line() {
    let e = err(&[(
        "content/a.md",
        "---\ntitle: A\nbad: a: b\ndate: 2024-01-01\n---\nBody.\n",
    )]);
    assert!(
        e.contains("content/a.md:3:7: invalid YAML front matter"),
        "{e}"
    );
    assert!(e.contains(" 3 | bad: a: b\n"), "snippet is line 3: {e}");
    assert!(!e.contains("date: 2024"), "line 4 not quoted: {e}");
}

#[test]
fn bad_toml_front_matter_points_at_its_own_line() {
    let e = err(&[(
        "content/a.md",
        "+++\ntitle = \"A\"\ntags = [\"a\" \"b\"]\ndate = 2024-01-01\n+++\n",
    )]);
    assert!(
        e.contains("content/a.md:3:13: invalid TOML front matter"),
        "{e}"
    );
    assert!(
        e.contains(" 3 | tags = [\"a\" \"b\"]\n"),
        "snippet is line 3: {e}"
    );
}

#[test]
fn bad_config_toml() {
    let e = err(&[(
        "splitmark.toml",
        "base_url = \"https://x.test\"\ntitle = \n",
    )]);
    assert!(e.contains("splitmark.toml:2:"), "{e}");
}

#[test]
fn unterminated_front_matter() {
    let e = err(&[("content/a.md", "---\ntitle: A\n")]);
    assert!(
        e.contains("content/a.md:1:1") && e.contains("never closed"),
        "{e}"
    );
}

#[test]
fn unknown_template() {
    let e = err(&[(
        "content/a.md",
        "+++\ntitle = \"A\"\ntemplate = \"nope.html\"\n+++\n",
    )]);
    assert!(e.contains("content/a.md") && e.contains("nope.html"), "{e}");
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let e = err(&[
        (
            "content/a.md",
            "+++\ntitle = \"A\"\ntemplate = \"bad.html\"\n+++\n",
        ),
        (
            "templates/bad.html",
            "line one\n{{ page.title | no_such_filter }}\n",
        ),
    ]);
    assert!(e.contains("bad.html:2:"), "{e}");
    assert!(e.contains("no_such_filter"), "{e}");
}

#[test]
fn template_render_error_names_template_line_and_page() {
    let e = err(&[
        (
            "content/a.md",
            "+++\ntitle = \"A\"\ntemplate = \"bad.html\"\n+++\n",
        ),
        (
            "templates/bad.html",
            "line one\n{{ page.title }}\n{{ page.no_such_field.deeper }}\n",
        ),
    ]);
    assert!(e.contains("content/a.md"), "{e}");
    assert!(e.contains("bad.html"), "{e}");
    assert!(e.contains("bad.html:3:"), "line of the template: {e}");
}

#[test]
fn broken_internal_link() {
    let e = err(&[(
        "content/a.md",
        "+++\ntitle = \"A\"\n+++\n\nSee [b](@/missing.md).\n",
    )]);
    assert!(
        e.contains("content/a.md:5:") && e.contains("broken internal link"),
        "{e}"
    );
}

#[test]
fn invalid_date() {
    let e = err(&[("content/a.md", "---\ntitle: A\ndate: 2024-02-30\n---\n")]);
    assert!(
        e.contains("content/a.md:3:7") && e.contains("invalid date"),
        "{e}"
    );
}

#[test]
fn two_pages_one_url() {
    let e = err(&[
        (
            "content/blog/a.md",
            "+++\ntitle = \"A\"\nslug = \"same\"\n+++\n",
        ),
        ("content/blog/same.md", "+++\ntitle = \"B\"\n+++\n"),
    ]);
    assert!(e.contains("/blog/same/"), "{e}");
    assert!(
        e.contains("content/blog/a.md") && e.contains("content/blog/same.md"),
        "names both files: {e}"
    );
}

#[test]
fn all_errors_are_collected_before_failing() {
    let e = err(&[
        ("content/a.md", "+++\ntitle = \n+++\n"),
        ("content/b.md", "---\ndate: nope\n---\n"),
        ("content/c.md", "[x](@/none.md)\n"),
    ]);
    assert!(
        e.contains("content/a.md") && e.contains("content/b.md") && e.contains("content/c.md"),
        "{e}"
    );
    assert!(e.contains("3 errors"), "{e}");
}

#[test]
fn failed_build_keeps_previous_output_byte_for_byte() {
    let site = Site::new(&[("content/a.md", "+++\ntitle = \"A\"\n+++\nfirst")]);
    site.build_ok();
    let before = tree_fingerprint(&site.root().join("public"));
    assert!(!before.is_empty());
    let manifest_before = std::fs::read(site.manifest_file()).unwrap();
    site.write(
        "content/a.md",
        "+++\ntitle = \"A\"\n+++\nchanged [x](@/gone.md)",
    );
    site.build().expect_err("broken link fails the build");
    assert_eq!(tree_fingerprint(&site.root().join("public")), before);
    assert_eq!(
        std::fs::read(site.manifest_file()).unwrap(),
        manifest_before
    );
    // No temporary folders or files left behind.
    let staged: Vec<_> = std::fs::read_dir(site.root().join(".splitmark"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "manifest.json")
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
    let leftovers: Vec<_> = std::fs::read_dir(site.root())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn successful_rebuild_replaces_output_and_drops_stale_files() {
    let site = Site::new(&[
        ("content/a.md", "+++\ntitle = \"A\"\n+++\n"),
        ("content/b.md", "+++\ntitle = \"B\"\n+++\n"),
    ]);
    site.build_ok();
    assert!(site.out("b/index.html").exists());
    std::fs::remove_file(site.root().join("content/b.md")).unwrap();
    site.build_ok();
    assert!(!site.out("b/index.html").exists());
}

#[test]
fn section_settings_on_a_page_are_an_error() {
    for key in [
        "paginate_by = 3",
        "sort_by = \"title\"",
        "generate_feeds = false",
    ] {
        let site = Site::new(&[(
            "content/blog/post.md",
            &format!("+++\ntitle = \"Post\"\n{key}\n+++\nBody.\n"),
        )]);
        let err = site.build().unwrap_err();
        assert!(
            err.contains("content/blog/post.md") && err.contains("applies to sections only"),
            "{key}: {err}"
        );
    }
}
