//! Helpers for integration tests: fixture sites in temporary folders.
#![allow(dead_code)]

pub mod capture;
pub mod outcomes;
pub mod postgres;
pub mod process;
pub mod smtp;
pub mod users;

use scraper::{Html, Selector};
use splitmark::site::{self, BuildOptions};
use std::path::{Path, PathBuf};

/// A site in a temporary folder.
pub struct Site {
    pub dir: tempfile::TempDir,
}

pub const CONFIG: &str = "base_url = \"https://example.test\"\ntitle = \"Test site\"\ndescription = \"A test site\"\nauthor = \"Tester\"\npaginate_by = 2\n";

impl Site {
    /// A site with the given files (path, text); adds a default config if none is given.
    pub fn new(files: &[(&str, &str)]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let site = Site { dir };
        if !files.iter().any(|(p, _)| *p == "splitmark.toml") {
            site.write("splitmark.toml", CONFIG);
        }
        for (p, t) in files {
            site.write(p, t);
        }
        site
    }
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    pub fn opts(&self) -> BuildOptions {
        BuildOptions::new(self.root())
    }
    pub fn build(&self) -> Result<site::BuildReport, String> {
        site::build(&self.opts()).map_err(|e| e.to_string())
    }
    pub fn build_ok(&self) -> site::BuildReport {
        self.build()
            .unwrap_or_else(|e| panic!("build failed:\n{e}"))
    }
    /// The capture server's manifest, which the build writes outside `public/`.
    pub fn manifest_file(&self) -> PathBuf {
        self.dir.path().join(".splitmark/manifest.json")
    }
    pub fn out(&self, rel: &str) -> PathBuf {
        self.dir.path().join("public").join(rel)
    }
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.out(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
    pub fn html(&self, rel: &str) -> Html {
        Html::parse_document(&self.read(rel))
    }
}

/// Texts of every element matching `css`.
pub fn texts(doc: &Html, css: &str) -> Vec<String> {
    let sel = Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

/// An attribute of every element matching `css`.
pub fn attrs(doc: &Html, css: &str, attr: &str) -> Vec<String> {
    let sel = Selector::parse(css).unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr(attr).map(str::to_owned))
        .collect()
}

/// One attribute of the single element matching `css`.
pub fn attr(doc: &Html, css: &str, attr_name: &str) -> String {
    let v = attrs(doc, css, attr_name);
    assert_eq!(v.len(), 1, "expected one {css}[{attr_name}], got {v:?}");
    v[0].clone()
}

/// Hash of every file under `dir` (path and bytes), to prove a tree did not change.
pub fn tree_fingerprint(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}
