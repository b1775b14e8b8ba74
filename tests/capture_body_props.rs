//! Property tests: arbitrary bytes and field sets never panic the body parsers or the
//! validator; malformed input is a 4xx.

use bytes::Bytes;
use proptest::prelude::*;
use splitmark::capture::body::{parse, Kind};

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
    fn too_many_fields_is_413(n in 51usize..200) {
        let body: String = (0..n).map(|i| format!("f{i}=x")).collect::<Vec<_>>().join("&");
        let e = runtime().block_on(parse(&Kind::UrlEncoded, Bytes::from(body), 50)).unwrap_err();
        prop_assert_eq!(e.status().0.as_u16(), 413);
    }
}
