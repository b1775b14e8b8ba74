//! Reading another tool's configuration into one JSON value, whatever its format.
//!
//! Hugo accepts TOML, YAML and JSON, at the root (`hugo.toml`, `config.toml`, ...) and split
//! over `config/_default/` where each file holds one root key (`menus.toml` is `[menus]`).

use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Config file extensions in Hugo's order of preference.
pub const EXTENSIONS: [&str; 4] = ["toml", "yaml", "yml", "json"];

/// Parses a TOML, YAML or JSON file (by extension) into a JSON value.
pub fn read(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let value = match ext {
        "toml" => {
            let table: toml::Table = toml::from_str(&text).map_err(|e| {
                let (line, col) = e
                    .span()
                    .map_or((0, 0), |s| crate::diagnostics::line_col(&text, s.start));
                anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
            })?;
            toml_to_json(toml::Value::Table(table))
        }
        "yaml" | "yml" => serde_norway::from_str::<Value>(&text)
            .with_context(|| format!("{}: invalid YAML", path.display()))?,
        "json" => serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid JSON", path.display()))?,
        _ => anyhow::bail!("{}: unknown config format", path.display()),
    };
    Ok(match value {
        Value::Null => Value::Object(Map::new()),
        v => v,
    })
}

/// The first of `names` (without extension) that exists in `dir` with a config extension.
pub fn find(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().find_map(|n| {
        EXTENSIONS
            .iter()
            .map(|e| dir.join(format!("{n}.{e}")))
            .find(|p| p.is_file())
    })
}

/// Hugo's `config/_default/`: `hugo.*`/`config.*` at the root, every other file under the key
/// named by its stem. Returns the merged value and the files read.
pub fn read_hugo_dir(dir: &Path) -> Result<(Map<String, Value>, Vec<PathBuf>)> {
    let mut merged = Map::new();
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e))
        })
        .collect();
    entries.sort();
    for path in entries {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_owned();
        let value = read(&path)?;
        if stem == "hugo" || stem == "config" {
            if let Value::Object(m) = value {
                merge(&mut merged, m);
            }
        } else {
            let mut wrapper = Map::new();
            wrapper.insert(stem, value);
            merge(&mut merged, wrapper);
        }
        files.push(path);
    }
    Ok((merged, files))
}

/// Deep merge: tables merge key by key, anything else in `over` replaces.
pub fn merge(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// TOML datetimes become their text form.
pub fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// JSON to TOML for `extra`; `null`s (which TOML cannot hold) are dropped and named.
pub fn json_to_toml(value: &Value, at: &str, dropped: &mut Vec<String>) -> Option<toml::Value> {
    Some(match value {
        Value::Null => {
            dropped.push(at.to_owned());
            return None;
        }
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(
            a.iter()
                .enumerate()
                .filter_map(|(i, v)| json_to_toml(v, &format!("{at}[{i}]"), dropped))
                .collect(),
        ),
        Value::Object(m) => toml::Value::Table(
            m.iter()
                .filter_map(|(k, v)| {
                    Some((k.clone(), json_to_toml(v, &format!("{at}.{k}"), dropped)?))
                })
                .collect(),
        ),
    })
}

/// A key looked up case-insensitively, as Hugo reads its configuration.
pub fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// A string value, or a number written as text.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Every setting under `key` as a dotted path to a leaf (`markup.goldmark.renderer.unsafe`),
/// so a report names each one; arrays count as leaves.
pub fn leaf_keys(key: &str, value: &Value) -> Vec<String> {
    match value {
        Value::Object(m) if !m.is_empty() => m
            .iter()
            .flat_map(|(k, v)| leaf_keys(&format!("{key}.{k}"), v))
            .collect(),
        _ => vec![key.to_owned()],
    }
}
