//! Syntax highlighting at build time: syntect's parser with the grammars `bat` curates
//! (`two-face`: TOML, TypeScript, Dockerfile and more beside syntect's defaults), on the
//! Oniguruma regex engine, which the grammars are written for: it halves the build's
//! highlighting time against the pure-Rust `fancy-regex` with the same output (see
//! docs/performance.md). Oniguruma is C, compiled from source by `onig_sys` with the same C
//! compiler the bundled SQLite needs.
//!
//! Output is CSS classes, never inline styles: one short Chroma class per token (see
//! [`classes`]) inside `<pre class="chroma">`. The grammars load once per process, on the first
//! code block; each grammar compiles its regexes on first use.

mod classes;
pub mod fence;

pub use fence::{Fence, Options};
use std::fmt::Write as _;
use std::sync::LazyLock;
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);

/// Names that mean "no highlighting", without a warning.
const PLAIN: &[&str] = &[
    "text",
    "txt",
    "plain",
    "plaintext",
    "none",
    "output",
    "nohighlight",
];

/// Names people write in fences that the grammars do not know by that name.
const ALIASES: &[(&str, &str)] = &[
    ("shell", "bash"),
    ("sh", "bash"),
    ("zsh", "bash"),
    ("console", "bash"),
    ("shell-session", "bash"),
    ("golang", "go"),
    ("py", "python"),
    ("python3", "python"),
    ("js", "javascript"),
    ("jsx", "javascript"),
    ("mjs", "javascript"),
    ("ts", "typescript"),
    ("tsx", "typescriptreact"),
    ("yml", "yaml"),
    ("rs", "rust"),
    ("htm", "html"),
    ("xhtml", "html"),
    ("jsonc", "json"),
    ("docker", "dockerfile"),
    ("postgres", "sql"),
    ("postgresql", "sql"),
    ("sqlite", "sql"),
    ("md", "markdown"),
    ("proto", "protobuf"),
    ("tf", "terraform"),
    ("hcl", "terraform"),
    ("nginxconf", "nginx"),
    ("c++", "cpp"),
];

/// A rendered code block.
#[derive(Debug)]
pub struct Highlighted {
    /// The `<pre>` element.
    pub html: String,
    /// Set when the language was named but no grammar knows it (rendered as plain text).
    pub unknown_language: Option<String>,
}

fn syntax_for(lang: &str) -> Option<&'static SyntaxReference> {
    let set = &*SYNTAXES;
    let lower = lang.to_ascii_lowercase();
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == lower)
        .map_or(lower.as_str(), |(_, to)| to);
    set.find_syntax_by_token(name)
        .or_else(|| set.find_syntax_by_name(lang))
}

/// Whether `lang` names a language the highlighter knows (or plain text).
pub fn is_known(lang: &str) -> bool {
    PLAIN.contains(&lang.to_ascii_lowercase().as_str()) || syntax_for(lang).is_some()
}

/// Renders `code` in `lang` (none: plain) with `options`.
pub fn render(code: &str, lang: Option<&str>, options: &Options) -> Highlighted {
    let plain = lang.is_none_or(|l| PLAIN.contains(&l.to_ascii_lowercase().as_str()));
    let syntax = if plain {
        None
    } else {
        lang.and_then(syntax_for)
    };
    let unknown_language = match (plain, syntax) {
        (false, None) => lang.map(str::to_owned),
        _ => None,
    };
    let mut html = String::with_capacity(code.len() * 2 + 64);
    let class = if syntax.is_some() {
        " class=\"chroma\""
    } else {
        ""
    };
    html.push_str("<pre");
    html.push_str(class);
    html.push_str("><code");
    if let Some(l) = lang.filter(|_| !plain) {
        let l = html_escape::encode_double_quoted_attribute(l);
        let _ = write!(html, " class=\"language-{l}\" data-lang=\"{l}\"");
    }
    html.push('>');
    let lines_shown = options.linenos || !options.hl_lines.is_empty();
    let mut state = syntax.map(ParseState::new);
    let mut stack = ScopeStack::new();
    for (i, line) in LinesWithEndings::from(code).enumerate() {
        if lines_shown {
            let n = i + 1;
            html.push_str(if options.is_highlighted(n) {
                "<span class=\"line hl\">"
            } else {
                "<span class=\"line\">"
            });
            if options.linenos {
                let _ = write!(
                    html,
                    "<span class=\"ln\">{}</span>",
                    n + options.linenostart - 1
                );
            }
        }
        match state.as_mut() {
            Some(st) => {
                if !tokens(st, &mut stack, line, &mut html) {
                    // A grammar that fails on this input: the rest stays plain.
                    state = None;
                    html.push_str(&html_escape::encode_text(line));
                }
            }
            None => html.push_str(&html_escape::encode_text(line)),
        }
        if lines_shown {
            html.push_str("</span>");
        }
    }
    html.push_str("</code></pre>\n");
    Highlighted {
        html,
        unknown_language,
    }
}

/// Appends one line as classed spans; `false` when the grammar fails on it.
fn tokens(state: &mut ParseState, stack: &mut ScopeStack, line: &str, out: &mut String) -> bool {
    let Ok(ops) = state.parse_line(line, &SYNTAXES) else {
        return false;
    };
    let mut pos = 0;
    let mut class = classes::class_for(stack.as_slice());
    // Consecutive tokens of one class share a span.
    let mut run_start = 0;
    let mut run_class = class;
    let flush = |from: usize, to: usize, c: Option<&str>, out: &mut String| {
        if from >= to {
            return;
        }
        let text = html_escape::encode_text(&line[from..to]);
        match c {
            Some(c) => {
                let _ = write!(out, "<span class=\"{c}\">{text}</span>");
            }
            None => out.push_str(&text),
        }
    };
    for (at, op) in ops {
        if at > pos {
            if class != run_class {
                flush(run_start, pos, run_class, out);
                run_start = pos;
                run_class = class;
            }
            pos = at;
        }
        if stack.apply(&op).is_err() {
            return false;
        }
        class = classes::class_for(stack.as_slice());
    }
    let end = line.len();
    if end > pos && class != run_class {
        flush(run_start, pos, run_class, out);
        run_start = pos;
        run_class = class;
    }
    // A trailing newline needs no span.
    let body_end = if line.ends_with('\n') && run_class.is_some() {
        end - 1
    } else {
        end
    };
    flush(run_start, body_end, run_class, out);
    if body_end < end {
        out.push('\n');
    }
    true
}

#[cfg(test)]
mod tests;
