//! Code fence annotations, in both tools' spellings:
//!
//! - Hugo: ```` ```go {hl_lines=[2,"4-5"] linenos=true linenostart=10} ```` (commas or spaces
//!   between the attributes);
//! - Zola: ```` ```rust,hl_lines=2 4-5,linenos ````;
//!
//! and the option string of Hugo's `highlight` shortcode (`"linenos=table,hl_lines=8 15-17"`).

use std::ops::RangeInclusive;

/// How a block is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Line numbers before each line.
    pub linenos: bool,
    /// Number of the first line.
    pub linenostart: usize,
    /// Lines to highlight (1-based, counted from the block's first line).
    pub hl_lines: Vec<RangeInclusive<usize>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            linenos: false,
            linenostart: 1,
            hl_lines: Vec::new(),
        }
    }
}

impl Options {
    /// Whether line `n` (1-based) is highlighted.
    pub fn is_highlighted(&self, n: usize) -> bool {
        self.hl_lines.iter().any(|r| r.contains(&n))
    }

    /// Applies `key=value` (`value` empty for a bare flag); an error sentence for an unknown
    /// key or a bad value.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim().trim_matches('"');
        match key.trim() {
            "linenos" => {
                self.linenos = match value {
                    "" | "true" | "table" | "inline" => true,
                    "false" => false,
                    v => {
                        return Err(format!(
                            "linenos={v}: expected true, false, table or inline"
                        ))
                    }
                }
            }
            "linenostart" => {
                self.linenostart = value
                    .parse()
                    .map_err(|_| format!("linenostart={value}: expected a line number"))?
            }
            "hl_lines" => self.hl_lines = parse_lines(value)?,
            other => return Err(format!("unsupported code block option `{other}`")),
        }
        Ok(())
    }

    /// Applies a Zola-style list: `hl_lines=2 4-5, linenos`.
    pub fn set_list(&mut self, list: &str, problems: &mut Vec<String>) {
        for part in list.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            if let Err(e) = self.set(k, v) {
                problems.push(e);
            }
        }
    }
}

/// A fence's info string, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fence {
    /// The language, if one is named.
    pub lang: Option<String>,
    /// Display options.
    pub options: Options,
    /// Options that were not understood, as sentences.
    pub problems: Vec<String>,
}

/// Parses a fence info string in Hugo's or Zola's form.
pub fn parse(info: &str) -> Fence {
    let info = info.trim();
    let mut fence = Fence::default();
    let (head, attrs) = match info.find('{') {
        Some(b) => (
            &info[..b],
            Some(info[b + 1..].trim_end().trim_end_matches('}')),
        ),
        None => (info, None),
    };
    let (lang, zola_opts) = match head.split_once(',') {
        Some((l, rest)) => (l, Some(rest)),
        None => (head, None),
    };
    let lang = lang.split_whitespace().next().unwrap_or("");
    if !lang.is_empty() {
        fence.lang = Some(lang.to_owned());
    }
    if let Some(rest) = zola_opts {
        fence.options.set_list(rest, &mut fence.problems);
    }
    if let Some(attrs) = attrs {
        for (k, v) in hugo_attributes(attrs) {
            if let Err(e) = fence.options.set(&k, &v) {
                fence.problems.push(e);
            }
        }
    }
    fence
}

/// `a=1 b=[2,"4-5"], c` split into pairs: commas and white space separate attributes
/// outside brackets and quotes.
fn hugo_attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut flush = |cur: &mut String| {
        let t = cur.trim();
        if !t.is_empty() {
            let (k, v) = t.split_once('=').unwrap_or((t, ""));
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        cur.clear();
    };
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            ',' | ' ' | '\t' if !quoted && depth == 0 => {
                flush(&mut cur);
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    flush(&mut cur);
    out
}

/// `2 4-5`, `[2,"4-5"]` or `"8 15-17"` as line ranges.
fn parse_lines(s: &str) -> Result<Vec<RangeInclusive<usize>>, String> {
    let bad = || format!("hl_lines={s}: expected line numbers and ranges like 2 4-5");
    s.trim_matches(['[', ']'])
        .split([',', ' ', '\t'])
        .map(|p| p.trim().trim_matches('"'))
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            let a: usize = a.trim().parse().map_err(|_| bad())?;
            let b: usize = b.trim().parse().map_err(|_| bad())?;
            Ok(a.min(b)..=a.max(b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugo_attributes_in_braces() {
        let f = parse(r#"go {hl_lines=[2,"4-5"] linenos=true}"#);
        assert_eq!(f.lang.as_deref(), Some("go"));
        assert!(f.options.linenos);
        assert_eq!(f.options.hl_lines, vec![2..=2, 4..=5]);
        let f = parse(r#"go {linenos=table,hl_lines=[8,"15-17"],linenostart=199}"#);
        assert_eq!(f.options.linenostart, 199);
        assert_eq!(f.options.hl_lines, vec![8..=8, 15..=17]);
        assert!(f.problems.is_empty(), "{:?}", f.problems);
    }

    #[test]
    fn zola_list_after_the_language() {
        let f = parse("rust,hl_lines=2 4-5, linenos");
        assert_eq!(f.lang.as_deref(), Some("rust"));
        assert!(f.options.linenos);
        assert_eq!(f.options.hl_lines, vec![2..=2, 4..=5]);
        assert!(f.options.is_highlighted(4) && !f.options.is_highlighted(3));
    }

    #[test]
    fn unknown_options_are_reported() {
        let f = parse("rust,hide_lines=2");
        assert_eq!(f.problems.len(), 1);
        assert!(f.problems[0].contains("hide_lines"), "{:?}", f.problems);
        let f = parse("");
        assert_eq!(f, Fence::default());
    }
}
