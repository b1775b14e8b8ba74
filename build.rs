//! Embeds the default theme (`themes/default/templates` and `themes/default/static`) into the
//! binary, so a site made by `splitmark init` builds anywhere without copying the theme.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let theme = root.join("themes/default");
    println!("cargo:rerun-if-changed=themes/default");
    let mut code = String::new();
    for (kind, sub) in [("TEMPLATES", "templates"), ("STATIC", "static")] {
        let base = theme.join(sub);
        writeln!(
            code,
            "/// Embedded default-theme {sub}: (relative path, bytes)."
        )
        .unwrap();
        writeln!(code, "pub static {kind}: &[(&str, &[u8])] = &[").unwrap();
        for f in files(&base) {
            let rel = f
                .strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            writeln!(
                code,
                "    ({rel:?}, include_bytes!({:?})),",
                f.to_string_lossy()
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("embedded_theme.rs");
    std::fs::write(out, code).expect("write embedded theme");
}
