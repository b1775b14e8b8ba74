//! The first-party visitor id: the `sm_vid` cookie, what a well-formed one looks like, and how
//! a new one is made.

use super::raw_cookie;
use hyper::header::HeaderMap;

/// Cookie holding the first-party visitor id.
pub const VISITOR_COOKIE: &str = "sm_vid";

/// The visitor cookie's id, if it is a well-formed one.
pub(super) fn visitor_cookie(headers: &HeaderMap) -> Option<String> {
    raw_cookie(headers, VISITOR_COOKIE).filter(|v| valid_visitor(v))
}

/// A new visitor id, made as the head script makes one (`assets/js/head.js`): the time in
/// milliseconds in base 36, a dash, and a random UUID. New visitors' ids then sort by their
/// first visit (eight base-36 digits last until 2059), so their exposure rows are appended at
/// the end of the store's primary key instead of scattered over it: with random ids every
/// first exposure rewrote a page of its own in the WAL.
pub(super) fn new_visitor_id(now_ms: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let (mut n, mut time) = (now_ms, Vec::with_capacity(9));
    loop {
        time.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    time.reverse();
    let time = String::from_utf8(time).expect("base-36 digits are ASCII");
    format!("{time}-{}", uuid::Uuid::new_v4())
}

/// Whether `v` is a visitor id we keep: 1-128 letters, digits, `-`, `_` or `.`.
pub(super) fn valid_visitor(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_visitor_ids_start_with_the_time_as_the_head_script_makes_them() {
        // The same instant as tests/js/head.test.mjs.
        let id = new_visitor_id(1_764_000_000_000);
        assert!(id.starts_with("midc1z40-"), "{id}");
        assert_eq!(id.len(), "midc1z40-".len() + 36);
        assert!(valid_visitor(&id));
        assert_ne!(
            id,
            new_visitor_id(1_764_000_000_000),
            "random after the time"
        );
        let later: Vec<String> = [0, 1, 35_999, 1_036_000_000_000]
            .iter()
            .map(|ms| new_visitor_id(1_764_000_000_000 + ms))
            .collect();
        let mut sorted = later.clone();
        sorted.sort();
        assert_eq!(sorted, later, "ids sort by the time they were made");
    }
}
