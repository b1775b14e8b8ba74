//! Serving a built site from disk: content types, validators, compression and the 404 page.
//!
//! Used by `splitmark serve` and by `splitmark capture --site`. Precompressed `file.br` /
//! `file.gz` next to a file are preferred; otherwise text responses are compressed on the fly
//! (brotli when accepted, else gzip).

use super::http::{full, Body};
use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// Smallest body worth compressing.
const COMPRESS_MIN: usize = 1024;

/// A function that may rewrite an HTML page before it is sent (path, html) -> html.
pub type HtmlFilter<'a> = &'a (dyn Fn(&str, String) -> String + Sync);

/// A folder served as a website.
#[derive(Clone, Debug)]
pub struct StaticSite {
    root: PathBuf,
}

enum Resolved {
    File(PathBuf),
    Redirect(String),
    NotFound,
    BadPath,
}

impl StaticSite {
    /// Serves `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StaticSite { root: root.into() }
    }

    /// The folder being served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn resolve(&self, path: &str) -> Resolved {
        let decoded = match percent_encoding::percent_decode_str(path).decode_utf8() {
            Ok(d) => d.into_owned(),
            Err(_) => return Resolved::BadPath,
        };
        let rel = Path::new(decoded.trim_start_matches('/'));
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) || decoded.contains('\0') {
            return Resolved::BadPath;
        }
        let full = self.root.join(rel);
        if decoded.ends_with('/') {
            let index = full.join("index.html");
            return if index.is_file() {
                Resolved::File(index)
            } else {
                Resolved::NotFound
            };
        }
        if full.is_file() {
            Resolved::File(full)
        } else if full.join("index.html").is_file() {
            Resolved::Redirect(directory_location(rel))
        } else {
            Resolved::NotFound
        }
    }

    /// Answers a GET or HEAD for `path` (no query string).
    pub async fn respond(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        filter: Option<HtmlFilter<'_>>,
    ) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            let mut res = super::http::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "only GET and HEAD are served here",
            );
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return res;
        }
        let (status, file) = match self.resolve(path) {
            Resolved::File(f) => (StatusCode::OK, f),
            Resolved::Redirect(to) => {
                let mut res = Response::new(super::http::empty());
                *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
                if let Ok(v) = HeaderValue::from_str(&to) {
                    res.headers_mut().insert(header::LOCATION, v);
                }
                return res;
            }
            Resolved::BadPath => {
                return super::http::error(
                    StatusCode::BAD_REQUEST,
                    "bad_path",
                    "the path is not valid",
                )
            }
            Resolved::NotFound => (StatusCode::NOT_FOUND, self.root.join("404.html")),
        };
        let path_for_filter = path.to_owned();
        let read = tokio::fs::read(&file).await;
        let meta = tokio::fs::metadata(&file).await.ok();
        let body = match read {
            Ok(b) => b,
            Err(_) if status == StatusCode::NOT_FOUND => {
                return super::http::with_type(
                    StatusCode::NOT_FOUND,
                    "text/plain; charset=utf-8",
                    "Not found",
                )
            }
            Err(_) => return super::http::error(StatusCode::NOT_FOUND, "not_found", "not found"),
        };
        let mime = content_type(&file);
        let is_html = mime.starts_with("text/html");
        let modified = meta.as_ref().and_then(|m| m.modified().ok());
        let etag = etag(body.len(), modified, filter.is_some() && is_html);
        if status == StatusCode::OK && not_modified(headers, &etag, modified) {
            let mut res = Response::new(super::http::empty());
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            res.headers_mut().insert(
                header::ETAG,
                HeaderValue::from_str(&etag).expect("etag is ascii"),
            );
            return res;
        }
        let mut body = Bytes::from(body);
        if let (true, Some(f)) = (is_html, filter) {
            body = Bytes::from(f(
                &path_for_filter,
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
        let filtered = is_html && filter.is_some();
        let (body, encoding) = compress(&file, body, &mime, headers, filtered).await;
        let mut res = Response::new(if method == Method::HEAD {
            super::http::empty()
        } else {
            full(body.clone())
        });
        *res.status_mut() = status;
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&mime).expect("mime is ascii"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Some(enc) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
        }
        if status == StatusCode::OK {
            h.insert(
                header::ETAG,
                HeaderValue::from_str(&etag).expect("etag is ascii"),
            );
            if let Some(m) = modified {
                h.insert(
                    header::LAST_MODIFIED,
                    HeaderValue::from_str(&httpdate::fmt_http_date(m)).expect("date is ascii"),
                );
            }
        }
        let cache = if is_html || status != StatusCode::OK {
            "no-cache"
        } else {
            "public, max-age=3600"
        };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        res
    }
}

/// Characters escaped in one path segment of a `Location` header.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `/dir/sub/` for a folder: rebuilt from the cleaned segments, so it is always a path on this
/// host (`//evil` cannot become a protocol-relative URL) and non-ASCII names stay valid.
fn directory_location(rel: &Path) -> String {
    let mut out = String::from("/");
    for part in rel.components() {
        if let Component::Normal(seg) = part {
            out.extend(percent_encoding::utf8_percent_encode(
                &seg.to_string_lossy(),
                SEGMENT,
            ));
            out.push('/');
        }
    }
    out
}

/// Content type with a charset for text.
pub fn content_type(file: &Path) -> String {
    let mime = mime_guess::from_path(file).first_or_octet_stream();
    let text = mime.type_() == "text"
        || matches!(
            mime.subtype().as_str(),
            "javascript" | "json" | "xml" | "atom+xml"
        );
    if text {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

fn etag(len: usize, modified: Option<SystemTime>, filtered: bool) -> String {
    let nanos = modified
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{len:x}-{nanos:x}{}\"", if filtered { "-f" } else { "" })
}

fn not_modified(headers: &HeaderMap, etag: &str, modified: Option<SystemTime>) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm.split(',').any(|t| t.trim() == etag || t.trim() == "*");
    }
    match (
        headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok()),
        modified,
    ) {
        (Some(since), Some(m)) => httpdate::parse_http_date(since).is_ok_and(|since| {
            m.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                <= since
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
        }),
        _ => false,
    }
}

fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            // RFC 9110: any spelling of a zero q-value (q=0, q=0.0, q=0.000) means "not acceptable".
            let q_zero = it.any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p.strip_prefix("q=")
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case(coding) && !q_zero
        })
}

fn compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || ["json", "javascript", "xml", "svg"]
            .iter()
            .any(|t| mime.contains(t))
}

async fn compress(
    file: &Path,
    body: Bytes,
    mime: &str,
    headers: &HeaderMap,
    filtered: bool,
) -> (Bytes, Option<&'static str>) {
    // A precompressed copy is the unfiltered file: only usable when nothing rewrites it.
    for (coding, ext) in [("br", "br"), ("gzip", "gz")] {
        if !filtered && accepts(headers, coding) {
            let pre = PathBuf::from(format!("{}.{ext}", file.display()));
            if let Ok(b) = tokio::fs::read(&pre).await {
                return (Bytes::from(b), Some(coding));
            }
        }
    }
    if body.len() < COMPRESS_MIN || !compressible(mime) {
        return (body, None);
    }
    if accepts(headers, "br") {
        let mut out = Vec::with_capacity(body.len() / 3);
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            if w.write_all(&body).is_err() {
                return (body, None);
            }
        }
        return (Bytes::from(out), Some("br"));
    }
    if accepts(headers, "gzip") {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        if enc.write_all(&body).is_ok() {
            if let Ok(out) = enc.finish() {
                return (Bytes::from(out), Some("gzip"));
            }
        }
    }
    (body, None)
}
