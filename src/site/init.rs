//! `splitmark init DIR`: a small working site that builds with the embedded theme.

use std::path::Path;

const FILES: &[(&str, &str)] = &[
    (
        "splitmark.toml",
        r#"base_url = "https://example.com"
title = "My product"
description = "A fast landing page and blog built with splitmark."
language = "en"
author = "My team"
paginate_by = 10

[[menu]]
name = "Blog"
url = "/blog/"

[[menu]]
name = "Get a demo"
url = "/demo/"
"#,
    ),
    (
        "content/_index.md",
        r#"+++
title = "My product"
description = "What my product does, for whom, in one sentence."
+++

Say what you do and for whom in one sentence. Then show it.

[Get a demo](@/demo.md)
"#,
    ),
    (
        "content/demo.md",
        r#"+++
title = "Book a demo"
description = "See the product in 20 minutes with someone who knows your use case."
template = "landing.html"
+++

Twenty minutes, your use case, no slides.
"#,
    ),
    (
        "content/blog/_index.md",
        r#"+++
title = "Blog"
description = "Notes from the team."
+++
"#,
    ),
    (
        "content/blog/hello.md",
        r#"+++
title = "Hello, world"
description = "Why we started, in three paragraphs."
date = 2026-01-05
tags = ["news"]
+++

Why we started, in three paragraphs.

<!-- more -->

## The problem

Describe it in the customer's words.
"#,
    ),
    (
        "content/blog/second-post.md",
        r#"---
title: "A second post"
description: "YAML front matter works too."
date: 2026-01-12
tags: [news, guides]
---

Front matter can be TOML between `+++` lines or YAML between `---` lines. Link to another
post with [its file name](@/blog/hello.md).
"#,
    ),
    (
        "content/404.md",
        r#"+++
title = "Page not found"
description = "This page does not exist."
noindex = true
+++

The page you asked for is not here. Try the [home page](@/_index.md).
"#,
    ),
];

/// Writes a starter site into `dir` (which must be empty or not exist).
pub fn init(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!("{} is not empty; choose a new folder", dir.display());
    }
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    std::fs::create_dir_all(dir.join("static"))?;
    Ok(())
}
