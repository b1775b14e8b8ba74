use super::*;

fn calls(src: &str) -> Vec<Call> {
    scan(src)
        .unwrap()
        .into_iter()
        .filter_map(|p| match p {
            Piece::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn literals(src: &str) -> Vec<(String, bool)> {
    scan(src)
        .unwrap()
        .into_iter()
        .filter_map(|p| match p {
            Piece::Literal { text, in_code, .. } => Some((text, in_code)),
            _ => None,
        })
        .collect()
}

#[test]
fn inline_and_block_with_args() {
    let src = "a {{ form(id=\"demo\", n=2, x=true) }} b\n{% variant(id='b') %}\nHi {% end %}\n";
    let c = calls(src);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].name, "form");
    assert_eq!(c[0].args["id"], "demo");
    assert_eq!(c[0].args["n"], 2);
    assert_eq!(c[0].args["x"], true);
    assert_eq!(&src[c[1].body.clone().unwrap()], "\nHi ");
    assert_eq!(
        c[1].offset,
        "a {{ form(id=\"demo\", n=2, x=true) }} b\n".len()
    );
}

#[test]
fn code_is_left_alone() {
    assert!(calls("`{{ form(id=\"x\") }}`\n```\n{{ form(id=\"x\") }}\n```\n").is_empty());
    assert!(calls("`{{< x >}}` and ``{{% y %}}``\n~~~\n{{< x >}}\n{{% /y %}}\n~~~\n").is_empty());
    assert!(calls("{{ not a call }}").is_empty());
}

#[test]
fn a_line_starting_with_a_code_span_still_has_shortcodes() {
    assert_eq!(calls("`x` then {{< y >}}\n").len(), 1);
}

#[test]
fn nested_blocks_stay_in_body() {
    let src = "{% a() %}x{% b() %}y{% end %}z{% end %}";
    let c = calls(src);
    assert_eq!(c.len(), 1);
    assert_eq!(&src[c[0].body.clone().unwrap()], "x{% b() %}y{% end %}z");
}

#[test]
fn unclosed_block_is_an_error() {
    let e = scan("text\n{% variant(id=\"b\") %}\nno end").unwrap_err();
    assert_eq!(e.offset, 5);
}

#[test]
fn bad_arguments_in_our_syntax_are_errors() {
    let e = scan("x {{ form(id=demo) }}").unwrap_err();
    assert_eq!(e.offset, 13, "{e:?}");
    let e = scan("x {{ form(id=\"demo\" }}").unwrap_err();
    assert!(e.message.contains("`,` or `)`"), "{e:?}");
}

#[test]
fn hugo_paired_standalone_and_self_closing() {
    let src = "{{< a 1 >}}\n{{< b >}}body {{< c />}}{{< /b >}}\n{{% d k=\"v\" %}}*md*{{% /d %}}";
    let c = calls(src);
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[0].name, "a");
    assert!(c[0].unpaired && c[0].body.is_none());
    assert_eq!(c[0].positional, vec![Value::from(1)]);
    assert_eq!(c[1].name, "b");
    assert_eq!(&src[c[1].body.clone().unwrap()], "body {{< c />}}");
    assert_eq!(c[1].syntax, Syntax::Hugo(Delim::Angle));
    assert_eq!(c[2].syntax, Syntax::Hugo(Delim::Percent));
    assert_eq!(&src[c[2].body.clone().unwrap()], "*md*");
    assert_eq!(c[2].end, src.len());
}

#[test]
fn hugo_same_name_nesting() {
    let src = "{{< x >}}a{{< x >}}b{{< /x >}}c{{< /x >}}";
    let c = calls(src);
    assert_eq!(c.len(), 1);
    assert_eq!(&src[c[0].body.clone().unwrap()], "a{{< x >}}b{{< /x >}}c");
}

#[test]
fn hugo_mismatched_close() {
    let e = scan("{{< a >}}\ntext\n{{< /b >}}").unwrap_err();
    assert_eq!(e.offset, 15);
    assert!(
        e.message.contains("does not match the open shortcode `a`"),
        "{e:?}"
    );
    let e = scan("{{< /b >}}").unwrap_err();
    assert!(e.message.contains("closes no open shortcode"), "{e:?}");
    let e = scan("{{< a >}}x{{% /a %}}").unwrap_err();
    assert_eq!(e.offset, 10);
    assert!(e.message.contains("same delimiters"), "{e:?}");
}

#[test]
fn escapes_print_the_tag_everywhere() {
    let l = literals("{{</* x a=\"b\" */>}} and `{{%/* y */%}}`\n```\n{{</* z */>}}\n```\n");
    assert_eq!(
        l,
        vec![
            ("{{< x a=\"b\" >}}".to_owned(), false),
            ("{{% y %}}".to_owned(), true),
            ("{{< z >}}".to_owned(), true),
        ]
    );
    assert!(calls("{{</* x */>}}").is_empty());
}
