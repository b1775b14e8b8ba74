//! `splitmark build --timings` over the real binary: stages and templates are listed with the
//! right counts, and the build's output is the same with and without it.

mod common;
use common::*;
use std::process::Command;

const POSTS: usize = 7;

fn blog() -> Site {
    let site = Site::new(&[("content/blog/_index.md", "+++\ntitle = \"Blog\"\n+++\n")]);
    for i in 0..POSTS {
        site.write(
            &format!("content/blog/p{i}.md"),
            &format!(
                "+++\ntitle = \"Post {i}\"\ndate = 2024-01-{:02}\ntags = [\"t{}\"]\n+++\nBody {i}.\n\n```rust\nfn main() {{}}\n```\n",
                i + 1,
                i % 2
            ),
        );
    }
    site
}

fn build(site: &Site, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .arg("build")
        .arg("--root")
        .arg(site.root())
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The row of `template` in the templates table: (renders, slowest page).
fn template_row(report: &str, template: &str) -> Option<(usize, String)> {
    let table = report.split("Templates, by total").nth(1)?;
    table.lines().find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.first() == Some(&template)).then(|| (cols[1].parse().unwrap(), cols[5].to_owned()))
    })
}

#[test]
fn timings_list_stages_and_templates_with_their_counts() {
    let site = blog();
    let report = build(&site, &["--timings"]);
    assert!(report.starts_with("Built "), "{report}");
    for stage in [
        "load: config, content, templates",
        "markdown: highlighting, shortcodes, images",
        "plan: summaries, job list",
        "render and write pages",
        "sitemap index, redirects, static files, images",
        "commit: manifest, output swap",
        "total",
    ] {
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(stage))
            .unwrap_or_else(|| panic!("no stage {stage:?} in\n{report}"));
        assert!(line.trim_end().ends_with(" ms"), "{line}");
    }
    for part in ["contexts", "templates", "minify", "write"] {
        assert!(
            report.lines().any(|l| l.trim_start().starts_with(part)),
            "no {part} in\n{report}"
        );
    }
    // paginate_by = 2: seven posts make four blog list pages, one home, and two pages for
    // each of the two tags (four posts and three).
    let (pages, slowest) = template_row(&report, "page.html").expect(&report);
    assert_eq!(pages, POSTS, "{report}");
    assert!(slowest.starts_with("/blog/p"), "{slowest}");
    assert_eq!(
        template_row(&report, "section.html").unwrap().0,
        4,
        "{report}"
    );
    assert_eq!(
        template_row(&report, "index.html").unwrap().0,
        1,
        "{report}"
    );
    assert_eq!(
        template_row(&report, "taxonomy_single.html").unwrap().0,
        4,
        "{report}"
    );
    for t in ["sitemap.xml", "robots.txt", "404.html", "atom.xml"] {
        assert!(template_row(&report, t).is_some(), "no {t} in\n{report}");
    }
    // Not rendered by this site: not listed.
    assert!(template_row(&report, "landing.html").is_none(), "{report}");
    // Sorted by total time, largest first.
    let table = report.split("Templates, by total").nth(1).unwrap();
    let totals: Vec<f64> = table
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(2)?.parse().ok())
        .collect();
    assert!(totals.len() >= 8, "{report}");
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "{report}");
}

#[test]
fn timings_do_not_change_the_output() {
    let site = blog();
    let plain = build(&site, &[]);
    assert!(!plain.contains("Stages"), "{plain}");
    let before = tree_fingerprint(&site.root().join("public"));
    let manifest = std::fs::read(site.manifest_file()).unwrap();
    build(&site, &["--timings"]);
    assert_eq!(tree_fingerprint(&site.root().join("public")), before);
    assert_eq!(std::fs::read(site.manifest_file()).unwrap(), manifest);
}
