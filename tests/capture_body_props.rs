//! Property tests: arbitrary bytes and field sets never panic the body parsers or the
//! validator; malformed input is a 4xx.

use bytes::Bytes;
use proptest::prelude::*;
use splitmark::capture::body::{parse, Kind};

/// The straightforward reading of a JSON body, through a `serde_json::Value`: what the
/// streaming reader in `body.rs` must agree with.
fn json_through_value(
    bytes: &[u8],
    max: usize,
) -> Result<splitmark::forms::Answers, (u16, String)> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| (400, format!("invalid JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or((400, "the JSON body must be an object of fields".to_owned()))?;
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(if *b { "yes".into() } else { String::new() }),
        serde_json::Value::Null => Ok(String::new()),
        _ => Err((
            400,
            "field values must be strings, numbers, booleans or lists of them".to_owned(),
        )),
    };
    let mut answers = splitmark::forms::Answers::new();
    let mut n = 0;
    for (k, v) in obj {
        let values: Vec<String> = match v {
            serde_json::Value::Array(a) => a.iter().map(scalar).collect::<Result<_, _>>()?,
            other => vec![scalar(other)?],
        };
        for v in values {
            n += 1;
            if n > max {
                return Err((413, format!("more than {max} fields")));
            }
            answers.entry(k.clone()).or_default().push(v);
        }
    }
    Ok(answers)
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{0,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn urlencoded_pairs_match_the_form_urlencoded_crate(
        text in "[a-zA-Z0-9%+&=\u{e9}\u{20ac} ]{0,80}",
        bytes in proptest::collection::vec(any::<u8>(), 0..128)
    ) {
        for input in [text.as_bytes(), &bytes[..]] {
            let ours: Vec<(String, String)> = splitmark::capture::urlencoded::pairs(input).collect();
            let theirs: Vec<(String, String)> = form_urlencoded::parse(input)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn arbitrary_bytes_are_parsed_or_refused_with_4xx(bytes in proptest::collection::vec(any::<u8>(), 0..2048), which in 0usize..4) {
        let kind = [Kind::UrlEncoded, Kind::Json, Kind::Text, Kind::Multipart("XyZ".into())][which].clone();
        let out = runtime().block_on(parse(&kind, Bytes::from(bytes), 50));
        if let Err(e) = out {
            prop_assert!(e.status().0.is_client_error());
        }
    }

    #[test]
    fn arbitrary_fields_validate_without_panicking(fields in proptest::collection::btree_map("[a-z_]{0,12}", proptest::collection::vec(".{0,80}", 0..4), 0..12)) {
        let spec: splitmark::forms::FormSpec = toml::from_str(r#"
            [[fields]]
            name = "email"
            type = "email"
            label = "Email"
            required = true
            [[fields]]
            name = "n"
            type = "number"
            label = "N"
            min = 0
            [[fields]]
            name = "p"
            label = "P"
            pattern = "[a-z]+"
            [[fields]]
            name = "c"
            type = "checkbox"
            label = "C"
            options = ["x", "y"]
        "#).unwrap();
        let mut answers = fields;
        let _meta = splitmark::forms::split_meta(&mut answers);
        if let Ok(v) = spec.validate(&answers) {
            let _ = spec.score(&v);
        }
    }

    #[test]
    fn json_bodies_read_as_through_a_value(
        fields in proptest::collection::btree_map("[a-z_]{0,6}", json_value(), 0..8),
        top in json_value(),
        as_object in any::<bool>(),
        max in 1usize..12,
    ) {
        let body = if as_object {
            serde_json::to_vec(&fields).unwrap()
        } else {
            serde_json::to_vec(&top).unwrap()
        };
        let ours = runtime()
            .block_on(parse(&Kind::Json, Bytes::from(body.clone()), max))
            .map_err(|e| (e.status().0.as_u16(), e.message().to_owned()));
        prop_assert_eq!(ours, json_through_value(&body, max));
    }

    #[test]
    fn too_many_fields_is_413(n in 51usize..200) {
        let body: String = (0..n).map(|i| format!("f{i}=x")).collect::<Vec<_>>().join("&");
        let e = runtime().block_on(parse(&Kind::UrlEncoded, Bytes::from(body), 50)).unwrap_err();
        prop_assert_eq!(e.status().0.as_u16(), 413);
    }
}
