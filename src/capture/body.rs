//! Request bodies to answers: urlencoded, multipart (text fields) or JSON.
//!
//! Parsing is separate from handling: bad bytes become a typed [`BodyError`] here, and
//! handlers only see [`Answers`]. The size limit is enforced before buffering (Content-Length)
//! and while streaming (a body without a length cannot grow past the limit).

mod json;

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
    /// Did not arrive within the body timeout (408).
    TimedOut(String),
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
            BodyError::TimedOut(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
        }
    }
    /// Human-readable message.
    pub fn message(&self) -> &str {
        match self {
            BodyError::TooLarge(m)
            | BodyError::Unsupported(m)
            | BodyError::Malformed(m)
            | BodyError::TimedOut(m) => m,
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

/// [`read_limited`], giving up when the whole body has not arrived within `timeout`: a
/// client trickling its body a byte at a time must not hold a connection forever.
pub async fn read_within(
    headers: &HeaderMap,
    body: Incoming,
    max: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, BodyError> {
    tokio::time::timeout(timeout, read_limited(headers, body, max))
        .await
        .unwrap_or_else(|_| {
            Err(BodyError::TimedOut(format!(
                "the body did not arrive within {} s",
                timeout.as_secs()
            )))
        })
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
        Kind::Json | Kind::Text => json::fields(&bytes, max_fields),
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
