//! Hugo settings -> [`Draft`]: base URL, title, language, taxonomies, the `main` menu (nested
//! through `parent`/`identifier`), pagination and params.

use super::draft::{Draft, DraftMenu, PLACEHOLDER_BASE_URL};
use super::source::{as_text, get_ci, json_to_toml, leaf_keys};
use crate::content::Library;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// Root keys this module carries; every other key is reported.
const CARRIED: &[&str] = &[
    "baseurl",
    "title",
    "languagecode",
    "defaultcontentlanguage",
    "taxonomies",
    "menus",
    "menu",
    "pagination",
    "paginate",
    "params",
    "author",
    "copyright",
    "enablerobotstxt",
];

/// Converts a merged Hugo configuration; unsupported settings land in `settings`.
pub fn convert(
    cfg: &Map<String, Value>,
    page_menus: &[Value],
    settings: &mut Vec<(String, String)>,
) -> Draft {
    let mut d = Draft::default();
    let text = |k: &str| get_ci(cfg, k).and_then(as_text).unwrap_or_default();
    let written = text("baseURL");
    d.base_url = written.trim_end_matches('/').to_owned();
    if !(d.base_url.starts_with("http://") || d.base_url.starts_with("https://")) {
        settings.push((
            "baseURL".into(),
            format!(
                "{written:?} is not an absolute URL; {PLACEHOLDER_BASE_URL} was written instead"
            ),
        ));
        d.base_url = PLACEHOLDER_BASE_URL.into();
    }
    d.title = text("title");
    d.language = match text("languageCode") {
        l if !l.is_empty() => l,
        _ => text("defaultContentLanguage"),
    };
    let params = get_ci(cfg, "params").and_then(Value::as_object);
    if let Some(p) = params {
        d.description = get_ci(p, "description")
            .and_then(as_text)
            .unwrap_or_default();
        d.author = author_name(get_ci(p, "author"));
    }
    if d.author.is_empty() {
        d.author = author_name(get_ci(cfg, "author"));
    }
    let mut dropped = Vec::new();
    if let Some(p) = params {
        if let Some(toml::Value::Table(t)) =
            json_to_toml(&Value::Object(p.clone()), "params", &mut dropped)
        {
            d.extra = t;
        }
    }
    if let Some(c) = get_ci(cfg, "copyright").and_then(as_text) {
        d.extra.insert("copyright".into(), toml::Value::String(c));
    }
    for k in dropped {
        settings.push((
            k,
            "null value; TOML has none, so it was left out of extra".into(),
        ));
    }
    d.taxonomies = taxonomies(cfg, settings);
    d.paginate_by = pagination(cfg, settings);
    d.menu = menus(cfg, page_menus, settings);
    for (k, v) in cfg {
        if !CARRIED.contains(&k.to_ascii_lowercase().as_str()) {
            let why = why_not(&k.to_ascii_lowercase());
            for leaf in leaf_keys(k, v) {
                settings.push((leaf, why.into()));
            }
        }
    }
    d
}

fn why_not(key: &str) -> &'static str {
    match key {
        "permalinks" => {
            "URLs follow the content path (content/posts/x.md -> /posts/x/): add the old URLs \
             to each page's aliases"
        }
        "uglyurls" => "URLs are always pretty (/posts/x/)",
        "markup" => "Markdown options are not carried; splitmark's rendering is fixed",
        "languages" | "defaultcontentlanguageinsubdir" => "multilingual sites are not supported",
        "theme" => "Hugo themes are Go templates and are not carried; the default theme is used",
        "outputs" | "outputformats" | "mediatypes" => {
            "only HTML, the Atom feed and the sitemap are written"
        }
        "summarylength" => "the summary is what precedes <!-- more -->, else the first paragraph",
        "builddrafts" | "buildfuture" | "buildexpired" => "use `splitmark build --drafts`",
        "module" => "Hugo modules are not supported",
        _ => "no splitmark equivalent",
    }
}

fn author_name(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => get_ci(m, "name").and_then(as_text).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Hugo's `[taxonomies]` maps singular to plural (`category = "categories"`); the plural is
/// the URL segment, as in splitmark.
pub fn taxonomies(cfg: &Map<String, Value>, settings: &mut Vec<(String, String)>) -> Vec<String> {
    let Some(Value::Object(t)) = get_ci(cfg, "taxonomies") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (singular, plural) in t {
        let Some(plural) = as_text(plural) else {
            continue;
        };
        if plural == "tags" || plural == "categories" {
            continue;
        }
        if slug::slugify(&plural) != plural {
            settings.push((
                format!("taxonomies.{singular}"),
                format!("{plural:?} is not a URL slug; taxonomy names must be lowercase slugs"),
            ));
            continue;
        }
        if !out.contains(&plural) {
            out.push(plural);
        }
    }
    out
}

fn pagination(cfg: &Map<String, Value>, settings: &mut Vec<(String, String)>) -> Option<usize> {
    let positive = |v: Option<&Value>| v.and_then(Value::as_u64).filter(|n| *n > 0);
    if let Some(Value::Object(p)) = get_ci(cfg, "pagination") {
        for (k, v) in p {
            match k.to_ascii_lowercase().as_str() {
                "pagersize" => {}
                "path" if as_text(v).as_deref() == Some("page") => {}
                "disablealiases" => {}
                _ => settings.push((
                    format!("pagination.{k}"),
                    "splitmark pages lists at /page/N/".into(),
                )),
            }
        }
        if let Some(n) = positive(get_ci(p, "pagerSize")) {
            return Some(n as usize);
        }
    }
    positive(get_ci(cfg, "paginate")).map(|n| n as usize)
}

struct HugoItem {
    id: String,
    name: String,
    url: String,
    parent: Option<String>,
    weight: i64,
}

/// The `main` menu (Hugo accepts `menus` and `menu`), nested one level through `parent`.
fn menus(
    cfg: &Map<String, Value>,
    from_pages: &[Value],
    settings: &mut Vec<(String, String)>,
) -> Vec<DraftMenu> {
    let mut raw: Vec<Value> = Vec::new();
    if let Some(Value::Object(all)) = get_ci(cfg, "menus").or_else(|| get_ci(cfg, "menu")) {
        for (name, _) in all {
            if name != "main" {
                settings.push((
                    format!("menus.{name}"),
                    "only the main menu is carried ([[menu]] in splitmark.toml)".into(),
                ));
            }
        }
        if let Some(Value::Array(main)) = all.get("main") {
            raw.extend(main.iter().cloned());
        }
    }
    raw.extend(from_pages.iter().cloned());
    let mut items: Vec<HugoItem> = raw
        .iter()
        .filter_map(Value::as_object)
        .map(|m| {
            let t = |k: &str| get_ci(m, k).and_then(as_text);
            let name = t("name").unwrap_or_default();
            let url = t("url")
                .or_else(|| t("pageRef").map(|r| page_ref_path(&r)))
                .unwrap_or_else(|| "/".into());
            HugoItem {
                id: t("identifier").unwrap_or_else(|| name.clone()),
                name,
                url,
                parent: t("parent"),
                weight: get_ci(m, "weight").and_then(Value::as_i64).unwrap_or(0),
            }
        })
        .collect();
    // Hugo: weighted items first by weight, unweighted (0) after, each group by name.
    items.sort_by(|a, b| {
        ((a.weight == 0), a.weight, &a.name).cmp(&((b.weight == 0), b.weight, &b.name))
    });
    let top_of = |item: &HugoItem| -> Result<Option<String>, String> {
        // Walks up to the top-level ancestor; more than one level is flattened.
        let mut parent = item.parent.clone();
        let mut depth = 0;
        while let Some(p) = parent {
            let Some(up) = items.iter().find(|i| i.id == p) else {
                return Err(p);
            };
            depth += 1;
            if up.parent.is_none() || depth > items.len() {
                return Ok(Some(up.id.clone()));
            }
            parent = up.parent.clone();
        }
        Ok(None)
    };
    let mut out: Vec<(String, DraftMenu)> = Vec::new();
    let mut children: Vec<(String, DraftMenu)> = Vec::new();
    for item in &items {
        let entry = DraftMenu {
            name: item.name.clone(),
            url: item.url.clone(),
            children: Vec::new(),
        };
        match top_of(item) {
            Ok(None) => out.push((item.id.clone(), entry)),
            Ok(Some(top)) => {
                if item.parent.as_deref() != Some(top.as_str()) {
                    settings.push((
                        format!("menus.main {:?}", item.name),
                        format!("nested more than one level; placed directly under {top:?}"),
                    ));
                }
                children.push((top, entry));
            }
            Err(missing) => {
                settings.push((
                    format!("menus.main {:?}", item.name),
                    format!("parent {missing:?} does not exist; placed at the top level"),
                ));
                out.push((item.id.clone(), entry));
            }
        }
    }
    for (top, child) in children {
        if let Some((_, parent)) = out.iter_mut().find(|(id, _)| *id == top) {
            parent.children.push(child);
        }
    }
    out.into_iter().map(|(_, m)| m).collect()
}

/// Main-menu entries declared in front matter (`menu: main`, `menu: [main]`, or
/// `menu: {main: {weight, parent, identifier, name}}`), as config-style items pointing at the
/// page's URL. Entries for other menus are noted against the file.
pub fn page_menus(lib: &Library, notes: &mut Vec<(PathBuf, String, String)>) -> Vec<Value> {
    let docs = lib.pages.iter().map(|p| &p.doc);
    let mut out = Vec::new();
    for doc in docs.chain(lib.sections.iter().map(|s| &s.doc)) {
        let Some((key, v)) = ["menu", "menus"]
            .iter()
            .find_map(|k| doc.meta.extra.get(*k).map(|v| (*k, v)))
        else {
            continue;
        };
        let entries: Vec<(String, Map<String, Value>)> = match v {
            Value::String(s) => vec![(s.clone(), Map::new())],
            Value::Array(a) => a
                .iter()
                .filter_map(as_text)
                .map(|s| (s, Map::new()))
                .collect(),
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_object().cloned().unwrap_or_default()))
                .collect(),
            _ => Vec::new(),
        };
        for (menu, mut item) in entries {
            if menu != "main" {
                notes.push((
                    doc.file.clone(),
                    key.to_owned(),
                    format!("menu {menu:?} is not carried; only the main menu is"),
                ));
                continue;
            }
            if get_ci(&item, "name").is_none() {
                let link_title = get_ci(&doc.meta.extra, "linkTitle").and_then(as_text);
                let name = link_title.unwrap_or_else(|| doc.title().to_owned());
                item.insert("name".into(), Value::String(name));
            }
            item.insert("url".into(), Value::String(doc.path.clone()));
            out.push(Value::Object(item));
        }
    }
    out
}

/// `pageRef = "/posts"` or `"posts/_index.md"` -> `/posts/`.
fn page_ref_path(r: &str) -> String {
    let r = r.trim_start_matches('/');
    let r = r
        .strip_suffix(".md")
        .map(|s| {
            s.strip_suffix("_index")
                .or_else(|| s.strip_suffix("index"))
                .unwrap_or(s)
        })
        .unwrap_or(r);
    let r = r.trim_matches('/');
    if r.is_empty() {
        "/".into()
    } else {
        format!("/{r}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_refs_become_site_paths() {
        assert_eq!(page_ref_path("/posts"), "/posts/");
        assert_eq!(page_ref_path("posts/_index.md"), "/posts/");
        assert_eq!(page_ref_path("/about.md"), "/about/");
        assert_eq!(page_ref_path("/docs/intro/index.md"), "/docs/intro/");
        assert_eq!(page_ref_path("/"), "/");
    }

    #[test]
    fn grandchildren_are_flattened_and_reported() {
        let cfg: Value = serde_json::json!({"menus": {"main": [
            {"name": "Docs", "url": "/docs/", "weight": 1},
            {"name": "Intro", "url": "/docs/intro/", "parent": "Docs", "identifier": "intro"},
            {"name": "Deep", "url": "/docs/deep/", "parent": "intro"},
            {"name": "Lost", "url": "/lost/", "parent": "nope"}
        ]}});
        let mut s = Vec::new();
        let m = menus(cfg.as_object().unwrap(), &[], &mut s);
        assert_eq!(m.len(), 2);
        let names: Vec<&str> = m[0].children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Deep", "Intro"]);
        assert_eq!(m[1].name, "Lost");
        assert_eq!(s.len(), 2, "{s:?}");
    }
}
