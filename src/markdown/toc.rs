//! Table of contents: flat headings to a tree.

use serde::Serialize;

/// One heading in the table of contents.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TocEntry {
    /// 1 to 6.
    pub level: u8,
    /// Anchor id.
    pub id: String,
    /// Heading text.
    pub title: String,
    /// Deeper headings until the next one at this level or above.
    pub children: Vec<TocEntry>,
}

/// Nests `(level, id, title)` headings under the nearest shallower heading.
pub fn build(flat: Vec<(u8, String, String)>) -> Vec<TocEntry> {
    let mut roots: Vec<TocEntry> = Vec::new();
    for (level, id, title) in flat {
        let entry = TocEntry {
            level,
            id,
            title,
            children: Vec::new(),
        };
        insert(&mut roots, entry);
    }
    roots
}

fn insert(list: &mut Vec<TocEntry>, entry: TocEntry) {
    match list.last_mut() {
        Some(last) if last.level < entry.level => insert(&mut last.children, entry),
        _ => list.push(entry),
    }
}
