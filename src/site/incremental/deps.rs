//! What each output depends on, as fingerprints: an output is rendered again exactly when the
//! fingerprint of its inputs changed.
//!
//! A page's output depends on its own file, its rendered Markdown and the titles and paths of
//! its sections; a list page on the summaries of its own slice of items; a feed on its entries;
//! every output on the templates its template pulls in (`extends`, `include`, `import`).
//! Config, theme and experiments are not fingerprinted here: a change to them rebuilds all.

use super::super::context::SiteData;
use super::super::jobs::{feed_items, per_page, recent_pages, RenderJob, SitemapEntry};
use super::super::templates::TemplateSources;
use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Fingerprint of one value.
pub fn fp<T: Hash + ?Sized>(t: &T) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

/// Fingerprint of a template that does not exist.
const MISSING: u64 = 0x006d_6973_7369_6e67;

/// Whether a template names others only through literal strings (otherwise an edit of any
/// template may change it).
fn is_static(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("{%") {
        rest = &rest[at + 2..];
        let tag = rest.trim_start_matches('-').trim_start();
        for kw in ["extends", "include", "import"] {
            if let Some(after) = tag.strip_prefix(kw) {
                let arg = after.trim_start();
                if after.len() != arg.len() && !arg.starts_with(['"', '\'']) {
                    return false;
                }
            }
        }
    }
    true
}

/// Fingerprint of each template with everything it may pull in: the templates whose names it
/// mentions as a string literal, transitively (a superset of its includes and ancestors).
pub fn template_fps(sources: &TemplateSources) -> HashMap<String, u64> {
    let texts = sources.texts();
    let names: Vec<&str> = texts.keys().map(String::as_str).collect();
    let own = |n: &str| fp(&(n, sources.origin(n), &texts[n]));
    let everything = fp(&names.iter().map(|n| own(n)).collect::<Vec<_>>());
    let direct: HashMap<&str, Option<Vec<&str>>> = names
        .iter()
        .map(|&n| {
            let text = &texts[n];
            let refs = is_static(text).then(|| {
                names
                    .iter()
                    .copied()
                    .filter(|&m| {
                        m != n
                            && (text.contains(&format!("\"{m}\""))
                                || text.contains(&format!("'{m}'")))
                    })
                    .collect()
            });
            (n, refs)
        })
        .collect();
    names
        .iter()
        .map(|&n| {
            let mut seen = BTreeSet::from([n]);
            let mut todo = vec![n];
            let mut dynamic = false;
            while let Some(t) = todo.pop() {
                match &direct[t] {
                    None => {
                        dynamic = true;
                        break;
                    }
                    Some(refs) => {
                        for r in refs {
                            if seen.insert(r) {
                                todo.push(r);
                            }
                        }
                    }
                }
            }
            let value = if dynamic {
                everything
            } else {
                fp(&seen.iter().map(|t| own(t)).collect::<Vec<_>>())
            };
            (n.to_owned(), value)
        })
        .collect()
}

/// Fingerprints of the documents of one build, by index in the library.
pub struct DocFps {
    /// Each page's source and place (file content, path, section chain not included).
    pub page_doc: Vec<u64>,
    /// Each page's rendered Markdown.
    pub page_md: Vec<u64>,
    /// Each page's summary as list pages see it.
    pub summary: Vec<u64>,
    /// Each section's source and place.
    pub section_doc: Vec<u64>,
    /// Each section's rendered Markdown.
    pub section_md: Vec<u64>,
}

/// Everything a job fingerprint reads.
pub struct JobInputs<'a> {
    /// The build's shared data.
    pub data: &'a SiteData<'a>,
    /// Template fingerprints.
    pub templates: &'a HashMap<String, u64>,
    /// Document fingerprints.
    pub docs: &'a DocFps,
    /// Fingerprint of the sitemap's entries.
    pub sitemap: u64,
    /// Titles and paths from the home section down to each section.
    pub chains: Vec<u64>,
}

/// Fingerprint of the sitemap entries.
pub fn sitemap_fp(entries: &[SitemapEntry]) -> u64 {
    let mut h = DefaultHasher::new();
    for e in entries {
        e.permalink.hash(&mut h);
        e.lastmod.hash(&mut h);
    }
    h.finish()
}

/// Fingerprints of each section's breadcrumb trail (titles and paths down to it).
pub fn section_chains(data: &SiteData<'_>) -> Vec<u64> {
    let lib = data.library;
    (0..lib.sections.len())
        .map(|mut i| {
            let mut h = DefaultHasher::new();
            loop {
                let s = &lib.sections[i];
                (s.doc.title(), &s.doc.path).hash(&mut h);
                match s.parent {
                    Some(p) => i = p,
                    None => break,
                }
            }
            h.finish()
        })
        .collect()
}

impl JobInputs<'_> {
    fn template(&self, name: &str) -> u64 {
        self.templates.get(name).copied().unwrap_or(MISSING)
    }

    fn slice(&self, items: &[usize], per: usize, n: usize) -> Vec<u64> {
        items
            .iter()
            .skip((n - 1) * per)
            .take(per)
            .map(|&i| self.docs.summary[i])
            .collect()
    }

    /// Fingerprint of everything `job` reads.
    pub fn job(&self, job: &RenderJob) -> u64 {
        let lib = self.data.library;
        let d = self.docs;
        let mut h = DefaultHasher::new();
        // Kind and place, never library indices: adding a page shifts every index after it.
        match job {
            RenderJob::Page(_) => "page".hash(&mut h),
            RenderJob::NotFound(_) => "404".hash(&mut h),
            RenderJob::Alias { from, to } => ("alias", from, to).hash(&mut h),
            RenderJob::SectionList { n, .. } => ("section", n).hash(&mut h),
            RenderJob::TaxonomyList(_) => "taxonomy".hash(&mut h),
            RenderJob::Term { n, .. } => ("term", n).hash(&mut h),
            RenderJob::Feed(s) => ("feed", s.is_some()).hash(&mut h),
            RenderJob::Sitemap { i, of } => ("sitemap", i, of).hash(&mut h),
            RenderJob::Robots => "robots".hash(&mut h),
        }
        match job {
            RenderJob::Page(i) => {
                let p = &lib.pages[*i];
                let t = p.doc.meta.template.as_deref().unwrap_or("page.html");
                (self.template(t), d.page_doc[*i], d.page_md[*i]).hash(&mut h);
                (self.chains[p.section], &lib.sections[p.section].doc.path).hash(&mut h);
            }
            RenderJob::NotFound(page) => {
                let t = page
                    .and_then(|i| lib.pages[i].doc.meta.template.as_deref())
                    .unwrap_or("404.html");
                self.template(t).hash(&mut h);
                page.map(|i| (d.page_doc[i], d.page_md[i])).hash(&mut h);
            }
            RenderJob::Alias { .. } => self.template("alias.html").hash(&mut h),
            RenderJob::SectionList { section, n } => {
                let s = &lib.sections[*section];
                let default = if s.is_home() {
                    "index.html"
                } else {
                    "section.html"
                };
                let t = s.doc.meta.template.as_deref().unwrap_or(default);
                (
                    self.template(t),
                    d.section_doc[*section],
                    d.section_md[*section],
                )
                    .hash(&mut h);
                s.parent.map(|p| self.chains[p]).hash(&mut h);
                let per = per_page(self.data, *section);
                (s.pages.len(), per, self.slice(&s.pages, per, *n)).hash(&mut h);
                if s.is_home() {
                    let recent: Vec<u64> = recent_pages(self.data)
                        .into_iter()
                        .map(|i| d.summary[i])
                        .collect();
                    recent.hash(&mut h);
                }
            }
            RenderJob::TaxonomyList(t) => {
                let tax = &lib.taxonomies[*t];
                (self.template("taxonomy_list.html"), &tax.name).hash(&mut h);
                for term in &tax.terms {
                    (&term.name, &term.slug, &term.path, term.pages.len()).hash(&mut h);
                }
            }
            RenderJob::Term { taxonomy, term, n } => {
                let tax = &lib.taxonomies[*taxonomy];
                let t = &tax.terms[*term];
                (self.template("taxonomy_single.html"), &tax.name).hash(&mut h);
                (&t.name, &t.slug, &t.path, t.pages.len()).hash(&mut h);
                self.slice(&t.pages, self.data.config.paginate_by, *n)
                    .hash(&mut h);
            }
            RenderJob::Feed(section) => {
                let (items, base, title) = feed_items(self.data, *section);
                (self.template("atom.xml"), base, title).hash(&mut h);
                for i in items {
                    (d.page_doc[i], d.page_md[i]).hash(&mut h);
                }
            }
            RenderJob::Sitemap { .. } => (self.template("sitemap.xml"), self.sitemap).hash(&mut h),
            RenderJob::Robots => self.template("robots.txt").hash(&mut h),
        }
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::is_static;

    #[test]
    fn a_computed_include_is_not_static() {
        assert!(is_static(
            r#"{% extends "base.html" %}{% include 'x.html' %}"#
        ));
        assert!(is_static("{%- import \"m.html\" as m -%} {{ include }}"));
        assert!(!is_static("{% include name %}"));
        assert!(!is_static("{%- extends layout -%}"));
    }
}
