//! JSON bodies (and `sendBeacon`'s text/plain JSON): an object whose fields are scalars or
//! lists of scalars, read by a serde visitor straight into answers.

use super::{push, BodyError};
use crate::forms::Answers;

/// A JSON object of fields, read straight into answers: no intermediate `Value` tree.
pub(super) fn fields(bytes: &[u8], max_fields: usize) -> Result<Answers, BodyError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut fields = JsonFields {
        answers: Answers::new(),
        count: 0,
        max: max_fields,
        refused: None,
    };
    let parsed = serde::Deserializer::deserialize_map(&mut de, &mut fields).and_then(|()| de.end());
    if let Some(e) = fields.refused {
        return Err(e);
    }
    if let Err(e) = parsed {
        // Only bad input gets here. Reading it again as a `Value` tells a syntax error (and
        // where it is) from a well-formed document that is not an object.
        return Err(BodyError::Malformed(
            match serde_json::from_slice::<serde_json::Value>(bytes) {
                Err(syntax) => format!("invalid JSON: {syntax}"),
                Ok(v) if !v.is_object() => NOT_AN_OBJECT.into(),
                Ok(_) => format!("invalid JSON: {e}"),
            },
        ));
    }
    Ok(fields.answers)
}

const NOT_AN_OBJECT: &str = "the JSON body must be an object of fields";
const NOT_SCALAR: &str = "field values must be strings, numbers, booleans or lists of them";

/// Visits the top-level JSON object. A refusal that is not a syntax error (too many fields, a
/// nested value) is kept in `refused`, so it reaches the client as itself, not as "invalid
/// JSON".
struct JsonFields {
    answers: Answers,
    count: usize,
    max: usize,
    refused: Option<BodyError>,
}

impl JsonFields {
    fn refuse<E: serde::de::Error>(&mut self, e: BodyError) -> E {
        let msg = e.message().to_owned();
        self.refused = Some(e);
        E::custom(msg)
    }
}

impl<'de> serde::de::Visitor<'de> for &mut JsonFields {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of fields")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let values = map.next_value_seed(FieldValue { list: true })?;
            let Some(values) = values else {
                return Err(self.refuse(BodyError::Malformed(NOT_SCALAR.into())));
            };
            for v in values {
                if let Err(e) = push(&mut self.answers, &mut self.count, self.max, key.clone(), v) {
                    return Err(self.refuse(e));
                }
            }
        }
        Ok(())
    }
}

/// One field's value: a scalar, or (at the top, `list` set) a list of scalars. Visits to
/// `None` for anything nested.
#[derive(Clone, Copy)]
struct FieldValue {
    list: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for FieldValue {
    type Value = Option<Vec<String>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Reads past the rest of a nested list, so the refusal is ours rather than a syntax error.
fn skip_rest<'de, A: serde::de::SeqAccess<'de>>(
    mut seq: A,
) -> Result<Option<Vec<String>>, A::Error> {
    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
    Ok(None)
}

fn one(s: String) -> Option<Vec<String>> {
    Some(vec![s])
}

impl<'de> serde::de::Visitor<'de> for FieldValue {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(NOT_SCALAR)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.list {
            return skip_rest(seq);
        }
        let mut values = Vec::new();
        while let Some(v) = seq.next_element_seed(FieldValue { list: false })? {
            match v {
                Some(v) => values.extend(v),
                None => return skip_rest(seq),
            }
        }
        Ok(Some(values))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(one(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(one(v))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(one(scalar_bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(one(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(one(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(one(scalar_f64(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(one(String::new()))
    }
}

/// How a boolean answer reads: a checked box is "yes", an unchecked one empty.
fn scalar_bool(b: bool) -> String {
    if b {
        "yes".into()
    } else {
        String::new()
    }
}

/// A JSON float written as JSON writes it (`1.5`, `1e300`).
fn scalar_f64(f: f64) -> String {
    serde_json::Number::from_f64(f).map_or_else(String::new, |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Answers, (u16, String)> {
        fields(body.as_bytes(), 50).map_err(|e| (e.status().0.as_u16(), e.message().to_owned()))
    }

    #[test]
    fn json_fields_are_scalars_or_lists_of_them() {
        let a = read(r#"{"email":"a@b.c","n":3,"x":1.5,"ok":true,"no":false,"z":null,"tags":["a",2],"none":[]}"#)
            .unwrap();
        let get = |k: &str| a.get(k).cloned();
        assert_eq!(get("email"), Some(vec!["a@b.c".to_owned()]));
        assert_eq!(get("n"), Some(vec!["3".to_owned()]));
        assert_eq!(get("x"), Some(vec!["1.5".to_owned()]));
        assert_eq!(get("ok"), Some(vec!["yes".to_owned()]));
        assert_eq!(get("no"), Some(vec![String::new()]));
        assert_eq!(get("z"), Some(vec![String::new()]));
        assert_eq!(get("tags"), Some(vec!["a".to_owned(), "2".to_owned()]));
        assert_eq!(get("none"), None, "an empty list is no answer");
    }

    #[test]
    fn nested_values_and_other_documents_are_refused_by_name() {
        for body in [
            r#"{"a":{"b":1}}"#,
            r#"{"a":[["b"]]}"#,
            r#"{"a":["b",{"c":1}],"d":"e"}"#,
        ] {
            assert_eq!(read(body), Err((400, NOT_SCALAR.to_owned())), "{body}");
        }
        for body in ["[1]", "\"text\"", "3", "null", "true"] {
            assert_eq!(read(body), Err((400, NOT_AN_OBJECT.to_owned())), "{body}");
        }
        let (status, message) = read("[1, 2").unwrap_err();
        assert_eq!(status, 400);
        assert!(
            message.starts_with("invalid JSON: EOF while parsing a list"),
            "a broken document that is not an object is a syntax error: {message}"
        );
        let (status, message) = read(r#"{"a":"b"} trailing"#).unwrap_err();
        assert_eq!(status, 400);
        assert!(
            message.starts_with("invalid JSON: trailing characters"),
            "{message}"
        );
        let many: String = format!(
            "{{{}}}",
            (0..51)
                .map(|i| format!("\"f{i}\":1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(read(&many).unwrap_err().0, 413);
    }
}
