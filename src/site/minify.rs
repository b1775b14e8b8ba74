//! `minify = true`: a conservative HTML minifier.
//!
//! It only does what cannot change rendering: collapses runs of whitespace to one character
//! (browsers collapse them anyway) outside `<pre>`, `<textarea>`, `<script>` and `<style>`,
//! drops comments (keeping `<!--[if …]>` ones), and compacts CSS inside `<style>` (comments and
//! whitespace around punctuation). Scripts are left untouched.

/// Minifies an HTML document.
pub fn html(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    // ASCII lower-casing keeps byte offsets, so positions found in it index `rest` too.
    let lower = |s: &str| s.to_ascii_lowercase();
    let starts_with_tag = |s: &str, tag: &str| {
        let b = s.as_bytes();
        b.len() > tag.len()
            && b[..tag.len()].eq_ignore_ascii_case(tag.as_bytes())
            && matches!(b[tag.len()], b'>' | b' ' | b'\n' | b'\t')
    };
    while !rest.is_empty() {
        if rest.starts_with("<!--") && !rest.starts_with("<!--[if") {
            match rest.find("-->") {
                Some(end) => {
                    rest = &rest[end + 3..];
                    continue;
                }
                None => break,
            }
        }
        let raw = ["<pre", "<textarea", "<script", "<style"]
            .into_iter()
            .find(|t| starts_with_tag(rest, t));
        if let Some(tag) = raw {
            let close = format!("</{}", &tag[1..]);
            let end = lower(rest).find(&close).map_or(rest.len(), |i| {
                rest[i..].find('>').map_or(rest.len(), |j| i + j + 1)
            });
            let block = &rest[..end];
            if tag == "<style" {
                let open_end = block.find('>').map_or(0, |i| i + 1);
                let close_start = lower(block).rfind("</style").unwrap_or(block.len());
                out.push_str(&block[..open_end]);
                out.push_str(&css(&block[open_end..close_start]));
                out.push_str(&block[close_start..]);
            } else {
                out.push_str(block);
            }
            rest = &rest[end..];
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        if c.is_whitespace() {
            let run = rest.len() - rest.trim_start().len();
            out.push(if rest[..run].contains('\n') {
                '\n'
            } else {
                ' '
            });
            rest = &rest[run..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Compacts CSS: drops comments and whitespace that carries no meaning.
pub fn css(input: &str) -> String {
    let mut no_comments = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find("/*") {
        no_comments.push_str(&rest[..i]);
        rest = rest[i + 2..]
            .find("*/")
            .map_or("", |j| &rest[i + 2 + j + 2..]);
    }
    no_comments.push_str(rest);
    let mut out = String::with_capacity(no_comments.len());
    let mut pending_space = false;
    for c in no_comments.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space
            && !out.is_empty()
            && !"{};,:>".contains(c)
            && !out.ends_with(['{', '}', ';', ',', ':', '>'])
        {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn collapses_whitespace_but_not_in_pre_or_scripts() {
        let input = "<p>a   \n\n  b</p>\n\n<!-- gone -->\n<pre>  keep\n  this </pre>\n<script>var  x = 1;\n</script>";
        let out = super::html(input);
        assert_eq!(
            out,
            "<p>a\nb</p>\n\n<pre>  keep\n  this </pre>\n<script>var  x = 1;\n</script>"
        );
    }

    #[test]
    fn multibyte_text_is_kept_intact() {
        assert_eq!(
            super::html("<title>Tags — splitmark</title>\n\n<p>é  😀</p>"),
            "<title>Tags — splitmark</title>\n<p>é 😀</p>"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_keeps_non_space_text(s in "\\PC{0,200}") {
            let out = super::html(&s);
            let squash = |x: &str| x.split_whitespace().collect::<String>();
            if !s.contains("<!--") && !s.to_ascii_lowercase().contains("<style") {
                proptest::prop_assert_eq!(squash(&out), squash(&s));
            }
        }
    }

    #[test]
    fn compacts_css_inside_style() {
        let out =
            super::html("<style>\n a , b { color : red ; } /* c */\n .x  .y{margin:0}\n</style>");
        assert_eq!(out, "<style>a,b{color:red;}.x .y{margin:0}</style>");
    }
}
