//! Request bodies to answers: urlencoded, multipart (text fields) or JSON.
//!
//! Parsing is separate from handling: bad bytes become a typed [`BodyError`] here, and
//! handlers only see [`Answers`]. The size limit is enforced before buffering (Content-Length)
//! and while streaming (a body without a length cannot grow past the limit).

use crate::forms::Answers;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::StatusCode;

/// Why a body was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Over the size or field limit (413).
    TooLarge(String),
    /// A content type we do not read (415).
    Unsupported(String),
    /// Malformed or not UTF-8 (400).
    Malformed(String),
}

impl BodyError {
    /// HTTP status and stable error code.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            BodyError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            BodyError::Unsupported(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            BodyError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed_body"),
        }
    }
    /// Human-readable message.
    pub fn message(&self) -> &str {
        match self {
            BodyError::TooLarge(m) | BodyError::Unsupported(m) | BodyError::Malformed(m) => m,
        }
    }
}

/// The body kinds we read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `application/x-www-form-urlencoded`
    UrlEncoded,
    /// `multipart/form-data` with this boundary
    Multipart(String),
    /// `application/json`
    Json,
    /// `text/plain` (what `sendBeacon` sends for a string)
    Text,
}

/// The kind of body from `Content-Type`.
pub fn kind(headers: &HeaderMap) -> Result<Kind, BodyError> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Ok(Kind::UrlEncoded),
        "application/json" => Ok(Kind::Json),
        "text/plain" => Ok(Kind::Text),
        "multipart/form-data" => multer::parse_boundary(ct)
            .map(Kind::Multipart)
            .map_err(|_| BodyError::Malformed("multipart/form-data without a boundary".into())),
        "" => Err(BodyError::Unsupported(
            "a Content-Type header is required".into(),
        )),
        other => Err(BodyError::Unsupported(format!(
            "{other} is not accepted; send a form (urlencoded or multipart) or JSON"
        ))),
    }
}

/// Reads the whole body, refusing more than `max` bytes.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Incoming,
    max: usize,
) -> Result<Bytes, BodyError> {
    let too_large = || BodyError::TooLarge(format!("the body is larger than {max} bytes"));
    if let Some(len) = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > max as u64 {
            return Err(too_large());
        }
    }
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(e) => Err(BodyError::Malformed(format!(
            "the body could not be read: {e}"
        ))),
    }
}

fn push(
    answers: &mut Answers,
    count: &mut usize,
    max: usize,
    k: String,
    v: String,
) -> Result<(), BodyError> {
    *count += 1;
    if *count > max {
        return Err(BodyError::TooLarge(format!("more than {max} fields")));
    }
    // Nearly every field has one value: room for exactly one, not the default four.
    answers
        .entry(k)
        .or_insert_with(|| Vec::with_capacity(1))
        .push(v);
    Ok(())
}

/// Parses a body into answers.
pub async fn parse(kind: &Kind, bytes: Bytes, max_fields: usize) -> Result<Answers, BodyError> {
    match kind {
        Kind::UrlEncoded => urlencoded(&bytes, max_fields),
        Kind::Json | Kind::Text => json(&bytes, max_fields),
        // Boxed: multipart parsing is a large future, and inline it would make every
        // request's future that large.
        Kind::Multipart(boundary) => Box::pin(multipart(boundary, bytes, max_fields)).await,
    }
}

fn urlencoded(bytes: &[u8], max_fields: usize) -> Result<Answers, BodyError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| BodyError::Malformed("the body is not valid UTF-8".into()))?;
    let (mut answers, mut n) = (Answers::new(), 0);
    // Percent-decoding never fails: malformed escapes stay as they are, as browsers do.
    for (k, v) in super::urlencoded::pairs(text.as_bytes()) {
        push(&mut answers, &mut n, max_fields, k, v)?;
    }
    Ok(answers)
}

/// A JSON object of fields, read straight into answers: no intermediate `Value` tree.
fn json(bytes: &[u8], max_fields: usize) -> Result<Answers, BodyError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut fields = JsonFields {
        answers: Answers::new(),
        count: 0,
        max: max_fields,
        refused: None,
    };
    let parsed = serde::Deserializer::deserialize_any(&mut de, &mut fields).and_then(|()| de.end());
    if let Some(e) = fields.refused {
        return Err(e);
    }
    parsed.map_err(|e| BodyError::Malformed(format!("invalid JSON: {e}")))?;
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

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.refuse(BodyError::Malformed(NOT_AN_OBJECT.into())))
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.refuse(BodyError::Malformed(NOT_AN_OBJECT.into())))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.refuse(BodyError::Malformed(NOT_AN_OBJECT.into())))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.refuse(BodyError::Malformed(NOT_AN_OBJECT.into())))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.refuse(BodyError::Malformed(NOT_AN_OBJECT.into())))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.refuse(BodyError::Malformed(NOT_AN_OBJECT.into())))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(self.refuse(BodyError::Malformed(NOT_AN_OBJECT.into())))
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
        let mut values = Vec::new();
        if self.list {
            while let Some(v) = seq.next_element_seed(FieldValue { list: false })? {
                match v {
                    Some(v) => values.extend(v),
                    None => return skip_rest(seq),
                }
            }
            return Ok(Some(values));
        }
        skip_rest(seq)
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

async fn multipart(boundary: &str, bytes: Bytes, max_fields: usize) -> Result<Answers, BodyError> {
    let (mut answers, mut n) = (Answers::new(), 0);
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary.to_owned());
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(BodyError::Malformed(format!("invalid multipart body: {e}"))),
        };
        if field.file_name().is_some() {
            return Err(BodyError::Unsupported(
                "file uploads are not accepted".into(),
            ));
        }
        let name = field.name().unwrap_or("").to_owned();
        let text = field
            .text()
            .await
            .map_err(|e| BodyError::Malformed(format!("invalid multipart field: {e}")))?;
        push(&mut answers, &mut n, max_fields, name, text)?;
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Answers, (u16, String)> {
        json(body.as_bytes(), 50).map_err(|e| (e.status().0.as_u16(), e.message().to_owned()))
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
