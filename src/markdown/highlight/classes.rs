//! TextMate scopes to short CSS classes, the ones Hugo's highlighter (Chroma, after Pygments)
//! writes: a site moving from Hugo keeps its syntax CSS, and the page carries one short class
//! per token instead of a span per nested scope.

use std::sync::LazyLock;
use syntect::parsing::Scope;

/// Scope prefixes and their classes; the innermost scope with a match decides.
const TABLE: &[(&str, &str)] = &[
    ("comment", "c"),
    ("meta.mapping.key", "nt"),
    ("constant.character.escape", "se"),
    ("string.regexp", "sr"),
    ("string", "s"),
    ("constant.numeric", "m"),
    ("constant.language", "kc"),
    ("support.constant", "kc"),
    ("constant", "no"),
    ("keyword.operator", "o"),
    ("keyword", "k"),
    ("storage.type", "kt"),
    ("storage", "k"),
    ("entity.name.function", "nf"),
    ("variable.function", "nf"),
    ("support.function", "nb"),
    ("entity.name.tag", "nt"),
    ("entity.other.attribute-name", "na"),
    ("support.type.property-name", "na"),
    ("entity.name.section", "gh"),
    ("markup.heading", "gh"),
    ("entity.name", "nc"),
    ("support.type", "kt"),
    ("support.class", "nc"),
    ("entity.other.inherited-class", "nc"),
    ("variable.parameter", "nv"),
    ("variable.language", "bp"),
    ("markup.inserted", "gi"),
    ("markup.deleted", "gd"),
    ("markup.bold", "gs"),
    ("markup.italic", "ge"),
];

/// Scopes that colour everything inside them, whatever their inner scopes say.
const CONTAINERS: &[(&str, &str)] = &[("comment", "c"), ("meta.mapping.key", "nt")];

struct Compiled {
    table: Vec<(Scope, &'static str)>,
    containers: Vec<(Scope, &'static str)>,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let compile = |t: &[(&str, &'static str)]| {
        t.iter()
            .map(|(s, c)| (Scope::new(s).expect("valid scope"), *c))
            .collect()
    };
    Compiled {
        table: compile(TABLE),
        containers: compile(CONTAINERS),
    }
});

/// The class of a token under `stack` (outermost scope first), or `None` for plain text.
pub(super) fn class_for(stack: &[Scope]) -> Option<&'static str> {
    let c = &*COMPILED;
    for s in stack {
        if let Some((_, class)) = c.containers.iter().find(|(p, _)| p.is_prefix_of(*s)) {
            return Some(class);
        }
    }
    stack.iter().rev().find_map(|s| {
        c.table
            .iter()
            .find(|(p, _)| p.is_prefix_of(*s))
            .map(|(_, c)| *c)
    })
}
